/**
 * The Object Storage model in the database: buckets, objects (a row plus the blobs of its
 * current version), multipart uploads and their parts.
 *
 * Writes follow principle 5: content is already durable under fresh blob ids; one transaction
 * commits the `blobs` rows with the rows that own them and removes the rows of what they replace;
 * the caller deletes the replaced files after the commit (`ObjectContent.discard`).
 *
 * Concurrency on PostgreSQL (read committed): a writer of objects or parts takes a share lock on
 * its bucket row and DeleteBucket takes an update lock before checking emptiness, so an object can
 * never be committed into a bucket being deleted. Overwrites of one key lock its row
 * (`for update`); a first insert racing another retries. On SQLite every transaction takes the
 * write lock up front (`BEGIN IMMEDIATE`), which serialises writers anyway.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Store } from '../../store/db.js';
import type { BlobInfo } from '../../store/blobs.js';
import { asDb, type Dialect, type Executor } from '../../store/schema.js';
import { prepared } from '../../store/prepared.js';
import type { S3BucketsTable, S3Database, S3ObjectsTable, S3PartsTable, S3UploadsTable } from './tables.js';

type Trx = Transaction<S3Database>;
export type BucketRow = S3BucketsTable;
export type ObjectRow = S3ObjectsTable;
export type UploadRow = S3UploadsTable;
export type PartRow = S3PartsTable;

export interface ObjectBlob {
  blobId: string;
  size: number;
}

export interface StoredObject {
  row: ObjectRow;
  blobs: ObjectBlob[];
}

/** Rows per statement when a list of ids goes into `in (…)`. */
const CHUNK = 500;

function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

export const newVersionId = (): string => randomBytes(16).toString('hex');

/** Upload ids sort in creation order (time first), so listing by id lists by initiation. */
export const newUploadId = (now: number): string =>
  now.toString(16).padStart(12, '0') + randomBytes(24).toString('base64url');

/** The two lookups of every object request, compiled once (store/prepared.ts). */
const bucketByName = prepared((db: Kysely<S3Database>, name: string) => db.selectFrom('s3_buckets').selectAll().where('name', '=', name));
const objectWithBlobs = prepared((db: Kysely<S3Database>, bucket: string, key: string) =>
  db
    .selectFrom('s3_objects as o')
    .leftJoin('s3_object_blobs as l', 'l.version', 'o.version')
    .selectAll('o')
    .select(['l.blob_id as blob_id', 'l.size as blob_size', 'l.seq as seq'])
    .where('o.bucket', '=', bucket)
    .where('o.key', '=', key)
    .orderBy('l.seq'),
);

/** A GET's or HEAD's bucket and object (with its blobs) in one statement: one snapshot, one round trip. */
const bucketAndObject = prepared((db: Kysely<S3Database>, bucket: string, key: string) =>
  db
    .selectFrom('s3_buckets as b')
    .leftJoin('s3_objects as o', (j) => j.onRef('o.bucket', '=', 'b.name').on('o.key', '=', key))
    .leftJoin('s3_object_blobs as l', 'l.version', 'o.version')
    .select(['b.account_id as bucket_account_id', 'b.region as bucket_region', 'b.created_at as bucket_created_at', 'b.sealed_fence_id as bucket_sealed_fence_id'])
    .selectAll('o')
    .select(['l.blob_id as blob_id', 'l.size as blob_size', 'l.seq as seq'])
    .where('b.name', '=', bucket)
    .orderBy('l.seq'),
);

export class BucketGone extends Error {}
export class UploadGone extends Error {}

export class S3Repository {
  constructor(private readonly store: Store) {}

  private get db(): Kysely<S3Database> {
    return asDb<S3Database>(this.store.db);
  }

  private get dialect(): Dialect {
    return this.store.dialect;
  }

  tx<T>(fn: (trx: Trx) => Promise<T>): Promise<T> {
    return this.store.tx((trx) => fn(trx as unknown as Trx));
  }

  /** Runs `fn` in the caller's transaction when given (another service commits with its own rows), else in one of its own. */
  private within<T>(outer: Executor | undefined, fn: (trx: Trx) => Promise<T>): Promise<T> {
    return outer ? fn(outer as unknown as Trx) : this.tx(fn);
  }

  /** Marks a bucket as a Datafence export-review bucket (see tables.ts `sealed_fence_id`). */
  async sealBucket(trx: Executor, name: string, fenceId: number): Promise<void> {
    await asDb<S3Database>(trx).updateTable('s3_buckets').set({ sealed_fence_id: fenceId }).where('name', '=', name).execute();
  }

  /* ------------------------------------------------------------------ buckets --- */

  async getBucket(name: string, e?: Executor): Promise<BucketRow | undefined> {
    if (e) return asDb<S3Database>(e).selectFrom('s3_buckets').selectAll().where('name', '=', name).executeTakeFirst();
    return (await bucketByName(this.db, name))[0];
  }

  listBuckets(accountId: string, opts: { prefix?: string; after?: string; limit?: number } = {}): Promise<BucketRow[]> {
    let q = this.db.selectFrom('s3_buckets').selectAll().where('account_id', '=', accountId);
    if (opts.prefix) q = q.where('name', '>=', opts.prefix);
    if (opts.after) q = q.where('name', '>', opts.after);
    q = q.orderBy('name');
    if (opts.limit !== undefined) q = q.limit(opts.limit);
    return q.execute();
  }

  /** Creates a bucket (in `trx` when given), or tells who has it already. */
  async createBucket(row: BucketRow, trx?: Executor): Promise<'created' | 'ownedByYou' | 'exists'> {
    const db = trx ? asDb<S3Database>(trx) : this.db;
    const inserted = await db
      .insertInto('s3_buckets')
      .values(row)
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return 'created';
    const existing = await db.selectFrom('s3_buckets').selectAll().where('name', '=', row.name).executeTakeFirst();
    return existing?.account_id === row.account_id ? 'ownedByYou' : 'exists';
  }

  private lockBucket(trx: Trx, name: string, mode: 'share' | 'update'): Promise<BucketRow | undefined> {
    let q = trx.selectFrom('s3_buckets').selectAll().where('name', '=', name);
    if (this.dialect === 'postgres') q = mode === 'share' ? q.forShare() : q.forUpdate();
    return q.executeTakeFirst();
  }

  /**
   * Deletes an empty bucket with its unfinished uploads. Returns the blob ids of their parts
   * (rows gone), or 'notEmpty' / 'missing'.
   */
  async deleteBucket(name: string): Promise<string[] | 'notEmpty' | 'missing'> {
    return this.tx(async (trx) => {
      if (!(await this.lockBucket(trx, name, 'update'))) return 'missing' as const;
      const any = await trx.selectFrom('s3_objects').select('key').where('bucket', '=', name).limit(1).executeTakeFirst();
      if (any) return 'notEmpty' as const;
      const uploads = await trx.selectFrom('s3_uploads').select('upload_id').where('bucket', '=', name).execute();
      const blobIds: string[] = [];
      for (const c of chunks(uploads.map((u) => u.upload_id))) {
        const parts = await trx.selectFrom('s3_parts').select('blob_id').where('upload_id', 'in', c).execute();
        blobIds.push(...parts.map((p) => p.blob_id));
        await trx.deleteFrom('s3_parts').where('upload_id', 'in', c).execute();
      }
      await trx.deleteFrom('s3_uploads').where('bucket', '=', name).execute();
      await this.deleteBlobRows(trx, blobIds);
      await trx.deleteFrom('s3_buckets').where('name', '=', name).execute();
      return blobIds;
    });
  }

  private async deleteBlobRows(trx: Trx, ids: readonly string[]): Promise<void> {
    for (const c of chunks(ids)) await trx.deleteFrom('blobs').where('id', 'in', c).execute();
  }

  /* ------------------------------------------------------------------ objects --- */

  /**
   * The current object and its blobs, read in ONE statement: on PostgreSQL (read committed) each
   * statement has its own snapshot, so a row and its version's links read separately could come
   * from either side of a concurrent overwrite.
   */
  async getObject(bucket: string, key: string): Promise<StoredObject | undefined> {
    const rows = await objectWithBlobs(this.db, bucket, key);
    const first = rows[0];
    if (!first) return undefined;
    const { blob_id: _b, blob_size: _s, seq: _q, ...row } = first;
    const blobs: ObjectBlob[] = [];
    for (const r of rows) if (r.blob_id !== null) blobs.push({ blobId: r.blob_id, size: Number(r.blob_size) });
    return { row, blobs };
  }

  /**
   * The bucket and the current object of `key` in it with its blobs (as `getBucket` and
   * `getObject`), read in ONE statement.
   */
  async getBucketAndObject(bucket: string, key: string): Promise<{ bucket?: BucketRow; object?: StoredObject }> {
    const rows = await bucketAndObject(this.db, bucket, key);
    const first = rows[0];
    if (!first) return {};
    const b: BucketRow = {
      name: bucket,
      account_id: first.bucket_account_id,
      region: first.bucket_region,
      created_at: first.bucket_created_at,
      sealed_fence_id: first.bucket_sealed_fence_id === null ? null : Number(first.bucket_sealed_fence_id),
    };
    if (first.version === null) return { bucket: b };
    const { bucket_account_id: _a, bucket_region: _r, bucket_created_at: _c, bucket_sealed_fence_id: _f, blob_id: _b, blob_size: _s, seq: _q, ...row } = first;
    const blobs: ObjectBlob[] = [];
    for (const r of rows) if (r.blob_id !== null) blobs.push({ blobId: r.blob_id, size: Number(r.blob_size) });
    return { bucket: b, object: { row: row as ObjectRow, blobs } };
  }

  /** The blobs of an object version (rows removed) and the object row. */
  private async removeObjectIn(trx: Trx, bucket: string, key: string, version: string): Promise<string[]> {
    const links = await trx.selectFrom('s3_object_blobs').select('blob_id').where('version', '=', version).execute();
    const ids = links.map((l) => l.blob_id);
    await trx.deleteFrom('s3_object_blobs').where('version', '=', version).execute();
    await this.deleteBlobRows(trx, ids);
    await trx.deleteFrom('s3_objects').where('bucket', '=', bucket).where('key', '=', key).execute();
    return ids;
  }

  /**
   * Makes `row` the object of its key: the current row (locked) and its version's rows are
   * removed; returns the replaced blob ids.
   */
  private async replaceRow(trx: Trx, row: ObjectRow, check?: (current: ObjectRow | undefined) => void): Promise<string[]> {
    for (;;) {
      let q = trx.selectFrom('s3_objects').selectAll().where('bucket', '=', row.bucket).where('key', '=', row.key);
      if (this.dialect === 'postgres') q = q.forUpdate();
      const current = await q.executeTakeFirst();
      check?.(current);
      if (current) {
        const replaced = await this.removeObjectIn(trx, row.bucket, row.key, current.version);
        await trx.insertInto('s3_objects').values(row).execute();
        return replaced;
      }
      const r = await trx
        .insertInto('s3_objects')
        .values(row)
        .onConflict((oc) => oc.columns(['bucket', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) > 0) return [];
      // Another writer inserted this key first and has committed: lock its row and replace it.
    }
  }

  /**
   * Makes `row` the current object of its key in one transaction: new `blobs` rows (`newBlobs`,
   * content already durable), the links of its version to `blobs`, the object row. The replaced
   * version's rows are removed; its blob ids are returned for deletion after the commit.
   * `check` runs on the current object (if any) inside the transaction and may throw (conditional writes).
   */
  async putObject(
    row: ObjectRow,
    blobs: readonly ObjectBlob[],
    newBlobs: readonly BlobInfo[],
    now: number,
    check?: (current: ObjectRow | undefined) => void,
    outer?: Executor,
  ): Promise<string[]> {
    return this.within(outer, async (trx) => {
      if (!(await this.lockBucket(trx, row.bucket, 'share'))) throw new BucketGone();
      const replaced = await this.replaceRow(trx, row, check);
      for (const c of chunks(newBlobs)) {
        await trx
          .insertInto('blobs')
          .values(c.map((b) => ({ id: b.id, size: b.size, sha256: b.sha256, created_at: now })))
          .execute();
      }
      for (let i = 0; i < blobs.length; i += CHUNK) {
        await trx
          .insertInto('s3_object_blobs')
          .values(
            blobs.slice(i, i + CHUNK).map((b, j) => ({ version: row.version, seq: i + j, blob_id: b.blobId, size: b.size })),
          )
          .execute();
      }
      return replaced;
    });
  }

  /** Deletes an object; returns its blob ids (rows gone), or [] when there was none. */
  async deleteObject(bucket: string, key: string, outer?: Executor): Promise<string[]> {
    return this.within(outer, async (trx) => {
      let q = trx.selectFrom('s3_objects').select('version').where('bucket', '=', bucket).where('key', '=', key);
      if (this.dialect === 'postgres') q = q.forUpdate();
      const current = await q.executeTakeFirst();
      if (!current) return [];
      return this.removeObjectIn(trx, bucket, key, current.version);
    });
  }

  /** Deletes several objects in one transaction; returns their blob ids (rows gone). */
  async deleteObjects(bucket: string, keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    return this.tx(async (trx) => {
      const ids: string[] = [];
      for (const c of chunks(keys)) {
        let q = trx.selectFrom('s3_objects').select(['key', 'version']).where('bucket', '=', bucket).where('key', 'in', c);
        if (this.dialect === 'postgres') q = q.forUpdate();
        const rows = await q.execute();
        if (rows.length === 0) continue;
        const versions = rows.map((r) => r.version);
        const links = await trx.selectFrom('s3_object_blobs').select('blob_id').where('version', 'in', versions).execute();
        const blobIds = links.map((l) => l.blob_id);
        await trx.deleteFrom('s3_object_blobs').where('version', 'in', versions).execute();
        await this.deleteBlobRows(trx, blobIds);
        await trx.deleteFrom('s3_objects').where('version', 'in', versions).execute();
        ids.push(...blobIds);
      }
      return ids;
    });
  }

  /**
   * Objects of a bucket in key order, from `from` (inclusive) or after `after` (exclusive).
   */
  listObjects(bucket: string, opts: { from?: string; after?: string; limit: number }) {
    let q = this.db
      .selectFrom('s3_objects')
      .select(['key', 'size', 'etag', 'last_modified', 'checksums', 'checksum_type'])
      .where('bucket', '=', bucket);
    if (opts.from !== undefined) q = q.where('key', '>=', opts.from);
    if (opts.after !== undefined) q = q.where('key', '>', opts.after);
    return q.orderBy('key').limit(opts.limit).execute();
  }

  /* ------------------------------------------------------------------ multipart --- */

  async createUpload(row: UploadRow): Promise<void> {
    await this.tx(async (trx) => {
      if (!(await this.lockBucket(trx, row.bucket, 'share'))) throw new BucketGone();
      await trx.insertInto('s3_uploads').values(row).execute();
    });
  }

  getUpload(uploadId: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('s3_uploads').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
  }

  /** Stores a part (replacing a previous upload of the same number); returns the replaced blob ids. */
  async putPart(part: PartRow, blob: BlobInfo, now: number): Promise<string[]> {
    return this.tx(async (trx) => {
      // Locked for update: two uploads of the same part number commit one after the other.
      let uq = trx.selectFrom('s3_uploads').select(['upload_id', 'bucket']).where('upload_id', '=', part.upload_id);
      if (this.dialect === 'postgres') uq = uq.forUpdate();
      const upload = await uq.executeTakeFirst();
      if (!upload) throw new UploadGone();
      const old = await trx
        .selectFrom('s3_parts')
        .select('blob_id')
        .where('upload_id', '=', part.upload_id)
        .where('part_number', '=', part.part_number)
        .executeTakeFirst();
      const replaced: string[] = [];
      if (old) {
        await trx.deleteFrom('s3_parts').where('upload_id', '=', part.upload_id).where('part_number', '=', part.part_number).execute();
        await this.deleteBlobRows(trx, [old.blob_id]);
        replaced.push(old.blob_id);
      }
      await trx.insertInto('blobs').values({ id: blob.id, size: blob.size, sha256: blob.sha256, created_at: now }).execute();
      await trx.insertInto('s3_parts').values(part).execute();
      return replaced;
    });
  }

  listParts(uploadId: string, opts: { after?: number; limit?: number } = {}): Promise<PartRow[]> {
    let q = this.db.selectFrom('s3_parts').selectAll().where('upload_id', '=', uploadId);
    if (opts.after !== undefined) q = q.where('part_number', '>', opts.after);
    q = q.orderBy('part_number');
    if (opts.limit !== undefined) q = q.limit(opts.limit);
    return q.execute();
  }

  /**
   * Completes an upload: inside one transaction (upload row locked), `build` validates the parts
   * and returns the object row and the parts it is made of; the object is committed as a manifest
   * of those parts' blobs; the upload, its rows and unused parts go. Returns the blob ids to
   * delete after commit (unused parts, replaced object).
   */
  async completeUpload(
    uploadId: string,
    build: (upload: UploadRow, parts: PartRow[]) => { row: ObjectRow; used: PartRow[] },
  ): Promise<{ row: ObjectRow; discard: string[] }> {
    return this.tx(async (trx) => {
      let uq = trx.selectFrom('s3_uploads').selectAll().where('upload_id', '=', uploadId);
      if (this.dialect === 'postgres') uq = uq.forUpdate();
      const upload = await uq.executeTakeFirst();
      if (!upload) throw new UploadGone();
      if (!(await this.lockBucket(trx, upload.bucket, 'share'))) throw new BucketGone();
      const parts = await trx.selectFrom('s3_parts').selectAll().where('upload_id', '=', uploadId).orderBy('part_number').execute();
      const { row, used } = build(upload, parts);
      const usedIds = new Set(used.map((p) => p.blob_id));
      const unused = parts.filter((p) => !usedIds.has(p.blob_id)).map((p) => p.blob_id);
      await trx.deleteFrom('s3_parts').where('upload_id', '=', uploadId).execute();
      await trx.deleteFrom('s3_uploads').where('upload_id', '=', uploadId).execute();
      await this.deleteBlobRows(trx, unused);
      const replaced = await this.replaceRow(trx, row);
      for (let i = 0; i < used.length; i += CHUNK) {
        await trx
          .insertInto('s3_object_blobs')
          .values(
            used.slice(i, i + CHUNK).map((p, j) => ({ version: row.version, seq: i + j, blob_id: p.blob_id, size: Number(p.size) })),
          )
          .execute();
      }
      return { row, discard: [...unused, ...replaced] };
    });
  }

  /** Aborts an upload; returns its parts' blob ids (rows gone), or null when there was none. */
  async abortUpload(uploadId: string): Promise<string[] | null> {
    return this.tx(async (trx) => {
      let uq = trx.selectFrom('s3_uploads').select('upload_id').where('upload_id', '=', uploadId);
      if (this.dialect === 'postgres') uq = uq.forUpdate();
      if (!(await uq.executeTakeFirst())) return null;
      const parts = await trx.selectFrom('s3_parts').select('blob_id').where('upload_id', '=', uploadId).execute();
      const ids = parts.map((p) => p.blob_id);
      await trx.deleteFrom('s3_parts').where('upload_id', '=', uploadId).execute();
      await trx.deleteFrom('s3_uploads').where('upload_id', '=', uploadId).execute();
      await this.deleteBlobRows(trx, ids);
      return ids;
    });
  }

  /** Uploads of a bucket in (key, upload id) order, after a (key, upload id) position. */
  listUploads(bucket: string, opts: { from?: string; afterKey?: string; afterUploadId?: string; limit: number }) {
    let q = this.db.selectFrom('s3_uploads').selectAll().where('bucket', '=', bucket);
    if (opts.from !== undefined) q = q.where('key', '>=', opts.from);
    if (opts.afterKey !== undefined) {
      const k = opts.afterKey;
      const u = opts.afterUploadId;
      q =
        u === undefined
          ? q.where('key', '>', k)
          : q.where((eb) => eb.or([eb('key', '>', k), eb.and([eb('key', '=', k), eb('upload_id', '>', u)])]));
    }
    return q.orderBy('key').orderBy('upload_id').limit(opts.limit).execute();
  }
}
