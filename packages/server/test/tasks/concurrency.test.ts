/**
 * Two runners on two connections to the same database run 1,000 probe tasks: each exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/tasks/clock.js';
import { TaskRunner } from '../../src/tasks/runner.js';
import { PROBE_KIND, registerProbe } from '../../src/tasks/probe.js';
import type { Store } from '../../src/store/db.js';
import { BACKEND, openSharedDb, quietLogger, waitFor } from './_shared.js';

const N = 1000;

async function enqueueProbes(runner: TaskRunner, store: Store, n: number): Promise<number[]> {
  return store.tx(async (trx) => {
    const ids: number[] = [];
    // Mostly instant probes, some that sleep a little so runs overlap.
    for (let i = 0; i < n; i++) ids.push(await runner.enqueue(PROBE_KIND, { ms: i % 10 === 0 ? 2 : 0 }, { db: trx }));
    return ids;
  });
}

async function checkExactlyOnce(store: Store, ids: number[]): Promise<Map<string, number>> {
  const runs = await store.db
    .selectFrom('probe_runs')
    .select(['task_id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('task_id')
    .execute();
  const perTask = new Map(runs.map((r) => [Number(r.task_id), Number(r.n)]));
  const wrong = ids.filter((id) => perTask.get(id) !== 1);
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} tasks did not run exactly once`);
  assert.equal(runs.length, ids.length);

  const states = await store.db
    .selectFrom('tasks')
    .select(['state', 'attempts', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['state', 'attempts'])
    .execute();
  assert.deepEqual(
    states.map((s) => ({ state: s.state, attempts: Number(s.attempts), n: Number(s.n) })),
    [{ state: 'done', attempts: 1, n: ids.length }],
  );

  const byRunner = await store.db
    .selectFrom('probe_runs')
    .select(['runner', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('runner')
    .execute();
  return new Map(byRunner.map((r) => [r.runner, Number(r.n)]));
}

test(`[${BACKEND}] two polling runners on one database run ${N} probe tasks exactly once`, { timeout: 90_000 }, async () => {
  const shared = await openSharedDb('pollpair');
  const storeB = await shared.another();
  const opts = { clock: systemClock, pollMs: 20, concurrency: 8, logger: quietLogger() } as const;
  const a = new TaskRunner({ ...opts, store: shared.store, owner: 'runner-A' });
  const b = new TaskRunner({ ...opts, store: storeB, owner: 'runner-B' });
  registerProbe(a);
  registerProbe(b);
  try {
    const ids = await enqueueProbes(a, shared.store, N);
    a.start();
    b.start();
    await waitFor(
      'all probes done',
      async () => {
        const row = await shared.store.db
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('state', '=', 'done')
          .executeTakeFirstOrThrow();
        return Number(row.n) === N;
      },
      60_000,
    );
    await Promise.all([a.stop(), b.stop()]);
    const byRunner = await checkExactlyOnce(shared.store, ids);
    assert.equal((byRunner.get('runner-A') ?? 0) + (byRunner.get('runner-B') ?? 0), N);
    assert.ok((byRunner.get('runner-A') ?? 0) > 0 && (byRunner.get('runner-B') ?? 0) > 0, JSON.stringify([...byRunner]));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await shared.close();
  }
});

test(`[${BACKEND}] two runners calling runDue concurrently run ${N} probe tasks exactly once`, { timeout: 90_000 }, async () => {
  const shared = await openSharedDb('duepair');
  const storeB = await shared.another();
  const opts = { clock: systemClock, concurrency: 8, logger: quietLogger() } as const;
  const a = new TaskRunner({ ...opts, store: shared.store, owner: 'runner-A' });
  const b = new TaskRunner({ ...opts, store: storeB, owner: 'runner-B' });
  registerProbe(a);
  registerProbe(b);
  try {
    const ids = await enqueueProbes(a, shared.store, N);
    const [ranA, ranB] = await Promise.all([a.runDue(), b.runDue()]);
    assert.equal(ranA + ranB, N);
    const byRunner = await checkExactlyOnce(shared.store, ids);
    assert.equal(byRunner.get('runner-A'), ranA);
    assert.equal(byRunner.get('runner-B'), ranB);
    assert.ok(ranA > 0 && ranB > 0, `A ran ${ranA}, B ran ${ranB}`);
  } finally {
    await shared.close();
  }
});

test(`[${BACKEND}] probe rejects a bad payload permanently and honours abort`, async () => {
  const shared = await openSharedDb('probebad');
  try {
    const r = new TaskRunner({ store: shared.store, clock: systemClock, owner: 'p', logger: quietLogger() });
    registerProbe(r);
    const bad = await r.enqueue(PROBE_KIND, { ms: -1 });
    const slow = await r.enqueue(PROBE_KIND, { ms: 10_000 });
    const run = r.runDue();
    await waitFor('slow probe running', async () => (await r.get(slow))?.state === 'running');
    await r.stop({ timeoutMs: 20 });
    assert.equal(await run, 2);
    const tb = await r.get(bad);
    assert.equal(tb?.state, 'failed');
    assert.match(tb?.last_error ?? '', /PermanentTaskError: probe payload/);
    assert.equal((await r.get(slow))?.state, 'queued');
    const rows = await shared.store.db.selectFrom('probe_runs').selectAll().execute();
    assert.equal(rows.length, 0);
  } finally {
    await shared.close();
  }
});
