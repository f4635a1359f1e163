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
 * Transactions: `store.tx(fn)` is the one way to open one. While its callback runs, any query that
 * reaches the root connection from the same async context (a forgotten `trx`) throws
 * `RootConnectionInTransactionError` instead of hanging (SQLite: the one connection is held by
 * the transaction) or silently committing outside the transaction (PostgreSQL: another pooled
 * connection). Nested `store.tx` calls are refused the same way.
 *
 * PostgreSQL: a pg Pool (max 10). int8 (bigint, count(*)) and numeric values are parsed to JS numbers,
 * so every column declared `number` in schema.ts is a number on both dialects. With `schema`, the
 * schema is created if missing and is the `search_path` of every pooled connection.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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
  type Dialect as KyselyDialect,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';
import type { CoreDatabase, Db, Dialect, Trx } from './schema.js';
import { statementName } from './prepared.js';

export interface Store {
  db: Db;
  dialect: Dialect;
  /**
   * Runs `fn` in a transaction (SQLite: `BEGIN IMMEDIATE`). The root connection is off limits to
   * the same async context until it ends; do no slow I/O inside (on SQLite the transaction holds
   * the database's only connection).
   */
  tx<T>(fn: (trx: Trx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A query reached the root connection while a transaction of the same async context was open. */
export class RootConnectionInTransactionError extends Error {
  constructor() {
    super(
      'a query used the root database connection while a transaction was open in the same async context: ' +
        'pass the transaction (trx) instead (on SQLite this would wait forever; on PostgreSQL it would commit outside the transaction)',
    );
    this.name = 'RootConnectionInTransactionError';
  }
}

interface TxScope {
  open: boolean;
}

const txScope = new AsyncLocalStorage<TxScope>();

/**
 * Wraps a dialect's driver: a connection acquired while the caller's `store.tx` already holds one
 * is refused (see RootConnectionInTransactionError).
 */
class GuardedDriver implements Driver {
  constructor(private readonly inner: Driver) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  acquireConnection(): Promise<DatabaseConnection> {
    if (txScope.getStore()?.open) return Promise.reject(new RootConnectionInTransactionError());
    return this.inner.acquireConnection();
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(connection, settings);
    const scope = txScope.getStore();
    if (scope) scope.open = true;
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const scope = txScope.getStore();
    if (scope) scope.open = false;
    await this.inner.commitTransaction(connection);
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const scope = txScope.getStore();
    if (scope) scope.open = false;
    await this.inner.rollbackTransaction(connection);
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

function guarded(dialect: KyselyDialect): KyselyDialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new GuardedDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

/**
 * Runs `fn` outside any transaction scope: for timers and background work started from code that
 * may run inside `store.tx` (a poll scheduled by `wake()`), which would otherwise inherit the
 * transaction's async context and be refused the root connection while it is open.
 */
export function detached<T>(fn: () => T): T {
  return txScope.exit(fn);
}

function storeTx(db: Db) {
  return <T>(fn: (trx: Trx) => Promise<T>): Promise<T> => {
    if (txScope.getStore()?.open) return Promise.reject(new RootConnectionInTransactionError());
    return txScope.run({ open: false }, () => db.transaction().execute(fn));
  };
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

/** Prepared statements kept per SQLite database (the most recently used ones). */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * The SQLite database as Kysely sees it, with its prepared statements reused: Kysely prepares
 * every query it runs, and preparing costs more than running a small query. Statements are kept
 * by SQL text, at most `max` of them (least recently used evicted). Transactions are unaffected
 * (a statement is reset after each run and holds no lock); after a schema change SQLite
 * re-prepares a statement by itself. A statement still being iterated (`busy`) is not handed out
 * again: that caller gets a fresh one.
 */
export class StatementCache implements SqliteDatabase {
  private readonly statements = new Map<string, Sqlite.Statement>();

  constructor(
    readonly sqlite: Sqlite.Database,
    private readonly max = STATEMENT_CACHE_SIZE,
  ) {}

  get size(): number {
    return this.statements.size;
  }

  prepare(sql: string): Sqlite.Statement {
    const hit = this.statements.get(sql);
    if (hit !== undefined) {
      if (hit.busy) return this.sqlite.prepare(sql);
      // Map order is insertion order: move the hit to the end (most recently used).
      this.statements.delete(sql);
      this.statements.set(sql, hit);
      return hit;
    }
    const stmt = this.sqlite.prepare(sql);
    this.statements.set(sql, stmt);
    if (this.statements.size > this.max) {
      const oldest = this.statements.keys().next();
      if (!oldest.done) this.statements.delete(oldest.value);
    }
    return stmt;
  }

  close(): void {
    this.statements.clear();
    this.sqlite.close();
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

/**
 * Switches the database to WAL mode (kept in the file, so later opens find it set). Changing the
 * journal mode needs the database to itself for a moment and SQLite answers SQLITE_BUSY at once,
 * without waiting on busy_timeout, when another process is opening the same new database at the
 * same time (two servers started together on one data directory): retried for up to 10 s.
 */
function useWal(sqlite: Sqlite.Database): void {
  const deadline = Date.now() + 10_000;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      if (sqlite.pragma('journal_mode', { simple: true }) !== 'wal') sqlite.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

function openSqlite(dataDir: string, logger: OpenDatabaseOptions['logger']): Store {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, SQLITE_FILE_NAME);
  const sqlite = new Sqlite(file);
  try {
    sqlite.pragma('busy_timeout = 5000'); // first, so the following pragmas wait for other processes
    useWal(sqlite);
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    sqlite.close();
    throw err;
  }
  const db = new Kysely<CoreDatabase>({ dialect: guarded(new ImmediateSqliteDialect({ database: new StatementCache(sqlite) })) });
  logger?.info({ dialect: 'sqlite', file }, 'database opened');
  let closed = false;
  return {
    db,
    dialect: 'sqlite',
    tx: storeTx(db),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

const NAMED = Symbol('stockade.namedStatements');

/**
 * The pool as Kysely sees it, its clients running the SQL of prepared queries (store/prepared.ts)
 * as named statements: PostgreSQL parses and plans each once per connection instead of once per
 * query (on a small VM a GetObject's lookup went from about 570 to about 200 µs of PostgreSQL CPU).
 * pg keeps track of which statements each connection has prepared. When a table changed under a
 * prepared `select *` (another process migrated the schema), PostgreSQL refuses to run it
 * ("cached plan must not change result type", 0A000): that connection then runs everything
 * unnamed, and the query is run again unnamed.
 */
function namedStatementPool(pool: pgModule.Pool): { connect(): Promise<pgModule.PoolClient>; end(): Promise<void> } {
  return {
    async connect() {
      const client = (await pool.connect()) as pgModule.PoolClient & { [NAMED]?: 'on' | 'off' };
      if (client[NAMED] === undefined) {
        client[NAMED] = 'on';
        const query = client.query.bind(client) as (config: unknown, values?: unknown) => Promise<unknown>;
        (client as { query: unknown }).query = async (text: unknown, values?: unknown) => {
          const name = client[NAMED] === 'on' && typeof text === 'string' && Array.isArray(values) ? statementName(text) : undefined;
          if (name === undefined) return query(text, values);
          try {
            return await query({ name, text, values });
          } catch (err) {
            if ((err as { code?: string }).code !== '0A000') throw err;
            client[NAMED] = 'off';
            return query(text, values);
          }
        };
      }
      return client;
    },
    end: () => pool.end(),
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
  const db = new Kysely<CoreDatabase>({ dialect: guarded(new PostgresDialect({ pool: namedStatementPool(pool) })) });
  logger?.info({ dialect: 'postgres', url: redact(url), schema: schema ?? null }, 'database opened');
  let closed = false;
  return {
    db,
    dialect: 'postgres',
    tx: storeTx(db),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
