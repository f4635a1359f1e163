/**
 * `stockade cp | ls | mb | rb` as a user runs them: the bundled CLI in child processes against an
 * in-process server, checked with the AWS SDK.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { CLI, cliEnv, runCli, untilExit, type RunResult } from '../helpers/cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';
const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Exit 1 (or `code`) with exactly one `stockade: …` line on stderr matching `re`. */
function failsWithOneLine(r: { code: number | null; stderr: string }, re: RegExp, code = 1): void {
  assert.equal(r.code, code, `exit ${code}\n${r.stderr}`);
  assert.match(r.stderr, /^stockade: [^\n]+\n$/, `one stockade: line, got ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, re);
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} exits 0\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs the CLI with `input` on stdin; stdout as bytes. */
function runWithStdin(args: string[], input: Buffer | null, opts: { env: NodeJS.ProcessEnv; cwd: string }): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stockade ${args.join(' ')}: no exit within 60 s\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? undefined);
  });
}

/** Runs a shell command line under a pseudo-terminal (`script` from util-linux). */
function runScript(cmd: string): Promise<RunResult> {
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: cliEnv({ COLUMNS: '100' }), stdio: ['ignore', 'pipe', 'pipe'] });
  return untilExit(child, `script -qec ${cmd}`, 60_000);
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe(`stockade cp/ls/mb/rb (${backend})`, () => {
  let server: TestServer;
  let s3: S3Client;
  let dataDir: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-cli-s3-'));
  const bigFile = path.join(tmp, 'big.bin');
  const smallFile = path.join(tmp, 'small.txt');
  const small = Buffer.from('small file for the stockade cli\n');
  let big: Buffer;

  /** `stockade …args --endpoint URL --data DIR` (credentials from DIR/credentials.json). */
  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli([...args, '--endpoint', server.url, '--data', dataDir], { env: cliEnv(env), cwd: tmp, timeoutMs: 60_000 });

  before(async () => {
    server = await startTestServer('cli_s3');
    dataDir = server.app.ctx.config.dataDir;
    assert.ok(fs.existsSync(path.join(dataDir, 'credentials.json')));
    s3 = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    big = randomBytes(20 * MiB);
    await fsp.writeFile(bigFile, big);
    await fsp.writeFile(smallFile, small);
  });

  after(async () => {
    s3?.destroy();
    await server?.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('mb creates a bucket; creating it again fails with one line', async () => {
    assert.equal(ok(await cli(['mb', 's3://cli-bucket']), 'mb'), 'make_bucket: cli-bucket\n');
    await s3.send(new HeadBucketCommand({ Bucket: 'cli-bucket' }));
    failsWithOneLine(await cli(['mb', 's3://cli-bucket']), /^stockade: BucketAlready(OwnedByYou|Exists)\b.*\(s3:\/\/cli-bucket\)/);
  });

  test('cp uploads a 20 MiB file as a multipart upload, quietly with one summary line', async () => {
    const r = await cli(['cp', bigFile, 's3://cli-bucket/big.bin']);
    assert.equal(ok(r, 'cp up'), `upload: ${bigFile} to s3://cli-bucket/big.bin\n`);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'cli-bucket', Key: 'big.bin' }));
    assert.equal(head.ContentLength, big.length);
    assert.match(head.ETag ?? '', /-3"$/, 'three 8 MiB parts');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'cli-bucket', Key: 'big.bin' }));
    assert.equal(sha(await got.Body!.transformToByteArray()), sha(big));

    // A key ending in / (or no key) takes the file's name.
    assert.equal(ok(await cli(['cp', smallFile, 's3://cli-bucket/docs/']), 'cp to prefix'), `upload: ${smallFile} to s3://cli-bucket/docs/small.txt\n`);
    ok(await cli(['cp', smallFile, 's3://cli-bucket/docs/a/b.txt']), 'cp nested');
  });

  test('ls lists buckets, then objects and PRE prefixes like aws s3 ls', async () => {
    const buckets = ok(await cli(['ls']), 'ls');
    assert.match(buckets, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-bucket$/m);

    const top = ok(await cli(['ls', 's3://cli-bucket']), 'ls bucket').split('\n').filter(Boolean);
    assert.deepEqual(
      top.map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, 'DATE ')),
      [`${' '.repeat(27)}PRE docs/`, `DATE ${String(20 * MiB).padStart(10)} big.bin`],
    );
    const docs = ok(await cli(['ls', 's3://cli-bucket/docs/']), 'ls prefix').split('\n').filter(Boolean);
    assert.equal(docs.length, 2);
    assert.equal(docs[0], `${' '.repeat(27)}PRE a/`);
    assert.match(docs[1]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${String(small.length).padStart(10)} small\\.txt$`));
    // A prefix that is not a "directory": names relative to the last /.
    assert.deepEqual(ok(await cli(['ls', 's3://cli-bucket/do']), 'ls partial').trim(), 'PRE docs/');
    const all = ok(await cli(['ls', '--recursive', 's3://cli-bucket']), 'ls --recursive');
    assert.deepEqual(
      all.split('\n').filter(Boolean).map((l) => l.split(' ').pop()),
      ['big.bin', 'docs/a/b.txt', 'docs/small.txt'],
    );
  });

  test('cp downloads byte-exact, to a file or into a directory', async () => {
    const out = path.join(tmp, 'out.bin');
    const r = await cli(['cp', 's3://cli-bucket/big.bin', out]);
    assert.equal(ok(r, 'cp down'), `download: s3://cli-bucket/big.bin to ${out}\n`);
    assert.equal(r.stderr, '');
    assert.equal(sha(await fsp.readFile(out)), sha(big));
    const dir = path.join(tmp, 'dl');
    await fsp.mkdir(dir);
    ok(await cli(['cp', 's3://cli-bucket/docs/a/b.txt', dir]), 'cp into dir');
    assert.deepEqual(await fsp.readFile(path.join(dir, 'b.txt')), small);
    // No temp files left next to the targets.
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['b.txt']);
  });

  test('cp - uploads stdin (multipart when large); cp … - writes the object to stdout', async () => {
    const base = ['--endpoint', server.url, '--data', dataDir];
    const opts = { env: cliEnv(), cwd: tmp };
    const text = Buffer.from('from stdin\n');
    let r = await runWithStdin(['cp', '-', 's3://cli-bucket/stdin.txt', ...base], text, opts);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'upload: - to s3://cli-bucket/stdin.txt\n');
    r = await runWithStdin(['cp', 's3://cli-bucket/stdin.txt', '-', ...base], null, opts);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout, text);

    // 9 MiB of unknown length: more than one 8 MiB part.
    const piped = randomBytes(9 * MiB);
    r = await runWithStdin(['cp', '-', 's3://cli-bucket/piped.bin', ...base], piped, opts);
    assert.equal(r.code, 0, r.stderr);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'cli-bucket', Key: 'piped.bin' }));
    assert.equal(head.ContentLength, piped.length);
    assert.match(head.ETag ?? '', /-2"$/);
    r = await runWithStdin(['cp', 's3://cli-bucket/piped.bin', '-', ...base], null, opts);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(sha(r.stdout), sha(piped));

    failsWithOneLine(await runWithStdin(['cp', '-', 's3://cli-bucket/', ...base], text, opts), /uploading stdin needs a key/, 2);
  });

  test('endpoint and credentials from STOCKADE_ENDPOINT, STOCKADE_ACCESS_KEY_ID/SECRET and --credentials FILE', async () => {
    const env = cliEnv({
      STOCKADE_ENDPOINT: server.url,
      STOCKADE_ACCESS_KEY_ID: server.accessKeyId,
      STOCKADE_SECRET_ACCESS_KEY: server.secretAccessKey,
    });
    // An empty working directory: no ./.stockade/credentials.json to fall back on.
    const empty = await fsp.mkdtemp(path.join(tmp, 'empty-'));
    let r = await runCli(['ls'], { env, cwd: empty });
    assert.match(ok(r, 'ls with env'), / cli-bucket$/m);

    const file = path.join(tmp, 'creds.json');
    await fsp.writeFile(file, JSON.stringify({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }));
    r = await runCli(['ls', 's3://cli-bucket', '--credentials', file], { env: cliEnv({ STOCKADE_ENDPOINT: server.url }), cwd: empty });
    assert.match(ok(r, 'ls with --credentials'), / big\.bin$/m);

    failsWithOneLine(await runCli(['ls'], { env: cliEnv({ STOCKADE_ENDPOINT: server.url }), cwd: empty }), /^stockade: no credentials: \.stockade\/credentials\.json does not exist/);
    failsWithOneLine(await runCli(['ls', '--credentials', path.join(tmp, 'nope.json')], { env: cliEnv(), cwd: empty }), /credentials file .*nope\.json does not exist/);
  });

  test('errors: one stockade: line, exit 1 (2 for a bad command line)', async () => {
    failsWithOneLine(await cli(['ls', 's3://no-such-bucket']), /^stockade: NoSuchBucket\b.*\(s3:\/\/no-such-bucket\)/);
    failsWithOneLine(await cli(['cp', smallFile, 's3://no-such-bucket/k']), /^stockade: NoSuchBucket\b/);
    const out = path.join(tmp, 'missing-download');
    failsWithOneLine(await cli(['cp', 's3://no-such-bucket/k', out]), /^stockade: NoSuchBucket\b/);
    failsWithOneLine(await cli(['cp', 's3://cli-bucket/missing', out]), /^stockade: NoSuchKey\b.*\(s3:\/\/cli-bucket\/missing\)/);
    assert.equal(fs.existsSync(out), false);
    failsWithOneLine(await cli(['cp', 's3://cli-bucket/big.bin', path.join(tmp, 'no-dir', 'x')]), /^stockade: cannot write .*x: no directory .*no-dir\n$/);
    failsWithOneLine(await cli(['cp', path.join(tmp, 'absent.txt'), 's3://cli-bucket/k']), /^stockade: .*absent\.txt: no such file\n$/);
    failsWithOneLine(await cli(['cp', tmp, 's3://cli-bucket/k']), /is a directory/);
    // A key nobody issued: the server refuses it.
    failsWithOneLine(
      await cli(['ls'], { STOCKADE_ACCESS_KEY_ID: 'STKNOSUCHKEY00000000', STOCKADE_SECRET_ACCESS_KEY: 'wrong' }),
      /^stockade: (InvalidAccessKeyId|AccessDenied|SignatureDoesNotMatch)\b/,
    );
    failsWithOneLine(
      await runCli(['ls', '--endpoint', 'http://127.0.0.1:1', '--data', dataDir], { env: cliEnv(), cwd: tmp }),
      /^stockade: cannot connect to http:\/\/127\.0\.0\.1:1: connection refused/,
    );

    failsWithOneLine(await cli(['cp', 'a', 'b']), /copies between a local file/, 2);
    failsWithOneLine(await cli(['cp', smallFile]), /usage: stockade cp/, 2);
    failsWithOneLine(await cli(['ls', 's3://']), /no bucket/, 2);
    failsWithOneLine(await cli(['mb']), /usage: stockade mb/, 2);
    failsWithOneLine(await cli(['rb', 's3://cli-bucket/key']), /takes a bucket, not a key/, 2);
    failsWithOneLine(await cli(['ls', '--bogus']), /bogus/, 2);
    failsWithOneLine(await runCli(['ls', '--endpoint', 'ftp://x'], { env: cliEnv(), cwd: tmp }), /--endpoint must be an http\(s\) URL/, 2);
  });

  test('a progress bar with B/s and ETA when stderr is a terminal', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) {
      t.skip('`script` (util-linux) is not installed: no pseudo-terminal to run the CLI in');
      return;
    }
    const cmd = [process.execPath, CLI, 'cp', bigFile, 's3://cli-bucket/tty.bin', '--endpoint', server.url, '--data', dataDir]
      .map(shellQuote)
      .join(' ');
    // Asynchronously: the server answering the CLI runs in this process.
    const r = await runScript(cmd);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /B\/s/);
    assert.match(r.stdout, /ETA/);
    assert.match(r.stdout, /\r/, 'one updating line');
    assert.match(r.stdout, /upload: .*big\.bin to s3:\/\/cli-bucket\/tty\.bin/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'cli-bucket', Key: 'tty.bin' }));
    assert.equal(head.ContentLength, big.length);
    // --no-progress: quiet even on a terminal.
    const quiet = await runScript(`${cmd} --no-progress`);
    assert.equal(quiet.code, 0, quiet.stdout);
    assert.doesNotMatch(quiet.stdout, /ETA/);
  });

  test('rb refuses a bucket that is not empty; rb --force empties and removes it', async () => {
    const r = await cli(['rb', 's3://cli-bucket']);
    failsWithOneLine(r, /^stockade: bucket cli-bucket is not empty: delete its objects first, or use `stockade rb --force s3:\/\/cli-bucket`\n$/);
    assert.equal(r.stdout, '');
    await s3.send(new HeadBucketCommand({ Bucket: 'cli-bucket' }));

    const forced = ok(await cli(['rb', '--force', 's3://cli-bucket']), 'rb --force');
    assert.match(forced, /^delete: s3:\/\/cli-bucket\/big\.bin$/m);
    assert.match(forced, /^delete: s3:\/\/cli-bucket\/docs\/a\/b\.txt$/m);
    assert.match(forced, /remove_bucket: cli-bucket\n$/);
    assert.doesNotMatch(ok(await cli(['ls']), 'ls'), /cli-bucket/);
    failsWithOneLine(await cli(['rb', 's3://cli-bucket']), /^stockade: NoSuchBucket\b/);
    // An empty bucket goes without --force.
    ok(await cli(['mb', 's3://empty-one']), 'mb');
    assert.equal(ok(await cli(['rb', 's3://empty-one']), 'rb'), 'remove_bucket: empty-one\n');
  });
});
