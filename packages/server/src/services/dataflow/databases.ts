/**
 * SOURCE_/TARGET_CDB_POSTGRESQL and _MYSQL: tables read and written by the server (the `pg` and
 * `mysql2` drivers), not by the engine process, which has no network access. A source's rows are
 * streamed into the execution's working directory as NDJSON (the engine reads them with the
 * node's `fieldList` types); a target's rows come back from the engine as NDJSON and are inserted
 * in batches, in one transaction.
 *
 * Choices (not documented): `table` may be `schema.table` (PostgreSQL) or `database.table`
 * (MySQL); names are quoted. updateType OVERWRITE (the default) deletes the table's rows and
 * inserts the new ones in one transaction; APPEND inserts; IGNORE does nothing when the table
 * has a row. A missing table is created with the `fieldList`'s columns (types below).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Column } from './graph.js';

export interface DbTarget {
  type: 'postgresql' | 'mysql';
  /** Full URL, password included. */
  url: string;
  table: string;
}

const q = (type: DbTarget['type'], name: string): string =>
  name
    .split('.')
    .map((part) => (type === 'mysql' ? `\`${part.replace(/`/g, '``')}\`` : `"${part.replace(/"/g, '""')}"`))
    .join('.');

/** A column type for CREATE TABLE, from the DuckDB type of the field. */
function sqlType(type: DbTarget['type'], duck: string): string {
  const d = duck.toUpperCase();
  if (d === 'BOOLEAN') return 'BOOLEAN';
  if (d === 'TINYINT' || d === 'SMALLINT') return 'SMALLINT';
  if (d === 'INTEGER') return 'INTEGER';
  if (d === 'BIGINT') return 'BIGINT';
  if (d === 'FLOAT') return type === 'mysql' ? 'FLOAT' : 'REAL';
  if (d === 'DOUBLE') return type === 'mysql' ? 'DOUBLE' : 'DOUBLE PRECISION';
  if (d.startsWith('DECIMAL')) return 'DECIMAL(38,10)';
  if (d === 'DATE') return 'DATE';
  if (d === 'TIMESTAMP') return type === 'mysql' ? 'DATETIME(6)' : 'TIMESTAMP';
  if (d === 'TIMESTAMPTZ') return type === 'mysql' ? 'TIMESTAMP(6)' : 'TIMESTAMPTZ';
  if (d === 'BLOB') return type === 'mysql' ? 'LONGBLOB' : 'BYTEA';
  return type === 'mysql' ? 'LONGTEXT' : 'TEXT';
}

/** A JSON-safe value: dates as ISO text, bigints and buffers as text. */
function plain(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return v;
}

interface Session {
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

async function connect(t: Pick<DbTarget, 'type' | 'url'>): Promise<Session> {
  if (t.type === 'postgresql') {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    return {
      query: async (sql, params) => (await client.query(sql, params as unknown[])).rows as Array<Record<string, unknown>>,
      close: () => client.end(),
    };
  }
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: t.url, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  return {
    query: async (sql, params) => (await conn.query(sql, params))[0] as Array<Record<string, unknown>>,
    close: () => conn.end(),
  };
}

/** Reads the columns of `fields` from the table into an NDJSON file; returns the row count. */
export async function readTable(src: DbTarget, fields: Column[], file: string, signal: AbortSignal): Promise<number> {
  const db = await connect(src);
  const out = createWriteStream(file);
  let rows = 0;
  try {
    const cols = fields.map((f) => q(src.type, f.name)).join(', ');
    const select = `SELECT ${cols} FROM ${q(src.type, src.table)}`;
    const write = async (batch: Array<Record<string, unknown>>) => {
      const text = batch.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])))).join('\n');
      if (text && !out.write(text + '\n')) await once(out, 'drain');
      rows += batch.length;
    };
    if (src.type === 'postgresql') {
      // A cursor in a read-only transaction: batches of 10 000 rows, never the whole table in memory.
      await db.query('BEGIN READ ONLY');
      await db.query(`DECLARE stockade_rows NO SCROLL CURSOR FOR ${select}`);
      for (;;) {
        signal.throwIfAborted();
        const batch = await db.query('FETCH 10000 FROM stockade_rows');
        await write(batch);
        if (batch.length < 10000) break;
      }
      await db.query('COMMIT');
    } else {
      // Keyset-free paging is not portable to every table; MySQL's LIMIT/OFFSET in a consistent snapshot.
      await db.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      for (let offset = 0; ; offset += 10000) {
        signal.throwIfAborted();
        const batch = await db.query(`${select} LIMIT 10000 OFFSET ${offset}`);
        await write(batch);
        if (batch.length < 10000) break;
      }
      await db.query('COMMIT');
    }
  } finally {
    await new Promise((r) => out.end(r));
    await db.close().catch(() => undefined);
  }
  return rows;
}

/** Writes the NDJSON rows of `files` into the table per `updateType`; returns the rows inserted (null: IGNOREd). */
export async function writeTable(dst: DbTarget, fields: Column[], files: string[], updateType: string): Promise<number | null> {
  const db = await connect(dst);
  const table = q(dst.type, dst.table);
  try {
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${table} (${fields.map((f) => `${q(dst.type, f.name)} ${sqlType(dst.type, f.duck)}`).join(', ')})`,
    );
    await db.query(dst.type === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
    if (updateType === 'IGNORE' && (await db.query(`SELECT 1 AS x FROM ${table} LIMIT 1`)).length > 0) {
      await db.query('ROLLBACK');
      return null;
    }
    if (updateType === 'OVERWRITE') await db.query(`DELETE FROM ${table}`);
    const cols = fields.map((f) => q(dst.type, f.name)).join(', ');
    let rows = 0;
    let batch: unknown[][] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const params: unknown[] = [];
      const tuples = batch.map((r) => {
        const marks = r.map((v) => {
          params.push(v);
          return dst.type === 'mysql' ? '?' : `$${params.length}`;
        });
        return `(${marks.join(', ')})`;
      });
      await db.query(`INSERT INTO ${table} (${cols}) VALUES ${tuples.join(', ')}`, params);
      rows += batch.length;
      batch = [];
    };
    for (const file of files) {
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        if (!line.trim()) continue;
        const rec = JSON.parse(line) as Record<string, unknown>;
        batch.push(fields.map((f) => {
          const v = rec[f.name];
          return v !== null && typeof v === 'object' ? JSON.stringify(v) : (v ?? null);
        }));
        if (batch.length >= 500) await flush();
      }
    }
    await flush();
    await db.query('COMMIT');
    return rows;
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** The URL without its password, and the password. */
export function splitPassword(url: string): { url: string; password: string | null } {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : null;
  u.password = '';
  return { url: u.toString(), password };
}

/** The URL with its password put back. */
export function withPassword(url: string, password: string | null): string {
  if (password === null) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}
