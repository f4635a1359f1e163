/**
 * A `stockade serve` process SIGKILLed while it runs a Data Flow execution: its DuckDB engine
 * process goes with it, and the next process on the same database marks the execution FAILED
 * (executions are not retried), so it is never left RUNNING. Real processes, SQLite or PostgreSQL.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DataFlowClient } from '@stockade/sdk';
import { waitFor } from '../helpers/cli.js';
import { startFarm } from '../helpers/farm.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function engineRunning(executionId: string): boolean {
  try {
    return execFileSync('pgrep', ['-f', `stockade-dataflow-engine ${executionId}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

test('a server killed mid-run: the engine dies with it, and the next server marks the execution FAILED', { timeout: 120_000 }, async () => {
  const farm = await startFarm('df-crash', { STOCKADE_TASK_LEASE_MS: '600' });
  cleanups.push(() => farm.close());
  const { creds } = farm;
  const serve = () => farm.serve();

  const first = await serve();
  const s3 = new S3Client({ endpoint: first.url, forcePathStyle: true, region: 'us-east-1', credentials: creds });
  await s3.send(new CreateBucketCommand({ Bucket: 'crash-data' }));
  await s3.send(new PutObjectCommand({ Bucket: 'crash-data', Key: 'in/a.csv', Body: 'id\n1\n2\n' }));
  let flow = new DataFlowClient({ endpoint: first.url, ...creds });
  const job = await flow.createJob({
    name: 'slow_job',
    nodes: [
      { type: 'SOURCE_OBS', id: 1, name: 'in', parentNodeIds: [], regionNo: '1', bucketName: 'crash-data', prefix: 'in', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
      { type: 'TRANSFORM_SQL', id: 2, name: 'slow', parentNodeIds: [1], sourceNameList: [{ parentId: 1, newName: 'u' }], sql: 'SELECT sum(hash(i * u.id)) AS a FROM range(10000000000) t(i), u' },
      { type: 'TARGET_OBS', id: 3, name: 'out', parentNodeIds: [2], regionNo: '1', bucketName: 'crash-data', prefix: 'out', dataType: 'CSV', fieldList: [{ name: 'a', type: 'String' }] },
    ] as never,
  });
  const exec = await flow.executeJob({ jobId: job.jobId });
  const id = exec.jobExecutionId;
  await waitFor('the engine runs', () => Promise.resolve(engineRunning(id)), { timeoutMs: 30_000, everyMs: 50 });
  assert.equal((await flow.getJobExecutionById({ jobId: job.jobId, executionId: id })).status, 'RUNNING');

  first.p.signal('SIGKILL');
  await first.p.exited;
  await waitFor('the engine process ends with its server', () => Promise.resolve(!engineRunning(id)), { timeoutMs: 15_000, everyMs: 100 });

  const second = await serve();
  flow = new DataFlowClient({ endpoint: second.url, ...creds });
  await waitFor(
    'the execution is FAILED',
    async () => (await flow.getJobExecutionById({ jobId: job.jobId, executionId: id })).status === 'FAILED',
    { timeoutMs: 30_000, everyMs: 100 },
  );
  const j = await flow.getJobById({ jobId: job.jobId });
  assert.deepEqual([j.status, j.lastExecutionStatus], ['RUNNABLE', 'FAILED']);
  const logs = new S3Client({ endpoint: second.url, forcePathStyle: true, region: 'us-east-1', credentials: creds });
  const bucket = job.runCondition.logPath!.split('/')[0];
  const events = await logs.send(new GetObjectCommand({ Bucket: bucket, Key: `sparkHistoryLogs/${id}/events.json` })).catch(() => null);
  // The second process wrote no log of a run it did not run; the failure is on the record.
  assert.equal(events, null);
});
