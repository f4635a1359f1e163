/** All of Datafence's SQL. Methods take the database or a transaction. */
import type { Kysely } from 'kysely';
import { asDb, type Executor } from '../../store/schema.js';
import type { DatafenceDatabase, FenceRow } from './tables.js';

type Db = Kysely<DatafenceDatabase>;

export class DatafenceRepository {
  constructor(private readonly root: Executor) {}

  private db(e: Executor = this.root): Db {
    return asDb<DatafenceDatabase>(e);
  }

  async insertFence(trx: Executor, row: Omit<FenceRow, 'id'>): Promise<number> {
    const { id } = await this.db(trx).insertInto('fences').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(id);
  }

  async setReviewBucket(trx: Executor, fenceId: number, bucket: string): Promise<void> {
    await this.db(trx).updateTable('fences').set({ export_bucket: bucket }).where('id', '=', fenceId).execute();
  }

  async listFences(accountId: string, e?: Executor): Promise<FenceRow[]> {
    const rows = await this.db(e).selectFrom('fences').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async listAllFences(e?: Executor): Promise<FenceRow[]> {
    const rows = await this.db(e).selectFrom('fences').selectAll().orderBy('id').execute();
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /** The account's fence, or undefined (also for another account's fence). */
  async findFence(accountId: string, fenceId: number, e?: Executor): Promise<FenceRow | undefined> {
    const r = await this.db(e)
      .selectFrom('fences')
      .selectAll()
      .where('id', '=', fenceId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && { ...r, id: Number(r.id) };
  }

  async customImages(fenceId: number, productCode: string, e?: Executor) {
    return this.db(e)
      .selectFrom('custom_images')
      .selectAll()
      .where('fence_id', '=', fenceId)
      .where('product_code', '=', productCode)
      .orderBy('image_no')
      .execute();
  }
}
