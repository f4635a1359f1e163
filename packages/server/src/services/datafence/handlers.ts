/** Datafence handlers: one function per operation of `datafenceOps`. Behaviour only. */
import { datafenceOps } from '@stockade/sdk';
import { handlersFor, Serialized } from '../../platform/service.js';
import { kstIso } from '../time.js';
import { PRODUCT_CATALOG } from './catalog.js';
import type { DatafenceService } from './service.js';
import { statusName } from './texts.js';

/** The catalogue never changes while the server runs: serialise it once. */
const CATALOG = new Serialized([...PRODUCT_CATALOG]);

export const handlers = handlersFor<DatafenceService>()(datafenceOps, {
  async getDatafence(ctx) {
    const fences = await ctx.svc.repo.listFences(ctx.identity.accountId);
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
    // The account's Object Storage buckets, all usable for import and export.
    const buckets = await ctx.app.api('s3').listBuckets(ctx.identity.accountId);
    return buckets.map((b) => ({ name: b.name, enableable: true }));
  },

  async getProductSpec() {
    return CATALOG;
  },

  async getBoxCustomImage(ctx, input) {
    const fence = await ctx.svc.requireFence(ctx, input.fenceId);
    const rows = await ctx.svc.repo.customImages(fence.id, input.productCode);
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
