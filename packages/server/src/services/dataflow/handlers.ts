/** Data Flow handlers: one function per operation of `dataflowOps`. */
import { dataflowOps } from '@stockade/sdk';
import { ApiError } from '../../gateway/errors.js';
import { defineHandlers } from '../../gateway/handler.js';
import { t } from '../../gateway/i18n.js';
import { kstIsoMillis } from '../time.js';

const iso = (ms: number | null) => (ms === null ? null : kstIsoMillis(ms));

export const dataflowHandlers = defineHandlers(dataflowOps, {
  async getJobs(ctx, input) {
    const page = input.page ?? 0;
    const limit = input.limit ?? 1000;
    let q = ctx.app.store.db.selectFrom('dataflow_jobs').where('account_id', '=', ctx.identity.accountId);
    // Name filter: case-insensitive substring (dataflow.md §3.4, inferred).
    if (input.name) q = q.where((eb) => eb(eb.fn('lower', ['name']), 'like', `%${input.name!.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`));
    if (input.status) q = q.where('status', '=', input.status);
    const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .offset(page * limit)
      .execute();
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
      count: Number(count),
      page,
      limit,
    };
  },

  async getJobById(ctx, input) {
    const r = await ctx.app.store.db
      .selectFrom('dataflow_jobs')
      .selectAll()
      .where('account_id', '=', ctx.identity.accountId)
      .where('id', '=', input.jobId)
      .executeTakeFirst();
    if (!r) throw new ApiError(404, 'resource-not-found/job', t(ctx.lang, 'job.notFound', { jobId: input.jobId }));
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
