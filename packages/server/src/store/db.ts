/**
 * Opening the database: SQLite (embedded default) or PostgreSQL (several processes sharing state).
 *
 * SQLite settings, chosen for principle 5 (durable before answered):
 * - `journal_mode=WAL`: readers do not block the writer;
 * - `synchronous=FULL`: every commit is fsynced before it returns, so an acknowledged write survives a
 *   power loss (NORMAL in WAL mode may lose the last commits; we deliberately pay the fsync);
 * - `busy_timeout=5000`: another process holding the write lock makes us wait, not fail;
 * - `foreign_keys=ON`.
 * Every Kysely transaction on SQLite starts with `BEGIN IMMEDIATE` (see `ImmediateSqliteDriver`), so a
 * transaction takes the write lock up front and never fails half-way with SQLITE_BUSY on lock upgrade.
 *
 * PostgreSQL: a pg Pool (max 10). int8 (bigint, count(*)) and numeric values are parsed to JS numbers,
 * so every column declared `number` in schema.ts is a number on both dialects. With `schema`, the
 * schema is created if missing and is the `search_path` of every pooled connection.
 */
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import type pgModule from 'pg';

/** `pg` loads only when PostgreSQL is used (start-up time on SQLite). */
async function loadPg(): Promise<typeof pgModule> {
  return (await import('pg')).default;
}
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import type { Database, Db, Dialect } from './schema.js';

export interface Store {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Directory for the SQLite file (`<dataDir>/stockade.db`); created if missing. */
  dataDir: string;
  /** `postgres://…` (or `postgresql://…`): use PostgreSQL instead of SQLite. */
  url?: string;
  /** PostgreSQL only: schema to use (created if missing), e.g. one per test file. */
  schema?: string;
  logger?: { info(o: object, msg?: string): void };
}

export const SQLITE_FILE_NAME = 'stockade.db';

/** SQLite driver whose transactions begin with `BEGIN IMMEDIATE` (write lock taken at start). */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #cfg: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#cfg = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#cfg);
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _ (at most 63)`,
    );
  }
}

function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Redacts the password of a connection URL for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

function numericTypes(pg: typeof pgModule): pgModule.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  // int8 (bigint, bigserial, count(*)) → number. Our int8 values are epoch milliseconds and ids,
  // far below 2^53.
  types.setTypeParser(20, (v: string) => Number(v));
  // numeric (e.g. sum(bigint)) → number, so aggregates have the same type as on SQLite.
  types.setTypeParser(1700, (v: string) => Number(v));
  return types;
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const pg = await loadPg();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create schema if not exists "${schema}"`);
  } catch (err) {
    // Two processes creating the same schema at once: one loses the race with a duplicate error.
    const code = (err as { code?: string }).code;
    if (code !== '42P06' && code !== '23505') throw err;
  } finally {
    await client.end();
  }
}

/** Drops a PostgreSQL schema and everything in it (tests). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  checkSchemaName(schema);
  const pg = await loadPg();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Store> {
  if (opts.url !== undefined && opts.url !== '') {
    if (!isPostgresUrl(opts.url)) {
      throw new Error(`unsupported database url ${JSON.stringify(redact(opts.url))}: expected postgres://…`);
    }
    return openPostgres(opts.url, opts.schema, opts.logger);
  }
  return openSqlite(opts.dataDir, opts.logger);
}

function openSqlite(dataDir: string, logger: OpenDatabaseOptions['logger']): Store {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, SQLITE_FILE_NAME);
  const sqlite = new Sqlite(file);
  try {
    sqlite.pragma('busy_timeout = 5000'); // first, so the following pragmas wait for other processes
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    sqlite.close();
    throw err;
  }
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  logger?.info({ dialect: 'sqlite', file }, 'database opened');
  let closed = false;
  return {
    db,
    dialect: 'sqlite',
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

async function openPostgres(
  url: string,
  schema: string | undefined,
  logger: OpenDatabaseOptions['logger'],
): Promise<Store> {
  let connectionString = url;
  let options: string | undefined;
  if (schema !== undefined) {
    checkSchemaName(schema);
    await ensureSchema(url, schema);
    // A connection string's own `options` would override ours: merge them.
    const u = new URL(url);
    const existing = u.searchParams.get('options');
    u.searchParams.delete('options');
    connectionString = u.toString();
    options = `${existing ? `${existing} ` : ''}-c search_path=${schema}`;
  }
  const pg = await loadPg();
  const pool = new pg.Pool({
    connectionString,
    ...(options !== undefined ? { options } : {}),
    max: 10,
    types: numericTypes(pg),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => {
    logger?.info({ err: err.message }, 'postgres idle client error');
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  logger?.info({ dialect: 'postgres', url: redact(url), schema: schema ?? null }, 'database opened');
  let closed = false;
  return {
    db,
    dialect: 'postgres',
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
