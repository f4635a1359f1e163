/**
 * Data Flow jobs and executions over a real socket with the SDK: the ten job operations, their
 * documented errors, the graph rules (§1.3.5) naming node and field, the job and execution state
 * machines, maxConcurrentRuns, and who may see what. Executions start manually here
 * (`job-execution=manual`), so their READY state can be observed; dataflow-engine.test.ts runs them.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DataFlowClient, StockadeApiError, StockadeClient, ncpSignHeaders } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/ncp.js';

let srv: TestServer;
let flow: DataFlowClient;
let other: DataFlowClient;
let analyst: DataFlowClient;


before(async () => {
  srv = await startTestServer('df-jobs', { config: { transitions: 'job-execution=manual' } });
  flow = new DataFlowClient(srv.creds);
  const acc = await srv.newAccount('df-other');
  other = new DataFlowClient({ endpoint: srv.url, ...acc });
  analyst = new DataFlowClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
});
after(async () => {
  await srv.close();
});

/** The documented example graph (§1.3.6). */
function example(bucket = 'aitems') {
  return [
    {
      type: 'SOURCE_OBS', id: 1697776914576, name: 'Object Storage', parentNodeIds: [],
      regionNo: '1', bucketName: bucket, prefix: 'dataflow1', dataType: 'CSV',
      fieldList: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'description', type: 'string' }],
    },
    {
      type: 'TRANSFORM_FILTER', id: 1697776920001, name: 'Filters', parentNodeIds: [1697776914576],
      filterType: 'AND', filterConditionList: [{ name: 'name', operator: 'EQ', value: 'A' }],
    },
    {
      type: 'TARGET_OBS', id: 1697776930002, name: 'Object Storage', parentNodeIds: [1697776920001],
      regionNo: '1', bucketName: bucket, prefix: 'dataflow1-output', dataType: 'PARQUET',
      fieldList: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'description', type: 'string' }],
      updateType: 'OVERWRITE', coalesce: 1,
    },
  ];
}

let seq = 0;
const uniq = (base: string) => `${base}_${++seq}`;

describe('createJob, getJobById, getJobs', () => {
  test('createJob stores the documented example as RUNNABLE with the default configuration; getJobById returns it', async () => {
    const job = await flow.createJob({ name: uniq('data-flow'), nodes: example() });
    assert.match(job.jobId, /^[A-Za-z0-9]{12}$/);
    assert.equal(job.type, 'DATAFLOW');
    assert.equal(job.status, 'RUNNABLE');
    assert.equal(job.lastExecutionStatus, null);
    assert.equal(job.maxConcurrentRuns, 1);
    assert.equal(job.runCondition.workerType, 'DEFAULT');
    assert.equal(job.runCondition.numWorker, 2);
    assert.equal(job.runCondition.timeout, 360);
    assert.match(job.runCondition.scriptPath!, /^dataflow-[a-z0-9]+-[a-z0-9]{6}\/scripts\/$/);
    assert.match(job.runCondition.logPath!, /\/sparkHistoryLogs\/$/);
    assert.deepEqual(job.nodes, example());
    assert.deepEqual(await flow.getJobById({ jobId: job.jobId }), job);
    // The default bucket is the account's and is reused by the next job.
    const again = await flow.createJob({ name: uniq('data-flow'), nodes: example() });
    assert.equal(again.runCondition.scriptPath, job.runCondition.scriptPath);
  });

  test('a VISUAL job is READY; one without nodes is a DRAFT; a SCRIPT job with nodes is refused', async () => {
    const visual = await flow.createJob({ name: uniq('visual'), type: 'VISUAL', nodes: example(), maxConcurrentRuns: 3, jobCondition: { numWorker: 4, timeout: 10 } });
    assert.equal(visual.status, 'READY');
    assert.equal(visual.maxConcurrentRuns, 3);
    assert.deepEqual([visual.runCondition.numWorker, visual.runCondition.timeout], [4, 10]);
    const draft = await flow.createJob({ name: uniq('draft'), type: 'VISUAL' });
    assert.equal(draft.status, 'DRAFT');
    await rejects(flow.createJob({ name: uniq('script'), type: 'SCRIPT', nodes: example() }), 400, 'bad-parameter', /SCRIPT/);
  });

  test('createJob refuses a taken name, a bad name and an out-of-range configuration, changing nothing', async () => {
    const name = uniq('taken');
    await flow.createJob({ name, nodes: example() });
    const before = (await flow.getJobs({})).count;
    await rejects(flow.createJob({ name, nodes: example() }), 400, 'bad-parameter', /already exists/);
    await rejects(flow.createJob({ name: '1bad', nodes: example() }), 400, 'bad-parameter');
    await rejects(flow.createJob({ name: uniq('range'), nodes: example(), jobCondition: { numWorker: 11 } }), 400, 'bad-parameter');
    await rejects(flow.createJob({ name: uniq('path'), nodes: example(), jobCondition: { scriptPath: '/etc/' } }), 400, 'bad-parameter', /scriptPath/);
    assert.equal((await flow.getJobs({})).count, before);
  });

  test('getJobs filters by name (substring, any case) and status, pages newest first', async () => {
    const a = await flow.createJob({ name: uniq('ListMe'), nodes: example() });
    const b = await flow.createJob({ name: uniq('listme'), type: 'VISUAL' });
    const all = await flow.getJobs({ name: 'LISTME' });
    assert.deepEqual(all.list.map((j) => j.jobId), [b.jobId, a.jobId]);
    assert.equal(all.count, 2);
    assert.deepEqual(all.list[0], {
      jobId: b.jobId, name: b.name, type: 'VISUAL', status: 'DRAFT', lastExecutionStatus: null,
      createdDate: b.createdDate, updatedDate: b.updatedDate, lastExecutionDate: null, resourceId: b.jobId, disabled: false,
    });
    assert.deepEqual((await flow.getJobs({ name: 'listme', status: 'DRAFT' })).list.map((j) => j.jobId), [b.jobId]);
    const page = await flow.getJobs({ name: 'listme', page: 1, limit: 1 });
    assert.deepEqual([page.list.map((j) => j.jobId), page.count, page.page, page.limit], [[a.jobId], 2, 1, 1]);
  });

  test('getJobById of an unknown job is 404 resource-not-found/job', async () => {
    await rejects(flow.getJobById({ jobId: 'nosuchjob123' }), 404, 'resource-not-found/job');
  });
});

describe('graph rules (§1.3.5): 400 bad-parameter naming the node and the field', () => {
  const nodes = example;
  const cases: Array<[string, () => unknown[], RegExp]> = [
    ['no nodes', () => [], /nodes/],
    ['a duplicate id', () => [...nodes(), { ...nodes()[1]!, name: 'again' }], /node 1697776920001 .*id.*twice/],
    ['an unknown parent', () => nodes().map((n, i) => (i === 1 ? { ...n, parentNodeIds: [42] } : n)), /node 1697776920001 .*parentNodeIds: node 42 is not in the job/],
    ['a cycle', () => {
      const g = nodes();
      g.splice(2, 0, { type: 'TRANSFORM_SELECT', id: 7, name: 'S', parentNodeIds: [8], fieldList: [{ name: 'id' }] } as never, { type: 'TRANSFORM_SELECT', id: 8, name: 'T', parentNodeIds: [7], fieldList: [{ name: 'id' }] } as never);
      return g;
    }, /cycle/],
    ['no target', () => nodes().slice(0, 2), /TARGET/],
    ['no source', () => [{ ...nodes()[1]!, parentNodeIds: [] }, { ...nodes()[2]! }], /node 1697776920001 .*parentNodeIds/],
    ['a source with a parent', () => nodes().map((n, i) => (i === 0 ? { ...n, parentNodeIds: [1697776930002] } : n)), /a source has no parents/],
    ['a target with two parents', () => nodes().map((n, i) => (i === 2 ? { ...n, parentNodeIds: [1697776914576, 1697776920001] } : n)), /node 1697776930002 .*a target has exactly one parent/],
    ['a target as a parent', () => [...nodes(), { ...nodes()[1]!, id: 9, parentNodeIds: [1697776930002] }], /a target cannot be a parent/],
    ['an unknown node type', () => nodes().map((n, i) => (i === 1 ? { ...n, type: 'TRANSFORM_MAGIC' } : n)), /node 1697776920001 \(TRANSFORM_MAGIC\), field type/],
    ['a missing property', () => nodes().map((n, i) => (i === 0 ? { ...n, bucketName: undefined } : n)), /node 1697776914576 \(SOURCE_OBS\), field bucketName: is required/],
    ['a bad enum', () => nodes().map((n, i) => (i === 0 ? { ...n, dataType: 'ORC' } : n)), /field dataType: "ORC" is not valid/],
    ['an unknown field type', () => nodes().map((n, i) => (i === 0 ? { ...n, fieldList: [{ name: 'id', type: 'uuid' }] } : n)), /field fieldList\[0\]\.type: unknown type "uuid"/],
    ['a filter on a missing column', () => nodes().map((n, i) => (i === 1 ? { ...n, filterConditionList: [{ name: 'nope', operator: 'EQ', value: 'A' }] } : n)), /node 1697776920001 \(TRANSFORM_FILTER\), field filterConditionList\[0\]\.name: column nope does not exist/],
    ['a bad operator', () => nodes().map((n, i) => (i === 1 ? { ...n, filterConditionList: [{ name: 'name', operator: 'LIKE', value: 'A' }] } : n)), /filterConditionList\[0\]\.operator/],
    ['a target column the input lacks', () => nodes().map((n, i) => (i === 2 ? { ...n, fieldList: [{ name: 'price', type: 'int' }] } : n)), /node 1697776930002 \(TARGET_OBS\), field fieldList\[0\]\.name: column price does not exist/],
    ['a bad coalesce', () => nodes().map((n, i) => (i === 2 ? { ...n, coalesce: 0 } : n)), /field coalesce/],
  ];
  for (const [what, g, detail] of cases) {
    test(`verifyJob and createJob refuse ${what}`, async () => {
      await rejects(flow.verifyJob({ name: 'data-flow', nodes: g() as never }), 400, 'bad-parameter', detail);
      if ((g()).length > 0) await rejects(flow.createJob({ name: uniq('bad'), nodes: g() as never }), 400, 'bad-parameter', detail);
    });
  }

  test('schemas propagate through transforms: a column renamed, aggregated or joined away cannot be used below', async () => {
    const src = (id: number, fields: string[]) => ({
      type: 'SOURCE_OBS', id, name: 'src', parentNodeIds: [], regionNo: '1', bucketName: 'b', prefix: 'p', dataType: 'CSV',
      fieldList: fields.map((f) => ({ name: f, type: f === 'amount' ? 'Int' : 'string' })),
    });
    const target = (parent: number, fields: string[]) => ({
      type: 'TARGET_OBS', id: 99, name: 't', parentNodeIds: [parent], regionNo: '1', bucketName: 'b', prefix: 'o', dataType: 'CSV',
      fieldList: fields.map((f) => ({ name: f, type: 'string' })),
    });
    const rename = { type: 'TRANSFORM_RENAME', id: 2, name: 'r', parentNodeIds: [1], renameFieldList: [{ name: 'region', newName: 'area' }] };
    assert.equal(await flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region', 'amount']), rename, target(2, ['area', 'amount'])] as never }), true);
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region', 'amount']), rename, target(2, ['region'])] as never }), 400, 'bad-parameter', /node 99 .*column region does not exist/);
    const agg = { type: 'TRANSFORM_AGGREGATE', id: 2, name: 'a', parentNodeIds: [1], groupByList: ['region'], aggregateFieldList: [{ name: 'amount', ResultName: 'total', function: 'SUM' }] };
    assert.equal(await flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region', 'amount']), agg, target(2, ['region', 'total'])] as never }), true);
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region', 'amount']), agg, target(2, ['amount'])] as never }), 400, 'bad-parameter', /column amount does not exist/);
    const sumText = { ...agg, aggregateFieldList: [{ name: 'region', resultName: 'x', function: 'SUM' }] };
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region', 'amount']), sumText, target(2, ['x'])] as never }), 400, 'bad-parameter', /node 2 .*aggregateFieldList\[0\]\.name: SUM needs a numeric column/);
    const join = { type: 'TRANSFORM_JOIN', id: 3, name: 'j', parentNodeIds: [1, 2], joinType: 'INNER', leftNodeId: 1, rightNodeId: 2, joinConditionList: [{ leftField: 'region', rightField: 'region', joinOperator: 'EQ', conditionOperator: 'HEAD' }] };
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region']), src(2, ['region']), join, target(3, ['region'])] as never }), 400, 'bad-parameter', /node 3 .*prefix: column region is on both sides/);
    assert.equal(await flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region']), src(2, ['region']), { ...join, prefix: 'r_' }, target(3, ['region', 'r_region'])] as never }), true);
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region']), src(2, ['region']), { ...join, rightNodeId: 1 }, target(3, ['region'])] as never }), 400, 'bad-parameter', /leftNodeId and rightNodeId/);
    const union = { type: 'TRANSFORM_UNION', id: 3, name: 'u', parentNodeIds: [1, 2], unionType: 'ALL' };
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region']), src(2, ['region', 'amount']), union, target(3, ['region'])] as never }), 400, 'bad-parameter', /node 3 .*has 2 columns/);
    const sqlNode = { type: 'TRANSFORM_SQL', id: 3, name: 's', parentNodeIds: [1, 2], sourceNameList: [{ parentId: 1, newName: 'a' }], sql: 'SELECT * FROM a' };
    await rejects(flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region']), src(2, ['region']), sqlNode, target(3, ['region'])] as never }), 400, 'bad-parameter', /sourceNameList/);
    // Below a TRANSFORM_SQL the columns are known only when the job runs.
    assert.equal(await flow.verifyJob({ name: 'ok_job', nodes: [src(1, ['region']), { ...sqlNode, parentNodeIds: [1] }, target(3, ['anything'])] as never }), true);
  });
});

describe('updateJob (PATCH and PUT), updateJobExecuteConfig, deleteJob', () => {
  test('updateJob with isTemp true saves a DRAFT without checking the graph; isTemp false checks it and makes it RUNNABLE', async () => {
    const job = await flow.createJob({ name: uniq('edit'), nodes: example() });
    const broken = example().slice(0, 2);
    const draft = await flow.updateJob({ jobId: job.jobId, type: 'DATAFLOW', isTemp: true, nodes: broken });
    assert.equal(draft.status, 'DRAFT');
    assert.equal(draft.nodes.length, 2);
    await rejects(flow.executeJob({ jobId: job.jobId }), 400, 'bad-state', /DRAFT/);
    await rejects(flow.updateJob({ jobId: job.jobId, type: 'DATAFLOW', isTemp: false }), 400, 'bad-parameter', /TARGET/);
    const final = await flow.updateJob({ jobId: job.jobId, type: 'DATAFLOW', isTemp: false, nodes: example(), name: uniq('renamed'), description: 'now final' });
    assert.equal(final.status, 'RUNNABLE');
    assert.equal(final.description, 'now final');
    assert.deepEqual(await flow.getJobById({ jobId: job.jobId }), final);
  });

  test('PUT is the same operation as PATCH (older editions)', async () => {
    const job = await flow.createJob({ name: uniq('put'), nodes: example() });
    const target = `/api/v1/jobs/${job.jobId}`;
    const headers = ncpSignHeaders({ method: 'PUT', requestTarget: target, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey, timestamp: Date.now() });
    const name = uniq('put_renamed');
    const res = await fetch(srv.url + target, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name, type: 'DATAFLOW', isTemp: false, nodes: example() }) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { name: string }).name, name);
  });

  test('updateJob refuses a taken name and an unknown job', async () => {
    const a = await flow.createJob({ name: uniq('one'), nodes: example() });
    const b = await flow.createJob({ name: uniq('two'), nodes: example() });
    await rejects(flow.updateJob({ jobId: b.jobId, type: 'DATAFLOW', name: a.name }), 400, 'bad-parameter', /already exists/);
    await rejects(flow.updateJob({ jobId: 'nosuchjob123', type: 'DATAFLOW' }), 404, 'resource-not-found/job');
  });

  test('updateJobExecuteConfig merges the given fields into the stored configuration', async () => {
    const job = await flow.createJob({ name: uniq('config'), nodes: example() });
    const updated = await flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { numWorker: 5, timeout: 30 } });
    assert.deepEqual(updated.runCondition, { ...job.runCondition, numWorker: 5, timeout: 30 });
    assert.deepEqual((await flow.getJobById({ jobId: job.jobId })).runCondition, updated.runCondition);
    await rejects(flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { timeout: 1441 } }), 400, 'bad-parameter');
    await rejects(flow.updateJobExecuteConfig({ jobId: 'nosuchjob123', jobCondition: {} }), 404, 'resource-not-found/job');
  });

  test('updateJobExecuteConfig refuses an overlong nrn and more than 100 parameters; the audit log names the parameters, not their values', async () => {
    const job = await flow.createJob({ name: uniq('bounded'), nodes: example() });
    // 100 KB once reached the audit log (64 KB at most) and answered 500.
    await rejects(flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { nrn: 'n'.repeat(100 * 1024) } }), 400, 'bad-parameter', /nrn/);
    const params = (prefix: string, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v'.repeat(4096)]));
    await flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { parameters: params('a', 60) } });
    // 60 more would make 120 with the job's own.
    await rejects(flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { parameters: params('b', 60) } }), 400, 'bad-parameter', /parameters/);
    await rejects(flow.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { parameters: params('c', 101) } }), 400, 'bad-parameter', /parameters/);
    assert.equal(Object.keys((await flow.getJobById({ jobId: job.jobId })).runCondition.parameters ?? {}).length, 60);
    const { events } = await new StockadeClient(srv.creds).listAuditEvents({ action: 'dataflow.job.update-config', resource: `job/${job.jobId}` });
    assert.equal(events.length, 1);
    const detail = events[0]!.detail as Record<string, unknown>;
    assert.equal(detail.parameters, undefined);
    assert.deepEqual(detail.parameterNames, Object.keys(params('a', 60)));
    assert.equal(detail.numWorker, job.runCondition.numWorker);
  });

  test('deleteJob answers true and the job is gone; an unknown job is 404', async () => {
    const job = await flow.createJob({ name: uniq('gone'), nodes: example() });
    assert.equal(await flow.deleteJob({ jobId: job.jobId }), true);
    await rejects(flow.getJobById({ jobId: job.jobId }), 404, 'resource-not-found/job');
    await rejects(flow.deleteJob({ jobId: job.jobId }), 404, 'resource-not-found/job');
  });
});

describe('executeJob, getJobExecutions, getJobExecutionById', () => {
  test('executeJob accepts a READY execution with the stored configuration overlaid by the request; the job is RUNNING', async () => {
    const job = await flow.createJob({ name: uniq('exec'), nodes: example(), jobCondition: { parameters: { a: '1', b: '2' } } });
    const exec = await flow.executeJob({ jobId: job.jobId, jobCondition: { numWorker: 3 }, parameters: { b: 'x' } });
    assert.match(exec.jobExecutionId, /^[A-Za-z0-9]{12}$/);
    assert.equal(exec.status, 'READY');
    assert.equal(exec.type, 'JOB');
    assert.equal(exec.jobName, job.name);
    assert.equal(exec.executorNum, 3);
    assert.deepEqual(exec.parsedParameters, { a: '1', b: 'x' });
    assert.equal(exec.jobCondition.numWorker, 3);
    assert.equal(exec.jobCondition.timeout, 360);
    assert.equal(exec.jobCondition.consoleLogPath, `${job.runCondition.logPath!.split('/')[0]}/consoleLogs/${exec.jobExecutionId}/`);
    assert.deepEqual([exec.startDate, exec.endDate, exec.runningTime, exec.triggerId], [null, null, 0, null]);
    const j = await flow.getJobById({ jobId: job.jobId });
    assert.deepEqual([j.status, j.lastExecutionStatus], ['RUNNING', 'READY']);
    assert.deepEqual(await flow.getJobExecutionById({ jobId: job.jobId, executionId: exec.jobExecutionId }), exec);
    // maxConcurrentRuns 1: a second run is refused while this one is READY; so are edits and deletion.
    await rejects(flow.executeJob({ jobId: job.jobId }), 400, 'bad-state', /maxConcurrentRuns|RUNNING/);
    await rejects(flow.updateJob({ jobId: job.jobId, type: 'DATAFLOW', description: 'x' }), 400, 'bad-state');
    await rejects(flow.deleteJob({ jobId: job.jobId }), 400, 'bad-state');
  });

  test('a workflow/trigger id makes a WORKFLOW execution; maxConcurrentRuns allows that many at once', async () => {
    const job = await flow.createJob({ name: uniq('multi'), type: 'VISUAL', nodes: example(), maxConcurrentRuns: 2 });
    const a = await flow.executeJob({ jobId: job.jobId, workflowId: 'wfAAAAAAAAAA', triggerId: 'trAAAAAAAAAA' });
    assert.deepEqual([a.type, a.workflowId, a.triggerId], ['WORKFLOW', 'wfAAAAAAAAAA', 'trAAAAAAAAAA']);
    // The job is RUNNING, yet below its maximum: a second run is accepted.
    const b = await flow.executeJob({ jobId: job.jobId });
    await rejects(flow.executeJob({ jobId: job.jobId }), 400, 'bad-state', /maxConcurrentRuns 2/);
    const list = await flow.getJobExecutions({ jobId: job.jobId });
    assert.deepEqual(new Set(list.list.map((e) => e.jobExecutionId)), new Set([a.jobExecutionId, b.jobExecutionId]));
    assert.equal(list.count, 2);
    const page = await flow.getJobExecutions({ jobId: job.jobId, page: 1, limit: 1 });
    assert.deepEqual([page.list.length, page.count, page.page, page.limit], [1, 2, 1, 1]);
  });

  test('executeJob refuses an out-of-range configuration and an unknown job', async () => {
    const job = await flow.createJob({ name: uniq('range'), nodes: example() });
    await rejects(flow.executeJob({ jobId: job.jobId, jobCondition: { numWorker: 1 } }), 400, 'bad-parameter');
    await rejects(flow.executeJob({ jobId: job.jobId, jobCondition: { timeout: 2000 } }), 400, 'bad-parameter');
    await rejects(flow.executeJob({ jobId: 'nosuchjob123' }), 404, 'resource-not-found/job');
    assert.equal((await flow.getJobExecutions({ jobId: job.jobId })).count, 0);
  });

  test('getJobExecutionById of an unknown execution, or of another job, is 404 resource-not-found/job-execution', async () => {
    const a = await flow.createJob({ name: uniq('ex_a'), nodes: example() });
    const b = await flow.createJob({ name: uniq('ex_b'), nodes: example() });
    const exec = await flow.executeJob({ jobId: a.jobId });
    await rejects(flow.getJobExecutionById({ jobId: b.jobId, executionId: exec.jobExecutionId }), 404, 'resource-not-found/job-execution');
    await rejects(flow.getJobExecutionById({ jobId: a.jobId, executionId: 'nosuchexec12' }), 404, 'resource-not-found/job-execution');
    await rejects(flow.getJobExecutionById({ jobId: 'nosuchjob123', executionId: exec.jobExecutionId }), 404, 'resource-not-found/job');
    await rejects(flow.getJobExecutions({ jobId: 'nosuchjob123' }), 404, 'resource-not-found/job');
  });
});

describe('who may see what', () => {
  test("another account's key sees none of the jobs or executions and cannot change them", async () => {
    const job = await flow.createJob({ name: uniq('mine'), type: 'VISUAL', nodes: example(), maxConcurrentRuns: 5 });
    const exec = await flow.executeJob({ jobId: job.jobId });
    assert.equal((await other.getJobs({})).count, 0);
    await rejects(other.getJobById({ jobId: job.jobId }), 404, 'resource-not-found/job');
    await rejects(other.updateJob({ jobId: job.jobId, type: 'VISUAL', name: 'stolen' }), 404, 'resource-not-found/job');
    await rejects(other.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: { numWorker: 9 } }), 404, 'resource-not-found/job');
    await rejects(other.executeJob({ jobId: job.jobId }), 404, 'resource-not-found/job');
    await rejects(other.getJobExecutions({ jobId: job.jobId }), 404, 'resource-not-found/job');
    await rejects(other.getJobExecutionById({ jobId: job.jobId, executionId: exec.jobExecutionId }), 404, 'resource-not-found/job');
    await rejects(other.deleteJob({ jobId: job.jobId }), 404, 'resource-not-found/job');
    // Names are per account.
    assert.equal((await other.createJob({ name: job.name, nodes: example() })).name, job.name);
    const mine = await flow.getJobById({ jobId: job.jobId });
    assert.deepEqual([mine.name, mine.runCondition.numWorker], [job.name, 2]);
  });

  test('a box-user key (no access to object storage) is refused every job operation', async () => {
    const job = await flow.createJob({ name: uniq('guarded'), nodes: example() });
    const calls: Array<() => Promise<unknown>> = [
      () => analyst.getJobs({}),
      () => analyst.getJobById({ jobId: job.jobId }),
      () => analyst.createJob({ name: uniq('nope'), nodes: example() }),
      () => analyst.updateJob({ jobId: job.jobId, type: 'DATAFLOW' }),
      () => analyst.deleteJob({ jobId: job.jobId }),
      () => analyst.verifyJob({ name: 'data-flow', nodes: example() }),
      () => analyst.executeJob({ jobId: job.jobId }),
      () => analyst.getJobExecutions({ jobId: job.jobId }),
      () => analyst.getJobExecutionById({ jobId: job.jobId, executionId: 'abcdefabcdef' }),
      () => analyst.updateJobExecuteConfig({ jobId: job.jobId, jobCondition: {} }),
    ];
    for (const c of calls) {
      const e = await c().then(() => null, (err: unknown) => err);
      assert.ok(e instanceof StockadeApiError, `expected a refusal, got ${String(e)}`);
      assert.deepEqual([e.status, e.code], [401, '210'], JSON.stringify(e.body));
    }
    assert.equal((await flow.getJobById({ jobId: job.jobId })).status, 'RUNNABLE');
  });
});
