/**
 * The platform's promises under real processes, on SQLite and PostgreSQL:
 * - a task's effects commit exactly once, with its completion, however often its process is SIGKILLed;
 * - processes enqueuing the same dedupe keys at once make one task per key;
 * - two processes starting together on one empty database create exactly one account;
 * - a process whose volumes directory is not the database's refuses to start.
 * The probe task (dev profile) writes its `probe_runs` row in the transaction that completes it.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { dropSchema, openDatabase, type Store } from '../../src/store/db.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { ServeProcess, cliEnv, waitFor } from '../helpers/cli.js';

const BACKEND = testDatabaseUrl ? 'postgres' : 'sqlite';
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A fresh database (SQLite file in `dataDir`, or a PostgreSQL schema) and what a serve process needs to use it. */
async function freshDatabase(name: string) {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), `stockade-${name}-`));
  const schema = testDatabaseUrl ? `t_${name}_${randomBytes(4).toString('hex')}` : undefined;
  const env = cliEnv({
    STOCKADE_DATABASE_SCHEMA: schema,
    STOCKADE_TASK_LEASE_MS: '600',
    STOCKADE_MASTER_KEY: 'crash-test',
    STOCKADE_LOG_LEVEL: 'warn',
    // Every process of one database shares the volumes directory (as shared storage would be).
    STOCKADE_VOLUMES_DIR: path.join(root, 'volumes'),
  });
  const args = (dataName: string) => ['--port', '0', '--data', path.join(root, dataName), ...(testDatabaseUrl ? ['--database', testDatabaseUrl] : [])];
  let store: Store | undefined;
  /** The database, as a process given `--data <root>/<dataName>` sees it. */
  const open = async (dataName = 'data') =>
    (store ??= await openDatabase({ dataDir: path.join(root, dataName), ...(testDatabaseUrl ? { url: testDatabaseUrl, schema } : {}) }));
  cleanups.push(async () => {
    await store?.close();
    if (testDatabaseUrl && schema) await dropSchema(testDatabaseUrl, schema);
    await fsp.rm(root, { recursive: true, force: true });
  });
  return { root, env, args, open };
}

function serve(args: string[], env: NodeJS.ProcessEnv): ServeProcess {
  const p = new ServeProcess(args, { env });
  cleanups.push(() => p.stop(2_000));
  return p;
}

async function urlOf(p: ServeProcess): Promise<string> {
  const line = await p.waitForLine((l) => l.startsWith('Stockade listening on '), 30_000);
  return line.slice('Stockade listening on '.length).trim();
}

async function enqueueProbes(url: string, body: Record<string, unknown>): Promise<number[]> {
  const res = await fetch(`${url}/_stockade/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-stockade-control': '1' },
    body: JSON.stringify({ kind: 'probe', ...body }),
  });
  const r = (await res.json()) as { ids: number[] };
  assert.equal(res.status, 200, JSON.stringify(r));
  return r.ids;
}

describe(`platform under real processes (${BACKEND})`, () => {
  test('a process SIGKILLed again and again mid-run: every task completes, its effects exactly once', { timeout: 120_000 }, async () => {
    const db = await freshDatabase('crashloop');
    const env = { ...db.env, STOCKADE_ACCESS_KEY_ID: 'STKCRASH' + randomBytes(4).toString('hex').toUpperCase(), STOCKADE_SECRET_ACCESS_KEY: 'x'.repeat(30) };
    let p = serve(db.args('data'), env);
    const ids = await enqueueProbes(await urlOf(p), { count: 300, ms: 15 });
    const store = await db.open();
    const done = async () =>
      Number(
        (await store.db.selectFrom('tasks').select(sql<number>`count(*)`.as('n')).where('kind', '=', 'probe').where('state', '=', 'done').executeTakeFirstOrThrow()).n,
      );
    let kills = 0;
    for (let round = 0; round < 10 && (await done()) < ids.length; round++) {
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 250)));
      p.signal('SIGKILL');
      await p.exited;
      kills++;
      p = serve(db.args('data'), env);
      await urlOf(p);
    }
    await waitFor('every task done', async () => (await done()) === ids.length, { timeoutMs: 60_000, everyMs: 100 });

    const runs = await store.db.selectFrom('probe_runs').select('task_id').execute();
    assert.equal(runs.length, ids.length, `one probe_runs row per task after ${kills} kills`);
    assert.deepEqual(new Set(runs.map((r) => Number(r.task_id))), new Set(ids));
    // (Only probes: services have background tasks of their own, such as CFS's usage measurement.)
    const states = await store.db.selectFrom('tasks').select(['state', sql<number>`count(*)`.as('n')]).where('kind', '=', 'probe').groupBy('state').execute();
    assert.deepEqual(states.map((s) => [s.state, Number(s.n)]), [['done', ids.length]]);
    assert.ok(kills >= 1, 'the process was killed at least once before the work was done');
  });

  test('processes enqueuing the same dedupe keys at once make one task per key', { timeout: 60_000 }, async () => {
    const db = await freshDatabase('dedupe');
    const env = { ...db.env, STOCKADE_ACCESS_KEY_ID: 'STKDEDUPE' + randomBytes(4).toString('hex').toUpperCase(), STOCKADE_SECRET_ACCESS_KEY: 'y'.repeat(30) };
    const a = serve(db.args('a'), env);
    const b = serve(db.args(testDatabaseUrl ? 'b' : 'a'), env);
    const [urlA, urlB] = [await urlOf(a), await urlOf(b)];
    const keys = Array.from({ length: 200 }, (_, i) => `trigger-7@2025-04-21T10:00:00+09:00#${i}`);
    const [idsA, idsB] = await Promise.all([enqueueProbes(urlA, { count: keys.length, dedupeKeys: keys }), enqueueProbes(urlB, { count: keys.length, dedupeKeys: keys })]);
    assert.deepEqual(idsA, idsB, 'both were told the same task ids');
    const store = await db.open('a');
    const rows = await store.db.selectFrom('tasks').select(['id', 'dedupe_key']).where('kind', '=', 'probe').execute();
    assert.equal(rows.length, keys.length);
    assert.deepEqual(new Set(rows.map((r) => r.dedupe_key)), new Set(keys));
  });

  test('two processes starting together on one empty database create exactly one account', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 6; round++) {
      const db = await freshDatabase(`boot${round}`);
      // Each its own bootstrap key: both would be added, but only one account may exist.
      const starters = [0, 1].map((i) =>
        serve(db.args(testDatabaseUrl ? `d${i}` : 'data'), {
          ...db.env,
          STOCKADE_ACCESS_KEY_ID: `STKBOOT${round}${i}` + randomBytes(3).toString('hex').toUpperCase(),
          STOCKADE_SECRET_ACCESS_KEY: randomBytes(20).toString('base64url'),
        }),
      );
      for (const s of starters) await urlOf(s);
      const store = await db.open();
      const accounts = await store.db.selectFrom('accounts').select('id').execute();
      assert.equal(accounts.length, 1, `round ${round}: one account`);
      for (const s of starters) await s.stop();
    }
  });

  test('a process whose volumes directory is not the database\'s refuses to start, saying why', { timeout: 60_000 }, async () => {
    const db = await freshDatabase('volroot');
    const env = { ...db.env, STOCKADE_ACCESS_KEY_ID: 'STKVOL' + randomBytes(4).toString('hex').toUpperCase(), STOCKADE_SECRET_ACCESS_KEY: 'z'.repeat(30) };
    await urlOf(serve(db.args('a'), env));
    const stray = serve(db.args(testDatabaseUrl ? 'b' : 'a'), { ...env, STOCKADE_VOLUMES_DIR: path.join(db.root, 'elsewhere') });
    const exit = await stray.exited;
    assert.notEqual(exit.code, 0);
    assert.match(stray.stderr, /volumes directory .*elsewhere.* is not the one this database's volumes live in/);
  });
});
