import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock, systemClock } from '../../src/tasks/clock.js';
import { MANUAL_DUE_AT } from '../../src/tasks/lifecycle.js';
import {
  PermanentTaskError,
  TaskRunner,
  defaultBackoffMs,
  type TaskRunnerOptions,
} from '../../src/tasks/runner.js';
import { BACKEND, gate, openSharedDb, quietLogger, untilAborted, waitFor, type SharedDb } from './_shared.js';

const T0 = Date.UTC(2030, 0, 1);

async function withDb(name: string, fn: (db: SharedDb) => Promise<void>): Promise<void> {
  const db = await openSharedDb(name);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

function runner(db: SharedDb['store'], owner: string, extra: Partial<TaskRunnerOptions> = {}): TaskRunner {
  return new TaskRunner({ store: db, clock: extra.clock ?? new ManualClock(T0), owner, logger: quietLogger(), ...extra });
}

test(`[${BACKEND}] enqueue + runDue runs a task exactly once and records completion`, () =>
  withDb('once', async ({ store }) => {
    const clock = new ManualClock(T0);
    const r = runner(store, 'A', { clock });
    const seen: Array<{ payload: unknown; taskId: number; attempt: number }> = [];
    r.register<{ n: number }>('count', async (payload, ctx) => {
      seen.push({ payload, taskId: ctx.taskId, attempt: ctx.attempt });
    });
    const id = await r.enqueue('count', { n: 7 });
    assert.equal(typeof id, 'number');
    clock.advance(5);
    assert.equal(await r.runDue(), 1);
    assert.deepEqual(seen, [{ payload: { n: 7 }, taskId: id, attempt: 1 }]);
    const t = await r.get(id);
    assert.equal(t?.state, 'done');
    assert.equal(t?.attempts, 1);
    assert.equal(t?.finished_at, T0 + 5);
    assert.equal(t?.lease_owner, null);
    assert.equal(t?.lease_expires_at, null);
    assert.equal(await r.runDue(), 0);
    assert.equal(seen.length, 1);
  }));

test(`[${BACKEND}] tasks due later wait; manual tasks run only with includeManual`, () =>
  withDb('due', async ({ store }) => {
    const clock = new ManualClock(T0);
    const r = runner(store, 'A', { clock });
    const ran: string[] = [];
    r.register<string>('say', async (p) => {
      ran.push(p);
    });
    await r.enqueue('say', 'later', { dueAt: T0 + 1000 });
    await r.enqueue('say', 'manual', { dueAt: MANUAL_DUE_AT });
    assert.equal(await r.runDue(), 0);
    clock.advance(1000);
    assert.equal(await r.runDue(), 1);
    assert.deepEqual(ran, ['later']);
    assert.equal(await r.runDue(), 0);
    assert.equal(await r.runDue({ includeManual: true }), 1);
    assert.deepEqual(ran, ['later', 'manual']);
  }));

test(`[${BACKEND}] runDue also runs due tasks that handlers enqueue`, () =>
  withDb('chain', async ({ store }) => {
    const r = runner(store, 'A');
    const ran: number[] = [];
    r.register<number>('step', async (n) => {
      ran.push(n);
      if (n < 5) await r.enqueue('step', n + 1);
    });
    await r.enqueue('step', 1);
    assert.equal(await r.runDue(), 5);
    assert.deepEqual(ran, [1, 2, 3, 4, 5]);
  }));

test(`[${BACKEND}] a failing task is retried with backoff, then succeeds`, () =>
  withDb('retry', async ({ store }) => {
    const clock = new ManualClock(T0);
    const r = runner(store, 'A', { clock });
    const attempts: number[] = [];
    r.register(
      'flaky',
      async (_p, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
      },
      { backoffMs: (attempt) => 1000 * attempt },
    );
    const id = await r.enqueue('flaky', null);
    assert.equal(await r.runDue(), 1);
    let t = await r.get(id);
    assert.equal(t?.state, 'queued');
    assert.equal(t?.attempts, 1);
    assert.equal(t?.due_at, T0 + 1000);
    assert.equal(t?.last_error, 'Error: boom 1');
    assert.equal(t?.lease_owner, null);

    assert.equal(await r.runDue(), 0, 'not due before its backoff');
    clock.advance(999);
    assert.equal(await r.runDue(), 0);
    clock.advance(1);
    assert.equal(await r.runDue(), 1);
    t = await r.get(id);
    assert.equal(t?.state, 'queued');
    assert.equal(t?.due_at, T0 + 1000 + 2000);

    clock.advance(2000);
    assert.equal(await r.runDue(), 1);
    t = await r.get(id);
    assert.equal(t?.state, 'done');
    assert.equal(t?.attempts, 3);
    assert.equal(t?.finished_at, T0 + 3000);
    assert.deepEqual(attempts, [1, 2, 3]);
  }));

test('default backoff: 1 s · 2^(n-1), capped at 60 s, ±20 % jitter', () => {
  for (let i = 0; i < 200; i++) {
    const a1 = defaultBackoffMs(1);
    assert.ok(a1 >= 800 && a1 <= 1200, String(a1));
    const a3 = defaultBackoffMs(3);
    assert.ok(a3 >= 3200 && a3 <= 4800, String(a3));
    const a20 = defaultBackoffMs(20);
    assert.ok(a20 >= 48_000 && a20 <= 72_000, String(a20));
  }
});

test(`[${BACKEND}] max attempts reached → failed; PermanentTaskError fails at once; a kind this runner lacks stays queued for another`, () =>
  withDb('maxatt', async ({ store }) => {
    const clock = new ManualClock(T0);
    const r = runner(store, 'A', { clock });
    let runs = 0;
    r.register(
      'always',
      async () => {
        runs++;
        throw new Error('nope');
      },
      { maxAttempts: 3, backoffMs: () => 0 },
    );
    let permanentRuns = 0;
    r.register('permanent', async () => {
      permanentRuns++;
      throw new PermanentTaskError('resource is gone');
    });
    const a = await r.enqueue('always', {});
    const b = await r.enqueue('nobody-handles-this', {});
    const c = await r.enqueue('permanent', {});
    const d = await r.enqueue('always', {}, { maxAttempts: 1 });
    // backoff 0: runDue keeps running `a` until it has used its 3 attempts.
    assert.equal(await r.runDue(), 3 + 1 + 1);
    assert.equal(runs, 4);
    assert.equal(permanentRuns, 1);

    const ta = await r.get(a);
    assert.equal(ta?.state, 'failed');
    assert.equal(ta?.attempts, 3);
    assert.equal(ta?.max_attempts, 3);
    assert.equal(ta?.last_error, 'Error: nope');
    assert.equal(ta?.finished_at, T0);

    // A process that has not registered a kind never claims it: it waits for one that has.
    const tb = await r.get(b);
    assert.equal(tb?.state, 'queued');
    assert.equal(tb?.attempts, 0);

    const tc = await r.get(c);
    assert.equal(tc?.state, 'failed');
    assert.equal(tc?.attempts, 1);
    assert.equal(tc?.last_error, 'PermanentTaskError: resource is gone');

    const td = await r.get(d);
    assert.equal(td?.state, 'failed');
    assert.equal(td?.attempts, 1);
    assert.equal(await r.runDue(), 0);
  }));

test(`[${BACKEND}] an expired lease is re-claimed by another runner; the old owner cannot overwrite`, () =>
  withDb('lease', async (shared) => {
    const storeB = await shared.another();
    const clock = new ManualClock(T0);
    const leaseMs = 30_000;
    const logA = quietLogger();
    const a = new TaskRunner({ store: shared.store, clock, owner: 'A', leaseMs, logger: logA });
    const b = new TaskRunner({ store: storeB, clock, owner: 'B', leaseMs, logger: quietLogger() });
    const release = gate();
    const started = gate();
    // A "crashes": its handler hangs until the test releases it, then reports a failure.
    a.register('job', async () => {
      started.open();
      await release.promise;
      throw new Error('A finished late');
    });
    const ranBy: string[] = [];
    b.register('job', async (_p, ctx) => {
      ranBy.push(`B#${ctx.attempt}`);
    });
    const id = await a.enqueue('job', {});
    const aRun = a.runDue();
    await started.promise;
    let t = await a.get(id);
    assert.equal(t?.state, 'running');
    assert.equal(t?.lease_owner, 'A');
    assert.equal(t?.lease_expires_at, T0 + leaseMs);

    assert.equal(await b.runDue(), 0, 'the lease is still valid');
    clock.advance(leaseMs); // lease_expires_at == now: not yet expired
    assert.equal(await b.runDue(), 0);
    clock.advance(1);
    assert.equal(await b.runDue(), 1);
    assert.deepEqual(ranBy, ['B#2']);
    t = await b.get(id);
    assert.equal(t?.state, 'done');
    assert.equal(t?.attempts, 2);
    assert.equal(t?.finished_at, T0 + leaseMs + 1);

    // A wakes up and fails: its write is guarded by lease_owner = 'A' and changes nothing.
    clock.advance(10);
    release.open();
    assert.equal(await aRun, 1);
    t = await a.get(id);
    assert.equal(t?.state, 'done');
    assert.equal(t?.last_error, null);
    assert.equal(t?.finished_at, T0 + leaseMs + 1);
    assert.ok(logA.lines.some((l) => l.includes('lease was lost')), logA.lines.join('\n'));
  }));

test(`[${BACKEND}] a lease that expires during the last allowed attempt fails the task instead of re-running it`, () =>
  withDb('exhaust', async (shared) => {
    const storeB = await shared.another();
    const clock = new ManualClock(T0);
    const a = new TaskRunner({ store: shared.store, clock, owner: 'A', leaseMs: 30_000, logger: quietLogger() });
    const b = new TaskRunner({ store: storeB, clock, owner: 'B', leaseMs: 30_000, logger: quietLogger() });
    const started = gate();
    a.register('once', async (_p, ctx) => {
      started.open();
      await untilAborted(ctx.signal);
    });
    let bRuns = 0;
    b.register('once', async () => {
      bRuns++;
    });
    const id = await a.enqueue('once', {}, { maxAttempts: 1 });
    const aRun = a.runDue();
    await started.promise;
    clock.advance(30_001); // A "crashed" (its renewal, every 10 s of real time, has not run)
    assert.equal(await b.runDue(), 0);
    assert.equal(bRuns, 0);
    const t = await b.get(id);
    assert.equal(t?.state, 'failed');
    assert.match(t?.last_error ?? '', /lease expired/);
    await a.stop({ timeoutMs: 10 });
    assert.equal(await aRun, 1);
    assert.equal((await a.get(id))?.state, 'failed');
  }));

test(`[${BACKEND}] leases are renewed while a handler runs; a lost lease aborts the handler`, () =>
  withDb('renew', async ({ store }) => {
    const clock = new ManualClock(T0);
    const log = quietLogger();
    const r = new TaskRunner({ store, clock, owner: 'A', leaseMs: 60, logger: log });
    const started = gate();
    let abortReason: unknown;
    r.register('long', async (_p, ctx) => {
      started.open();
      try {
        await untilAborted(ctx.signal);
      } catch (e) {
        abortReason = e;
        throw e;
      }
    });
    const id = await r.enqueue('long', {});
    const run = r.runDue();
    await started.promise;
    clock.advance(500);
    await waitFor('lease renewal', async () => (await r.get(id))?.lease_expires_at === T0 + 500 + 60, 2000);
    // Another runner takes the task over (as if our lease had expired and been claimed).
    await store.db.updateTable('tasks').set({ lease_owner: 'thief' }).where('id', '=', id).execute();
    assert.equal(await run, 1);
    assert.match(String(abortReason), /lease lost/);
    const t = await r.get(id);
    assert.equal(t?.state, 'running', 'the thief owns the outcome');
    assert.equal(t?.lease_owner, 'thief');
  }));

test(`[${BACKEND}] stop() waits for handlers, then releases leases of unfinished tasks`, () =>
  withDb('stop', async (shared) => {
    const clock = new ManualClock(T0);
    const a = new TaskRunner({ store: shared.store, clock, owner: 'A', pollMs: 10, logger: quietLogger() });
    const hung = gate();
    let aborted = 0;
    a.register('hang', async (_p, ctx) => {
      hung.open();
      try {
        await untilAborted(ctx.signal);
      } finally {
        aborted++;
      }
    });
    const quickStarted = gate();
    a.register('quick', async () => {
      quickStarted.open();
      await sleep(100);
    });
    const hangId = await a.enqueue('hang', {});
    a.start();
    await hung.promise;
    const quickId = await a.enqueue('quick', {});
    await quickStarted.promise;
    clock.advance(7);
    const before = Date.now();
    await a.stop({ timeoutMs: 300 });
    assert.ok(Date.now() - before >= 250, 'stop waited for the grace period');
    assert.equal(a.inFlight, 0);
    await waitFor('abort', () => aborted === 1);

    const quick = await a.get(quickId);
    assert.equal(quick?.state, 'done', 'a handler that finished within the grace period is recorded');
    const hang = await a.get(hangId);
    assert.equal(hang?.state, 'queued');
    assert.equal(hang?.lease_owner, null);
    assert.equal(hang?.lease_expires_at, null);
    assert.equal(hang?.due_at, T0 + 7);
    assert.equal(hang?.attempts, 1, 'attempts are kept');
    assert.equal(hang?.last_error, null);

    // Another process picks it up at once.
    const b = new TaskRunner({ store: await shared.another(), clock, owner: 'B', logger: quietLogger() });
    let bAttempt = 0;
    b.register('hang', async (_p, ctx) => {
      bAttempt = ctx.attempt;
    });
    assert.equal(await b.runDue(), 1);
    assert.equal(bAttempt, 2);
    assert.equal((await b.get(hangId))?.state, 'done');
    // A stopped runner can be stopped again and restarted.
    await a.stop();
    a.start();
    await a.stop();
  }));

test(`[${BACKEND}] start() polls; enqueue wakes the loop; enqueue joins a transaction`, () =>
  withDb('poll', async ({ store }) => {
    const r = new TaskRunner({ store, clock: systemClock, owner: 'A', pollMs: 5_000, logger: quietLogger() });
    const ran: string[] = [];
    r.register<string>('say', async (p) => {
      ran.push(p);
    });
    r.start();
    try {
      // pollMs is 5 s: only wake() makes this fast.
      const t0 = Date.now();
      await r.enqueue('say', 'direct');
      await waitFor('direct task', () => ran.includes('direct'), 2000);
      assert.ok(Date.now() - t0 < 2000);

      await assert.rejects(
        store.tx(async (trx) => {
          await r.enqueue('say', 'rolled back', { db: trx });
          throw new Error('rollback');
        }),
        /rollback/,
      );
      const id = await store.tx(async (trx) => r.enqueue('say', 'committed', { db: trx }));
      r.wake();
      // The handler runs first, then the runner records the completion.
      await waitFor('committed task done', async () => (await r.get(id))?.state === 'done', 2000);
      assert.deepEqual(ran.sort(), ['committed', 'direct']);
      const count = await store.db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 2);
    } finally {
      await r.stop();
    }
  }));

test('constructor and register validate their arguments', async () => {
  const store = { db: {} as never, dialect: 'sqlite' as const, tx: () => Promise.reject(new Error('unused')), close: async () => {} };
  assert.throws(() => new TaskRunner({ store, clock: systemClock, owner: '' }), /owner/);
  assert.throws(() => new TaskRunner({ store, clock: systemClock, owner: 'x', concurrency: 0 }), /concurrency/);
  const r = new TaskRunner({ store, clock: systemClock, owner: 'x' });
  r.register('k', async () => {});
  assert.throws(() => r.register('k', async () => {}), /already registered/);
  assert.throws(() => r.register('m', async () => {}, { maxAttempts: 0 }), /maxAttempts/);
  await assert.rejects(r.enqueue('k', {}, { maxAttempts: 1.5 }), /maxAttempts/);
});
