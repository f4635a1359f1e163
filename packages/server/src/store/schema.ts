/**
 * Database schema (Kysely table types). The same tables exist on SQLite and PostgreSQL;
 * migrations in `migrations.ts` create them. Conventions:
 * - times are integers: milliseconds since the epoch (UTC), from the injectable clock;
 * - JSON documents are stored as text;
 * - booleans are integers 0/1 (SQLite has no boolean type);
 * - every resource row carries `account_id`: accounts are isolated by construction.
 */
import type { Generated, Kysely } from 'kysely';

export interface AccountsTable {
  id: string; // 12 digits, e.g. "100000000001"
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  account_id: string;
  name: string; // login id, shown as requesterId
  role: 'owner' | 'fence-admin' | 'box-user';
  created_at: number;
}

export interface AccessKeysTable {
  access_key_id: string;
  account_id: string;
  user_id: string;
  /** AES-256-GCM ciphertext of the secret under the master key: base64(iv|tag|ciphertext). */
  secret_enc: string;
  status: 'active' | 'revoked';
  created_at: number;
  revoked_at: number | null;
}

export interface FencesTable {
  id: Generated<number>; // fenceId (Integer on the wire)
  account_id: string;
  name: string;
  description: string;
  status: string; // INITIALIZE | USE | ING | RETURN | TERMINATE
  export_bucket: string;
  ssl_vpn_name: string;
  created_at: number;
}

export interface TasksTable {
  id: Generated<number>;
  kind: string;
  payload: string; // JSON
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  max_attempts: number;
  due_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

/** Content-addressed-by-fresh-id blobs: the row is committed only after the bytes are fsynced. */
export interface BlobsTable {
  id: string;
  size: number;
  sha256: string;
  created_at: number;
}

export interface IdempotencyTable {
  account_id: string;
  operation: string;
  token: string;
  params_hash: string;
  state: 'pending' | 'done';
  status: number | null;
  response: string | null; // JSON of the first result
  created_at: number;
  expires_at: number;
}

/** The audit log: one hash-chained row per event (see audit.ts for the chain and its encoding). */
export interface AuditEventsTable {
  seq: number; // 1, 2, 3, … in commit order
  at: number;
  account_id: string | null;
  user_id: string | null;
  user_name: string | null;
  access_key_id: string; // or 'system'
  action: string; // e.g. box.create, s3.GetObject
  resource: string; // e.g. fence/3/box/12
  fence_id: number | null;
  detail: string | null; // canonical JSON
  client_address: string | null;
  request_id: string | null;
  hash_version: number;
  prev_hash: string; // hex
  hash: string; // hex HMAC-SHA256
}

/** The newest event of the audit chain (one row, id 1), with a MAC over seq and hash. */
export interface AuditChainHeadTable {
  id: number;
  seq: number;
  hash: string;
  mac: string;
}

/** Test-control probe runs (dev profile): proves the task runner executes each task once. */
export interface ProbeRunsTable {
  id: Generated<number>;
  task_id: number;
  runner: string;
  finished_at: number;
}

/** Custom server images of a fence (Datafence get-*-custom-image). */
export interface CustomImagesTable {
  image_no: Generated<number>;
  account_id: string;
  fence_id: number;
  image_name: string;
  product_code: string;
  base_server_name: string;
  created_at: number;
}

/** Data Flow jobs; `doc` holds `{ nodes, runCondition, maxConcurrentRuns }` as JSON. */
export interface DataflowJobsTable {
  id: string; // 12-character jobId
  account_id: string;
  name: string;
  description: string;
  type: string;
  status: string;
  doc: string;
  last_execution_status: string | null;
  last_execution_at: number | null;
  created_at: number;
  updated_at: number;
}

/** CFS file systems. */
export interface CfsFileSystemsTable {
  id: string; // fsId, `cfs-` + 10 alphanumerics
  account_id: string;
  name: string;
  type: string;
  protocol: string;
  status: string;
  vpc_id: string;
  zone: string;
  capacity_quota: number;
  usage_bytes: number;
  tags: string; // JSON array of {tagKey, tagValue}
  created_at: number;
}

/** Object Storage buckets. Names are global across accounts (S3 rules). */
export interface S3BucketsTable {
  name: string;
  account_id: string;
  region: string;
  created_at: number;
}

/**
 * Object Storage objects: one row per (bucket, key), the current version. `version` names the set
 * of blobs holding the content (`s3_object_blobs`); an overwrite replaces the row and its version
 * in one transaction, so readers see either the old object or the new one, never a mix.
 * `key` sorts in UTF-8 byte order on both dialects (PostgreSQL: collation "C").
 */
export interface S3ObjectsTable {
  bucket: string;
  key: string;
  version: string;
  size: number;
  /** Quoted ETag as sent on the wire, e.g. `"9b2cf535f27731c974343645a3985328"` or `"…-3"`. */
  etag: string;
  /** JSON: `{ "content-type": …, "cache-control": …, … }`, the stored content headers. */
  headers: string;
  /** JSON: user metadata `{ name: value }` (names lower-case, without `x-amz-meta-`). */
  metadata: string;
  /** JSON: `{ "crc32": base64, … }` checksums of the whole object (or composite, with `-N`). */
  checksums: string;
  checksum_type: string | null; // FULL_OBJECT | COMPOSITE
  /** Number of parts for a multipart object, null for a single PUT. */
  part_count: number | null;
  last_modified: number;
}

/** The blobs that make up an object version, in order (one for a PUT, one per part for multipart). */
export interface S3ObjectBlobsTable {
  version: string;
  seq: number;
  blob_id: string;
  size: number;
}

/** Multipart uploads in progress. */
export interface S3UploadsTable {
  upload_id: string;
  bucket: string;
  key: string;
  account_id: string;
  initiator: string; // access key id
  /** JSON: the content headers and metadata given to CreateMultipartUpload. */
  headers: string;
  metadata: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  initiated_at: number;
}

/** Uploaded parts of a multipart upload; each part is one blob. */
export interface S3PartsTable {
  upload_id: string;
  part_number: number;
  blob_id: string;
  size: number;
  etag: string; // quoted
  checksums: string; // JSON
  last_modified: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  accounts: AccountsTable;
  users: UsersTable;
  access_keys: AccessKeysTable;
  fences: FencesTable;
  tasks: TasksTable;
  blobs: BlobsTable;
  idempotency: IdempotencyTable;
  audit_events: AuditEventsTable;
  audit_chain_head: AuditChainHeadTable;
  probe_runs: ProbeRunsTable;
  meta: MetaTable;
  custom_images: CustomImagesTable;
  dataflow_jobs: DataflowJobsTable;
  cfs_file_systems: CfsFileSystemsTable;
  s3_buckets: S3BucketsTable;
  s3_objects: S3ObjectsTable;
  s3_object_blobs: S3ObjectBlobsTable;
  s3_uploads: S3UploadsTable;
  s3_parts: S3PartsTable;
}

export type Db = Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';
