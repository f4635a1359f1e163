/** Datafence rows. The real API has no create operation: first start or `stockade fences create` makes one. */
import type { AppContext } from '../../app.js';
import { ApiError } from '../../gateway/errors.js';
import { t, type Lang } from '../../gateway/i18n.js';
import type { Db } from '../../store/schema.js';

export interface FenceRow {
  id: number;
  account_id: string;
  name: string;
  description: string;
  status: string;
  export_bucket: string;
  ssl_vpn_name: string;
  created_at: number;
}

/** Fence names: 3–30 lower-case letters, digits and hyphens (they also name the review bucket). */
export const FENCE_NAME = /^[a-z][a-z0-9-]{2,29}$/;

export async function createFence(
  ctx: Pick<AppContext, 'store' | 'clock'>,
  accountId: string,
  opts: { name: string; description?: string },
): Promise<FenceRow> {
  if (!FENCE_NAME.test(opts.name)) {
    throw new Error(`invalid fence name ${JSON.stringify(opts.name)}: 3-30 lower-case letters, digits or hyphens, starting with a letter`);
  }
  const row = {
    account_id: accountId,
    name: opts.name,
    description: opts.description ?? '',
    status: 'USE',
    // The export-review bucket is named after the fence, as in the documented example (§1.5).
    export_bucket: opts.name,
    ssl_vpn_name: `${opts.name}-sslvpn`,
    created_at: ctx.clock.now(),
  };
  const { id } = await ctx.store.db.insertInto('fences').values(row).returning('id').executeTakeFirstOrThrow();
  return { id: Number(id), ...row };
}

export async function listFences(db: Db, accountId: string): Promise<FenceRow[]> {
  const rows = await db.selectFrom('fences').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** The caller's fence, or the Datafence "no such fence" error (also for another account's fence). */
export async function requireFence(db: Db, accountId: string, fenceId: number, lang: Lang): Promise<FenceRow> {
  const r = await db
    .selectFrom('fences')
    .selectAll()
    .where('id', '=', fenceId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!r) throw new ApiError(400, '2600053', t(lang, 'fence.notFound', { fenceId }));
  return { ...r, id: Number(r.id) };
}
