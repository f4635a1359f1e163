#!/usr/bin/env node
// Stockade benchmarks: throughput vs a bare node:http server, cold start, idle RSS, S3 large-object
// transfer vs a plain file copy, S3 small-object PUT rate.
// Run with `npm run bench` (builds first) or `node bench/run.mjs` after `npm run build`.
// Plain ESM JavaScript; not part of the test suite. See bench/README.md.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { Agent, request, createServer } from 'node:http';
import { createRequire } from 'node:module';
import { Transform, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { URLSearchParams, fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages/server/dist/stockade.mjs');
const ADMIN = join(ROOT, 'packages/server/dist/src/admin.js');
const SDK = join(ROOT, 'packages/sdk/dist/src/index.js');

const CONNECTIONS = 50;
const DURATION_S = 10;
const WARMUP_S = 2;
const COLD_REPEATS = 5;
const POPULATE_KEYS = 200;
const POPULATE_FENCES = 5;
const PATH = '/api/v1/product/get-product-spec';
const ACCESS_KEY = 'BENCHAK0000000000001';
const SECRET_KEY = 'bench-secret-0000000000000000000000000000';

const execFileP = promisify(execFile);

const SERVER_ENV = {
  ...process.env,
  STOCKADE_ACCESS_KEY_ID: ACCESS_KEY,
  STOCKADE_SECRET_ACCESS_KEY: SECRET_KEY,
  STOCKADE_LOG_LEVEL: 'warn',
};

// ---------------------------------------------------------------------------------------------
// Child processes and temp dirs: always cleaned up, even on errors or Ctrl-C.

const children = new Set();
const tempDirs = new Set();

function killAllSync() {
  for (const c of children) {
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tempDirs.clear();
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllSync();
    process.exit(130);
  });
}

function tempDir(label) {
  const d = mkdtempSync(join(tmpdir(), `stockade-bench-${label}-`));
  tempDirs.add(d);
  return d;
}

function removeDir(d) {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

function spawnTracked(args, env = process.env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stderrText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    if (child.stderrText.length < 8192) child.stderrText += s;
  });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(t);
}

/** Resolve with the URL from the child's first stdout line (`… listening on http://…`). */
function waitForListening(child, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no "listening" line after ${timeoutMs} ms; stderr: ${child.stderrText}`)), timeoutMs);
    child.stdout.setEncoding('utf8');
    const onData = (s) => {
      buf += s;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const m = /listening on (http:\/\/\S+)/.exec(buf.slice(0, nl));
      clearTimeout(t);
      child.stdout.off('data', onData);
      child.stdout.resume(); // keep draining the rest
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first stdout line: ${buf.slice(0, nl)}`));
    };
    child.stdout.on('data', onData);
    child.exited.then(({ code, signal }) => {
      clearTimeout(t);
      reject(new Error(`child exited (code ${code}, signal ${signal}) before listening; stderr: ${child.stderrText}`));
    });
  });
}

/** Extra node flags for Stockade's processes only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const SERVER_NODE_FLAGS = (process.env.STOCKADE_BENCH_SERVER_FLAGS ?? '').split(/\s+/).filter(Boolean);

function startStockade(dataDir, port = 0, env = {}) {
  return spawnTracked([...SERVER_NODE_FLAGS, CLI, 'serve', '--port', String(port), '--data', dataDir], { ...SERVER_ENV, ...env });
}

const BARE_SERVER = `
const http = require('node:http');
// Hello-world by default; BARE_BODY_FILE serves those bytes instead (same-payload baseline).
const body = process.env.BARE_BODY_FILE ? require('node:fs').readFileSync(process.env.BARE_BODY_FILE) : JSON.stringify({ ok: true });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': process.env.BARE_CONTENT_TYPE || 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log('bare listening on http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

const BARE_FILE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
// Streams BARE_FILE to every GET: the same-transfer baseline of the S3 GET.
const size = fs.statSync(process.env.BARE_FILE).size;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  fs.createReadStream(process.env.BARE_FILE).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log('bare listening on http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

function startBare(env = {}) {
  return spawnTracked(['-e', BARE_SERVER], { ...process.env, ...env });
}

/** One raw node:http GET; resolves with { status, body }. Never rejects on connection errors. */
function get(url, headers = {}, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, body: String(e) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end();
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : String(n));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------------
// 1. Throughput

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every common Linux build). */
const CLK_TCK = 100;

/** CPU time (user + system) the process `pid` has used so far, in µs (Linux /proc). */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK; // utime, stime (fields 14 and 15)
}

/**
 * autocannon on CONNECTIONS connections: a WARMUP_S warm-up run (not counted), then DURATION_S
 * measured. With `pid`, the server process's CPU time during the measured run, divided by the
 * requests answered in it (`cpuUs`: server CPU µs per request). The server is not touched.
 */
async function cannon(url, headers, pid) {
  const run = (duration) => autocannon({ url, method: 'GET', headers, connections: CONNECTIONS, duration });
  const w = await run(WARMUP_S);
  const cpu0 = pid === undefined ? 0 : cpuMicros(pid);
  const r = await run(DURATION_S);
  const cpu = pid === undefined ? NaN : cpuMicros(pid) - cpu0;
  return {
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx + w.non2xx,
    errors: r.errors + r.timeouts + w.errors + w.timeouts,
    statusCodeStats: r.statusCodeStats,
    cpuUs: cpu / r.requests.total,
  };
}

/** Rounds of a paired measurement: the two servers take turns, so load drifting on a shared machine hits both alike. */
const PAIR_ROUNDS = 5;

/**
 * autocannon against two servers in turns: a WARMUP_S warm-up of each, then PAIR_ROUNDS rounds
 * of DURATION_S / PAIR_ROUNDS seconds each, A then B. Figures add up over the rounds (req/s: all
 * requests over DURATION_S; CPU per request as in `cannon`); p50 is the median of the rounds',
 * p99 the highest.
 */
async function cannonPair(a, b) {
  const run = (t, duration) => autocannon({ url: t.url, method: 'GET', headers: t.headers, connections: CONNECTIONS, duration });
  const acc = [a, b].map(() => ({ total: 0, cpu: 0, p50: [], p99: 0, non2xx: 0, errors: 0, statusCodeStats: {} }));
  for (const [i, t] of [a, b].entries()) {
    const w = await run(t, WARMUP_S);
    acc[i].non2xx += w.non2xx;
    acc[i].errors += w.errors + w.timeouts;
  }
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const [i, t] of [a, b].entries()) {
      const cpu0 = cpuMicros(t.pid);
      const r = await run(t, DURATION_S / PAIR_ROUNDS);
      const x = acc[i];
      x.cpu += cpuMicros(t.pid) - cpu0;
      x.total += r.requests.total;
      x.p50.push(r.latency.p50);
      x.p99 = Math.max(x.p99, r.latency.p99);
      x.non2xx += r.non2xx;
      x.errors += r.errors + r.timeouts;
      for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) x.statusCodeStats[code] = (x.statusCodeStats[code] ?? 0) + v.count;
    }
  }
  return acc.map((x) => ({
    rps: x.total / DURATION_S,
    total: x.total,
    p50: median(x.p50),
    p99: x.p99,
    non2xx: x.non2xx,
    errors: x.errors,
    statusCodeStats: x.statusCodeStats,
    cpuUs: x.cpu / x.total,
  }));
}

function printCannon(label, r) {
  console.log(
    `  ${label.padEnd(44)} ${fmt(r.rps, 0).padStart(7)} req/s   p50 ${fmt(r.p50, 0)} ms   p99 ${fmt(r.p99, 0)} ms   ` +
      `${fmt(r.cpuUs, 0).padStart(4)} µs CPU/req   (${r.total} requests, non-2xx ${r.non2xx}, errors ${r.errors})`,
  );
}

async function benchThroughput(signHeaders) {
  console.log(`\n[1] Throughput: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s (+${WARMUP_S} s warm-up) each`);
  console.log(`    load generator shares the machine (${cpus().length} CPUs) with the server under test`);

  // One fixed signature for every request: signed once, valid for the whole run (5-minute window).
  // The baselines receive the very same requests (path and signature headers; they ignore them):
  // the load generator's cost per request depends on what it sends, so only identical requests
  // make the ratio a measure of the server.
  const headers = signHeaders();
  let plain;
  let bare;
  const bareChild = startBare();
  try {
    const url = await waitForListening(bareChild);
    plain = await cannon(url + '/', {}, bareChild.pid);
    bare = await cannon(url + PATH, headers, bareChild.pid);
  } finally {
    await stop(bareChild);
  }
  printCannon('bare node:http hello-world, plain GET /', plain);
  printCannon('bare node:http hello-world, same requests', bare);

  const dataDir = tempDir('tp');
  const child = startStockade(dataDir);
  let st;
  let same;
  try {
    const base = await waitForListening(child);
    const probe = await get(base + PATH, headers);
    if (probe.status !== 200) throw new Error(`signed GET ${PATH} answered ${probe.status}: ${probe.body.slice(0, 300)}`);
    writeFileSync(join(dataDir, 'answer.json'), probe.body);
    // Same-payload baseline: a bare server sending the very bytes Stockade answered (~7 KB),
    // to separate Stockade's own cost from the cost of moving a larger response. Measured in
    // turns with Stockade.
    const sameChild = startBare({ BARE_BODY_FILE: join(dataDir, 'answer.json') });
    try {
      const sameUrl = (await waitForListening(sameChild)) + PATH;
      [st, same] = await cannonPair({ url: base + PATH, headers, pid: child.pid }, { url: sameUrl, headers, pid: sameChild.pid });
    } finally {
      await stop(sameChild);
    }
  } finally {
    await stop(child);
    removeDir(dataDir);
  }
  printCannon(`stockade signed GET (1 fixed sig)`, st);
  printCannon('bare node:http, same body, same requests', same);
  console.log(`  stockade non-2xx responses = ${st.non2xx} (must be 0)${st.errors ? `, connection errors/timeouts = ${st.errors}` : ''}`);
  if (st.non2xx !== 0 || st.errors !== 0) {
    console.log(`  status codes: ${JSON.stringify(st.statusCodeStats)}`);
    process.exitCode = 1;
  }
  console.log(`  p99 = ${fmt(st.p99, 0)} ms (target <= 10 ms)`);
  console.log(`  ratio stockade/bare plain GET / = ${fmt(st.rps / plain.rps)} (lighter requests for the load generator)`);
  console.log(`  ratio stockade/bare hello-world, same requests = ${fmt(st.rps / bare.rps)} (target >= 0.50)`);
  console.log(`  stockade server CPU = ${fmt(st.cpuUs, 0)} µs/request (bare, same body: ${fmt(same.cpuUs, 0)} µs/request)`);
  const ratio = st.rps / same.rps;
  console.log(`  ratio stockade/bare same-payload = ${fmt(ratio)} (target >= 0.55; Stockade's own overhead)`);
  return { bare, same, st, ratio };
}

// ---------------------------------------------------------------------------------------------
// 2. Cold start

/** Spawn Stockade and time spawn → first 200 from GET /_stockade/health (polled every 5 ms). */
async function timeColdStart(dataDir, env = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/_stockade/health`;
  const t0 = performance.now();
  const child = startStockade(dataDir, port, env);
  try {
    let dead = false;
    child.exited.then(() => (dead = true));
    child.stdout.resume();
    for (;;) {
      if (dead) throw new Error(`server exited during cold start; stderr: ${child.stderrText}`);
      const r = await get(url, {}, 1000);
      if (r.status === 200) return performance.now() - t0;
      if (performance.now() - t0 > 15000) throw new Error('no 200 from /_stockade/health within 15 s');
      await sleep(5);
    }
  } finally {
    await stop(child);
  }
}

async function populate(dataDir) {
  // First start creates the account, owner key, master key and default fence.
  const child = startStockade(dataDir);
  try {
    await waitForListening(child);
  } finally {
    await stop(child);
  }
  // Then keys and fences through one process (the same code path as `stockade keys/fences create`).
  const script = `
    const { openAdmin } = await import(${JSON.stringify(pathToFileURL(ADMIN).href)});
    const { defaultConfig } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'packages/server/dist/src/config.js')).href)});
    const config = defaultConfig();
    config.dataDir = ${JSON.stringify(dataDir)};
    const a = await openAdmin(config);
    try {
      for (let i = 0; i < ${POPULATE_KEYS}; i++) await a.createKey({ role: 'box-user', userName: 'bench-user-' + (i % 20) });
      for (let i = 0; i < ${POPULATE_FENCES}; i++) await a.createFence('bench-fence-' + i, undefined, 'bench');
      const keys = (await a.iam.listKeys()).length;
      const fences = (await a.listFences()).length;
      console.log(JSON.stringify({ keys, fences }));
    } finally {
      await a.close();
    }
  `;
  const p = spawnTracked(['--input-type=module', '-e', script], SERVER_ENV);
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (s) => (out += s));
  const { code } = await p.exited;
  if (code !== 0) throw new Error(`populating ${dataDir} failed (exit ${code}): ${p.stderrText}`);
  return JSON.parse(out.trim().split('\n').pop());
}

async function benchColdStart() {
  console.log(`\n[2] Cold start: spawn → first 200 from GET /_stockade/health (polled every 5 ms), ${COLD_REPEATS} runs each`);
  const empty = [];
  for (let i = 0; i < COLD_REPEATS; i++) {
    const d = tempDir('cold-empty');
    try {
      empty.push(await timeColdStart(d));
    } finally {
      removeDir(d);
    }
  }
  const popDir = tempDir('cold-pop');
  const populated = [];
  let counts;
  try {
    counts = await populate(popDir);
    for (let i = 0; i < COLD_REPEATS; i++) populated.push(await timeColdStart(popDir));
  } finally {
    removeDir(popDir);
  }
  const runs = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`  empty data dir     runs: ${runs(empty)} ms   min ${fmt(Math.min(...empty), 0)} ms`);
  console.log(`  populated data dir runs: ${runs(populated)} ms   min ${fmt(Math.min(...populated), 0)} ms` +
    `   (${counts.keys} access keys, ${counts.fences} fences in the database)`);
  console.log(`  cold start empty = ${fmt(median(empty), 0)} ms (target <= 300 ms)`);
  console.log(`  cold start populated = ${fmt(median(populated), 0)} ms (target <= 300 ms)`);
  return { empty, populated };
}

// ---------------------------------------------------------------------------------------------
// 3. Idle RSS

function readRssMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

async function benchIdleRss(signHeaders) {
  console.log('\n[3] Idle RSS: fresh server, 100 signed GETs, 2 s idle, VmRSS of the server process');
  const dataDir = tempDir('rss');
  const child = startStockade(dataDir);
  try {
    const base = await waitForListening(child);
    const afterStart = readRssMB(child.pid);
    const headers = signHeaders();
    let bad = 0;
    for (let i = 0; i < 100; i++) {
      const r = await get(base + PATH, headers);
      if (r.status !== 200) bad++;
    }
    await sleep(2000);
    const rss = readRssMB(child.pid);
    console.log(`  RSS right after start = ${fmt(afterStart, 1)} MB; non-200 among the 100 requests = ${bad}`);
    if (bad) process.exitCode = 1;
    console.log(`  idle RSS = ${fmt(rss, 1)} MB (target <= 100 MB)`);
    return rss;
  } finally {
    await stop(child);
    removeDir(dataDir);
  }
}

// ---------------------------------------------------------------------------------------------
// 4 and 5. Object Storage through the official AWS SDK v3 (resolved from packages/server)

const MiB = 1024 * 1024;
const LARGE_BYTES = 1024 * MiB;
const LARGE_PART = 16 * MiB;
const LARGE_QUEUE = 4;
const SMALL_COUNT = 10_000;
const SMALL_BYTES = 4 * 1024;
const SMALL_CLIENTS = 32;
const SMALL_WARMUP = 320;

function awsSdk() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const req = createRequire(join(ROOT, 'packages/server/package.json'));
  const s3 = req('@aws-sdk/client-s3');
  const { Upload } = req('@aws-sdk/lib-storage');
  const { NodeHttpHandler } = createRequire(req.resolve('@aws-sdk/client-s3'))('@smithy/node-http-handler');
  return { ...s3, Upload, NodeHttpHandler };
}

function s3Client(sdk, endpoint, maxSockets = 50) {
  return new sdk.S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestHandler: new sdk.NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets }) }),
  });
}

/** A pass-through that hashes what flows through it (sha256, hex in `.digest` once flushed). */
function hashTap() {
  const h = createHash('sha256');
  const t = new Transform({
    transform(chunk, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      t.digest = h.digest('hex');
      cb();
    },
  });
  return t;
}

async function fsyncFile(path) {
  const fh = await openFile(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `bytes` of random-ish content: a 1 MiB random block, each MiB stamped with its index. Returns its sha256. */
async function writeTestFile(path, bytes) {
  const block = randomBytes(MiB);
  const h = createHash('sha256');
  const out = createWriteStream(path);
  for (let i = 0; i < bytes / MiB; i++) {
    const b = Buffer.from(block);
    b.writeUInt32BE(i, 0);
    h.update(b);
    if (!out.write(b)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
  await fsyncFile(path);
  return h.digest('hex');
}

/** Samples VmRSS of `pid` every 100 ms until stopped; `max()` in MB. */
function rssSampler(pid) {
  let max = readRssMB(pid);
  const t = setInterval(() => {
    try {
      max = Math.max(max, readRssMB(pid));
    } catch {
      /* process gone */
    }
  }, 100);
  return {
    max: () => max,
    stop: () => {
      clearInterval(t);
      try {
        max = Math.max(max, readRssMB(pid));
      } catch {
        /* process gone */
      }
      return max;
    },
  };
}

const mbps = (bytes, ms) => bytes / MiB / (ms / 1000);

async function benchS3Large() {
  console.log(
    `\n[4] S3 large object: 1 GiB PUT (lib-storage Upload, ${LARGE_PART / MiB} MiB parts, queueSize ${LARGE_QUEUE}) and streamed GET, vs a plain file copy`,
  );
  const sdk = awsSdk();
  const work = tempDir('s3-large');
  // Every file stays until the end: deleting 1 GiB between measurements (ext4 `discard`) slows the next one.
  try {
    const src = join(work, 'source.bin');
    const srcSha = await writeTestFile(src, LARGE_BYTES);

    // Baseline: stream copy read → write of the same file on the same disk, fsync at the end. Timed
    // before and again after the S3 transfers (this disk slows down after sustained writes); the
    // baseline is the mean of the two.
    const copy = async (name) => {
      const t = performance.now();
      await pipeline(createReadStream(src), createWriteStream(join(work, name)));
      await fsyncFile(join(work, name));
      return performance.now() - t;
    };
    const copyBeforeMs = await copy('copy-before.bin');
    let t0;

    let putMs;
    let getMs;
    let rssBefore;
    let rssMax;
    let getSha;
    const child = startStockade(join(work, 'server'));
    try {
      const s3 = s3Client(sdk, await waitForListening(child));
      try {
        await s3.send(new sdk.CreateBucketCommand({ Bucket: 'large' }));
        rssBefore = readRssMB(child.pid);
        const rss = rssSampler(child.pid);
        try {
          t0 = performance.now();
          await new sdk.Upload({
            client: s3,
            params: { Bucket: 'large', Key: 'one-gib.bin', Body: createReadStream(src) },
            partSize: LARGE_PART,
            queueSize: LARGE_QUEUE,
          }).done();
          putMs = performance.now() - t0;

          const dst = join(work, 'downloaded.bin');
          t0 = performance.now();
          const out = await s3.send(new sdk.GetObjectCommand({ Bucket: 'large', Key: 'one-gib.bin' }));
          const tap = hashTap();
          await pipeline(out.Body, tap, createWriteStream(dst));
          await fsyncFile(dst);
          getMs = performance.now() - t0;
          getSha = tap.digest;
        } finally {
          rssMax = rss.stop();
        }
      } finally {
        s3.destroy();
      }
    } finally {
      await stop(child);
    }

    // Same-transfer baseline for the GET, right after it: a bare node:http server streams the
    // file, received the same way (sha256 while streaming, to a file, fsync).
    let bareGetMs;
    const bare = spawnTracked(['-e', BARE_FILE_SERVER], { ...process.env, BARE_FILE: src });
    try {
      const url = await waitForListening(bare);
      const dst = join(work, 'bare-downloaded.bin');
      t0 = performance.now();
      const res = await new Promise((resolve, reject) => request(url, { agent: false }, resolve).on('error', reject).end());
      const tap = hashTap();
      await pipeline(res, tap, createWriteStream(dst));
      await fsyncFile(dst);
      bareGetMs = performance.now() - t0;
      if (tap.digest !== srcSha) throw new Error('bare GET: content differs from the source');
    } finally {
      await stop(bare);
    }

    const copyAfterMs = await copy('copy-after.bin');
    const copyMs = (copyBeforeMs + copyAfterMs) / 2;

    if (getSha !== srcSha) {
      console.log(`  GET content sha256 ${getSha} != source ${srcSha}`);
      process.exitCode = 1;
    }
    const growth = rssMax - rssBefore;
    const ratio = (2 * copyMs) / (putMs + getMs);
    const line = (label, ms) => console.log(`  ${label.padEnd(44)} ${fmt(mbps(LARGE_BYTES, ms), 0).padStart(5)} MB/s   ${fmt(ms / 1000)} s`);
    line('file copy (stream read→write + fsync), before', copyBeforeMs);
    line('file copy, again after the S3 transfers', copyAfterMs);
    line('S3 PUT (multipart Upload)', putMs);
    line('S3 GET (streamed to a file + fsync)', getMs);
    line('bare node:http GET of the file (same client)', bareGetMs);
    console.log(`  S3 GET time / bare GET time = ${fmt(getMs / bareGetMs)}`);
    console.log(`  GET bytes ${getSha === srcSha ? 'equal' : 'DIFFER FROM'} the source (sha256 computed while streaming)`);
    console.log(`  server RSS before ${fmt(rssBefore, 1)} MB, peak ${fmt(rssMax, 1)} MB (VmRSS sampled every 100 ms during PUT and GET)`);
    console.log(`  RSS growth = ${fmt(growth, 1)} MB (target < 64 MB)`);
    console.log(
      `  ratio (PUT+GET)/copy = ${fmt(ratio)} (target >= 0.40; = 2 x mean copy time / (PUT time + GET time); ` +
        `${fmt((2 * copyBeforeMs) / (putMs + getMs))} against the first copy alone)`,
    );
    return { copyMs, putMs, getMs, bareGetMs, growth, ratio };
  } finally {
    removeDir(work);
  }
}

async function benchS3Small() {
  console.log(
    `\n[5] S3 small objects: ${SMALL_COUNT} PUTs of ${SMALL_BYTES / 1024} KiB, ${SMALL_CLIENTS} concurrent workers on one S3Client (maxSockets ${SMALL_CLIENTS * 2})`,
  );
  const sdk = awsSdk();
  const dataDir = tempDir('s3-small');
  const child = startStockade(dataDir);
  const latencies = [];
  let failures = 0;
  let elapsedMs;
  try {
    const base = await waitForListening(child);
    const s3 = s3Client(sdk, base, SMALL_CLIENTS * 2);
    try {
      await s3.send(new sdk.CreateBucketCommand({ Bucket: 'small' }));
      const body = randomBytes(SMALL_BYTES);
      const run = async (prefix, count, record) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: SMALL_CLIENTS }, async () => {
            while (next < count) {
              const i = next++;
              const t = performance.now();
              try {
                await s3.send(new sdk.PutObjectCommand({ Bucket: 'small', Key: `${prefix}/${i}`, Body: body }));
                if (record) latencies.push(performance.now() - t);
              } catch (e) {
                if (failures++ === 0) console.log(`  first failure: ${e?.name ?? e}: ${e?.message ?? ''}`);
              }
            }
          }),
        );
      };
      await run('warmup', SMALL_WARMUP, false); // connections opened, code warmed: not measured
      const t0 = performance.now();
      await run('obj', SMALL_COUNT, true);
      elapsedMs = performance.now() - t0;
      const listed = await s3.send(new sdk.ListObjectsV2Command({ Bucket: 'small', Prefix: 'obj/', MaxKeys: 1 }));
      if (!listed.KeyCount) throw new Error('no object was stored');
    } finally {
      s3.destroy();
    }
  } finally {
    await stop(child);
    removeDir(dataDir);
  }
  const sorted = latencies.sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const rate = latencies.length / (elapsedMs / 1000);
  console.log(`  ${latencies.length} PUTs in ${fmt(elapsedMs / 1000)} s (after ${SMALL_WARMUP} warm-up PUTs); failures = ${failures} (must be 0)`);
  if (failures) process.exitCode = 1;
  console.log(`  latency p50 = ${fmt(pct(50), 1)} ms, p99 = ${fmt(pct(99), 1)} ms`);
  console.log(`  small PUTs = ${fmt(rate, 0)} objects/s`);
  return { rate, p50: pct(50), p99: pct(99) };
}

const GET_BYTES = 7 * 1024;

/**
 * The signed request the AWS SDK sends for `command`: the S3Client's request handler is wrapped
 * to capture the final (signed) request, which is sent on as usual.
 */
async function captureSignedRequest(sdk, endpoint, command) {
  let captured;
  const inner = new sdk.NodeHttpHandler({ httpAgent: new Agent({ keepAlive: false }) });
  const s3 = new sdk.S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestHandler: {
      handle: (request, opts) => {
        captured = request;
        return inner.handle(request, opts);
      },
      updateHttpClientConfig: () => {},
      httpHandlerConfigs: () => ({}),
    },
  });
  try {
    const out = await s3.send(command);
    await out.Body?.transformToByteArray?.();
  } finally {
    s3.destroy();
  }
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(captured.query ?? {})) for (const x of [v].flat()) query.append(k, x ?? '');
  const q = query.toString();
  return { path: captured.path + (q ? `?${q}` : ''), headers: { ...captured.headers } };
}

async function benchS3Get() {
  console.log(
    `\n[6] S3 GetObject: a ${GET_BYTES / 1024} KiB object, autocannon, ${CONNECTIONS} connections, ${DURATION_S} s (+${WARMUP_S} s warm-up) each`,
  );
  const sdk = awsSdk();
  const dataDir = tempDir('s3-get');
  const object = randomBytes(GET_BYTES);
  const objectFile = join(dataDir, 'object.bin');
  writeFileSync(objectFile, object);
  const child = startStockade(join(dataDir, 'server'));
  let st;
  let same;
  try {
    const base = await waitForListening(child);
    const s3 = s3Client(sdk, base);
    try {
      await s3.send(new sdk.CreateBucketCommand({ Bucket: 'bench' }));
      await s3.send(new sdk.PutObjectCommand({ Bucket: 'bench', Key: 'object-7k.bin', Body: object }));
    } finally {
      s3.destroy();
    }
    // One GetObject as the SDK signs it (header SigV4, x-amz-content-sha256, its user agent and
    // invocation headers), replayed as is: valid for the 15-minute SigV4 window, and each request
    // still goes through the full signature verification, bucket and object lookup and blob read.
    const signed = await captureSignedRequest(sdk, base, new sdk.GetObjectCommand({ Bucket: 'bench', Key: 'object-7k.bin' }));
    const probe = await new Promise((resolve, reject) => {
      request(base + signed.path, { headers: signed.headers, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    if (probe.status !== 200 || !probe.body.equals(object)) {
      throw new Error(`replayed GetObject answered ${probe.status} with ${probe.body.length} bytes: ${probe.body.toString('utf8', 0, 300)}`);
    }
    // Same-payload baseline: a bare server sending the object's bytes, receiving the same
    // requests, measured in turns with Stockade.
    const sameChild = startBare({ BARE_BODY_FILE: objectFile, BARE_CONTENT_TYPE: 'application/octet-stream' });
    try {
      const sameUrl = (await waitForListening(sameChild)) + signed.path;
      [st, same] = await cannonPair(
        { url: base + signed.path, headers: signed.headers, pid: child.pid },
        { url: sameUrl, headers: signed.headers, pid: sameChild.pid },
      );
    } finally {
      await stop(sameChild);
    }
  } finally {
    await stop(child);
    removeDir(dataDir);
  }
  printCannon('stockade S3 GetObject (1 fixed SigV4 sig)', st);
  printCannon('bare node:http, same body, same requests', same);
  console.log(`  stockade non-2xx responses = ${st.non2xx} (must be 0)${st.errors ? `, connection errors/timeouts = ${st.errors}` : ''}`);
  if (st.non2xx !== 0 || st.errors !== 0) {
    console.log(`  status codes: ${JSON.stringify(st.statusCodeStats)}`);
    process.exitCode = 1;
  }
  console.log(`  stockade server CPU = ${fmt(st.cpuUs, 0)} µs/request (bare, same body: ${fmt(same.cpuUs, 0)} µs/request)`);
  const ratio = st.rps / same.rps;
  console.log(`  ratio stockade/bare same-payload = ${fmt(ratio)} (target >= 0.15)`);
  return { st, same, ratio };
}

// ---------------------------------------------------------------------------------------------
// Datafence airlock (issue 9): import of a 1 GiB object onto a box NAS, and approval through
// release of a 1 GiB export, each against `cp` of the same file on the same disk.

/** A fence-admin key of the server's account, made through the admin code (as `stockade keys create`). */
async function createKey(dataDir, role) {
  const script = `
    const { openAdmin } = await import(${JSON.stringify(pathToFileURL(ADMIN).href)});
    const { defaultConfig } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'packages/server/dist/src/config.js')).href)});
    const config = defaultConfig();
    config.dataDir = ${JSON.stringify(dataDir)};
    const a = await openAdmin(config);
    try {
      console.log(JSON.stringify(await a.createKey({ role: ${JSON.stringify(role)}, userName: 'bench-reviewer' })));
    } finally {
      await a.close();
    }
  `;
  const p = spawnTracked(['--input-type=module', '-e', script], SERVER_ENV);
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (s) => (out += s));
  const { code } = await p.exited;
  if (code !== 0) throw new Error(`creating a key failed (exit ${code}): ${p.stderrText}`);
  return JSON.parse(out.trim().split('\n').pop());
}

/** Polls `fn` every 20 ms until it returns a value that is not undefined. */
async function until(what, fn, timeoutMs = 600_000) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function benchAirlock() {
  console.log('\n[7] Datafence airlock: 1 GiB import (bucket → box NAS) and approval → release (review bucket → target bucket), vs cp');
  const sdk = awsSdk();
  const { DatafenceClient } = await import(pathToFileURL(SDK).href);
  const work = tempDir('airlock');
  try {
    const src = join(work, 'source.bin');
    const srcSha = await writeTestFile(src, LARGE_BYTES);
    const cp = async (name) => {
      // cp, then its data made durable as Stockade makes a transfer durable (fsync).
      const t = performance.now();
      await execFileP('cp', [src, join(work, name)]);
      await fsyncFile(join(work, name));
      return performance.now() - t;
    };
    const cpBeforeMs = await cp('cp-before.bin');
    const dataDir = join(work, 'server');
    const child = startStockade(dataDir);
    let importMs;
    let releaseMs;
    let rssBefore;
    let rssMax;
    let releasedSha;
    let pinned;
    try {
      const base = await waitForListening(child);
      const s3 = s3Client(sdk, base);
      const owner = new DatafenceClient({ endpoint: base, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
      try {
        await s3.send(new sdk.CreateBucketCommand({ Bucket: 'airlock-in' }));
        await s3.send(new sdk.CreateBucketCommand({ Bucket: 'airlock-out' }));
        await new sdk.Upload({ client: s3, params: { Bucket: 'airlock-in', Key: 'one-gib.bin', Body: createReadStream(src) }, partSize: LARGE_PART, queueSize: LARGE_QUEUE }).done();
        const catalog = await owner.getProductSpec();
        const spec = (code) => catalog.find((p) => p.productCode === code);
        const fenceId = (await owner.getDatafence())[0].fenceId;
        await owner.createBox({
          fenceId,
          description: 'bench',
          createBoxInfo: {
            connectServerList: [{ specCode: spec('CON').specCodeList[0].specCode, storageSize: 100, userPassword1: 'Passw0rd#2024' }],
            linuxServerList: [{ specCode: spec('SVR_LNX_UBUNTU').specCodeList[0].specCode, softwareCode: spec('SVR_LNX_UBUNTU').softwareCodeList[0]?.softwareCode ?? '', storageSize: 100, userPassword: 'Passw0rd#2024' }],
            nasList: [{ nasSize: 500, count: 1 }],
          },
        });
        const boxId = await until('the box', async () => {
          const b = (await owner.getBoxList({ fenceId })).content[0];
          return b?.statusCode === 'USE' ? b.boxId : undefined;
        });
        const nasNo = (await owner.getTargetNasList({ fenceId, boxId })).content[0].instanceNo;
        const reviewer = new DatafenceClient({ endpoint: base, ...(await createKey(dataDir, 'fence-admin')) });

        rssBefore = readRssMB(child.pid);
        const rss = rssSampler(child.pid);
        try {
          let t0 = performance.now();
          await owner.createFileImport({ fenceId, boxId, sourceBucketName: 'airlock-in', sourceFilePathList: ['one-gib.bin'], targetNasInstanceNo: nasNo, description: 'bench' });
          const imp = await until('the import', async () => {
            const r = (await owner.getImportList({ fenceId, boxId, size: 1 })).content[0];
            if (r.statusCode.startsWith('ERROR')) throw new Error(`import ended ${r.statusCode}`);
            return r.statusCode === 'IMPORTED' ? r : undefined;
          });
          importMs = performance.now() - t0;

          // The copy to review is not timed (the issue names import and approval → release).
          const file = `${imp.fileId}_one-gib.bin`;
          await owner.createFileExport({ fenceId, boxId, sourceNasInstanceNo: nasNo, sourceFilePathList: [file], targetBucketName: 'airlock-out', fileDescription: 'bench', exportPurpose: 'bench', description: '' });
          const exp = await until('the copy to review', async () => {
            const r = (await owner.getExportList({ fenceId, boxId, size: 1 })).content[0];
            if (r.statusCode.startsWith('ERROR')) throw new Error(`export ended ${r.statusCode}`);
            return r.statusCode === 'UPLOADED' ? r : undefined;
          });
          pinned = (await reviewer.getExportFileApproveDetail({ fenceId, boxId, fileId: exp.fileId })).sha256;

          t0 = performance.now();
          await reviewer.exportFileApprove({ fenceId, boxId, fileId: exp.fileId });
          await until('the release', async () => {
            const r = await owner.getExportDetail({ fenceId, boxId, fileId: exp.fileId });
            if (r.statusCode.startsWith('ERROR')) throw new Error(`release ended ${r.statusCode}`);
            return r.statusCode === 'EXPORTED' ? r : undefined;
          });
          releaseMs = performance.now() - t0;
        } finally {
          rssMax = rss.stop();
        }
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket: 'airlock-out', Key: (await owner.getExportList({ fenceId, boxId, size: 1 })).content[0].sourceFilePath }));
        const tap = hashTap();
        await pipeline(out.Body, tap, new Writable({ write: (_c, _e, cb) => cb() }));
        releasedSha = tap.digest;
      } finally {
        s3.destroy();
      }
    } finally {
      await stop(child);
    }
    const cpAfterMs = await cp('cp-after.bin');
    const cpMs = (cpBeforeMs + cpAfterMs) / 2;
    const line = (label, ms) => console.log(`  ${label.padEnd(44)} ${fmt(mbps(LARGE_BYTES, ms), 0).padStart(5)} MB/s   ${fmt(ms / 1000)} s`);
    line('cp (+ sync of the copy), before', cpBeforeMs);
    line('cp, again after the airlock transfers', cpAfterMs);
    line('import: request → IMPORTED', importMs);
    line('release: approve → EXPORTED', releaseMs);
    const same = releasedSha === srcSha && pinned === srcSha;
    console.log(`  released bytes ${same ? 'equal' : 'DIFFER FROM'} the source (pinned and released SHA-256)`);
    if (!same) process.exitCode = 1;
    const growth = rssMax - rssBefore;
    console.log(`  server RSS before ${fmt(rssBefore, 1)} MB, peak ${fmt(rssMax, 1)} MB; growth = ${fmt(growth, 1)} MB (target < 64 MB)`);
    console.log(`  ratio import/cp = ${fmt(cpMs / importMs)}, release/cp = ${fmt(cpMs / releaseMs)} (target >= 0.40 each; throughput relative to the mean cp time)`);
    return { cpMs, importMs, releaseMs, growth };
  } finally {
    removeDir(work);
  }
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// 7. The web console's cost when it is not used (`console`)

/** Idle RSS of a fresh server after 100 signed GETs and, with `consoleFiles`, after serving the console's files once. */
async function idleRssWith(env, signHeaders, consoleFiles) {
  const dataDir = tempDir('console-rss');
  const child = startStockade(dataDir, 0, env);
  try {
    const base = await waitForListening(child);
    const headers = signHeaders();
    for (let i = 0; i < 100; i++) {
      const r = await get(base + PATH, headers);
      if (r.status !== 200) throw new Error(`get-product-spec answered ${r.status}`);
    }
    for (const f of consoleFiles) {
      const r = await get(base + f);
      if (r.status !== 200) throw new Error(`${f} answered ${r.status}`);
    }
    await sleep(2000);
    return readRssMB(child.pid);
  } finally {
    await stop(child);
    removeDir(dataDir);
  }
}

async function benchConsole(signHeaders) {
  console.log(`\n[8] Console: cold start and idle RSS with the built console vs. without one (STOCKADE_CONSOLE_DIR = an empty dir), ${COLD_REPEATS} interleaved runs each`);
  const dist = join(ROOT, 'packages/console/dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = ['/console/', ...[...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1])];
  const emptyDir = tempDir('console-none');
  const without = { STOCKADE_CONSOLE_DIR: emptyDir };
  const withConsole = { STOCKADE_CONSOLE_DIR: dist };
  const cold = { with: [], without: [] };
  const rss = { with: [], without: [], served: [] };
  try {
    for (let i = 0; i < COLD_REPEATS; i++) {
      for (const [label, env] of [['without', without], ['with', withConsole]]) {
        const d = tempDir('console-cold');
        try {
          cold[label].push(await timeColdStart(d, env));
        } finally {
          removeDir(d);
        }
      }
    }
    for (let i = 0; i < 3; i++) {
      rss.without.push(await idleRssWith(without, signHeaders, []));
      rss.with.push(await idleRssWith(withConsole, signHeaders, []));
      rss.served.push(await idleRssWith(withConsole, signHeaders, files));
    }
  } finally {
    removeDir(emptyDir);
  }
  const runs = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`  cold start without console: ${runs(cold.without)} ms; with: ${runs(cold.with)} ms`);
  console.log(`  idle RSS without console: ${runs(rss.without)} MB; with: ${runs(rss.with)} MB; with, after serving ${files.length} console files once: ${runs(rss.served)} MB`);
  console.log(`  idle RSS after serving the console = ${fmt(median(rss.served), 1)} MB (ratio ${fmt(median(rss.served) / median(rss.without), 2)} vs without)`);
  console.log(`  ratio with/without console: cold start ${fmt(median(cold.with) / median(cold.without), 2)}, idle RSS ${fmt(median(rss.with) / median(rss.without), 2)} (target 1.00 ± 0.10: assets are read only when asked for)`);
}

async function main() {
  const started = performance.now();
  const { ncpSignHeaders } = await import(pathToFileURL(SDK).href);
  const signHeaders = () =>
    ncpSignHeaders({ method: 'GET', requestTarget: PATH, accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
  console.log(`Stockade benchmarks (node ${process.version}, ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'})`);
  // Optional filter: `node bench/run.mjs cold rss` runs only those (throughput, cold, rss, s3-large, s3-small, s3-get, airlock, console).
  const only = process.argv.slice(2);
  const known = ['throughput', 'cold', 'rss', 's3-large', 's3-small', 's3-get', 'airlock', 'console'];
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const want = (name) => only.length === 0 || only.includes(name);
  if (want('throughput')) await benchThroughput(signHeaders);
  if (want('cold')) await benchColdStart();
  if (want('rss')) await benchIdleRss(signHeaders);
  if (want('s3-large')) await benchS3Large();
  if (want('s3-small')) await benchS3Small();
  if (want('s3-get')) await benchS3Get();
  if (want('airlock')) await benchAirlock();
  if (want('console')) await benchConsole(signHeaders);
  console.log(`\ntotal bench time ${fmt((performance.now() - started) / 1000, 1)} s`);
}

try {
  await main();
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
} finally {
  for (const c of [...children]) await stop(c, 1000);
  killAllSync();
}
