#!/usr/bin/env node
// Stockade benchmarks: throughput vs a bare node:http server, cold start, idle RSS.
// Run with `npm run bench` (builds first) or `node bench/run.mjs` after `npm run build`.
// Plain ESM JavaScript; not part of the test suite. See bench/README.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
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

function startStockade(dataDir, port = 0) {
  return spawnTracked([CLI, 'serve', '--port', String(port), '--data', dataDir], SERVER_ENV);
}

const BARE_SERVER = `
const http = require('node:http');
// Hello-world by default; BARE_BODY_FILE serves those bytes instead (same-payload baseline).
const body = process.env.BARE_BODY_FILE ? require('node:fs').readFileSync(process.env.BARE_BODY_FILE) : JSON.stringify({ ok: true });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
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

async function cannon(url, headers) {
  const r = await autocannon({
    url,
    method: 'GET',
    headers,
    connections: CONNECTIONS,
    duration: DURATION_S,
    warmup: { connections: CONNECTIONS, duration: WARMUP_S },
  });
  return {
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx + (r.warmup?.non2xx ?? 0),
    errors: r.errors + r.timeouts + (r.warmup ? r.warmup.errors + r.warmup.timeouts : 0),
    statusCodeStats: r.statusCodeStats,
  };
}

function printCannon(label, r) {
  console.log(
    `  ${label.padEnd(34)} ${fmt(r.rps, 0).padStart(7)} req/s   p50 ${fmt(r.p50, 0)} ms   p99 ${fmt(r.p99, 0)} ms   ` +
      `(${r.total} requests, non-2xx ${r.non2xx}, errors ${r.errors})`,
  );
}

async function benchThroughput(signHeaders) {
  console.log(`\n[1] Throughput: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s (+${WARMUP_S} s warm-up) each`);
  console.log(`    load generator shares the machine (${cpus().length} CPUs) with the server under test`);

  let bare;
  const bareChild = startBare();
  try {
    const url = await waitForListening(bareChild);
    bare = await cannon(url + '/', {});
  } finally {
    await stop(bareChild);
  }
  printCannon('bare node:http GET /', bare);

  const dataDir = tempDir('tp');
  const child = startStockade(dataDir);
  let st;
  let same;
  try {
    const base = await waitForListening(child);
    // One fixed signature for every request: signed once, valid for the whole run (5-minute window).
    const headers = signHeaders();
    const probe = await get(base + PATH, headers);
    if (probe.status !== 200) throw new Error(`signed GET ${PATH} answered ${probe.status}: ${probe.body.slice(0, 300)}`);
    st = await cannon(base + PATH, headers);
    writeFileSync(join(dataDir, 'answer.json'), probe.body);
    // Same-payload baseline: a bare server sending the very bytes Stockade answered (~7 KB),
    // to separate Stockade's own cost from the cost of moving a larger response.
    const sameChild = startBare({ BARE_BODY_FILE: join(dataDir, 'answer.json') });
    try {
      same = await cannon((await waitForListening(sameChild)) + '/', {});
    } finally {
      await stop(sameChild);
    }
  } finally {
    await stop(child);
    removeDir(dataDir);
  }
  printCannon(`stockade signed GET (1 fixed sig)`, st);
  printCannon('bare node:http, same body', same);
  console.log(`  stockade non-2xx responses = ${st.non2xx} (must be 0)${st.errors ? `, connection errors/timeouts = ${st.errors}` : ''}`);
  if (st.non2xx !== 0 || st.errors !== 0) {
    console.log(`  status codes: ${JSON.stringify(st.statusCodeStats)}`);
    process.exitCode = 1;
  }
  console.log(`  p99 = ${fmt(st.p99, 0)} ms (target <= 10 ms)`);
  console.log(`  ratio stockade/bare same-payload = ${fmt(st.rps / same.rps)} (Stockade's own overhead)`);
  const ratio = st.rps / bare.rps;
  console.log(`  ratio stockade/bare hello-world = ${fmt(ratio)} (target >= 0.50)`);
  return { bare, st, ratio };
}

// ---------------------------------------------------------------------------------------------
// 2. Cold start

/** Spawn Stockade and time spawn → first 200 from GET /_stockade/health (polled every 5 ms). */
async function timeColdStart(dataDir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/_stockade/health`;
  const t0 = performance.now();
  const child = startStockade(dataDir, port);
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

async function main() {
  const started = performance.now();
  const { ncpSignHeaders } = await import(pathToFileURL(SDK).href);
  const signHeaders = () =>
    ncpSignHeaders({ method: 'GET', requestTarget: PATH, accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
  console.log(`Stockade benchmarks (node ${process.version}, ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'})`);
  // Optional filter: `node bench/run.mjs cold rss` runs only those (throughput, cold, rss).
  const only = process.argv.slice(2);
  const want = (name) => only.length === 0 || only.includes(name);
  if (want('throughput')) await benchThroughput(signHeaders);
  if (want('cold')) await benchColdStart();
  if (want('rss')) await benchIdleRss(signHeaders);
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
