/**
 * The platform's own tables (accounts, keys, tasks, content, volumes, idempotency, audit), declared
 * once (store/tables.ts). Each service declares its own tables in its folder (`tables.ts`) and reaches
 * them through its repository; nothing outside a service names its tables.
 *
 * Conventions, for every table of every service:
 * - times are integers: milliseconds since the epoch (UTC), from the injectable clock;
 * - JSON documents are stored as text;
 * - booleans are integers 0/1 (SQLite has no boolean type);
 * - every resource row carries `account_id`: accounts are isolated by construction.
 */
import type { Kysely, Transaction } from 'kysely';
import { col, defineTables, type DatabaseOf, type RowOf } from './tables.js';

export type Role = 'owner' | 'fence-admin' | 'box-user';
export type TaskState = 'queued' | 'running' | 'done' | 'failed' | 'canceled';

export const coreTables = defineTables({
  accounts: {
    id: col.text(), // 12 digits, e.g. "100000000001"
    name: col.text(),
    created_at: col.time(),
  },
  users: {
    id: col.text(),
    account_id: col.text(),
    name: col.text(), // login id, shown as requesterId
    role: col.text<Role>(),
    created_at: col.time(),
  },
  access_keys: {
    access_key_id: col.text(),
    account_id: col.text(),
    user_id: col.text(),
    /** AES-256-GCM ciphertext of the secret under the master key: base64(iv|tag|ciphertext). */
    secret_enc: col.text(),
    status: col.text<'active' | 'revoked'>(),
    created_at: col.time(),
    revoked_at: col.time().orNull(),
  },
  tasks: {
    id: col.autoId(),
    kind: col.text(),
    payload: col.json(),
    state: col.text<TaskState>(),
    attempts: col.int(),
    max_attempts: col.int(),
    due_at: col.time(),
    lease_owner: col.text().orNull(),
    lease_expires_at: col.time().orNull(),
    last_error: col.text().orNull(),
    created_at: col.time(),
    finished_at: col.time().orNull(),
    /** Unique when set: a second enqueue with the same key adds nothing (a trigger's 10:00 firing). */
    dedupe_key: col.text().orNull(),
    /** 1 once cancellation was asked for; the handler learns of it at its next lease renewal. */
    cancel_requested: col.int(),
    /** JSON the handler reports as it goes (`ctx.progress`), e.g. `{"bytes": 1048576}`. */
    progress: col.json().orNull(),
  },
  /** Content under a fresh id: the row is committed only after the bytes are fsynced. */
  blobs: {
    id: col.text(),
    size: col.bigint(),
    sha256: col.text(),
    created_at: col.time(),
  },
  /**
   * Directory trees with a byte quota (CFS file systems, box NAS, …). `used_bytes` moves by
   * conditional updates in the transaction that commits a write, so writers in several processes
   * never overshoot the quota together; `measured_at` is when a walk of the tree last set it.
   */
  volumes: {
    id: col.text(),
    service: col.text(),
    account_id: col.text(),
    /** 0 = no limit. */
    quota_bytes: col.bigint(),
    used_bytes: col.bigint(),
    measured_at: col.time().orNull(),
    created_at: col.time(),
  },
  idempotency: {
    account_id: col.text(),
    operation: col.text(),
    token: col.text(),
    params_hash: col.text(),
    state: col.text<'pending' | 'done'>(),
    status: col.int().orNull(),
    response: col.json().orNull(), // JSON of the first result
    created_at: col.time(),
    /** A pending row expires within a minute (a crashed request), a done one after 24 h. */
    expires_at: col.time(),
  },
  /** The audit log: one hash-chained row per event (see audit.ts for the chain and its encoding). */
  audit_events: {
    seq: col.bigint(), // 1, 2, 3, … in commit order
    at: col.time(),
    account_id: col.text().orNull(),
    user_id: col.text().orNull(),
    user_name: col.text().orNull(),
    access_key_id: col.text(), // or 'system'
    action: col.text(), // e.g. box.create, s3.GetObject
    resource: col.text(), // e.g. fence/3/box/12
    fence_id: col.bigint().orNull(),
    detail: col.json().orNull(), // canonical JSON
    client_address: col.text().orNull(),
    request_id: col.text().orNull(),
    hash_version: col.int(),
    prev_hash: col.text(), // hex
    hash: col.text(), // hex HMAC-SHA256
  },
  /** The newest event of the audit chain (one row, id 1), with a MAC over seq and hash. */
  audit_chain_head: {
    id: col.int(),
    seq: col.bigint(),
    hash: col.text(),
    mac: col.text(),
  },
  /** Small platform settings (`volumes_root`: the marker of the volumes directory this database uses). */
  meta: {
    key: col.text(),
    value: col.text(),
  },
  /** Test-control probe runs (dev profile): proves the task runner executes each task once. */
  probe_runs: {
    id: col.autoId(),
    task_id: col.bigint(),
    runner: col.text(),
    finished_at: col.time(),
  },
});

export type CoreDatabase = DatabaseOf<typeof coreTables>;
/** The platform's view of the database (services have their own views, see `Executor`). */
export type Db = Kysely<CoreDatabase>;
export type Trx = Transaction<CoreDatabase>;
export type Dialect = 'sqlite' | 'postgres';

export type TasksRow = RowOf<(typeof coreTables)['tasks']>;
export type AuditEventsTable = RowOf<(typeof coreTables)['audit_events']>;

/**
 * A connection or transaction of any view. Services cast it to their own view in their
 * repository (`asDb`), so a service's SQL is typed against its own tables only.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Executor = Kysely<any>;

/** A service's typed view of an executor. */
export function asDb<DB>(e: Executor): Kysely<DB> {
  return e as Kysely<DB>;
}
