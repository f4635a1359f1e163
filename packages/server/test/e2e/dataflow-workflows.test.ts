/**
 * Data Flow workflows (§4.4–§4.9, §4.24) over a real socket with the SDK: every operation, its
 * documented errors, the graph rules, triggers and jobs a workflow uses, other accounts and a
 * box-user key. Executions start manually here (`job-execution=manual`); the scheduler and the
 * dashboard are in dataflow-scheduler.test.ts.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DataFlowClient, StockadeApiError, StockadeClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/ncp.js';

let srv: TestServer;
let flow: DataFlowClient;
let other: DataFlowClient;
let analyst: DataFlowClient;


before(async () => {
  srv = await startTestServer('df-workflows', { config: { transitions: 'job-execution=manual' } });
  flow = new DataFlowClient(srv.creds);
  other = new DataFlowClient({ endpoint: srv.url, ...(await srv.newAccount('df-wf-other')) });
  analyst = new DataFlowClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
});
after(async () => {
  await srv.close();
});

const nodes = [
  { type: 'SOURCE_OBS', id: 1, name: 'in', parentNodeIds: [], regionNo: '1', bucketName: 'wf-data', prefix: 'in', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
  { type: 'TARGET_OBS', id: 2, name: 'out', parentNodeIds: [1], regionNo: '1', bucketName: 'wf-data', prefix: 'out', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
];
let seq = 0;
const uniq = (base: string) => `${base}_${++seq}`;
const daily = { type: 'RECURRING', interval: 'DAY', time: '10:00' } as const;
const cond = { workerType: 'DEFAULT', numWorker: 3, timeout: 360, nrn: 'nrn:PUB:IAM::1:Role/x' } as const;

async function job(client = flow, maxConcurrentRuns = 10) {
  return client.createJob({ name: uniq('job'), nodes: nodes, maxConcurrentRuns });
}
async function trigger(client = flow, manual = false) {
  return manual
    ? client.createTrigger({ name: uniq('manual'), type: 'NONE', triggerRule: { type: 'NONE' } })
    : client.createTrigger({ name: uniq('daily'), type: 'SCHEDULED', triggerRule: daily });
}
const tnode = (t: { triggerId: string; name: string }) => ({ id: t.triggerId, name: t.name, type: 'TRIGGER' as const, parentNodeIds: [] });
const jnode = (j: { jobId: string; name: string }, parent: string, jobCondition: Record<string, unknown> = cond) => ({
  id: j.jobId,
  name: j.name,
  type: 'JOB' as const,
  parentNodeIds: [parent],
  jobCondition,
});

describe('createWorkflow, getWorkflowById, getWorkflows', () => {
  test('createWorkflow answers the documented workflow with valid nodes; getWorkflowById gives it back', async () => {
    const t = await trigger();
    const j = await job();
    const name = uniq('workflow');
    const wf = await flow.createWorkflow({ name, nodes: [tnode(t), jnode(j, t.triggerId)], isTemp: false });
    assert.match(wf.workflowId, /^[A-Za-z0-9]{12}$/);
    assert.equal(wf.name, name);
    assert.equal(wf.isTemp, false);
    assert.equal(wf.lastExecutionDate, null);
    assert.match(wf.createdDate, /\+09:00$/);
    assert.deepEqual(wf.nodes, [
      { id: t.triggerId, name: t.name, type: 'TRIGGER', parentNodeIds: [], triggerRule: 'RECURRING', isValid: true },
      { id: j.jobId, name: j.name, type: 'JOB', parentNodeIds: [t.triggerId], jobCondition: cond, isValid: true },
    ]);
    assert.deepEqual(await flow.getWorkflowById({ workflowId: wf.workflowId }), wf);
  });

  test('getWorkflows lists newest first with triggerRuleType, resourceId and disabled, and pages', async () => {
    const acc = new DataFlowClient({ endpoint: srv.url, ...(await srv.newAccount('df-wf-paging')) });
    const made = [];
    for (const manual of [false, true, false]) {
      const t = await trigger(acc, manual);
      const j = await job(acc);
      made.push(await acc.createWorkflow({ name: uniq('listed'), nodes: [tnode(t), jnode(j, t.triggerId)] }));
      await new Promise((r) => setTimeout(r, 3));
    }
    const all = await acc.getWorkflows({});
    assert.equal(all.count, 3);
    assert.deepEqual(all.list.map((w) => w.workflowId), made.map((w) => w.workflowId).reverse());
    assert.deepEqual(all.list.map((w) => w.triggerRuleType), ['RECURRING', 'NONE', 'RECURRING']);
    for (const w of all.list) assert.deepEqual([w.resourceId, w.disabled], [w.workflowId, false]);
    const page = await acc.getWorkflows({ page: 1, limit: 2 });
    assert.deepEqual([page.list.map((w) => w.workflowId), page.count, page.page, page.limit], [[made[0]!.workflowId], 3, 1, 2]);
  });

  test('a JOB node may omit jobCondition, and a JOB node may hang under another JOB node (a chain)', async () => {
    const t = await trigger();
    const [a, b] = [await job(), await job()];
    const wf = await flow.createWorkflow({ name: uniq('chain'), nodes: [tnode(t), jnode(a, t.triggerId), { id: b.jobId, name: b.name, type: 'JOB', parentNodeIds: [a.jobId] }] });
    assert.equal(wf.nodes.length, 3);
    assert.equal(wf.nodes[2]!.jobCondition, undefined);
  });

  test('createWorkflow refuses a graph breaking the rules, naming the problem, and stores nothing', async () => {
    const t = await trigger();
    const t2 = await trigger();
    const [a, b] = [await job(), await job()];
    const before = (await flow.getWorkflows({})).count;
    const bad: Array<[unknown[], RegExp]> = [
      [[jnode(a, t.triggerId)], /exactly one TRIGGER/],
      [[tnode(t), tnode(t2), jnode(a, t.triggerId)], /exactly one TRIGGER/],
      [[tnode(t)], /at least one JOB/],
      [[{ ...tnode(t), parentNodeIds: [a.jobId] }, jnode(a, t.triggerId)], /no parent/],
      [[tnode(t), jnode(a, 'nowhere12345')], /neither the TRIGGER node nor a JOB node/],
      [[tnode(t), { ...jnode(a, t.triggerId), parentNodeIds: [] }], /exactly one parent/],
      [[tnode(t), jnode(a, b.jobId), jnode(b, a.jobId)], /cycle/],
      [[tnode(t), jnode(a, t.triggerId), jnode(a, t.triggerId)], /appears twice/],
    ];
    for (const [n, detail] of bad) await rejects(flow.createWorkflow({ name: uniq('bad'), nodes: n as never }), 400, 'bad-parameter', detail);
    await rejects(flow.createWorkflow({ name: '1bad', nodes: [tnode(t), jnode(a, t.triggerId)] }), 400, 'bad-parameter');
    await rejects(flow.createWorkflow({ name: uniq('nonodes'), nodes: [] }), 400, 'bad-parameter');
    await rejects(flow.createWorkflow({ name: uniq('nojob'), nodes: [tnode(t), jnode({ jobId: 'NoSuchJob123', name: 'x' }, t.triggerId)] }), 404, 'resource-not-found/job');
    await rejects(flow.createWorkflow({ name: uniq('notrig'), nodes: [tnode({ triggerId: 'NoSuchTrig12', name: 'x' }), jnode(a, 'NoSuchTrig12')] }), 404, 'resource-not-found/trigger');
    const taken = await flow.createWorkflow({ name: uniq('taken'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    await rejects(flow.createWorkflow({ name: taken.name, nodes: [tnode(t), jnode(a, t.triggerId)] }), 400, 'bad-parameter', /already exists/);
    assert.equal((await flow.getWorkflows({})).count, before + 1);
  });

  test('a draft (isTemp) is saved without the graph rules; a node that stops being valid says so', async () => {
    const t = await trigger();
    const a = await job();
    const draft = await flow.createWorkflow({ name: uniq('draft'), nodes: [tnode(t)], isTemp: true });
    assert.equal(draft.isTemp, true);
    await flow.updateJob({ jobId: a.jobId, isTemp: true, type: 'DATAFLOW' });
    const wf = await flow.createWorkflow({ name: uniq('stale'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    assert.deepEqual(wf.nodes.map((n) => n.isValid), [true, false]);
  });
});

describe('updateWorkflow, deleteWorkflow', () => {
  test('updateWorkflow replaces name and nodes and refreshes updatedDate; deleteWorkflow answers true', async () => {
    const t = await trigger();
    const [a, b] = [await job(), await job()];
    const wf = await flow.createWorkflow({ name: uniq('upd'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    await new Promise((r) => setTimeout(r, 5));
    const name = uniq('renamed');
    const up = await flow.updateWorkflow({ workflowId: wf.workflowId, name, nodes: [tnode(t), jnode(b, t.triggerId, { numWorker: 5 })] });
    assert.equal(up.name, name);
    assert.deepEqual(up.nodes.map((n) => n.id), [t.triggerId, b.jobId]);
    assert.deepEqual(up.nodes[1]!.jobCondition, { numWorker: 5 });
    assert.equal(up.createdDate, wf.createdDate);
    assert.ok(up.updatedDate > wf.updatedDate);
    assert.deepEqual(await flow.getWorkflowById({ workflowId: wf.workflowId }), up);
    // Job a is no longer used: it may be deleted.
    assert.equal(await flow.deleteJob({ jobId: a.jobId }), true);
    assert.equal(await flow.deleteWorkflow({ workflowId: wf.workflowId }), true);
    await rejects(flow.getWorkflowById({ workflowId: wf.workflowId }), 404, 'resource-not-found/workflow');
    await rejects(flow.deleteWorkflow({ workflowId: wf.workflowId }), 404, 'resource-not-found/workflow');
  });

  test('updateWorkflow refuses an unknown workflow, a bad graph, an unknown job and a taken name, changing nothing', async () => {
    const t = await trigger();
    const a = await job();
    const wf = await flow.createWorkflow({ name: uniq('keep'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    const taken = await flow.createWorkflow({ name: uniq('other'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    await rejects(flow.updateWorkflow({ workflowId: 'NoSuchFlow12', name: uniq('x'), nodes: [tnode(t), jnode(a, t.triggerId)] }), 404, 'resource-not-found/workflow');
    await rejects(flow.updateWorkflow({ workflowId: wf.workflowId, name: wf.name, nodes: [tnode(t)] }), 400, 'bad-parameter', /at least one JOB/);
    await rejects(flow.updateWorkflow({ workflowId: wf.workflowId, name: wf.name, nodes: [tnode(t), jnode({ jobId: 'NoSuchJob123', name: 'x' }, t.triggerId)] }), 404, 'resource-not-found/job');
    await rejects(flow.updateWorkflow({ workflowId: wf.workflowId, name: taken.name, nodes: [tnode(t), jnode(a, t.triggerId)] }), 400, 'bad-parameter', /already exists/);
    assert.deepEqual(await flow.getWorkflowById({ workflowId: wf.workflowId }), wf);
  });

  test('a trigger or a job that a workflow (even a draft) uses cannot be deleted (bad-state) until the workflow is gone', async () => {
    const t = await trigger();
    const a = await job();
    const wf = await flow.createWorkflow({ name: uniq('holder'), nodes: [tnode(t), jnode(a, t.triggerId)], isTemp: true });
    await rejects(flow.deleteTrigger({ triggerId: t.triggerId }), 400, 'bad-state', new RegExp(wf.name));
    await rejects(flow.deleteJob({ jobId: a.jobId }), 400, 'bad-state', new RegExp(wf.name));
    assert.equal((await flow.getTriggerById({ triggerId: t.triggerId })).name, t.name);
    assert.equal(await flow.deleteWorkflow({ workflowId: wf.workflowId }), true);
    assert.equal(await flow.deleteTrigger({ triggerId: t.triggerId }), true);
    assert.equal(await flow.deleteJob({ jobId: a.jobId }), true);
  });
});

describe('executeWorkflow, getWorkflowExecutions', () => {
  test('executeWorkflow starts every JOB node under a manual trigger as WORKFLOW executions (202 ACCEPTED)', async () => {
    const t = await trigger(flow, true);
    const [a, b, c] = [await job(), await job(), await job()];
    const wf = await flow.createWorkflow({
      name: uniq('manual_flow'),
      nodes: [tnode(t), jnode(a, t.triggerId, { numWorker: 4, parameters: { day: '1' } }), jnode(b, t.triggerId), { id: c.jobId, name: c.name, type: 'JOB', parentNodeIds: [a.jobId] }],
    });
    assert.deepEqual(await flow.executeWorkflow({ workflowId: wf.workflowId }), { workflowId: wf.workflowId, triggerId: t.triggerId, status: 'ACCEPTED' });
    const execs = await flow.getWorkflowExecutions({ workflowId: wf.workflowId });
    assert.equal(execs.count, 2); // c waits for a to complete
    const byJob = new Map(execs.list.map((e) => [e.jobId, e]));
    assert.deepEqual([...byJob.keys()].sort(), [a.jobId, b.jobId].sort());
    for (const e of execs.list) {
      assert.deepEqual([e.type, e.status, e.triggerId, e.triggerName, e.workflowId], ['WORKFLOW', 'READY', t.triggerId, t.name, wf.workflowId]);
    }
    assert.equal(byJob.get(a.jobId)!.executorNum, 4);
    assert.deepEqual(byJob.get(a.jobId)!.parsedParameters, { day: '1' });
    assert.equal(byJob.get(b.jobId)!.executorNum, 3);
    const after = await flow.getWorkflowById({ workflowId: wf.workflowId });
    assert.notEqual(after.lastExecutionDate, null);
    // The executions are the job's too.
    assert.equal((await flow.getJobExecutions({ jobId: a.jobId })).list[0]!.workflowId, wf.workflowId);
    // Paging and the name filter.
    await flow.executeWorkflow({ workflowId: wf.workflowId });
    const page = await flow.getWorkflowExecutions({ workflowId: wf.workflowId, page: 1, limit: 3 });
    assert.deepEqual([page.list.length, page.count], [1, 4]);
    assert.equal((await flow.getWorkflowExecutions({ workflowId: wf.workflowId, filter: 'MANUAL_FL' })).count, 4);
    assert.equal((await flow.getWorkflowExecutions({ workflowId: wf.workflowId, filter: 'nomatch' })).count, 0);
  });

  test('an EVENT workflow is executed on request too; a scheduled or draft workflow is bad-state; an unknown one 404', async () => {
    const ev = await flow.createTrigger({ name: uniq('event'), type: 'EVENT', triggerRule: { type: 'NONE' } });
    const a = await job();
    const evWf = await flow.createWorkflow({ name: uniq('event_flow'), nodes: [tnode(ev), jnode(a, ev.triggerId)] });
    assert.equal((await flow.executeWorkflow({ workflowId: evWf.workflowId })).status, 'ACCEPTED');
    const t = await trigger();
    const sched = await flow.createWorkflow({ name: uniq('sched'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    await rejects(flow.executeWorkflow({ workflowId: sched.workflowId }), 400, 'bad-state', /SCHEDULED/);
    const draft = await flow.createWorkflow({ name: uniq('draft'), nodes: [tnode(ev), jnode(a, ev.triggerId)], isTemp: true });
    await rejects(flow.executeWorkflow({ workflowId: draft.workflowId }), 400, 'bad-state', /draft/);
    await rejects(flow.executeWorkflow({ workflowId: 'NoSuchFlow12' }), 404, 'resource-not-found/workflow');
    await rejects(flow.getWorkflowExecutions({ workflowId: 'NoSuchFlow12' }), 404, 'resource-not-found/workflow');
    assert.equal((await flow.getWorkflowExecutions({ workflowId: sched.workflowId })).count, 0);
  });

  test('the event source in x-ncp-dataflow-payload is kept in the run\'s audit event; a payload that is not Base64 JSON is bad-parameter and starts nothing', async () => {
    const ev = await flow.createTrigger({ name: uniq('event_src'), type: 'EVENT', triggerRule: { type: 'NONE' } });
    const wf = await flow.createWorkflow({ name: uniq('event_src_flow'), nodes: [tnode(ev), jnode(await job(), ev.triggerId)] });
    const source = { cloudFunctions: { actionName: 'nightly-export', activationId: 'a1b2c3' } };
    const header = (v: string) => ({ headers: { 'x-ncp-dataflow-payload': v } });
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    assert.equal((await flow.executeWorkflow({ workflowId: wf.workflowId }, header(b64(JSON.stringify(source))))).status, 'ACCEPTED');
    const { events } = await new StockadeClient(srv.creds).listAuditEvents({ action: 'dataflow.workflow.execute', resource: `workflow/${wf.workflowId}` });
    assert.equal(events.length, 1);
    assert.deepEqual((events[0]!.detail as { payload?: unknown }).payload, source);
    for (const bad of ['not base64!', b64('not json'), b64('[1,2]'), b64('null')]) {
      await rejects(flow.executeWorkflow({ workflowId: wf.workflowId }, header(bad)), 400, 'bad-parameter', /x-ncp-dataflow-payload/);
    }
    assert.equal((await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).count, 1, 'the refused requests started nothing');
  });

  test('a job at its maxConcurrentRuns gets a FAILED execution saying why, not a silent skip', async () => {
    const t = await trigger(flow, true);
    const a = await job(flow, 1);
    const wf = await flow.createWorkflow({ name: uniq('busy'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    await flow.executeWorkflow({ workflowId: wf.workflowId });
    await flow.executeWorkflow({ workflowId: wf.workflowId });
    const list = (await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).list;
    assert.deepEqual(list.map((e) => e.status).sort(), ['FAILED', 'READY']);
  });
});

describe('who may see what', () => {
  test('another account sees no workflows, cannot read, change, run or use them, nor use this account\'s triggers and jobs', async () => {
    const t = await trigger(flow, true);
    const a = await job();
    const wf = await flow.createWorkflow({ name: uniq('private'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    assert.equal((await other.getWorkflows({})).list.some((w) => w.workflowId === wf.workflowId), false);
    await rejects(other.getWorkflowById({ workflowId: wf.workflowId }), 404, 'resource-not-found/workflow');
    await rejects(other.updateWorkflow({ workflowId: wf.workflowId, name: uniq('x'), nodes: [tnode(t), jnode(a, t.triggerId)] }), 404, 'resource-not-found/workflow');
    await rejects(other.deleteWorkflow({ workflowId: wf.workflowId }), 404, 'resource-not-found/workflow');
    await rejects(other.executeWorkflow({ workflowId: wf.workflowId }), 404, 'resource-not-found/workflow');
    await rejects(other.getWorkflowExecutions({ workflowId: wf.workflowId }), 404, 'resource-not-found/workflow');
    await rejects(other.createWorkflow({ name: uniq('steal'), nodes: [tnode(t), jnode(a, t.triggerId)] }), 404, 'resource-not-found/trigger');
    const own = await trigger(other, true);
    await rejects(other.createWorkflow({ name: uniq('steal'), nodes: [tnode(own), jnode(a, own.triggerId)] }), 404, 'resource-not-found/job');
    assert.equal((await flow.getWorkflowById({ workflowId: wf.workflowId })).name, wf.name);
  });

  test('a box-user key is refused every workflow and dashboard operation', async () => {
    const t = await trigger(flow, true);
    const a = await job();
    const wf = await flow.createWorkflow({ name: uniq('guarded'), nodes: [tnode(t), jnode(a, t.triggerId)] });
    const win = { startDate: '2025-03-19T00:00:00', endDate: '2025-03-20T23:59:59' };
    const calls: Array<() => Promise<unknown>> = [
      () => analyst.getWorkflows({}),
      () => analyst.getWorkflowById({ workflowId: wf.workflowId }),
      () => analyst.createWorkflow({ name: uniq('nope'), nodes: [tnode(t), jnode(a, t.triggerId)] }),
      () => analyst.updateWorkflow({ workflowId: wf.workflowId, name: uniq('nope'), nodes: [tnode(t), jnode(a, t.triggerId)] }),
      () => analyst.deleteWorkflow({ workflowId: wf.workflowId }),
      () => analyst.getWorkflowExecutions({ workflowId: wf.workflowId }),
      () => analyst.executeWorkflow({ workflowId: wf.workflowId }),
      () => analyst.getExecutionResult(win),
      () => analyst.getExecutionCount(win),
      () => analyst.getExecutionTimes(win),
    ];
    for (const c of calls) {
      const e = await c().then(() => null, (err: unknown) => err);
      assert.ok(e instanceof StockadeApiError, `expected a refusal, got ${String(e)}`);
      assert.deepEqual([e.status, e.code], [401, '210'], JSON.stringify(e.body));
    }
    assert.equal((await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).count, 0);
  });
});
