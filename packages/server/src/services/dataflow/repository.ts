/** All of Data Flow's SQL. Methods take the database or a transaction. */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Store } from '../../store/db.js';
import { asDb, type Executor } from '../../store/schema.js';
import { binaryOrder, containsIgnoreCase } from '../../store/sql.js';
import type { CatalogRow, ConnectionRow, DataflowDatabase, ExecutionRow, JobRow, TriggerRow, WorkflowRow } from './tables.js';

/** A page of a list operation (§3.4). */
export interface Paging {
  page: number;
  limit: number;
}

export interface NameFilter extends Paging {
  accountId: string;
  /** Case-insensitive substring of the name (`%` and `_` are literal). */
  name?: string;
}

export interface JobFilter extends NameFilter {
  status?: string;
}

/** The tables whose lists page newest first. */
type Listed = 'dataflow_jobs' | 'dataflow_executions' | 'dataflow_triggers' | 'dataflow_workflows';

/** Execution states that hold one of the job's `maxConcurrentRuns` slots. */
export const ACTIVE_STATES = ['READY', 'RUNNING'] as const;

export class DataflowRepository {
  constructor(private readonly store: Store) {}

  private db(e: Executor = this.store.db): Kysely<DataflowDatabase> {
    return asDb<DataflowDatabase>(e);
  }

  /**
   * One page of what `q` selects, newest first (equal creation times by id in byte order, `ids`),
   * and the number of all of them (§3.4's `count`, inferred: the total).
   */
  private async newestFirst<T extends Listed>(q: SelectQueryBuilder<DataflowDatabase, T, object>, p: Paging, ids: 'asc' | 'desc' = 'asc'): Promise<{ rows: DataflowDatabase[T][]; count: number }> {
    const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy(sql.ref('created_at'), 'desc')
      .orderBy(binaryOrder(this.store.dialect, 'id'), ids)
      .limit(p.limit)
      .offset(p.page * p.limit)
      .execute();
    // selectAll() of one table T: its rows (Kysely cannot see that through the generic T).
    return { rows: rows as unknown as DataflowDatabase[T][], count: Number(count) };
  }

  /** One page of the account's jobs, newest first (ties by id, byte order), and the total count. */
  async listJobs(f: JobFilter, e?: Executor): Promise<{ rows: JobRow[]; count: number }> {
    let q = this.db(e).selectFrom('dataflow_jobs').where('account_id', '=', f.accountId);
    if (f.name) q = q.where(containsIgnoreCase('name', f.name));
    if (f.status) q = q.where('status', '=', f.status);
    return this.newestFirst(q, f);
  }

  async findJob(accountId: string, jobId: string, e?: Executor): Promise<JobRow | undefined> {
    return this.db(e).selectFrom('dataflow_jobs').selectAll().where('account_id', '=', accountId).where('id', '=', jobId).executeTakeFirst();
  }

  /** The job, its row locked until the transaction ends (PostgreSQL; SQLite's write transaction holds the database). */
  async lockJob(trx: Executor, accountId: string, jobId: string): Promise<JobRow | undefined> {
    let q = this.db(trx).selectFrom('dataflow_jobs').selectAll().where('account_id', '=', accountId).where('id', '=', jobId);
    if (this.store.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  async jobNameTaken(trx: Executor, accountId: string, name: string, exceptId?: string): Promise<boolean> {
    let q = this.db(trx).selectFrom('dataflow_jobs').select('id').where('account_id', '=', accountId).where('name', '=', name);
    if (exceptId) q = q.where('id', '<>', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  async insertJob(trx: Executor, row: JobRow): Promise<void> {
    await this.db(trx).insertInto('dataflow_jobs').values(row).execute();
  }

  async updateJob(trx: Executor, accountId: string, id: string, set: Partial<Omit<JobRow, 'id' | 'account_id'>>): Promise<void> {
    await this.db(trx).updateTable('dataflow_jobs').set(set).where('account_id', '=', accountId).where('id', '=', id).execute();
  }

  async deleteJob(trx: Executor, accountId: string, id: string): Promise<boolean> {
    const r = await this.db(trx).deleteFrom('dataflow_jobs').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    await this.db(trx).deleteFrom('dataflow_executions').where('account_id', '=', accountId).where('job_id', '=', id).execute();
    return Number(r.numDeletedRows) > 0;
  }

  // ── executions ──

  async insertExecution(trx: Executor, row: ExecutionRow): Promise<void> {
    await this.db(trx).insertInto('dataflow_executions').values(row).execute();
  }

  async activeExecutions(trx: Executor, jobId: string): Promise<number> {
    const r = await this.db(trx)
      .selectFrom('dataflow_executions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', jobId)
      .where('status', 'in', ACTIVE_STATES)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async listExecutions(accountId: string, jobId: string, page: number, limit: number, e?: Executor): Promise<{ rows: ExecutionRow[]; count: number }> {
    const q = this.db(e).selectFrom('dataflow_executions').where('account_id', '=', accountId).where('job_id', '=', jobId);
    return this.newestFirst(q, { page, limit }, 'desc');
  }

  async findExecution(accountId: string, jobId: string, id: string, e?: Executor): Promise<ExecutionRow | undefined> {
    return this.db(e)
      .selectFrom('dataflow_executions')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async getExecution(id: string, e?: Executor): Promise<ExecutionRow | undefined> {
    return this.db(e).selectFrom('dataflow_executions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async setExecutionTask(trx: Executor, id: string, taskId: number): Promise<void> {
    await this.db(trx).updateTable('dataflow_executions').set({ task_id: taskId }).where('id', '=', id).execute();
  }

  /** Compare-and-set of an execution's status; true when it was `from`. */
  async moveExecution(
    trx: Executor,
    id: string,
    from: readonly string[],
    set: Partial<Pick<ExecutionRow, 'status' | 'started_at' | 'ended_at' | 'error'>>,
  ): Promise<boolean> {
    const r = await this.db(trx).updateTable('dataflow_executions').set(set).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  // ── connections ──

  async insertConnection(trx: Executor, row: ConnectionRow): Promise<void> {
    await this.db(trx).insertInto('dataflow_connections').values(row).execute();
  }

  async findConnection(accountId: string, id: string, e?: Executor): Promise<ConnectionRow | undefined> {
    return this.db(e).selectFrom('dataflow_connections').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  }

  async listConnections(accountId: string, e?: Executor): Promise<ConnectionRow[]> {
    return this.db(e).selectFrom('dataflow_connections').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
  }

  // ── catalog ──

  async catalogVersions(accountId: string, database: string, table: string, e?: Executor): Promise<CatalogRow[]> {
    return this.db(e)
      .selectFrom('dataflow_catalog')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('database_name', '=', database)
      .where('table_name', '=', table)
      .orderBy('created_at')
      .execute();
  }

  async listCatalog(accountId: string, e?: Executor): Promise<CatalogRow[]> {
    return this.db(e).selectFrom('dataflow_catalog').selectAll().where('account_id', '=', accountId).orderBy('database_name').orderBy('table_name').orderBy('created_at').execute();
  }

  async insertCatalogVersion(trx: Executor, row: CatalogRow): Promise<void> {
    await this.db(trx).insertInto('dataflow_catalog').values(row).execute();
  }

  // ── triggers ──

  /** One page of the account's triggers, newest first (ties by id, byte order), and the total count. */
  async listTriggers(f: NameFilter, e?: Executor): Promise<{ rows: TriggerRow[]; count: number }> {
    let q = this.db(e).selectFrom('dataflow_triggers').where('account_id', '=', f.accountId);
    if (f.name) q = q.where(containsIgnoreCase('name', f.name));
    return this.newestFirst(q, f);
  }

  async findTrigger(accountId: string, triggerId: string, e?: Executor): Promise<TriggerRow | undefined> {
    return this.db(e).selectFrom('dataflow_triggers').selectAll().where('account_id', '=', accountId).where('id', '=', triggerId).executeTakeFirst();
  }

  /** Inserts the trigger; false (and nothing inserted) when the account has one of that name. */
  async insertTrigger(trx: Executor, row: TriggerRow): Promise<boolean> {
    const r = await this.db(trx)
      .insertInto('dataflow_triggers')
      .values(row)
      .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Deletes the trigger; false when the account has none with that id. */
  async deleteTrigger(trx: Executor, accountId: string, triggerId: string): Promise<boolean> {
    const r = await this.db(trx).deleteFrom('dataflow_triggers').where('account_id', '=', accountId).where('id', '=', triggerId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ── workflows ──

  /** One page of the account's workflows, newest first (ties by id, byte order), and the total count. */
  async listWorkflows(f: { accountId: string; page: number; limit: number }, e?: Executor): Promise<{ rows: WorkflowRow[]; count: number }> {
    const q = this.db(e).selectFrom('dataflow_workflows').where('account_id', '=', f.accountId);
    return this.newestFirst(q, f);
  }

  async findWorkflow(accountId: string, id: string, e?: Executor): Promise<WorkflowRow | undefined> {
    return this.db(e).selectFrom('dataflow_workflows').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  }

  /** The workflow, its row locked until the transaction ends (PostgreSQL). */
  async lockWorkflow(trx: Executor, accountId: string, id: string): Promise<WorkflowRow | undefined> {
    let q = this.db(trx).selectFrom('dataflow_workflows').selectAll().where('account_id', '=', accountId).where('id', '=', id);
    if (this.store.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /** Inserts the workflow; false (nothing inserted) when the account has one of that name. */
  async insertWorkflow(trx: Executor, row: WorkflowRow): Promise<boolean> {
    const r = await this.db(trx)
      .insertInto('dataflow_workflows')
      .values(row)
      .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async workflowNameTaken(trx: Executor, accountId: string, name: string, exceptId: string): Promise<boolean> {
    const r = await this.db(trx).selectFrom('dataflow_workflows').select('id').where('account_id', '=', accountId).where('name', '=', name).where('id', '<>', exceptId).executeTakeFirst();
    return r !== undefined;
  }

  async updateWorkflow(trx: Executor, accountId: string, id: string, set: Partial<Omit<WorkflowRow, 'id' | 'account_id'>>): Promise<void> {
    await this.db(trx).updateTable('dataflow_workflows').set(set).where('account_id', '=', accountId).where('id', '=', id).execute();
  }

  /** Deletes the workflow and its job links; false when the account has none with that id. */
  async deleteWorkflow(trx: Executor, accountId: string, id: string): Promise<boolean> {
    const r = await this.db(trx).deleteFrom('dataflow_workflows').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    await this.db(trx).deleteFrom('dataflow_workflow_jobs').where('workflow_id', '=', id).execute();
    return Number(r.numDeletedRows) > 0;
  }

  /** Replaces the set of jobs a workflow names. */
  async setWorkflowJobs(trx: Executor, accountId: string, workflowId: string, jobIds: readonly string[]): Promise<void> {
    await this.db(trx).deleteFrom('dataflow_workflow_jobs').where('workflow_id', '=', workflowId).execute();
    const unique = [...new Set(jobIds)];
    if (unique.length > 0) {
      await this.db(trx)
        .insertInto('dataflow_workflow_jobs')
        .values(unique.map((job_id) => ({ workflow_id: workflowId, account_id: accountId, job_id })))
        .execute();
    }
  }

  /** The account's workflows whose TRIGGER node is `triggerId` (finalized ones only with `finalOnly`). */
  async workflowsOfTrigger(accountId: string, triggerId: string, finalOnly: boolean, e?: Executor): Promise<WorkflowRow[]> {
    let q = this.db(e).selectFrom('dataflow_workflows').selectAll().where('account_id', '=', accountId).where('trigger_id', '=', triggerId);
    if (finalOnly) q = q.where('is_temp', '=', 0);
    return q.orderBy('created_at').orderBy(binaryOrder(this.store.dialect, 'id')).execute();
  }

  /** The name of a workflow of the account whose JOB nodes name `jobId`, if any. */
  async workflowUsingJob(accountId: string, jobId: string, e?: Executor): Promise<string | undefined> {
    const r = await this.db(e)
      .selectFrom('dataflow_workflow_jobs as l')
      .innerJoin('dataflow_workflows as w', 'w.id', 'l.workflow_id')
      .select('w.name')
      .where('l.account_id', '=', accountId)
      .where('l.job_id', '=', jobId)
      .executeTakeFirst();
    return r?.name;
  }

  /** Every (account, trigger) pair that a finalized workflow starts from. */
  async scheduledTriggers(e?: Executor): Promise<Array<{ account_id: string; trigger_id: string }>> {
    const rows = await this.db(e)
      .selectFrom('dataflow_workflows')
      .select(['account_id', 'trigger_id'])
      .distinct()
      .where('is_temp', '=', 0)
      .where('trigger_id', 'is not', null)
      .execute();
    return rows.map((r) => ({ account_id: r.account_id, trigger_id: r.trigger_id! }));
  }

  async triggersByIds(accountId: string, ids: readonly string[], e?: Executor): Promise<TriggerRow[]> {
    if (ids.length === 0) return [];
    return this.db(e).selectFrom('dataflow_triggers').selectAll().where('account_id', '=', accountId).where('id', 'in', [...new Set(ids)]).execute();
  }

  async jobsByIds(accountId: string, ids: readonly string[], e?: Executor): Promise<JobRow[]> {
    if (ids.length === 0) return [];
    return this.db(e).selectFrom('dataflow_jobs').selectAll().where('account_id', '=', accountId).where('id', 'in', [...new Set(ids)]).execute();
  }

  /** One page of the executions a workflow started, newest first. */
  async listWorkflowExecutions(accountId: string, workflowId: string, page: number, limit: number, e?: Executor): Promise<{ rows: ExecutionRow[]; count: number }> {
    const q = this.db(e).selectFrom('dataflow_executions').where('account_id', '=', accountId).where('workflow_id', '=', workflowId);
    return this.newestFirst(q, { page, limit }, 'desc');
  }

  // ── dashboard (§1.8): counted in SQL over the account's executions, by creation time ──

  /** Executions created in [from, to]: all, COMPLETED, FAILED. */
  async executionTotals(accountId: string, from: number, to: number): Promise<{ total: number; completed: number; failed: number }> {
    const r = await this.db()
      .selectFrom('dataflow_executions')
      .select([
        sql<number>`count(*)`.as('total'),
        sql<number>`coalesce(sum(case when status = 'COMPLETED' then 1 else 0 end), 0)`.as('completed'),
        sql<number>`coalesce(sum(case when status = 'FAILED' then 1 else 0 end), 0)`.as('failed'),
      ])
      .where('account_id', '=', accountId)
      .where('created_at', '>=', from)
      .where('created_at', '<=', to)
      .executeTakeFirstOrThrow();
    return { total: Number(r.total), completed: Number(r.completed), failed: Number(r.failed) };
  }

  /**
   * Executions created in [from, to] counted per bucket: bucket = floor((created_at' + shift) / width),
   * where created_at' is created_at rounded down to `roundMs` (integer arithmetic in both dialects;
   * the constants are the server's own numbers, written as literals so both divide as integers).
   */
  async executionBuckets(accountId: string, from: number, to: number, b: { roundMs: number; shiftMs: number; widthMs: number }): Promise<Map<number, number>> {
    const lit = (n: number) => sql.lit(Math.trunc(n));
    const bucket = sql<number>`((created_at / ${lit(b.roundMs)}) * ${lit(b.roundMs)} + ${lit(b.shiftMs)}) / ${lit(b.widthMs)}`;
    const rows = await this.db()
      .selectFrom('dataflow_executions')
      .select([bucket.as('bucket'), sql<number>`count(*)`.as('n')])
      .where('account_id', '=', accountId)
      .where('created_at', '>=', from)
      .where('created_at', '<=', to)
      .groupBy(bucket)
      .execute();
    return new Map(rows.map((r) => [Number(r.bucket), Number(r.n)]));
  }
}
