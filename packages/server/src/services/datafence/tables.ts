/** Datafence's tables (see store/tables.ts for the column kinds). */
import { col, defineTables, type DatabaseOf, type RowOf } from '../../store/tables.js';

export const datafenceTables = defineTables({
  fences: {
    id: col.autoId(), // fenceId (Integer on the wire)
    account_id: col.text(),
    name: col.text(),
    description: col.text(),
    status: col.text(), // INITIALIZE | USE | ING | RETURN | TERMINATE
    /** The export-review bucket: unique in the store (bucket names are global). */
    export_bucket: col.text(),
    ssl_vpn_name: col.text(),
    created_at: col.time(),
  },
  /** Custom server images of a fence (get-*-custom-image). */
  custom_images: {
    image_no: col.autoId(),
    account_id: col.text(),
    fence_id: col.bigint(),
    image_name: col.text(),
    product_code: col.text(),
    base_server_name: col.text(),
    created_at: col.time(),
  },
});

export type DatafenceDatabase = DatabaseOf<typeof datafenceTables>;
export type FenceRow = RowOf<(typeof datafenceTables)['fences']>;
