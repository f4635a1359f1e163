/**
 * Two `stockade serve` processes on one PostgreSQL schema, sharing their volumes directory: boxes
 * created and changed through both, their transitions run by both (manual transitions run by
 * `tasks/run` on both processes at once, then immediate ones by both poll loops). Every transition
 * happens exactly once: one task, one audit event, one history row per item and state.
 * PostgreSQL only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { DatafenceClient, waitFor } from '@stockade/sdk';
import { dropSchema, openDatabase, type Store } from '../../src/store/db.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { ServeProcess, cliEnv } from '../helpers/cli.js';
import { boxInfo, type Catalog } from '../helpers/datafence.js';
import { BOX_TRANSITION } from '../../src/services/datafence/tasks.js';

const BOXES = 8;

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

async function post(url: string, p: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url + p, {
    method: 'POST',
    headers: { 'x-stockade-control': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

test(
  'two processes on one PostgreSQL database apply each box transition exactly once',
  { skip: testDatabaseUrl ? false : 'needs PostgreSQL: set STOCKADE_TEST_DATABASE_URL', timeout: 180_000 },
  async () => {
    const url = testDatabaseUrl!;
    tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-df-cluster-'));
    schema = `t_dfcluster_${randomBytes(5).toString('hex')}`;
    const accessKeyId = 'STKDFC' + randomBytes(5).toString('hex').toUpperCase();
    const secretAccessKey = randomBytes(20).toString('base64url');
    const volumes = path.join(tmpRoot, 'volumes');
    const env = cliEnv({
      STOCKADE_DATABASE_SCHEMA: schema,
      STOCKADE_MASTER_KEY: 'x',
      STOCKADE_ACCESS_KEY_ID: accessKeyId,
      STOCKADE_SECRET_ACCESS_KEY: secretAccessKey,
      STOCKADE_LOG_LEVEL: 'warn',
      STOCKADE_VOLUMES_DIR: volumes,
      STOCKADE_TRANSITIONS: 'box=manual',
    });
    const procs = ['a', 'b'].map((n) => new ServeProcess(['--port', '0', '--data', path.join(tmpRoot!, n), '--database', url], { env }));
    children.push(...procs);
    const urls = await Promise.all(procs.map(async (p) => (await p.banner(30_000)).url));
    const clients = urls.map((u) => new DatafenceClient({ endpoint: u, accessKeyId, secretAccessKey }));
    const [a, b] = clients as [DatafenceClient, DatafenceClient];
    store = await openDatabase({ dataDir: tmpRoot, url, schema });
    const db = store.db;

    const catalog: Catalog = await a.getProductSpec();
    const fenceId = (await a.getDatafence())[0]!.fenceId;
    // Boxes created through both processes at once.
    await Promise.all(
      Array.from({ length: BOXES }, (_, i) => clients[i % 2]!.createBox({ fenceId, createBoxInfo: boxInfo(catalog) })),
    );
    const boxes = (await b.getBoxList({ fenceId, size: 100 })).content;
    assert.equal(boxes.length, BOXES);
    assert.deepEqual(new Set(boxes.map((x) => x.boxName)).size, BOXES, 'every box got its own number');
    assert.ok(boxes.every((x) => x.statusCode === 'INITIALIZE'));

    // Manual transitions, run by both processes at the same moment.
    const ran = (await Promise.all(urls.map((u) => post(u, '/_stockade/tasks/run')))) as Array<{ ran: number }>;
    assert.equal(ran[0]!.ran + ran[1]!.ran, BOXES, `each task ran once: ${JSON.stringify(ran)}`);
    assert.ok((await a.getBoxList({ fenceId, size: 100 })).content.every((x) => x.statusCode === 'USE'));

    // Then immediate transitions, picked up by both poll loops; changes requested through both.
    for (const u of urls) await post(u, '/_stockade/transitions', { box: 'immediate' });
    await Promise.all(boxes.map((x, i) => clients[i % 2]!.changeBoxBlockExternalNetwork({ fenceId, boxId: x.boxId, isBlock: false })));
    await waitFor(
      () => b.getBoxList({ fenceId, size: 100 }),
      (l) => l.content.every((x) => x.statusCode === 'USE'),
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    for (const x of boxes) assert.equal((await a.getBoxSummaryInfo({ fenceId, boxId: x.boxId })).webBlockStatus, false);
    await Promise.all(boxes.map((x, i) => clients[(i + 1) % 2]!.returnBox({ fenceId, boxId: x.boxId })));
    await waitFor(
      () => a.getBoxHistory({ fenceId, size: 100 }),
      (h) => h.content.every((x) => x.statusCode === 'TERMINATE'),
      { timeoutMs: 30_000, intervalMs: 50 },
    );

    // Exactly once: three transition tasks per box, each done once; three audit events; one
    // history row per item and state.
    const tasks = await db.selectFrom('tasks').select(['dedupe_key', 'state', 'attempts']).where('kind', '=', BOX_TRANSITION).execute();
    assert.equal(tasks.length, 3 * BOXES);
    assert.equal(new Set(tasks.map((t) => t.dedupe_key)).size, 3 * BOXES);
    for (const t of tasks) assert.deepEqual([t.state, Number(t.attempts)], ['done', 1], t.dedupe_key ?? '');
    const transitions = await db
      .selectFrom('audit_events')
      .select(['resource', sql<number>`count(*)`.as('n')])
      .where('action', '=', 'box.transition')
      .groupBy('resource')
      .execute();
    assert.equal(transitions.length, BOXES);
    for (const t of transitions) assert.equal(Number(t.n), 3, t.resource);
    // Items (a connect server, a Linux server, a NAS per box): one row per item and state.
    const rows = await sql<{ infra_id: number; status: string; n: number }>`
      select infra_id, status, count(*) as n from infra_history where infra_id is not null and box_id is not null group by infra_id, status`.execute(db);
    assert.equal(rows.rows.length, 3 * BOXES * 4, 'each item: INITIALIZE, USE, RETURN, TERMINATE');
    for (const r of rows.rows) assert.equal(Number(r.n), 1, `item ${r.infra_id} entered ${r.status} once`);
    const boxRows = await sql<{ status: string; n: number }>`
      select status, count(*) as n from infra_history where infra_id is null and box_id is not null group by status order by status`.execute(db);
    assert.deepEqual(
      Object.fromEntries(boxRows.rows.map((r) => [r.status, Number(r.n)])),
      { INITIALIZE: BOXES, ING: BOXES, RETURN: BOXES, TERMINATE: BOXES, USE: 2 * BOXES },
    );
    // The NAS volumes came and went with their boxes, on the shared directory.
    assert.equal((await db.selectFrom('volumes').select('id').where('service', '=', 'datafence').execute()).length, 0);
    assert.deepEqual(fs.readdirSync(volumes).filter((n) => n.startsWith('datafence-')), []);
    for (const p of procs) assert.ok(p.running, p.output());
  },
);
