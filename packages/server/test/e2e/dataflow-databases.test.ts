/**
 * Data Flow's database nodes against the PostgreSQL and MariaDB servers of the machine:
 * PostgreSQL → object storage, object storage → MariaDB with each updateType, connections whose
 * passwords are sealed, and another account's connection refused.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { DataFlowClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { cliEnv, runCli } from '../helpers/cli.js';

const PG_URL = 'postgres://postgres:not-needed-here@127.0.0.1:5432/test';
const MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';
const suffix = randomBytes(4).toString('hex');
const PG_SCHEMA = `df_src_${suffix}`;
const MY_TABLE = `df_out_${suffix}`;

let srv: TestServer;
let flow: DataFlowClient;
let s3: S3Client;
let pgc: pg.Client;
let my: mysql.Connection;
/** The connection the CLI test made (used by the next test). */
let cliConnection = '';

before(async () => {
  srv = await startTestServer('df-databases');
  flow = new DataFlowClient(srv.creds);
  s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv });
  await s3.send(new CreateBucketCommand({ Bucket: 'db-data' }));
  pgc = new pg.Client({ connectionString: PG_URL });
  await pgc.connect();
  await pgc.query(`CREATE SCHEMA ${PG_SCHEMA}`);
  await pgc.query(`CREATE TABLE ${PG_SCHEMA}.people (id integer, name text, score double precision, born date)`);
  await pgc.query(`INSERT INTO ${PG_SCHEMA}.people VALUES (1, 'Ann', 2.5, '1990-01-02'), (2, 'Bob', 0.5, NULL), (3, 'Cid', 7, '1985-12-31')`);
  my = await mysql.createConnection({ uri: MYSQL_URL });
});
after(async () => {
  await pgc?.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`).catch(() => undefined);
  await pgc?.end();
  await my?.query(`DROP TABLE IF EXISTS ${MY_TABLE}`).catch(() => undefined);
  await my?.end();
  await srv.close();
});

async function run(jobId: string) {
  const started = await flow.executeJob({ jobId });
  for (let i = 0; i < 600; i++) {
    const e = await flow.getJobExecutionById({ jobId, executionId: started.jobExecutionId });
    if (e.status !== 'READY' && e.status !== 'RUNNING') return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('execution did not end');
}

async function failure(jobId: string, executionId: string, logPath: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: logPath.split('/')[0], Key: `sparkHistoryLogs/${executionId}/events.json` }));
  return (JSON.parse(await r.Body!.transformToString()) as { error: string }).error;
}

describe('database connections and nodes', () => {
  test('a connection keeps its URL without the password; the password is sealed', async () => {
    const c = await srv.app.ctx.api('dataflow').createConnection(srv.accountId, { type: 'postgresql', url: PG_URL });
    assert.equal(c.url, 'postgres://postgres@127.0.0.1:5432/test');
    const rows = await srv.app.ctx.store.db.selectFrom('dataflow_connections' as never).selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes('not-needed-here'));
    await assert.rejects(srv.app.ctx.api('dataflow').createConnection(srv.accountId, { type: 'oracle', url: PG_URL }), /postgresql or mysql/);
    await assert.rejects(srv.app.ctx.api('dataflow').createConnection(srv.accountId, { type: 'mysql', url: PG_URL }), /mysql:\/\//);
  });

  test('`stockade connections create` registers a connection the server uses; `connections list` shows it without its password', async () => {
    const cfg = srv.app.ctx.config;
    const env = cliEnv({ STOCKADE_MASTER_KEY: 'test-master-key', STOCKADE_DATABASE_SCHEMA: cfg.databaseSchema });
    const where = ['--data', cfg.dataDir, ...(cfg.databaseUrl ? ['--database', cfg.databaseUrl] : [])];
    const made = await runCli(['connections', 'create', '--type', 'postgresql', '--url', PG_URL, '--account', srv.accountId, ...where], { env });
    assert.equal(made.code, 0, made.stderr);
    const c = JSON.parse(made.stdout) as { connectionId: string; url: string };
    assert.equal(c.url, 'postgres://postgres@127.0.0.1:5432/test');
    const listed = await runCli(['connections', 'list', '--account', srv.accountId, ...where], { env });
    assert.match(listed.stdout, new RegExp(`^${c.connectionId}  postgresql  postgres://postgres@127\\.0\\.0\\.1:5432/test$`, 'm'));
    assert.ok(!listed.stdout.includes('not-needed-here'));
    const bad = await runCli(['connections', 'create', '--type', 'oracle', '--url', PG_URL, ...where], { env });
    assert.notEqual(bad.code, 0);
    cliConnection = c.connectionId;
  });

  test('PostgreSQL → filter → object storage (CSV)', async () => {
    const c = { connectionId: cliConnection };
    const job = await flow.createJob({
      name: 'pg_to_obs',
      nodes: [
        { type: 'SOURCE_CDB_POSTGRESQL', id: 1, name: 'pg', parentNodeIds: [], connectionId: c.connectionId, table: `${PG_SCHEMA}.people`,
          fieldList: [{ name: 'id', type: 'Int' }, { name: 'name', type: 'String' }, { name: 'score', type: 'Double' }, { name: 'born', type: 'Date' }] },
        { type: 'TRANSFORM_FILTER', id: 2, name: 'f', parentNodeIds: [1], filterConditionList: [{ name: 'score', operator: 'GTE', value: '1' }] },
        { type: 'TARGET_OBS', id: 3, name: 'out', parentNodeIds: [2], regionNo: '1', bucketName: 'db-data', prefix: 'people', dataType: 'CSV',
          fieldList: [{ name: 'id', type: 'Int' }, { name: 'name', type: 'String' }, { name: 'born', type: 'Date' }] },
      ] as never,
    });
    const e = await run(job.jobId);
    assert.equal(e.status, 'COMPLETED', e.status === 'FAILED' ? await failure(job.jobId, e.jobExecutionId, job.runCondition.logPath!) : '');
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'db-data', Prefix: 'people/' }))).Contents!.map((o) => o.Key!);
    const text = await (await s3.send(new GetObjectCommand({ Bucket: 'db-data', Key: keys[0] }))).Body!.transformToString();
    assert.deepEqual(text.trim().split('\n').sort(), ['1,Ann,1990-01-02', '3,Cid,1985-12-31', 'id,name,born'].sort());
  });

  test('object storage → MariaDB: the table is created; APPEND adds, OVERWRITE replaces, IGNORE leaves it', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'db-data', Key: 'in/a.csv', Body: 'k,v\nx,1\ny,2\n' }));
    const c = await srv.app.ctx.api('dataflow').createConnection(srv.accountId, { type: 'mysql', url: MYSQL_URL });
    const job = (updateType: string) =>
      flow.createJob({
        name: `obs_to_mysql_${updateType.toLowerCase()}`,
        nodes: [
          { type: 'SOURCE_OBS', id: 1, name: 'in', parentNodeIds: [], regionNo: '1', bucketName: 'db-data', prefix: 'in', dataType: 'CSV', fieldList: [{ name: 'k', type: 'String' }, { name: 'v', type: 'Bigint' }] },
          { type: 'TARGET_CDB_MYSQL', id: 2, name: 'my', parentNodeIds: [1], connectionId: c.connectionId, table: MY_TABLE, updateType,
            fieldList: [{ name: 'k', type: 'String' }, { name: 'v', type: 'Bigint' }] },
        ] as never,
      });
    const table = async () => ((await my.query(`SELECT k, v FROM ${MY_TABLE} ORDER BY k, v`))[0] as Array<{ k: string; v: number }>).map((r) => `${r.k}${r.v}`);
    const append = await job('APPEND');
    assert.equal((await run(append.jobId)).status, 'COMPLETED');
    assert.deepEqual(await table(), ['x1', 'y2']);
    assert.equal((await run(append.jobId)).status, 'COMPLETED');
    assert.deepEqual(await table(), ['x1', 'x1', 'y2', 'y2']);
    const overwrite = await job('OVERWRITE');
    assert.equal((await run(overwrite.jobId)).status, 'COMPLETED');
    assert.deepEqual(await table(), ['x1', 'y2']);
    await s3.send(new PutObjectCommand({ Bucket: 'db-data', Key: 'in/a.csv', Body: 'k,v\nz,3\n' }));
    const ignore = await job('IGNORE');
    assert.equal((await run(ignore.jobId)).status, 'COMPLETED');
    assert.deepEqual(await table(), ['x1', 'y2']);
  });

  test('the built-in Data Catalog: `stockade catalog add` makes a table version; a job writes it (TARGET_CATALOG) and another reads it (SOURCE_CATALOG)', async () => {
    const cfg = srv.app.ctx.config;
    const env = cliEnv({ STOCKADE_MASTER_KEY: 'test-master-key', STOCKADE_DATABASE_SCHEMA: cfg.databaseSchema });
    const where = ['--data', cfg.dataDir, ...(cfg.databaseUrl ? ['--database', cfg.databaseUrl] : []), '--account', srv.accountId];
    const made = await runCli(['catalog', 'add', '--db', 'sales', '--table', 'region_totals', '--fields', 'region:string,total:bigint', ...where], { env });
    assert.equal(made.code, 0, made.stderr);
    assert.equal((JSON.parse(made.stdout) as { schemaVersion: string }).schemaVersion, '1');
    const bad = await runCli(['catalog', 'add', '--db', 'sales', '--table', 'x', '--fields', 'a:uuid', ...where], { env });
    assert.notEqual(bad.code, 0);
    assert.match((await runCli(['catalog', 'list', ...where], { env })).stdout, /^sales\.region_totals {2}version 1 {2}region:string,total:bigint {2}dataflow-/m);

    await s3.send(new PutObjectCommand({ Bucket: 'db-data', Key: 'sales/s.csv', Body: 'region,amount\nnorth,5\nsouth,7\nnorth,10\n' }));
    const write = await flow.createJob({
      name: 'to_catalog',
      nodes: [
        { type: 'SOURCE_OBS', id: 1, name: 'in', parentNodeIds: [], regionNo: '1', bucketName: 'db-data', prefix: 'sales', dataType: 'CSV', fieldList: [{ name: 'region', type: 'String' }, { name: 'amount', type: 'Int' }] },
        { type: 'TRANSFORM_AGGREGATE', id: 2, name: 'agg', parentNodeIds: [1], groupByList: ['region'], aggregateFieldList: [{ name: 'amount', ResultName: 'total', function: 'SUM' }] },
        { type: 'TARGET_CATALOG', id: 3, name: 'cat', parentNodeIds: [2], database: 'sales', table: 'region_totals', schemaVersion: '1',
          fieldList: [{ name: 'region', type: 'string' }, { name: 'total', type: 'bigint' }], updateType: 'APPEND', coalesce: 2 },
      ] as never,
    });
    assert.equal((await run(write.jobId)).status, 'COMPLETED');
    const read = await flow.createJob({
      name: 'from_catalog',
      nodes: [
        { type: 'SOURCE_CATALOG', id: 1, name: 'cat', parentNodeIds: [], database: 'sales', table: 'region_totals', schemaVersion: '1', fieldList: [{ name: 'region', type: 'string' }, { name: 'total', type: 'bigint' }] },
        { type: 'TARGET_OBS', id: 2, name: 'out', parentNodeIds: [1], regionNo: '1', bucketName: 'db-data', prefix: 'totals', dataType: 'CSV', fieldList: [{ name: 'region', type: 'string' }, { name: 'total', type: 'bigint' }] },
      ] as never,
    });
    assert.equal((await run(read.jobId)).status, 'COMPLETED');
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'db-data', Prefix: 'totals/' }))).Contents!.map((o) => o.Key!);
    const text = await (await s3.send(new GetObjectCommand({ Bucket: 'db-data', Key: keys[0] }))).Body!.transformToString();
    assert.deepEqual(text.trim().split('\n').sort(), ['north,15', 'region,total', 'south,7']);

    const missing = await flow.createJob({
      name: 'bad_version',
      nodes: [{ ...(read.nodes[0] as object), schemaVersion: '9' }, read.nodes[1]] as never,
    });
    const e = await run(missing.jobId);
    assert.equal(e.status, 'FAILED');
    assert.match(await failure(missing.jobId, e.jobExecutionId, missing.runCondition.logPath!), /no schema version 9 of catalog table sales\.region_totals/);
  });

  test("another account's connection id is not found: the execution FAILS", async () => {
    const acc = await srv.newAccount('df-db-other');
    const theirs = await srv.app.ctx.api('dataflow').createConnection(acc.accountId, { type: 'postgresql', url: PG_URL });
    const job = await flow.createJob({
      name: 'steal_connection',
      nodes: [
        { type: 'SOURCE_CDB_POSTGRESQL', id: 1, name: 'pg', parentNodeIds: [], connectionId: theirs.connectionId, table: `${PG_SCHEMA}.people`, fieldList: [{ name: 'id', type: 'Int' }] },
        { type: 'TARGET_OBS', id: 2, name: 'out', parentNodeIds: [1], regionNo: '1', bucketName: 'db-data', prefix: 'stolen', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
      ] as never,
    });
    const e = await run(job.jobId);
    assert.equal(e.status, 'FAILED');
    assert.match(await failure(job.jobId, e.jobExecutionId, job.runCondition.logPath!), /node 1: no postgresql connection/);
  });
});
