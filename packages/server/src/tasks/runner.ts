/**
 * Durable task runner: a table of work items (`tasks`) with leases, retries with backoff and an
 * injectable clock.
 *
 * Life of a task:
 *   queued ──claim──► running ──handler ok──► done
 *                        │ └────handler throws, attempts < max──► queued (due_at = now + backoff)
 *                        │ └────handler throws, attempts = max (or PermanentTaskError)──► failed
 *                        └─lease expires (owner crashed)──► claimable again by any runner
 *
 * - **Claiming** sets `state='running'`, `lease_owner=<this runner>`, `lease_expires_at=now+leaseMs` and
 *   increments `attempts`, in one statement per batch:
 *   `UPDATE tasks SET … WHERE id IN (SELECT id FROM tasks WHERE <due or lease expired> ORDER BY due_at
 *   LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING *`. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several
 *   processes claim disjoint batches. On SQLite the same statement, run in autocommit mode, is its own
 *   write transaction: SQLite takes the write lock *before* evaluating the sub-select (exactly what
 *   `BEGIN IMMEDIATE` would do) and releases it when the statement ends. We deliberately do not wrap it
 *   in an explicit `BEGIN IMMEDIATE … COMMIT` spanning `await`s: better-sqlite3 waits for a busy lock
 *   synchronously, so two connections in one process (or one process's runner and its request handlers)
 *   would block the event loop on each other until busy_timeout.
 * - **Leases** are renewed every `leaseMs / 3` while the handler runs. A runner that finds its lease
 *   taken (renewal updates no row) aborts the handler's signal and writes nothing; every completion
 *   write is guarded by `lease_owner = <this runner>`, so a runner whose lease was stolen can never
 *   overwrite the new owner's outcome.
 * - **Attempts** count claims. A task whose lease expired after its last allowed attempt is not run
 *   again: it is marked failed (a task that crashes its process every time must not loop forever).
 * - **Times** (`due_at`, leases, `finished_at`) come from `clock.now()`; waiting (polling, renewal,
 *   stop timeout) uses real timers, all cleared by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { Db, TasksTable } from '../store/schema.js';
import type { Clock } from './clock.js';
import { PermanentTaskError } from './errors.js';
import { MANUAL_DUE_AT } from './lifecycle.js';

export { PermanentTaskError } from './errors.js';
/** The dev-profile `probe` kind (see probe.ts), re-exported for the composition root. */
export { registerProbe, PROBE_KIND, type ProbePayload } from './probe.js';

export interface TaskContext {
  taskId: number;
  /** 1 for the first run, 2 for the first retry, … */
  attempt: number;
  /** Aborted when the runner stops (after its grace period) or loses the task's lease. */
  signal: AbortSignal;
}

export type TaskHandler<P = unknown> = (payload: P, ctx: TaskContext) => Promise<void>;

export interface RegisterOptions {
  /** Attempts before the task is marked failed; stored on the task at enqueue time. Default: runner's. */
  maxAttempts?: number;
  /** Delay before retry number `attempt` (1 after the first failure). Default: `defaultBackoffMs`. */
  backoffMs?: (attempt: number) => number;
}

export interface EnqueueOptions {
  /** When the task becomes due (ms since the epoch, see `clock`); default now. */
  dueAt?: number;
  maxAttempts?: number;
  /**
   * A Kysely transaction: the task is inserted in it, so a resource row and the task that advances it
   * commit (or roll back) together. The runner cannot see the task before the commit: call `wake()`
   * after committing to have it picked up without waiting for the next poll.
   */
  db?: Db;
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
  /** Handlers running at once (poll loop and runDue each). Default 4. */
  concurrency?: number;
  /** Default maximum attempts for kinds registered without one. Default 5. */
  maxAttempts?: number;
  /** How long `stop()` waits for in-flight handlers by default. Default 10 000. */
  stopTimeoutMs?: number;
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

export type TaskState = TasksTable['state'];

/** A task row with numbers normalised. */
export type TaskRow = Selectable<TasksTable>;


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

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

function normalise(raw: TaskRow): TaskRow {
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
  handler: TaskHandler<never>;
  maxAttempts?: number;
  backoffMs?: (attempt: number) => number;
}

interface Execution {
  task: TaskRow;
  controller: AbortController;
  /** Lease handed back by stop(): write nothing. */
  released: boolean;
  /** Lease taken by another runner: write nothing. */
  leaseLost: boolean;
  renewTimer?: NodeJS.Timeout;
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
  /** Free slots that justify a new claim while other handlers still run. */
  readonly #refill: number;

  constructor(opts: TaskRunnerOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.owner = opts.owner;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 250;
    this.concurrency = opts.concurrency ?? 4;
    this.defaultMaxAttempts = opts.maxAttempts ?? 5;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    this.#log = opts.logger ?? consoleLogger;
    this.#refill = Math.max(1, Math.ceil(this.concurrency / 2));
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
   * **Handlers must be idempotent.** A task runs at least once, not exactly once: if its runner crashes
   * (or stalls past its lease) after the handler's effects committed but before the task was marked
   * done, another runner claims it again. Each handler therefore checks the resource's current state
   * before acting (e.g. "provision the box only if it is still CREATING") so that a repeated run changes
   * nothing twice. Handlers should also honour `ctx.signal`: it is aborted when the runner stops or loses
   * the lease, and whatever the handler does afterwards is not recorded.
   *
   * A handler that throws is retried after `backoffMs(attempt)` until `maxAttempts` runs have failed;
   * throw `PermanentTaskError` to fail at once.
   */
  register<P = unknown>(kind: string, handler: TaskHandler<P>, opts: RegisterOptions = {}): void {
    if (this.#handlers.has(kind)) throw new Error(`task kind ${JSON.stringify(kind)} is already registered`);
    if (opts.maxAttempts !== undefined && (!Number.isSafeInteger(opts.maxAttempts) || opts.maxAttempts < 1)) {
      throw new Error(`task kind ${JSON.stringify(kind)}: maxAttempts must be a positive integer`);
    }
    this.#handlers.set(kind, {
      handler: handler,
      ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
      ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    });
  }

  has(kind: string): boolean {
    return this.#handlers.has(kind);
  }

  /** Inserts a task (in `opts.db` if given) and returns its id. */
  async enqueue(kind: string, payload: unknown, opts: EnqueueOptions = {}): Promise<number> {
    const now = this.clock.now();
    const dueAt = opts.dueAt ?? now;
    const maxAttempts = opts.maxAttempts ?? this.#handlers.get(kind)?.maxAttempts ?? this.defaultMaxAttempts;
    if (!Number.isSafeInteger(dueAt) || dueAt < 0) throw new Error(`enqueue ${kind}: dueAt must be an integer time`);
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`enqueue ${kind}: maxAttempts must be a positive integer`);
    }
    const db = opts.db ?? this.store.db;
    const row = await db
      .insertInto('tasks')
      .values({
        kind,
        payload: JSON.stringify(payload ?? null),
        state: 'queued',
        attempts: 0,
        max_attempts: maxAttempts,
        due_at: dueAt,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        created_at: now,
        finished_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (opts.db === undefined && dueAt <= now) this.wake();
    return Number(row.id);
  }

  /** Reads one task (numbers normalised), or undefined. */
  async get(id: number): Promise<TaskRow | undefined> {
    const row = await this.store.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : normalise(row);
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
   * Claims and runs every task due now (and manual ones with `includeManual`), `concurrency` at a time,
   * until nothing is due and nothing is still running in this process (runs the poll loop started
   * are awaited too); tasks that handlers enqueue as due are run too. Returns the number of handler runs (including failed ones). Works whether or not the
   * poll loop is started. A claim error is thrown after the runs in progress have settled.
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
      const free = this.concurrency - mine.size;
      // Claim in batches (each claim is a write): when half the slots are free, or all of them.
      if (mine.size === 0 || free >= this.#refill) {
        let started: Execution[];
        try {
          started = await this.#claimAndLaunch(free, includeManual, first);
        } catch (err) {
          failure = err;
          break;
        }
        for (const exec of started) mine.add(exec);
        ran += started.length;
        if (started.length === 0 && mine.size === 0) break;
      }
      // Nothing more due right now, or no free slot: wait for a run to end (it may enqueue more work).
      await waitOne();
    }
    while (mine.size > 0) await waitOne();
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
    // Tasks the poll loop claimed meanwhile are waited for too, so that when runDue returns everything
    // that was due has run; what they enqueue as due is run in the next round.
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
          this.#stopRenewal(e);
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
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      void this.#poll();
    }, ms);
  }

  async #poll(): Promise<void> {
    if (!this.#started) return;
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    this.#polling = true;
    try {
      const free = this.concurrency - this.#inFlight.size;
      if (free > 0) {
        await this.#claimAndLaunch(free, false, false);
        // A full batch: more may be due; poll again as soon as a slot frees (see #launch).
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

  /**
   * Claims up to `n` tasks and starts their handlers. Tracked in #claims until the executions are in
   * #inFlight, so stop() cannot miss a task claimed while it was stopping.
   */
  async #claimAndLaunch(n: number, includeManual: boolean, forceSweep: boolean): Promise<Execution[]> {
    const p = this.#claim(n, includeManual, forceSweep).then((tasks) => tasks.map((t) => this.#launch(t)));
    this.#claims.add(p);
    try {
      return await p;
    } finally {
      this.#claims.delete(p);
    }
  }

  async #claim(n: number, includeManual: boolean, forceSweep: boolean): Promise<TaskRow[]> {
    const db = this.store.db;
    const now = this.clock.now();
    if (forceSweep || now - this.#lastSweep >= this.leaseMs / 2) {
      this.#lastSweep = now;
      await this.#sweepExhausted(now);
    }
    let candidates = db
      .selectFrom('tasks')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([
            eb('state', '=', 'queued'),
            includeManual ? eb.or([eb('due_at', '<=', now), eb('due_at', '>=', MANUAL_DUE_AT)]) : eb('due_at', '<=', now),
          ]),
          eb.and([
            eb('state', '=', 'running'),
            eb('lease_expires_at', '<', now),
            eb('attempts', '<', eb.ref('max_attempts')),
          ]),
        ]),
      )
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
          lease_expires_at: now + this.leaseMs,
          attempts: eb('attempts', '+', 1),
        }))
        .where('id', 'in', candidates)
        .returningAll()
        .execute(),
    );
    return rows.map(normalise).sort((a, b) => a.due_at - b.due_at || a.id - b.id);
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
      controller: new AbortController(),
      released: false,
      leaseLost: false,
      renewing: false,
      settled,
      settle,
    };
    // We re-claimed a task we are still running (our own lease expired, e.g. renewals failed during a
    // database outage): the old run is superseded; it must not record anything.
    const previous = this.#inFlight.get(task.id);
    if (previous !== undefined) {
      previous.leaseLost = true;
      this.#stopRenewal(previous);
      previous.controller.abort(new Error('task lease lost (re-claimed after expiry)'));
    }
    this.#inFlight.set(task.id, exec);
    void this.#execute(exec).finally(() => {
      this.#stopRenewal(exec);
      if (this.#inFlight.get(task.id) === exec) this.#inFlight.delete(task.id);
      exec.settle();
      // Poll again once enough slots are free to make a claim worthwhile (more may be due).
      if (this.concurrency - this.#inFlight.size >= this.#refill) this.wake();
    });
    return exec;
  }

  /** Runs the handler and records the outcome. Never rejects. */
  async #execute(exec: Execution): Promise<void> {
    const { task } = exec;
    try {
      const reg = this.#handlers.get(task.kind);
      if (reg === undefined) {
        await this.#fail(exec, `no handler registered for task kind ${JSON.stringify(task.kind)}`, true, undefined);
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(task.payload);
      } catch (err) {
        await this.#fail(exec, `invalid payload JSON: ${errorText(err)}`, true, reg);
        return;
      }
      this.#startRenewal(exec);
      let outcome: { ok: true } | { ok: false; err: unknown };
      try {
        await Promise.resolve().then(() =>
          (reg.handler as TaskHandler<unknown>)(payload, {
            taskId: task.id,
            attempt: task.attempts,
            signal: exec.controller.signal,
          }),
        );
        outcome = { ok: true };
      } catch (err) {
        outcome = { ok: false, err };
      }
      this.#stopRenewal(exec);
      if (exec.released || exec.leaseLost) return;
      if (outcome.ok) await this.#complete(exec);
      else await this.#fail(exec, errorText(outcome.err), outcome.err instanceof PermanentTaskError, reg);
    } catch (err) {
      this.#log.error({ owner: this.owner, taskId: task.id, kind: task.kind, err: errorText(err) }, 'task bookkeeping failed');
    }
  }

  async #complete(exec: Execution): Promise<void> {
    const now = this.clock.now();
    const res = await withRetry(() =>
      this.store.db
        .updateTable('tasks')
        .set({ state: 'done', finished_at: now, lease_owner: null, lease_expires_at: null })
        .where('id', '=', exec.task.id)
        .where('lease_owner', '=', this.owner)
        .where('state', '=', 'running')
        .executeTakeFirst(),
    );
    if (Number(res.numUpdatedRows) === 0) this.#lostAtCompletion(exec);
  }

  async #fail(exec: Execution, message: string, permanent: boolean, reg: Registration | undefined): Promise<void> {
    const { task } = exec;
    if (exec.released || exec.leaseLost) return;
    const now = this.clock.now();
    const retry = !permanent && task.attempts < task.max_attempts;
    const backoff = retry ? Math.max(0, Math.round((reg?.backoffMs ?? defaultBackoffMs)(task.attempts))) : 0;
    const res = await withRetry(() =>
      this.store.db
        .updateTable('tasks')
        .set(
          retry
            ? { state: 'queued', due_at: now + backoff, lease_owner: null, lease_expires_at: null, last_error: message }
            : { state: 'failed', finished_at: now, lease_owner: null, lease_expires_at: null, last_error: message },
        )
        .where('id', '=', task.id)
        .where('lease_owner', '=', this.owner)
        .where('state', '=', 'running')
        .executeTakeFirst(),
    );
    if (Number(res.numUpdatedRows) === 0) {
      this.#lostAtCompletion(exec);
      return;
    }
    const info = { owner: this.owner, taskId: task.id, kind: task.kind, attempt: task.attempts, err: message };
    if (retry) this.#log.warn({ ...info, retryInMs: backoff }, 'task failed; will retry');
    else this.#log.error(info, 'task failed permanently');
  }

  #lostAtCompletion(exec: Execution): void {
    this.#log.warn(
      { owner: this.owner, taskId: exec.task.id, kind: exec.task.kind },
      'task lease was lost before completion; outcome not recorded (another runner owns it)',
    );
  }

  #startRenewal(exec: Execution): void {
    const every = Math.max(1, Math.floor(this.leaseMs / 3));
    // Referenced on purpose: a task in progress is work in progress. stop() clears it.
    exec.renewTimer = setInterval(() => void this.#renew(exec), every);
  }

  #stopRenewal(exec: Execution): void {
    if (exec.renewTimer !== undefined) clearInterval(exec.renewTimer);
    exec.renewTimer = undefined;
  }

  async #renew(exec: Execution): Promise<void> {
    if (exec.renewing || exec.released || exec.leaseLost) return;
    exec.renewing = true;
    try {
      const now = this.clock.now();
      const res = await this.store.db
        .updateTable('tasks')
        .set({ lease_expires_at: now + this.leaseMs })
        .where('id', '=', exec.task.id)
        .where('lease_owner', '=', this.owner)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0 && !exec.released && exec.renewTimer !== undefined) {
        exec.leaseLost = true;
        this.#stopRenewal(exec);
        this.#log.warn(
          { owner: this.owner, taskId: exec.task.id, kind: exec.task.kind },
          'task lease lost (expired and claimed elsewhere); aborting handler',
        );
        exec.controller.abort(new Error('task lease lost'));
      }
    } catch (err) {
      this.#log.warn({ owner: this.owner, taskId: exec.task.id, err: errorText(err) }, 'lease renewal failed; will retry');
    } finally {
      exec.renewing = false;
    }
  }
}
