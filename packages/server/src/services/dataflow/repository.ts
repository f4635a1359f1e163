/** All of Data Flow's SQL. Methods take the database or a transaction. */
import type { Kysely } from 'kysely';
import type { Store } from '../../store/db.js';
import { asDb, type Executor } from '../../store/schema.js';
import { binaryOrder, containsIgnoreCase } from '../../store/sql.js';
import type { DataflowDatabase, JobRow, TriggerRow } from './tables.js';

export interface JobFilter {
  accountId: string;
  /** Case-insensitive substring of the name (`%` and `_` are literal). */
  name?: string;
  status?: string;
  page: number;
  limit: number;
}

export interface NameFilter {
  accountId: string;
  /** Case-insensitive substring of the name (`%` and `_` are literal). */
  name?: string;
  page: number;
  limit: number;
}

export class DataflowRepository {
  constructor(private readonly store: Store) {}

  private db(e: Executor = this.store.db): Kysely<DataflowDatabase> {
    return asDb<DataflowDatabase>(e);
  }

  /** One page of the account's jobs, newest first (ties by id, byte order), and the total count. */
  async listJobs(f: JobFilter, e?: Executor): Promise<{ rows: JobRow[]; count: number }> {
    let q = this.db(e).selectFrom('dataflow_jobs').where('account_id', '=', f.accountId);
    if (f.name) q = q.where(containsIgnoreCase('name', f.name));
    if (f.status) q = q.where('status', '=', f.status);
    const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy(binaryOrder(this.store.dialect, 'id'))
      .limit(f.limit)
      .offset(f.page * f.limit)
      .execute();
    return { rows, count: Number(count) };
  }

  async findJob(accountId: string, jobId: string, e?: Executor): Promise<JobRow | undefined> {
    return this.db(e).selectFrom('dataflow_jobs').selectAll().where('account_id', '=', accountId).where('id', '=', jobId).executeTakeFirst();
  }

  async insertJob(trx: Executor, row: JobRow): Promise<void> {
    await this.db(trx).insertInto('dataflow_jobs').values(row).execute();
  }

  /** One page of the account's triggers, newest first (ties by id, byte order), and the total count. */
  async listTriggers(f: NameFilter, e?: Executor): Promise<{ rows: TriggerRow[]; count: number }> {
    let q = this.db(e).selectFrom('dataflow_triggers').where('account_id', '=', f.accountId);
    if (f.name) q = q.where(containsIgnoreCase('name', f.name));
    const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy(binaryOrder(this.store.dialect, 'id'))
      .limit(f.limit)
      .offset(f.page * f.limit)
      .execute();
    return { rows, count: Number(count) };
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
}
