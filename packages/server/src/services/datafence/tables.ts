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
    /** Boxes ever created in the fence: the next box is `box{box_seq + 1}`. */
    box_seq: col.bigint(),
    /** Counts the fence's transitions: a transition task acts only on the version it was enqueued for. */
    version: col.bigint(),
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
  /** Boxes, kept after TERMINATE for get-box-history. */
  boxes: {
    id: col.autoId(), // boxId
    account_id: col.text(),
    fence_id: col.bigint(),
    name: col.text(), // box1, box2, … per fence
    description: col.text(),
    status: col.text(),
    /** Counts the box's transitions (see fences.version). */
    version: col.bigint(),
    /** 1 while the external network is blocked (the default), 0 once allowed. */
    web_block: col.int(),
    created_at: col.time(),
    ended_at: col.time().orNull(),
  },
  /**
   * Infrastructure items of fences (`box_id` null: FENCE_UBUNTU, FENCE_NAS) and boxes (CON,
   * SVR_LNX_UBUNTU, SVR_WIN, TF_CPU, TF_GPU, BOX_NAS, HD), kept after TERMINATE for the histories.
   */
  infra: {
    id: col.autoId(),
    account_id: col.text(),
    fence_id: col.bigint(),
    box_id: col.bigint().orNull(),
    infra_type: col.text(),
    /** Allocated by the provisioner, unique in the store. */
    instance_no: col.bigint(),
    instance_name: col.text(),
    spec_code: col.text(),
    software_code: col.text(),
    block_storage_no: col.bigint().orNull(),
    /** GB */
    block_storage_size: col.int().orNull(),
    private_ip: col.text(),
    public_ip: col.text(),
    /** NAS size in GB. */
    nas_size: col.int().orNull(),
    /** Box NAS: `boxStorageId`. */
    storage_id: col.bigint().orNull(),
    /** Box NAS: the platform volume holding its files (store/volumes.ts). */
    volume_id: col.text().orNull(),
    /** Hadoop cluster nodes, a fence server's image (JSON). */
    detail: col.json().orNull(),
    /** Login passwords, sealed (never returned by the API). */
    passwords_enc: col.text().orNull(),
    status: col.text(),
    created_at: col.time(),
    ended_at: col.time().orNull(),
  },
  /** Every transition of an infrastructure item (and of a box itself): the infra histories. */
  infra_history: {
    id: col.autoId(),
    account_id: col.text(),
    fence_id: col.bigint(),
    box_id: col.bigint().orNull(),
    /** The item (infra.id), or null for the box's own transitions. */
    infra_id: col.bigint().orNull(),
    infra_type: col.text(),
    instance_no: col.bigint(),
    instance_name: col.text(),
    /** The state the item entered. */
    status: col.text(),
    at: col.time(),
  },
  /** The boxes a box-user access key may use (`stockade keys create --role box-user --box ID`). */
  box_key_bindings: {
    access_key_id: col.text(),
    account_id: col.text(),
    box_id: col.bigint(),
    created_at: col.time(),
  },
  /** Number sequences of the built-in provisioner (instance numbers, storage ids, addresses). */
  datafence_counters: {
    name: col.text(),
    value: col.bigint(),
  },
});

export type DatafenceDatabase = DatabaseOf<typeof datafenceTables>;
export type FenceRow = RowOf<(typeof datafenceTables)['fences']>;
export type BoxRow = RowOf<(typeof datafenceTables)['boxes']>;
export type InfraRow = RowOf<(typeof datafenceTables)['infra']>;
export type InfraHistoryRow = RowOf<(typeof datafenceTables)['infra_history']>;
