/**
 * Boxes an analyst can work in: `stockade box exec` / `box shell` run in a bubblewrap sandbox over
 * the box's NAS, as the CLI runs them against a live server's database; the NAS test controls;
 * box-user keys made with `stockade keys create --box`. Needs `bwrap` (Debian package bubblewrap,
 * installed by .ci/run); without it only the "not installed" answer is tested.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { DatafenceClient, waitFor } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CLI, REPO_ROOT, cliEnv, runCli, untilExit, type RunResult } from '../helpers/cli.js';
import { boxInfo, control, newestBox, runTasks, type Catalog } from '../helpers/datafence.js';
import { rejects } from '../helpers/ncp.js';
import { bwrapArgs, findBwrap, SANDBOX_UID, type SandboxPlan } from '../../src/services/datafence/sandbox.js';

const bwrap = findBwrap();
const needsBwrap = { skip: bwrap ? false : 'bubblewrap (bwrap) is not installed' };

let srv: TestServer;
let df: DatafenceClient;
let catalog: Catalog;
let fenceId: number;
let boxId: number;
let mount: string;

before(async () => {
  srv = await startTestServer('df-sandbox');
  df = new DatafenceClient(srv.creds);
  catalog = await df.getProductSpec();
  fenceId = (await df.getDatafence())[0]!.fenceId;
  await df.createBox({ fenceId, createBoxInfo: boxInfo(catalog) });
  boxId = (await newestBox(df, fenceId)).boxId;
  await waitFor(() => df.getBoxSummaryInfo({ fenceId, boxId }), (s) => s.statusCode === 'USE', { timeoutMs: 10_000, intervalMs: 20 });
  mount = `/mnt/${boxId}box1`;
});
after(async () => {
  await srv.close();
});

/** The CLI against the test server's database, as an operator on the same host runs it. */
function stockade(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const c = srv.app.ctx.config;
  const db = c.databaseUrl ? ['--database', c.databaseUrl] : [];
  const [cmd, sub, ...rest] = args;
  return runCli([cmd!, sub!, '--data', c.dataDir, ...db, ...rest], {
    env: cliEnv({ STOCKADE_MASTER_KEY: 'test-master-key', STOCKADE_DATABASE_SCHEMA: c.databaseSchema, ...env }),
  });
}
const exec = (...command: string[]) => stockade(['box', 'exec', '--box', String(boxId), '--', ...command]);

/** A NAS test control request sent as written (fetch would resolve `%2e%2e` segments itself). */
function rawNas(method: string, rel: string, body: string): Promise<{ status: number; body: string }> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: `/_stockade/boxes/${boxId}/nas${rel}`, headers: { 'x-stockade-control': '1' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A NAS test control request. */
function nas(method: string, rel: string, body?: string | Buffer, headers: Record<string, string> = { 'x-stockade-control': '1' }) {
  return fetch(`${srv.url}/_stockade/boxes/${boxId}/nas${rel}`, { method, headers, ...(body !== undefined ? { body } : {}) });
}

describe('box exec and box shell', needsBwrap, () => {
  test('a file written by a command in the box is on the NAS; a file put on the NAS is read in the box', async () => {
    const w = await exec('sh', '-c', `echo "mean 4.2" > ${mount}/result.txt && pwd`);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout.trim(), mount, 'a command starts in the first NAS');
    const got = await nas('GET', '/result.txt');
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'mean 4.2\n');

    const put = await nas('PUT', '/input/data%20set.csv', 'a,b\n1,2\n');
    assert.equal(put.status, 200);
    const written = (await put.json()) as { path: string; size: number; instanceNo: number; mountPath: string };
    assert.deepEqual({ ...written, instanceNo: 0 }, { path: 'input/data set.csv', size: 8, instanceNo: 0, mountPath: `${mount}/input/data set.csv` });
    const r = await exec('cat', `${mount}/input/data set.csv`);
    assert.equal(r.stdout, 'a,b\n1,2\n');
    const listing = (await (await nas('GET', '')).json()) as { files: Array<{ path: string; size: number }> };
    assert.deepEqual(listing.files, [{ path: 'input/data set.csv', size: 8 }, { path: 'result.txt', size: 9 }]);
  });

  test('the exit status comes back; the command runs as an unprivileged uid in its own pid namespace', async () => {
    const r = await exec('sh', '-c', 'id -u; id -g; echo $$; exit 3');
    assert.equal(r.code, 3);
    const [uid, gid, pid] = r.stdout.trim().split('\n').map(Number);
    assert.deepEqual([uid, gid], [SANDBOX_UID, SANDBOX_UID]);
    assert.ok(pid! < 10, `pid ${pid} is from a fresh pid namespace`);
    const caps = await exec('sh', '-c', 'grep CapEff /proc/self/status');
    assert.match(caps.stdout, /CapEff:\s+0+\n/);
  });

  test("the host's system is read-only; its data directory, home directories and root-only files are not there", async () => {
    const dataDir = srv.app.ctx.config.dataDir;
    const r = await exec(
      'sh',
      '-c',
      [
        'touch /usr/bin/planted 2>/dev/null; echo usr=$?',
        'touch /etc/planted 2>/dev/null; echo etc=$?',
        `test -e "${dataDir}"; echo data=$?`,
        `test -e "${path.join(srv.app.ctx.volumes.root)}"; echo volumes=$?`,
        'cat /etc/shadow >/dev/null 2>&1; echo shadow=$?',
        'ls -A /home | tr "\\n" " "; echo',
        'ls -A /mnt | tr "\\n" " "; echo',
      ].join('; '),
    );
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /usr=1\n/);
    assert.match(out, /etc=1\n/);
    assert.match(out, /data=1\n/);
    assert.match(out, /volumes=1\n/);
    if (fs.existsSync('/etc/shadow')) assert.match(out, /shadow=1\n/);
    assert.match(out, /^analyst \n/m);
    assert.match(out, new RegExp(`^${boxId}box1 \\n`, 'm'));
    assert.ok(!fs.existsSync('/usr/bin/planted'));
  });

  test("a server on the host's loopback is unreachable while the box is blocked, reachable once the external network is allowed", async () => {
    let accepted = 0;
    const server = net.createServer((s) => {
      accepted++;
      s.on('error', () => undefined); // the probe exits as soon as it is connected
      s.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const probe = `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',(e)=>{console.log(e.code);process.exit(7)})`;
    try {
      const blocked = await exec(process.execPath, '-e', probe);
      assert.equal(blocked.code, 7, blocked.stderr);
      assert.equal(accepted, 0);

      await df.changeBoxBlockExternalNetwork({ fenceId, boxId, isBlock: false });
      await waitFor(() => df.getBoxSummaryInfo({ fenceId, boxId }), (s) => s.statusCode === 'USE', { timeoutMs: 10_000, intervalMs: 20 });
      const allowed = await exec(process.execPath, '-e', probe);
      assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
      await waitFor(async () => accepted, (n) => n === 1, { timeoutMs: 5_000, intervalMs: 20 });

      await df.changeBoxBlockExternalNetwork({ fenceId, boxId, isBlock: true });
      await waitFor(() => df.getBoxSummaryInfo({ fenceId, boxId }), (s) => s.statusCode === 'USE' && s.webBlockStatus, { timeoutMs: 10_000, intervalMs: 20 });
      assert.equal((await exec(process.execPath, '-e', probe)).code, 7);
    } finally {
      server.close();
    }
  });

  test('box shell runs an interactive shell over the NAS; its exit status comes back', async () => {
    const c = srv.app.ctx.config;
    const child = spawn(
      process.execPath,
      [CLI, 'box', 'shell', '--box', String(boxId), '--data', c.dataDir, ...(c.databaseUrl ? ['--database', c.databaseUrl] : [])],
      { cwd: REPO_ROOT, env: cliEnv({ STOCKADE_MASTER_KEY: 'test-master-key', STOCKADE_DATABASE_SCHEMA: c.databaseSchema }), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdin.end(`echo "from the shell" > ${mount}/shell.txt\nexit 5\n`);
    const r = await untilExit(child, 'box shell', 20_000);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(await (await nas('GET', '/shell.txt')).text(), 'from the shell\n');
  });

  test('every session is audited: start (command, network) and end (exit status)', async () => {
    const r = await exec('true');
    assert.equal(r.code, 0);
    const rows = await srv.app.ctx.store.db
      .selectFrom('audit_events')
      .select(['action', 'detail', 'request_id', 'fence_id', 'account_id'])
      .where('resource', '=', `fence/${fenceId}/box/${boxId}`)
      .where('action', 'in', ['box.session.start', 'box.session.end'])
      .orderBy('seq', 'desc')
      .limit(2)
      .execute();
    const [end, start] = rows;
    assert.equal(start!.action, 'box.session.start');
    assert.equal(end!.action, 'box.session.end');
    assert.equal(start!.request_id, end!.request_id, 'one session id');
    assert.equal(Number(start!.fence_id), fenceId);
    assert.equal(start!.account_id, srv.accountId);
    const s = JSON.parse(start!.detail!) as { command: string[]; network: string; nas: string[] };
    assert.deepEqual([s.command, s.network, s.nas], [['true'], 'blocked', [mount]]);
    assert.equal((JSON.parse(end!.detail!) as { exitCode: number }).exitCode, 0);
  });

  test('a box that is not in USE, or no box, is one line and exit status 1; a command line without a command is 2', async () => {
    await control(srv, '/_stockade/transitions', { box: 'manual' });
    try {
      await df.createBox({ fenceId, createBoxInfo: boxInfo(catalog) });
      const pending = (await newestBox(df, fenceId)).boxId;
      const r = await stockade(['box', 'exec', '--box', String(pending), '--', 'true']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `stockade: box ${pending} is INITIALIZE: commands run in a box in USE\n`);
      await runTasks(srv);
      await df.returnBox({ fenceId, boxId: pending });
      await runTasks(srv);
    } finally {
      await control(srv, '/_stockade/transitions', { box: 'immediate' });
    }
    const none = await stockade(['box', 'exec', '--box', '999999', '--', 'true']);
    assert.deepEqual([none.code, none.stderr], [1, 'stockade: no box 999999\n']);
    const usage = await stockade(['box', 'exec', '--box', String(boxId)]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^stockade: usage: stockade box exec --box ID -- CMD/);
  });
});

test('without bubblewrap, box exec says so in one line', async () => {
  const r = await stockade(['box', 'exec', '--box', String(boxId), '--', 'true'], { STOCKADE_BWRAP: '/nonexistent/bwrap' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.split('\n').length, 2);
  assert.match(r.stderr, /^stockade: bubblewrap is not installed .*bubblewrap/);
});

test('the sandbox command line: every namespace, an unprivileged uid without capabilities, the network only when allowed, data directories masked', () => {
  const plan: SandboxPlan = {
    boxId: 7,
    network: false,
    interactive: false,
    nas: [{ mountPath: '/mnt/7box1' }],
    system: [{ path: '/usr' }, { path: '/bin', symlink: 'usr/bin' }, { path: '/etc' }],
    masks: [{ path: '/etc/shadow', dir: false }, { path: '/etc/ssl/private', dir: true }],
    hidden: ['/etc/stockade-data', '/srv/stockade'],
    env: { HOME: '/home/analyst' },
    command: ['sh', '-c', 'true'],
  };
  const args = bwrapArgs(plan);
  const joined = args.join(' ');
  assert.equal(args[0], '--unshare-all');
  assert.ok(!args.includes('--share-net'));
  assert.match(joined, /--unshare-user --uid 1000 --gid 1000 --cap-drop ALL --die-with-parent --new-session/);
  assert.match(joined, /--ro-bind \/usr \/usr --symlink usr\/bin \/bin --ro-bind \/etc \/etc/);
  assert.match(joined, /--ro-bind \/dev\/null \/etc\/shadow --tmpfs \/etc\/ssl\/private --remount-ro \/etc\/ssl\/private/);
  assert.match(joined, /--tmpfs \/etc\/stockade-data/, 'a data directory inside a bound tree is masked');
  assert.ok(!joined.includes('/srv/stockade'), 'one outside the bound trees is simply not there');
  assert.match(joined, /--bind-fd 3 \/mnt\/7box1 --tmpfs \/mnt\/7box1\/\.stockade-tmp/);
  assert.match(joined, /--clearenv --setenv HOME \/home\/analyst -- sh -c true$/);
  const allowed = bwrapArgs({ ...plan, network: true, interactive: true });
  assert.deepEqual(allowed.slice(0, 2), ['--unshare-all', '--share-net']);
  assert.ok(!allowed.includes('--new-session'), 'a shell keeps its terminal');
});

describe('NAS test controls', () => {
  test('follow the volume path rules and refuse cross-site writes', async () => {
    for (const [rel, reason] of [
      ['/a/%2e%2e/b', 'dot-segment'],
      ['/.stockade-tmp/x', 'reserved'],
      ['/a//b', 'empty-segment'],
    ] as const) {
      const r = await rawNas('PUT', rel, 'x');
      assert.equal(r.status, 400, rel);
      assert.equal((JSON.parse(r.body) as { reason: string }).reason, reason, rel);
    }
    assert.equal((await rawNas('PUT', '/a%2Fb', 'x')).status, 400);
    assert.equal((await rawNas('PUT', '/../../x', 'x')).status, 400);
    assert.equal((await nas('GET', '/no/such/file')).status, 404);
    assert.equal((await nas('PUT', '/x.txt', 'x', {})).status, 403, 'a PUT needs x-stockade-control: 1');
    assert.equal((await fetch(`${srv.url}/_stockade/boxes/999999/nas/x`)).status, 404);
    const del = await nas('PUT', '/gone.txt', 'bye');
    assert.equal(del.status, 200);
    assert.equal((await nas('DELETE', '/gone.txt')).status, 200);
    assert.equal((await nas('GET', '/gone.txt')).status, 404);
  });

  test('a write beyond the NAS size is refused (413), data written inside the box included', needsBwrap, async () => {
    const r = await exec('truncate', '-s', '500G', `${mount}/huge.bin`);
    assert.equal(r.code, 0, r.stderr);
    // Reading the summary measures the NAS.
    assert.equal((await df.getBoxSummaryInfo({ fenceId, boxId })).nasTotalUseSize, 501);
    const refused = await nas('PUT', '/one-more.txt', 'x'.repeat(1024 * 1024));
    assert.equal(refused.status, 413);
    assert.equal((await nas('GET', '/one-more.txt')).status, 404);
    assert.equal((await nas('DELETE', '/huge.bin')).status, 200);
    assert.equal((await nas('PUT', '/one-more.txt', 'x')).status, 200);
  });
});

describe('stockade keys create --role box-user --box', () => {
  test('binds the key to the box: it sees that box, 2600003 for the others', async () => {
    const r = await stockade(['keys', 'create', '--role', 'box-user', '--box', String(boxId), '--user', 'analyst-1']);
    assert.equal(r.code, 0, r.stderr);
    const key = JSON.parse(r.stdout) as { accessKeyId: string; secretAccessKey: string; boxes: number[] };
    assert.deepEqual(key.boxes, [boxId]);
    const analyst = new DatafenceClient({ endpoint: srv.url, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    assert.deepEqual((await analyst.getBoxList({ fenceId })).content.map((b) => b.boxId), [boxId]);
    await rejects(analyst.getBoxSummaryInfo({ fenceId, boxId: boxId + 1000 }), 400, '2600003');
  });

  test('refuses --box with another role (exit 2) and a box the account does not have (exit 1, no key made)', async () => {
    const owner = await stockade(['keys', 'create', '--role', 'owner', '--box', String(boxId)]);
    assert.equal(owner.code, 2);
    assert.match(owner.stderr, /--box binds box-user keys/);
    const before = (await stockade(['keys', 'list'])).stdout.split('\n').length;
    const missing = await stockade(['keys', 'create', '--role', 'box-user', '--box', '999999', '--user', 'analyst-2']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no box 999999/);
    assert.equal((await stockade(['keys', 'list'])).stdout.split('\n').length, before);
  });
});
