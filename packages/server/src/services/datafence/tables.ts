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
  /** Import requests (§1.3): one row per file; `id` is the fileId. */
  datafence_imports: {
    id: col.autoId(),
    account_id: col.text(),
    fence_id: col.bigint(),
    box_id: col.bigint(),
    requester_key: col.text(),
    requester_name: col.text(),
    source_bucket: col.text(),
    source_key: col.text(),
    nas_instance_no: col.bigint(),
    nas_name: col.text(),
    /** Where the file lands on the NAS: `{fileId}_{last segment of the key}` (set at insert). */
    target_path: col.text(),
    description: col.text(),
    /** INITIALIZED | UPLOADING | IMPORTED | ERROR_FILE | ERROR_SECURITY | ERROR_SYSTEM */
    status: col.text(),
    size: col.bigint().orNull(),
    sha256: col.text().orNull(),
    error: col.text().orNull(),
    created_at: col.time(),
    completed_at: col.time().orNull(),
  },
  /** Export requests (§1.4): one row per file; `id` is the fileId. */
  datafence_exports: {
    id: col.autoId(),
    account_id: col.text(),
    fence_id: col.bigint(),
    box_id: col.bigint(),
    requester_user_id: col.text(),
    requester_name: col.text(),
    requester_key: col.text(),
    nas_instance_no: col.bigint(),
    nas_name: col.text(),
    source_path: col.text(),
    target_bucket: col.text(),
    /** The review bucket at request time and the object's key in it (`screenFilePath`). */
    review_bucket: col.text(),
    screen_path: col.text(),
    file_description: col.text(),
    export_purpose: col.text(),
    description: col.text(),
    /** §1.4 codes, and CANCELED (hidden: the vendor has no such code, a canceled request disappears). */
    status: col.text(),
    /** Distinct approvals needed, fixed when the request is made. */
    approvals_required: col.int(),
    size: col.bigint().orNull(),
    /** SHA-256 pinned while the file was copied for review; re-checked at release. */
    sha256: col.text().orNull(),
    reject_reason: col.text(),
    error: col.text().orNull(),
    created_at: col.time(),
    /** The decision (approval complete or rejection). */
    result_at: col.time().orNull(),
    completed_at: col.time().orNull(),
  },
  /** Every reviewer's vote on an export request; one per reviewer. */
  datafence_export_votes: {
    export_id: col.bigint(),
    user_id: col.text(),
    user_name: col.text(),
    vote: col.text(), // APPROVE | REJECT
    reason: col.text(),
    at: col.time(),
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
export type ImportRow = RowOf<(typeof datafenceTables)['datafence_imports']>;
export type ExportRow = RowOf<(typeof datafenceTables)['datafence_exports']>;
export type VoteRow = RowOf<(typeof datafenceTables)['datafence_export_votes']>;
export type InfraHistoryRow = RowOf<(typeof datafenceTables)['infra_history']>;
