/**
 * Datafence boxes over a real socket with the SDK: create-box and its lifecycle, every info and
 * history operation, change-box-infra, change-box-nas-volume (a real volume whose quota is the NAS
 * size), change-box-block-external-network and return-box, each with its documented errors; who
 * may see and change what (owner, fence-admin, box-user keys bound to boxes, other accounts).
 * Transitions are manual here: a change waits in its intermediate state until the test runs the
 * tasks (`POST /_stockade/tasks/run`).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { DatafenceClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, hadoopEntry, infraOf, newestBox, PASSWORD, pick, runTasks, serverEntry, type Catalog } from '../helpers/datafence.js';
import { rejects } from '../helpers/ncp.js';
import type { DatafenceService } from '../../src/services/datafence/service.js';

const GIB = 1024 ** 3;
const BOX_LIMIT = 4;

let srv: TestServer;
let df: DatafenceClient;
let catalog: Catalog;
let fenceId: number;

before(async () => {
  srv = await startTestServer('df-boxes', { config: { transitions: 'box=manual,fence=manual', boxLimit: BOX_LIMIT } });
  df = new DatafenceClient(srv.creds);
  catalog = await df.getProductSpec();
  fenceId = (await df.getDatafence())[0]!.fenceId;
});
after(async () => {
  await srv.close();
});

const svc = () => srv.app.platform.services.find((s) => s.module.name === 'datafence')!.instance as DatafenceService;

/** A fence of its own for a group of tests (each fence holds at most BOX_LIMIT live boxes). */
async function newFence(name: string): Promise<number> {
  const f = await srv.app.ctx.store.tx((trx) => srv.app.ctx.api('datafence').createFence(trx, srv.accountId, { name }));
  return f.id;
}

/** Creates a box and brings it to USE; returns its list row. */
async function usableBox(fence: number, extra: Record<string, unknown> = {}, description = 'analysis box') {
  assert.deepEqual(await df.createBox({ fenceId: fence, description, createBoxInfo: boxInfo(catalog, extra) }), {
    message: 'Box creation requested.',
  });
  const box = await newestBox(df, fence);
  await runTasks(srv);
  return { ...box, statusCode: 'USE' };
}

const statusOf = async (fence: number, boxId: number) => (await df.getBoxSummaryInfo({ fenceId: fence, boxId })).statusCode;
const boxesIn = async (fence: number) => (await df.getBoxHistory({ fenceId: fence, size: 100 })).totalCount;

describe('create-box and the box lifecycle', () => {
  test('a box waits in INITIALIZE with its items until its transition runs, then everything is in USE', async () => {
    const fence = await newFence('lifecycle');
    const info = boxInfo(catalog, {
      windowsServerList: [serverEntry(catalog, 'SVR_WIN')],
      tensorFlowCpuServerList: [serverEntry(catalog, 'TF_CPU')],
      tensorFlowGpuServerList: [serverEntry(catalog, 'TF_GPU')],
      nasList: [{ nasSize: 500, count: 1 }, { nasSize: 1000, count: 1 }],
      hadoopList: [hadoopEntry(catalog, 3)],
    });
    assert.deepEqual(await df.createBox({ fenceId: fence, description: 'team A', createBoxInfo: info }), { message: 'Box creation requested.' });

    const list = await df.getBoxList({ fenceId: fence });
    assert.equal(list.totalCount, 1);
    const box = list.content[0]!;
    assert.equal(box.boxName, 'box1');
    assert.equal(box.description, 'team A');
    assert.equal(box.statusCode, 'INITIALIZE');
    assert.equal(box.statusName, 'Creating infrastructure');
    assert.match(box.createDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$/);
    const [f] = (await df.getDatafence()).filter((x) => x.fenceId === fence);
    assert.equal(f!.boxCount, 1);

    const items = await infraOf(df, fence, box.boxId);
    assert.deepEqual(items.map((i) => i.infraType).sort(), ['BOX_NAS', 'BOX_NAS', 'CON', 'HD', 'SVR_LNX_UBUNTU', 'SVR_WIN', 'TF_CPU', 'TF_GPU']);
    for (const i of items) assert.equal(i.statusCode, 'INITIALIZE', i.instanceName);
    assert.equal(new Set(items.map((i) => i.instanceNo)).size, items.length, 'instance numbers are unique');
    const nas = items.filter((i) => i.infraType === 'BOX_NAS');
    assert.deepEqual(nas.map((n) => n.instanceName), [`${box.boxId}box1`, `${box.boxId}box1n2`]);
    assert.deepEqual(nas.map((n) => n.userName1), [`/mnt/${box.boxId}box1`, `/mnt/${box.boxId}box1n2`]);
    assert.deepEqual(nas.map((n) => n.specName), ['500', '1000']);
    const con = items.find((i) => i.infraType === 'CON')!;
    assert.equal(con.instanceName, `conn-${box.boxId}-1`);
    assert.deepEqual([con.userName1, con.userName2], ['ncp1', 'ncp2']);
    assert.match(con.privateIp, /^10\.\d+\.\d+\.\d+$/);
    assert.ok(con.blockStorageInstanceNo > 0);
    assert.equal(con.blockStorageSize, 100);
    // No volume before the NAS exists.
    const nasRows = (await svc().repo.items(undefined, fence, box.boxId)).filter((i) => i.infra_type === 'BOX_NAS');
    for (const n of nasRows) assert.equal(await srv.app.ctx.volumes.get(n.volume_id!), undefined);

    assert.ok((await runTasks(srv)) >= 1);
    assert.equal(await statusOf(fence, box.boxId), 'USE');
    for (const i of await infraOf(df, fence, box.boxId)) assert.equal(i.statusCode, 'USE', i.instanceName);
    // Each box NAS is a volume whose quota is its size.
    for (const n of nasRows) assert.equal((await srv.app.ctx.volumes.get(n.volume_id!))!.quota_bytes, n.nas_size! * GIB);

    const summary = await df.getBoxSummaryInfo({ fenceId: fence, boxId: box.boxId });
    assert.deepEqual(
      { ...summary, createDate: '' },
      {
        boxId: box.boxId,
        boxName: 'box1',
        description: 'team A',
        mountCount: 6,
        nasCount: 2,
        nasTotalSize: 1500,
        nasInstanceNoList: nas.map((n) => n.instanceNo),
        nasTotalUseSize: 0,
        exportApplyCount: 0,
        webBlockStatus: true,
        statusCode: 'USE',
        statusName: 'In use',
        createDate: '',
      },
    );
    const ko = new DatafenceClient({ ...srv.creds, lang: 'ko-KR' });
    assert.equal((await ko.getBoxSummaryInfo({ fenceId: fence, boxId: box.boxId })).statusName, '이용중');

    // The infra history holds every transition: the box and each item INITIALIZE, then USE.
    const history = await df.getBoxInfraHistory({ fenceId: fence, boxId: box.boxId, size: 100 });
    assert.equal(history.totalCount, 2 * (items.length + 1));
    const byStatus = (s: string) => history.content.filter((h) => h.statusCode === s).map((h) => h.instanceName).sort();
    assert.deepEqual(byStatus('INITIALIZE'), byStatus('USE'));
    assert.ok(history.content.some((h) => h.infraType === 'Connect Server' && h.instanceName === con.instanceName));
    assert.ok(history.content.some((h) => h.infraType === 'Hadoop Cluster'));
    assert.ok(history.content.some((h) => h.infraType === 'Box' && h.instanceNo === box.boxId));
    for (const h of history.content) assert.equal(h.endDate, '');
    // Newest first, 0-based pages.
    assert.equal(history.content[0]!.statusCode, 'USE');
    const page1 = await df.getBoxInfraHistory({ fenceId: fence, boxId: box.boxId, page: 1, size: 3 });
    assert.deepEqual(page1.content, history.content.slice(3, 6));
    const listPage = await df.getBoxInfraList({ fenceId: fence, boxId: box.boxId, page: 2, size: 3 });
    assert.equal(listPage.totalCount, 8);
    assert.equal(listPage.content.length, 2);

    // The audit log has the request and the transition.
    const events = await srv.app.ctx.store.db
      .selectFrom('audit_events')
      .select(['action', 'detail'])
      .where('resource', '=', `fence/${fence}/box/${box.boxId}`)
      .orderBy('seq')
      .execute();
    assert.deepEqual(events.map((e) => e.action), ['box.create', 'box.transition']);
    assert.deepEqual(JSON.parse(events[1]!.detail!), { from: 'INITIALIZE', to: 'USE', version: 1 });
  });

  test('passwords are sealed under their own key and never answered', async () => {
    const fence = await newFence('passwords');
    const box = await usableBox(fence);
    const answers = JSON.stringify([
      await df.getBoxInfraList({ fenceId: fence, boxId: box.boxId }),
      await df.getBoxSummaryInfo({ fenceId: fence, boxId: box.boxId }),
      await df.getBoxInfraHistory({ fenceId: fence, boxId: box.boxId }),
    ]);
    assert.ok(!answers.includes(PASSWORD));
    const rows = await svc().repo.items(undefined, fence, box.boxId);
    const con = rows.find((r) => r.infra_type === 'CON')!;
    assert.ok(con.passwords_enc && !con.passwords_enc.includes(PASSWORD));
    assert.deepEqual(svc().provisioner.openPasswords(con.passwords_enc), { ncp1: PASSWORD, ncp2: PASSWORD });
    // Not the master key's: an access-key secret's sealing cannot open it.
    assert.throws(() => srv.app.ctx.secrets.open(con.passwords_enc!));
    for (const r of rows.filter((x) => x.infra_type === 'BOX_NAS')) assert.equal(r.passwords_enc, null);
  });

  test('create-box refuses, changing nothing: missing or malformed fields (10001), codes off the catalogue (2600072, 2600073), counts (2600031, 2600033, 2600035)', async () => {
    const fence = await newFence('create-errors');
    const before = await boxesIn(fence);
    const lnx = serverEntry(catalog, 'SVR_LNX_UBUNTU');
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['connect server without its ncp1 password', { connectServerList: [{ specCode: pick(catalog, 'CON').specCode, storageSize: 100 }] }, '10001'],
      ['a password without a special character', { linuxServerList: [{ ...lnx, userPassword: 'Password1000' }] }, '10001'],
      ['a NAS size off the 100 GB steps', { nasList: [{ nasSize: 550, count: 1 }] }, '10001'],
      ['block storage off the 10 GB steps', { linuxServerList: [{ ...lnx, storageSize: 105 }] }, '10001'],
      ['a Hadoop cluster without an edge node spec', { hadoopList: [{ ...hadoopEntry(catalog), EdgeNodeSpecCode: undefined }] }, '10001'],
      ['a Hadoop spec code on a Linux server', { linuxServerList: [{ ...lnx, specCode: pick(catalog, 'HD_MASTER').specCode }] }, '2600072'],
      ['an unknown connect server spec', { connectServerList: [{ specCode: 'SVR.NO.SUCH.SPEC', storageSize: 100, userPassword1: PASSWORD }] }, '2600072'],
      ['Windows software on a Linux server', { linuxServerList: [{ ...lnx, softwareCode: pick(catalog, 'SVR_WIN').softwareCode }] }, '2600073'],
      ['one Hadoop worker node (the catalogue says 2–8)', { hadoopList: [hadoopEntry(catalog, 1)] }, '2600031'],
      ['neither a Linux nor a Windows server', { linuxServerList: [] }, '2600033'],
      ['eleven NAS', { nasList: [{ nasSize: 500, count: 6 }, { nasSize: 500, count: 5 }] }, '2600035'],
    ];
    for (const [what, extra, code] of cases) {
      await rejects(df.createBox({ fenceId: fence, createBoxInfo: boxInfo(catalog, extra) }), 400, code).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    await rejects(df.createBox({ fenceId: 999_999, createBoxInfo: boxInfo(catalog) }), 400, '2600053');
    assert.equal(await boxesIn(fence), before);
    const boxItems = await sql<{ n: number }>`select count(*) as n from infra where fence_id = ${fence} and box_id is not null`.execute(srv.app.ctx.store.db);
    assert.equal(Number(boxItems.rows[0]!.n), 0);
  });

  test(`a fence holds at most ${BOX_LIMIT} live boxes (2600011); a returned box frees its place`, async () => {
    const fence = await newFence('limit');
    const ids: number[] = [];
    for (let i = 0; i < BOX_LIMIT; i++) ids.push((await usableBox(fence)).boxId);
    await rejects(df.createBox({ fenceId: fence, createBoxInfo: boxInfo(catalog) }), 400, '2600011');
    assert.deepEqual(await df.returnBox({ fenceId: fence, boxId: ids[0]! }), { message: 'Box return requested.' });
    await runTasks(srv);
    const next = await usableBox(fence);
    // Box names count every box the fence ever had.
    assert.equal(next.boxName, `box${BOX_LIMIT + 1}`);
  });

  test('a fence that is being changed refuses new boxes (2600024) until its change is done', async () => {
    const fence = await newFence('fence-busy');
    const nas = (await df.getDatafenceInfraList({ fenceId: fence })).content.find((i) => i.infraType === 'FENCE_NAS')!;
    await df.changeFenceNasVolume({ fenceId: fence, instanceNo: nas.instanceNo, volumeSize: 600 });
    await rejects(df.createBox({ fenceId: fence, createBoxInfo: boxInfo(catalog) }), 400, '2600024');
    await runTasks(srv);
    await usableBox(fence);
  });
});

describe('server and cluster info', () => {
  let fence: number;
  let boxId: number;
  let items: Awaited<ReturnType<typeof infraOf>>;
  before(async () => {
    fence = await newFence('info');
    boxId = (
      await usableBox(fence, {
        windowsServerList: [serverEntry(catalog, 'SVR_WIN')],
        tensorFlowGpuServerList: [serverEntry(catalog, 'TF_GPU')],
        nasList: [{ nasSize: 500, count: 2 }],
        hadoopList: [hadoopEntry(catalog, 4)],
      })
    ).boxId;
    items = await infraOf(df, fence, boxId);
  });
  const no = (type: string) => items.find((i) => i.infraType === type)!.instanceNo;

  test('get-connect-info and get-windows-info list the NAS at C:\\mount\\… and the block storage at D:\\', async () => {
    const expected = {
      storageList: [
        { name: 'NAS for export requests', storagePath: `C:\\mount\\${boxId}box1` },
        { name: 'NAS for export requests', storagePath: `C:\\mount\\${boxId}box1n2` },
        { name: 'Block storage for work files', storagePath: 'D:\\' },
      ],
    };
    assert.deepEqual(await df.getConnectInfo({ fenceId: fence, boxId, instanceNo: no('CON') }), expected);
    assert.deepEqual(await df.getWindowsInfo({ fenceId: fence, boxId, instanceNo: no('SVR_WIN') }), expected);
    const ko = new DatafenceClient({ ...srv.creds, lang: 'ko-KR' });
    assert.equal((await ko.getConnectInfo({ fenceId: fence, boxId, instanceNo: no('CON') })).storageList[0]!.name, '반출신청용 NAS');
  });

  test('get-linux-info and get-tensorflow-info list the NAS at /mnt/…; TensorFlow answers its notebooks', async () => {
    const storage = [
      { name: 'NAS for export requests', storagePath: `/mnt/${boxId}box1` },
      { name: 'NAS for export requests', storagePath: `/mnt/${boxId}box1n2` },
      { name: 'Block storage for work files', storagePath: '/mnt/blockstorage' },
    ];
    assert.deepEqual(await df.getLinuxInfo({ fenceId: fence, boxId, instanceNo: no('SVR_LNX_UBUNTU') }), { storageList: storage });
    const tf = items.find((i) => i.infraType === 'TF_GPU')!;
    const info = await df.getTensorflowInfo({ fenceId: fence, boxId, instanceNo: tf.instanceNo });
    assert.deepEqual(info.storageList, storage);
    assert.deepEqual(info.connectionList.map((c) => c.applicationName), ['Jupyter Notebook', 'TensorBoard']);
    assert.equal(info.connectionList[0]!.connectionUrl, `https://${tf.privateIp}:8888`);
  });

  test('get-hadoop-cluster-info answers its applications, node specs and NAS', async () => {
    const info = await df.getHadoopClusterInfo({ fenceId: fence, boxId, hadoopClusterNo: no('HD') });
    assert.deepEqual(info.connectionList.map((c) => c.applicationName), ['Ambari', 'Hue', 'Zeppelin']);
    assert.deepEqual(info.nodeSpecList.map((n) => [n.name, n.nodeCount]), [['Hadoop Edge', 1], ['Hadoop Master', 2], ['Hadoop Worker', 4]]);
    assert.equal(info.nodeSpecList[0]!.spec, catalog.find((p) => p.productCode === 'HD_EDGE')!.specCodeList[0]!.specName);
    assert.deepEqual(info.storageList.map((s) => s.storagePath), [`/mnt/${boxId}box1`, `/mnt/${boxId}box1n2`]);
  });

  test('an instance of another kind or no instance is 2600040; an unknown box 2600054; an unknown fence 2600053', async () => {
    await rejects(df.getConnectInfo({ fenceId: fence, boxId, instanceNo: no('SVR_LNX_UBUNTU') }), 400, '2600040');
    await rejects(df.getLinuxInfo({ fenceId: fence, boxId, instanceNo: 1 }), 400, '2600040');
    await rejects(df.getWindowsInfo({ fenceId: fence, boxId, instanceNo: no('CON') }), 400, '2600040');
    await rejects(df.getTensorflowInfo({ fenceId: fence, boxId, instanceNo: no('BOX_NAS') }), 400, '2600040');
    await rejects(df.getHadoopClusterInfo({ fenceId: fence, boxId, hadoopClusterNo: no('CON') }), 400, '2600040');
    await rejects(df.getConnectInfo({ fenceId: fence, boxId: 999_999, instanceNo: no('CON') }), 400, '2600054');
    await rejects(df.getBoxSummaryInfo({ fenceId: fence, boxId: 999_999 }), 400, '2600054');
    await rejects(df.getBoxInfraList({ fenceId: fenceId, boxId }), 400, '2600054');
    await rejects(df.getBoxInfraHistory({ fenceId: 999_999, boxId }), 400, '2600053');
    await rejects(df.getLinuxInfo({ fenceId: fence, boxId } as never), 400, '10001');
  });
});

describe('change-box-infra', () => {
  let fence: number;
  let boxId: number;
  before(async () => {
    fence = await newFence('change');
    boxId = (await usableBox(fence, { tensorFlowCpuServerList: [serverEntry(catalog, 'TF_CPU')] })).boxId;
  });
  const items = () => infraOf(df, fence, boxId);
  const change = (updateBoxInfo: Record<string, unknown>) => df.changeBoxInfra({ fenceId: fence, updateBoxInfo: { boxId, ...updateBoxInfo } });

  test('adds, changes and returns items: ING until the transition runs, then USE and TERMINATE; NAS volumes follow', async () => {
    const before = await items();
    const lnx = before.find((i) => i.infraType === 'SVR_LNX_UBUNTU')!;
    const tf = before.find((i) => i.infraType === 'TF_CPU')!;
    const bigger = pick(catalog, 'SVR_LNX_UBUNTU', 2).specCode;
    assert.deepEqual(
      await change({
        description: 'team A, phase 2',
        linuxServerList: [
          // Instance numbers documented as Strings in this operation (§2.3).
          { actionType: 'UPDATE', serverInstanceNo: String(lnx.instanceNo), blockStorageInstanceNo: String(lnx.blockStorageInstanceNo), specCode: bigger, storageSize: 200 },
        ],
        windowsServerList: [{ actionType: 'CREATE', ...serverEntry(catalog, 'SVR_WIN') }],
        tensorFlowCpuServerList: [{ actionType: 'DELETE', serverInstanceNo: String(tf.instanceNo) }],
        boxNasList: [{ actionType: 'CREATE', nasSize: 700, count: 1 }],
        hadoopList: [{ actionType: 'CREATE', ...hadoopEntry(catalog), EdgeNodeSpecCode: undefined, edgeNodeSpecCode: pick(catalog, 'HD_EDGE').specCode }],
      }),
      { message: 'Box infra update requested.' },
    );
    const mid = await items();
    const status = (pred: (i: (typeof mid)[number]) => boolean) => mid.filter(pred).map((i) => i.statusCode);
    assert.equal(await statusOf(fence, boxId), 'ING');
    assert.deepEqual(status((i) => i.instanceNo === lnx.instanceNo), ['ING']);
    assert.deepEqual(status((i) => i.instanceNo === tf.instanceNo), ['RETURN']);
    assert.deepEqual(status((i) => i.infraType === 'SVR_WIN'), ['INITIALIZE']);
    assert.deepEqual(status((i) => i.infraType === 'HD'), ['INITIALIZE']);
    assert.deepEqual(status((i) => i.infraType === 'BOX_NAS').sort(), ['INITIALIZE', 'USE']);

    await runTasks(srv);
    const after = await items();
    assert.equal(await statusOf(fence, boxId), 'USE');
    assert.ok(after.every((i) => i.statusCode === 'USE'));
    assert.ok(!after.some((i) => i.instanceNo === tf.instanceNo), 'the returned server is gone from the list');
    const updated = after.find((i) => i.instanceNo === lnx.instanceNo)!;
    assert.equal(updated.specName, catalog.find((p) => p.productCode === 'SVR_LNX_UBUNTU')!.specCodeList[2]!.specName);
    assert.equal(updated.blockStorageSize, 200);
    const newNas = after.find((i) => i.infraType === 'BOX_NAS' && i.specName === '700')!;
    assert.equal(newNas.instanceName, `${boxId}box1n2`);
    const row = (await svc().repo.items(undefined, fence, boxId)).find((r) => r.instance_no === newNas.instanceNo)!;
    assert.equal((await srv.app.ctx.volumes.get(row.volume_id!))!.quota_bytes, 700 * GIB);
    assert.equal((await df.getBoxSummaryInfo({ fenceId: fence, boxId })).description, 'team A, phase 2');
    const history = (await df.getBoxInfraHistory({ fenceId: fence, boxId, size: 100 })).content;
    const tfHistory = history.filter((h) => h.instanceNo === tf.instanceNo);
    assert.deepEqual(tfHistory.map((h) => h.statusCode), ['TERMINATE', 'RETURN', 'USE', 'INITIALIZE']);
    assert.match(tfHistory[0]!.endDate, /\+09:00$/);

    // The returned NAS goes with its volume.
    const nasToDrop = after.find((i) => i.instanceNo === newNas.instanceNo)!;
    await change({ boxNasList: [{ actionType: 'DELETE', nasInstanceNo: String(nasToDrop.instanceNo) }] });
    await runTasks(srv);
    assert.equal(await srv.app.ctx.volumes.get(row.volume_id!), undefined);
    assert.ok(!fs.existsSync(path.join(srv.app.ctx.volumes.root, row.volume_id!)));
  });

  test('a server whose spec is being changed is rebooting: box changes answer 2600010 until it is done', async () => {
    const lnx = (await items()).find((i) => i.infraType === 'SVR_LNX_UBUNTU')!;
    await change({ linuxServerList: [{ actionType: 'UPDATE', serverInstanceNo: lnx.instanceNo, specCode: pick(catalog, 'SVR_LNX_UBUNTU', 1).specCode }] });
    const nas = (await items()).find((i) => i.infraType === 'BOX_NAS')!;
    await rejects(change({ description: 'again' }), 400, '2600010');
    await rejects(df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: nas.instanceNo, volumeSize: 600 }), 400, '2600010');
    await rejects(df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId, isBlock: false }), 400, '2600010');
    await rejects(df.returnBox({ fenceId: fence, boxId }), 400, '2600010');
    await runTasks(srv);
    assert.equal(await statusOf(fence, boxId), 'USE');
  });

  test('a box being changed refuses another change (2600023)', async () => {
    const nas = (await items()).find((i) => i.infraType === 'BOX_NAS')!;
    await df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: nas.instanceNo, volumeSize: 600 });
    await rejects(change({ description: 'meanwhile' }), 400, '2600023');
    await rejects(df.returnBox({ fenceId: fence, boxId }), 400, '2600023');
    await runTasks(srv);
  });

  test('refuses, changing nothing: unknown instances (2600040, 2600041), counts (2600031, 2600033, 2600035, 2600038), catalogue (2600072, 2600073), conditional fields (10001)', async () => {
    const live = await items();
    const lnx = live.find((i) => i.infraType === 'SVR_LNX_UBUNTU')!;
    const win = live.find((i) => i.infraType === 'SVR_WIN')!;
    const hd = live.find((i) => i.infraType === 'HD')!;
    const nas = live.filter((i) => i.infraType === 'BOX_NAS');
    const con = () => ({ actionType: 'CREATE', specCode: pick(catalog, 'CON').specCode, storageSize: 100, userPassword1: PASSWORD });
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['UPDATE of an unknown server', { linuxServerList: [{ actionType: 'UPDATE', serverInstanceNo: 12345, specCode: pick(catalog, 'SVR_LNX_UBUNTU').specCode }] }, '2600040'],
      ['DELETE of a Windows server named as Linux', { linuxServerList: [{ actionType: 'DELETE', serverInstanceNo: win.instanceNo }] }, '2600040'],
      ['a block storage that is not the server\'s', { linuxServerList: [{ actionType: 'UPDATE', serverInstanceNo: lnx.instanceNo, blockStorageInstanceNo: win.blockStorageInstanceNo }] }, '2600040'],
      ['UPDATE of an unknown cluster', { hadoopList: [{ actionType: 'UPDATE', hadoopClusterNo: '777', workerNodeCount: 3 }] }, '2600040'],
      ['DELETE of an unknown NAS', { boxNasList: [{ actionType: 'DELETE', nasInstanceNo: '777' }] }, '2600041'],
      ['five connect servers', { connectServerList: [con(), con(), con(), con()] }, '2600031'],
      ['a Hadoop cluster of 9 workers', { hadoopList: [{ actionType: 'UPDATE', hadoopClusterNo: hd.instanceNo, workerNodeCount: 9 }] }, '10001'],
      ['no Linux and no Windows server left', { linuxServerList: [{ actionType: 'DELETE', serverInstanceNo: lnx.instanceNo }], windowsServerList: [{ actionType: 'DELETE', serverInstanceNo: win.instanceNo }] }, '2600033'],
      ['no NAS left', { boxNasList: nas.map((n) => ({ actionType: 'DELETE', nasInstanceNo: n.instanceNo })) }, '2600035'],
      ['a third Hadoop cluster', { hadoopList: [{ actionType: 'CREATE', ...hadoopEntry(catalog) }, { actionType: 'CREATE', ...hadoopEntry(catalog) }] }, '2600038'],
      ['an unknown spec in an UPDATE', { windowsServerList: [{ actionType: 'UPDATE', serverInstanceNo: win.instanceNo, specCode: 'NOPE' }] }, '2600072'],
      ['Linux software on a Windows server', { windowsServerList: [{ actionType: 'CREATE', ...serverEntry(catalog, 'SVR_WIN'), softwareCode: pick(catalog, 'SVR_LNX_UBUNTU').softwareCode }] }, '2600073'],
      ['an UPDATE without serverInstanceNo', { linuxServerList: [{ actionType: 'UPDATE', specCode: pick(catalog, 'SVR_LNX_UBUNTU').specCode }] }, '10001'],
      ['a CREATE without a password', { windowsServerList: [{ actionType: 'CREATE', ...serverEntry(catalog, 'SVR_WIN'), userPassword: undefined }] }, '10001'],
      ['a NAS CREATE without a count', { boxNasList: [{ actionType: 'CREATE', nasSize: 500 }] }, '10001'],
      ['one server named twice', { linuxServerList: [{ actionType: 'UPDATE', serverInstanceNo: lnx.instanceNo }, { actionType: 'DELETE', serverInstanceNo: lnx.instanceNo }] }, '10001'],
      ['shrinking block storage', { linuxServerList: [{ actionType: 'UPDATE', serverInstanceNo: lnx.instanceNo, storageSize: 10 }] }, '10001'],
    ];
    const historyBefore = (await df.getBoxInfraHistory({ fenceId: fence, boxId })).totalCount;
    for (const [what, body, code] of cases) {
      await rejects(change(body), 400, code).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    assert.equal(await statusOf(fence, boxId), 'USE');
    assert.deepEqual(await items(), live);
    assert.equal((await df.getBoxInfraHistory({ fenceId: fence, boxId })).totalCount, historyBefore);
    await rejects(df.changeBoxInfra({ fenceId: fence, updateBoxInfo: { boxId: 999_999 } }), 400, '2600054');
  });

  test('a Hadoop cluster changes its workers and is returned', async () => {
    const hd = (await items()).find((i) => i.infraType === 'HD')!;
    await change({ hadoopList: [{ actionType: 'UPDATE', hadoopClusterNo: String(hd.instanceNo), workerNodeCount: 6 }] });
    await runTasks(srv);
    const info = await df.getHadoopClusterInfo({ fenceId: fence, boxId, hadoopClusterNo: hd.instanceNo });
    assert.equal(info.nodeSpecList[2]!.nodeCount, 6);
    await change({ hadoopList: [{ actionType: 'DELETE', hadoopClusterNo: hd.instanceNo }] });
    await runTasks(srv);
    await rejects(df.getHadoopClusterInfo({ fenceId: fence, boxId, hadoopClusterNo: hd.instanceNo }), 400, '2600040');
  });
});

describe('change-box-nas-volume: the NAS is a volume whose quota is its size', () => {
  test('grows and shrinks the quota; refuses a size below what is stored, files written behind Stockade\'s back included (2600047)', async () => {
    const fence = await newFence('nas');
    const { boxId } = await usableBox(fence);
    const nas = (await infraOf(df, fence, boxId)).find((i) => i.infraType === 'BOX_NAS')!;
    const volumeId = (await svc().repo.items(undefined, fence, boxId)).find((r) => r.instance_no === nas.instanceNo)!.volume_id!;

    assert.deepEqual(await df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: String(nas.instanceNo), volumeSize: 1000 }), {
      message: 'Box volume update requested.',
    });
    assert.equal((await infraOf(df, fence, boxId)).find((i) => i.instanceNo === nas.instanceNo)!.statusCode, 'ING');
    await runTasks(srv);
    assert.equal((await srv.app.ctx.volumes.get(volumeId))!.quota_bytes, 1000 * GIB);
    assert.equal((await df.getBoxSummaryInfo({ fenceId: fence, boxId })).nasTotalSize, 1000);

    // 700 GB of data (a sparse file) written straight into the NAS, as a box would.
    const dir = (await srv.app.ctx.volumes.open(volumeId)).root;
    const fd = fs.openSync(path.join(dir, 'results.bin'), 'w');
    fs.ftruncateSync(fd, 700 * GIB);
    fs.closeSync(fd);
    await rejects(df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: nas.instanceNo, volumeSize: 600 }), 400, '2600047');
    assert.equal((await srv.app.ctx.volumes.get(volumeId))!.quota_bytes, 1000 * GIB);
    assert.equal(await statusOf(fence, boxId), 'USE');
    assert.equal((await df.getBoxSummaryInfo({ fenceId: fence, boxId })).nasTotalUseSize, 700);

    await df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: nas.instanceNo, volumeSize: 800 });
    await runTasks(srv);
    assert.equal((await srv.app.ctx.volumes.get(volumeId))!.quota_bytes, 800 * GIB);
    const history = (await df.getBoxInfraHistory({ fenceId: fence, boxId, size: 100 })).content.filter((h) => h.instanceNo === nas.instanceNo);
    assert.deepEqual(history.map((h) => h.statusCode), ['USE', 'ING', 'USE', 'ING', 'USE', 'INITIALIZE']);

    const lnx = (await infraOf(df, fence, boxId)).find((i) => i.infraType === 'SVR_LNX_UBUNTU')!;
    await rejects(df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: lnx.instanceNo, volumeSize: 800 }), 400, '2600041');
    await rejects(df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: nas.instanceNo, volumeSize: 850 }), 400, '10001');
    await rejects(df.changeBoxNasVolume({ fenceId: fence, boxId, instanceNo: nas.instanceNo, volumeSize: 10_100 }), 400, '10001');
  });
});

describe('change-box-block-external-network', () => {
  test('a box starts blocked; allowing takes effect when the change is done; the same setting again is 2600005', async () => {
    const fence = await newFence('network');
    const { boxId } = await usableBox(fence);
    await rejects(df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId, isBlock: true }), 400, '2600005');
    assert.deepEqual(await df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId, isBlock: false }), {
      message: 'Box network setting modification requested.',
    });
    let s = await df.getBoxSummaryInfo({ fenceId: fence, boxId });
    assert.deepEqual([s.statusCode, s.webBlockStatus], ['ING', true]);
    await rejects(df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId, isBlock: true }), 400, '2600023');
    await runTasks(srv);
    s = await df.getBoxSummaryInfo({ fenceId: fence, boxId });
    assert.deepEqual([s.statusCode, s.webBlockStatus], ['USE', false]);
    await rejects(df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId, isBlock: false }), 400, '2600005');
    await df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId, isBlock: true });
    await runTasks(srv);
    assert.equal((await df.getBoxSummaryInfo({ fenceId: fence, boxId })).webBlockStatus, true);
    const box = (await df.getBoxInfraHistory({ fenceId: fence, boxId, size: 100 })).content.filter((h) => h.infraType === 'Box');
    assert.deepEqual(box.map((h) => h.statusCode), ['USE', 'ING', 'USE', 'ING', 'USE', 'INITIALIZE']);
    await rejects(df.changeBoxBlockExternalNetwork({ fenceId: fence, boxId: 999_999, isBlock: false }), 400, '2600054');
  });
});

describe('return-box', () => {
  test('RETURN, then TERMINATE: the box leaves the list, stays in the history with its endDate, and its NAS volumes are removed', async () => {
    const fence = await newFence('return');
    const { boxId } = await usableBox(fence, { nasList: [{ nasSize: 500, count: 2 }] });
    const volumes = (await svc().repo.items(undefined, fence, boxId)).filter((r) => r.infra_type === 'BOX_NAS').map((r) => r.volume_id!);
    for (const v of volumes) await (await srv.app.ctx.volumes.open(v)).write('notes.txt', Readable.from([Buffer.from('kept until the box goes')]));

    assert.deepEqual(await df.returnBox({ fenceId: fence, boxId }), { message: 'Box return requested.' });
    assert.equal(await statusOf(fence, boxId), 'RETURN');
    for (const i of await infraOf(df, fence, boxId)) assert.equal(i.statusCode, 'RETURN');
    // Still there while RETURN.
    for (const v of volumes) assert.ok(await srv.app.ctx.volumes.get(v));
    await rejects(df.returnBox({ fenceId: fence, boxId }), 400, '2600023');

    await runTasks(srv);
    assert.equal((await df.getBoxList({ fenceId: fence })).totalCount, 0);
    assert.equal((await df.getDatafence()).find((f) => f.fenceId === fence)!.boxCount, 0);
    const [h] = (await df.getBoxHistory({ fenceId: fence })).content;
    assert.equal(h!.boxId, boxId);
    assert.equal(h!.statusCode, 'TERMINATE');
    assert.equal(h!.statusName, 'Termination completed');
    assert.match(h!.endDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$/);
    assert.equal((await df.getBoxInfraList({ fenceId: fence, boxId })).totalCount, 0);
    const terminated = (await df.getBoxInfraHistory({ fenceId: fence, boxId, size: 100 })).content.filter((x) => x.statusCode === 'TERMINATE');
    assert.equal(terminated.length, 5, 'the box and its four items');
    for (const v of volumes) {
      assert.equal(await srv.app.ctx.volumes.get(v), undefined);
      assert.ok(!fs.existsSync(path.join(srv.app.ctx.volumes.root, v)), `${v} removed`);
    }
    assert.equal((await df.getBoxSummaryInfo({ fenceId: fence, boxId })).statusCode, 'TERMINATE');
    await rejects(df.returnBox({ fenceId: fence, boxId }), 400, '2600023');
    await rejects(df.changeBoxInfra({ fenceId: fence, updateBoxInfo: { boxId, description: 'x' } }), 400, '2600023');
  });
});

describe('who may see and change boxes', () => {
  let fence: number;
  let mine: number;
  let other: number;
  before(async () => {
    fence = await newFence('scopes');
    mine = (await usableBox(fence)).boxId;
    other = (await usableBox(fence)).boxId;
  });

  test('a box-user key bound to a box sees that box only, and 2600003 for every other box or fence', async () => {
    const analyst = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user', undefined, { boxes: [mine] })) });
    const fences = await analyst.getDatafence();
    assert.deepEqual(fences.map((f) => [f.fenceId, f.boxCount]), [[fence, 1]]);
    assert.deepEqual((await analyst.getBoxList({ fenceId: fence })).content.map((b) => b.boxId), [mine]);
    assert.deepEqual((await analyst.getBoxHistory({ fenceId: fence })).content.map((b) => b.boxId), [mine]);
    assert.equal((await analyst.getBoxSummaryInfo({ fenceId: fence, boxId: mine })).boxId, mine);
    const con = (await infraOf(analyst, fence, mine)).find((i) => i.infraType === 'CON')!;
    assert.equal((await analyst.getConnectInfo({ fenceId: fence, boxId: mine, instanceNo: con.instanceNo })).storageList.length, 2);
    await analyst.getBoxInfraHistory({ fenceId: fence, boxId: mine });

    await rejects(analyst.getBoxSummaryInfo({ fenceId: fence, boxId: other }), 400, '2600003');
    await rejects(analyst.getBoxInfraList({ fenceId: fence, boxId: other }), 400, '2600003');
    await rejects(analyst.getBoxSummaryInfo({ fenceId: fence, boxId: 999_999 }), 400, '2600003');
    await rejects(analyst.getDatafenceInfraList({ fenceId: fence }), 400, '2600003');
    await rejects(analyst.getBoxList({ fenceId }), 400, '2600003');
    // Changing infrastructure is not an analyst's: the gateway refuses the role (401/210).
    await rejects(analyst.createBox({ fenceId: fence, createBoxInfo: boxInfo(catalog) }), 401, '210');
    await rejects(analyst.returnBox({ fenceId: fence, boxId: mine }), 401, '210');
    await rejects(analyst.changeBoxBlockExternalNetwork({ fenceId: fence, boxId: mine, isBlock: false }), 401, '210');

    const unbound = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
    assert.deepEqual(await unbound.getDatafence(), []);
    await rejects(unbound.getBoxSummaryInfo({ fenceId: fence, boxId: mine }), 400, '2600003');
  });

  test('a fence-admin key manages boxes like the owner', async () => {
    const admin = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('fence-admin')) });
    await admin.changeBoxBlockExternalNetwork({ fenceId: fence, boxId: other, isBlock: false });
    await runTasks(srv);
    assert.equal((await admin.getBoxSummaryInfo({ fenceId: fence, boxId: other })).webBlockStatus, false);
  });

  test("another account's key sees nothing of these boxes (2600053) and cannot bind its keys to them", async () => {
    const acc = await srv.newAccount('df-boxes-other');
    const stranger = new DatafenceClient({ endpoint: srv.url, ...acc });
    assert.ok(!(await stranger.getDatafence()).some((f) => f.fenceId === fence));
    await rejects(stranger.getBoxList({ fenceId: fence }), 400, '2600053');
    await rejects(stranger.getBoxSummaryInfo({ fenceId: fence, boxId: mine }), 400, '2600053');
    await rejects(stranger.returnBox({ fenceId: fence, boxId: mine }), 400, '2600053');
    await assert.rejects(srv.newKey('box-user', acc.accountId, { boxes: [mine] }), /no box/);
    assert.equal(await statusOf(fence, mine), 'USE');
  });
});
