/** Object Storage's tables (see store/tables.ts for the column kinds). */
import { col, defineTables, type DatabaseOf, type RowOf } from '../../store/tables.js';
import type { CoreDatabase } from '../../store/schema.js';

export const s3Tables = defineTables({
  /** Buckets. Names are global across accounts (S3 rules). */
  s3_buckets: {
    name: col.text(),
    account_id: col.text(),
    region: col.text(),
    created_at: col.time(),
    /**
     * Set (to the fence's id) by Datafence on its export-review bucket: no S3 operation may write
     * to it or copy out of it, and every GetObject/HeadObject on it is an audit event of that fence.
     */
    sealed_fence_id: col.bigint().orNull(),
  },
  /**
   * Objects: one row per (bucket, key), the current version. `version` names the set of blobs
   * holding the content (`s3_object_blobs`); an overwrite replaces the row and its version in one
   * transaction, so readers see either the old object or the new one, never a mix. `key` sorts in
   * UTF-8 byte order on both dialects (PostgreSQL: collation "C").
   */
  s3_objects: {
    bucket: col.text(),
    key: col.text(),
    version: col.text(),
    size: col.bigint(),
    /** Quoted ETag as sent on the wire, e.g. `"9b2cf535f27731c974343645a3985328"` or `"…-3"`. */
    etag: col.text(),
    /** JSON: `{ "content-type": …, "cache-control": …, … }`, the stored content headers. */
    headers: col.json(),
    /** JSON: user metadata `{ name: value }` (names lower-case, without `x-amz-meta-`). */
    metadata: col.json(),
    /** JSON: `{ "crc32": base64, … }` checksums of the whole object (or composite, with `-N`). */
    checksums: col.json(),
    checksum_type: col.text().orNull(), // FULL_OBJECT | COMPOSITE
    /** Number of parts for a multipart object, null for a single PUT. */
    part_count: col.int().orNull(),
    last_modified: col.time(),
  },
  /** The blobs that make up an object version, in order (one for a PUT, one per part for multipart). */
  s3_object_blobs: {
    version: col.text(),
    seq: col.int(),
    blob_id: col.text(),
    size: col.bigint(),
  },
  /** Multipart uploads in progress. */
  s3_uploads: {
    upload_id: col.text(),
    bucket: col.text(),
    key: col.text(),
    account_id: col.text(),
    initiator: col.text(), // access key id
    /** JSON: the content headers and metadata given to CreateMultipartUpload. */
    headers: col.json(),
    metadata: col.json(),
    checksum_algorithm: col.text().orNull(),
    checksum_type: col.text().orNull(),
    initiated_at: col.time(),
  },
  /** Uploaded parts of a multipart upload; each part is one blob. */
  s3_parts: {
    upload_id: col.text(),
    part_number: col.int(),
    blob_id: col.text(),
    size: col.bigint(),
    etag: col.text(), // quoted
    checksums: col.json(),
    last_modified: col.time(),
  },
});

/** Object Storage's view: its tables and the platform's content rows (`blobs`). */
export type S3Database = DatabaseOf<typeof s3Tables> & Pick<CoreDatabase, 'blobs'>;
export type S3BucketsTable = RowOf<(typeof s3Tables)['s3_buckets']>;
export type S3ObjectsTable = RowOf<(typeof s3Tables)['s3_objects']>;
export type S3UploadsTable = RowOf<(typeof s3Tables)['s3_uploads']>;
export type S3PartsTable = RowOf<(typeof s3Tables)['s3_parts']>;
