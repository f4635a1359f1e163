/**
 * Table declarations: each table's columns declared once, as data, from which both the Kysely row
 * types and a run-time description come. The run-time description is what `store/schema-check.ts`
 * compares with the live database (column names, types, nullability), so a migration that
 * disagrees with the declaration fails a test instead of surprising a query.
 *
 * Migrations stay explicit (they are history: an old migration must not change when a declaration
 * does); the declaration is what the code reads and writes today.
 *
 * Column kinds and their SQL types:
 * | kind    | SQLite  | PostgreSQL | TypeScript |
 * |---------|---------|------------|------------|
 * | text    | text    | text       | string (or a union of literals) |
 * | int     | integer | integer    | number (32-bit: counts, flags 0/1, small enums) |
 * | bigint  | integer | bigint     | number (times in ms, sizes in bytes, references to ids) |
 * | autoId  | integer | bigint     | number, generated (`integer primary key autoincrement` / identity) |
 */
import type { ColumnType, Generated, Selectable } from 'kysely';

export type ColumnKind = 'text' | 'int' | 'bigint' | 'autoId';

export interface Column<T = unknown, N extends boolean = boolean, G extends boolean = boolean> {
  readonly kind: ColumnKind;
  readonly nullable: N;
  readonly generated: G;
  /** Phantom: the TypeScript type of a value. */
  readonly __type?: T;
}

function column<T>(kind: ColumnKind): Column<T, false, false> & { orNull(): Column<T, true, false> } {
  return { kind, nullable: false, generated: false, orNull: () => ({ kind, nullable: true, generated: false }) };
}

export const col = {
  text: <T extends string = string>() => column<T>('text'),
  int: <T extends number = number>() => column<T>('int'),
  bigint: () => column<number>('bigint'),
  /** Milliseconds since the epoch (UTC), from the injectable clock. */
  time: () => column<number>('bigint'),
  /** JSON document stored as text. */
  json: () => column<string>('text'),
  autoId: (): Column<number, false, true> => ({ kind: 'autoId', nullable: false, generated: true }),
};

export type Columns = Record<string, Column>;
export type TableSet = Record<string, Columns>;

type ValueOf<C> = C extends Column<infer T, infer N, infer G>
  ? G extends true
    ? Generated<T>
    : N extends true
      ? T | null
      : T
  : never;

/** The Kysely table interface of one declared table (generated columns marked). */
export type TableOf<C extends Columns> = { -readonly [K in keyof C]: ValueOf<C[K]> };

/** A row of one declared table as a query returns it. */
export type RowOf<C extends Columns> = Selectable<TableOf<C>>;

/** The Kysely database interface of a set of declared tables. */
export type DatabaseOf<S extends TableSet> = { -readonly [T in keyof S]: TableOf<S[T]> };

/** Declares a set of tables (identity at run time; keeps the literal types). */
export function defineTables<S extends TableSet>(tables: S): S {
  return tables;
}

/** A column whose insert type differs from its select type (unused today; re-exported for services). */
export type { ColumnType };

/** The SQL type a column kind has on a dialect, as the database reports it back. */
export function sqlTypeOf(kind: ColumnKind, dialect: 'sqlite' | 'postgres'): string {
  if (dialect === 'sqlite') return kind === 'text' ? 'text' : 'integer';
  switch (kind) {
    case 'text':
      return 'text';
    case 'int':
      return 'integer';
    case 'bigint':
    case 'autoId':
      return 'bigint';
  }
}
