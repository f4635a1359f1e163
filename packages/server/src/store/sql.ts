/**
 * SQL pieces that must mean the same on SQLite and PostgreSQL. Repositories use these instead of
 * writing LIKE patterns or text orderings by hand.
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Dialect } from './schema.js';

/** `%`, `_` and the escape character itself, escaped for `LIKE … ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Case-insensitive substring match: `lower(column) LIKE '%text%' ESCAPE '\'`. The ESCAPE clause is
 * explicit because SQLite has no default escape character (PostgreSQL's is the backslash), so
 * `sales_` matches only a literal underscore on both. `lower` folds ASCII on SQLite; names that
 * go through this are ASCII.
 */
export function containsIgnoreCase(column: Expression<unknown> | string, text: string): RawBuilder<SqlBool> {
  const ref = typeof column === 'string' ? sql.ref(column) : column;
  return sql<SqlBool>`lower(${ref}) like ${`%${escapeLike(text.toLowerCase())}%`} escape '\\'`;
}

/** Prefix match with the same escaping: `column LIKE 'text%' ESCAPE '\'` (case-sensitive). */
export function startsWith(column: Expression<unknown> | string, text: string): RawBuilder<SqlBool> {
  const ref = typeof column === 'string' ? sql.ref(column) : column;
  return sql<SqlBool>`${ref} like ${`${escapeLike(text)}%`} escape '\\'`;
}

/**
 * A text column ordered byte by byte on both dialects (SQLite's default; PostgreSQL's default
 * collation is the locale's, which orders `B` after `a` and ignores punctuation).
 */
export function binaryOrder(dialect: Dialect, column: string): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql`${sql.ref(column)}`;
}
