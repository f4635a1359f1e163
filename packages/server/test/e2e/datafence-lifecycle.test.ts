/**
 * Box and fence lifecycles under the platform's transition policies (`immediate`, `delay:<ms>`,
 * `manual`, set at run time through `POST /_stockade/transitions`), on a server whose clock the
 * test moves; and each transition applied exactly once, however often its task runs.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DatafenceClient, waitFor } from '@stockade/sdk';
import { ManualClock } from '../../src/tasks/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, control, newestBox, runTasks, type Catalog } from '../helpers/datafence.js';
import type { DatafenceService } from '../../src/services/datafence/service.js';
import { BOX_TRANSITION } from '../../src/services/datafence/tasks.js';

// Near the real time: requests are signed with it (±5 minutes), so the test moves it by minutes at most.
const clock = new ManualClock(Date.now());
let srv: TestServer;
let df: DatafenceClient;
let catalog: Catalog;
let fenceId: number;

before(async () => {
  srv = await startTestServer('df-lifecycle', { clock });
  df = new DatafenceClient(srv.creds);
  catalog = await df.getProductSpec();
  fenceId = (await df.getDatafence())[0]!.fenceId;
});
after(async () => {
  await srv.close();
});

const svc = () => srv.app.platform.services.find((s) => s.module.name === 'datafence')!.instance as DatafenceService;
const status = async (boxId: number) => (await df.getBoxSummaryInfo({ fenceId, boxId })).statusCode;
const setTransitions = (t: Record<string, string>) => control(srv, '/_stockade/transitions', t);

async function create(): Promise<number> {
  await df.createBox({ fenceId, createBoxInfo: boxInfo(catalog) });
  return (await newestBox(df, fenceId)).boxId;
}

describe('transition policies', () => {
  test('immediate: the box reaches USE on its own, and so does a return', async () => {
    await setTransitions({ box: 'immediate' });
    const boxId = await create();
    await waitFor(() => status(boxId), (s) => s === 'USE', { timeoutMs: 10_000, intervalMs: 20 });
    await df.returnBox({ fenceId, boxId });
    await waitFor(() => status(boxId), (s) => s === 'TERMINATE', { timeoutMs: 10_000, intervalMs: 20 });
  });

  test('delay: the box stays INITIALIZE until the delay has passed on the server clock', async () => {
    await setTransitions({ box: 'delay:60000' });
    const boxId = await create();
    await runTasks(srv);
    assert.equal(await status(boxId), 'INITIALIZE');
    clock.advance(59_999);
    await runTasks(srv);
    assert.equal(await status(boxId), 'INITIALIZE');
    clock.advance(1);
    await runTasks(srv);
    assert.equal(await status(boxId), 'USE');
    await df.changeBoxBlockExternalNetwork({ fenceId, boxId, isBlock: false });
    clock.advance(60_000);
    await runTasks(srv);
    assert.equal((await df.getBoxSummaryInfo({ fenceId, boxId })).webBlockStatus, false);
  });

  test('manual: nothing moves until POST /_stockade/tasks/run, and then exactly the waiting transition', async () => {
    await setTransitions({ box: 'manual', fence: 'manual' });
    const boxId = await create();
    // Due tasks alone do not include manual ones.
    assert.equal(await srv.app.ctx.runner.runDue(), 0);
    assert.equal(await status(boxId), 'INITIALIZE');
    assert.equal(await runTasks(srv), 1);
    assert.equal(await status(boxId), 'USE');
    assert.equal(await runTasks(srv), 0);

    const nas = (await df.getDatafenceInfraList({ fenceId })).content.find((i) => i.infraType === 'FENCE_NAS')!;
    await df.changeFenceNasVolume({ fenceId, instanceNo: nas.instanceNo, volumeSize: 700 });
    assert.equal(await srv.app.ctx.runner.runDue(), 0);
    assert.equal((await df.getDatafence()).find((f) => f.fenceId === fenceId)!.statusCode, 'ING');
    assert.equal(await runTasks(srv), 1);
    assert.equal((await df.getDatafence()).find((f) => f.fenceId === fenceId)!.statusCode, 'USE');
  });
});

describe('each transition happens once', () => {
  test('a transition enqueued again, or run again, changes nothing more: one history row, one audit event', async () => {
    await setTransitions({ box: 'manual' });
    const boxId = await create();
    const tasks = () => srv.app.ctx.store.db.selectFrom('tasks').select(['id', 'state']).where('kind', '=', BOX_TRANSITION).where('dedupe_key', '=', `${BOX_TRANSITION}:${boxId}:1`).execute();
    assert.equal((await tasks()).length, 1);
    // The same transition enqueued again (a retried request, another process): still one task.
    await srv.app.ctx.store.tx((trx) => svc().enqueueBoxTransition(trx, { boxId, version: 1 }));
    assert.equal((await tasks()).length, 1);
    await runTasks(srv);
    assert.equal(await status(boxId), 'USE');

    const history = async () => (await df.getBoxInfraHistory({ fenceId, boxId, size: 100 })).totalCount;
    const transitions = async () =>
      (await srv.app.ctx.store.db.selectFrom('audit_events').select('seq').where('action', '=', 'box.transition').where('resource', '=', `fence/${fenceId}/box/${boxId}`).execute()).length;
    const [h, a] = [await history(), await transitions()];
    assert.equal(a, 1);
    // The transition's work run once more, as a task re-claimed after a crash would: nothing changes.
    assert.deepEqual(await srv.app.ctx.store.tx((trx) => svc().finishBoxTransition(trx, { boxId, version: 1 })), []);
    // A task of an older version, once the box has moved on, changes nothing either.
    await df.changeBoxBlockExternalNetwork({ fenceId, boxId, isBlock: false });
    assert.deepEqual(await srv.app.ctx.store.tx((trx) => svc().finishBoxTransition(trx, { boxId, version: 1, webBlock: true })), []);
    assert.equal(await status(boxId), 'ING');
    await runTasks(srv);
    assert.equal((await df.getBoxSummaryInfo({ fenceId, boxId })).webBlockStatus, false);
    assert.equal(await history(), h + 2, 'the box entered ING, then USE');
    assert.equal(await transitions(), 2);
  });
});
