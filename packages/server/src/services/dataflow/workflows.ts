/**
 * Data Flow workflows (§4.4–§4.9, §4.24) and the dashboard (§4.1–§4.3). Behaviour only; SQL in
 * repository.ts, the scheduler in scheduler.ts.
 *
 * Choices where the spec is silent (inferred; see docs/dataflow.md):
 * - Graph of a finalized workflow: node ids unique; exactly one TRIGGER node, with no parent;
 *   at least one JOB node; every JOB node has exactly one parent, the TRIGGER node or another JOB
 *   node of the workflow (a chain, §1.7's inferred extension), so every JOB node hangs under the
 *   trigger and there are no cycles. A JOB node's `jobCondition` may be omitted (the job's own
 *   runCondition is used). Saved with `isTemp: true` (a draft), none of this is checked and the
 *   workflow never fires.
 * - A node naming an unknown trigger/job: `404 resource-not-found/trigger|job` (also in drafts: a
 *   draft may be incomplete, not wrong).
 * - Names are unique in an account (400 bad-parameter).
 * - `isValid` (response): the trigger exists / the job exists and is executable (§1.2.1); node
 *   `name` is the resource's current name, TRIGGER nodes' `triggerRule` its current rule type.
 * - updateWorkflow is a full replacement; `isTemp` omitted keeps the stored flag.
 * - deleteWorkflow stops the schedule; the executions stay (retrievable through their job).
 * - executeWorkflow starts the JOB nodes under the trigger at once (202); a draft or a SCHEDULED
 *   trigger is `400 bad-state`. The `x-ncp-dataflow-payload` header (Base64 of a JSON object naming
 *   the event source, e.g. Cloud Functions' action and activation) is kept in the run's audit
 *   event; a header that is not Base64 of a JSON object is `400 bad-parameter` (inferred: the
 *   documentation shows only well-formed payloads).
 * - Dashboard windows: both bounds inclusive, by execution creation time; `startDate` after
 *   `endDate` or a bound that is not a date-time is `400 bad-parameter`; the daily and 2-hour
 *   series serve windows of at most 366 days.
 */
import { dataflowOps } from '@stockade/sdk';
import { handlersFor } from '../../platform/service.js';
import type { RequestContext } from '../../context.js';
import type { Executor } from '../../store/schema.js';
import { kstIso, kstIsoMillis } from '../time.js';
import { errors } from './errors.js';
import { executionOut } from './handlers.js';
import { parseKstDateTime } from '@stockade/sdk';
import { NOT_EXECUTABLE, scheduleNext, startWorkflow, type WorkflowNodeDoc } from './scheduler.js';
import { newId, type DataflowService } from './service.js';
import type { JobRow, TriggerRow, WorkflowRow } from './tables.js';

type Ctx = RequestContext<DataflowService>;

const KST_OFFSET_MS = 9 * 3600_000;
const DAY_MS = 24 * 3600_000;
const TWO_HOURS_MS = 2 * 3600_000;
const MAX_SERIES_WINDOW_MS = 366 * DAY_MS;

interface WorkflowInput {
  name: string;
  nodes: WorkflowNodeDoc[];
  isTemp?: boolean;
}

const PAYLOAD_HEADER = 'x-ncp-dataflow-payload';

/** The event source an `x-ncp-dataflow-payload` header describes (see the header comment). */
function eventPayload(ctx: Ctx): Record<string, unknown> | undefined {
  const raw = ctx.headers[PAYLOAD_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw.trim();
  const bad = (why: string) => errors.badParameter(ctx.lang, { detail: `${PAYLOAD_HEADER}: ${why}` });
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw bad('must be Base64 of a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw bad('is Base64, but not of JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('must be Base64 of a JSON object');
  return value as Record<string, unknown>;
}

/** Checks a finalized workflow's graph (see the header); names the node and the rule broken. */
function checkGraph(ctx: Ctx, nodes: WorkflowNodeDoc[]): void {
  const bad = (detail: string) => errors.badParameter(ctx.lang, { detail });
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.id)) throw bad(`nodes: id ${n.id} appears twice`);
    ids.add(n.id);
  }
  const triggers = nodes.filter((n) => n.type === 'TRIGGER');
  if (triggers.length !== 1) throw bad(`nodes: a workflow needs exactly one TRIGGER node, got ${triggers.length}`);
  const root = triggers[0]!;
  if (root.parentNodeIds.length > 0) throw bad(`nodes: the TRIGGER node ${root.id} has no parent (parentNodeIds must be [])`);
  const jobs = nodes.filter((n) => n.type === 'JOB');
  if (jobs.length === 0) throw bad('nodes: a workflow needs at least one JOB node under its TRIGGER node');
  const jobIds = new Set(jobs.map((n) => n.id));
  for (const n of jobs) {
    if (n.parentNodeIds.length !== 1) throw bad(`nodes: JOB node ${n.id} needs exactly one parent (the TRIGGER node or another JOB node)`);
    const p = n.parentNodeIds[0]!;
    if (p !== root.id && !jobIds.has(p)) throw bad(`nodes: JOB node ${n.id} has parent ${p}, which is neither the TRIGGER node nor a JOB node of the workflow`);
  }
  // Every JOB node reachable from the trigger (one parent each: unreachable means a cycle).
  const reached = new Set([root.id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const n of jobs) {
      if (!reached.has(n.id) && reached.has(n.parentNodeIds[0]!)) {
        reached.add(n.id);
        grew = true;
      }
    }
  }
  const loose = jobs.find((n) => !reached.has(n.id));
  if (loose) throw bad(`nodes: JOB node ${loose.id} is in a cycle, not under the TRIGGER node`);
}

/** The stored form of a node: only the fields it uses. */
function storedNode(n: WorkflowNodeDoc): WorkflowNodeDoc {
  return {
    id: n.id,
    name: n.name,
    type: n.type,
    parentNodeIds: [...n.parentNodeIds],
    ...(n.type === 'TRIGGER' && n.triggerRule != null ? { triggerRule: n.triggerRule } : {}),
    ...(n.type === 'JOB' && n.jobCondition !== undefined ? { jobCondition: n.jobCondition } : {}),
  };
}

interface Refs {
  triggers: Map<string, TriggerRow>;
  jobs: Map<string, JobRow>;
}

async function refsOf(ctx: Ctx, rows: WorkflowRow[], e?: Executor): Promise<Refs> {
  const nodes = rows.flatMap((r) => JSON.parse(r.nodes) as WorkflowNodeDoc[]);
  const accountId = ctx.identity.accountId;
  const [triggers, jobs] = await Promise.all([
    ctx.svc.repo.triggersByIds(accountId, nodes.filter((n) => n.type === 'TRIGGER').map((n) => n.id), e),
    ctx.svc.repo.jobsByIds(accountId, nodes.filter((n) => n.type === 'JOB').map((n) => n.id), e),
  ]);
  return { triggers: new Map(triggers.map((t) => [t.id, t])), jobs: new Map(jobs.map((j) => [j.id, j])) };
}

const ruleType = (t: TriggerRow): string => (JSON.parse(t.rule) as { type: string }).type;

function workflowOut(r: WorkflowRow, refs: Refs) {
  const nodes = (JSON.parse(r.nodes) as WorkflowNodeDoc[]).map((n) => {
    if (n.type === 'TRIGGER') {
      const t = refs.triggers.get(n.id);
      return { id: n.id, name: t?.name ?? n.name, type: n.type, parentNodeIds: n.parentNodeIds, triggerRule: (t ? ruleType(t) : (n.triggerRule ?? null)) as never, isValid: t !== undefined };
    }
    const j = refs.jobs.get(n.id);
    return {
      id: n.id,
      name: j?.name ?? n.name,
      type: n.type,
      parentNodeIds: n.parentNodeIds,
      ...(n.jobCondition !== undefined ? { jobCondition: n.jobCondition } : {}),
      isValid: j !== undefined && !NOT_EXECUTABLE.has(j.status),
    };
  });
  return {
    workflowId: r.id,
    name: r.name,
    nodes,
    isTemp: r.is_temp === 1,
    createdDate: kstIsoMillis(r.created_at),
    updatedDate: kstIsoMillis(r.updated_at),
    lastExecutionDate: r.last_execution_at === null ? null : kstIsoMillis(r.last_execution_at),
  };
}

function summaryOut(r: WorkflowRow, refs: Refs) {
  const out = workflowOut(r, refs);
  const t = r.trigger_id === null ? undefined : refs.triggers.get(r.trigger_id);
  return { ...out, triggerRuleType: (t ? ruleType(t) : null) as never, resourceId: r.id, disabled: false };
}

/**
 * Checks the input, that its trigger and jobs exist in the account (404 otherwise), and returns
 * the row's node fields.
 */
async function prepare(ctx: Ctx, trx: Executor, input: WorkflowInput, isTemp: boolean): Promise<{ nodes: WorkflowNodeDoc[]; triggerId: string | null; jobIds: string[]; trigger: TriggerRow | undefined }> {
  const nodes = input.nodes.map(storedNode);
  if (!isTemp) checkGraph(ctx, nodes);
  const accountId = ctx.identity.accountId;
  const triggerNode = nodes.find((n) => n.type === 'TRIGGER');
  const jobIds = nodes.filter((n) => n.type === 'JOB').map((n) => n.id);
  const triggers = await ctx.svc.repo.triggersByIds(accountId, nodes.filter((n) => n.type === 'TRIGGER').map((n) => n.id), trx);
  for (const n of nodes.filter((x) => x.type === 'TRIGGER')) {
    if (!triggers.some((t) => t.id === n.id)) throw errors.triggerNotFound(ctx.lang, { triggerId: n.id });
  }
  const jobs = new Set((await ctx.svc.repo.jobsByIds(accountId, jobIds, trx)).map((j) => j.id));
  const missing = jobIds.find((id) => !jobs.has(id));
  if (missing !== undefined) throw errors.jobNotFound(ctx.lang, { jobId: missing });
  const triggerId = triggerNode?.id ?? null;
  return { nodes, triggerId, jobIds, trigger: triggers.find((t) => t.id === triggerId) };
}

/** A dashboard window: both bounds parsed (KST when no offset), start ≤ end, at most `maxMs` long. */
function windowOf(ctx: Ctx, input: { startDate: string; endDate: string }, maxMs = Infinity): { from: number; to: number } {
  const from = parseKstDateTime(input.startDate);
  const to = parseKstDateTime(input.endDate);
  if (from === null) throw errors.badParameter(ctx.lang, { detail: `startDate must be a date-time such as 2025-03-19T00:00:00, got ${JSON.stringify(input.startDate)}` });
  if (to === null) throw errors.badParameter(ctx.lang, { detail: `endDate must be a date-time such as 2025-03-20T23:59:59, got ${JSON.stringify(input.endDate)}` });
  if (from > to) throw errors.badParameter(ctx.lang, { detail: 'startDate must not be after endDate' });
  if (to - from > maxMs) throw errors.badParameter(ctx.lang, { detail: 'the window between startDate and endDate may be at most 366 days' });
  return { from, to };
}

/** `2025-03-19T00:00:01`: the dashboard's local (KST) date-times, without an offset (§4.2 example). */
const kstLocal = (ms: number): string => kstIso(ms).slice(0, 19);

export const workflowHandlers = handlersFor<DataflowService>()(dataflowOps, {
  async getExecutionResult(ctx, input) {
    const { from, to } = windowOf(ctx, input);
    const t = await ctx.svc.repo.executionTotals(ctx.identity.accountId, from, to);
    return { totalCount: t.total, completedCount: t.completed, failedCount: t.failed };
  },

  /**
   * One bucket per KST calendar day from startDate's day to endDate's (§4.2): bucket d holds the
   * executions created from d 00:00:01 through d+1 00:00:00 (times in whole seconds, as the
   * bounds read), counted only inside the window.
   */
  async getExecutionCount(ctx, input) {
    const { from, to } = windowOf(ctx, input, MAX_SERIES_WINDOW_MS);
    // created_at rounded down to the second, minus one second, on the KST day grid.
    const counts = await ctx.svc.repo.executionBuckets(ctx.identity.accountId, from, to, { roundMs: 1000, shiftMs: KST_OFFSET_MS - 1000, widthMs: DAY_MS });
    const first = Math.floor((from + KST_OFFSET_MS) / DAY_MS);
    const last = Math.floor((to + KST_OFFSET_MS) / DAY_MS);
    const result = [];
    for (let d = first; d <= last; d++) {
      const dayStart = d * DAY_MS - KST_OFFSET_MS;
      result.push({ totalCount: counts.get(d) ?? 0, startDate: kstLocal(dayStart + 1000), endDate: kstLocal(dayStart + DAY_MS) });
    }
    return { result };
  },

  /** Executions created per 2-hour bucket aligned to even KST hours, from the one holding startDate (§4.3). */
  async getExecutionTimes(ctx, input) {
    const { from, to } = windowOf(ctx, input, MAX_SERIES_WINDOW_MS);
    const counts = await ctx.svc.repo.executionBuckets(ctx.identity.accountId, from, to, { roundMs: 1, shiftMs: KST_OFFSET_MS, widthMs: TWO_HOURS_MS });
    const first = Math.floor((from + KST_OFFSET_MS) / TWO_HOURS_MS);
    const last = Math.floor((to + KST_OFFSET_MS) / TWO_HOURS_MS);
    const result = [];
    for (let b = first; b <= last; b++) result.push({ time: b * TWO_HOURS_MS - KST_OFFSET_MS, value: counts.get(b) ?? 0 });
    return { result };
  },

  async getWorkflows(ctx, input) {
    const page = input.page ?? 0;
    const limit = input.limit ?? 1000;
    const { rows, count } = await ctx.svc.repo.listWorkflows({ accountId: ctx.identity.accountId, page, limit });
    const refs = await refsOf(ctx, rows);
    return { list: rows.map((r) => summaryOut(r, refs)), count, page, limit };
  },

  async getWorkflowById(ctx, input) {
    const r = await ctx.svc.repo.findWorkflow(ctx.identity.accountId, input.workflowId);
    if (!r) throw errors.workflowNotFound(ctx.lang, { workflowId: input.workflowId });
    return workflowOut(r, await refsOf(ctx, [r]));
  },

  async createWorkflow(ctx, input) {
    const accountId = ctx.identity.accountId;
    const isTemp = input.isTemp ?? false;
    const row = await ctx.tx(async (trx) => {
      const p = await prepare(ctx, trx, input, isTemp);
      const now = ctx.app.clock.now();
      const row: WorkflowRow = {
        id: newId(),
        account_id: accountId,
        name: input.name,
        nodes: JSON.stringify(p.nodes),
        is_temp: isTemp ? 1 : 0,
        trigger_id: p.triggerId,
        last_execution_at: null,
        created_at: now,
        updated_at: now,
      };
      if (!(await ctx.svc.repo.insertWorkflow(trx, row))) throw errors.badParameter(ctx.lang, { detail: `name: a workflow named ${input.name} already exists` });
      await ctx.svc.repo.setWorkflowJobs(trx, accountId, row.id, p.jobIds);
      if (!isTemp && p.trigger) await scheduleNext(ctx.svc, trx, p.trigger, now);
      await ctx.audit(trx, 'dataflow.workflow.create', `workflow/${row.id}`, { name: row.name, isTemp, triggerId: p.triggerId });
      return row;
    });
    return workflowOut(row, await refsOf(ctx, [row]));
  },

  async updateWorkflow(ctx, input) {
    const accountId = ctx.identity.accountId;
    const row = await ctx.tx(async (trx) => {
      const wf = await ctx.svc.repo.lockWorkflow(trx, accountId, input.workflowId);
      if (!wf) throw errors.workflowNotFound(ctx.lang, { workflowId: input.workflowId });
      const isTemp = input.isTemp ?? wf.is_temp === 1;
      const p = await prepare(ctx, trx, input, isTemp);
      if (await ctx.svc.repo.workflowNameTaken(trx, accountId, input.name, wf.id)) {
        throw errors.badParameter(ctx.lang, { detail: `name: a workflow named ${input.name} already exists` });
      }
      const now = ctx.app.clock.now();
      const set = { name: input.name, nodes: JSON.stringify(p.nodes), is_temp: isTemp ? 1 : 0, trigger_id: p.triggerId, updated_at: now };
      await ctx.svc.repo.updateWorkflow(trx, accountId, wf.id, set);
      await ctx.svc.repo.setWorkflowJobs(trx, accountId, wf.id, p.jobIds);
      // The new trigger's next firing (a no-op when already queued); the old trigger's queued
      // firing finds this workflow gone from it and starts nothing for it.
      if (!isTemp && p.trigger) await scheduleNext(ctx.svc, trx, p.trigger, now);
      await ctx.audit(trx, 'dataflow.workflow.update', `workflow/${wf.id}`, { name: input.name, isTemp, triggerId: p.triggerId });
      return { ...wf, ...set };
    });
    return workflowOut(row, await refsOf(ctx, [row]));
  },

  async deleteWorkflow(ctx, input) {
    await ctx.tx(async (trx) => {
      if (!(await ctx.svc.repo.deleteWorkflow(trx, ctx.identity.accountId, input.workflowId))) {
        throw errors.workflowNotFound(ctx.lang, { workflowId: input.workflowId });
      }
      await ctx.audit(trx, 'dataflow.workflow.delete', `workflow/${input.workflowId}`);
    });
    return true;
  },

  /**
   * The executions the workflow started, newest first. `filter` (a workflow name filter, §4.9):
   * when given and the workflow's name does not contain it (case-insensitive), the list is empty.
   */
  async getWorkflowExecutions(ctx, input) {
    const page = input.page ?? 0;
    const limit = input.limit ?? 1000;
    const wf = await ctx.svc.repo.findWorkflow(ctx.identity.accountId, input.workflowId);
    if (!wf) throw errors.workflowNotFound(ctx.lang, { workflowId: input.workflowId });
    if (input.filter && !wf.name.toLowerCase().includes(input.filter.toLowerCase())) return { list: [], count: 0, page, limit };
    const { rows, count } = await ctx.svc.repo.listWorkflowExecutions(ctx.identity.accountId, wf.id, page, limit);
    const now = ctx.app.clock.now();
    return { list: rows.map((r) => executionOut(r, now)), count, page, limit };
  },

  async executeWorkflow(ctx, input) {
    const accountId = ctx.identity.accountId;
    const payload = eventPayload(ctx);
    const triggerId = await ctx.tx(async (trx) => {
      const wf = await ctx.svc.repo.lockWorkflow(trx, accountId, input.workflowId);
      if (!wf) throw errors.workflowNotFound(ctx.lang, { workflowId: input.workflowId });
      if (wf.is_temp === 1) throw errors.badState(ctx.lang, { detail: `workflow ${wf.id} is a draft (isTemp): it cannot be executed` });
      const [trigger] = await ctx.svc.repo.triggersByIds(accountId, wf.trigger_id === null ? [] : [wf.trigger_id], trx);
      if (!trigger) throw errors.badState(ctx.lang, { detail: `workflow ${wf.id} has no trigger` });
      if (trigger.type === 'SCHEDULED') {
        throw errors.badState(ctx.lang, { detail: `workflow ${wf.id} starts on a schedule (trigger ${trigger.id} is SCHEDULED): only NONE and EVENT workflows are executed on request` });
      }
      const started = await startWorkflow(ctx.svc, trx, wf, trigger, ctx.app.clock.now());
      await ctx.audit(trx, 'dataflow.workflow.execute', `workflow/${wf.id}`, {
        triggerId: trigger.id,
        executions: started.map((e) => e.id),
        ...(payload !== undefined ? { payload } : {}),
      });
      return trigger.id;
    });
    return { workflowId: input.workflowId, triggerId, status: 'ACCEPTED' };
  },
});
