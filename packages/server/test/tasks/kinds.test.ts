/**
 * What a task kind declares and what the runner guarantees for it: effects that commit with the
 * completion and only under the lease, payload schemas, per-kind concurrency, dedupe keys,
 * cancellation, timeouts, progress and the purge of finished tasks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ManualClock, systemClock } from '../../src/tasks/clock.js';
import { LeaseLostError, TaskCanceledError, TaskRunner, type TaskRunnerOptions } from '../../src/tasks/runner.js';
import type { Store } from '../../src/store/db.js';
import { BACKEND, gate, openSharedDb, quietLogger, untilAborted, waitFor, type SharedDb } from './_shared.js';

async function withDb(name: string, fn: (db: SharedDb) => Promise<void>): Promise<void> {
  const db = await openSharedDb(`kinds_${name}`);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

function runner(store: Store, owner: string, extra: Partial<TaskRunnerOptions> = {}): TaskRunner {
  return new TaskRunner({ store, clock: systemClock, owner, logger: quietLogger(), pollMs: 10, ...extra });
}

const probeRuns = async (store: Store, taskId: number) =>
  Number(
    (await store.db.selectFrom('probe_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('task_id', '=', taskId).executeTakeFirstOrThrow()).n,
  );

test(`[${BACKEND}] complete() commits the effects with the completion; a runner that lost its lease commits nothing`, () =>
  withDb('complete', async ({ store }) => {
    const r = runner(store, 'A');
    const reached = gate();
    const proceed = gate();
    const outcome: unknown[] = [];
    r.register('effect', async (_p, ctx) => {
      reached.open();
      await proceed.promise;
      try {
        await ctx.complete(async (trx) => {
          await trx.insertInto('probe_runs').values({ task_id: ctx.taskId, runner: 'A', finished_at: 1 }).execute();
        });
        outcome.push('committed');
      } catch (e) {
        outcome.push(e);
        throw e;
      }
    });
    const kept = await r.enqueue('effect', {});
    const stolen = await r.enqueue('effect', {});
    r.start();
    try {
      await reached.promise;
      await waitFor('both running', async () => (await r.get(stolen))?.state === 'running');
      // Another runner took `stolen` over (as after an expired lease): A's writes must not land.
      await store.db.updateTable('tasks').set({ lease_owner: 'B' }).where('id', '=', stolen).execute();
      proceed.open();
      await waitFor('both handled', () => outcome.length === 2);
      assert.equal((await r.get(kept))?.state, 'done');
      assert.equal(await probeRuns(store, kept), 1);
      assert.ok(outcome.some((o) => o instanceof LeaseLostError), 'the stolen task was told');
      assert.equal(await probeRuns(store, stolen), 0, 'nothing committed without the lease');
      const t = await r.get(stolen);
      assert.equal(t?.state, 'running');
      assert.equal(t?.lease_owner, 'B', "the new owner's state is untouched");
    } finally {
      await r.stop();
    }
  }));

test(`[${BACKEND}] a payload schema is checked at enqueue and again at claim`, () =>
  withDb('schema', async ({ store }) => {
    const r = runner(store, 'A', { clock: new ManualClock(1_000) });
    let runs = 0;
    r.register('typed', async () => void runs++, { payload: Type.Object({ boxId: Type.Integer({ minimum: 1 }) }) });
    await assert.rejects(r.enqueue('typed', { boxId: 'x' }), /enqueue typed: invalid payload at \/boxId/);
    const ok = await r.enqueue('typed', { boxId: 3 });
    // A row written by an older version, or by hand: refused when claimed, never run.
    const bad = await r.enqueue('untyped-for-now', { boxId: -1 });
    await store.db.updateTable('tasks').set({ kind: 'typed' }).where('id', '=', bad).execute();
    assert.equal(await r.runDue(), 2);
    assert.equal(runs, 1);
    assert.equal((await r.get(ok))?.state, 'done');
    const t = await r.get(bad);
    assert.equal(t?.state, 'failed');
    assert.match(t?.last_error ?? '', /invalid payload at \/boxId/);
  }));

test(`[${BACKEND}] each kind has its own concurrency: long tasks of one kind do not hold up another`, () =>
  withDb('perkind', async ({ store }) => {
    const r = runner(store, 'A');
    const blocked = gate();
    let importsRunning = 0;
    let maxImports = 0;
    r.register(
      'import',
      async () => {
        importsRunning++;
        maxImports = Math.max(maxImports, importsRunning);
        await blocked.promise;
        importsRunning--;
      },
      { concurrency: 2 },
    );
    const transitions: number[] = [];
    r.register('box-transition', async (_p, ctx) => void transitions.push(ctx.taskId));
    for (let i = 0; i < 6; i++) await r.enqueue('import', {});
    const t1 = await r.enqueue('box-transition', {});
    const t2 = await r.enqueue('box-transition', {});
    r.start();
    try {
      await waitFor('box transitions ran while imports are stuck', () => transitions.length === 2);
      assert.deepEqual(transitions.sort(), [t1, t2].sort());
      assert.equal(maxImports, 2, 'imports never exceed their own concurrency');
      blocked.open();
      await waitFor('imports done', async () => {
        const rows = await store.db.selectFrom('tasks').select('state').where('kind', '=', 'import').execute();
        return rows.every((x) => x.state === 'done');
      });
    } finally {
      await r.stop();
    }
  }));

test(`[${BACKEND}] a dedupe key makes one task however many times it is enqueued`, () =>
  withDb('dedupe', async (db) => {
    const other = await db.another();
    const a = runner(db.store, 'A');
    const b = runner(other, 'B');
    const key = 'trigger/42@2025-04-21T10:00:00+09:00';
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).enqueue('fire', { i }, { dedupeKey: key })));
    assert.equal(new Set(ids).size, 1);
    const rows = await db.store.db.selectFrom('tasks').selectAll().where('dedupe_key', '=', key).execute();
    assert.equal(rows.length, 1);
    // Inside a transaction, too.
    const inTx = await db.store.tx((trx) => a.enqueue('fire', {}, { db: trx, dedupeKey: key }));
    assert.equal(inTx, ids[0]);
  }));

test(`[${BACKEND}] cancel: a queued task at once, a running one at its next lease renewal`, () =>
  withDb('cancel', async ({ store }) => {
    const r = runner(store, 'A', { leaseMs: 300 });
    let reason: unknown;
    r.register('long', async (_p, ctx) => {
      try {
        await untilAborted(ctx.signal);
      } catch (e) {
        reason = e;
        throw e;
      }
    });
    const queued = await r.enqueue('long', {}, { dueAt: Date.now() + 60_000 });
    assert.equal(await r.cancel(store.db, queued), 'canceled');
    assert.equal((await r.get(queued))?.state, 'canceled');
    assert.equal(await r.cancel(store.db, queued), 'finished');
    assert.equal(await r.cancel(store.db, 999_999), 'missing');

    const running = await r.enqueue('long', {});
    r.start();
    try {
      await waitFor('running', async () => (await r.get(running))?.state === 'running');
      assert.equal(await r.cancel(store.db, running), 'requested');
      await waitFor('canceled', async () => (await r.get(running))?.state === 'canceled', 3_000);
      assert.ok(reason instanceof TaskCanceledError, 'the handler learnt why');
    } finally {
      await r.stop();
    }
  }));

test(`[${BACKEND}] a task past its kind's timeout is aborted and fails without a retry`, () =>
  withDb('timeout', async ({ store }) => {
    const r = runner(store, 'A');
    let runs = 0;
    r.register(
      'slow',
      async (_p, ctx) => {
        runs++;
        await untilAborted(ctx.signal);
      },
      { timeoutMs: 100, maxAttempts: 3 },
    );
    const id = await r.enqueue('slow', {});
    assert.equal(await r.runDue(), 1);
    const t = await r.get(id);
    assert.equal(t?.state, 'failed');
    assert.equal(t?.last_error, 'timed out after 100 ms');
    assert.equal(runs, 1);
  }));

test(`[${BACKEND}] progress is stored as the handler reports it`, () =>
  withDb('progress', async ({ store }) => {
    const r = runner(store, 'A');
    const seen: unknown[] = [];
    r.register('copy', async (_p, ctx) => {
      await ctx.progress({ bytes: 1024, of: 4096 });
      seen.push((await r.get(ctx.taskId))?.progress);
    });
    const id = await r.enqueue('copy', {});
    await r.runDue();
    assert.deepEqual(seen.map((s) => JSON.parse(s as string)), [{ bytes: 1024, of: 4096 }]);
    assert.equal((await r.get(id))?.state, 'done');
  }));

test(`[${BACKEND}] finished tasks are purged after the retention period; unfinished ones stay`, () =>
  withDb('purge', async ({ store }) => {
    const clock = new ManualClock(1_000_000);
    const r = runner(store, 'A', { clock, retentionMs: 60_000 });
    r.register('ok', async () => {});
    r.register('bad', async () => {
      throw new Error('no');
    }, { maxAttempts: 1 });
    const done = await r.enqueue('ok', {});
    const failed = await r.enqueue('bad', {});
    const waiting = await r.enqueue('ok', {}, { dueAt: 10_000_000 });
    await r.runDue();
    clock.advance(59_000);
    assert.equal(await r.purgeFinished(), 0);
    clock.advance(2_000);
    assert.equal(await r.purgeFinished(), 2);
    assert.equal(await r.get(done), undefined);
    assert.equal(await r.get(failed), undefined);
    assert.equal((await r.get(waiting))?.state, 'queued');
    // A kind may keep its finished tasks for less time than the runner's default.
    r.register('chatty', async () => {}, { retentionMs: 1_000 });
    const chatty = await r.enqueue('chatty', {});
    const kept = await r.enqueue('ok', {});
    await r.runDue();
    clock.advance(2_000);
    assert.equal(await r.purgeFinished(), 1);
    assert.equal(await r.get(chatty), undefined);
    assert.equal((await r.get(kept))?.state, 'done');
  }));
