/**
 * Client-token idempotency (Baidu BCE `clientToken` convention), stored in the `idempotency` table.
 *
 * - The key is (account, operation, token). The request parameters are hashed (sha256 of a
 *   canonical JSON with sorted keys).
 * - First call: a `pending` row is inserted (atomically: the primary key makes a concurrent
 *   duplicate insert do nothing), `run` executes, its result is stored and the row becomes `done`.
 * - Same token, same parameters, done → the stored result is returned without running
 *   (`replayed: true`).
 * - Same token, different parameters → `IdempotencyError('IdempotentParameterMismatch')` (403).
 * - Same token while the first call is still pending → `IdempotencyError('MultiRequestConflict')` (409).
 * - `run` throws → the pending row is deleted and the error rethrown (the client may retry).
 * - A done row expires 24 h after creation; a pending one a minute after (a request that crashed
 *   must not block its token for a day). An expired row counts as absent and is replaced;
 *   `purgeExpiredIdempotency` deletes them.
 *
 * Crash safety: the gateway records the result with `ctx.complete(trx, result)` inside the
 * handler's own transaction (the request context's `tx`), so the effects and the recorded result
 * commit together; a crash before that commit leaves only a pending row, which expires.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../tasks/clock.js';
import type { CoreDatabase as Database } from './schema.js';
import type { Store } from './db.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a token stays claimed by a request that has not finished (or crashed). */
export const IDEMPOTENCY_PENDING_TTL_MS = 60 * 1000;

export type IdempotencyErrorCode = 'IdempotentParameterMismatch' | 'MultiRequestConflict';

const MESSAGES: Record<IdempotencyErrorCode, string> = {
  IdempotentParameterMismatch:
    'The request uses the same client token as a previous, but non-identical request.',
  MultiRequestConflict: 'A request with the same client token is still in progress.',
};

export class IdempotencyError extends Error {
  /** HTTP status of the BCE error. */
  readonly status: number;
  constructor(readonly code: IdempotencyErrorCode) {
    super(MESSAGES[code]);
    this.name = 'IdempotencyError';
    this.status = code === 'IdempotentParameterMismatch' ? 403 : 409;
  }
}

export interface IdempotencyKey {
  accountId: string;
  operation: string;
  token: string;
  /** The request's parameters; compared by canonical JSON. */
  params: unknown;
}

export interface IdempotentOutcome<T> {
  status: number;
  body: T;
}

export interface IdempotentResult<T> extends IdempotentOutcome<T> {
  replayed: boolean;
}

export interface IdempotencyContext<T> {
  /**
   * Records the result inside the caller's transaction (or any executor), so it commits together
   * with the operation's effects. Optional: `withIdempotency` records it anyway after `run`.
   */
  complete(executor: Kysely<Database>, result: IdempotentOutcome<T>): Promise<void>;
}

/** JSON with object keys sorted at every level (same value → same text). */
export function canonicalJson(value: unknown): string {
  return canon(value) ?? 'null';
}

function canon(value: unknown): string | undefined {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  if (v === null) return 'null';
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (typeof v !== 'object') return JSON.stringify(v); // undefined / function / symbol → undefined
  if (Array.isArray(v)) return `[${v.map((x) => canon(x) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const k of Object.keys(v).sort()) {
    const s = canon((v as Record<string, unknown>)[k]);
    if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${parts.join(',')}}`;
}

export function hashParams(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex');
}

export async function withIdempotency<T>(
  store: Store,
  clock: Clock,
  key: IdempotencyKey,
  run: (ctx: IdempotencyContext<T>) => Promise<IdempotentOutcome<T>>,
): Promise<IdempotentResult<T>> {
  const db = store.db;
  const hash = hashParams(key.params);
  const pk = { account_id: key.accountId, operation: key.operation, token: key.token };

  let createdAt: number | undefined;
  for (let attempt = 0; createdAt === undefined; attempt++) {
    if (attempt >= 10) throw new Error('idempotency: could not claim the client token (too much contention)');
    const now = clock.now();
    const ins = await db
      .insertInto('idempotency')
      .values({
        ...pk,
        params_hash: hash,
        state: 'pending',
        status: null,
        response: null,
        created_at: now,
        expires_at: now + IDEMPOTENCY_PENDING_TTL_MS,
      })
      .onConflict((oc) => oc.columns(['account_id', 'operation', 'token']).doNothing())
      .executeTakeFirst();
    if (Number(ins.numInsertedOrUpdatedRows ?? 0n) === 1) {
      createdAt = now;
      break;
    }
    const row = await db
      .selectFrom('idempotency')
      .selectAll()
      .where('account_id', '=', pk.account_id)
      .where('operation', '=', pk.operation)
      .where('token', '=', pk.token)
      .executeTakeFirst();
    if (!row) continue; // removed meanwhile (failed run or expiry): claim again
    if (row.expires_at <= now) {
      // Expired: treat as absent. The condition keeps a concurrent replacement intact.
      await db
        .deleteFrom('idempotency')
        .where('account_id', '=', pk.account_id)
        .where('operation', '=', pk.operation)
        .where('token', '=', pk.token)
        .where('expires_at', '<=', now)
        .execute();
      continue;
    }
    if (row.params_hash !== hash) throw new IdempotencyError('IdempotentParameterMismatch');
    if (row.state === 'pending') throw new IdempotencyError('MultiRequestConflict');
    return {
      status: row.status ?? 200,
      body: JSON.parse(row.response ?? 'null') as T,
      replayed: true,
    };
  }

  const ours = <E extends Kysely<Database>>(e: E) =>
    e
      .updateTable('idempotency')
      .where('account_id', '=', pk.account_id)
      .where('operation', '=', pk.operation)
      .where('token', '=', pk.token)
      .where('state', '=', 'pending')
      .where('created_at', '=', createdAt)
      .where('params_hash', '=', hash);

  const ctx: IdempotencyContext<T> = {
    async complete(executor, result) {
      await ours(executor)
        .set({
          state: 'done',
          status: result.status,
          response: JSON.stringify(result.body) ?? 'null',
          expires_at: createdAt + IDEMPOTENCY_TTL_MS,
        })
        .execute();
    },
  };

  let result: IdempotentOutcome<T>;
  try {
    result = await run(ctx);
  } catch (err) {
    try {
      await db
        .deleteFrom('idempotency')
        .where('account_id', '=', pk.account_id)
        .where('operation', '=', pk.operation)
        .where('token', '=', pk.token)
        .where('state', '=', 'pending')
        .where('created_at', '=', createdAt)
        .where('params_hash', '=', hash)
        .execute();
    } catch {
      // The original error matters more; the row expires anyway.
    }
    throw err;
  }
  await ctx.complete(db, result); // no-op if run already completed it in its transaction
  return { status: result.status, body: result.body, replayed: false };
}

/** Deletes expired rows; returns how many. */
export async function purgeExpiredIdempotency(store: Store, clock: Clock): Promise<number> {
  const r = await store.db.deleteFrom('idempotency').where('expires_at', '<=', clock.now()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
