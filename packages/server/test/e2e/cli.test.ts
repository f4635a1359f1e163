/**
 * The `stockade` command as a user runs it: the built CLI in child processes, a temp data directory,
 * SQLite (or, with STOCKADE_TEST_DATABASE_URL, PostgreSQL in a fresh schema).
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatafenceClient, StockadeApiError } from '@stockade/sdk';
import { KEY_CACHE_MS } from '../../src/iam/iam.js';
import { dropSchema, openDatabase } from '../../src/store/db.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { REPO_ROOT, ServeProcess, cliEnv, runCli, waitFor, withTimeout, type RunResult } from '../helpers/cli.js';

// Created at load time: describe() bodies (which name their installs) run before any hook.
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-cli-'));
const schemas: string[] = [];
const children: ServeProcess[] = [];

after(async () => {
  await Promise.all(children.map((c) => c.stop(3_000)));
  if (testDatabaseUrl) for (const s of schemas) await dropSchema(testDatabaseUrl, s);
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

/** A data directory (and, on PostgreSQL, a schema) as one installation of Stockade. */
interface Install {
  dir: string;
  /** `--data DIR [--database URL]` */
  args: string[];
  env: NodeJS.ProcessEnv;
  schema: string | undefined;
}

function newInstall(name: string): Install {
  const dir = path.join(tmpRoot, name); // does not exist yet: the first start creates it
  const schema = testDatabaseUrl ? `t_cli_${name}_${randomBytes(4).toString('hex')}` : undefined;
  if (schema) schemas.push(schema);
  return {
    dir,
    args: ['--data', dir, ...(testDatabaseUrl ? ['--database', testDatabaseUrl] : [])],
    env: cliEnv({ STOCKADE_DATABASE_SCHEMA: schema }),
    schema,
  };
}

function serve(inst: Install, extra: string[] = []): ServeProcess {
  const p = new ServeProcess(['--port', '0', ...inst.args, ...extra], { env: inst.env, cwd: tmpRoot });
  children.push(p);
  return p;
}

function cli(inst: Install, args: string[]): Promise<RunResult> {
  return runCli([...args, ...inst.args], { env: inst.env, cwd: tmpRoot });
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} exits 0\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Status of a signed GET /api/v1/product/get-product-spec (200, or the API error's status). */
async function productSpecStatus(endpoint: string, accessKeyId: string, secretAccessKey: string): Promise<number> {
  try {
    const specs = await new DatafenceClient({ endpoint, accessKeyId, secretAccessKey, retries: 0 }).getProductSpec({});
    assert.ok(Array.isArray(specs) && specs.length > 0);
    return 200;
  } catch (e) {
    if (e instanceof StockadeApiError) return e.status;
    throw e;
  }
}

interface Creds {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

describe('stockade serve', () => {
  const inst = newInstall('main');
  let server: ServeProcess;
  let url: string;
  let creds: Creds;

  test('first start with an empty data directory prints endpoint, key, secret, data dir and profile, and writes credentials.json (0600)', async () => {
    assert.equal(fs.existsSync(inst.dir), false);
    server = serve(inst);
    const banner = await server.banner();
    url = banner.url;
    const m = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(url);
    assert.ok(m, `endpoint printed: ${url}`);
    assert.notEqual(Number(m[1]), 0, 'the real port is printed, not 0');
    const f = banner.fields;
    assert.equal(f['profile'], 'dev');
    assert.equal(f['data'], inst.dir);
    assert.match(f['database'] ?? '', testDatabaseUrl ? /^postgres:\/\// : /^sqlite .*stockade\.db$/);
    assert.match(f['account'] ?? '', /\S/);
    assert.match(f['access key'] ?? '', /^\S{8,}$/);
    assert.match(f['secret key'] ?? '', /^\S{16,}$/);
    const file = path.join(inst.dir, 'credentials.json');
    assert.equal(f['credentials'], file);

    const st = fs.statSync(file);
    assert.equal(st.mode & 0o777, 0o600, `credentials.json mode is ${(st.mode & 0o777).toString(8)}`);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Creds;
    creds = { accountId: f['account']!, accessKeyId: f['access key']!, secretAccessKey: f['secret key']! };
    assert.deepEqual(
      { accountId: saved.accountId, accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey },
      creds,
    );
  });

  test('the printed key signs API calls (get-product-spec answers 200)', async () => {
    assert.equal(await productSpecStatus(url, creds.accessKeyId, creds.secretAccessKey), 200);
    assert.equal(await productSpecStatus(url, creds.accessKeyId, creds.secretAccessKey + 'x'), 401);
  });

  test('`stockade keys create --role box-user` prints a key that authenticates; `keys revoke` makes it fail', async () => {
    const out = ok(await cli(inst, ['keys', 'create', '--role', 'box-user']), 'keys create');
    const key = JSON.parse(out) as Creds & { role: string };
    assert.equal(key.role, 'box-user');
    assert.equal(key.accountId, creds.accountId);
    assert.notEqual(key.accessKeyId, creds.accessKeyId);
    assert.equal(await productSpecStatus(url, key.accessKeyId, key.secretAccessKey), 200);

    const listed = ok(await cli(inst, ['keys', 'list']), 'keys list');
    assert.match(listed, new RegExp(`^${key.accessKeyId} .*role=box-user\\s+active$`, 'm'));

    const revoked = ok(await cli(inst, ['keys', 'revoke', key.accessKeyId]), 'keys revoke');
    assert.equal(revoked.trim(), `revoked ${key.accessKeyId}`);
    // Another process revoked it: the server may serve its cached key for up to KEY_CACHE_MS.
    await waitFor(
      'the revoked key to be refused',
      async () => (await productSpecStatus(url, key.accessKeyId, key.secretAccessKey)) === 401,
      { timeoutMs: KEY_CACHE_MS + 2_000, everyMs: 200 },
    );
    assert.equal(await productSpecStatus(url, key.accessKeyId, key.secretAccessKey), 401);
    assert.equal(await productSpecStatus(url, creds.accessKeyId, creds.secretAccessKey), 200, 'the owner key still works');

    const again = await cli(inst, ['keys', 'revoke', key.accessKeyId]);
    assert.notEqual(again.code, 0, 'revoking a revoked key fails');
    assert.match(again.stderr, /^stockade: /);
  });

  test('`stockade accounts create NAME` and `stockade fences create NAME` work against the running server', async () => {
    const acc = JSON.parse(ok(await cli(inst, ['accounts', 'create', 'team-b']), 'accounts create')) as Creds;
    assert.notEqual(acc.accountId, creds.accountId);
    const teamB = new DatafenceClient({ endpoint: url, accessKeyId: acc.accessKeyId, secretAccessKey: acc.secretAccessKey });
    assert.deepEqual(
      (await teamB.getDatafence({})).map((f) => f.fenceName),
      ['fence-1'],
      'a new account gets its default fence',
    );
    assert.match(ok(await cli(inst, ['accounts', 'list']), 'accounts list'), new RegExp(`^${acc.accountId}\\s+team-b$`, 'm'));

    const fence = JSON.parse(ok(await cli(inst, ['fences', 'create', 'fence-cli', '--description', 'from the CLI']), 'fences create')) as {
      fenceId: number;
      fenceName: string;
      accountId: string;
    };
    assert.equal(fence.fenceName, 'fence-cli');
    assert.equal(fence.accountId, creds.accountId, 'without --account: the first account');
    const owner = new DatafenceClient({ endpoint: url, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey });
    assert.deepEqual((await owner.getDatafence({})).map((f) => f.fenceName).sort(), ['fence-1', 'fence-cli']);

    const inB = JSON.parse(ok(await cli(inst, ['fences', 'create', 'fence-b2', '--account', acc.accountId]), 'fences create --account')) as {
      accountId: string;
    };
    assert.equal(inB.accountId, acc.accountId);
    assert.deepEqual((await teamB.getDatafence({})).map((f) => f.fenceName).sort(), ['fence-1', 'fence-b2']);
  });

  test('SIGTERM exits 0 promptly; a restart keeps the same credentials and data', async () => {
    const t0 = Date.now();
    server.signal('SIGTERM');
    const exit = await withTimeout(server.exited, 5_000, 'exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    assert.ok(Date.now() - t0 < 5_000);

    const before = fs.readFileSync(path.join(inst.dir, 'credentials.json'), 'utf8');
    server = serve(inst);
    const banner = await server.banner();
    url = banner.url;
    assert.equal(banner.fields['access key'], creds.accessKeyId);
    assert.equal(banner.fields['secret key'], creds.secretAccessKey);
    assert.equal(banner.fields['account'], creds.accountId);
    assert.equal(fs.readFileSync(path.join(inst.dir, 'credentials.json'), 'utf8'), before, 'credentials.json unchanged');
    assert.equal(await productSpecStatus(url, creds.accessKeyId, creds.secretAccessKey), 200);
    const owner = new DatafenceClient({ endpoint: url, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey });
    assert.deepEqual((await owner.getDatafence({})).map((f) => f.fenceName).sort(), ['fence-1', 'fence-cli'], 'data survives');
  });

  test('a second signal during a slow shutdown exits at once', async () => {
    // A running 30 s probe makes the graceful shutdown wait (up to the runner's stop timeout).
    const res = await fetch(`${url}/_stockade/tasks`, { method: 'POST', headers: { 'x-stockade-control': '1', 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'probe', count: 1, ms: 30_000 }) });
    assert.equal(res.status, 200);
    const { first } = (await res.json()) as { first: number };
    const store = await openDatabase({ dataDir: inst.dir, url: testDatabaseUrl, schema: inst.schema });
    try {
      await waitFor(
        'the slow probe to run',
        async () => (await store.db.selectFrom('tasks').select('state').where('id', '=', first).executeTakeFirst())?.state === 'running',
        { timeoutMs: 5_000, everyMs: 50 },
      );
    } finally {
      await store.close();
    }
    server.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(server.running, 'still shutting down gracefully (waiting for the running task)');
    const t0 = Date.now();
    server.signal('SIGINT');
    const exit = await withTimeout(server.exited, 2_000, 'exit after the second signal');
    assert.ok(Date.now() - t0 < 2_000);
    assert.notEqual(exit.code, 0, 'an interrupted shutdown does not report success');
    assert.match(server.stderr, /SIGINT again/);
  });
});

describe('stockade serve --profile secure', () => {
  test('has no /_stockade/health, but the signed API works; SIGINT exits 0', async () => {
    const inst = newInstall('secure');
    const server = serve(inst, ['--profile', 'secure']);
    const banner = await server.banner();
    assert.equal(banner.fields['profile'], 'secure');
    const health = await fetch(`${banner.url}/_stockade/health`);
    await health.arrayBuffer();
    assert.notEqual(health.status, 200, 'no test controls in the secure profile');
    const tasks = await fetch(`${banner.url}/_stockade/tasks`, { method: 'POST', headers: { 'x-stockade-control': '1', 'content-type': 'application/json' }, body: '{"kind":"probe"}' });
    await tasks.arrayBuffer();
    assert.notEqual(tasks.status, 200, 'no task controls in the secure profile');
    assert.equal(await productSpecStatus(banner.url, banner.fields['access key']!, banner.fields['secret key']!), 200);

    server.signal('SIGINT');
    const exit = await withTimeout(server.exited, 5_000, 'exit after SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
  });
});

describe('bad input: non-zero exit and one line on stderr starting with "stockade:"', () => {
  const cases: [string, string[]][] = [
    ['serve --port notaport', ['serve', '--port', 'notaport']],
    ['keys create --role nope', ['keys', 'create', '--role', 'nope']],
    ['frobnicate', ['frobnicate']],
    // --port 0: should the bad value be accepted, the server must not collide with a real one.
    ['serve --transitions box=sometimes', ['serve', '--transitions', 'box=sometimes', '--port', '0']],
    ['serve --s3-region "EU West"', ['serve', '--s3-region', 'EU West', '--port', '0']],
    ['serve --allowed-hosts host:8080', ['serve', '--allowed-hosts', 'host:8080', '--port', '0']],
  ];
  for (const [name, args] of cases) {
    test(`stockade ${name}`, async () => {
      const inst = newInstall(`bad_${name.replace(/[^a-z]+/g, '_').slice(0, 20)}`);
      const r = await cli(inst, args);
      assert.notEqual(r.code, 0, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.signal, null);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `exactly one stderr line, got:\n${r.stderr}`);
      assert.match(lines[0]!, /^stockade: \S/);
      assert.doesNotMatch(r.stdout, /Stockade listening/);
    });
  }
});

describe('stockade coverage', () => {
  test("lists the operations of all four services and Stockade's own, each with a state", async () => {
    const out = ok(await runCli(['coverage'], { env: cliEnv(), cwd: tmpRoot }), 'coverage');
    const lines = out.split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 20);
    const services = new Set<string>();
    for (const line of lines) {
      const m = /^(datafence|dataflow|cfs|s3|stockade)\s+(\S+)\s+(implemented|missing)$/.exec(line);
      assert.ok(m, `coverage line: ${JSON.stringify(line)}`);
      services.add(m[1]!);
    }
    assert.deepEqual([...services].sort(), ['cfs', 'datafence', 'dataflow', 's3', 'stockade']);
  });

  test('docs/coverage.md is the output of `stockade coverage --markdown`', async () => {
    const md = ok(await runCli(['coverage', '--markdown'], { env: cliEnv(), cwd: tmpRoot }), 'coverage --markdown');
    const file = path.join(REPO_ROOT, 'docs', 'coverage.md');
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)';
    assert.ok(committed === md, 'docs/coverage.md is stale: run npm run coverage:docs');
  });
});
