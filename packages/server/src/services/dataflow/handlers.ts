/** Data Flow handlers: one function per operation of `dataflowOps`. Behaviour only. */
import { DATAFLOW_MAX_PARAMETERS, dataflowOps } from '@stockade/sdk';
import { handlersFor } from '../../platform/service.js';
import type { RequestContext } from '../../context.js';
import type { Executor } from '../../store/schema.js';
import { kstIsoMillis } from '../time.js';
import { consoleLogPathOf, splitPath } from './engine.js';
import { errors } from './errors.js';
import { GraphError, validateGraph, type NodeDoc } from './graph.js';
import { isProblem, parseRule, type ScheduleRule as TriggerRule } from '@stockade/sdk';
import { EXECUTE_KIND } from './tasks.js';
import { EXECUTION_LIFECYCLE, newId, runnableStatus, type DataflowService, type JobDoc, type RunCondition } from './service.js';
import type { ExecutionRow, JobRow, TriggerRow } from './tables.js';

type Ctx = RequestContext<DataflowService>;
const iso = (ms: number | null) => (ms === null ? null : kstIsoMillis(ms));

interface ConditionInput {
  workerType?: string;
  numWorker?: number;
  timeout?: number;
  nrn?: string;
  scriptPath?: string;
  logPath?: string;
  parameters?: Record<string, string>;
}

/** Statuses from which a job may not be executed (§1.2.1, inferred). */
const NOT_EXECUTABLE = new Set(['DRAFT', 'EDITING', 'DELETED', 'STOPPED', 'UNKNOWN']);

function jobOut(r: JobRow) {
  const doc = JSON.parse(r.doc) as JobDoc;
  return {
    jobId: r.id,
    name: r.name,
    description: r.description,
    type: r.type,
    status: r.status,
    lastExecutionStatus: r.last_execution_status,
    nodes: doc.nodes as never,
    runCondition: doc.runCondition,
    maxConcurrentRuns: doc.maxConcurrentRuns,
    createdDate: kstIsoMillis(r.created_at),
    updatedDate: kstIsoMillis(r.updated_at),
    lastExecutionDate: iso(r.last_execution_at),
  };
}

/** Minutes between two times, whole minutes rounded down (§1.5 `waitingTime`/`runningTime`). */
const minutes = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.floor((to - from) / 60_000));

export function executionOut(r: ExecutionRow, now: number) {
  const cond = JSON.parse(r.condition) as RunCondition & { consoleLogPath: string };
  const { parameters: _p, ...jobCondition } = cond;
  return {
    jobExecutionId: r.id,
    jobId: r.job_id,
    jobName: r.job_name,
    type: r.type,
    status: r.status,
    jobCondition,
    executorNum: r.executor_num,
    parsedParameters: JSON.parse(r.parameters) as Record<string, string>,
    triggerId: r.trigger_id,
    triggerName: r.trigger_name,
    workflowId: r.workflow_id,
    createdDate: kstIsoMillis(r.created_at),
    startDate: iso(r.started_at),
    endDate: iso(r.ended_at),
    // While waiting or running, the time so far.
    waitingTime: minutes(r.created_at, r.started_at ?? (r.status === 'READY' ? now : r.ended_at)),
    runningTime: r.started_at === null ? 0 : minutes(r.started_at, r.ended_at ?? now),
  };
}

/** The graph rules (§1.3.5) as the operation's `400 bad-parameter`, naming the node and field. */
function checkGraph(ctx: Ctx, nodes: NodeDoc[]): void {
  try {
    validateGraph(nodes);
  } catch (e) {
    if (e instanceof GraphError) throw errors.badParameter(ctx.lang, { detail: e.message });
    throw e;
  }
}

/** `bucket/folder/` paths (scriptPath, logPath): a bucket name, then a folder. */
function checkPath(ctx: Ctx, field: string, value: string | undefined): void {
  if (value === undefined) return;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\0]*)?$/.test(value) || value.includes('//') || value.length > 1000) {
    throw errors.badParameter(ctx.lang, { detail: `jobCondition.${field} must be {bucket}/{folder}/, got ${JSON.stringify(value)}` });
  }
}

/** The stored condition overlaid with a request's (omitted fields keep their values, §1.4). */
function overlay(ctx: Ctx, base: RunCondition, given: ConditionInput | undefined): RunCondition {
  if (!given) return base;
  checkPath(ctx, 'scriptPath', given.scriptPath);
  checkPath(ctx, 'logPath', given.logPath);
  const out: RunCondition = { ...base };
  for (const k of ['workerType', 'numWorker', 'timeout', 'nrn', 'scriptPath', 'logPath'] as const) {
    if (given[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = given[k];
  }
  if (given.parameters !== undefined) {
    out.parameters = { ...(base.parameters ?? {}), ...given.parameters };
    const count = Object.keys(out.parameters).length;
    if (count > DATAFLOW_MAX_PARAMETERS) {
      throw errors.badParameter(ctx.lang, { detail: `jobCondition.parameters: ${count} parameters with the job's own, more than ${DATAFLOW_MAX_PARAMETERS}` });
    }
  }
  return out;
}

/**
 * The account's default configuration (§4.12 compatibility): DEFAULT / 2 workers / 360 minutes,
 * scripts and logs in the account's `dataflow-…` bucket, an NRN naming the account's Data Flow role.
 */
function defaultCondition(accountId: string, bucket: string): RunCondition {
  return {
    workerType: 'DEFAULT',
    numWorker: 2,
    timeout: 360,
    nrn: `nrn:PUB:IAM::${accountId}:Role/DataFlowRole`,
    scriptPath: `${bucket}/scripts/`,
    logPath: `${bucket}/sparkHistoryLogs/`,
  };
}

/** Moves the job's scripts (`{jobId}/…` under `from`) to `to`; a script that cannot be moved stays and is logged. */
async function moveScripts(ctx: Ctx, jobId: string, from: string, to: string): Promise<void> {
  const s3 = ctx.app.api('s3');
  const accountId = ctx.identity.accountId;
  const [fromBucket, fromRest] = splitPath(from);
  const [toBucket, toRest] = splitPath(to);
  const folder = (p: string) => (p === '' || p.endsWith('/') ? p : `${p}/`);
  const prefix = `${folder(fromRest)}${jobId}/`;
  try {
    for (const o of await s3.listObjects(accountId, fromBucket, prefix)) {
      const key = `${folder(toRest)}${jobId}/${o.key.slice(prefix.length)}`;
      const script = await s3.readObject(accountId, fromBucket, o.key);
      if (typeof script === 'string') continue; // deleted meanwhile
      await s3.writeObject(accountId, toBucket, key, script.stream, 'application/sql');
      await ctx.svc.deleteObject(accountId, fromBucket, o.key);
    }
  } catch (e) {
    ctx.app.logger.warn({ jobId, err: e instanceof Error ? e.message : String(e) }, 'Data Flow could not move a job\'s scripts');
  }
}

async function requireJob(ctx: Ctx, trx: Executor, jobId: string): Promise<JobRow> {
  const job = await ctx.svc.repo.lockJob(trx, ctx.identity.accountId, jobId);
  if (!job) throw errors.jobNotFound(ctx.lang, { jobId });
  return job;
}

/** The `triggerRule` fields each rule type uses; the others are not stored (§4.21: "only the fields relevant to the rule"). */
function relevantRule(rule: TriggerRule): TriggerRule {
  switch (rule.type) {
    case 'RECURRING':
      return {
        type: rule.type,
        ...(rule.interval !== undefined ? { interval: rule.interval } : {}),
        ...(rule.time !== undefined ? { time: rule.time } : {}),
        ...(rule.interval === 'WEEK' && rule.dayOfWeek !== undefined ? { dayOfWeek: [...new Set(rule.dayOfWeek)] } : {}),
        ...(rule.interval === 'MONTH' && rule.dateOfMonth !== undefined ? { dateOfMonth: rule.dateOfMonth } : {}),
      };
    case 'ONE_TIME':
      return { type: rule.type, ...(rule.executionDate !== undefined ? { executionDate: rule.executionDate } : {}) };
    default:
      return { type: rule.type };
  }
}

function triggerOut(r: TriggerRow) {
  return {
    triggerId: r.id,
    name: r.name,
    type: r.type as 'SCHEDULED' | 'EVENT' | 'NONE',
    triggerRule: JSON.parse(r.rule) as never,
    createdDate: kstIsoMillis(r.created_at),
    updatedDate: kstIsoMillis(r.updated_at),
  };
}

export const handlers = handlersFor<DataflowService>()(dataflowOps, {
  async getJobs(ctx, input) {
    const page = input.page ?? 0;
    const limit = input.limit ?? 1000;
    // Name filter: case-insensitive substring (dataflow.md §3.4, inferred).
    const { rows, count } = await ctx.svc.repo.listJobs({
      accountId: ctx.identity.accountId,
      ...(input.name ? { name: input.name } : {}),
      ...(input.status ? { status: input.status } : {}),
      page,
      limit,
    });
    return {
      list: rows.map((r) => ({
        jobId: r.id,
        name: r.name,
        type: r.type,
        status: r.status,
        lastExecutionStatus: r.last_execution_status,
        createdDate: kstIsoMillis(r.created_at),
        updatedDate: kstIsoMillis(r.updated_at),
        lastExecutionDate: iso(r.last_execution_at),
        resourceId: r.id,
        disabled: false,
      })),
      count,
      page,
      limit,
    };
  },

  async getJobById(ctx, input) {
    const r = await ctx.svc.repo.findJob(ctx.identity.accountId, input.jobId);
    if (!r) throw errors.jobNotFound(ctx.lang, { jobId: input.jobId });
    return jobOut(r);
  },

  async createJob(ctx, input) {
    // No type: DATAFLOW ([R1]/[R2] requests have none).
    const type = input.type ?? 'DATAFLOW';
    const nodes = (input.nodes ?? []) as NodeDoc[];
    if (type === 'SCRIPT' && nodes.length > 0) throw errors.badParameter(ctx.lang, { detail: 'a SCRIPT job has no nodes' });
    // A visual job without nodes is saved as a DRAFT (inferred); with nodes they must be valid.
    if (nodes.length > 0) checkGraph(ctx, nodes);
    const status = type !== 'SCRIPT' && nodes.length === 0 ? 'DRAFT' : runnableStatus(type);
    const accountId = ctx.identity.accountId;
    const buckets = (await ctx.app.api('s3').listBuckets(accountId)).map((b) => b.name);
    const row = await ctx.tx(async (trx) => {
      if (await ctx.svc.repo.jobNameTaken(trx, accountId, input.name)) {
        throw errors.badParameter(ctx.lang, { detail: `a job named ${input.name} already exists` });
      }
      const bucket = await ctx.svc.defaultBucket(trx, accountId, buckets);
      const runCondition = overlay(ctx, defaultCondition(accountId, bucket), input.jobCondition);
      const now = ctx.app.clock.now();
      const doc: JobDoc = { nodes: nodes, runCondition, maxConcurrentRuns: input.maxConcurrentRuns ?? 1 };
      const job: JobRow = {
        id: newId(),
        account_id: accountId,
        name: input.name,
        description: input.description ?? '',
        type,
        status,
        doc: JSON.stringify(doc),
        last_execution_status: null,
        last_execution_at: null,
        created_at: now,
        updated_at: now,
      };
      await ctx.svc.repo.insertJob(trx, job);
      await ctx.audit(trx, 'dataflow.job.create', `job/${job.id}`, { name: job.name, status });
      return job;
    });
    return jobOut(row);
  },

  /**
   * PUT ([R1]/[R2]) and PATCH ([R3]) alike: fields given replace the stored ones, others stay.
   * `isTemp: true` saves a DRAFT without checking the graph; otherwise a job with nodes is checked
   * and becomes executable. A job with an execution in progress cannot change (bad-state).
   */
  async updateJob(ctx, input) {
    const accountId = ctx.identity.accountId;
    const row = await ctx.tx(async (trx) => {
      const job = await requireJob(ctx, trx, input.jobId);
      if (job.status === 'RUNNING' || (await ctx.svc.repo.activeExecutions(trx, job.id)) > 0) {
        throw errors.badState(ctx.lang, { detail: `job ${job.id} has an execution in progress` });
      }
      const doc = JSON.parse(job.doc) as JobDoc;
      const type = input.type;
      const nodes = (input.nodes ?? doc.nodes) as NodeDoc[];
      if (type === 'SCRIPT' && nodes.length > 0) throw errors.badParameter(ctx.lang, { detail: 'a SCRIPT job has no nodes' });
      let status = job.status;
      if (input.isTemp === true) status = 'DRAFT';
      else if (type === 'SCRIPT') status = runnableStatus(type);
      else if (input.nodes !== undefined || input.isTemp === false || status !== 'DRAFT') {
        if (nodes.length === 0) throw errors.badParameter(ctx.lang, { detail: 'nodes: a job needs at least one node (save with isTemp true for a draft)' });
        checkGraph(ctx, nodes);
        status = runnableStatus(type);
      }
      const name = input.name ?? job.name;
      if (name !== job.name && (await ctx.svc.repo.jobNameTaken(trx, accountId, name, job.id))) {
        throw errors.badParameter(ctx.lang, { detail: `a job named ${name} already exists` });
      }
      const next: JobDoc = {
        nodes: nodes,
        runCondition: overlay(ctx, doc.runCondition, input.jobCondition),
        maxConcurrentRuns: input.maxConcurrentRuns ?? doc.maxConcurrentRuns,
      };
      const set = {
        name,
        type,
        status,
        description: input.description ?? job.description,
        doc: JSON.stringify(next),
        updated_at: ctx.app.clock.now(),
      };
      await ctx.svc.repo.updateJob(trx, accountId, job.id, set);
      await ctx.audit(trx, 'dataflow.job.update', `job/${job.id}`, { name, status });
      return { ...job, ...set };
    });
    return jobOut(row);
  },

  /** Deletes the job and its execution records; refused while an execution is in progress (inferred). */
  async deleteJob(ctx, input) {
    await ctx.tx(async (trx) => {
      const job = await requireJob(ctx, trx, input.jobId);
      if ((await ctx.svc.repo.activeExecutions(trx, job.id)) > 0) {
        throw errors.badState(ctx.lang, { detail: `job ${job.id} has an execution in progress` });
      }
      // A job a workflow uses stays until the workflow stops using it (issue 11, inferred like §1.6's trigger rule).
      const usedBy = await ctx.svc.repo.workflowUsingJob(ctx.identity.accountId, job.id, trx);
      if (usedBy !== undefined) throw errors.badState(ctx.lang, { detail: `job ${job.id} is used by workflow ${usedBy}` });
      await ctx.svc.repo.deleteJob(trx, ctx.identity.accountId, job.id);
      await ctx.audit(trx, 'dataflow.job.delete', `job/${job.id}`, { name: job.name });
    });
    return true;
  },

  async verifyJob(ctx, input) {
    checkGraph(ctx, input.nodes);
    return true;
  },

  async executeJob(ctx, input) {
    const accountId = ctx.identity.accountId;
    const triggerId = input.triggerId ?? null;
    const workflowId = input.workflowId ?? null;
    const row = await ctx.tx(async (trx) => {
      const job = await requireJob(ctx, trx, input.jobId);
      if (NOT_EXECUTABLE.has(job.status)) {
        throw errors.badState(ctx.lang, { detail: `job ${job.id} is ${job.status}: it cannot be executed` });
      }
      const doc = JSON.parse(job.doc) as JobDoc;
      const active = await ctx.svc.repo.activeExecutions(trx, job.id);
      if (active >= doc.maxConcurrentRuns) {
        throw errors.badState(ctx.lang, { detail: `job ${job.id} already has ${active} execution(s) in progress (maxConcurrentRuns ${doc.maxConcurrentRuns})` });
      }
      const cond = overlay(ctx, doc.runCondition, input.jobCondition);
      // Parameters: the job's, overlaid with the request's (§1.5, inferred).
      const parameters = { ...(cond.parameters ?? {}), ...(input.parameters ?? {}) };
      const id = newId();
      const { parameters: _p, ...stored } = cond;
      const now = ctx.app.clock.now();
      const exec: ExecutionRow = {
        id,
        account_id: accountId,
        job_id: job.id,
        job_name: job.name,
        job_type: job.type,
        // Started with a workflow or trigger id: a workflow's run (§1.5, inferred).
        type: workflowId || triggerId ? 'WORKFLOW' : 'JOB',
        status: 'READY',
        condition: JSON.stringify({ ...stored, consoleLogPath: consoleLogPathOf(cond, id) }),
        parameters: JSON.stringify(parameters),
        plan: JSON.stringify(doc.nodes),
        executor_num: cond.numWorker,
        trigger_id: triggerId,
        // The named trigger's name when the account has it (null otherwise).
        trigger_name: triggerId === null ? null : ((await ctx.svc.repo.findTrigger(accountId, triggerId, trx))?.name ?? null),
        workflow_id: workflowId,
        error: null,
        task_id: null,
        created_at: now,
        started_at: null,
        ended_at: null,
      };
      await ctx.svc.repo.insertExecution(trx, exec);
      await ctx.svc.repo.updateJob(trx, accountId, job.id, { status: 'RUNNING', last_execution_status: 'READY', last_execution_at: now });
      const taskId = await ctx.app.runner.enqueue(
        EXECUTE_KIND,
        { executionId: id },
        { db: trx, dueAt: ctx.app.lifecycle.dueAt(EXECUTION_LIFECYCLE, now), dedupeKey: `${EXECUTE_KIND}:${id}` },
      );
      await ctx.svc.repo.setExecutionTask(trx, id, taskId);
      await ctx.audit(trx, 'dataflow.job.execute', `job/${job.id}/execution/${id}`, { type: exec.type });
      return { ...exec, task_id: taskId };
    });
    return executionOut(row, ctx.app.clock.now());
  },

  async getJobExecutions(ctx, input) {
    const page = input.page ?? 0;
    const limit = input.limit ?? 1000;
    const job = await ctx.svc.repo.findJob(ctx.identity.accountId, input.jobId);
    if (!job) throw errors.jobNotFound(ctx.lang, { jobId: input.jobId });
    const { rows, count } = await ctx.svc.repo.listExecutions(ctx.identity.accountId, job.id, page, limit);
    const now = ctx.app.clock.now();
    return { list: rows.map((r) => executionOut(r, now)), count, page, limit };
  },

  async getJobExecutionById(ctx, input) {
    const job = await ctx.svc.repo.findJob(ctx.identity.accountId, input.jobId);
    if (!job) throw errors.jobNotFound(ctx.lang, { jobId: input.jobId });
    const r = await ctx.svc.repo.findExecution(ctx.identity.accountId, job.id, input.executionId);
    if (!r) throw errors.executionNotFound(ctx.lang, { executionId: input.executionId });
    return executionOut(r, ctx.app.clock.now());
  },

  /**
   * Merges the given fields into the stored configuration ([R3]). A new `scriptPath` must be in a
   * bucket of the account (400 otherwise); the job's scripts already written (`{jobId}/…` under the
   * old path) are moved there after the change commits ([R3] "moves the stored script").
   */
  async updateJobExecuteConfig(ctx, input) {
    const accountId = ctx.identity.accountId;
    const newScripts = input.jobCondition.scriptPath;
    if (newScripts !== undefined) {
      checkPath(ctx, 'scriptPath', newScripts);
      const [bucket] = splitPath(newScripts);
      const mine = (await ctx.app.api('s3').listBuckets(accountId)).some((b) => b.name === bucket);
      if (!mine) throw errors.badParameter(ctx.lang, { detail: `jobCondition.scriptPath: bucket ${bucket} does not exist` });
    }
    let oldScripts = '';
    const row = await ctx.tx(async (trx) => {
      const job = await requireJob(ctx, trx, input.jobId);
      const doc = JSON.parse(job.doc) as JobDoc;
      oldScripts = doc.runCondition.scriptPath;
      const next: JobDoc = { ...doc, runCondition: overlay(ctx, doc.runCondition, input.jobCondition) };
      const set = { doc: JSON.stringify(next), updated_at: ctx.app.clock.now() };
      await ctx.svc.repo.updateJob(trx, accountId, job.id, set);
      // Parameter values stay out of the audit log (they may be large, up to 400 KB, or secret):
      // their names say what changed.
      const { parameters, ...config } = next.runCondition;
      await ctx.audit(trx, 'dataflow.job.update-config', `job/${job.id}`, { ...config, parameterNames: Object.keys(parameters ?? {}) });
      return { ...job, ...set };
    });
    if (newScripts !== undefined && newScripts !== oldScripts) await moveScripts(ctx, row.id, oldScripts, newScripts);
    return jobOut(row);
  },

  async getTriggers(ctx, input) {
    const page = input.page ?? 0;
    const limit = input.limit ?? 1000;
    const { rows, count } = await ctx.svc.repo.listTriggers({ accountId: ctx.identity.accountId, ...(input.name ? { name: input.name } : {}), page, limit });
    return { list: rows.map(triggerOut), count, page, limit };
  },

  async getTriggerById(ctx, input) {
    const r = await ctx.svc.repo.findTrigger(ctx.identity.accountId, input.triggerId);
    if (!r) throw errors.triggerNotFound(ctx.lang, { triggerId: input.triggerId });
    return triggerOut(r);
  },

  async createTrigger(ctx, input) {
    const rule = relevantRule(input.triggerRule);
    const schedule = parseRule(rule);
    if (isProblem(schedule)) throw errors.badParameter(ctx.lang, { detail: `${schedule.field} ${schedule.reason}` });
    // SCHEDULED goes with a RECURRING or ONE_TIME rule; NONE and EVENT with a NONE rule (§4.22, inferred).
    if ((input.type === 'SCHEDULED') !== (rule.type !== 'NONE')) {
      throw errors.badParameter(ctx.lang, {
        detail: `triggerRule.type ${rule.type} does not go with type ${input.type} (SCHEDULED needs RECURRING or ONE_TIME; ${input.type === 'SCHEDULED' ? 'EVENT and NONE need NONE' : `${input.type} needs NONE`})`,
      });
    }
    const now = ctx.app.clock.now();
    const row: TriggerRow = {
      id: newId(),
      account_id: ctx.identity.accountId,
      name: input.name,
      type: input.type,
      rule: JSON.stringify(rule),
      created_at: now,
      updated_at: now,
    };
    await ctx.tx(async (trx) => {
      if (!(await ctx.svc.repo.insertTrigger(trx, row))) {
        throw errors.badParameter(ctx.lang, { detail: `name: a trigger named ${input.name} already exists` });
      }
      await ctx.audit(trx, 'dataflow.trigger.create', `trigger/${row.id}`, { name: row.name, type: row.type, triggerRule: rule });
    });
    return triggerOut(row);
  },

  async deleteTrigger(ctx, input) {
    await ctx.tx(async (trx) => {
      // A trigger a workflow uses (drafts included) is `400 bad-state` (§1.6, inferred).
      const users = await ctx.svc.repo.workflowsOfTrigger(ctx.identity.accountId, input.triggerId, false, trx);
      if (users.length > 0) throw errors.badState(ctx.lang, { detail: `trigger ${input.triggerId} is used by workflow ${users[0]!.name}` });
      if (!(await ctx.svc.repo.deleteTrigger(trx, ctx.identity.accountId, input.triggerId))) {
        throw errors.triggerNotFound(ctx.lang, { triggerId: input.triggerId });
      }
      await ctx.audit(trx, 'dataflow.trigger.delete', `trigger/${input.triggerId}`);
    });
    return true;
  },
});
