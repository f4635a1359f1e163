/**
 * CFS file systems served over NFSv4 by nfs-ganesha (`--nfs ganesha`), end to end: the API signed by
 * Baidu's signer, the files through libnfs's `nfs-cp`, `nfs-cat` and `nfs-ls` (a real NFSv4 client
 * in user space, which lets a test claim any uid), and the volume on disk. Access rules, squash
 * modes, rule priority, quota, mounted clients, export removal; the `serve` command's banner, its
 * child process and its start-up refusal without root. (libnfs 4.0's nfs-cp cannot write files over
 * about 3.9 KB through NFSv4: files written over NFS are small, large ones are read.)
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/tasks/clock.js';
import { findGanesha } from '../../src/services/cfs/ganesha.js';
import type { CfsService } from '../../src/services/cfs/service.js';
import { CfsRepository } from '../../src/services/cfs/repository.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { assertBceError, bceCaller, ok, type BceCall } from '../helpers/bce.js';
import { CLI, runCli, ServeProcess, cliEnv, waitFor } from '../helpers/cli.js';

const skip = findGanesha() ? false : 'nfs-ganesha is not installed (apt-get install nfs-ganesha nfs-ganesha-vfs libnfs-utils)';
const VPC = 'vpc-stockade0001';
const SUBNET = 'sbn-stockade000a';
const SUBNET_B = 'sbn-stockade000b';
const NOBODY = 65534;

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}
function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

let srv: TestServer;
let clock: ManualClock;
let cfs: BceCall;
let svc: CfsService;
let tmp: string;

before(async () => {
  if (skip) return;
  clock = new ManualClock(Date.now());
  srv = await startTestServer('cfs_nfs', { clock, config: { nfs: 'ganesha', nfsPort: 0 } });
  cfs = bceCaller(srv.url, srv, clock);
  svc = srv.app.platform.services.find((s) => s.module.name === 'cfs')!.instance as CfsService;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-nfs-client-'));
});
after(async () => {
  if (skip) return;
  await srv.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function url(fsId: string, file: string, uid?: number): string {
  const who = uid === undefined ? '' : `&uid=${uid}&gid=${uid}`;
  return `nfs://127.0.0.1/${fsId}/${file}?version=4&nfsport=${svc.nfs!.port}${who}`;
}
/** Writes `content` to `file` through NFS as `uid`; the exit status (0 = written). */
async function nfsWrite(fsId: string, file: string, content: string | Buffer, uid = 1000): Promise<Run> {
  const local = path.join(tmp, randomBytes(6).toString('hex'));
  fs.writeFileSync(local, content);
  return run('nfs-cp', [local, url(fsId, file, uid)]);
}
async function nfsRead(fsId: string, file: string, uid = 1000): Promise<Run> {
  return run('nfs-cat', [url(fsId, file, uid)]);
}
async function nfsList(fsId: string, uid = 1000): Promise<Run> {
  return run('nfs-ls', [url(fsId, '', uid)]);
}
async function volumeDir(fsId: string): Promise<string> {
  const f = await new CfsRepository(srv.app.ctx.store).getFileSystem(srv.accountId, fsId);
  assert.ok(f);
  return srv.app.ctx.volumes.dirOf(f.volume_id);
}
async function createFs(name: string): Promise<string> {
  return ok(await cfs<{ fsId: string }>('POST', '/v1/cfs', { body: { fsName: name, zone: 'zoneA' } })).fsId;
}
async function mount(fsId: string, group?: string, subnetId = SUBNET): Promise<string> {
  return ok(await cfs<{ mountId: string }>('POST', `/v1/cfs/${fsId}`, { body: { vpcId: VPC, subnetId, ...(group ? { accessGroupName: group } : {}) } })).mountId;
}
async function group(name: string, rules: Array<{ ip: string; mask: number; writeAccess: string; userAccess: string; priority: number }>): Promise<number[]> {
  ok(await cfs('POST', '/v1/accessGroup', { body: { accessGroupName: name } }));
  const r = ok(
    await cfs<{ responses: Array<{ accessRuleId: number }> }>('POST', '/v1/accessGroup/batchCreateAccessRule', {
      body: {
        ag_name: name,
        access_rules: rules.map((x) => ({ ip: x.ip, mask: x.mask, write_access: x.writeAccess, user_access: x.userAccess, priority: x.priority })),
      },
    }),
  );
  return r.responses.map((x) => x.accessRuleId);
}
async function measure(): Promise<void> {
  clock.advance(svc.usageIntervalMs);
  const res = await fetch(`${srv.url}/_stockade/tasks/run`, { method: 'POST', headers: { 'x-stockade-control': '1' } });
  assert.equal(res.status, 200);
}
async function fsUsage(fsId: string): Promise<string | undefined> {
  return ok(await cfs<{ fileSystemList: Array<{ fsUsage: string }> }>('GET', '/v1/cfs', { query: { fsId } })).fileSystemList[0]?.fsUsage;
}

describe('CFS over NFS (nfs-ganesha)', { skip }, () => {
  test('ganesha serves on loopback, on the port chosen for this server', async () => {
    assert.ok(svc.nfs?.running);
    assert.equal(svc.nfs.host, '127.0.0.1');
    assert.ok(svc.nfs.port > 0);
    assert.ok(svc.nfs.startMs > 0 && svc.nfs.startMs < 10_000, `started in ${svc.nfs.startMs} ms`);
    assert.match(svc.banner()[0]!, new RegExp(`nfs: +NFSv4 on 127\\.0\\.0\\.1:${svc.nfs.port} `));
  });

  test('a file written through NFS lands in the volume, reads back, lists, and counts in fsUsage', async () => {
    const fsId = await createFs('nfs-basic');
    await mount(fsId);
    const text = 'written over NFSv4\n';
    const w = await nfsWrite(fsId, 'hello.txt', text);
    assert.equal(w.code, 0, w.stderr);
    const dir = await volumeDir(fsId);
    const onDisk = path.join(dir, 'hello.txt');
    assert.equal(fs.readFileSync(onDisk, 'utf8'), text);
    assert.equal(fs.statSync(onDisk).uid, 1000, 'no_squash (the default group): the client uid is kept');
    assert.equal((await nfsRead(fsId, 'hello.txt')).stdout.toString('utf8'), text);
    assert.match((await nfsList(fsId)).stdout.toString('utf8'), /hello\.txt/);

    // A large file put on the volume reads back whole over NFS.
    const big = randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(path.join(dir, 'big.bin'), big);
    const r = await nfsRead(fsId, 'big.bin');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), createHash('sha256').update(big).digest('hex'));

    await measure();
    assert.equal(await fsUsage(fsId), String(Buffer.byteLength(text) + big.length));
  });

  test('all_squash and root_squash hold against a client claiming uid 0; no_squash keeps it', async () => {
    const fsId = await createFs('nfs-squash');
    const [ruleId] = await group('squash', [{ ip: '127.0.0.1', mask: 32, writeAccess: 'read_write', userAccess: 'all_squash', priority: 1 }]);
    await mount(fsId, 'squash');
    const dir = await volumeDir(fsId);
    const owner = async (file: string, uid: number) => {
      const w = await nfsWrite(fsId, file, `${file}\n`, uid);
      assert.equal(w.code, 0, `${file}: ${w.stderr}`);
      return fs.statSync(path.join(dir, file)).uid;
    };
    assert.equal(await owner('all-root.txt', 0), NOBODY);
    assert.equal(await owner('all-user.txt', 1000), NOBODY);
    const rule = (userAccess: string) => cfs('PUT', `/v1/accessGroup/squash/${ruleId}`, { body: { ip: '127.0.0.1', mask: 32, writeAccess: 'read_write', userAccess, priority: 1 } });
    ok(await rule('root_squash'));
    assert.equal(await owner('rootsq-root.txt', 0), NOBODY);
    assert.equal(await owner('rootsq-user.txt', 1000), 1000);
    ok(await rule('no_squash'));
    assert.equal(await owner('nosq-root.txt', 0), 0);
  });

  test('a rule changed to read_only makes the next write fail; reading still works', async () => {
    const fsId = await createFs('nfs-ro');
    const [ruleId] = await group('ro_switch', [{ ip: '127.0.0.0', mask: 8, writeAccess: 'read_write', userAccess: 'no_squash', priority: 10 }]);
    await mount(fsId, 'ro_switch');
    assert.equal((await nfsWrite(fsId, 'first.txt', 'one\n')).code, 0);
    ok(await cfs('PUT', `/v1/accessGroup/ro_switch/${ruleId}`, { body: { ip: '127.0.0.0', mask: 8, writeAccess: 'read_only', userAccess: 'no_squash', priority: 10 } }));
    const w = await nfsWrite(fsId, 'second.txt', 'two\n');
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /ROFS|ACCES|denied|Read-only/i);
    assert.equal(fs.existsSync(path.join(await volumeDir(fsId), 'second.txt')), false);
    assert.equal((await nfsRead(fsId, 'first.txt')).stdout.toString(), 'one\n');
  });

  test('rules apply in priority order (1 first), whatever order they were made in', async () => {
    const fsId = await createFs('nfs-priority');
    const [, roId] = await group('priority', [
      { ip: '127.0.0.0', mask: 8, writeAccess: 'read_write', userAccess: 'no_squash', priority: 50 },
      { ip: '127.0.0.1', mask: 32, writeAccess: 'read_only', userAccess: 'no_squash', priority: 1 },
    ]);
    await mount(fsId, 'priority');
    assert.notEqual((await nfsWrite(fsId, 'a.txt', 'a')).code, 0, 'the read-only rule comes first');
    ok(await cfs('PUT', `/v1/accessGroup/priority/${roId}`, { body: { ip: '127.0.0.1', mask: 32, writeAccess: 'read_only', userAccess: 'no_squash', priority: 90 } }));
    assert.equal((await nfsWrite(fsId, 'a.txt', 'a')).code, 0, 'now the read-write rule comes first');
  });

  test('a client whose address no rule admits is refused', async () => {
    const fsId = await createFs('nfs-refused');
    await group('elsewhere', [
      { ip: '10.0.0.0', mask: 8, writeAccess: 'read_write', userAccess: 'no_squash', priority: 1 },
      { ip: '::1', mask: 128, writeAccess: 'read_write', userAccess: 'no_squash', priority: 2 },
    ]);
    const mountId = await mount(fsId, 'elsewhere');
    fs.writeFileSync(path.join(await volumeDir(fsId), 'secret.txt'), 'not for you\n');
    assert.notEqual((await nfsList(fsId)).code, 0);
    const r = await nfsRead(fsId, 'secret.txt');
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout.length, 0);
    assert.notEqual((await nfsWrite(fsId, 'x.txt', 'x')).code, 0);
    // Binding the default group lets it in at once.
    ok(await cfs('PUT', `/v1/cfs/${fsId}/${mountId}`, { body: { accessGroupName: 'DEFAULT_ACCESS_GROUP_NAME' } }));
    assert.equal((await nfsRead(fsId, 'secret.txt')).stdout.toString(), 'not for you\n');
  });

  test("a file system's mount targets together make its export's clients; dropping the last removes the export", async () => {
    const fsId = await createFs('nfs-drop');
    await group('nobody_here', [{ ip: '192.0.2.0', mask: 24, writeAccess: 'read_write', userAccess: 'no_squash', priority: 1 }]);
    const closed = await mount(fsId, 'nobody_here', SUBNET);
    const open = await mount(fsId, undefined, SUBNET_B);
    assert.equal((await nfsWrite(fsId, 'kept.txt', 'kept\n')).code, 0, 'the second mount target admits the client');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}/${open}`));
    assert.notEqual((await nfsList(fsId)).code, 0, 'only the closed one is left');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}/${closed}`));
    const ls = await nfsList(fsId);
    assert.notEqual(ls.code, 0);
    assert.match(ls.stderr, /NOENT/, 'the export is gone');
    const dir = await volumeDir(fsId);
    assert.equal(fs.readFileSync(path.join(dir, 'kept.txt'), 'utf8'), 'kept\n');
    ok(await cfs('DELETE', `/v1/cfs/${fsId}`));
    assert.equal(fs.existsSync(dir), false, 'DropFileSystem removes the files');
  });

  test('capacityQuota holds over NFS: a file system holding its quota is read-only until there is room', async () => {
    const fsId = await createFs('nfs-quota');
    await mount(fsId);
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 1_000_000_000 } }));
    assert.equal((await nfsWrite(fsId, 'small.txt', 'fits\n')).code, 0);
    // Files put there behind Stockade's back (here, a sparse file) count once measured.
    const filler = path.join(await volumeDir(fsId), 'filler.img');
    fs.writeFileSync(filler, '');
    fs.truncateSync(filler, 1_000_000_000);
    await measure();
    assert.equal(await fsUsage(fsId), String(1_000_000_005));
    const refused = await nfsWrite(fsId, 'more.txt', 'no room\n');
    assert.notEqual(refused.code, 0);
    assert.equal((await nfsRead(fsId, 'small.txt')).stdout.toString(), 'fits\n', 'still readable');
    ok(await cfs('PUT', `/v1/cfs/${fsId}`, { body: { capacityQuota: 2_000_000_000 } }));
    assert.equal((await nfsWrite(fsId, 'more.txt', 'room again\n')).code, 0);
  });

  test('a ganesha that dies is started again on its port, with the exports as they are', async () => {
    const fsId = await createFs('nfs-restart');
    await mount(fsId);
    assert.equal((await nfsWrite(fsId, 'before.txt', 'before\n')).code, 0);
    const { pid, port } = { pid: svc.nfs!.pid!, port: svc.nfs!.port };
    process.kill(pid, 'SIGKILL');
    await waitFor('nfs-ganesha to serve again', async () => svc.nfs!.running && svc.nfs!.pid !== pid && (await nfsRead(fsId, 'before.txt')).code === 0, {
      timeoutMs: 15_000,
      everyMs: 200,
    });
    assert.equal(svc.nfs!.port, port);
    assert.equal((await nfsWrite(fsId, 'after.txt', 'after\n')).code, 0);
  });

  test('QueryMountedClients lists the clients the NFS server knows, under the mount target that admits them, paged', async () => {
    const fsId = await createFs('nfs-clients');
    await group('loopback', [{ ip: '127.0.0.0', mask: 8, writeAccess: 'read_write', userAccess: 'no_squash', priority: 1 }]);
    const mountId = await mount(fsId, 'loopback');
    assert.equal((await nfsList(fsId)).code, 0);
    // Two more client records as ganesha writes them (a test cannot send from other addresses):
    // one the rules admit, one they do not.
    const node = path.join(svc.nfs!.recoveryDir, 'v4recov', 'node0');
    fs.mkdirSync(path.join(node, '::ffff:127.0.0.9-(22:Linux NFSv4.2 client9)'), { recursive: true });
    fs.mkdirSync(path.join(node, '::ffff:10.9.9.9-(22:Linux NFSv4.2 client10)'), { recursive: true });
    const all: Array<{ clientInfoList: Array<{ zone: string; vpcId: string; mountId: string; clientIp: string }>; isTruncated: boolean; nextMarker?: string }> = [];
    let marker: string | undefined;
    do {
      const p = ok(await cfs<(typeof all)[number]>('GET', '/v1/cfs/clients', { query: { fsId, maxKeys: 1, ...(marker ? { marker } : {}) } }));
      all.push(p);
      marker = p.nextMarker;
    } while (all[all.length - 1]!.isTruncated);
    assert.deepEqual(
      all.flatMap((p) => p.clientInfoList),
      [
        { zone: 'zoneA', vpcId: VPC, mountId, clientIp: '127.0.0.1' },
        { zone: 'zoneA', vpcId: VPC, mountId, clientIp: '127.0.0.9' },
      ],
    );
    assert.equal(all.length, 2);
    // Another account sees nothing of it.
    const other = bceCaller(srv.url, await srv.newAccount('nfs-other'), clock);
    assertBceError(await other('GET', '/v1/cfs/clients', { query: { fsId } }), 404, 'InstanceNotFound');
  });
});

describe('stockade serve --nfs ganesha', () => {
  test('the banner says where NFS is served; ganesha stops with the server', { skip }, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-nfs-serve-'));
    const serve = new ServeProcess(['--port', '0', '--data', data, '--nfs', 'ganesha', '--nfs-port', '0', '--log-level', 'warn']);
    try {
      const banner = await serve.banner();
      const m = /^NFSv4 on 127\.0\.0\.1:(\d+) \(nfs-ganesha, started in (\d+) ms\): mount -t nfs4 -o port=\d+ 127\.0\.0\.1:\/<fsId> <dir>$/.exec(banner.fields.nfs ?? '');
      assert.ok(m, `banner: ${JSON.stringify(banner.fields)}`);
      const port = Number(m[1]);
      const pid = Number(fs.readFileSync(path.join(data, 'nfs', 'ganesha.pid'), 'utf8'));
      assert.ok(fs.existsSync(`/proc/${pid}`));
      await new Promise<void>((resolve, reject) => net.connect({ host: '127.0.0.1', port }).once('connect', function (this: net.Socket) {
        this.destroy();
        resolve();
      }).once('error', reject));
      const exit = await serve.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, serve.output());
      assert.equal(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), false, 'ganesha is gone');
    } finally {
      await serve.stop();
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  const notRoot = process.getuid?.() !== 0 ? 'needs root, to start the server as another user' : false;
  test('without root it refuses to start, saying why', { skip: skip || notRoot }, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-nfs-nonroot-'));
    fs.chmodSync(data, 0o777);
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'serve', '--port', '0', '--data', data, '--nfs', 'ganesha'],
          { uid: NOBODY, gid: NOBODY, env: cliEnv({ HOME: data }), timeout: 20_000 },
          (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /--nfs ganesha needs root/);
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  test('without --nfs the banner says NFS is not served', async () => {
    const r = await runCli(['--help']);
    assert.match(r.stdout, /--nfs none\|ganesha/);
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-nfs-none-'));
    const serve = new ServeProcess(['--port', '0', '--data', data, '--log-level', 'warn']);
    try {
      assert.match((await serve.banner()).fields.nfs ?? '', /^not served/);
    } finally {
      await serve.stop();
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
});
