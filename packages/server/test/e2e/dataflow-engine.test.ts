/**
 * Data Flow's engine end to end: jobs executed with executeJob read generated data from object
 * storage (put there with the AWS SDK), every node type computes what §1.3.4 says, outputs are
 * objects read back with the AWS SDK and checked row by row (with DuckDB in the test), each
 * updateType, the script and logs as objects, TRANSFORM_SQL confined to its working directory,
 * a timeout, and an engine process killed mid-run.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DataFlowClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let flow: DataFlowClient;
let s3: S3Client;
let duck: DuckDBConnection;
let scratch: string;
const BUCKET = 'aitems';

before(async () => {
  // One timeout unit is 500 ms here (a minute in production), so a timeout can be tested.
  // Leases of 1.5 s: a running task sees a cancellation within half a second.
  srv = await startTestServer('df-engine', { config: { taskLeaseMs: 1500, dataflowSettings: { timeoutUnitMs: 500, memoryPerWorkerMb: 256 } } });
  flow = new DataFlowClient(srv.creds);
  s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  duck = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'df-engine-test-'));
});
after(async () => {
  duck?.closeSync();
  await fsp.rm(scratch, { recursive: true, force: true });
  await srv.close();
});

const put = (key: string, body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

async function keysUnder(prefix: string, bucket = BUCKET): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

async function getText(key: string, bucket = BUCKET): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return r.Body!.transformToString();
}

/** Every output object under `prefix`, downloaded and read with DuckDB, rows ordered by `order`. */
async function rows(prefix: string, format: 'CSV' | 'JSON' | 'PARQUET', order: string): Promise<Array<Record<string, unknown>>> {
  const keys = await keysUnder(prefix);
  assert.ok(keys.length > 0, `no objects under ${prefix}`);
  const dir = await fsp.mkdtemp(path.join(scratch, 'read-'));
  const files: string[] = [];
  for (const [i, k] of keys.entries()) {
    const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: k }));
    const f = path.join(dir, `${i}${path.extname(k)}`);
    await fsp.writeFile(f, await r.Body!.transformToByteArray());
    files.push(f);
  }
  const list = `[${files.map((f) => `'${f}'`).join(',')}]`;
  const from =
    format === 'CSV' ? `read_csv(${list}, header = true, all_varchar = true)` : format === 'PARQUET' ? `read_parquet(${list})` : `read_json(${list}, format = 'newline_delimited')`;
  return (await duck.runAndReadAll(`SELECT * FROM ${from} ORDER BY ${order}`)).getRowObjectsJson();
}

async function run(jobId: string, body: Parameters<DataFlowClient['executeJob']>[0] = { jobId }) {
  const started = await flow.executeJob(body);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const e = await flow.getJobExecutionById({ jobId, executionId: started.jobExecutionId });
    if (e.status !== 'READY' && e.status !== 'RUNNING') return e;
    if (Date.now() > deadline) assert.fail(`execution ${e.jobExecutionId} still ${e.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const f = (name: string, type: string) => ({ name, type });
const src = (id: number, prefix: string, dataType: string, fieldList: Array<{ name: string; type: string }>) => ({
  type: 'SOURCE_OBS', id, name: `src${id}`, parentNodeIds: [], regionNo: '1', bucketName: BUCKET, prefix, dataType, fieldList,
});
const tgt = (id: number, parent: number, prefix: string, dataType: string, fieldList: Array<{ name: string; type: string }>, extra: Record<string, unknown> = {}) => ({
  type: 'TARGET_OBS', id, name: `tgt${id}`, parentNodeIds: [parent], regionNo: '1', bucketName: BUCKET, prefix, dataType, fieldList, ...extra,
});

let seq = 0;
const uniq = (base: string) => `${base}_${++seq}`;

describe('the documented example (§1.3.6)', () => {
  test('CSV → filter name = A → Parquet, readable with the AWS SDK; script and logs are objects; the job is RUNNABLE again', async () => {
    await put('dataflow1/part1.csv', 'id,name,description\n1,A,first\n2,B,second\n3,A,"third, quoted"\n');
    await put('dataflow1/part2.csv', 'id,name,description\n4,C,fourth\n5,A,\n');
    // Not inputs: a hidden file, and a sibling folder sharing the leading name.
    await put('dataflow1/_SUCCESS', '');
    await put('dataflow1-other/x.csv', 'id,name,description\n9,A,not mine\n');
    const fields = [f('id', 'string'), f('name', 'string'), f('description', 'string')];
    const job = await flow.createJob({
      name: uniq('data-flow'),
      nodes: [
        src(1697776914576, 'dataflow1', 'CSV', fields),
        { type: 'TRANSFORM_FILTER', id: 1697776920001, name: 'Filters', parentNodeIds: [1697776914576], filterType: 'AND', filterConditionList: [{ name: 'name', operator: 'EQ', value: 'A' }] },
        tgt(1697776930002, 1697776920001, 'dataflow1-output', 'PARQUET', fields, { updateType: 'OVERWRITE', coalesce: 1 }),
      ] as never,
    });
    const e = await run(job.jobId);
    assert.equal(e.status, 'COMPLETED', JSON.stringify(e));
    assert.ok(e.startDate && e.endDate);
    assert.deepEqual([e.waitingTime, e.runningTime], [0, 0]);
    assert.deepEqual(await keysUnder('dataflow1-output/'), [`dataflow1-output/part-00000-${e.jobExecutionId}.parquet`]);
    assert.deepEqual(await rows('dataflow1-output/', 'PARQUET', 'id'), [
      { id: '1', name: 'A', description: 'first' },
      { id: '3', name: 'A', description: 'third, quoted' },
      { id: '5', name: 'A', description: null },
    ]);
    const j = await flow.getJobById({ jobId: job.jobId });
    assert.deepEqual([j.status, j.lastExecutionStatus], ['RUNNABLE', 'COMPLETED']);

    const [bucket, ...rest] = job.runCondition.scriptPath!.split('/');
    const script = await getText(`${rest.join('/')}${job.jobId}/${e.jobExecutionId}.sql`, bucket);
    assert.match(script, /SET enable_external_access = false;/);
    assert.match(script, /WHERE \("name" = CAST\('A' AS VARCHAR\)\)/);
    const events = JSON.parse(await getText(`sparkHistoryLogs/${e.jobExecutionId}/events.json`, bucket)) as { nodes: Array<{ id: number; rows?: number; files?: number }>; error: null };
    assert.equal(events.error, null);
    assert.deepEqual(events.nodes.find((n) => n.id === 1697776914576)?.files, 2);
    assert.deepEqual(events.nodes.find((n) => n.id === 1697776930002)?.rows, 3);
    assert.match(await getText(`consoleLogs/${e.jobExecutionId}/console.log`, bucket), /COMPLETED/);

    // A new scriptPath (a bucket of the account) moves the job's scripts there; another bucket is refused.
    await s3.send(new CreateBucketCommand({ Bucket: 'moved-scripts' }));
    const moved = await flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { scriptPath: 'moved-scripts/sql/' } });
    assert.equal(moved.runCondition.scriptPath, 'moved-scripts/sql/');
    assert.deepEqual(await keysUnder('sql/', 'moved-scripts'), [`sql/${job.jobId}/${e.jobExecutionId}.sql`]);
    assert.match(await getText(`sql/${job.jobId}/${e.jobExecutionId}.sql`, 'moved-scripts'), /COPY/);
    await assert.rejects(getText(`${rest.join('/')}${job.jobId}/${e.jobExecutionId}.sql`, bucket));
    await assert.rejects(flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { scriptPath: 'not-my-bucket/sql/' } }), /does not exist/);

    // OVERWRITE: a second run replaces the output.
    const again = await run(job.jobId);
    assert.equal(again.status, 'COMPLETED');
    assert.deepEqual(await keysUnder('dataflow1-output/'), [`dataflow1-output/part-00000-${again.jobExecutionId}.parquet`]);
    assert.equal((await flow.getJobExecutions({ jobId: job.jobId })).count, 2);
  });
});

describe('every transform', () => {
  before(async () => {
    await put('users/users.csv', 'id,name,region,age,email\n1,Ann,north,30,ann@a.org\n2,Bob,south,,bob@b.org\n3,Cid,north,41,cid@a.org\n4,Dee,,25,dee\n5,Eve,south,35,eve@b.org\n');
    await put(
      'orders/o.ndjson',
      ['{"order_id":10,"user_id":1,"amount":5.5}', '{"order_id":11,"user_id":1,"amount":4.5}', '{"order_id":12,"user_id":3,"amount":10}', '{"order_id":13,"user_id":5,"amount":2}', '{"order_id":14,"user_id":9,"amount":7}'].join('\n') + '\n',
    );
  });

  test('join, fill, aggregate, SQL over two inputs, select, union ALL/DISTINCT, de-duplication, define, rename, drop-null, filter OR, split — exact results', async () => {
    const users = src(1, 'users', 'CSV', [f('id', 'Int'), f('name', 'String'), f('region', 'String'), f('age', 'Int'), f('email', 'String')]);
    const orders = src(2, 'orders', 'NDJSON', [f('order_id', 'Bigint'), f('user_id', 'Int'), f('amount', 'Double')]);
    const nodes = [
      users,
      orders,
      { type: 'TRANSFORM_JOIN', id: 3, name: 'join', parentNodeIds: [1, 2], joinType: 'LEFT_OUTER', leftNodeId: 1, rightNodeId: 2, prefix: 'o_',
        joinConditionList: [{ leftField: 'id', rightField: 'user_id', joinOperator: 'EQ', conditionOperator: 'HEAD' }] },
      { type: 'TRANSFORM_FILL_MISSING_VALUES', id: 4, name: 'fill', parentNodeIds: [3], missingValueFieldList: [{ name: 'region', defaultValue: 'unknown' }] },
      { type: 'TRANSFORM_AGGREGATE', id: 5, name: 'agg', parentNodeIds: [4], groupByList: ['region'],
        aggregateFieldList: [{ name: 'amount', ResultName: 'total', function: 'SUM' }, { name: 'age', resultName: 'oldest', function: 'MAX' }, { name: 'amount', ResultName: 'mean', function: 'AVG' }] },
      tgt(101, 5, 'out/agg', 'CSV', [f('region', 'string'), f('total', 'double'), f('oldest', 'int'), f('mean', 'double')]),
      { type: 'TRANSFORM_SQL', id: 6, name: 'sql', parentNodeIds: [1, 2], sourceNameList: [{ parentId: 1, newName: 'u' }, { parentId: 2, newName: 'o' }],
        sql: 'SELECT u.name, count(o.order_id) AS n FROM u JOIN o ON u.id = o.user_id GROUP BY u.name;' },
      tgt(102, 6, 'out/sql', 'JSON', [f('name', 'string'), f('n', 'bigint')]),
      { type: 'TRANSFORM_SELECT', id: 7, name: 'ids', parentNodeIds: [1], fieldList: [{ name: 'id', type: 'Int' }] },
      { type: 'TRANSFORM_SELECT', id: 8, name: 'uids', parentNodeIds: [2], fieldList: [{ name: 'user_id', type: 'Int' }] },
      { type: 'TRANSFORM_UNION', id: 9, name: 'all', parentNodeIds: [7, 8], unionType: 'ALL' },
      { type: 'TRANSFORM_UNION', id: 10, name: 'distinct', parentNodeIds: [7, 8], unionType: 'DISTINCT' },
      tgt(103, 9, 'out/union-all', 'PARQUET', [f('id', 'int')], { coalesce: 3 }),
      tgt(104, 10, 'out/union-distinct', 'CSV', [f('id', 'int')]),
      { type: 'TRANSFORM_DROP_DUPLICATION', id: 11, name: 'dedupe', parentNodeIds: [2], dropFieldList: ['user_id'] },
      tgt(105, 11, 'out/dedupe', 'CSV', [f('user_id', 'int')]),
      { type: 'TRANSFORM_DEFINE', id: 12, name: 'define', parentNodeIds: [1], defineFieldList: [{ name: 'age', newType: 'String', newName: 'age_text' }] },
      { type: 'TRANSFORM_RENAME', id: 13, name: 'rename', parentNodeIds: [12], renameFieldList: [{ name: 'name', newName: 'full_name' }] },
      { type: 'TRANSFORM_DROP_NULL', id: 14, name: 'dropnull', parentNodeIds: [13] },
      tgt(106, 14, 'out/clean', 'CSV', [f('id', 'int'), f('full_name', 'string'), f('age_text', 'string')]),
      { type: 'TRANSFORM_FILTER', id: 15, name: 'or', parentNodeIds: [1], filterType: 'OR',
        filterConditionList: [{ name: 'age', operator: 'GT', value: '34' }, { name: 'region', operator: 'EQ', value: 'south' }] },
      { type: 'TRANSFORM_SPLIT_FIELD', id: 16, name: 'split', parentNodeIds: [15], fieldName: 'email', delimiter: '@', newFieldList: ['mailbox', { name: 'domain' }] },
      tgt(107, 16, 'out/split', 'CSV', [f('id', 'int'), f('mailbox', 'string'), f('domain', 'string')]),
    ];
    const job = await flow.createJob({ name: uniq('transforms'), nodes: nodes });
    const e = await run(job.jobId);
    assert.equal(e.status, 'COMPLETED', JSON.stringify(e));

    assert.deepEqual(await rows('out/agg/', 'CSV', 'region'), [
      { region: 'north', total: '20.0', oldest: '41', mean: '6.666666666666667' },
      { region: 'south', total: '2.0', oldest: '35', mean: '2.0' },
      { region: 'unknown', total: null, oldest: '25', mean: null },
    ]);
    assert.deepEqual(await rows('out/sql/', 'JSON', 'name'), [
      // (the test's reader sees JSON numbers as BIGINT, rendered as strings)
      { name: 'Ann', n: '2' },
      { name: 'Cid', n: '1' },
      { name: 'Eve', n: '1' },
    ]);
    const all = await keysUnder('out/union-all/');
    assert.equal(all.length, 3, 'coalesce 3 makes 3 files');
    assert.deepEqual((await rows('out/union-all/', 'PARQUET', 'id')).map((r) => r.id), [1, 1, 1, 2, 3, 3, 4, 5, 5, 9]);
    assert.deepEqual((await rows('out/union-distinct/', 'CSV', 'id::INT')).map((r) => r.id), ['1', '2', '3', '4', '5', '9']);
    assert.deepEqual((await rows('out/dedupe/', 'CSV', 'user_id::INT')).map((r) => r.user_id), ['1', '3', '5', '9']);
    assert.deepEqual(await rows('out/clean/', 'CSV', 'id::INT'), [
      { id: '1', full_name: 'Ann', age_text: '30' },
      { id: '3', full_name: 'Cid', age_text: '41' },
      { id: '5', full_name: 'Eve', age_text: '35' },
    ]);
    assert.deepEqual(await rows('out/split/', 'CSV', 'id::INT'), [
      { id: '2', mailbox: 'bob', domain: 'b.org' },
      { id: '3', mailbox: 'cid', domain: 'a.org' },
      { id: '5', mailbox: 'eve', domain: 'b.org' },
    ]);
  });

  test('join types: INNER, RIGHT_OUTER and FULL_OUTER keep the rows they should', async () => {
    const users = src(1, 'users', 'CSV', [f('id', 'Int'), f('name', 'String')]);
    const orders = src(2, 'orders', 'NDJSON', [f('order_id', 'Bigint'), f('user_id', 'Int')]);
    const join = (id: number, joinType: string) => ({
      type: 'TRANSFORM_JOIN', id, name: joinType, parentNodeIds: [1, 2], joinType, leftNodeId: 1, rightNodeId: 2,
      joinConditionList: [{ leftField: 'id', rightField: 'user_id', joinOperator: 'EQ', conditionOperator: 'HEAD' }],
    });
    const out = [f('id', 'int'), f('order_id', 'bigint')];
    const job = await flow.createJob({
      name: uniq('joins'),
      nodes: [users, orders, join(3, 'INNER'), join(4, 'RIGHT_OUTER'), join(5, 'FULL_OUTER'),
        tgt(6, 3, 'joins/inner', 'CSV', out), tgt(7, 4, 'joins/right', 'CSV', out), tgt(8, 5, 'joins/full', 'CSV', out)] as never,
    });
    assert.equal((await run(job.jobId)).status, 'COMPLETED');
    const pairs = async (p: string) => (await rows(p, 'CSV', 'order_id::INT NULLS LAST, id::INT')).map((r) => `${String(r.id)}:${String(r.order_id)}`);
    assert.deepEqual(await pairs('joins/inner/'), ['1:10', '1:11', '3:12', '5:13']);
    assert.deepEqual(await pairs('joins/right/'), ['1:10', '1:11', '3:12', '5:13', 'null:14']);
    assert.deepEqual(await pairs('joins/full/'), ['1:10', '1:11', '3:12', '5:13', 'null:14', '2:null', '4:null']);
  });
});

describe('formats and update types', () => {
  test('JSON (whole documents) and Parquet in; JSON out; APPEND adds files, IGNORE leaves existing data', async () => {
    await put('docs/a.json', JSON.stringify([{ k: 'x', v: 1 }, { k: 'y', v: 2 }]));
    await put('docs/b.json', JSON.stringify({ k: 'z', v: 3 }));
    const job = await flow.createJob({
      name: uniq('formats'),
      nodes: [
        src(1, 'docs', 'JSON', [f('k', 'String'), f('v', 'Int')]),
        tgt(2, 1, 'fmt/append', 'JSON', [f('k', 'string'), f('v', 'int')], { updateType: 'APPEND' }),
        tgt(3, 1, 'fmt/ignore', 'PARQUET', [f('k', 'string'), f('v', 'int')], { updateType: 'IGNORE' }),
      ] as never,
    });
    const first = await run(job.jobId);
    assert.equal(first.status, 'COMPLETED', JSON.stringify(first));
    assert.deepEqual(await rows('fmt/append/', 'JSON', 'k'), [{ k: 'x', v: '1' }, { k: 'y', v: '2' }, { k: 'z', v: '3' }]);
    const second = await run(job.jobId);
    assert.equal(second.status, 'COMPLETED');
    assert.equal((await keysUnder('fmt/append/')).length, 2);
    assert.equal((await rows('fmt/append/', 'JSON', 'k')).length, 6);
    assert.deepEqual(await keysUnder('fmt/ignore/'), [`fmt/ignore/part-00000-${first.jobExecutionId}.parquet`]);

    // Parquet in (the output above) → CSV out.
    const back = await flow.createJob({
      name: uniq('parquet_in'),
      nodes: [src(1, 'fmt/ignore', 'PARQUET', [f('v', 'Bigint'), f('k', 'String')]), tgt(2, 1, 'fmt/csv', 'CSV', [f('k', 'string'), f('v', 'bigint')])] as never,
    });
    assert.equal((await run(back.jobId)).status, 'COMPLETED');
    assert.equal((await getText((await keysUnder('fmt/csv/'))[0]!)).split('\n')[0], 'k,v');
    assert.deepEqual(await rows('fmt/csv/', 'CSV', 'k'), [{ k: 'x', v: '1' }, { k: 'y', v: '2' }, { k: 'z', v: '3' }]);
  });

  test("a source bucket of another account is not found: the execution FAILS naming the node", async () => {
    const acc = await srv.newAccount('df-engine-other');
    const theirs = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: acc });
    await theirs.send(new CreateBucketCommand({ Bucket: 'their-bucket' }));
    await theirs.send(new PutObjectCommand({ Bucket: 'their-bucket', Key: 'secret/x.csv', Body: 'a\n1\n' }));
    const node = { ...src(1, 'secret', 'CSV', [f('a', 'String')]), bucketName: 'their-bucket' };
    const job = await flow.createJob({ name: uniq('steal'), nodes: [node, tgt(2, 1, 'stolen', 'CSV', [f('a', 'string')])] as never });
    const e = await run(job.jobId);
    assert.equal(e.status, 'FAILED');
    assert.deepEqual(await keysUnder('stolen/'), []);
    const events = await getText(`sparkHistoryLogs/${e.jobExecutionId}/events.json`, job.runCondition.logPath!.split('/')[0]);
    assert.match(events, /node 1: bucket their-bucket does not exist/);
  });
});

describe('TRANSFORM_SQL cannot reach outside its working directory', () => {
  const attempts: Array<[string, string]> = [
    ['read a host file', "SELECT * FROM read_csv('/etc/passwd')"],
    ['read a host file as text', "SELECT content AS a FROM read_text('/etc/hostname')"],
    ["read Stockade's own database", "SELECT content AS a FROM read_blob('__DATA__/stockade.db')"],
    ['list host directories', "SELECT file AS a FROM glob('/*')"],
    ['ATTACH a database file', "ATTACH '__DATA__/stockade.db' AS s"],
    ['INSTALL an extension', 'INSTALL httpfs'],
    ['LOAD an extension', "SELECT * FROM u; LOAD '/tmp/x.duckdb_extension'"],
    ['COPY outside', "COPY (SELECT 1) TO '__SCRATCH__/escaped.csv'"],
    ['switch the confinement off', 'SELECT current_setting(\'enable_external_access\') AS a FROM u WHERE 1 = 0; SET enable_external_access = true'],
  ];
  for (const [what, sqlText] of attempts) {
    test(`${what}: the execution FAILS and nothing leaves`, async () => {
      await put('users/users.csv', 'id,name,region,age,email\n1,Ann,north,30,ann@a.org\n');
      const sqlNode = {
        type: 'TRANSFORM_SQL', id: 2, name: 'sql', parentNodeIds: [1], sourceNameList: [{ parentId: 1, newName: 'u' }],
        sql: sqlText.replace('__DATA__', srv.app.ctx.config.dataDir).replace('__SCRATCH__', scratch),
      };
      const job = await flow.createJob({ name: uniq('escape'), nodes: [src(1, 'users', 'CSV', [f('id', 'Int')]), sqlNode, tgt(3, 2, `escape/${seq}`, 'CSV', [f('a', 'string')])] as never });
      const e = await run(job.jobId);
      assert.equal(e.status, 'FAILED');
      assert.deepEqual(await keysUnder(`escape/${seq}/`), []);
      await assert.rejects(fsp.stat(path.join(scratch, 'escaped.csv')));
    });
  }
  test('the refusal is the sandbox, not the parser: reading /etc/passwd is a permission error', async () => {
    const sqlNode = { type: 'TRANSFORM_SQL', id: 2, name: 'sql', parentNodeIds: [1], sourceNameList: [{ parentId: 1, newName: 'u' }], sql: "SELECT * FROM read_csv('/etc/passwd')" };
    const job = await flow.createJob({ name: uniq('escape'), nodes: [src(1, 'users', 'CSV', [f('id', 'Int')]), sqlNode, tgt(3, 2, 'escape/p', 'CSV', [f('a', 'string')])] as never });
    const e = await run(job.jobId);
    const events = await getText(`sparkHistoryLogs/${e.jobExecutionId}/events.json`, job.runCondition.logPath!.split('/')[0]);
    assert.match(events, /node 2: Permission Error: Cannot access file \\"\/etc\/passwd\\"/);
  });
});

describe('ending runs', () => {
  const slow = (timeout: number): Record<string, unknown> => ({
    nodes: [
      src(1, 'users', 'CSV', [f('id', 'Int')]),
      { type: 'TRANSFORM_SQL', id: 2, name: 'slow', parentNodeIds: [1], sourceNameList: [{ parentId: 1, newName: 'u' }], sql: 'SELECT sum(hash(i * u.id)) AS a FROM range(10000000000) t(i), u' },
      tgt(3, 2, 'slow', 'CSV', [f('a', 'string')]),
    ],
    jobCondition: { timeout },
  });

  test('a run longer than its timeout is FAILED, and its engine process is gone', async () => {
    const job = await flow.createJob({ name: uniq('timeout'), ...slow(2) });
    const started = Date.now();
    const e = await run(job.jobId);
    assert.equal(e.status, 'FAILED');
    assert.ok(Date.now() - started < 20_000);
    const events = await getText(`sparkHistoryLogs/${e.jobExecutionId}/events.json`, job.runCondition.logPath!.split('/')[0]);
    assert.match(events, /timed out after 2 minute/);
    assert.equal(engineChildren(e.jobExecutionId).length, 0);
    assert.equal((await flow.getJobById({ jobId: job.jobId })).lastExecutionStatus, 'FAILED');
  });

  test('an engine process killed mid-run (SIGKILL) ends its execution FAILED; the job can run again', async () => {
    const job = await flow.createJob({ name: uniq('killed'), ...slow(100) });
    const started = await flow.executeJob({ jobId: job.jobId });
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      pids = engineChildren(started.jobExecutionId);
    }
    assert.equal(pids.length, 1);
    process.kill(pids[0]!, 'SIGKILL');
    let e = await flow.getJobExecutionById({ jobId: job.jobId, executionId: started.jobExecutionId });
    for (let i = 0; i < 200 && (e.status === 'RUNNING' || e.status === 'READY'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      e = await flow.getJobExecutionById({ jobId: job.jobId, executionId: started.jobExecutionId });
    }
    assert.equal(e.status, 'FAILED');
    const events = await getText(`sparkHistoryLogs/${e.jobExecutionId}/events.json`, job.runCondition.logPath!.split('/')[0]);
    assert.match(events, /engine process ended \(SIGKILL\)/);
    assert.equal((await flow.getJobById({ jobId: job.jobId })).status, 'RUNNABLE');
  });

  test('a canceled run ends CANCELED and its engine process is killed; an ended one cannot be canceled', async () => {
    const job = await flow.createJob({ name: uniq('canceled'), ...slow(100) });
    const started = await flow.executeJob({ jobId: job.jobId });
    for (let i = 0; i < 200 && engineChildren(started.jobExecutionId).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await cancel(started.jobExecutionId), { status: 200, body: { status: 'CANCELING' } });
    let e = await flow.getJobExecutionById({ jobId: job.jobId, executionId: started.jobExecutionId });
    for (let i = 0; i < 200 && e.status === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      e = await flow.getJobExecutionById({ jobId: job.jobId, executionId: started.jobExecutionId });
    }
    assert.equal(e.status, 'CANCELED');
    assert.equal(engineChildren(started.jobExecutionId).length, 0);
    assert.deepEqual((await cancel(started.jobExecutionId)).status, 409);
    assert.deepEqual((await cancel('nosuchexec12')).status, 404);
    const j = await flow.getJobById({ jobId: job.jobId });
    assert.deepEqual([j.status, j.lastExecutionStatus], ['RUNNABLE', 'CANCELED']);
  });
});

async function cancel(executionId: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${srv.url}/_stockade/dataflow/executions/${executionId}/cancel`, { method: 'POST', headers: { 'x-stockade-control': '1' } });
  return { status: res.status, body: await res.json() };
}

/** This process's engine children running an execution (an idle spare's title ends with `idle`). */
function engineChildren(executionId: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', `stockade-dataflow-engine ${executionId}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
