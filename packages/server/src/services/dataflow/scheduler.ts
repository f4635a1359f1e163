/**
 * Data Flow's scheduler: workflows started by their trigger (dataflow.md §1.6, §1.7).
 *
 * **How due triggers are found: the task queue is the schedule.** Every trigger that a finalized
 * workflow starts from has exactly one pending firing task (`dataflow.fire`) queued for its next due
 * time, with the dedupe key `trigger/<triggerId>@<due, KST ISO>`. Nothing scans for due triggers:
 * the platform runner claims the firing when it becomes due (FOR UPDATE SKIP LOCKED on PostgreSQL,
 * so of several processes exactly one runs it, and a lease expiry hands a crashed process's firing
 * to another). The firing is queued
 *  - by createWorkflow / updateWorkflow (a finalized workflow with a scheduled trigger), in the
 *    request's transaction, for the trigger's next due time after now;
 *  - by each firing, in the transaction that completes it, for the next due time after
 *    max(its own due time, now);
 *  - at server start, for every trigger a finalized workflow uses (repairs a chain whose task
 *    failed for good; a no-op when the firing is already queued, by its dedupe key).
 * Since every due time lies on the rule's grid, the chains of one trigger enqueued by different
 * paths meet on the same keys: one firing per (trigger, due time) however many processes enqueue it.
 *
 * **A firing** (one task per trigger and due time) starts, in ONE transaction with the task's
 * completion, every finalized workflow of the trigger: each JOB node whose parent is the TRIGGER
 * node gets an execution of type WORKFLOW with `triggerId`/`triggerName`/`workflowId`, the node's
 * `jobCondition` over the job's `runCondition`, and its `dataflow.execute` task; the workflow's
 * `lastExecutionDate` is set. A process killed before that commit changes nothing (the lease
 * expires, another process runs the firing); after it, the task is done: exactly once.
 * A workflow deleted (or moved to another trigger) stops being fired; a trigger no finalized
 * workflow uses ends its chain (it is queued again when a workflow uses it again).
 *
 * **Chained jobs** (inferred extension, §1.7): a JOB node whose parent is another JOB node starts
 * when its parent's execution of the same workflow run ends COMPLETED (finishExecution calls
 * `startChildren` in the transaction that ends the parent); a FAILED or CANCELED parent starts
 * nothing below it.
 *
 * **A job that cannot start** (no longer executable, or at its `maxConcurrentRuns`) when its
 * workflow fires gets an execution that is FAILED at once with the reason, so the dashboard and
 * getWorkflowExecutions show the run was due and did not happen (never skipped silently; inferred).
 *
 * **Missed firings** (`--missed-firings`, config `missedFirings`): a firing that runs more than
 * MISSED_AFTER_MS after its due time (the server was down, or every process was busy) was missed.
 * `once` (default): it runs once, late, and stands for every due time missed meanwhile (the next
 * firing is the first due time after now), so a week of downtime gives one catch-up run, not 168.
 * `skip`: a missed firing starts nothing; the next due time after now is queued.
 * A ONE_TIME trigger whose date is already past when the workflow is saved never fires.
 */
import { Type } from '@sinclair/typebox';
import { taskFor } from '../../platform/service.js';
import { SYSTEM_ACTOR } from '../../store/audit.js';
import type { Executor } from '../../store/schema.js';
import { kstIso } from '../time.js';
import { consoleLogPathOf } from './engine.js';
import { isProblem, nextDue, parseRule } from '@stockade/sdk';
import { EXECUTE_KIND } from './tasks.js';
import { EXECUTION_LIFECYCLE, newId, type DataflowService, type JobDoc, type RunCondition } from './service.js';
import type { ExecutionRow, JobRow, TriggerRow, WorkflowRow } from './tables.js';

export const FIRE_KIND = 'dataflow.fire';
/** A firing that runs this long after its due time was missed (see `--missed-firings`). */
export const MISSED_AFTER_MS = 60_000;
/** The dedupe key of a trigger's firing at `dueAt`: one task per (trigger, due time). */
export const fireKey = (triggerId: string, dueAt: number): string => `trigger/${triggerId}@${kstIso(dueAt)}`;

export type MissedFirings = 'once' | 'skip';

/** A workflow node as stored (§1.7). */
export interface WorkflowNodeDoc {
  id: string;
  name: string;
  type: 'TRIGGER' | 'JOB';
  parentNodeIds: string[];
  triggerRule?: string | null;
  jobCondition?: Partial<RunCondition>;
}

/** Statuses from which a job may not be executed (as executeJob, §1.2.1, inferred). */
export const NOT_EXECUTABLE = new Set(['DRAFT', 'EDITING', 'DELETED', 'STOPPED', 'UNKNOWN']);

/** Queues the trigger's firing at its next due time after `after` (nothing for NONE/EVENT or a past ONE_TIME). */
export async function scheduleNext(svc: DataflowService, trx: Executor, trigger: TriggerRow, after: number): Promise<number | null> {
  if (trigger.type !== 'SCHEDULED') return null;
  const schedule = parseRule(JSON.parse(trigger.rule) as never);
  if (isProblem(schedule)) return null;
  const due = nextDue(schedule, after);
  if (due === null) return null;
  await svc.app.runner.enqueue(FIRE_KIND, { accountId: trigger.account_id, triggerId: trigger.id, dueAt: due }, { db: trx, dueAt: due, dedupeKey: fireKey(trigger.id, due) });
  return due;
}

/** At start: a queued firing for every trigger a finalized workflow uses (no-op where one is queued). */
export async function ensureScheduled(svc: DataflowService): Promise<void> {
  const pairs = await svc.repo.scheduledTriggers();
  const now = svc.app.clock.now();
  for (const p of pairs) {
    await svc.app.store.tx(async (trx) => {
      const [t] = await svc.repo.triggersByIds(p.account_id, [p.trigger_id], trx);
      if (t) await scheduleNext(svc, trx, t, now);
    });
  }
  if (pairs.length > 0) svc.app.runner.wake();
}

/**
 * Creates one execution of `job` for a workflow run and queues its task (as executeJob does), or
 * a FAILED execution when the job cannot start now.
 */
async function startJob(
  svc: DataflowService,
  trx: Executor,
  job: JobRow,
  node: WorkflowNodeDoc,
  run: { workflowId: string; triggerId: string | null; triggerName: string | null; now: number },
): Promise<ExecutionRow> {
  const doc = JSON.parse(job.doc) as JobDoc;
  // The node's jobCondition over the job's runCondition; parameters merged (§1.4, as executeJob).
  const given = node.jobCondition ?? {};
  const cond: RunCondition = { ...doc.runCondition };
  for (const k of ['workerType', 'numWorker', 'timeout', 'nrn', 'scriptPath', 'logPath'] as const) {
    if (given[k] !== undefined) (cond as unknown as Record<string, unknown>)[k] = given[k];
  }
  const parameters = { ...(doc.runCondition.parameters ?? {}), ...(given.parameters ?? {}) };
  const { parameters: _p, ...stored } = cond;
  const id = newId();
  let refusal: string | null = null;
  if (NOT_EXECUTABLE.has(job.status)) refusal = `job ${job.id} is ${job.status}: it cannot be executed`;
  else {
    const active = await svc.repo.activeExecutions(trx, job.id);
    if (active >= doc.maxConcurrentRuns) refusal = `job ${job.id} already has ${active} execution(s) in progress (maxConcurrentRuns ${doc.maxConcurrentRuns})`;
  }
  const exec: ExecutionRow = {
    id,
    account_id: job.account_id,
    job_id: job.id,
    job_name: job.name,
    job_type: job.type,
    type: 'WORKFLOW',
    status: refusal ? 'FAILED' : 'READY',
    condition: JSON.stringify({ ...stored, consoleLogPath: consoleLogPathOf(cond, id) }),
    parameters: JSON.stringify(parameters),
    plan: JSON.stringify(doc.nodes),
    executor_num: cond.numWorker,
    trigger_id: run.triggerId,
    trigger_name: run.triggerName,
    workflow_id: run.workflowId,
    error: refusal,
    task_id: null,
    created_at: run.now,
    started_at: null,
    ended_at: refusal ? run.now : null,
  };
  await svc.repo.insertExecution(trx, exec);
  if (!refusal) {
    await svc.repo.updateJob(trx, job.account_id, job.id, { status: 'RUNNING', last_execution_status: 'READY', last_execution_at: run.now });
    const taskId = await svc.app.runner.enqueue(
      EXECUTE_KIND,
      { executionId: id },
      { db: trx, dueAt: svc.app.lifecycle.dueAt(EXECUTION_LIFECYCLE, run.now), dedupeKey: `${EXECUTE_KIND}:${id}` },
    );
    await svc.repo.setExecutionTask(trx, id, taskId);
    exec.task_id = taskId;
  }
  await svc.app.audit.record(trx, {
    ...SYSTEM_ACTOR,
    accountId: job.account_id,
    clientAddress: null,
    requestId: null,
    action: 'dataflow.workflow.start-job',
    resource: `workflow/${run.workflowId}/job/${job.id}/execution/${id}`,
    detail: { triggerId: run.triggerId, ...(refusal ? { error: refusal } : {}) },
  });
  return exec;
}

/** Starts the JOB nodes under `parentId` (the TRIGGER node's id, or a JOB node's). */
async function startNodesUnder(
  svc: DataflowService,
  trx: Executor,
  wf: WorkflowRow,
  parentId: string,
  run: { triggerId: string | null; triggerName: string | null; now: number },
): Promise<ExecutionRow[]> {
  const nodes = (JSON.parse(wf.nodes) as WorkflowNodeDoc[]).filter((n) => n.type === 'JOB' && n.parentNodeIds.includes(parentId));
  if (nodes.length === 0) return [];
  const jobs = new Map((await svc.repo.jobsByIds(wf.account_id, nodes.map((n) => n.id), trx)).map((j) => [j.id, j]));
  const out: ExecutionRow[] = [];
  for (const n of nodes) {
    // Jobs a workflow uses cannot be deleted (bad-state), so a missing one is not expected; nothing to start.
    const job = jobs.get(n.id) ?? (await svc.repo.lockJob(trx, wf.account_id, n.id));
    if (job) out.push(await startJob(svc, trx, job, n, { ...run, workflowId: wf.id }));
  }
  return out;
}

/** One run of a workflow: the JOB nodes under its trigger start; `lastExecutionDate` is now. */
export async function startWorkflow(svc: DataflowService, trx: Executor, wf: WorkflowRow, trigger: TriggerRow, now: number): Promise<ExecutionRow[]> {
  const started = await startNodesUnder(svc, trx, wf, trigger.id, { triggerId: trigger.id, triggerName: trigger.name, now });
  await svc.repo.updateWorkflow(trx, wf.account_id, wf.id, { last_execution_at: now });
  return started;
}

/**
 * Called in the transaction that ends an execution: a COMPLETED execution of a workflow run starts
 * the JOB nodes chained under its job in that workflow, in the same run (same trigger).
 */
export async function startChildren(svc: DataflowService, trx: Executor, exec: ExecutionRow, status: string): Promise<void> {
  if (status !== 'COMPLETED' || exec.workflow_id === null) return;
  const wf = await svc.repo.findWorkflow(exec.account_id, exec.workflow_id, trx);
  if (!wf || wf.is_temp) return;
  await startNodesUnder(svc, trx, wf, exec.job_id, { triggerId: exec.trigger_id, triggerName: exec.trigger_name, now: svc.app.clock.now() });
}

export const fire = taskFor<DataflowService>()({
  kind: FIRE_KIND,
  payload: Type.Object({
    accountId: Type.String({ minLength: 1, maxLength: 64 }),
    triggerId: Type.String({ minLength: 1, maxLength: 64 }),
    dueAt: Type.Integer({ minimum: 0 }),
  }),
  concurrency: 4,
  maxAttempts: 5,
  // One row per firing: kept a day (the dedupe key only has to outlive enqueues of the same due
  // time, which all happen before it is due), not the platform's week.
  retentionMs: 24 * 3600_000,
  async run(svc, p, ctx) {
    await ctx.complete(async (trx) => {
      const now = svc.app.clock.now();
      const [trigger] = await svc.repo.triggersByIds(p.accountId, [p.triggerId], trx);
      if (!trigger) return;
      const workflows = await svc.repo.workflowsOfTrigger(p.accountId, p.triggerId, true, trx);
      if (workflows.length === 0) return; // the chain ends; a workflow using the trigger again queues it
      const missed = now - p.dueAt > MISSED_AFTER_MS;
      const fires = !missed || svc.missedFirings === 'once';
      if (fires) {
        for (const wf of workflows) await startWorkflow(svc, trx, wf, trigger, now);
      }
      await svc.app.audit.record(trx, {
        ...SYSTEM_ACTOR,
        accountId: p.accountId,
        clientAddress: null,
        requestId: null,
        action: fires ? 'dataflow.trigger.fire' : 'dataflow.trigger.missed',
        resource: `trigger/${p.triggerId}`,
        detail: { dueAt: kstIso(p.dueAt), workflows: workflows.map((w) => w.id), ...(missed ? { late: true } : {}) },
      });
      await scheduleNext(svc, trx, trigger, Math.max(p.dueAt, now));
    });
  },
});
