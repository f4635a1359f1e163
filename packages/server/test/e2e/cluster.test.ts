/**
 * Two `stockade serve` processes sharing one PostgreSQL schema: every durable task runs exactly once,
 * and the tasks of a process killed mid-run are taken over by the other once their leases expire.
 * PostgreSQL only: tasks on one SQLite file from two processes are not the supported deployment.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { dropSchema, openDatabase, type Store } from '../../src/store/db.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { ServeProcess, cliEnv, waitFor } from '../helpers/cli.js';

const LEASE_MS = 1500;

let tmpRoot: string | undefined;
let schema: string | undefined;
let store: Store | undefined;
const children: ServeProcess[] = [];

after(async () => {
  await Promise.all(children.map((c) => c.stop(3_000)));
  await store?.close();
  if (testDatabaseUrl && schema) await dropSchema(testDatabaseUrl, schema);
  if (tmpRoot) await fsp.rm(tmpRoot, { recursive: true, force: true });
});

/** The pid inside a runner owner string `hostname:pid:random`. */
function ownerPid(owner: string | null): number | undefined {
  if (owner === null) return undefined;
  const parts = owner.split(':');
  return parts.length >= 3 ? Number(parts[parts.length - 2]) : undefined;
}

/** Enqueues `count` probes through one process; returns the first and last task id it reports. */
async function enqueue(url: string, count: number, ms: number): Promise<{ first: number; last: number }> {
  const res = await fetch(`${url}/_stockade/tasks`, { method: 'POST', headers: { 'x-stockade-control': '1', 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'probe', count, ms }) });
  const body = (await res.json()) as { enqueued: number; first: number; last: number };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.enqueued, count);
  return { first: body.first, last: body.last };
}

test(
  'two stockade serve processes on one PostgreSQL database run each task exactly once',
  { skip: testDatabaseUrl ? false : 'needs PostgreSQL: set STOCKADE_TEST_DATABASE_URL', timeout: 120_000 },
  async (t) => {
    const url = testDatabaseUrl!;
    tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-cluster-'));
    schema = `t_cluster_${randomBytes(5).toString('hex')}`;
    const env = cliEnv({
      STOCKADE_DATABASE_SCHEMA: schema,
      STOCKADE_TASK_LEASE_MS: String(LEASE_MS),
      STOCKADE_MASTER_KEY: 'x',
      STOCKADE_ACCESS_KEY_ID: 'STKCLUSTER' + randomBytes(5).toString('hex').toUpperCase(),
      STOCKADE_SECRET_ACCESS_KEY: randomBytes(20).toString('base64url'),
      STOCKADE_LOG_LEVEL: 'warn',
      // The processes share the volumes directory, as shared storage would be in a real cluster.
      STOCKADE_VOLUMES_DIR: path.join(tmpRoot, 'volumes'),
    });
    // Both start at once: migrations and bootstrap race on the fresh schema, as in a real rollout.
    const [a, b] = ['a', 'b'].map(
      (name) => new ServeProcess(['--port', '0', '--data', path.join(tmpRoot!, name), '--database', url], { env }),
    ) as [ServeProcess, ServeProcess];
    children.push(a, b);
    const urls: string[] = [];
    for (const p of [a, b]) {
      await p.waitForLine(() => true, 30_000);
      const m = /^Stockade listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(p.lines[0]!);
      assert.ok(m, `first stdout line is the listening URL, got ${JSON.stringify(p.lines[0])}\n${p.output()}`);
      assert.notEqual(Number(m[2]), 0, 'the printed URL has the real port, not 0');
      const health = await fetch(`${m[1]}/_stockade/health`);
      assert.equal(health.status, 200, 'the printed URL answers');
      assert.equal(((await health.json()) as { database: string }).database, 'postgres');
      urls.push(m[1]!);
    }
    const [urlA, urlB] = urls as [string, string];
    assert.notEqual(urlA, urlB);

    store = await openDatabase({ dataDir: tmpRoot, url, schema });
    const db = store.db;

    const tasksByState = async (ids: number[]) => {
      const rows = await db
        .selectFrom('tasks')
        .select(['state', sql<number>`count(*)`.as('n')])
        .where('id', 'in', ids)
        .groupBy('state')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)])) as Record<string, number>;
    };

    const waitAllDone = async (ids: number[], timeoutMs: number) => {
      let last: Record<string, number> = {};
      try {
        await waitFor(
          `${ids.length} tasks done`,
          async () => {
            last = await tasksByState(ids);
            assert.equal(last.failed ?? 0, 0, `no task may fail: ${JSON.stringify(last)}`);
            return last.done === ids.length;
          },
          { timeoutMs, everyMs: 200 },
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}; states: ${JSON.stringify(last)}\nA: ${a.output()}\nB: ${b.output()}`);
      }
    };

    await t.test('1,000 probes enqueued through both processes: each runs exactly once, on both runners', async () => {
      const enqueued = await Promise.all([enqueue(urlA, 500, 0), enqueue(urlB, 500, 0)]);
      // The two transactions interleave their ids; the fresh schema holds exactly these probes (and
      // the services' own background tasks, of other kinds).
      const ids = (await db.selectFrom('tasks').select('id').where('kind', '=', 'probe').execute()).map((r) => Number(r.id));
      assert.equal(ids.length, 1000);
      for (const { first, last } of enqueued) assert.ok(ids.includes(first) && ids.includes(last));
      await waitAllDone(ids, 60_000);

      const runs = await db.selectFrom('probe_runs').select(['task_id', 'runner']).execute();
      assert.equal(runs.length, 1000, 'exactly one probe_runs row per task');
      const taskIds = new Set(runs.map((r) => Number(r.task_id)));
      assert.equal(taskIds.size, 1000, 'no task ran twice');
      assert.deepEqual([...taskIds].sort((x, y) => x - y), [...ids].sort((x, y) => x - y), 'every task ran');
      const runners = new Set(runs.map((r) => r.runner));
      assert.equal(runners.size, 2, `both runners took part: ${JSON.stringify([...runners])}`);
      assert.deepEqual(
        new Set([...runners].map(ownerPid)),
        new Set([a.pid, b.pid]),
        'the runners are the two serve processes',
      );
    });

    await t.test('SIGKILL of a process mid-task: the other takes its tasks over after the lease expires', async () => {
      const { first, last } = await enqueue(urlA, 6, 4000);
      const ids = (await db.selectFrom('tasks').select('id').where('id', '>=', first).where('id', '<=', last).execute()).map((r) =>
        Number(r.id),
      );
      assert.equal(ids.length, 6);
      await waitFor(
        "a slow probe running under process A's lease",
        async () =>
          (await db.selectFrom('tasks').select('lease_owner').where('id', 'in', ids).where('state', '=', 'running').execute()).some(
            (r) => ownerPid(r.lease_owner) === a.pid,
          ),
        { timeoutMs: 10_000, everyMs: 25 },
      );
      a.signal('SIGKILL');
      const exit = await a.exited;
      assert.equal(exit.signal, 'SIGKILL');
      // A's tasks keep its lease until it expires; nobody can have taken them over yet.
      const killed = (
        await db.selectFrom('tasks').select(['id', 'lease_owner']).where('id', 'in', ids).where('state', '=', 'running').execute()
      )
        .filter((r) => ownerPid(r.lease_owner) === a.pid)
        .map((r) => Number(r.id));
      assert.ok(killed.length >= 1, 'process A held at least one task when it was killed');

      await waitAllDone(ids, 30_000);

      const runs = await db.selectFrom('probe_runs').select(['task_id', 'runner']).where('task_id', 'in', ids).execute();
      assert.equal(runs.length, 6, `exactly 6 probe runs: ${JSON.stringify(runs)}`);
      assert.equal(new Set(runs.map((r) => Number(r.task_id))).size, 6, 'each slow probe ran exactly once');
      for (const r of runs) assert.equal(ownerPid(r.runner), b.pid, `task ${r.task_id} was finished by B, got ${r.runner}`);
      const rows = await db.selectFrom('tasks').select(['id', 'attempts', 'state']).where('id', 'in', killed).execute();
      assert.equal(rows.length, killed.length);
      for (const r of rows) {
        assert.equal(r.state, 'done');
        assert.ok(Number(r.attempts) >= 2, `task ${r.id}, killed with A, was claimed again (attempts ${r.attempts})`);
      }
      assert.ok(b.running, 'process B is still serving');
      assert.equal((await fetch(`${urlB}/_stockade/health`)).status, 200);
    });
  },
);
