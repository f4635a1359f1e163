/**
 * Durable task runner: a table of work items (`tasks`) with leases, retries with backoff and an
 * injectable clock.
 *
 * Life of a task:
 *   queued ──claim──► running ──handler ok──► done
 *     │                  │ └────handler throws, attempts < max──► queued (due_at = now + backoff)
 *     │                  │ └────handler throws, attempts = max, PermanentTaskError, timeout──► failed
 *     │                  │ └────cancel asked, seen at the next lease renewal──► canceled
 *     │                  └─lease expires (owner crashed)──► claimable again by any runner
 *     └──cancel──► canceled
 *
 * **Exactly-once effects.** A handler's effects are written through `ctx.tx(fn)` or
 * `ctx.complete(fn)`. Both run `fn` in a transaction that first checks, with a write on the task's
 * row, that this runner still holds the lease (`lease_owner = me, state = running`); if it does
 * not, the transaction rolls back and the handler gets `LeaseLostError`, so a runner that lost its
 * lease changes nothing. `complete` also marks the task done in the same transaction: effects,
 * the tasks they enqueue (`enqueue(..., { db: trx })`) and the completion commit together or not
 * at all. A crash after that commit finds the task done; a crash before it leaves nothing, and the
 * next run starts over. A handler that returns without calling `complete` is completed with no
 * effects of its own (everything it wrote through `ctx.tx` already committed under the lease).
 * Effects outside the database (files) must be idempotent or staged (written under a fresh name
 * and put in place inside `complete`'s transaction).
 *
 * **Per kind** (see `register`): a payload schema (checked at enqueue and at claim: an invalid
 * payload fails the task permanently), its own concurrency in this process (a kind never takes
 * another's slots: four long imports cannot block box transitions), lease length, timeout,
 * attempts and backoff. A runner claims only kinds it has registered, so processes with different
 * kinds can share one database.
 *
 * **Dedupe keys.** `enqueue(…, { dedupeKey })`: the key is unique in the table, so however many
 * processes enqueue the same key, one task exists (a trigger's 10:00 firing); the others get its id.
 *
 * **Cancellation** (`cancel(db, id)`): a queued task is canceled at once; a running one has
 * `cancel_requested` set, and its handler's signal aborts (reason `TaskCanceledError`) at the next
 * lease renewal; the task then ends `canceled` unless the handler completed first.
 *
 * **Progress**: `ctx.progress(value)` stores JSON on the task row (`get(id).progress`).
 *
 * **Retention**: finished tasks (done, failed, canceled) are deleted `retentionMs` after they
 * finished (checked every `purgeEveryMs` by the poll loop, or `purgeFinished()`).
 *
 * - **Claiming** sets `state='running'`, `lease_owner=<this runner>`, `lease_expires_at=now+lease` and
 *   increments `attempts`, per kind, in one statement:
 *   `UPDATE tasks SET … WHERE id IN (SELECT id FROM tasks WHERE kind = ? AND <due or lease expired>
 *   ORDER BY due_at LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING *`. On PostgreSQL `FOR UPDATE SKIP
 *   LOCKED` lets several processes claim disjoint batches; on SQLite the statement, in autocommit
 *   mode, is its own write transaction. An idle poll is one query (which kinds have due work).
 * - **Leases** are renewed every lease/3 while the handler runs. A runner that finds its lease taken
 *   (renewal updates no row) aborts the handler's signal and writes nothing; every completion write
 *   is guarded by `lease_owner = <this runner>`.
 * - **Attempts** count claims. A task whose lease expired after its last allowed attempt is not run
 *   again: it is marked failed (a task that crashes its process every time must not loop forever).
 * - **Times** (`due_at`, leases, `finished_at`) come from `clock.now()`; waiting (polling, renewal,
 *   stop timeout) uses real timers, all cleared by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExpressionBuilder } from 'kysely';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { detached, type Store } from '../store/db.js';
import type { CoreDatabase, Executor, TasksRow, TaskState, Trx } from '../store/schema.js';
import type { Clock } from './clock.js';
import { LeaseLostError, PermanentTaskError, TaskCanceledError, TaskTimeoutError } from './errors.js';
import { MANUAL_DUE_AT } from './lifecycle.js';

export { LeaseLostError, PermanentTaskError, TaskCanceledError, TaskTimeoutError } from './errors.js';
/** The dev-profile `probe` kind (see probe.ts), re-exported for the composition root. */
export { registerProbe, PROBE_KIND, type ProbePayload } from './probe.js';

export interface TaskContext {
  taskId: number;
  /** 1 for the first run, 2 for the first retry, … */
  attempt: number;
  /**
   * Aborted when the runner stops (after its grace period), loses the task's lease, the task is
   * canceled (reason `TaskCanceledError`) or runs past its kind's timeout (`TaskTimeoutError`).
   */
  signal: AbortSignal;
  /** Runs `fn` in a transaction that commits only while this runner holds the lease. */
  tx<T>(fn: (trx: Trx) => Promise<T>): Promise<T>;
  /** Like `tx`, and marks the task done in the same transaction (at most once per run). */
  complete<T>(fn?: (trx: Trx) => Promise<T>): Promise<T | undefined>;
  /** Stores `value` (JSON) as the task's progress. */
  progress(value: unknown): Promise<void>;
}

export type TaskHandler<P = unknown> = (payload: P, ctx: TaskContext) => Promise<void>;

export interface RegisterOptions {
  /** Attempts before the task is marked failed; stored on the task at enqueue time. Default: runner's. */
  maxAttempts?: number;
  /** Delay before retry number `attempt` (1 after the first failure). Default: `defaultBackoffMs`. */
  backoffMs?: (attempt: number) => number;
  /** Checked at enqueue (throws) and at claim (fails the task permanently). */
  payload?: TSchema;
  /** Runs of this kind at once in this process. Default: the runner's `concurrency`. */
  concurrency?: number;
  /** Lease length of this kind. Default: the runner's `leaseMs`. */
  leaseMs?: number;
  /** A run longer than this is aborted and the task fails without retry. */
  timeoutMs?: number;
  /** Finished tasks of this kind are purged this long after they finished (default: the runner's). */
  retentionMs?: number;
}

export interface EnqueueOptions {
  /** When the task becomes due (ms since the epoch, see `clock`); default now. */
  dueAt?: number;
  maxAttempts?: number;
  /**
   * A transaction: the task is inserted in it, so a resource row and the task that advances it
   * commit (or roll back) together. The runner cannot see the task before the commit: call `wake()`
   * after committing (the request context's `tx` does) to have it picked up at once.
   */
  db?: Executor;
  /** Unique across tasks: when a task with this key exists, nothing is added and its id is returned. */
  dedupeKey?: string;
}

/** A pino-compatible logger (only the levels used here). */
export interface TaskLogger {
  debug?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface TaskRunnerOptions {
  store: Store;
  clock: Clock;
  /** Unique per process, e.g. `${hostname}:${pid}:${random}` (see `defaultOwner()`). */
  owner: string;
  /** Lease length; renewed every leaseMs/3 while a handler runs. Default 30 000. */
  leaseMs?: number;
  /** Poll interval when idle. Default 250. */
  pollMs?: number;
  /** Default runs at once per kind (poll loop and runDue each). Default 4. */
  concurrency?: number;
  /** Default maximum attempts for kinds registered without one. Default 5. */
  maxAttempts?: number;
  /** How long `stop()` waits for in-flight handlers by default. Default 10 000. */
  stopTimeoutMs?: number;
  /** Finished tasks are deleted this long after they finished. Default 7 days. */
  retentionMs?: number;
  /** How often the poll loop purges finished tasks. Default 10 minutes. */
  purgeEveryMs?: number;
  logger?: TaskLogger;
}

export interface RunDueOptions {
  /** Also run tasks whose transition is manual (`due_at = MANUAL_DUE_AT`). */
  includeManual?: boolean;
}

export interface StopOptions {
  /** Grace period for in-flight handlers before their leases are released. */
  timeoutMs?: number;
}

export type { TaskState };

/** A task row with numbers normalised. */
export type TaskRow = TasksRow;

/** `1s · 2^(attempt-1)`, capped at 60 s, with ±20 % jitter. */
export function defaultBackoffMs(attempt: number): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), 60_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** `hostname:pid:random`: unique per process (and per runner within a process). */
export function defaultOwner(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

const consoleLogger: TaskLogger = {
  warn: (obj, msg) => console.warn(`[tasks] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[tasks] ${msg ?? ''}`, obj),
};

const MAX_ERROR_LENGTH = 4000;
/** After a timeout, how long a handler may take to honour its aborted signal before the task is failed anyway. */
const TIMEOUT_GRACE_MS = 5_000;

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

function normalise(raw: TasksRow): TaskRow {
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return {
    ...raw,
    id: Number(raw.id),
    attempts: Number(raw.attempts),
    max_attempts: Number(raw.max_attempts),
    due_at: Number(raw.due_at),
    lease_expires_at: n(raw.lease_expires_at),
    created_at: Number(raw.created_at),
    finished_at: n(raw.finished_at),
    cancel_requested: Number(raw.cancel_requested),
  };
}

/** SQLite lock contention or a PostgreSQL serialization failure / deadlock: worth retrying. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === '40001' || code === '40P01')
  );
}

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 4 || !isTransient(err)) throw err;
      await delay(10 * 4 ** i);
    }
  }
}

interface Registration {
  kind: string;
  handler: TaskHandler<never>;
  maxAttempts?: number;
  backoffMs?: (attempt: number) => number;
  check?: TypeCheck<TSchema>;
  concurrency: number;
  leaseMs: number;
  timeoutMs?: number;
  retentionMs?: number;
}

interface Execution {
  task: TaskRow;
  reg: Registration;
  controller: AbortController;
  /** Lease handed back by stop(): write nothing. */
  released: boolean;
  /** Lease taken by another runner (or the task ended by a timeout): write nothing. */
  leaseLost: boolean;
  /** `ctx.complete` committed: the task is done. */
  completed: boolean;
  /** Cancellation was seen at a renewal. */
  canceled: boolean;
  timedOut: boolean;
  renewTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  renewing: boolean;
  /** Resolves when the execution has finished, or was released by stop(). */
  settled: Promise<void>;
  settle(): void;
}

export class TaskRunner {
  readonly store: Store;
  readonly clock: Clock;
  readonly owner: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly concurrency: number;
  readonly defaultMaxAttempts: number;
  readonly stopTimeoutMs: number;
  readonly retentionMs: number;
  readonly purgeEveryMs: number;
  readonly #log: TaskLogger;
  readonly #handlers = new Map<string, Registration>();
  readonly #inFlight = new Map<number, Execution>();
  /** Claims in progress (stop() waits for them so no claimed task escapes its release). */
  readonly #claims = new Set<Promise<unknown>>();
  #started = false;
  #stopping = false;
  /** Incremented by stop(): a runDue loop begun before stops claiming. */
  #epoch = 0;
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
  #pollAgain = false;
  #lastSweep = Number.NEGATIVE_INFINITY;
  #lastPurge: number;

  constructor(opts: TaskRunnerOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.owner = opts.owner;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 250;
    this.concurrency = opts.concurrency ?? 4;
    this.defaultMaxAttempts = opts.maxAttempts ?? 5;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    this.retentionMs = opts.retentionMs ?? 7 * 24 * 3600_000;
    this.purgeEveryMs = opts.purgeEveryMs ?? 10 * 60_000;
    this.#log = opts.logger ?? consoleLogger;
    this.#lastPurge = this.clock.now();
    if (!this.owner) throw new Error('TaskRunner: owner must be a non-empty string');
    for (const [name, v] of [
      ['leaseMs', this.leaseMs],
      ['pollMs', this.pollMs],
      ['concurrency', this.concurrency],
      ['maxAttempts', this.defaultMaxAttempts],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`TaskRunner: ${name} must be a positive integer`);
    }
  }

  /**
   * Registers the handler of a task kind.
   *
   * A handler runs at least once. Its database effects happen exactly once when they go through
   * `ctx.tx` / `ctx.complete` (see the module comment); effects outside the database must be
   * idempotent. Handlers should honour `ctx.signal`: whatever they do after it aborted is not
   * recorded. A handler that throws is retried after `backoffMs(attempt)` until `maxAttempts` runs
   * have failed; throw `PermanentTaskError` to fail at once.
   */
  register<P = unknown>(kind: string, handler: TaskHandler<P>, opts: RegisterOptions = {}): void {
    if (this.#handlers.has(kind)) throw new Error(`task kind ${JSON.stringify(kind)} is already registered`);
    for (const [name, v] of [
      ['maxAttempts', opts.maxAttempts],
      ['concurrency', opts.concurrency],
      ['leaseMs', opts.leaseMs],
      ['timeoutMs', opts.timeoutMs],
      ['retentionMs', opts.retentionMs],
    ] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
        throw new Error(`task kind ${JSON.stringify(kind)}: ${name} must be a positive integer`);
      }
    }
    this.#handlers.set(kind, {
      kind,
      handler,
      ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
      ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
      ...(opts.payload !== undefined ? { check: TypeCompiler.Compile(opts.payload) } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.retentionMs !== undefined ? { retentionMs: opts.retentionMs } : {}),
      concurrency: opts.concurrency ?? this.concurrency,
      leaseMs: opts.leaseMs ?? this.leaseMs,
    });
  }

  has(kind: string): boolean {
    return this.#handlers.has(kind);
  }

  /** Inserts a task (in `opts.db` if given) and returns its id (the existing one for a known dedupe key). */
  async enqueue(kind: string, payload: unknown, opts: EnqueueOptions = {}): Promise<number> {
    const now = this.clock.now();
    const dueAt = opts.dueAt ?? now;
    const reg = this.#handlers.get(kind);
    const maxAttempts = opts.maxAttempts ?? reg?.maxAttempts ?? this.defaultMaxAttempts;
    if (!Number.isSafeInteger(dueAt) || dueAt < 0) throw new Error(`enqueue ${kind}: dueAt must be an integer time`);
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`enqueue ${kind}: maxAttempts must be a positive integer`);
    }
    if (reg?.check && !reg.check.Check(payload)) {
      const e = reg.check.Errors(payload).First();
      throw new Error(`enqueue ${kind}: invalid payload${e ? ` at ${e.path || '/'}: ${e.message}` : ''}`);
    }
    const db = (opts.db ?? this.store.db) as Executor;
    const row = {
      kind,
      payload: JSON.stringify(payload ?? null),
      state: 'queued' as const,
      attempts: 0,
      max_attempts: maxAttempts,
      due_at: dueAt,
      lease_owner: null,
      lease_expires_at: null,
      last_error: null,
      created_at: now,
      finished_at: null,
      dedupe_key: opts.dedupeKey ?? null,
      cancel_requested: 0,
      progress: null,
    };
    let id: number;
    if (opts.dedupeKey === undefined) {
      id = Number((await db.insertInto('tasks').values(row).returning('id').executeTakeFirstOrThrow()).id);
    } else {
      const inserted = await db
        .insertInto('tasks')
        .values(row)
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) id = Number(inserted.id);
      else {
        const existing = await db.selectFrom('tasks').select('id').where('dedupe_key', '=', opts.dedupeKey).executeTakeFirstOrThrow();
        return Number(existing.id);
      }
    }
    if (opts.db === undefined && dueAt <= now) this.wake();
    return id;
  }

  /** Reads one task (numbers normalised), or undefined. */
  async get(id: number, db: Executor = this.store.db): Promise<TaskRow | undefined> {
    const row = (await db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst()) as TasksRow | undefined;
    return row === undefined ? undefined : normalise(row);
  }

  /**
   * Cancels a task: a queued one at once (`canceled`), a running one at its next lease renewal
   * (`requested`); `finished` when it had already ended, `missing` when there is no such task.
   */
  async cancel(db: Executor, id: number): Promise<'canceled' | 'requested' | 'finished' | 'missing'> {
    const now = this.clock.now();
    const q = await db
      .updateTable('tasks')
      .set({ state: 'canceled', finished_at: now, lease_owner: null, lease_expires_at: null, last_error: 'canceled' })
      .where('id', '=', id)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    if (Number(q.numUpdatedRows) > 0) return 'canceled';
    const r = await db
      .updateTable('tasks')
      .set({ cancel_requested: 1 })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return 'requested';
    return (await this.get(id, db)) ? 'finished' : 'missing';
  }

  /**
   * Deletes tasks that finished more than `retentionMs` ago (or their kind's own retention, for
   * kinds registered with one); returns how many.
   */
  async purgeFinished(olderThanMs = this.retentionMs): Promise<number> {
    const now = this.clock.now();
    const finished = ['done', 'failed', 'canceled'] as const;
    const own = [...this.#handlers.values()].filter((r) => r.retentionMs !== undefined);
    let n = 0;
    for (const reg of own) {
      const r = await withRetry(() =>
        this.store.db
          .deleteFrom('tasks')
          .where('kind', '=', reg.kind)
          .where('state', 'in', finished)
          .where('finished_at', '<', now - reg.retentionMs!)
          .executeTakeFirst(),
      );
      n += Number(r.numDeletedRows);
    }
    const r = await withRetry(() =>
      this.store.db.deleteFrom('tasks').where('state', 'in', finished).where('finished_at', '<', now - olderThanMs).executeTakeFirst(),
    );
    return n + Number(r.numDeletedRows);
  }

  /** Starts the poll loop (idempotent). */
  start(): void {
    if (this.#started) return;
    if (this.#stopping) throw new Error('TaskRunner.start: the runner is stopping');
    this.#started = true;
    this.#schedule(0);
  }

  get started(): boolean {
    return this.#started;
  }

  /** Number of handlers running now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Polls at once (e.g. after committing a transaction that enqueued a due task). */
  wake(): void {
    if (!this.#started) return;
    if (this.#polling) this.#pollAgain = true;
    else this.#schedule(0);
  }

  /**
   * Claims and runs every task due now (and manual ones with `includeManual`), each kind up to its
   * concurrency, until nothing is due and nothing is still running in this process (runs the poll
   * loop started are awaited too); tasks that handlers enqueue as due are run too. Returns the
   * number of handler runs (including failed ones). Works whether or not the poll loop is started.
   * A claim error is thrown after the runs in progress have settled.
   */
  async runDue(opts: RunDueOptions = {}): Promise<number> {
    const epoch = this.#epoch;
    const includeManual = opts.includeManual ?? false;
    const mine = new Set<Execution>();
    let ran = 0;
    let failure: unknown;
    const waitOne = async (): Promise<void> => {
      await Promise.race([...mine].map((e) => e.settled.then(() => mine.delete(e))));
    };
    for (let first = true; ; first = false) {
      if (this.#stopping || epoch !== this.#epoch) break;
      let started: Execution[];
      try {
        started = await this.#claimAndLaunch(includeManual, first);
      } catch (err) {
        failure = err;
        break;
      }
      for (const exec of started) mine.add(exec);
      ran += started.length;
      if (mine.size === 0) break;
      // Wait for a run to end (it may enqueue more work, or free a slot for waiting work).
      await waitOne();
    }
    while (mine.size > 0) await waitOne();
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
    // Tasks the poll loop claimed meanwhile are waited for too, so that when runDue returns everything
    // that was due has run; what they enqueue as due is run in the next round. A claim of the poll
    // loop still in flight (its rows taken, its runs not started yet) is waited for first: its
    // tasks were invisible to runDue's own claim.
    while (this.#claims.size > 0 && !this.#stopping && epoch === this.#epoch) await Promise.allSettled([...this.#claims]);
    const others = [...this.#inFlight.values()];
    if (others.length > 0 && !this.#stopping && epoch === this.#epoch) {
      await Promise.all(others.map((e) => e.settled));
      return ran + (await this.runDue(opts));
    }
    return ran;
  }

  /**
   * Stops claiming, waits up to `timeoutMs` for in-flight handlers, then hands back the leases of the
   * unfinished ones (state queued, lease cleared, due now, attempts kept) so another process picks them
   * up, and aborts their signals. Clears every timer. `start()` may be called again afterwards.
   */
  async stop(opts: StopOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? this.stopTimeoutMs;
    this.#started = false;
    this.#stopping = true;
    this.#epoch++;
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    try {
      while (this.#claims.size > 0) await Promise.allSettled([...this.#claims]);
      const pending = [...this.#inFlight.values()];
      if (pending.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(pending.map((e) => e.settled)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      const unfinished = [...this.#inFlight.values()];
      if (unfinished.length > 0) {
        for (const e of unfinished) {
          e.released = true;
          this.#stopTimers(e);
        }
        const ids = unfinished.map((e) => e.task.id);
        try {
          const now = this.clock.now();
          await withRetry(() =>
            this.store.db
              .updateTable('tasks')
              .set({ state: 'queued', lease_owner: null, lease_expires_at: null, due_at: now })
              .where('id', 'in', ids)
              .where('lease_owner', '=', this.owner)
              .where('state', '=', 'running')
              .execute(),
          );
          this.#log.warn({ owner: this.owner, tasks: ids }, 'runner stopped: released leases of unfinished tasks');
        } catch (err) {
          this.#log.error(
            { owner: this.owner, tasks: ids, err: errorText(err) },
            'could not release leases; they will expire',
          );
        }
        for (const e of unfinished) {
          e.controller.abort(new Error('task runner stopped'));
          this.#inFlight.delete(e.task.id);
          e.settle();
        }
      }
    } finally {
      this.#stopping = false;
    }
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  #schedule(ms: number): void {
    if (!this.#started) return;
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    // Not inside the async context of a caller's transaction (wake() may be called from one).
    this.#pollTimer = detached(() =>
      setTimeout(() => {
        this.#pollTimer = undefined;
        void this.#poll();
      }, ms),
    );
  }

  async #poll(): Promise<void> {
    if (!this.#started) return;
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    this.#polling = true;
    try {
      await this.#claimAndLaunch(false, false);
      const now = this.clock.now();
      if (now - this.#lastPurge >= this.purgeEveryMs) {
        this.#lastPurge = now;
        const purged = await this.purgeFinished();
        if (purged > 0) this.#log.debug?.({ owner: this.owner, purged }, 'purged finished tasks');
      }
    } catch (err) {
      this.#log.error({ owner: this.owner, err: errorText(err) }, 'task poll failed');
    } finally {
      this.#polling = false;
      const again = this.#pollAgain;
      this.#pollAgain = false;
      this.#schedule(again ? 0 : this.pollMs);
    }
  }

  #running(kind: string): number {
    let n = 0;
    for (const e of this.#inFlight.values()) if (e.task.kind === kind) n++;
    return n;
  }

  /**
   * Claims, per registered kind with free slots, up to that many due tasks, and starts their
   * handlers. Tracked in #claims until the executions are in #inFlight, so stop() cannot miss a
   * task claimed while it was stopping.
   */
  async #claimAndLaunch(includeManual: boolean, forceSweep: boolean): Promise<Execution[]> {
    const p = this.#claim(includeManual, forceSweep).then((tasks) => tasks.map((t) => this.#launch(t)));
    this.#claims.add(p);
    try {
      return await p;
    } finally {
      this.#claims.delete(p);
    }
  }

  async #claim(includeManual: boolean, forceSweep: boolean): Promise<TaskRow[]> {
    const db = this.store.db;
    const now = this.clock.now();
    if (forceSweep || now - this.#lastSweep >= this.leaseMs / 2) {
      this.#lastSweep = now;
      await this.#sweepExhausted(now);
    }
    const free = new Map<string, number>();
    for (const reg of this.#handlers.values()) {
      const n = reg.concurrency - this.#running(reg.kind);
      if (n > 0) free.set(reg.kind, n);
    }
    if (free.size === 0) return [];
    const claimable = (eb: ExpressionBuilder<CoreDatabase, 'tasks'>) =>
      eb.or([
        eb.and([
          eb('state', '=', 'queued'),
          includeManual ? eb.or([eb('due_at', '<=', now), eb('due_at', '>=', MANUAL_DUE_AT)]) : eb('due_at', '<=', now),
        ]),
        eb.and([eb('state', '=', 'running'), eb('lease_expires_at', '<', now), eb('attempts', '<', eb.ref('max_attempts'))]),
      ]);
    // One cheap query tells which kinds have work; the claims follow only for those.
    const due = await db.selectFrom('tasks').select('kind').distinct().where(claimable).execute();
    const out: TaskRow[] = [];
    for (const { kind } of due) {
      const n = free.get(kind);
      const reg = this.#handlers.get(kind);
      if (n === undefined || reg === undefined) continue;
      let candidates = db
        .selectFrom('tasks')
        .select('id')
        .where('kind', '=', kind)
        .where(claimable)
        .orderBy('due_at')
        .orderBy('id')
        .limit(n);
      if (this.store.dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
      const rows = await withRetry(() =>
        db
          .updateTable('tasks')
          .set((eb) => ({
            state: 'running',
            lease_owner: this.owner,
            lease_expires_at: now + reg.leaseMs,
            attempts: eb('attempts', '+', 1),
          }))
          .where('id', 'in', candidates)
          .returningAll()
          .execute(),
      );
      out.push(...rows.map(normalise));
    }
    return out.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
  }

  /** Tasks whose lease expired after their last allowed attempt: failed, not run again. */
  async #sweepExhausted(now: number): Promise<void> {
    const res = await withRetry(() =>
      this.store.db
        .updateTable('tasks')
        .set({
          state: 'failed',
          lease_owner: null,
          lease_expires_at: null,
          finished_at: now,
          last_error: 'lease expired during the last allowed attempt (runner crashed or stalled)',
        })
        .where('state', '=', 'running')
        .where('lease_expires_at', '<', now)
        .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
        .executeTakeFirst(),
    );
    if (Number(res.numUpdatedRows) > 0) {
      this.#log.warn({ owner: this.owner, count: Number(res.numUpdatedRows) }, 'tasks failed: lease expired on last attempt');
    }
  }

  #launch(task: TaskRow): Execution {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const exec: Execution = {
      task,
      reg: this.#handlers.get(task.kind)!,
      controller: new AbortController(),
      released: false,
      leaseLost: false,
      completed: false,
      canceled: false,
      timedOut: false,
      renewing: false,
      settled,
      settle,
    };
    // We re-claimed a task we are still running (our own lease expired, e.g. renewals failed during a
    // database outage): the old run is superseded; it must not record anything.
    const previous = this.#inFlight.get(task.id);
    if (previous !== undefined) {
      previous.leaseLost = true;
      this.#stopTimers(previous);
      previous.controller.abort(new LeaseLostError(task.id));
    }
    this.#inFlight.set(task.id, exec);
    void this.#execute(exec).finally(() => {
      this.#stopTimers(exec);
      if (this.#inFlight.get(task.id) === exec) this.#inFlight.delete(task.id);
      exec.settle();
      // A slot of this kind is free: more may be due.
      this.wake();
    });
    return exec;
  }

  /** Still ours to write? (not released, lease not lost, not ended by a timeout) */
  #live(exec: Execution): boolean {
    return !exec.released && !exec.leaseLost;
  }

  /** The lease check every effect transaction starts with: a write on the task's row, as this runner. */
  async #guard(trx: Trx, exec: Execution, done: boolean): Promise<void> {
    if (!this.#live(exec)) throw new LeaseLostError(exec.task.id);
    const now = this.clock.now();
    const res = await trx
      .updateTable('tasks')
      .set(
        done
          ? { state: 'done', finished_at: now, lease_owner: null, lease_expires_at: null }
          : { lease_expires_at: now + exec.reg.leaseMs },
      )
      .where('id', '=', exec.task.id)
      .where('lease_owner', '=', this.owner)
      .where('state', '=', 'running')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      exec.leaseLost = true;
      throw new LeaseLostError(exec.task.id);
    }
  }

  #context(exec: Execution): TaskContext {
    const { task } = exec;
    return {
      taskId: task.id,
      attempt: task.attempts,
      signal: exec.controller.signal,
      tx: (fn) =>
        withRetry(() =>
          this.store.tx(async (trx) => {
            await this.#guard(trx, exec, false);
            return fn(trx);
          }),
        ),
      complete: async (fn) => {
        if (exec.completed) throw new Error(`task ${task.id}: complete() was already called`);
        const result = await withRetry(() =>
          this.store.tx(async (trx) => {
            // First: the row is locked and marked done, so no other runner can claim it meanwhile.
            await this.#guard(trx, exec, true);
            return fn ? await fn(trx) : undefined;
          }),
        );
        exec.completed = true;
        return result;
      },
      progress: async (value) => {
        if (!this.#live(exec)) throw new LeaseLostError(task.id);
        await this.store.db
          .updateTable('tasks')
          .set({ progress: JSON.stringify(value ?? null) })
          .where('id', '=', task.id)
          .where('lease_owner', '=', this.owner)
          .where('state', '=', 'running')
          .execute();
      },
    };
  }

  /** Runs the handler and records the outcome. Never rejects. */
  async #execute(exec: Execution): Promise<void> {
    const { task, reg } = exec;
    try {
      let payload: unknown;
      try {
        payload = JSON.parse(task.payload);
      } catch (err) {
        await this.#finish(exec, { state: 'failed', message: `invalid payload JSON: ${errorText(err)}` });
        return;
      }
      if (reg.check && !reg.check.Check(payload)) {
        const e = reg.check.Errors(payload).First();
        await this.#finish(exec, { state: 'failed', message: `invalid payload${e ? ` at ${e.path || '/'}: ${e.message}` : ''}` });
        return;
      }
      this.#startTimers(exec);
      let outcome: { ok: true } | { ok: false; err: unknown };
      try {
        await Promise.resolve().then(() => (reg.handler as TaskHandler<unknown>)(payload, this.#context(exec)));
        outcome = { ok: true };
      } catch (err) {
        outcome = { ok: false, err };
      }
      this.#stopTimers(exec);
      if (!this.#live(exec) || outcome.ok && exec.completed) return;
      if (exec.canceled && !exec.completed) await this.#finish(exec, { state: 'canceled', message: 'canceled' });
      else if (exec.timedOut) await this.#finish(exec, { state: 'failed', message: `timed out after ${reg.timeoutMs} ms` });
      else if (outcome.ok) await this.#finish(exec, { state: 'done' });
      else if (outcome.err instanceof LeaseLostError) this.#lostAtCompletion(exec);
      else await this.#fail(exec, errorText(outcome.err), outcome.err instanceof PermanentTaskError);
    } catch (err) {
      this.#log.error({ owner: this.owner, taskId: task.id, kind: task.kind, err: errorText(err) }, 'task bookkeeping failed');
    }
  }

  /** Records a final state, guarded by the lease. */
  async #finish(exec: Execution, end: { state: 'done' | 'failed' | 'canceled'; message?: string }): Promise<void> {
    const now = this.clock.now();
    const res = await withRetry(() =>
      this.store.db
        .updateTable('tasks')
        .set({
          state: end.state,
          finished_at: now,
          lease_owner: null,
          lease_expires_at: null,
          ...(end.message !== undefined ? { last_error: end.message } : {}),
        })
        .where('id', '=', exec.task.id)
        .where('lease_owner', '=', this.owner)
        .where('state', '=', 'running')
        .executeTakeFirst(),
    );
    if (Number(res.numUpdatedRows) === 0) this.#lostAtCompletion(exec);
    else if (end.state === 'failed') {
      this.#log.error({ owner: this.owner, taskId: exec.task.id, kind: exec.task.kind, err: end.message }, 'task failed permanently');
    }
  }

  async #fail(exec: Execution, message: string, permanent: boolean): Promise<void> {
    const { task, reg } = exec;
    const retry = !permanent && task.attempts < task.max_attempts;
    if (!retry) return this.#finish(exec, { state: 'failed', message });
    const now = this.clock.now();
    const backoff = Math.max(0, Math.round((reg.backoffMs ?? defaultBackoffMs)(task.attempts)));
    const res = await withRetry(() =>
      this.store.db
        .updateTable('tasks')
        .set({ state: 'queued', due_at: now + backoff, lease_owner: null, lease_expires_at: null, last_error: message })
        .where('id', '=', task.id)
        .where('lease_owner', '=', this.owner)
        .where('state', '=', 'running')
        .executeTakeFirst(),
    );
    if (Number(res.numUpdatedRows) === 0) {
      this.#lostAtCompletion(exec);
      return;
    }
    this.#log.warn(
      { owner: this.owner, taskId: task.id, kind: task.kind, attempt: task.attempts, err: message, retryInMs: backoff },
      'task failed; will retry',
    );
  }

  #lostAtCompletion(exec: Execution): void {
    this.#log.warn(
      { owner: this.owner, taskId: exec.task.id, kind: exec.task.kind },
      'task lease was lost before completion; outcome not recorded (another runner owns it)',
    );
  }

  #startTimers(exec: Execution): void {
    const every = Math.max(1, Math.floor(exec.reg.leaseMs / 3));
    // Referenced on purpose: a task in progress is work in progress. stop() clears it.
    exec.renewTimer = detached(() => setInterval(() => void this.#renew(exec), every));
    const timeoutMs = exec.reg.timeoutMs;
    if (timeoutMs !== undefined) {
      exec.timeoutTimer = detached(() =>
        setTimeout(() => {
          exec.timedOut = true;
          exec.controller.abort(new TaskTimeoutError(exec.task.id, timeoutMs));
          // A handler that ignores its signal: the task fails anyway after a grace period, and
          // nothing the handler does afterwards is recorded.
          exec.timeoutTimer = setTimeout(() => {
            if (!this.#live(exec) || exec.completed) return;
            void this.#finish(exec, { state: 'failed', message: `timed out after ${timeoutMs} ms` }).then(() => {
              exec.leaseLost = true;
              this.#stopTimers(exec);
            });
          }, TIMEOUT_GRACE_MS);
        }, timeoutMs),
      );
    }
  }

  #stopTimers(exec: Execution): void {
    if (exec.renewTimer !== undefined) clearInterval(exec.renewTimer);
    if (exec.timeoutTimer !== undefined) clearTimeout(exec.timeoutTimer);
    exec.renewTimer = undefined;
    exec.timeoutTimer = undefined;
  }

  async #renew(exec: Execution): Promise<void> {
    if (exec.renewing || !this.#live(exec)) return;
    exec.renewing = true;
    try {
      const now = this.clock.now();
      const row = await this.store.db
        .updateTable('tasks')
        .set({ lease_expires_at: now + exec.reg.leaseMs })
        .where('id', '=', exec.task.id)
        .where('lease_owner', '=', this.owner)
        .where('state', '=', 'running')
        .returning('cancel_requested')
        .executeTakeFirst();
      if (row === undefined && this.#live(exec) && exec.renewTimer !== undefined) {
        exec.leaseLost = true;
        this.#stopTimers(exec);
        this.#log.warn(
          { owner: this.owner, taskId: exec.task.id, kind: exec.task.kind },
          'task lease lost (expired and claimed elsewhere); aborting handler',
        );
        exec.controller.abort(new LeaseLostError(exec.task.id));
      } else if (row !== undefined && Number(row.cancel_requested) === 1 && !exec.canceled) {
        exec.canceled = true;
        exec.controller.abort(new TaskCanceledError(exec.task.id));
      }
    } catch (err) {
      this.#log.warn({ owner: this.owner, taskId: exec.task.id, err: errorText(err) }, 'lease renewal failed; will retry');
    } finally {
      exec.renewing = false;
    }
  }
}
