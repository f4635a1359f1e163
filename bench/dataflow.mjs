#!/usr/bin/env node
// Data Flow engine benchmark (issue 10): a generated CSV of 5 million rows → filter → aggregate →
// Parquet, run through executeJob on a Stockade server (child process, SQLite, dev profile),
// against DuckDB running the same query on the same file in the same run (in this process, the
// same number of threads as the job's workers). Prints both times, rows per second and the ratio
// Stockade / DuckDB (target: at most 1.25).
// Run after `npm run build`: `node bench/dataflow.mjs [rows]`. Needs about 400 MB in os.tmpdir().
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages/server/dist/stockade.mjs');
const SDK = join(ROOT, 'packages/sdk/dist/src/index.js');
const ROWS = Number(process.argv[2] ?? 5_000_000);
const WORKERS = 2;
// Rounds of each (after one warm-up), alternating; the best of each is compared (a shared machine is noisy).
const ROUNDS = 5;
const ACCESS_KEY = 'BENCHAK0000000000002';
const SECRET_KEY = 'bench-secret-dataflow-00000000000000000000';
const BUCKET = 'bench-data';

const dir = mkdtempSync(join(tmpdir(), 'stockade-bench-dataflow-'));
let server;
const cleanup = () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

/** The input: id, category (one of 50), amount (0–999.99), note. Deterministic. */
async function generate(file) {
  const out = createWriteStream(file);
  out.write('id,category,amount,note\n');
  let x = 12345;
  const chunk = [];
  for (let i = 1; i <= ROWS; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    chunk.push(`${i},cat${x % 50},${(x % 100000) / 100},n${x % 7}`);
    if (chunk.length === 50_000) {
      if (!out.write(chunk.join('\n') + '\n')) await new Promise((r) => out.once('drain', r));
      chunk.length = 0;
    }
  }
  if (chunk.length) out.write(chunk.join('\n') + '\n');
  await new Promise((r) => out.end(r));
}

const require = createRequire(join(ROOT, 'packages/server/package.json'));

async function duckdbBaseline(file, outFile) {
  const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
  const t0 = performance.now();
  const inst = await DuckDBInstance.create(':memory:', { threads: String(WORKERS) });
  const conn = await inst.connect();
  await conn.run(
    `COPY (SELECT category, SUM(amount) AS total, MAX(id) AS last_id FROM read_csv('${file}', header = true) WHERE amount > 500 GROUP BY category) TO '${outFile}' (FORMAT parquet)`,
  );
  const ms = performance.now() - t0;
  conn.closeSync();
  return ms;
}

function startServer() {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', join(dir, 'data')], {
    env: { ...process.env, STOCKADE_ACCESS_KEY_ID: ACCESS_KEY, STOCKADE_SECRET_ACCESS_KEY: SECRET_KEY, STOCKADE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      buf += s;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

async function main() {
  const file = join(dir, 'input.csv');
  process.stdout.write(`generating ${ROWS} rows… `);
  await generate(file);
  const bytes = statSync(file).size;
  console.log(`${(bytes / 1e6).toFixed(0)} MB`);

  const { child, url } = await startServer();
  server = child;
  const { DataFlowClient } = await import(pathToFileURL(SDK).href);
  const flow = new DataFlowClient({ endpoint: url, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { S3Client, CreateBucketCommand, PutObjectCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3');
  const s3 = new S3Client({ endpoint: url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'input/data.csv', Body: createReadStream(file), ContentLength: bytes }));

  const job = await flow.createJob({
    name: 'bench_filter_aggregate',
    jobCondition: { numWorker: WORKERS, timeout: 60 },
    nodes: [
      { type: 'SOURCE_OBS', id: 1, name: 'csv', parentNodeIds: [], regionNo: '1', bucketName: BUCKET, prefix: 'input', dataType: 'CSV',
        fieldList: [{ name: 'id', type: 'Bigint' }, { name: 'category', type: 'String' }, { name: 'amount', type: 'Double' }, { name: 'note', type: 'String' }] },
      { type: 'TRANSFORM_FILTER', id: 2, name: 'filter', parentNodeIds: [1], filterType: 'AND', filterConditionList: [{ name: 'amount', operator: 'GT', value: '500' }] },
      { type: 'TRANSFORM_AGGREGATE', id: 3, name: 'agg', parentNodeIds: [2], groupByList: ['category'],
        aggregateFieldList: [{ name: 'amount', ResultName: 'total', function: 'SUM' }, { name: 'id', ResultName: 'last_id', function: 'MAX' }] },
      { type: 'TARGET_OBS', id: 4, name: 'parquet', parentNodeIds: [3], regionNo: '1', bucketName: BUCKET, prefix: 'output', dataType: 'PARQUET',
        fieldList: [{ name: 'category', type: 'String' }, { name: 'total', type: 'Double' }, { name: 'last_id', type: 'Bigint' }] },
    ],
  });

  const runStockade = async () => {
    const t0 = performance.now();
    const e = await flow.executeJob({ jobId: job.jobId });
    for (;;) {
      const r = await flow.getJobExecutionById({ jobId: job.jobId, executionId: e.jobExecutionId });
      if (r.status === 'COMPLETED') return performance.now() - t0;
      if (r.status !== 'READY' && r.status !== 'RUNNING') throw new Error(`execution ${r.status}`);
      await sleep(20);
    }
  };

  // Warm the page cache and both paths once, then alternate ROUNDS times each and keep the best.
  await duckdbBaseline(file, join(dir, 'warm.parquet'));
  await runStockade();
  const duck = [];
  const stockade = [];
  for (let i = 0; i < ROUNDS; i++) {
    duck.push(await duckdbBaseline(file, join(dir, `baseline-${i}.parquet`)));
    stockade.push(await runStockade());
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'output/' }));
  if ((listed.Contents ?? []).length !== 1) throw new Error('expected one output object');
  const { GetObjectCommand } = require('@aws-sdk/client-s3');
  const [logBucket] = job.runCondition.logPath.split('/');
  const last = (await flow.getJobExecutions({ jobId: job.jobId, limit: 1 })).list[0];
  const consoleLog = await s3.send(new GetObjectCommand({ Bucket: logBucket, Key: `consoleLogs/${last.jobExecutionId}/console.log` }));
  console.log('last run, console log:\n' + (await consoleLog.Body.transformToString()).trim().replace(/^/gm, '  '));
  const d = Math.min(...duck);
  const s = Math.min(...stockade);
  console.log(`DuckDB alone        : ${d.toFixed(0)} ms  (${((ROWS / d) * 1000 / 1e6).toFixed(2)} M rows/s)  runs ${duck.map((x) => x.toFixed(0)).join(', ')}`);
  console.log(`Stockade executeJob : ${s.toFixed(0)} ms  (${((ROWS / s) * 1000 / 1e6).toFixed(2)} M rows/s)  runs ${stockade.map((x) => x.toFixed(0)).join(', ')}`);
  const ratio = s / d;
  console.log(`dataflow ratio stockade/duckdb = ${ratio.toFixed(2)} [target <= 1.25] ${ratio <= 1.25 ? 'OK' : 'OVER'}`);
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
