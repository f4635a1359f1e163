/** All of Datafence's SQL. Methods take the database or a transaction. */
import { sql, type Kysely } from 'kysely';
import { asDb, type Executor } from '../../store/schema.js';
import type { BoxRow, DatafenceDatabase, ExportRow, FenceRow, ImportRow, InfraHistoryRow, InfraRow, VoteRow } from './tables.js';

type Db = Kysely<DatafenceDatabase>;

/** Statuses of a resource on its way somewhere (a transition task will move it on). */
export const TRANSITIONAL = ['INITIALIZE', 'ING', 'RETURN'] as const;

export interface Page {
  page: number;
  size: number;
}

/** The filters of the import, export and review lists: a status, a request-time window (ms, inclusive). */
export interface RequestFilter {
  status?: string;
  from?: number;
  to?: number;
}

export interface Paged<T> {
  total: number;
  rows: T[];
}

/** Which boxes a listing may show: every box of the fence, or only these (a box-user key's). */
export type BoxScope = { all: true } | { all: false; boxIds: number[] };

const fence = (r: FenceRow): FenceRow => ({ ...r, id: Number(r.id), box_seq: Number(r.box_seq), version: Number(r.version) });
const box = (r: BoxRow): BoxRow => ({
  ...r,
  id: Number(r.id),
  fence_id: Number(r.fence_id),
  version: Number(r.version),
  web_block: Number(r.web_block),
  ended_at: r.ended_at === null ? null : Number(r.ended_at),
});
const orNum = (v: number | null): number | null => (v === null ? null : Number(v));
const importRow = (r: ImportRow): ImportRow => ({
  ...r,
  id: Number(r.id),
  fence_id: Number(r.fence_id),
  box_id: Number(r.box_id),
  nas_instance_no: Number(r.nas_instance_no),
  size: orNum(r.size),
  created_at: Number(r.created_at),
  completed_at: orNum(r.completed_at),
});
const exportRow = (r: ExportRow): ExportRow => ({
  ...r,
  id: Number(r.id),
  fence_id: Number(r.fence_id),
  box_id: Number(r.box_id),
  nas_instance_no: Number(r.nas_instance_no),
  approvals_required: Number(r.approvals_required),
  size: orNum(r.size),
  created_at: Number(r.created_at),
  result_at: orNum(r.result_at),
  completed_at: orNum(r.completed_at),
});
const item = (r: InfraRow): InfraRow => ({
  ...r,
  id: Number(r.id),
  fence_id: Number(r.fence_id),
  box_id: orNum(r.box_id),
  instance_no: Number(r.instance_no),
  block_storage_no: orNum(r.block_storage_no),
  block_storage_size: orNum(r.block_storage_size),
  nas_size: orNum(r.nas_size),
  storage_id: orNum(r.storage_id),
  ended_at: orNum(r.ended_at),
});
const history = (r: InfraHistoryRow): InfraHistoryRow => ({
  ...r,
  id: Number(r.id),
  fence_id: Number(r.fence_id),
  box_id: orNum(r.box_id),
  infra_id: orNum(r.infra_id),
  instance_no: Number(r.instance_no),
});

export class DatafenceRepository {
  constructor(private readonly root: Executor) {}

  private db(e: Executor = this.root): Db {
    return asDb<DatafenceDatabase>(e);
  }

  // ── fences ────────────────────────────────────────────────────────────────────────────────

  async insertFence(trx: Executor, row: Omit<FenceRow, 'id'>): Promise<number> {
    const { id } = await this.db(trx).insertInto('fences').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(id);
  }

  async setReviewBucket(trx: Executor, fenceId: number, bucket: string): Promise<void> {
    await this.db(trx).updateTable('fences').set({ export_bucket: bucket }).where('id', '=', fenceId).execute();
  }

  async listFences(accountId: string, e?: Executor): Promise<FenceRow[]> {
    const rows = await this.db(e).selectFrom('fences').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
    return rows.map(fence);
  }

  async listAllFences(e?: Executor): Promise<FenceRow[]> {
    const rows = await this.db(e).selectFrom('fences').selectAll().orderBy('id').execute();
    return rows.map(fence);
  }

  /** The account's fence, or undefined (also for another account's fence). */
  async findFence(accountId: string, fenceId: number, e?: Executor): Promise<FenceRow | undefined> {
    const r = await this.db(e)
      .selectFrom('fences')
      .selectAll()
      .where('id', '=', fenceId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && fence(r);
  }

  async getFence(e: Executor, fenceId: number): Promise<FenceRow | undefined> {
    const r = await this.db(e).selectFrom('fences').selectAll().where('id', '=', fenceId).executeTakeFirst();
    return r && fence(r);
  }

  /**
   * Takes the next box number of a fence in USE (`box{n}`); undefined when the fence is not in
   * USE. On PostgreSQL the update also locks the fence row until the transaction ends, so box
   * creations in one fence (and their count against the limit) happen one at a time.
   */
  async nextBoxNumber(trx: Executor, fenceId: number): Promise<number | undefined> {
    const r = await this.db(trx)
      .updateTable('fences')
      .set((eb) => ({ box_seq: eb('box_seq', '+', 1) }))
      .where('id', '=', fenceId)
      .where('status', '=', 'USE')
      .returning('box_seq')
      .executeTakeFirst();
    return r && Number(r.box_seq);
  }

  /** USE → `to` (ING), compare-and-set on status and version; the new version, or undefined. */
  async beginFenceTransition(trx: Executor, f: FenceRow, to: string, description?: string): Promise<number | undefined> {
    const r = await this.db(trx)
      .updateTable('fences')
      .set((eb) => ({ status: to, version: eb('version', '+', 1), ...(description !== undefined ? { description } : {}) }))
      .where('id', '=', f.id)
      .where('status', '=', 'USE')
      .where('version', '=', f.version)
      .returning('version')
      .executeTakeFirst();
    return r && Number(r.version);
  }

  /** Ends the transition `version` (from → to); false when it was already ended. */
  async finishFenceTransition(trx: Executor, fenceId: number, version: number, from: string, to: string): Promise<boolean> {
    const r = await this.db(trx)
      .updateTable('fences')
      .set({ status: to })
      .where('id', '=', fenceId)
      .where('version', '=', version)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ── boxes ─────────────────────────────────────────────────────────────────────────────────

  async insertBox(trx: Executor, row: Omit<BoxRow, 'id'>): Promise<number> {
    const { id } = await this.db(trx).insertInto('boxes').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(id);
  }

  async getBox(e: Executor, boxId: number): Promise<BoxRow | undefined> {
    const r = await this.db(e).selectFrom('boxes').selectAll().where('id', '=', boxId).executeTakeFirst();
    return r && box(r);
  }

  /** The box of the account's fence, or undefined. */
  async findBox(accountId: string, fenceId: number, boxId: number, e?: Executor): Promise<BoxRow | undefined> {
    const r = await this.db(e)
      .selectFrom('boxes')
      .selectAll()
      .where('id', '=', boxId)
      .where('fence_id', '=', fenceId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && box(r);
  }

  async countLiveBoxes(e: Executor, fenceId: number): Promise<number> {
    const r = await this.db(e)
      .selectFrom('boxes')
      .select(sql<number>`count(*)`.as('n'))
      .where('fence_id', '=', fenceId)
      .where('status', '<>', 'TERMINATE')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Live boxes per fence of the account (only `scope`'s boxes for a box-user key). */
  async liveBoxCounts(accountId: string, scope: BoxScope, e?: Executor): Promise<Map<number, number>> {
    if (!scope.all && scope.boxIds.length === 0) return new Map();
    let q = this.db(e)
      .selectFrom('boxes')
      .select(['fence_id', sql<number>`count(*)`.as('n')])
      .where('account_id', '=', accountId)
      .where('status', '<>', 'TERMINATE');
    if (!scope.all) q = q.where('id', 'in', scope.boxIds);
    const rows = await q.groupBy('fence_id').execute();
    return new Map(rows.map((r) => [Number(r.fence_id), Number(r.n)]));
  }

  /** A fence's boxes, oldest first (`live`: without TERMINATE) or newest first (the history). */
  async pageBoxes(fenceId: number, scope: BoxScope, opts: Page & { live: boolean }, e?: Executor): Promise<Paged<BoxRow>> {
    if (!scope.all && scope.boxIds.length === 0) return { total: 0, rows: [] };
    let q = this.db(e).selectFrom('boxes').where('fence_id', '=', fenceId);
    if (opts.live) q = q.where('status', '<>', 'TERMINATE');
    if (!scope.all) q = q.where('id', 'in', scope.boxIds);
    const { n } = await q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('id', opts.live ? 'asc' : 'desc')
      .limit(opts.size)
      .offset(opts.page * opts.size)
      .execute();
    return { total: Number(n), rows: rows.map(box) };
  }

  /**
   * USE → `to`, compare-and-set on status and version (another change that got there first wins);
   * the new version, or undefined.
   */
  async beginBoxTransition(trx: Executor, b: BoxRow, to: string, description?: string): Promise<number | undefined> {
    const r = await this.db(trx)
      .updateTable('boxes')
      .set((eb) => ({ status: to, version: eb('version', '+', 1), ...(description !== undefined ? { description } : {}) }))
      .where('id', '=', b.id)
      .where('status', '=', 'USE')
      .where('version', '=', b.version)
      .returning('version')
      .executeTakeFirst();
    return r && Number(r.version);
  }

  /** Ends the transition `version` (from → to); false when it was already ended. */
  async finishBoxTransition(
    trx: Executor,
    boxId: number,
    version: number,
    from: string,
    to: string,
    set: { web_block?: number; ended_at?: number } = {},
  ): Promise<boolean> {
    const r = await this.db(trx)
      .updateTable('boxes')
      .set({ status: to, ...set })
      .where('id', '=', boxId)
      .where('version', '=', version)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ── infrastructure items ──────────────────────────────────────────────────────────────────

  async insertItem(trx: Executor, row: Omit<InfraRow, 'id'>): Promise<number> {
    const { id } = await this.db(trx).insertInto('infra').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(id);
  }

  async updateItem(trx: Executor, id: number, patch: Partial<Omit<InfraRow, 'id'>>): Promise<void> {
    await this.db(trx).updateTable('infra').set(patch).where('id', '=', id).execute();
  }

  /** The items of a fence (`boxId` null) or a box, oldest first; `live`: not TERMINATE. */
  async items(e: Executor | undefined, fenceId: number, boxId: number | null, opts: { live?: boolean } = {}): Promise<InfraRow[]> {
    let q = this.db(e).selectFrom('infra').selectAll().where('fence_id', '=', fenceId);
    q = boxId === null ? q.where('box_id', 'is', null) : q.where('box_id', '=', boxId);
    if (opts.live) q = q.where('status', '<>', 'TERMINATE');
    return (await q.orderBy('id').execute()).map(item);
  }

  async pageItems(fenceId: number, boxId: number | null, page: Page, e?: Executor): Promise<Paged<InfraRow>> {
    let q = this.db(e).selectFrom('infra').where('fence_id', '=', fenceId).where('status', '<>', 'TERMINATE');
    q = boxId === null ? q.where('box_id', 'is', null) : q.where('box_id', '=', boxId);
    const { n } = await q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id').limit(page.size).offset(page.page * page.size).execute();
    return { total: Number(n), rows: rows.map(item) };
  }

  /** A live item of the fence or box with this instance number and one of `types`. */
  async findItem(e: Executor | undefined, fenceId: number, boxId: number | null, instanceNo: number, types: readonly string[]): Promise<InfraRow | undefined> {
    let q = this.db(e)
      .selectFrom('infra')
      .selectAll()
      .where('fence_id', '=', fenceId)
      .where('instance_no', '=', instanceNo)
      .where('infra_type', 'in', [...types])
      .where('status', '<>', 'TERMINATE');
    q = boxId === null ? q.where('box_id', 'is', null) : q.where('box_id', '=', boxId);
    const r = await q.executeTakeFirst();
    return r && item(r);
  }

  /** How many items of `type` the fence or box has ever had (names count on from there). */
  async countEver(trx: Executor, fenceId: number, boxId: number | null, type: string): Promise<number> {
    let q = this.db(trx).selectFrom('infra').select(sql<number>`count(*)`.as('n')).where('fence_id', '=', fenceId).where('infra_type', '=', type);
    q = boxId === null ? q.where('box_id', 'is', null) : q.where('box_id', '=', boxId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  // ── histories ─────────────────────────────────────────────────────────────────────────────

  async insertHistory(trx: Executor, row: Omit<InfraHistoryRow, 'id'>): Promise<void> {
    await this.db(trx).insertInto('infra_history').values(row).execute();
  }

  /** A fence's (`boxId` null) or box's infra history, newest first. */
  async pageHistory(fenceId: number, boxId: number | null, page: Page, e?: Executor): Promise<Paged<InfraHistoryRow>> {
    let q = this.db(e).selectFrom('infra_history').where('fence_id', '=', fenceId);
    q = boxId === null ? q.where('box_id', 'is', null) : q.where('box_id', '=', boxId);
    const { n } = await q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').limit(page.size).offset(page.page * page.size).execute();
    return { total: Number(n), rows: rows.map(history) };
  }

  // ── box-user keys ─────────────────────────────────────────────────────────────────────────

  async bindKey(trx: Executor, accountId: string, accessKeyId: string, boxIds: readonly number[], now: number): Promise<void> {
    for (const boxId of new Set(boxIds)) {
      await this.db(trx)
        .insertInto('box_key_bindings')
        .values({ access_key_id: accessKeyId, account_id: accountId, box_id: boxId, created_at: now })
        .onConflict((oc) => oc.columns(['access_key_id', 'box_id']).doNothing())
        .execute();
    }
  }

  async boundBoxes(accessKeyId: string, e?: Executor): Promise<number[]> {
    const rows = await this.db(e).selectFrom('box_key_bindings').select('box_id').where('access_key_id', '=', accessKeyId).orderBy('box_id').execute();
    return rows.map((r) => Number(r.box_id));
  }

  async isBound(accessKeyId: string, boxId: number, e?: Executor): Promise<boolean> {
    const r = await this.db(e)
      .selectFrom('box_key_bindings')
      .select('box_id')
      .where('access_key_id', '=', accessKeyId)
      .where('box_id', '=', boxId)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Does the key hold a box in this fence? */
  async boundInFence(accessKeyId: string, fenceId: number, e?: Executor): Promise<boolean> {
    const r = await this.db(e)
      .selectFrom('box_key_bindings')
      .innerJoin('boxes', 'boxes.id', 'box_key_bindings.box_id')
      .select('boxes.id')
      .where('box_key_bindings.access_key_id', '=', accessKeyId)
      .where('boxes.fence_id', '=', fenceId)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  // ── counters ──────────────────────────────────────────────────────────────────────────────

  /**
   * The next value of a sequence (`start` the first time), in the caller's transaction: one
   * upsert, so processes sharing the database never hand out a value twice.
   */
  async next(trx: Executor, name: string, start: number): Promise<number> {
    const r = await this.db(trx)
      .insertInto('datafence_counters')
      .values({ name, value: start })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql<number>`datafence_counters.value + 1` }))
      .returning('value')
      .executeTakeFirstOrThrow();
    return Number(r.value);
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

  async findCustomImage(fenceId: number, imageNo: number, productCode: string, e?: Executor) {
    return this.db(e)
      .selectFrom('custom_images')
      .selectAll()
      .where('fence_id', '=', fenceId)
      .where('image_no', '=', imageNo)
      .where('product_code', '=', productCode)
      .executeTakeFirst();
  }

  // ── import and export requests (issue 9) ──────────────────────────────────────────────────

  /** Inserts an import request; its NAS file name is `{fileId}_{name}`. Returns the fileId. */
  async insertImport(trx: Executor, row: Omit<ImportRow, 'id' | 'target_path'>, name: string): Promise<number> {
    const { id } = await this.db(trx).insertInto('datafence_imports').values({ ...row, target_path: '' }).returning('id').executeTakeFirstOrThrow();
    await this.db(trx).updateTable('datafence_imports').set({ target_path: `${Number(id)}_${name}` }).where('id', '=', id).execute();
    return Number(id);
  }

  async getImport(e: Executor | undefined, id: number): Promise<ImportRow | undefined> {
    const r = await this.db(e).selectFrom('datafence_imports').selectAll().where('id', '=', id).executeTakeFirst();
    return r && importRow(r);
  }

  /** The import request `id` of the box (in the account), or undefined. */
  async findImport(accountId: string, boxId: number, id: number, e?: Executor): Promise<ImportRow | undefined> {
    const r = await this.db(e)
      .selectFrom('datafence_imports')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .where('box_id', '=', boxId)
      .executeTakeFirst();
    return r && importRow(r);
  }

  /** Compare-and-set: applies `patch` only while the request is in one of `from`; true when it did. */
  async updateImport(trx: Executor, id: number, from: readonly string[], patch: Partial<ImportRow>): Promise<boolean> {
    const r = await this.db(trx).updateTable('datafence_imports').set(patch).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async pageImports(boxId: number, filter: RequestFilter, page: Page, e?: Executor): Promise<Paged<ImportRow>> {
    let q = this.db(e).selectFrom('datafence_imports').where('box_id', '=', boxId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('created_at', '<=', filter.to);
    const { n } = await q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').limit(page.size).offset(page.page * page.size).execute();
    return { total: Number(n), rows: rows.map(importRow) };
  }

  /** Inserts an export request; `screenPath(fileId)` names its review object. Returns the fileId. */
  async insertExport(trx: Executor, row: Omit<ExportRow, 'id' | 'screen_path'>, screenPath: (fileId: number) => string): Promise<number> {
    const { id } = await this.db(trx).insertInto('datafence_exports').values({ ...row, screen_path: '' }).returning('id').executeTakeFirstOrThrow();
    await this.db(trx).updateTable('datafence_exports').set({ screen_path: screenPath(Number(id)) }).where('id', '=', id).execute();
    return Number(id);
  }

  async getExport(e: Executor | undefined, id: number): Promise<ExportRow | undefined> {
    const r = await this.db(e).selectFrom('datafence_exports').selectAll().where('id', '=', id).executeTakeFirst();
    return r && exportRow(r);
  }

  /** The export request `id` of the box (in the account), unless canceled. */
  async findExport(accountId: string, boxId: number, id: number, e?: Executor): Promise<ExportRow | undefined> {
    const r = await this.db(e)
      .selectFrom('datafence_exports')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .where('box_id', '=', boxId)
      .where('status', '!=', 'CANCELED')
      .executeTakeFirst();
    return r && exportRow(r);
  }

  /** Compare-and-set, as `updateImport`. */
  async updateExport(trx: Executor, id: number, from: readonly string[], patch: Partial<ExportRow>): Promise<boolean> {
    const r = await this.db(trx).updateTable('datafence_exports').set(patch).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async pageExports(boxId: number, filter: RequestFilter, page: Page, e?: Executor): Promise<Paged<ExportRow>> {
    let q = this.db(e).selectFrom('datafence_exports').where('box_id', '=', boxId).where('status', '!=', 'CANCELED');
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('created_at', '<=', filter.to);
    const { n } = await q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').limit(page.size).offset(page.page * page.size).execute();
    return { total: Number(n), rows: rows.map(exportRow) };
  }

  /** Export requests of a box that were not canceled (get-box-summary-info `exportApplyCount`). */
  async countExports(boxId: number, e?: Executor): Promise<number> {
    const { n } = await this.db(e)
      .selectFrom('datafence_exports')
      .select(sql<number>`count(*)`.as('n'))
      .where('box_id', '=', boxId)
      .where('status', '!=', 'CANCELED')
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Records a vote; false when this reviewer has voted on the request already. */
  async insertVote(trx: Executor, vote: VoteRow): Promise<boolean> {
    const r = await this.db(trx)
      .insertInto('datafence_export_votes')
      .values(vote)
      .onConflict((oc) => oc.columns(['export_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** The votes on these requests, oldest first. */
  async votes(exportIds: readonly number[], e?: Executor): Promise<VoteRow[]> {
    if (exportIds.length === 0) return [];
    const rows = await this.db(e).selectFrom('datafence_export_votes').selectAll().where('export_id', 'in', exportIds).orderBy('at').orderBy('user_id').execute();
    return rows.map((v) => ({ ...v, export_id: Number(v.export_id), at: Number(v.at) }));
  }
}
