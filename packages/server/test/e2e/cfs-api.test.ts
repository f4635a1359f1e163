/**
 * Cloud File Storage: the 20 operations over a real socket, every request signed by Baidu's own
 * signer (`@baiducloud/sdk`): success paths, each documented error (nothing changed), idempotent
 * replays, paging across pages, isolation between accounts, the owner role, and usage measured in
 * the background (manual clock + `POST /_stockade/tasks/run`). NFS itself: cfs-nfs.test.ts.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../src/tasks/clock.js';
import { CfsRepository } from '../../src/services/cfs/repository.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { assertBceError, bceCaller, bceRawCaller, ok, type BceCall } from '../helpers/bce.js';

const VPC = 'vpc-test00000001';
const VPC2 = 'vpc-test00000002';
const SUB_A = 'sbn-test0000001a';
const SUB_B = 'sbn-test0000001b';
const SUB_C = 'sbn-test0000001c';
const SUB_2A = 'sbn-test0000002a';
const SETTINGS = {
  zones: ['zoneA', 'zoneB', 'zoneC'],
  vpcs: [
    {
      vpcId: VPC,
      cidr: '10.1.0.0/16',
      subnets: [
        { subnetId: SUB_A, zone: 'zoneA', cidr: '10.1.0.0/24' },
        { subnetId: SUB_B, zone: 'zoneB', cidr: '10.1.1.0/24' },
        { subnetId: SUB_C, zone: 'zoneC', cidr: '10.1.2.0/29' },
      ],
    },
    { vpcId: VPC2, cidr: '10.2.0.0/16', subnets: [{ subnetId: SUB_2A, zone: 'zoneA', cidr: '10.2.0.0/24' }] },
  ],
  fileSystemsPerAccount: 6,
  usageIntervalSeconds: 30,
};
const DEFAULT_GROUP = 'DEFAULT_ACCESS_GROUP_NAME';

let srv: TestServer;
let clock: ManualClock;
let cfs: BceCall;
let other: BceCall;

before(async () => {
  clock = new ManualClock(Date.now());
  srv = await startTestServer('cfs_api', { clock, config: { cfsSettings: SETTINGS } });
  cfs = bceCaller(srv.url, srv, clock);
  other = bceCaller(srv.url, await srv.newAccount('cfs-other'), clock);
});
after(async () => {
  await srv.close();
});

interface Fs {
  fsId: string;
  fsName: string;
  type: string;
  protocol: string;
  status: string;
  vpcId: string;
  zone: string;
  fsUsage: string;
  capacityQuota: number;
  tags: Array<{ tagKey: string; tagValue: string }>;
  mountTargetList: Array<{ mountId: string; domain: string; subnetId: string; accessGroupName: string; ovip: string }>;
}
interface Paged {
  marker?: string;
  isTruncated: boolean;
  nextMarker?: string;
  maxKeys: number;
}

async function createFs(call: BceCall, body: Record<string, unknown> = {}, query: Record<string, string> = {}): Promise<string> {
  const r = ok(await call<{ fsId: string }>('POST', '/v1/cfs', { query, body: { fsName: 'files', zone: 'zoneA', ...body } }));
  assert.match(r.fsId, /^cfs-[A-Za-z0-9]{10}$/);
  return r.fsId;
}
async function getFs(call: BceCall, fsId: string): Promise<Fs | undefined> {
  return ok(await call<{ fileSystemList: Fs[] }>('GET', '/v1/cfs', { query: { fsId } })).fileSystemList[0];
}
async function quota(call: BceCall): Promise<{ total: number; created: number }> {
  return ok(await call<{ total: number; created: number }>('GET', '/v1/cfs/quota'));
}
async function mount(call: BceCall, fsId: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = ok(await call<{ mountId: string; domain: string }>('POST', `/v1/cfs/${fsId}`, { body: { vpcId: VPC, subnetId: SUB_A, ...body } }));
  assert.match(r.mountId, /^[0-9a-f]{48}$/);
  assert.equal(r.domain, '127.0.0.1', 'the NFS server a client mounts');
  return r.mountId;
}
/** The directory holding a file system's files (the API does not name its volume). */
async function volumeDir(fsId: string, accountId = srv.accountId): Promise<string> {
  const f = await new CfsRepository(srv.app.ctx.store).getFileSystem(accountId, fsId);
  assert.ok(f, `no file system ${fsId}`);
  return srv.app.ctx.volumes.dirOf(f.volume_id);
}
/** Every page of a list, following nextMarker; returns the pages. */
async function pages<T extends Paged>(fetchPage: (marker?: string) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  for (;;) {
    const p = await fetchPage(marker);
    out.push(p);
    if (!p.isTruncated) return out;
    assert.ok(p.nextMarker, 'a truncated page names the next marker');
    marker = p.nextMarker;
    assert.ok(out.length < 50);
  }
}

describe('CreateFileSystem and GetFsQuota', () => {
  test('creates a file system with the documented defaults, backed by a volume', async () => {
    const before = await quota(cfs);
    const fsId = await createFs(cfs, { fsName: 'alpha/data.v1', tags: [{ tagKey: 'team', tagValue: 'red' }], capacityQuota: 2_000_000_000 });
    const f = await getFs(cfs, fsId);
    assert.deepEqual(f, {
      fsId,
      fsName: 'alpha/data.v1',
      type: 'cap',
      protocol: 'nfs',
      status: 'available',
      vpcId: VPC,
      zone: 'zoneA',
      fsUsage: '0',
      capacityQuota: 2_000_000_000,
      tags: [{ tagKey: 'team', tagValue: 'red' }],
      mountTargetList: [],
    });
    assert.deepEqual(await quota(cfs), { total: 6, created: before.created + 1 });
    const root = fs.statSync(await volumeDir(fsId));
    assert.ok(root.isDirectory());
    assert.equal(root.mode & 0o777, 0o777, 'every user (squashed ones too) may write in a new file system');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });

  test("takes the Go SDK's empty type/protocol as unset, the Java SDK's `protocal`, a VPC, and ignores unknown fields", async () => {
    const a = await createFs(cfs, { type: '', protocol: '', vpcId: VPC2, surprise: { x: 1 } });
    const b = await createFs(cfs, { type: 'ssd', protocal: 'nfs', zone: 'zoneC' });
    assert.equal((await getFs(cfs, a))?.type, 'cap');
    assert.equal((await getFs(cfs, a))?.vpcId, VPC2);
    assert.equal((await getFs(cfs, b))?.type, 'ssd');
    assert.equal((await getFs(cfs, b))?.protocol, 'nfs');
    for (const id of [a, b]) ok(await cfs('DELETE', `/v1/cfs/${id}`));
  });

  test('refuses bad input with the documented code, naming the parameter, and creates nothing', async () => {
    const before = await quota(cfs);
    const cases: Array<[Record<string, unknown>, number, string, RegExp?]> = [
      [{ fsName: undefined }, 400, 'MissingParameter', /fsName/],
      [{ zone: undefined }, 400, 'MissingParameter', /zone/],
      [{ fsName: '1starts-with-a-digit' }, 400, 'InvalidFSName'],
      [{ fsName: 'has space' }, 400, 'InvalidFSName'],
      [{ fsName: 'a'.repeat(66) }, 400, 'InvalidFSName'],
      [{ fsName: 42 }, 400, 'InvalidFSName'],
      [{ type: 'hdd' }, 400, 'InvalidFSType'],
      [{ protocol: 'ftp' }, 400, 'InvalidFSProtocol'],
      [{ protocol: 'smb' }, 400, 'InvalidFSProtocol', /NFS only/],
      [{ zone: 'zoneZ' }, 400, 'AvailabilityZoneNotFound', /zoneZ/],
      [{ vpcId: 'vpc-nosuchvpc01' }, 400, 'InvalidVpcId', /vpc-nosuchvpc01/],
      [{ capacityQuota: 5 }, 400, 'InvalidParameter', /capacityQuota/],
      [{ capacityQuota: -1 }, 400, 'InvalidParameter', /capacityQuota/],
      [{ tags: [{ tagKey: 'k', tagValue: '1' }, { tagKey: 'k', tagValue: '2' }] }, 400, 'InvalidParameter', /tags/],
      [{ tags: [{ tagValue: 'v' }] }, 400, 'MissingParameter', /tags\[0\]\.tagKey/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await cfs('POST', '/v1/cfs', { body: { fsName: 'ok-name', zone: 'zoneA', ...body } });
      assertBceError(r, status, code, message);
    }
    assertBceError(await cfs('POST', '/v1/cfs', { body: '{"fsName": ' }), 400, 'MalformedJSON');
    assertBceError(await cfs('POST', '/v1/cfs', { body: [] }), 400, 'InappropriateJSON');
    for (const clientToken of ['x'.repeat(65), 'tok en', 'tök']) {
      assertBceError(await cfs('POST', '/v1/cfs', { query: { clientToken }, body: { fsName: 'ok', zone: 'zoneA' } }), 400, 'InvalidClientToken');
    }
    assert.deepEqual(await quota(cfs), before);
  });

  test('FsNumQuotaExceeded past the limit GetFsQuota reports', async () => {
    const acct = bceCaller(srv.url, await srv.newAccount('cfs-quota'), clock);
    assert.deepEqual(await quota(acct), { total: 6, created: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createFs(acct, { fsName: `q${i}` }));
    assertBceError(await acct('POST', '/v1/cfs', { body: { fsName: 'one-more', zone: 'zoneA' } }), 400, 'FsNumQuotaExceeded');
    assert.deepEqual(await quota(acct), { total: 6, created: 6 });
    ok(await acct('DELETE', `/v1/cfs/${ids[0]}`));
    await createFs(acct, { fsName: 'fits-again' });
  });

  test('a clientToken replays the first answer; other parameters with it are IdempotentParameterMismatch', async () => {
    const before = await quota(cfs);
    const first = await createFs(cfs, { fsName: 'idem' }, { clientToken: 'create-fs-1' });
    const again = await createFs(cfs, { fsName: 'idem' }, { clientToken: 'create-fs-1' });
    assert.equal(again, first);
    assertBceError(
      await cfs('POST', '/v1/cfs', { query: { clientToken: 'create-fs-1' }, body: { fsName: 'idem-other', zone: 'zoneA' } }),
      403,
      'IdempotentParameterMismatch',
    );
    // Tokens are per account: another account's identical request creates its own.
    const theirs = ok(await other<{ fsId: string }>('POST', '/v1/cfs', { query: { clientToken: 'create-fs-1' }, body: { fsName: 'idem', zone: 'zoneA' } }));
    assert.notEqual(theirs.fsId, first);
    assert.deepEqual(await quota(cfs), { ...before, created: before.created + 1 });
    ok(await cfs('DELETE', `/v1/cfs/${first}`));
    ok(await other('DELETE', `/v1/cfs/${theirs.fsId}`));
  });
});

describe('QueryFileSystem', () => {
  const mine: string[] = [];
  before(async () => {
    for (let i = 0; i < 5; i++) mine.push(await createFs(cfs, { fsName: `list-${i}`, tags: i % 2 ? [{ tagKey: 'env', tagValue: `e${i}` }] : [] }));
    mine.sort();
  });
  after(async () => {
    for (const id of mine) ok(await cfs('DELETE', `/v1/cfs/${id}`));
  });

  test('pages with markers across several pages, in id order', async () => {
    const all = await pages(async (marker) => ok(await cfs<{ fileSystemList: Fs[] } & Paged>('GET', '/v1/cfs', { query: { maxKeys: 2, marker } })));
    assert.equal(all.length, 3);
    assert.deepEqual(all.flatMap((p) => p.fileSystemList.map((f) => f.fsId)), mine);
    assert.equal(all[0]!.marker, '');
    assert.equal(all[1]!.marker, mine[2]);
    assert.equal(all[2]!.nextMarker, undefined);
    assert.deepEqual(all.map((p) => p.maxKeys), [2, 2, 2]);
  });

  test('filters by fsId list and by tag (any value with @@@)', async () => {
    const ids = async (query: Record<string, string>) =>
      ok(await cfs<{ fileSystemList: Fs[] }>('GET', '/v1/cfs', { query })).fileSystemList.map((f) => f.fsId);
    assert.deepEqual(await ids({ fsId: `${mine[3]},${mine[0]}` }), [mine[0], mine[3]]);
    const tagged = await ids({ filterTag: 'env:@@@' });
    assert.equal(tagged.length, 2);
    const one = (await getFs(cfs, tagged[0]!))!.tags[0]!;
    assert.deepEqual(await ids({ filterTag: `env:${one.tagValue}` }), [tagged[0]]);
    assert.deepEqual(await ids({ filterTag: 'env:nope' }), []);
  });

  test('refuses a bad filterTag or maxKeys with InvalidParameter', async () => {
    assertBceError(await cfs('GET', '/v1/cfs', { query: { filterTag: 'novalue' } }), 400, 'InvalidParameter', /filterTag/);
    for (const maxKeys of ['0', '1001', 'ten']) assertBceError(await cfs('GET', '/v1/cfs', { query: { maxKeys } }), 400, 'InvalidParameter', /maxKeys/);
  });

  test("another account sees none of them, by list, by id or by naming this account's userId", async () => {
    const theirs = ok(await other<{ fileSystemList: Fs[] }>('GET', '/v1/cfs', { query: { fsId: mine.join(',') } }));
    assert.deepEqual(theirs.fileSystemList, []);
    const listed = ok(await other<{ fileSystemList: Fs[] }>('GET', '/v1/cfs', { query: { userId: srv.accountId } }));
    assert.deepEqual(listed.fileSystemList, []);
  });
});

describe('UpdateFileSystem, UpdateFileSystemTags, DropFileSystem', () => {
  test('renames and changes the quota (0 = no limit)', async () => {
    const fsId = await createFs(cfs);
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { fsName: 'renamed' } }));
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 1_000_000_000 } }));
    let f = await getFs(cfs, fsId);
    assert.equal(f?.fsName, 'renamed');
    assert.equal(f?.capacityQuota, 1_000_000_000);
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 0 } }));
    f = await getFs(cfs, fsId);
    assert.equal(f?.capacityQuota, 0);
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });

  test('refuses a bad name or quota, an unknown file system, and another account', async () => {
    const fsId = await createFs(cfs, { fsName: 'keep-me' });
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { fsName: '-bad' } }), 400, 'InvalidFSName');
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 999 } }), 400, 'InvalidParameter', /capacityQuota/);
    assertBceError(await cfs('PUT', '/v1/cfs/cfs-NoSuchFs00', { body: { fsName: 'x' } }), 404, 'InstanceNotFound');
    assertBceError(await other('PUT', `/v1/cfs/${fsId}`, { body: { fsName: 'stolen' } }), 404, 'InstanceNotFound');
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}`, { body: '{' }), 400, 'MalformedJSON');
    assert.equal((await getFs(cfs, fsId))?.fsName, 'keep-me');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });

  test('takes a quota beyond 2^53 up to the documented 10 PB, as a JSON number reads', async () => {
    // Once answered 500: the volume store took only integers up to 2^53 − 1.
    const tenPiB = 10 * 2 ** 50;
    const fsId = await createFs(cfs, { capacityQuota: tenPiB });
    assert.equal((await getFs(cfs, fsId))?.capacityQuota, tenPiB);
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 1e16 } }));
    assert.equal((await getFs(cfs, fsId))?.capacityQuota, 1e16);
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: tenPiB + 2 ** 10 } }), 400, 'InvalidParameter', /capacityQuota/);
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });

  test('hostile requests: NUL is InvalidParameter naming it, an undecodable path InvalidURI, a body not UTF-8 or a 100 KB query InvalidHTTPRequest, a body nested 10,000 deep InappropriateJSON', async () => {
    const fsId = await createFs(cfs, { fsName: 'untouched' });
    const raw = bceRawCaller(srv.url, srv);
    // NUL answered 500 on PostgreSQL, which cannot store it; now every database refuses it.
    assertBceError(await raw('GET', '/v1/cfs/ab%00cd'), 400, 'InvalidParameter', /fsId/);
    assertBceError(await raw('GET', '/v1/cfs?fsId=%00'), 400, 'InvalidParameter', /fsId/);
    assertBceError(await raw('PUT', `/v1/accessGroup/${DEFAULT_GROUP}`, JSON.stringify({ description: 'a\u0000b' })), 400, 'InvalidParameter', /description/);
    assertBceError(await raw('GET', '/v1/cfs/%E0%A4'), 400, 'InvalidURI');
    const notUtf8 = Buffer.concat([Buffer.from('{"fsName":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    assertBceError(await raw('PUT', `/v1/cfs/${fsId}`, notUtf8), 400, 'InvalidHTTPRequest', /UTF-8/);
    assertBceError(await raw('GET', `/v1/cfs?fsId=${'y'.repeat(100 * 1024)}`), 400, 'InvalidHTTPRequest', /exceed \d+ bytes/);
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    assertBceError(await raw('PUT', `/v1/cfs/${fsId}`, `{"fsName":"x","tags":${deep}}`), 400, 'InappropriateJSON', /deeper than 64/);
    assert.equal((await getFs(cfs, fsId))?.fsName, 'untouched');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });

  test('tags: one file system has its tags replaced, several have tags added', async () => {
    const a = await createFs(cfs, { tags: [{ tagKey: 'a', tagValue: '1' }] });
    const b = await createFs(cfs, { tags: [{ tagKey: 'b', tagValue: '1' }] });
    const tags = async (id: string) => (await getFs(cfs, id))!.tags;
    ok(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: [a], tags: [{ tagKey: 'x', tagValue: 'y' }] } }));
    assert.deepEqual(await tags(a), [{ tagKey: 'x', tagValue: 'y' }]);
    ok(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: [a, b], tags: [{ tagKey: 'b', tagValue: '2' }, { tagKey: 'c', tagValue: '3' }] } }));
    assert.deepEqual(await tags(a), [{ tagKey: 'x', tagValue: 'y' }, { tagKey: 'b', tagValue: '2' }, { tagKey: 'c', tagValue: '3' }]);
    assert.deepEqual(await tags(b), [{ tagKey: 'b', tagValue: '2' }, { tagKey: 'c', tagValue: '3' }]);
    ok(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: [a] } }));
    assert.deepEqual(await tags(a), []);

    // Errors change nothing, on any of the file systems named.
    assertBceError(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: [b, 'cfs-NoSuchFs00'], tags: [{ tagKey: 'z', tagValue: '' }] } }), 404, 'InstanceNotFound');
    assertBceError(await other('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: [b], tags: [] } }), 404, 'InstanceNotFound');
    assertBceError(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { tags: [] } }), 400, 'MissingParameter', /fsId/);
    assertBceError(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: Array.from({ length: 11 }, () => b) } }), 400, 'InvalidParameter', /fsId/);
    assertBceError(await cfs('POST', '/v1/cfs', { query: { tag: null }, body: { fsId: [b], tags: [{ tagKey: 'k', tagValue: '1' }, { tagKey: 'k', tagValue: '2' }] } }), 400, 'InvalidParameter');
    assert.deepEqual(await tags(b), [{ tagKey: 'b', tagValue: '2' }, { tagKey: 'c', tagValue: '3' }]);
    for (const id of [a, b]) ok(await cfs('DELETE', `/v1/cfs/${id}`));
  });

  test('dropping removes the file system and its files; a mounted one is DropMountedFS; twice is InstanceNotFound', async () => {
    const fsId = await createFs(cfs);
    const mountId = await mount(cfs, fsId);
    const dir = await volumeDir(fsId);
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'file.bin'), Buffer.alloc(1000, 7));
    assertBceError(await cfs('DELETE', `/v1/cfs/${fsId}`), 409, 'DropMountedFS');
    assertBceError(await other('DELETE', `/v1/cfs/${fsId}`), 404, 'InstanceNotFound');
    assert.ok(fs.existsSync(path.join(dir, 'sub', 'file.bin')));
    ok(await cfs('DELETE', `/v1/cfs/${fsId}/${mountId}`));
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
    assert.equal(fs.existsSync(dir), false, 'the files are gone');
    assert.equal(await getFs(cfs, fsId), undefined);
    assertBceError(await cfs('DELETE', `/v1/cfs/${fsId}`), 404, 'InstanceNotFound');
  });
});


interface MountTarget {
  mountId: string;
  domain: string;
  subnetId: string;
  accessGroupName: string;
  ovip: string;
}

describe('mount targets', () => {
  let fsId: string;
  before(async () => {
    fsId = await createFs(cfs, { fsName: 'mounted' });
  });

  test('CreateMountTarget: one per subnet, the first free address or the one asked for; listed, paged and embedded', async () => {
    const a = await mount(cfs, fsId);
    const b = await mount(cfs, fsId, { subnetId: SUB_B, accessGroupName: '' });
    const c = await mount(cfs, fsId, { subnetId: SUB_C, address: '10.1.2.5' });
    const all = await pages(async (marker) =>
      ok(await cfs<{ mountTargetList: MountTarget[] } & Paged>('GET', `/v1/cfs/${fsId}`, { query: { maxKeys: 1, marker } })),
    );
    assert.equal(all.length, 3);
    const listed = all.flatMap((p) => p.mountTargetList);
    assert.deepEqual(listed.map((m) => m.mountId), [a, b, c].sort());
    const byId = new Map(listed.map((m) => [m.mountId, m]));
    assert.deepEqual(byId.get(a), { mountId: a, domain: '127.0.0.1', subnetId: SUB_A, accessGroupName: DEFAULT_GROUP, ovip: '10.1.0.2' });
    assert.equal(byId.get(b)?.ovip, '10.1.1.2');
    assert.equal(byId.get(c)?.ovip, '10.1.2.5');
    assert.deepEqual(ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${fsId}`, { query: { mountId: b } })).mountTargetList, [byId.get(b)]);
    assert.deepEqual((await getFs(cfs, fsId))?.mountTargetList.map((m) => m.mountId), [a, b, c].sort());

    // The address of another file system's mount target is taken; the next free one is not.
    const second = await createFs(cfs, { fsName: 'neighbour' });
    assertBceError(await cfs('POST', `/v1/cfs/${second}`, { body: { vpcId: VPC, subnetId: SUB_A, address: '10.1.0.2' } }), 400, 'InvalidParameter', /address/);
    const n = await mount(cfs, second);
    assert.equal(ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${second}`)).mountTargetList[0]?.ovip, '10.1.0.3');
    ok(await cfs('DELETE', `/v1/cfs/${second}/${n}`));
    ok(await cfs('DELETE', `/v1/cfs/${second}`));
  });

  test('CreateMountTarget refuses, changing nothing: same subnet, bad VPC or subnet, unknown group or file system', async () => {
    const count = async () => ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${fsId}`)).mountTargetList.length;
    const before = await count();
    const post = (body: Record<string, unknown>, id = fsId) => cfs('POST', `/v1/cfs/${id}`, { body: { vpcId: VPC, subnetId: SUB_A, ...body } });
    assertBceError(await post({}), 409, 'AlreadyMounted');
    assertBceError(await post({ vpcId: 'vpc-nosuch000001' }), 400, 'InvalidVpcId');
    assertBceError(await post({ vpcId: VPC2, subnetId: SUB_2A }), 400, 'InvalidVpcId', new RegExp(VPC));
    assertBceError(await post({ subnetId: SUB_2A }), 400, 'InvalidSubnetId');
    assertBceError(await post({ subnetId: 'sbn-nosuch000001' }), 400, 'InvalidSubnetId');
    assertBceError(await post({ subnetId: undefined }), 400, 'MissingParameter', /subnetId/);
    assertBceError(await post({ vpcId: undefined }), 400, 'MissingParameter', /vpcId/);
    assertBceError(await post({ accessGroupName: 'no_such_group' }), 404, 'AccessGroupNotFound');
    assertBceError(await post({ accessGroupName: '1bad' }), 400, 'InvalidParameter', /accessGroupName/);
    assertBceError(await post({ address: '10.9.9.9' }), 400, 'InvalidParameter', /address/);
    assertBceError(await post({}, 'cfs-NoSuchFs00'), 404, 'InstanceNotFound');
    assertBceError(await other('POST', `/v1/cfs/${fsId}`, { body: { vpcId: VPC, subnetId: SUB_B } }), 404, 'InstanceNotFound');
    assert.equal(await count(), before);
  });

  test('CreateMountTarget with a clientToken replays its mount id', async () => {
    const f = await createFs(cfs, { fsName: 'idem-mount' });
    const q = { clientToken: 'mt-token-1' };
    const r1 = ok(await cfs<{ mountId: string }>('POST', `/v1/cfs/${f}`, { query: q, body: { vpcId: VPC, subnetId: SUB_B } }));
    const r2 = ok(await cfs<{ mountId: string }>('POST', `/v1/cfs/${f}`, { query: q, body: { vpcId: VPC, subnetId: SUB_B } }));
    assert.equal(r2.mountId, r1.mountId);
    assertBceError(await cfs('POST', `/v1/cfs/${f}`, { query: q, body: { vpcId: VPC, subnetId: SUB_C } }), 403, 'IdempotentParameterMismatch');
    ok(await cfs('DELETE', `/v1/cfs/${f}/${r1.mountId}`));
    ok(await cfs('DELETE', `/v1/cfs/${f}`));
  });

  test('QueryMountTarget: InstanceNotFound for an unknown or foreign file system; an unknown mountId lists nothing', async () => {
    assertBceError(await cfs('GET', '/v1/cfs/cfs-NoSuchFs00'), 404, 'InstanceNotFound');
    assertBceError(await other('GET', `/v1/cfs/${fsId}`), 404, 'InstanceNotFound');
    assert.deepEqual(ok(await cfs<{ mountTargetList: unknown[] }>('GET', `/v1/cfs/${fsId}`, { query: { mountId: 'ab'.repeat(24) } })).mountTargetList, []);
    assertBceError(await cfs('GET', `/v1/cfs/${fsId}`, { query: { maxKeys: 0 } }), 400, 'InvalidParameter', /maxKeys/);
  });

  test('ModifyMountTargetAccessGroup binds another group; its errors change nothing', async () => {
    ok(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'modify_target' } }));
    const m = ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${fsId}`)).mountTargetList[0]!;
    ok(await cfs('PUT', `/v1/cfs/${fsId}/${m.mountId}`, { body: { accessGroupName: 'modify_target' } }));
    const group = async () => ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${fsId}`, { query: { mountId: m.mountId } })).mountTargetList[0]?.accessGroupName;
    assert.equal(await group(), 'modify_target');
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}/${m.mountId}`, { body: { accessGroupName: 'no_such_group' } }), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}/${'0'.repeat(48)}`, { body: { accessGroupName: DEFAULT_GROUP } }), 404, 'MountTargetNotFound');
    assertBceError(await cfs('PUT', `/v1/cfs/cfs-NoSuchFs00/${m.mountId}`, { body: { accessGroupName: DEFAULT_GROUP } }), 404, 'InstanceNotFound');
    assertBceError(await other('PUT', `/v1/cfs/${fsId}/${m.mountId}`, { body: { accessGroupName: DEFAULT_GROUP } }), 404, 'InstanceNotFound');
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}/${m.mountId}`, { body: {} }), 400, 'MissingParameter', /accessGroupName/);
    assert.equal(await group(), 'modify_target');
    ok(await cfs('PUT', `/v1/cfs/${fsId}/${m.mountId}`, { body: { accessGroupName: DEFAULT_GROUP } }));
    ok(await cfs('DELETE', '/v1/accessGroup/modify_target'));
  });

  test('QueryMountedClients: without an NFS server in this process no client is known; its errors', async () => {
    const r = ok(await cfs<{ clientInfoList: unknown[] } & Paged>('GET', '/v1/cfs/clients', { query: { fsId } }));
    assert.deepEqual(r, { clientInfoList: [], isTruncated: false, maxKeys: 1000 });
    assertBceError(await cfs('GET', '/v1/cfs/clients'), 400, 'MissingParameter', /fsId/);
    assertBceError(await cfs('GET', '/v1/cfs/clients', { query: { fsId: 'cfs-NoSuchFs00' } }), 404, 'InstanceNotFound');
    assertBceError(await other('GET', '/v1/cfs/clients', { query: { fsId } }), 404, 'InstanceNotFound');
  });

  test('DropMountTarget removes one; again is MountTargetNotFound; another account gets InstanceNotFound', async () => {
    const list = ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${fsId}`)).mountTargetList;
    assertBceError(await other('DELETE', `/v1/cfs/${fsId}/${list[0]!.mountId}`), 404, 'InstanceNotFound');
    for (const m of list) ok(await cfs('DELETE', `/v1/cfs/${fsId}/${m.mountId}`));
    assertBceError(await cfs('DELETE', `/v1/cfs/${fsId}/${list[0]!.mountId}`), 404, 'MountTargetNotFound');
    assertBceError(await cfs('DELETE', `/v1/cfs/cfs-NoSuchFs00/${list[0]!.mountId}`), 404, 'InstanceNotFound');
    assert.deepEqual(ok(await cfs<{ mountTargetList: MountTarget[] }>('GET', `/v1/cfs/${fsId}`)).mountTargetList, []);
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });
});

interface Rule {
  accessRuleId: number;
  ip: string;
  mask: number;
  writeAccess: string;
  userAccess: string;
  priority: number;
}
interface Group {
  accessGroupName: string;
  description: string;
  accessRules: Rule[];
}

describe('access groups', () => {
  test('every account has the default group, whose one rule admits every address', async () => {
    for (const call of [cfs, other]) {
      const r = ok(await call<{ accessGroups: Group[] }>('GET', '/v1/accessGroup', { query: { accessGroupName: DEFAULT_GROUP } }));
      assert.deepEqual(r.accessGroups, [
        {
          accessGroupName: DEFAULT_GROUP,
          description: '',
          accessRules: [{ accessRuleId: 1, ip: '0.0.0.0', mask: 0, writeAccess: 'read_write', userAccess: 'no_squash', priority: 100 }],
        },
      ]);
    }
  });

  test('create, find by either name parameter, page, describe; duplicates and bad names refused', async () => {
    for (const name of ['grp_b', 'grp_a', 'grp-c.1']) ok(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: name, description: `about ${name}` } }));
    const all = await pages(async (marker) => ok(await cfs<{ accessGroups: Group[] } & Paged>('GET', '/v1/accessGroup', { query: { maxKeys: 2, marker } })));
    assert.equal(all.length, 2);
    assert.deepEqual(all.flatMap((p) => p.accessGroups.map((g) => g.accessGroupName)), [DEFAULT_GROUP, 'grp-c.1', 'grp_a', 'grp_b']);
    for (const param of ['accessGroupName', 'agName']) {
      const r = ok(await cfs<{ accessGroups: Group[] }>('GET', '/v1/accessGroup', { query: { [param]: 'grp_a' } }));
      assert.deepEqual(r.accessGroups, [{ accessGroupName: 'grp_a', description: 'about grp_a', accessRules: [] }]);
    }
    assert.deepEqual(ok(await other<{ accessGroups: Group[] }>('GET', '/v1/accessGroup', { query: { agName: 'grp_a' } })).accessGroups, []);

    assertBceError(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'grp_a' } }), 409, 'AccessGroupAlreadyExists');
    assertBceError(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: DEFAULT_GROUP } }), 409, 'AccessGroupAlreadyExists');
    assertBceError(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: '_bad' } }), 400, 'InvalidParameter', /accessGroupName/);
    assertBceError(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'x'.repeat(66) } }), 400, 'InvalidParameter');
    assertBceError(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'long_desc', description: 'd'.repeat(1025) } }), 400, 'InvalidParameter', /description/);
    assertBceError(await cfs('POST', '/v1/accessGroup', { body: {} }), 400, 'MissingParameter', /accessGroupName/);
    // Another account may use the same name.
    ok(await other('POST', '/v1/accessGroup', { body: { accessGroupName: 'grp_a' } }));

    ok(await cfs('PUT', '/v1/accessGroup/grp_b', { body: { description: 'changed' } }));
    assert.equal(ok(await cfs<{ accessGroups: Group[] }>('GET', '/v1/accessGroup', { query: { agName: 'grp_b' } })).accessGroups[0]?.description, 'changed');
    assertBceError(await cfs('PUT', '/v1/accessGroup/no_such_group', { body: { description: 'x' } }), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('PUT', '/v1/accessGroup/grp_b', { body: { description: 'd'.repeat(1025) } }), 400, 'InvalidParameter');
    assertBceError(await other('PUT', '/v1/accessGroup/grp_b', { body: { description: 'x' } }), 404, 'AccessGroupNotFound');
  });

  test('CreateAccessGroup with a clientToken replays its empty answer', async () => {
    const q = { clientToken: 'ag-token-1' };
    const r1 = await cfs('POST', '/v1/accessGroup', { query: q, body: { accessGroupName: 'idem_group' } });
    const r2 = await cfs('POST', '/v1/accessGroup', { query: q, body: { accessGroupName: 'idem_group' } });
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r1.text, '');
    assert.equal(r2.text, '');
    assertBceError(await cfs('POST', '/v1/accessGroup', { query: q, body: { accessGroupName: 'idem_other' } }), 403, 'IdempotentParameterMismatch');
    ok(await cfs('DELETE', '/v1/accessGroup/idem_group'));
  });

  test('DeleteAccessGroup: never the default group, nor one a mount target is bound to', async () => {
    ok(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'bound' } }));
    const fsId = await createFs(cfs);
    const m = await mount(cfs, fsId, { accessGroupName: 'bound' });
    assertBceError(await cfs('DELETE', `/v1/accessGroup/${DEFAULT_GROUP}`), 409, 'AccessGroupInUse', /default/);
    assertBceError(await cfs('DELETE', '/v1/accessGroup/bound'), 409, 'AccessGroupInUse', /mount target/);
    assertBceError(await other('DELETE', '/v1/accessGroup/bound'), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('DELETE', '/v1/accessGroup/no_such_group'), 404, 'AccessGroupNotFound');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}/${m}`));
    ok(await cfs('DELETE', '/v1/accessGroup/bound'));
    assertBceError(await cfs('DELETE', '/v1/accessGroup/bound'), 404, 'AccessGroupNotFound');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
  });
});

describe('access rules', () => {
  before(async () => {
    ok(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'rules' } }));
  });
  const rules = async (query: Record<string, string | number> = {}) =>
    ok(await cfs<{ accessRules: Rule[] } & Paged>('GET', '/v1/accessGroup/rules', { query })).accessRules;

  test('CreateAccessRule: ids from 1 per group; IPv4 and IPv6; listed, filtered by either id parameter, paged', async () => {
    const r1 = ok(await cfs<{ accessRuleId: number }>('POST', '/v1/accessGroup/rules', { body: { ip: '10.0.0.0', mask: 8, writeAccess: 'read_write', userAccess: 'root_squash', priority: 10 } }));
    const r2 = ok(await cfs<{ accessRuleId: number }>('POST', '/v1/accessGroup/rules', { body: { ip: '2001:db8::', mask: 32, writeAccess: 'read_only', userAccess: 'all_squash', priority: 1 } }));
    assert.deepEqual([r1.accessRuleId, r2.accessRuleId], [1, 2]);
    const batch = ok(
      await cfs<{ responses: Array<{ accessRuleId: number }> }>('POST', '/v1/accessGroup/batchCreateAccessRule', {
        body: {
          ag_name: 'rules',
          access_rules: [
            { ip: '192.168.1.7', mask: 32, write_access: 'read_write', user_access: 'no_squash', priority: 50 },
            { ip: '::1', mask: 128, write_access: 'read_only', user_access: 'no_squash', priority: 100 },
          ],
        },
      }),
    );
    assert.deepEqual(batch.responses, [{ accessRuleId: 3 }, { accessRuleId: 4 }]);
    assert.deepEqual(await rules({ arId: 2 }), [{ accessRuleId: 2, ip: '2001:db8::', mask: 32, writeAccess: 'read_only', userAccess: 'all_squash', priority: 1 }]);
    assert.deepEqual((await rules({ accessRuleId: 3 })).map((r) => r.ip), ['192.168.1.7']);
    const all = await pages(async (marker) => ok(await cfs<{ accessRules: Rule[] } & Paged>('GET', '/v1/accessGroup/rules', { query: { maxKeys: 3, marker } })));
    assert.equal(all.length, 2);
    assert.deepEqual(all.flatMap((p) => p.accessRules.map((r) => r.accessRuleId)), [1, 2, 3, 4]);
    assert.equal(all[1]!.marker, '4');
    // QueryAccessGroups carries the rules too.
    const g = ok(await cfs<{ accessGroups: Group[] }>('GET', '/v1/accessGroup', { query: { agName: 'rules' } })).accessGroups[0]!;
    assert.deepEqual(g.accessRules.map((r) => r.accessRuleId), [1, 2, 3, 4]);
  });

  test('rules are validated: address, mask per family, access, squash, priority 1–100; nothing is created', async () => {
    const before = (await rules()).length;
    const good = { ip: '10.1.2.3', mask: 32, writeAccess: 'read_write', userAccess: 'no_squash', priority: 5 };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ip: '10.1.2' }, 'InvalidParameter', /ip/],
      [{ ip: '300.1.2.3' }, 'InvalidParameter', /ip/],
      [{ ip: 'fe80::1::2' }, 'InvalidParameter', /ip/],
      [{ mask: 33 }, 'InvalidParameter', /mask/],
      [{ ip: '2001:db8::', mask: 129 }, 'InvalidParameter', /mask/],
      [{ writeAccess: 'write' }, 'InvalidParameter', /writeAccess/],
      [{ userAccess: 'squash_all' }, 'InvalidParameter', /userAccess/],
      [{ priority: 0 }, 'InvalidParameter', /priority/],
      [{ priority: 101 }, 'InvalidParameter', /priority/],
      [{ priority: undefined }, 'MissingParameter', /priority/],
    ];
    for (const [change, code, message] of cases) {
      assertBceError(await cfs('POST', '/v1/accessGroup/rules', { body: { ...good, ...change } }), 400, code, message);
    }
    const snake = { ip: '10.1.2.3', mask: 32, write_access: 'read_write', user_access: 'no_squash', priority: 5 };
    assertBceError(
      await cfs('POST', '/v1/accessGroup/batchCreateAccessRule', { body: { ag_name: 'rules', access_rules: [snake, { ...snake, mask: 40 }] } }),
      400,
      'InvalidParameter',
      /access_rules\[1\]\.mask/,
    );
    assertBceError(
      await cfs('POST', '/v1/accessGroup/batchCreateAccessRule', { body: { ag_name: 'rules', access_rules: Array.from({ length: 101 }, () => snake) } }),
      400,
      'InvalidParameter',
      /access_rules/,
    );
    assertBceError(await cfs('POST', '/v1/accessGroup/batchCreateAccessRule', { body: { ag_name: 'rules', access_rules: [] } }), 400, 'InvalidParameter');
    assertBceError(await cfs('POST', '/v1/accessGroup/batchCreateAccessRule', { body: { access_rules: [snake] } }), 400, 'MissingParameter', /ag_name/);
    assertBceError(await cfs('POST', '/v1/accessGroup/no_such_group', { body: good }), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('POST', '/v1/accessGroup/batchCreateAccessRule', { body: { ag_name: 'no_such_group', access_rules: [snake] } }), 404, 'AccessGroupNotFound');
    assertBceError(await other('POST', '/v1/accessGroup/rules', { body: good }), 404, 'AccessGroupNotFound');
    assertBceError(await other('POST', '/v1/accessGroup/batchCreateAccessRule', { body: { ag_name: 'rules', access_rules: [snake] } }), 404, 'AccessGroupNotFound');
    assertBceError(await other('GET', '/v1/accessGroup/rules'), 404, 'AccessGroupNotFound');
    assert.equal((await rules()).length, before);
  });

  test('rule creation with a clientToken replays the same ids', async () => {
    const body = { ip: '172.16.0.0', mask: 12, writeAccess: 'read_only', userAccess: 'root_squash', priority: 20 };
    const a = ok(await cfs<{ accessRuleId: number }>('POST', '/v1/accessGroup/rules', { query: { clientToken: 'rule-1' }, body }));
    const b = ok(await cfs<{ accessRuleId: number }>('POST', '/v1/accessGroup/rules', { query: { clientToken: 'rule-1' }, body }));
    assert.equal(b.accessRuleId, a.accessRuleId);
    assertBceError(await cfs('POST', '/v1/accessGroup/rules', { query: { clientToken: 'rule-1' }, body: { ...body, priority: 21 } }), 403, 'IdempotentParameterMismatch');
    const batchBody = { ag_name: 'rules', access_rules: [{ ip: '172.17.0.1', mask: 32, write_access: 'read_only', user_access: 'root_squash', priority: 30 }] };
    const c = ok(await cfs<{ responses: unknown[] }>('POST', '/v1/accessGroup/batchCreateAccessRule', { query: { clientToken: 'batch-1' }, body: batchBody }));
    const d = ok(await cfs<{ responses: unknown[] }>('POST', '/v1/accessGroup/batchCreateAccessRule', { query: { clientToken: 'batch-1' }, body: batchBody }));
    assert.deepEqual(d, c);
    assert.equal((await rules({ accessRuleId: a.accessRuleId })).length, 1);
  });

  test('UpdateAccessRule replaces a rule; DeleteAccessRule removes it; unknown ids and groups refused', async () => {
    const body = { ip: '10.20.0.0', mask: 16, writeAccess: 'read_only', userAccess: 'all_squash', priority: 99 };
    ok(await cfs('PUT', '/v1/accessGroup/rules/1', { body }));
    assert.deepEqual(await rules({ arId: 1 }), [{ accessRuleId: 1, ...body }]);
    assertBceError(await cfs('PUT', '/v1/accessGroup/rules/999', { body }), 404, 'AccessRuleNotFound');
    assertBceError(await cfs('PUT', '/v1/accessGroup/no_such_group/1', { body }), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('PUT', '/v1/accessGroup/rules/1', { body: { ...body, mask: 64 } }), 400, 'InvalidParameter', /mask/);
    assertBceError(await cfs('PUT', '/v1/accessGroup/rules/x', { body }), 400, 'InvalidParameter', /arId/);
    assertBceError(await other('PUT', '/v1/accessGroup/rules/1', { body }), 404, 'AccessGroupNotFound');
    assert.deepEqual(await rules({ arId: 1 }), [{ accessRuleId: 1, ...body }]);

    assertBceError(await other('DELETE', '/v1/accessGroup/rules/1'), 404, 'AccessGroupNotFound');
    ok(await cfs('DELETE', '/v1/accessGroup/rules/1'));
    assert.deepEqual(await rules({ arId: 1 }), []);
    assertBceError(await cfs('DELETE', '/v1/accessGroup/rules/1'), 404, 'AccessRuleNotFound');
    assertBceError(await cfs('DELETE', '/v1/accessGroup/no_such_group/1'), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('GET', '/v1/accessGroup/no_such_group'), 404, 'AccessGroupNotFound');
    assertBceError(await cfs('GET', '/v1/accessGroup/rules', { query: { marker: 'zz' } }), 400, 'InvalidParameter', /marker/);
    // Ids are never reused within a group.
    const next = ok(await cfs<{ accessRuleId: number }>('POST', '/v1/accessGroup/rules', { body }));
    assert.ok(next.accessRuleId > 4);
  });
});

describe('the owner role', () => {
  test('a key without the owner role is refused every operation: 403 AccessDenied', async () => {
    const admin = bceCaller(srv.url, await srv.newKey('fence-admin'), clock);
    const analyst = bceCaller(srv.url, await srv.newKey('box-user'), clock);
    const fsId = 'cfs-AAAAAAAAAA';
    const calls: Array<[string, string, Record<string, string | null>?]> = [
      ['POST', '/v1/cfs'],
      ['GET', '/v1/cfs'],
      ['PUT', `/v1/cfs/${fsId}`],
      ['DELETE', `/v1/cfs/${fsId}`],
      ['POST', '/v1/cfs', { tag: null }],
      ['GET', '/v1/cfs/quota'],
      ['POST', `/v1/cfs/${fsId}`],
      ['GET', `/v1/cfs/${fsId}`],
      ['PUT', `/v1/cfs/${fsId}/abc`],
      ['DELETE', `/v1/cfs/${fsId}/abc`],
      ['GET', '/v1/cfs/clients', { fsId }],
      ['POST', '/v1/accessGroup'],
      ['GET', '/v1/accessGroup'],
      ['PUT', `/v1/accessGroup/${DEFAULT_GROUP}`],
      ['DELETE', '/v1/accessGroup/grp_a'],
      ['POST', `/v1/accessGroup/${DEFAULT_GROUP}`],
      ['POST', '/v1/accessGroup/batchCreateAccessRule'],
      ['GET', `/v1/accessGroup/${DEFAULT_GROUP}`],
      ['PUT', `/v1/accessGroup/${DEFAULT_GROUP}/1`],
      ['DELETE', `/v1/accessGroup/${DEFAULT_GROUP}/1`],
    ];
    assert.equal(calls.length, 20);
    for (const call of [admin, analyst]) {
      for (const [method, p, query] of calls) {
        assertBceError(await call(method, p, { ...(query ? { query } : {}), ...(method === 'POST' || method === 'PUT' ? { body: {} } : {}) }), 403, 'AccessDenied');
      }
    }
    // Nothing was done on their behalf.
    const groups = ok(await cfs<{ accessGroups: Group[] }>('GET', '/v1/accessGroup', { query: { agName: DEFAULT_GROUP } })).accessGroups;
    assert.equal(groups[0]?.accessRules.length, 1);
  });
});

describe('fsUsage', () => {
  test('counts files written behind Stockade (NFS, the disk) once measured in the background', async () => {
    const fsId = await createFs(cfs, { fsName: 'usage' });
    const dir = await volumeDir(fsId);
    fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a', 'one.bin'), Buffer.alloc(1234));
    fs.writeFileSync(path.join(dir, 'a', 'b', 'two.bin'), Buffer.alloc(4321));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'a', 'link'));
    fs.mkdirSync(path.join(dir, '.stockade-tmp'));
    fs.writeFileSync(path.join(dir, '.stockade-tmp', 'hidden.bin'), Buffer.alloc(100));
    assert.equal((await getFs(cfs, fsId))?.fsUsage, '0', 'not measured yet');
    clock.advance(30_000);
    assert.ok((await runTasks()) >= 1);
    assert.equal((await getFs(cfs, fsId))?.fsUsage, String(1234 + 4321 + 100), 'regular files count, under any name; symlinks are not followed');

    // A quota cannot go below what is stored (a sparse file: its size counts, not its blocks).
    const big = path.join(dir, 'big.img');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 1_500_000_000);
    clock.advance(30_000);
    await runTasks();
    const stored = 1234 + 4321 + 100 + 1_500_000_000;
    assert.equal((await getFs(cfs, fsId))?.fsUsage, String(stored));
    assertBceError(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 1_000_000_000 } }), 400, 'InvalidParameter', new RegExp(`${stored}`));
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 2_000_000_000 } }));
    assert.equal((await getFs(cfs, fsId))?.capacityQuota, 2_000_000_000);
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
    assert.equal(fs.existsSync(dir), false);
  });
});

async function runTasks(): Promise<number> {
  const res = await fetch(`${srv.url}/_stockade/tasks/run`, { method: 'POST', headers: { 'x-stockade-control': '1' } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { ran: number }).ran;
}

describe('reset', () => {
  test('after a reset every account has its default group again, and nothing else', async () => {
    ok(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: 'before_reset' } }));
    const res = await fetch(`${srv.url}/_stockade/reset`, { method: 'POST', headers: { 'x-stockade-control': '1' } });
    assert.equal(res.status, 200);
    for (const call of [cfs, other]) {
      const groups = ok(await call<{ accessGroups: Group[] }>('GET', '/v1/accessGroup')).accessGroups;
      assert.deepEqual(groups.map((g) => g.accessGroupName), [DEFAULT_GROUP]);
      assert.equal(groups[0]?.accessRules.length, 1);
      assert.deepEqual(ok(await call<{ fileSystemList: unknown[] }>('GET', '/v1/cfs')).fileSystemList, []);
    }
  });
});
