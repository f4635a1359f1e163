/**
 * Datafence fences over a real socket with the SDK: get-datafence with its real boxCount, the
 * fence's infrastructure (list, history, custom images), change-datafence-infra and
 * change-fence-nas-volume with their lifecycle (manual transitions here) and documented errors,
 * and who may see or change a fence.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DatafenceClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, PASSWORD, pick, runTasks, type Catalog } from '../helpers/datafence.js';
import { rejects } from '../helpers/ncp.js';

let srv: TestServer;
let df: DatafenceClient;
let catalog: Catalog;

before(async () => {
  srv = await startTestServer('df-fences', { config: { transitions: 'box=manual,fence=manual' } });
  df = new DatafenceClient(srv.creds);
  catalog = await df.getProductSpec();
});
after(async () => {
  await srv.close();
});

async function newFence(name: string): Promise<number> {
  const f = await srv.app.ctx.store.tx((trx) => srv.app.ctx.api('datafence').createFence(trx, srv.accountId, { name, description: `${name} fence` }));
  return f.id;
}

const infra = async (fenceId: number) => (await df.getDatafenceInfraList({ fenceId, size: 100 })).content;
const fenceOf = async (fenceId: number) => (await df.getDatafence()).find((f) => f.fenceId === fenceId)!;
const server = () => ({ actionType: 'CREATE', ...pick(catalog, 'FENCE_UBUNTU'), userPassword: PASSWORD });

describe('a fence and its infrastructure', () => {
  test('get-datafence counts live boxes; a new fence has one management server and one NAS, in USE', async () => {
    const fenceId = await newFence('counted');
    const f = await fenceOf(fenceId);
    assert.deepEqual([f.fenceName, f.boxCount, f.statusCode, f.description], ['counted', 0, 'USE', 'counted fence']);
    assert.equal(f.sslVpnName, 'counted-sslvpn');

    const items = await infra(fenceId);
    assert.deepEqual(items.map((i) => i.infraType), ['FENCE_UBUNTU', 'FENCE_NAS']);
    const [srvItem, nas] = items as [(typeof items)[0], (typeof items)[0]];
    assert.equal(srvItem.instanceName, `fence-${fenceId}-1`);
    assert.match(srvItem.privateIp, /^10\.\d+\.\d+\.\d+$/);
    assert.match(srvItem.publicIp, /^203\.0\.113\.\d+$/);
    assert.equal(srvItem.osName, 'ubuntu-22.04');
    assert.equal(srvItem.userName, 'root');
    assert.deepEqual([nas.instanceName, nas.specName, nas.userName, nas.privateIp, nas.osName], [`fence${fenceId}n1`, '500', `/mnt/fence${fenceId}n1`, '', '']);

    await df.createBox({ fenceId, createBoxInfo: boxInfo(catalog) });
    assert.equal((await fenceOf(fenceId)).boxCount, 1);
    await df.createBox({ fenceId, createBoxInfo: boxInfo(catalog) });
    await runTasks(srv);
    assert.equal((await fenceOf(fenceId)).boxCount, 2);
    const [box] = (await df.getBoxList({ fenceId })).content;
    await df.returnBox({ fenceId, boxId: box!.boxId });
    await runTasks(srv);
    assert.equal((await fenceOf(fenceId)).boxCount, 1);
  });

  test('get-fence-custom-image answers the images of the fence (none yet)', async () => {
    const fenceId = await newFence('images');
    assert.deepEqual(await df.getFenceCustomImage({ fenceId, productCode: 'FENCE_UBUNTU' }), { content: [] });
    await rejects(df.getFenceCustomImage({ fenceId, productCode: 'CON' as 'FENCE_UBUNTU' }), 400, '10001');
    await rejects(df.getFenceCustomImage({ fenceId: 999_999, productCode: 'FENCE_UBUNTU' }), 400, '2600053');
  });
});

describe('change-datafence-infra', () => {
  test('adds, changes and returns servers and NAS: ING until the transition runs, then USE; each transition in the history', async () => {
    const fenceId = await newFence('grow');
    const [mgmt, nas] = await infra(fenceId);
    const other = pick(catalog, 'FENCE_UBUNTU', 1).specCode;
    assert.deepEqual(
      await df.changeDatafenceInfra({
        fenceId,
        description: 'grown',
        updateFence: {
          fenceServerList: [server(), { actionType: 'UPDATE', serverInstanceNo: String(mgmt!.instanceNo), specCode: other, softwareCode: pick(catalog, 'FENCE_UBUNTU').softwareCode }],
          fenceNasList: [{ actionType: 'CREATE', nasSize: 1000, count: 2 }],
        },
      } as never),
      { message: 'Fence infra update requested.' },
    );
    let f = await fenceOf(fenceId);
    assert.deepEqual([f.statusCode, f.statusName, f.description], ['ING', 'Changing', 'grown']);
    let items = await infra(fenceId);
    assert.deepEqual(items.map((i) => i.statusCode), ['ING', 'USE', 'INITIALIZE', 'INITIALIZE', 'INITIALIZE']);
    assert.deepEqual(items.slice(3).map((i) => i.instanceName), [`fence${fenceId}n2`, `fence${fenceId}n3`]);
    await rejects(df.changeFenceNasVolume({ fenceId, instanceNo: nas!.instanceNo, volumeSize: 600 }), 400, '2600024');
    await rejects(df.changeDatafenceInfra({ fenceId, updateFence: {} }), 400, '2600024');

    await runTasks(srv);
    f = await fenceOf(fenceId);
    assert.equal(f.statusCode, 'USE');
    items = await infra(fenceId);
    assert.ok(items.every((i) => i.statusCode === 'USE'));
    assert.equal(items[0]!.specName, catalog.find((p) => p.productCode === 'FENCE_UBUNTU')!.specCodeList[1]!.specName);

    // Return the added server and a NAS.
    await df.changeDatafenceInfra({
      fenceId,
      updateFence: {
        fenceServerList: [{ actionType: 'DELETE', serverInstanceNo: items[2]!.instanceNo }],
        fenceNasList: [{ actionType: 'DELETE', nasInstanceNo: String(items[4]!.instanceNo) }],
      },
    });
    assert.deepEqual((await infra(fenceId)).map((i) => i.statusCode), ['USE', 'USE', 'RETURN', 'USE', 'RETURN']);
    await runTasks(srv);
    assert.equal((await infra(fenceId)).length, 3);
    const history = (await df.getDatafenceInfraHistory({ fenceId, size: 100 })).content;
    const returned = history.filter((h) => h.instanceNo === items[2]!.instanceNo);
    assert.deepEqual(returned.map((h) => [h.infraType, h.statusCode]), [['Server', 'TERMINATE'], ['Server', 'RETURN'], ['Server', 'USE'], ['Server', 'INITIALIZE']]);
    assert.match(returned[0]!.endDate, /\+09:00$/);
    assert.equal(returned[1]!.endDate, '');
    assert.ok(history.some((h) => h.infraType === 'NAS' && h.statusCode === 'TERMINATE'));
    const page = await df.getDatafenceInfraHistory({ fenceId, page: 1, size: 4 });
    assert.deepEqual(page.content, history.slice(4, 8));

    const events = await srv.app.ctx.store.db.selectFrom('audit_events').select('action').where('resource', '=', `fence/${fenceId}`).orderBy('seq').execute();
    assert.deepEqual(events.map((e) => e.action), ['fence.change-infra', 'fence.transition', 'fence.change-infra', 'fence.transition']);
  });

  test('refuses, changing nothing: counts (2600031, 2600035), unknown instances (2600040, 2600041), catalogue (2600072, 2600073), conditional fields (10001)', async () => {
    const fenceId = await newFence('refuse');
    const [mgmt, nas] = await infra(fenceId);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['five servers', { fenceServerList: [server(), server(), server(), server()] }, '2600031'],
      ['no server left', { fenceServerList: [{ actionType: 'DELETE', serverInstanceNo: mgmt!.instanceNo }] }, '2600031'],
      ['no NAS left', { fenceNasList: [{ actionType: 'DELETE', nasInstanceNo: nas!.instanceNo }] }, '2600035'],
      ['eleven NAS', { fenceNasList: [{ actionType: 'CREATE', nasSize: 500, count: 10 }] }, '2600035'],
      ['an unknown server', { fenceServerList: [{ actionType: 'UPDATE', serverInstanceNo: '12', specCode: pick(catalog, 'FENCE_UBUNTU').specCode }] }, '2600040'],
      ['the NAS named as a server', { fenceServerList: [{ actionType: 'DELETE', serverInstanceNo: nas!.instanceNo }] }, '2600040'],
      ['an unknown NAS', { fenceNasList: [{ actionType: 'DELETE', nasInstanceNo: 12 }] }, '2600041'],
      ['a box spec on a fence server', { fenceServerList: [{ ...server(), specCode: pick(catalog, 'TF_GPU').specCode }] }, '2600072'],
      ['Windows on a fence server', { fenceServerList: [{ ...server(), softwareCode: pick(catalog, 'SVR_WIN').softwareCode }] }, '2600073'],
      ['a server CREATE without a password', { fenceServerList: [{ ...server(), userPassword: undefined }] }, '10001'],
      ['a server CREATE without a software code', { fenceServerList: [{ ...server(), softwareCode: undefined }] }, '10001'],
      ['a custom image the fence does not have', { fenceServerList: [{ ...server(), serverImageNo: '42' }] }, '10001'],
      ['a NAS CREATE without a size', { fenceNasList: [{ actionType: 'CREATE', count: 1 }] }, '10001'],
      ['a NAS DELETE without its number', { fenceNasList: [{ actionType: 'DELETE' }] }, '10001'],
      ['a NAS size off the steps', { fenceNasList: [{ actionType: 'CREATE', nasSize: 520, count: 1 }] }, '10001'],
    ];
    for (const [what, updateFence, code] of cases) {
      await rejects(df.changeDatafenceInfra({ fenceId, updateFence }), 400, code).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    assert.equal((await fenceOf(fenceId)).statusCode, 'USE');
    assert.equal((await infra(fenceId)).length, 2);
    assert.equal((await df.getDatafenceInfraHistory({ fenceId })).totalCount, 2);
    await rejects(df.changeDatafenceInfra({ fenceId: 999_999, updateFence: {} }), 400, '2600053');
  });
});

describe('change-fence-nas-volume', () => {
  test('resizes a fence NAS through ING; refuses other instances (2600041) and sizes off the steps (10001)', async () => {
    const fenceId = await newFence('resize');
    const [mgmt, nas] = await infra(fenceId);
    assert.deepEqual(await df.changeFenceNasVolume({ fenceId, instanceNo: String(nas!.instanceNo), volumeSize: 2000 }), {
      message: 'Fence volume update requested.',
    });
    assert.deepEqual((await infra(fenceId)).map((i) => i.statusCode), ['USE', 'ING']);
    assert.equal((await fenceOf(fenceId)).statusCode, 'ING');
    await runTasks(srv);
    const after = await infra(fenceId);
    assert.deepEqual([after[1]!.statusCode, after[1]!.specName], ['USE', '2000']);
    assert.equal((await fenceOf(fenceId)).statusCode, 'USE');
    await rejects(df.changeFenceNasVolume({ fenceId, instanceNo: mgmt!.instanceNo, volumeSize: 600 }), 400, '2600041');
    await rejects(df.changeFenceNasVolume({ fenceId, instanceNo: 1, volumeSize: 600 }), 400, '2600041');
    await rejects(df.changeFenceNasVolume({ fenceId, instanceNo: nas!.instanceNo, volumeSize: 450 }), 400, '10001');
    await rejects(df.changeFenceNasVolume({ fenceId: 999_999, instanceNo: nas!.instanceNo, volumeSize: 600 }), 400, '2600053');
  });
});

describe('who may see and change a fence', () => {
  test('box-user keys do not see fence infrastructure (2600003) and cannot change it (401/210); fence-admin keys can', async () => {
    const fenceId = await newFence('roles');
    await df.createBox({ fenceId, createBoxInfo: boxInfo(catalog) });
    await runTasks(srv);
    const [box] = (await df.getBoxList({ fenceId })).content;
    const analyst = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user', undefined, { boxes: [box!.boxId] })) });
    await rejects(analyst.getDatafenceInfraList({ fenceId }), 400, '2600003');
    await rejects(analyst.getDatafenceInfraHistory({ fenceId }), 400, '2600003');
    await rejects(analyst.getFenceCustomImage({ fenceId, productCode: 'FENCE_UBUNTU' }), 400, '2600003');
    const nas = (await infra(fenceId))[1]!;
    await rejects(analyst.changeFenceNasVolume({ fenceId, instanceNo: nas.instanceNo, volumeSize: 600 }), 401, '210');
    await rejects(analyst.changeDatafenceInfra({ fenceId, updateFence: {} }), 401, '210');

    const admin = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('fence-admin')) });
    assert.equal((await admin.getDatafenceInfraList({ fenceId })).totalCount, 2);
    await admin.changeFenceNasVolume({ fenceId, instanceNo: nas.instanceNo, volumeSize: 600 });
    await runTasks(srv);
    assert.equal((await infra(fenceId))[1]!.specName, '600');
  });

  test("another account sees nothing of the fence (2600053)", async () => {
    const fenceId = await newFence('private');
    const stranger = new DatafenceClient({ endpoint: srv.url, ...(await srv.newAccount('df-fences-other')) });
    assert.ok(!(await stranger.getDatafence()).some((f) => f.fenceId === fenceId));
    await rejects(stranger.getDatafenceInfraList({ fenceId }), 400, '2600053');
    await rejects(stranger.getDatafenceInfraHistory({ fenceId }), 400, '2600053');
    await rejects(stranger.getFenceCustomImage({ fenceId, productCode: 'FENCE_UBUNTU' }), 400, '2600053');
    await rejects(stranger.changeDatafenceInfra({ fenceId, updateFence: {} }), 400, '2600053');
    const nas = (await infra(fenceId))[1]!;
    await rejects(stranger.changeFenceNasVolume({ fenceId, instanceNo: nas.instanceNo, volumeSize: 600 }), 400, '2600053');
    assert.equal((await fenceOf(fenceId)).statusCode, 'USE');
  });
});
