/**
 * Data Flow's scheduler and dashboard over a real socket with the SDK, on a server whose clock the
 * test moves (requests are signed on that clock): each due time fires once, month ends, a
 * one-time trigger, catch-up after downtime (`once` and `skip`), drafts and deleted workflows do
 * not fire, chained jobs run after their parent COMPLETED (real engine runs), and the dashboard's
 * numbers on a known history across KST day boundaries.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DataFlowClient } from '@stockade/sdk';
import { ManualClock, type Clock } from '../../src/tasks/clock.js';
import type { DataflowService } from '../../src/services/dataflow/service.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/cli.js';

/** A Data Flow client that signs on the server's clock (the gateway refuses a timestamp off by minutes). */
class ClockedClient extends DataFlowClient {
  constructor(
    creds: { endpoint: string; accessKeyId: string; secretAccessKey: string },
    private readonly clock: Clock,
  ) {
    super(creds);
  }
  override signRequest(...args: Parameters<DataFlowClient['signRequest']>): Record<string, string> {
    return super.signRequest(args[0], args[1], args[2], new Date(this.clock.now()));
  }
}

/** Epoch ms of a KST wall-clock time. */
const kst = (s: string): number => Date.parse(`${s}+09:00`);
const svcOf = (srv: TestServer) => srv.app.platform.services.find((s) => s.module.name === 'dataflow')!.instance as DataflowService;

const nodes = [
  { type: 'SOURCE_OBS', id: 1, name: 'in', parentNodeIds: [], regionNo: '1', bucketName: 'wf-data', prefix: 'in', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
  { type: 'TARGET_OBS', id: 2, name: 'out', parentNodeIds: [1], regionNo: '1', bucketName: 'wf-data', prefix: 'out', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
];
let seq = 0;
const uniq = (base: string) => `${base}_${++seq}`;
const tnode = (t: { triggerId: string; name: string }) => ({ id: t.triggerId, name: t.name, type: 'TRIGGER' as const, parentNodeIds: [] });
const jnode = (j: { jobId: string; name: string }, parent: string) => ({ id: j.jobId, name: j.name, type: 'JOB' as const, parentNodeIds: [parent] });

type Rule = Parameters<DataFlowClient['createTrigger']>[0]['triggerRule'];

/** A finalized workflow: `rule`'s trigger → `jobs` new jobs (maxConcurrentRuns 100, executions stay READY). */
async function scheduled(flow: DataFlowClient, rule: Rule, jobs = 1, isTemp = false) {
  const t = await flow.createTrigger({ name: uniq('trig'), type: 'SCHEDULED', triggerRule: rule });
  const js = [];
  for (let i = 0; i < jobs; i++) js.push(await flow.createJob({ name: uniq('job'), nodes: nodes, maxConcurrentRuns: 100 }));
  const wf = await flow.createWorkflow({ name: uniq('wf'), nodes: [tnode(t), ...js.map((j) => jnode(j, t.triggerId))], isTemp });
  return { t, js, wf };
}

describe('the scheduler, on a clock the test moves', () => {
  const clock = new ManualClock(kst('2026-01-30T09:59:00'));
  let srv: TestServer;
  let flow: DataFlowClient;
  const fireDue = () => svcOf(srv).app.runner.runDue();
  const createdOf = async (workflowId: string) =>
    (await flow.getWorkflowExecutions({ workflowId })).list.map((e) => e.createdDate).sort();

  before(async () => {
    srv = await startTestServer('df-scheduler', { clock, config: { transitions: 'job-execution=manual' } });
    flow = new ClockedClient(srv.creds, clock);
  });
  after(async () => {
    await srv.close();
  });

  test('a daily trigger starts every JOB node of its workflow once per due time, as WORKFLOW executions; a draft never fires', async () => {
    const { t, js, wf } = await scheduled(flow, { type: 'RECURRING', interval: 'DAY', time: '10:00' }, 2);
    const draft = await flow.createWorkflow({ name: uniq('draft'), nodes: [tnode(t), jnode(js[0]!, t.triggerId)], isTemp: true });
    await fireDue();
    assert.equal((await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).count, 0);
    clock.set(kst('2026-01-30T10:00:00'));
    await fireDue();
    await fireDue();
    const execs = (await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).list;
    assert.deepEqual(execs.map((e) => e.jobId).sort(), js.map((j) => j.jobId).sort());
    for (const e of execs) {
      assert.deepEqual([e.type, e.status, e.triggerId, e.triggerName, e.createdDate], ['WORKFLOW', 'READY', t.triggerId, t.name, '2026-01-30T10:00:00.000+09:00']);
    }
    assert.equal((await flow.getWorkflowById({ workflowId: wf.workflowId })).lastExecutionDate, '2026-01-30T10:00:00.000+09:00');
    clock.set(kst('2026-01-31T10:00:20'));
    await fireDue();
    assert.deepEqual(await createdOf(wf.workflowId), [
      '2026-01-30T10:00:00.000+09:00',
      '2026-01-30T10:00:00.000+09:00',
      '2026-01-31T10:00:20.000+09:00',
      '2026-01-31T10:00:20.000+09:00',
    ]);
    assert.equal((await flow.getWorkflowExecutions({ workflowId: draft.workflowId })).count, 0);
    // A deleted workflow stops firing.
    await flow.deleteWorkflow({ workflowId: wf.workflowId });
    await flow.deleteWorkflow({ workflowId: draft.workflowId });
    clock.set(kst('2026-02-01T10:00:00'));
    await fireDue();
    for (const j of js) assert.equal((await flow.getJobExecutions({ jobId: j.jobId })).count, 2);
  });

  test('after downtime the missed firings of a trigger collapse into one catch-up run, then the schedule goes on', async () => {
    const { wf } = await scheduled(flow, { type: 'RECURRING', interval: 'HOUR', time: '15' });
    clock.set(kst('2026-02-01T15:40:00')); // 10:15 … 15:15 were missed
    await fireDue();
    assert.deepEqual(await createdOf(wf.workflowId), ['2026-02-01T15:40:00.000+09:00']);
    clock.set(kst('2026-02-01T16:15:00'));
    await fireDue();
    assert.deepEqual(await createdOf(wf.workflowId), ['2026-02-01T15:40:00.000+09:00', '2026-02-01T16:15:00.000+09:00']);
    await flow.deleteWorkflow({ workflowId: wf.workflowId });
  });

  test('monthly triggers across month ends: -1 is every last day, 31 skips February; a one-time trigger fires once', async () => {
    clock.set(kst('2026-01-31T12:00:00'));
    const last = await scheduled(flow, { type: 'RECURRING', interval: 'MONTH', dateOfMonth: '-1', time: '23:30' });
    const the31st = await scheduled(flow, { type: 'RECURRING', interval: 'MONTH', dateOfMonth: '31', time: '23:30' });
    const weekly = await scheduled(flow, { type: 'RECURRING', interval: 'WEEK', dayOfWeek: ['SATURDAY'], time: '23:30' });
    const once = await scheduled(flow, { type: 'ONE_TIME', executionDate: '2026-02-28T23:30:00' });
    for (const at of ['2026-01-31T23:30:00', '2026-02-07T23:30:00', '2026-02-14T23:30:00', '2026-02-21T23:30:00', '2026-02-28T23:30:00', '2026-03-07T23:30:00', '2026-03-31T23:30:00', '2026-04-30T23:30:00']) {
      clock.set(kst(at));
      await fireDue();
    }
    const days = async (w: { wf: { workflowId: string } }) => (await createdOf(w.wf.workflowId)).map((d) => d.slice(0, 10));
    assert.deepEqual(await days(last), ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']);
    assert.deepEqual(await days(the31st), ['2026-01-31', '2026-03-31']);
    // Saturdays; the clock then skips 03-14 … 03-28 (one catch-up run at 03-31) and April (one at 04-30).
    assert.deepEqual(await days(weekly), ['2026-01-31', '2026-02-07', '2026-02-14', '2026-02-21', '2026-02-28', '2026-03-07', '2026-03-31', '2026-04-30']);
    assert.deepEqual(await days(once), ['2026-02-28']);
    for (const w of [last, the31st, weekly, once]) await flow.deleteWorkflow({ workflowId: w.wf.workflowId });
  });

  test('a firing queued once per trigger and due time: a second workflow on the same trigger rides the same firing', async () => {
    clock.set(kst('2026-05-01T08:00:00'));
    const a = await scheduled(flow, { type: 'RECURRING', interval: 'DAY', time: '09:00' });
    const j = await flow.createJob({ name: uniq('job'), nodes: nodes, maxConcurrentRuns: 100 });
    const b = await flow.createWorkflow({ name: uniq('wf'), nodes: [tnode(a.t), jnode(j, a.t.triggerId)] });
    const keys = await svcOf(srv)
      .app.store.db.selectFrom('tasks')
      .select('dedupe_key')
      .where('kind', '=', 'dataflow.fire')
      .where('dedupe_key', 'like', `trigger/${a.t.triggerId}@%`)
      .execute();
    assert.deepEqual(keys.map((k) => k.dedupe_key), [`trigger/${a.t.triggerId}@2026-05-01T09:00:00+09:00`]);
    clock.set(kst('2026-05-01T09:00:00'));
    await fireDue();
    assert.equal((await flow.getWorkflowExecutions({ workflowId: a.wf.workflowId })).count, 1);
    assert.equal((await flow.getWorkflowExecutions({ workflowId: b.workflowId })).count, 1);
  });
});

describe('--missed-firings skip', () => {
  const clock = new ManualClock(kst('2026-03-01T00:00:00'));
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer('df-sched-skip', { clock, config: { transitions: 'job-execution=manual', missedFirings: 'skip' } });
  });
  after(async () => {
    await srv.close();
  });

  test('a firing missed during downtime starts nothing; the next due time fires', async () => {
    const flow = new ClockedClient(srv.creds, clock);
    const { wf } = await scheduled(flow, { type: 'RECURRING', interval: 'HOUR', time: '00' });
    clock.set(kst('2026-03-01T03:30:00'));
    await svcOf(srv).app.runner.runDue();
    assert.equal((await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).count, 0);
    clock.set(kst('2026-03-01T04:00:10'));
    await svcOf(srv).app.runner.runDue();
    assert.deepEqual((await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).list.map((e) => e.createdDate), ['2026-03-01T04:00:10.000+09:00']);
  });
});

describe('the dashboard on a known history', () => {
  const clock = new ManualClock(kst('2025-03-18T23:00:00'));
  let srv: TestServer;
  let flow: DataFlowClient;
  before(async () => {
    srv = await startTestServer('df-dashboard', { clock, config: { transitions: 'job-execution=manual' } });
    flow = new ClockedClient(srv.creds, clock);
  });
  after(async () => {
    await srv.close();
  });

  test('counts, daily buckets (00:00:01 → next 00:00:00 KST) and 2-hour points equal the executions made', async () => {
    const job = await flow.createJob({ name: uniq('dash'), nodes: nodes, maxConcurrentRuns: 100 });
    const svc = svcOf(srv);
    // [created (KST), final status]
    const history: Array<[string, 'COMPLETED' | 'FAILED' | 'CANCELED' | null]> = [
      ['2025-03-18T23:00:00', 'COMPLETED'], // before the window
      ['2025-03-19T08:59:59', 'COMPLETED'], // 23:59:59 UTC the day before: still the 19th in KST
      ['2025-03-19T23:59:59.500', 'FAILED'],
      ['2025-03-20T00:00:00.400', 'COMPLETED'], // the 19th's bucket ends at 20th 00:00:00
      ['2025-03-20T00:00:01', null], // still READY
      ['2025-03-20T23:59:59', 'COMPLETED'],
      ['2025-03-21T00:00:00', 'FAILED'], // after the window
    ];
    for (const [at, status] of history) {
      clock.set(kst(at));
      const e = await flow.executeJob({ jobId: job.jobId });
      if (status) {
        await svc.app.store.tx(async (trx) => {
          const row = await svc.repo.getExecution(e.jobExecutionId, trx);
          assert.ok(await svc.finishExecution(trx, row!, status, status === 'COMPLETED' ? null : 'x'));
        });
      }
    }
    clock.set(kst('2025-03-22T00:00:00'));
    const win = { startDate: '2025-03-19T00:00:00', endDate: '2025-03-20T23:59:59' };
    assert.deepEqual(await flow.getExecutionResult(win), { totalCount: 5, completedCount: 3, failedCount: 1 });
    assert.deepEqual(await flow.getExecutionCount(win), {
      result: [
        { totalCount: 3, startDate: '2025-03-19T00:00:01', endDate: '2025-03-20T00:00:00' },
        { totalCount: 2, startDate: '2025-03-20T00:00:01', endDate: '2025-03-21T00:00:00' },
      ],
    });
    // The documented example's points (2-hour spacing from 2025-03-20 16:00 KST).
    assert.deepEqual(await flow.getExecutionTimes({ startDate: '2025-03-20T16:00:00', endDate: '2025-03-20T23:59:59' }), {
      result: [
        { time: 1742454000000, value: 0 },
        { time: 1742461200000, value: 0 },
        { time: 1742468400000, value: 0 },
        { time: 1742475600000, value: 1 },
      ],
    });
    assert.deepEqual((await flow.getExecutionTimes({ startDate: '2025-03-19T23:00:00', endDate: '2025-03-20T01:59:59+09:00' })).result, [
      { time: kst('2025-03-19T22:00:00'), value: 1 },
      { time: kst('2025-03-20T00:00:00'), value: 2 },
    ]);
    // A window over everything equals a count of the job's executions.
    const all = await flow.getExecutionResult({ startDate: '2025-01-01T00:00:00', endDate: '2025-12-31T23:59:59' });
    assert.equal(all.totalCount, (await flow.getJobExecutions({ jobId: job.jobId })).count);
    // Another account counts none of them.
    const other = new ClockedClient({ endpoint: srv.url, ...(await srv.newAccount('df-dash-other')) }, clock);
    assert.deepEqual(await other.getExecutionResult(win), { totalCount: 0, completedCount: 0, failedCount: 0 });
    assert.deepEqual((await other.getExecutionCount(win)).result.map((b) => b.totalCount), [0, 0]);
  });

  test('a window that is not a date-time, is reversed or too long is bad-parameter', async () => {
    const { StockadeApiError } = await import('@stockade/sdk');
    const bad = async (p: Promise<unknown>, detail: RegExp) => {
      const e = await p.then(() => null, (x: unknown) => x);
      assert.ok(e instanceof StockadeApiError, String(e));
      assert.deepEqual([e.status, e.code], [400, 'bad-parameter']);
      assert.match((e.body as { detail: string }).detail, detail);
    };
    await bad(flow.getExecutionResult({ startDate: '2025-02-30T00:00:00', endDate: '2025-03-01T00:00:00' }), /startDate/);
    await bad(flow.getExecutionCount({ startDate: '2025-03-20T00:00:00', endDate: '2025-03-19T00:00:00' }), /after/);
    await bad(flow.getExecutionTimes({ startDate: '2020-01-01T00:00:00', endDate: '2025-01-01T00:00:00' }), /366 days/);
    await bad(flow.getExecutionResult({ startDate: 'yesterday', endDate: '2025-03-01T00:00:00' }), /startDate/);
  });
});

describe('chained jobs, run by the engine', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer('df-chain');
  });
  after(async () => {
    await srv.close();
  });

  test('a JOB node under another starts when its parent COMPLETED; nothing starts under a FAILED one', { timeout: 120_000 }, async () => {
    const flow = new DataFlowClient(srv.creds);
    const s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: srv.accessKeyId, secretAccessKey: srv.secretAccessKey } });
    await s3.send(new CreateBucketCommand({ Bucket: 'wf-data' }));
    await s3.send(new PutObjectCommand({ Bucket: 'wf-data', Key: 'in/a.csv', Body: 'id\n1\n2\n' }));
    const ok = (name: string) => flow.createJob({ name: uniq(name), nodes: nodes });
    const [first, second] = [await ok('first'), await ok('second')];
    const broken = await flow.createJob({ name: uniq('broken'), nodes: nodes.map((n) => ({ ...n, bucketName: 'no-such-bucket' })) });
    const never = await ok('never');
    const t = await flow.createTrigger({ name: uniq('manual'), type: 'NONE', triggerRule: { type: 'NONE' } });
    const wf = await flow.createWorkflow({
      name: uniq('chain'),
      nodes: [tnode(t), jnode(first, t.triggerId), jnode(second, first.jobId), jnode(broken, t.triggerId), jnode(never, broken.jobId)],
    });
    await flow.executeWorkflow({ workflowId: wf.workflowId });
    const ended = (list: Array<{ status: string }>) => list.every((e) => e.status !== 'READY' && e.status !== 'RUNNING');
    const list = await waitFor(
      'the chain ends',
      async () => {
        const l = (await flow.getWorkflowExecutions({ workflowId: wf.workflowId })).list;
        return l.length === 3 && ended(l) ? l : undefined;
      },
      { timeoutMs: 90_000, everyMs: 200 },
    );
    const byJob = new Map(list.map((e) => [e.jobId, e]));
    assert.equal(byJob.get(first.jobId)!.status, 'COMPLETED');
    assert.equal(byJob.get(broken.jobId)!.status, 'FAILED');
    const child = byJob.get(second.jobId)!;
    assert.deepEqual([child.status, child.type, child.triggerId, child.triggerName], ['COMPLETED', 'WORKFLOW', t.triggerId, t.name]);
    assert.ok(child.createdDate >= byJob.get(first.jobId)!.endDate!);
    assert.equal(byJob.has(never.jobId), false);
    s3.destroy();
  });
});
