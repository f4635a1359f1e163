/**
 * The audit log: an append-only, hash-chained record of who did what to which resource, when and
 * from where. Services call `audit.record(trx, event)` inside the transaction that makes the change,
 * so the event commits if and only if the change does. `audit.verify(db)` walks the chain and names
 * every edited, removed, inserted or reordered row; `listAuditEvents(db, filter)` reads it.
 *
 * ## The chain
 *
 * Each event has a sequence number `seq` (1, 2, 3, … without gaps), the `hash` of the event before it
 * (`prev_hash`; the first event's is 64 zeros) and its own `hash`: a MAC over every column, keyed by
 * `SecretBox.deriveKey('audit-mac-v1')` (HKDF-SHA256 of the server's master key). A one-row table,
 * `audit_chain_head`, holds the newest `seq` and `hash` and a MAC over both, written in the same
 * transaction as the event. So:
 * - an edited column breaks that row's MAC (seq and prev_hash are covered, so a row cannot move);
 * - a removed row leaves a gap in `seq`; a removed last row leaves the head pointing past the end;
 * - an inserted row has no valid MAC: without the master key nobody can compute one;
 * - a row moved to another `seq` has a MAC that is valid only for the seq it was written with.
 * Someone who can write the database but does not hold the master key therefore cannot forge a
 * consistent chain. What a MAC chain cannot show by itself: a database restored to an *earlier*
 * consistent state (events removed from the end together with an older copy of the head row, or the
 * whole log emptied back to the initial head). `verify` reports the head (`seq`, `hash`); keep that
 * line somewhere else (a ticket, a log shipper) to detect such a rollback.
 *
 * ## Hash encoding, version 1 (`hash_version` = 1)
 *
 *   K      = HKDF-SHA256(ikm = the 32-byte master key (secrets.ts), salt = empty,
 *                        info = "stockade/audit-mac-v1", length = 32)
 *   hash   = lower-case hex of HMAC-SHA256(K, "stockade-audit-v1" || fields)
 *   fields = seq, at, account_id, user_id, user_name, access_key_id, action, resource, fence_id,
 *            detail, client_address, request_id, prev_hash — in this order, each encoded as
 *            null    → 0x00
 *            integer → 0x01, then 8 bytes big-endian two's complement
 *            text    → 0x02, then 4 bytes big-endian byte length, then the UTF-8 bytes
 *   head   = lower-case hex of HMAC-SHA256(K, "stockade-audit-head-v1" || int(seq) || text(hash))
 * `detail` is hashed as the stored text, which `record` writes as canonical JSON (idempotency.ts:
 * object keys sorted, no white space). `hash_version` is not among the fields: the domain string
 * names the version, and a row whose `hash_version` is not one this code knows does not verify. The
 * initial head (seq 0, hash of 64 zeros) has an empty MAC: the migration that creates it has no key.
 * A new encoding would get a new version number, domain string and key purpose.
 *
 * ## Serialising appends
 *
 * Appending reads the head and writes the next seq, so appends must happen one at a time across
 * every process. `record` begins with `UPDATE audit_chain_head SET seq = seq + 1 … RETURNING`:
 * - PostgreSQL: the row lock taken by that UPDATE is held until the transaction ends, so a second
 *   appender waits there and then sees the committed head (READ COMMITTED re-reads the updated row).
 *   A table row is used rather than an advisory lock because the head must exist anyway (it is what
 *   makes a removed last row detectable), and the lock then comes with the data at no extra cost.
 *   Under REPEATABLE READ or SERIALIZABLE the second appender gets a serialisation failure instead
 *   of waiting, as for any contended row; the caller retries.
 * - SQLite: every transaction starts with BEGIN IMMEDIATE (db.ts), so writers are already one at a
 *   time across processes; the UPDATE is uncontended.
 * Commits happen in seq order, so the committed events are always 1..head.seq. The cost is that the
 * head is held from `record` to commit: call `record` last in a transaction, after the change it
 * records, which keeps the wait short and means every writer takes the head lock last (no lock
 * cycles through it).
 *
 * ## Resources
 *
 * `resource` is a path of segments joined by `/`, e.g. `fence/3/box/12` or `s3/results/run-1%2Fa.csv`;
 * build it with `auditResource('fence', 3, 'box', 12)`, which escapes `/`, `%` and control characters
 * inside a segment. `fence_id` is the fence the event belongs to: given explicitly (an S3 read of a
 * fence's export bucket), or taken from a resource that starts with `fence/<id>`.
 */
import { createHmac } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { asDb, type AuditEventsTable, type CoreDatabase, type Dialect, type Executor } from './schema.js';

type Database = CoreDatabase;
import type { Clock } from '../tasks/clock.js';
import { canonicalJson } from './idempotency.js';

/** `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);
/** The `hash_version` that `record` writes. */
export const AUDIT_HASH_VERSION = 1;
/** The purpose given to `SecretBox.deriveKey` for the audit MAC key. */
export const AUDIT_KEY_PURPOSE = 'audit-mac-v1';
/** `accessKeyId` of events the server records on its own behalf. */
export const SYSTEM_ACTOR_KEY = 'system';

const EVENT_DOMAIN = Buffer.from('stockade-audit-v1', 'ascii');
const HEAD_DOMAIN = Buffer.from('stockade-audit-head-v1', 'ascii');
const MAX_DETAIL_BYTES = 64 * 1024;
const MAX_FIELD_CHARS = 4096;
const ACTION = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Who acted. For the server itself: `SYSTEM_ACTOR`. An `Identity` (iam.ts) fits as it is. */
export interface AuditActor {
  accountId: string | null;
  userId: string | null;
  userName: string | null;
  /** The access key that signed the request, or `'system'` for the server itself. */
  accessKeyId: string;
}

export const SYSTEM_ACTOR: AuditActor = Object.freeze({
  accountId: null,
  userId: null,
  userName: null,
  accessKeyId: SYSTEM_ACTOR_KEY,
});

export interface AuditEventInput extends AuditActor {
  /** What happened: `service-or-resource.verb`, e.g. `box.create`, `export.approve`, `s3.GetObject`. */
  action: string;
  /** Which resource: a path built with `auditResource`, e.g. `fence/3/box/12`. */
  resource: string;
  /** The fence the event belongs to; taken from a `fence/<id>/…` resource when absent. */
  fenceId?: number | null;
  /** Anything else worth keeping (JSON-serialisable; at most 64 KiB once serialised). */
  detail?: unknown;
  /** The client's address as the server saw it (null for the server itself). */
  clientAddress: string | null;
  /** The request that caused the event (null for background work). */
  requestId: string | null;
}

/** A stored event, as `record` returns it and `listAuditEvents` reads it. */
export interface AuditEntry {
  seq: number;
  /** Milliseconds since the epoch, from the server's clock. */
  at: number;
  accountId: string | null;
  userId: string | null;
  userName: string | null;
  accessKeyId: string;
  action: string;
  resource: string;
  fenceId: number | null;
  /** Parsed `detail` (the stored text when it is not JSON), or null. */
  detail: unknown;
  clientAddress: string | null;
  requestId: string | null;
  hashVersion: number;
  prevHash: string;
  hash: string;
}

export type AuditProblemKind = 'edited' | 'removed' | 'inserted' | 'reordered';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** `event`: rows of `audit_events`; `head`: the `audit_chain_head` row. */
  target: 'event' | 'head';
  /**
   * The event's seq as stored (edited, inserted, reordered) or the first missing seq (removed);
   * null for the head.
   */
  seq: number | null;
  /** Last seq of a range (removed, reordered); equals `seq` for one row. */
  toSeq: number | null;
  /** reordered (and edited, when known and different): the seq the event was written with. */
  writtenSeq: number | null;
  /** One line naming the row, e.g. `event 7: edited: its columns do not match its hash`. */
  message: string;
}

export interface AuditReport {
  ok: boolean;
  /** Rows read from `audit_events`. */
  count: number;
  /** Of those, rows whose hash is valid at their stored seq (0 of many: probably another master key). */
  authentic: number;
  /** The chain head as stored (null when its row is missing). */
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}

export interface AuditFilter {
  accountId?: string;
  /** Resource prefix, by whole segments: `fence/3` matches `fence/3` and `fence/3/box/1`, not `fence/30`. */
  resource?: string;
  fenceId?: number;
  /** Only events that belong to some fence (`fence_id IS NOT NULL`): what a fence-admin key may read. */
  fenceScoped?: boolean;
  /** Exact action, or a prefix ending in `.` (`export.` matches every export action). */
  action?: string;
  /** `at >= since` (ms since the epoch). */
  since?: number;
  /** `at < until`. */
  until?: number;
  /** Paging: `seq > after`. */
  after?: number;
  /** Paging: `seq < before`. */
  before?: number;
  /** By seq; default `asc`. */
  order?: 'asc' | 'desc';
  /** 1..1000, default 100. */
  limit?: number;
}

export const MAX_LIST_LIMIT = 1000;

// ---------------------------------------------------------------------------------------------
// Encoding

type Field = string | number | null;

/** The version-1 message of an event row, or null when a column has a type no writer produces. */
function eventMessage(row: AuditEventsTable, seq: number): Buffer | null {
  return encode(EVENT_DOMAIN, [
    ['i', seq],
    ['i', row.at],
    ['s', row.account_id],
    ['s', row.user_id],
    ['s', row.user_name],
    ['s', row.access_key_id],
    ['s', row.action],
    ['s', row.resource],
    ['i', row.fence_id],
    ['s', row.detail],
    ['s', row.client_address],
    ['s', row.request_id],
    ['s', row.prev_hash],
  ]);
}

function encode(domain: Buffer, fields: Array<['i' | 's', Field]>): Buffer | null {
  const parts: Buffer[] = [domain];
  for (const [type, value] of fields) {
    if (value === null) {
      parts.push(Buffer.of(0));
    } else if (type === 'i') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return null;
      const b = Buffer.alloc(9);
      b[0] = 1;
      b.writeBigInt64BE(BigInt(value), 1);
      parts.push(b);
    } else {
      if (typeof value !== 'string') return null;
      const bytes = Buffer.from(value, 'utf8');
      const h = Buffer.alloc(5);
      h[0] = 2;
      h.writeUInt32BE(bytes.length, 1);
      parts.push(h, bytes);
    }
  }
  return Buffer.concat(parts);
}

function mac(key: Buffer, message: Buffer): string {
  return createHmac('sha256', key).update(message).digest('hex');
}

/** One resource path segment: `/`, `%` and control characters are percent-encoded. */
function segment(part: string | number): string {
  // eslint-disable-next-line no-control-regex
  return String(part).replace(/[%/\u0000-\u001f\u007f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** `auditResource('fence', 3, 'box', 12)` → `fence/3/box/12`; each part is escaped as a segment. */
export function auditResource(...parts: Array<string | number>): string {
  if (parts.length === 0) throw new TypeError('auditResource needs at least one segment');
  return parts.map(segment).join('/');
}

const FENCE_RESOURCE = /^fence\/(\d{1,15})(?:\/|$)/;

/** As the database returns it: the same text the driver was given (lone surrogates become U+FFFD). */
function text(v: string | null | undefined, what: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new TypeError(`audit ${what} must be a string`);
  if (v.length > MAX_FIELD_CHARS) throw new RangeError(`audit ${what} is longer than ${MAX_FIELD_CHARS} characters`);
  if (v.includes('\u0000')) throw new TypeError(`audit ${what} contains a NUL character`);
  return Buffer.from(v, 'utf8').toString('utf8');
}

function toEntry(row: AuditEventsTable): AuditEntry {
  let detail: unknown = null;
  if (row.detail !== null) {
    try {
      detail = JSON.parse(row.detail);
    } catch {
      detail = row.detail;
    }
  }
  return {
    seq: row.seq,
    at: row.at,
    accountId: row.account_id,
    userId: row.user_id,
    userName: row.user_name,
    accessKeyId: row.access_key_id,
    action: row.action,
    resource: row.resource,
    fenceId: row.fence_id,
    detail,
    clientAddress: row.client_address,
    requestId: row.request_id,
    hashVersion: row.hash_version,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

// ---------------------------------------------------------------------------------------------
// Schema

/**
 * Schema version 1 of the audit log: `audit_events` (replacing the unused table of the initial
 * schema) and `audit_chain_head` with its one row, the empty chain. Self-contained: it takes only
 * the transaction and the dialect.
 */
export async function auditSchemaV1(trx: Executor, dialect: Dialect): Promise<void> {
  const int64 = dialect === 'postgres' ? ('bigint' as const) : ('integer' as const);
  const s = trx.schema;
  await s.dropTable('audit_events').ifExists().execute();
  await s
    .createTable('audit_events')
    .addColumn('seq', int64, (c) => c.primaryKey())
    .addColumn('at', int64, (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('user_name', 'text')
    .addColumn('access_key_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('fence_id', int64)
    .addColumn('detail', 'text')
    .addColumn('client_address', 'text')
    .addColumn('request_id', 'text')
    .addColumn('hash_version', 'integer', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('audit_events_account_seq').on('audit_events').columns(['account_id', 'seq']).execute();
  await s.createIndex('audit_events_fence_seq').on('audit_events').columns(['fence_id', 'seq']).execute();
  await s.createIndex('audit_events_at').on('audit_events').column('at').execute();

  await s
    .createTable('audit_chain_head')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('seq', int64, (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .execute();
  await trx.insertInto('audit_chain_head').values({ id: 1, seq: 0, hash: GENESIS_HASH, mac: '' }).execute();
}

/**
 * Empties the log and starts a new chain (the dev profile's `/_stockade/reset`). In the same
 * transaction as the rest of the reset.
 */
export async function resetAuditLog(e: Executor): Promise<void> {
  const trx = asDb<Database>(e);
  // The head row is updated, not replaced: an append waiting on its lock then continues the new chain.
  const initial = { seq: 0, hash: GENESIS_HASH, mac: '' };
  const r = await trx.updateTable('audit_chain_head').set(initial).where('id', '=', 1).executeTakeFirst();
  await trx.deleteFrom('audit_events').execute();
  if (r.numUpdatedRows === 0n) await trx.insertInto('audit_chain_head').values({ id: 1, ...initial }).execute();
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Events matching `filter`, ordered by seq. */
export async function listAuditEvents(db: Kysely<Database>, filter: AuditFilter = {}): Promise<AuditEntry[]> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new RangeError(`audit list limit must be 1..${MAX_LIST_LIMIT}, got ${limit}`);
  }
  for (const k of ['fenceId', 'since', 'until', 'after', 'before'] as const) {
    const v = filter[k];
    if (v !== undefined && !Number.isSafeInteger(v)) throw new RangeError(`audit list ${k} must be an integer, got ${v}`);
  }
  let q = db.selectFrom('audit_events').selectAll();
  if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
  if (filter.fenceId !== undefined) q = q.where('fence_id', '=', filter.fenceId);
  if (filter.fenceScoped) q = q.where('fence_id', 'is not', null);
  if (filter.resource !== undefined && filter.resource !== '') {
    const p = filter.resource;
    const withSlash = p.endsWith('/') ? p : p + '/';
    // substr counts characters on both dialects; LIKE would need escaping and is case-insensitive on SQLite.
    const n = [...withSlash].length;
    q = q.where((eb) =>
      p.endsWith('/')
        ? eb(sql`substr(resource, 1, ${n})`, '=', withSlash)
        : eb.or([eb('resource', '=', p), eb(sql`substr(resource, 1, ${n})`, '=', withSlash)]),
    );
  }
  if (filter.action !== undefined && filter.action !== '') {
    const a = filter.action;
    q = a.endsWith('.') ? q.where(sql`substr(action, 1, ${[...a].length})`, '=', a) : q.where('action', '=', a);
  }
  if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('at', '<', filter.until);
  if (filter.after !== undefined) q = q.where('seq', '>', filter.after);
  if (filter.before !== undefined) q = q.where('seq', '<', filter.before);
  const rows = await q.orderBy('seq', filter.order === 'desc' ? 'desc' : 'asc').limit(limit).execute();
  return rows.map(toEntry);
}

// ---------------------------------------------------------------------------------------------
// Writing and verifying

/** Sequence numbers, compact for the long runs a scan in seq order produces. */
class SeqSet {
  readonly #runs: Array<[number, number]> = [];
  readonly #extra = new Set<number>();

  add(n: number): void {
    const last = this.#runs[this.#runs.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else if (!last || n > last[1]) this.#runs.push([n, n]);
    else if (!this.has(n)) this.#extra.add(n);
  }

  has(n: number): boolean {
    if (this.#extra.has(n)) return true;
    let lo = 0;
    let hi = this.#runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.#runs[mid]!;
      if (n < a) hi = mid - 1;
      else if (n > b) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Ranges of 1..end that are not in the set. */
  missing(end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let n = 1;
    const push = (a: number, b: number) => {
      const last = out[out.length - 1];
      if (last && last[1] === a - 1) last[1] = b;
      else out.push([a, b]);
    };
    for (const [a, b] of [...this.#runs, [Infinity, Infinity] as [number, number]]) {
      for (; n < Math.min(a, end + 1); n++) if (!this.#extra.has(n)) push(n, n);
      if (n > end) break;
      n = Math.max(n, b + 1);
    }
    return out;
  }
}

const plural = (a: number, b: number) => (a === b ? `event ${a}` : `events ${a}-${b}`);

export class AuditLog {
  readonly #key: Buffer;

  /** `key`: `secrets.deriveKey(AUDIT_KEY_PURPOSE)`; `clock` stamps `at`. */
  constructor(
    key: Buffer,
    private readonly clock: Clock,
  ) {
    if (key.length < 32) throw new RangeError('audit MAC key must be at least 32 bytes');
    this.#key = Buffer.from(key);
  }

  #eventHash(row: AuditEventsTable, seq: number = row.seq): string | null {
    if (row.hash_version !== AUDIT_HASH_VERSION) return null;
    const m = eventMessage(row, seq);
    return m && mac(this.#key, m);
  }

  #headMac(seq: number, hash: string): string {
    return mac(this.#key, encode(HEAD_DOMAIN, [['i', seq], ['s', hash]])!);
  }

  /**
   * Appends `event` inside `trx`, the transaction of the change it records: it commits or rolls back
   * with it. Holds the chain head until `trx` ends, so call it last. Throws on an event no caller
   * should build (bad action, NUL in a text, detail that is not JSON or over 64 KiB).
   */
  async record(e: Executor, event: AuditEventInput): Promise<AuditEntry> {
    const trx = asDb<Database>(e);
    if (!trx.isTransaction) throw new TypeError('audit.record must run inside the transaction of the change it records');
    if (typeof event.action !== 'string' || !ACTION.test(event.action)) {
      throw new TypeError(`audit action ${JSON.stringify(event.action)} is not of the form box.create`);
    }
    const accessKeyId = text(event.accessKeyId, 'accessKeyId');
    if (!accessKeyId) throw new TypeError('audit accessKeyId must name the key, or be "system"');
    const resource = text(event.resource, 'resource');
    if (!resource) throw new TypeError('audit resource must not be empty');
    let fenceId = event.fenceId ?? null;
    if (fenceId === null) {
      const m = FENCE_RESOURCE.exec(resource);
      if (m) fenceId = Number(m[1]);
    }
    if (fenceId !== null && (!Number.isSafeInteger(fenceId) || fenceId < 0)) {
      throw new RangeError(`audit fenceId must be a non-negative integer, got ${fenceId}`);
    }
    const detail = event.detail === undefined || event.detail === null ? null : canonicalJson(event.detail);
    if (detail !== null && Buffer.byteLength(detail) > MAX_DETAIL_BYTES) {
      throw new RangeError(`audit detail is over ${MAX_DETAIL_BYTES} bytes`);
    }
    const at = Math.trunc(this.clock.now());

    // Takes the head's row lock (PostgreSQL) until trx ends; see the module comment.
    const head = await trx
      .updateTable('audit_chain_head')
      .set((eb) => ({ seq: eb('seq', '+', 1) }))
      .where('id', '=', 1)
      .returning(['seq', 'hash'])
      .executeTakeFirst();
    if (!head) throw new Error('the audit chain head is missing: run `stockade audit verify`');

    const row: AuditEventsTable = {
      seq: head.seq,
      at,
      account_id: text(event.accountId, 'accountId'),
      user_id: text(event.userId, 'userId'),
      user_name: text(event.userName, 'userName'),
      access_key_id: accessKeyId,
      action: event.action,
      resource,
      fence_id: fenceId,
      detail,
      client_address: text(event.clientAddress, 'clientAddress'),
      request_id: text(event.requestId, 'requestId'),
      hash_version: AUDIT_HASH_VERSION,
      prev_hash: head.hash,
      hash: '',
    };
    row.hash = this.#eventHash(row)!;
    await trx.insertInto('audit_events').values(row).execute();
    await trx
      .updateTable('audit_chain_head')
      .set({ hash: row.hash, mac: this.#headMac(row.seq, row.hash) })
      .where('id', '=', 1)
      .execute();
    return toEntry(row);
  }

  /** `listAuditEvents`, for callers that hold the log. */
  list(db: Kysely<Database>, filter: AuditFilter = {}): Promise<AuditEntry[]> {
    return listAuditEvents(db, filter);
  }

  /**
   * Walks the whole chain and reports every problem. Reads in pages without a long transaction, so
   * it runs beside appending servers: events committed while it runs are included up to the head it
   * reads at the end.
   */
  async verify(db: Kysely<Database>, opts: { pageSize?: number } = {}): Promise<AuditReport> {
    const pageSize = opts.pageSize ?? 1000;
    const problems: AuditProblem[] = [];
    const filled = new SeqSet(); // positions held by a genuine event
    const bad: AuditEventsTable[] = []; // rows whose MAC fails at their stored seq
    let count = 0;
    let authentic = 0;
    let cursor = -Infinity;
    let maxAuthentic = 0;

    const scan = async (upTo?: number) => {
      for (;;) {
        let q = db.selectFrom('audit_events').selectAll().orderBy('seq').limit(pageSize);
        if (cursor !== -Infinity) q = q.where('seq', '>', cursor);
        if (upTo !== undefined) q = q.where('seq', '<=', upTo);
        const rows = await q.execute();
        for (const r of rows) {
          count++;
          cursor = r.seq;
          if (this.#eventHash(r) === r.hash) {
            authentic++;
            filled.add(r.seq);
            maxAuthentic = Math.max(maxAuthentic, r.seq);
          } else {
            bad.push(r);
          }
        }
        if (rows.length < pageSize) return;
      }
    };

    await scan();
    const headRow = await db.selectFrom('audit_chain_head').selectAll().where('id', '=', 1).executeTakeFirst();
    // Events committed between the scan and reading the head: the head commits with its event.
    if (headRow && Number.isSafeInteger(headRow.seq) && headRow.seq > cursor) await scan(headRow.seq);

    const headProblem = (kind: AuditProblemKind, message: string) =>
      problems.push({ kind, target: 'head', seq: null, toSeq: null, writtenSeq: null, message: `chain head: ${kind}: ${message}` });
    let head: { seq: number; hash: string } | null = null; // the head when it is genuine
    if (!headRow) {
      headProblem('removed', 'the audit_chain_head row is missing');
    } else if (headRow.seq === 0 && headRow.hash === GENESIS_HASH && headRow.mac === '') {
      head = { seq: 0, hash: GENESIS_HASH };
    } else if (!Number.isSafeInteger(headRow.seq) || headRow.mac !== this.#headMac(headRow.seq, headRow.hash)) {
      headProblem('edited', `seq ${headRow.seq} and its hash do not match the head's MAC`);
    } else {
      head = { seq: headRow.seq, hash: headRow.hash };
    }
    if (head && maxAuthentic > head.seq) {
      headProblem('edited', `says ${head.seq} events, but genuine events go up to ${maxAuthentic} (an older head was restored)`);
      head = null;
    }

    const end = bad.length > 0 ? await this.#placeRows(db, bad, filled, head, maxAuthentic, cursor, problems) : (head?.seq ?? maxAuthentic);

    for (const [a, b] of filled.missing(end)) {
      problems.push({ kind: 'removed', target: 'event', seq: a, toSeq: b, writtenSeq: null, message: `${plural(a, b)}: removed` });
    }
    problems.sort((x, y) => (x.seq ?? -1) - (y.seq ?? -1));
    return {
      ok: problems.length === 0,
      count,
      authentic,
      head: headRow ? { seq: headRow.seq, hash: headRow.hash } : null,
      problems: mergeRanges(problems),
    };
  }

  /**
   * Classifies the rows whose MAC fails at their stored seq. A row whose MAC is valid at another
   * seq (found through its neighbours' hashes) was moved: `reordered`, or `inserted` when that
   * position is already held (a copy). Otherwise, a row that stands where a genuine event belongs
   * (its successor or the head names its hash, or its seq is a free position) is `edited`; anything
   * else is `inserted`. Returns the last seq of the chain: the head's when it is genuine; otherwise
   * the last position any row can claim (an untrusted head cannot tell a forged last event from an
   * edited one).
   */
  async #placeRows(
    db: Kysely<Database>,
    bad: AuditEventsTable[],
    filled: SeqSet,
    head: { seq: number; hash: string } | null,
    maxAuthentic: number,
    lastRead: number,
    problems: AuditProblem[],
  ): Promise<number> {
    // Neighbours of the bad rows by hash link: rows whose hash is a bad row's prev_hash, and rows
    // whose prev_hash is a bad row's hash. Unindexed lookups, run only when something is wrong.
    const rows = new Map<number, AuditEventsTable>();
    for (const r of bad) rows.set(r.seq, r);
    const fetchBy = async (column: 'hash' | 'prev_hash', values: string[]) => {
      const unique = [...new Set(values)];
      for (let i = 0; i < unique.length; i += 500) {
        const found = await db
          .selectFrom('audit_events')
          .selectAll()
          .where(column, 'in', unique.slice(i, i + 500))
          .where('seq', '<=', lastRead)
          .execute();
        for (const r of found) if (!rows.has(r.seq)) rows.set(r.seq, r);
      }
    };
    await fetchBy('hash', bad.map((r) => r.prev_hash));
    await fetchBy('prev_hash', bad.map((r) => r.hash));

    const isBad = new Set(bad.map((r) => r.seq));
    const byHash = new Map<string, number[]>();
    const byPrev = new Map<string, number[]>();
    for (const r of rows.values()) {
      (byHash.get(r.hash) ?? byHash.set(r.hash, []).get(r.hash)!).push(r.seq);
      (byPrev.get(r.prev_hash) ?? byPrev.set(r.prev_hash, []).get(r.prev_hash)!).push(r.seq);
    }
    const moved = new Map<number, number>(); // stored seq → seq it was written with
    const trueSeq = (stored: number): number | undefined => (isBad.has(stored) ? moved.get(stored) : stored);
    /** Positions the links suggest for `r`: after its predecessor, before its successor, the head. */
    const candidates = (r: AuditEventsTable): number[] => {
      const out: number[] = [];
      for (const s of byPrev.get(r.hash) ?? []) {
        const t = s === r.seq ? undefined : trueSeq(s);
        if (t !== undefined) out.push(t - 1);
      }
      if (head && r.hash === head.hash) out.push(head.seq);
      if (r.prev_hash === GENESIS_HASH) out.push(1);
      for (const p of byHash.get(r.prev_hash) ?? []) {
        const t = p === r.seq ? undefined : trueSeq(p);
        if (t !== undefined) out.push(t + 1);
      }
      return out.filter((c) => c >= 1);
    };

    // Rows moved to another seq: the MAC is valid at the seq they were written with.
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of bad) {
        if (moved.has(r.seq)) continue;
        const c = candidates(r).find((c) => c !== r.seq && this.#eventHash(r, c) === r.hash);
        if (c !== undefined) {
          moved.set(r.seq, c);
          changed = true;
        }
      }
    }

    const end = head ? head.seq : bad.reduce((m, r) => Math.max(m, moved.get(r.seq) ?? r.seq), maxAuthentic);

    const push = (kind: AuditProblemKind, seq: number, writtenSeq: number | null, message: string) =>
      problems.push({ kind, target: 'event', seq, toSeq: seq, writtenSeq, message: `event ${seq}: ${kind}: ${message}` });
    for (const r of [...bad].sort((a, b) => (moved.get(a.seq) ?? Infinity) - (moved.get(b.seq) ?? Infinity) || a.seq - b.seq)) {
      const written = moved.get(r.seq);
      if (written !== undefined) {
        if (written <= end && !filled.has(written)) {
          filled.add(written);
          push('reordered', r.seq, written, `written as event ${written}`);
        } else {
          push('inserted', r.seq, written, `a copy of event ${written}`);
        }
        continue;
      }
      const free = (c: number) => c >= 1 && c <= end && !filled.has(c);
      const position = candidates(r).find(free) ?? (free(r.seq) ? r.seq : undefined);
      if (position !== undefined) {
        filled.add(position);
        push(
          'edited',
          r.seq,
          position === r.seq ? null : position,
          position === r.seq ? 'its columns do not match its hash' : `written as event ${position}; its columns do not match its hash`,
        );
      } else {
        push('inserted', r.seq, null, 'not written by this server (no valid hash)');
      }
    }
    return end;
  }
}

/** Consecutive `reordered` rows moved by the same offset become one range (one line). */
function mergeRanges(problems: AuditProblem[]): AuditProblem[] {
  const out: AuditProblem[] = [];
  for (const p of problems) {
    const last = out[out.length - 1];
    if (
      last &&
      p.kind === 'reordered' &&
      last.kind === 'reordered' &&
      last.toSeq !== null &&
      p.seq === last.toSeq + 1 &&
      p.writtenSeq !== null &&
      last.writtenSeq !== null &&
      p.writtenSeq - p.seq === last.writtenSeq - last.seq!
    ) {
      last.toSeq = p.seq;
      const w = last.writtenSeq + (last.toSeq - last.seq!);
      last.message = `${plural(last.seq!, last.toSeq)}: reordered: written as ${plural(last.writtenSeq, w)}`;
    } else {
      out.push({ ...p });
    }
  }
  return out;
}
