/** Data Flow handlers: one function per operation of `dataflowOps`. Behaviour only. */
import { randomInt } from 'node:crypto';
import { dataflowOps } from '@stockade/sdk';
import { handlersFor } from '../../platform/service.js';
import { auditResource } from '../../store/audit.js';
import { kstIsoMillis } from '../time.js';
import { errors } from './errors.js';
import { isProblem, parseRule, type TriggerRule } from './schedule.js';
import type { DataflowService } from './service.js';
import type { TriggerRow } from './tables.js';

const iso = (ms: number | null) => (ms === null ? null : kstIsoMillis(ms));

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A resource id as Data Flow makes them (§3.2): 12 alphanumeric characters. */
const newResourceId = () => Array.from({ length: 12 }, () => ALNUM[randomInt(ALNUM.length)]).join('');

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
    const doc = JSON.parse(r.doc) as { nodes: unknown[]; runCondition: Record<string, unknown>; maxConcurrentRuns: number };
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
      id: newResourceId(),
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
      await ctx.audit(trx, 'dataflow.trigger.create', auditResource('dataflow', 'trigger', row.id), { name: row.name, type: row.type, triggerRule: rule });
    });
    return triggerOut(row);
  },

  async deleteTrigger(ctx, input) {
    await ctx.tx(async (trx) => {
      // Workflows are not served yet, so no workflow can reference a trigger: `bad-state` (a trigger
      // a workflow uses) comes with them.
      if (!(await ctx.svc.repo.deleteTrigger(trx, ctx.identity.accountId, input.triggerId))) {
        throw errors.triggerNotFound(ctx.lang, { triggerId: input.triggerId });
      }
      await ctx.audit(trx, 'dataflow.trigger.delete', auditResource('dataflow', 'trigger', input.triggerId));
    });
    return true;
  },
});
