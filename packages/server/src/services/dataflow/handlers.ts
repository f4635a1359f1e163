/** Data Flow handlers: one function per operation of `dataflowOps`. Behaviour only. */
import { dataflowOps } from '@stockade/sdk';
import { handlersFor } from '../../platform/service.js';
import { kstIsoMillis } from '../time.js';
import { errors } from './errors.js';
import type { DataflowService } from './service.js';

const iso = (ms: number | null) => (ms === null ? null : kstIsoMillis(ms));

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
});
