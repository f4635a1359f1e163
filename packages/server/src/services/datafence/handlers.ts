/** Datafence handlers: one function per operation of `datafenceOps`. */
import { datafenceOps } from '@stockade/sdk';
import { defineHandlers, Serialized } from '../../gateway/handler.js';
import { statusName } from '../../gateway/i18n.js';
import { kstIso } from '../time.js';
import { PRODUCT_CATALOG } from './catalog.js';
import { listFences, requireFence } from './fences.js';

/** The catalogue never changes while the server runs: serialise it once. */
const CATALOG = new Serialized([...PRODUCT_CATALOG]);

export const datafenceHandlers = defineHandlers(datafenceOps, {
  async getDatafence(ctx) {
    const fences = await listFences(ctx.app.store.db, ctx.identity.accountId);
    // boxCount counts live boxes; boxes arrive with the Datafence issue, so it is 0 until then.
    return fences.map((f) => ({
      fenceId: f.id,
      fenceName: f.name,
      boxCount: 0,
      createDate: kstIso(f.created_at),
      statusCode: f.status as 'USE',
      statusName: statusName(ctx.lang, f.status),
      description: f.description,
      exportScreenBucketName: f.export_bucket,
      sslVpnName: f.ssl_vpn_name,
    }));
  },

  async getBucketList(ctx) {
    // The account's Object Storage buckets (services/s3), all usable for import and export.
    const rows = await ctx.app.store.db
      .selectFrom('s3_buckets')
      .select('name')
      .where('account_id', '=', ctx.identity.accountId)
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ name: r.name, enableable: true }));
  },

  async getProductSpec() {
    return CATALOG;
  },

  async getBoxCustomImage(ctx, input) {
    const fence = await requireFence(ctx.app.store.db, ctx.identity.accountId, input.fenceId, ctx.lang);
    const rows = await ctx.app.store.db
      .selectFrom('custom_images')
      .selectAll()
      .where('fence_id', '=', fence.id)
      .where('product_code', '=', input.productCode)
      .orderBy('image_no')
      .execute();
    return {
      content: rows.map((r) => ({
        imageNo: Number(r.image_no),
        imageName: r.image_name,
        productCode: r.product_code,
        baseServerName: r.base_server_name,
      })),
    };
  },
});
