/**
 * Object Storage's interface for other services (Datafence reads imports from buckets and writes
 * exports into them; Data Flow's jobs read their sources and write their targets, scripts and
 * logs). Services reach Object Storage only through this.
 *
 * Writing an object another service commits with its own state is two steps: `stageObject` writes
 * the content durably under a fresh id (nothing refers to it: a crash leaves an orphan that garbage
 * collection removes), then `commitObject(trx, …)` makes it the object in the caller's transaction;
 * the function it returns deletes replaced content and runs after the commit. `discard` drops staged
 * content that will not be committed. `writeObject` is the one-step form for writes that belong to
 * no other state (a job's output files, its logs).
 */
import type { Readable } from 'node:stream';
import type { BlobInfo } from '../../store/blobs.js';
import type { Executor } from '../../store/schema.js';

/**
 * A bucket that does not exist or belongs to another account (the same answer for both: another
 * account's bucket is never reachable), or a key that does not exist.
 */
export class ObjectStorageError extends Error {
  constructor(
    readonly code: 'NoSuchBucket' | 'NoSuchKey',
    message: string,
  ) {
    super(message);
  }
}

export interface StagedObject {
  blobId: string;
  size: number;
  /** Lower-case hex SHA-256 of the content, computed while it was written. */
  sha256: string;
  /** The object's ETag, quoted: derived from the SHA-256 (`"{first 32 hex}-1"`), not an MD5. */
  etag: string;
  blob: BlobInfo;
}

export interface ObjectStorageApi {
  /** The account's buckets, by name (not Datafence's export-review buckets). */
  listBuckets(accountId: string): Promise<Array<{ name: string; createdAt: number }>>;
  /**
   * Creates a bucket for the account in the caller's transaction; `taken` when the name exists
   * (bucket names are global), and nothing changes. `sealedForFence`: an export-review bucket
   * (no S3 writes or copies out of it; reads of its objects are audit events of that fence).
   */
  createBucket(trx: Executor, bucket: { name: string; accountId: string; sealedForFence?: number }): Promise<'created' | 'taken'>;
  /** Seals an existing bucket as the export-review bucket of a fence (see `createBucket`). */
  sealBucket(trx: Executor, name: string, fenceId: number): Promise<void>;
  /** Whether the account has this bucket. */
  bucketExists(accountId: string, name: string): Promise<boolean>;
  /** An object's size; `noBucket` for a bucket the account does not have. */
  statObject(accountId: string, bucket: string, key: string): Promise<{ size: number } | 'noBucket' | 'noObject'>;
  /** An object's bytes (its content is kept until the stream closes). */
  readObject(accountId: string, bucket: string, key: string): Promise<{ size: number; stream: Readable } | 'noBucket' | 'noObject'>;
  /** Writes content durably under a fresh id, hashing it; throws when it exceeds `maxBytes`. */
  stageObject(source: Readable | AsyncIterable<Uint8Array>, maxBytes: number): Promise<StagedObject>;
  /** Makes staged content the object `bucket/key` in `trx`; returns what to run after the commit. */
  commitObject(trx: Executor, accountId: string, bucket: string, key: string, staged: StagedObject): Promise<() => Promise<void>>;
  /** Drops staged content that was not committed. */
  discard(staged: StagedObject): Promise<void>;
  /** Deletes an object in `trx` (nothing when absent); returns what to run after the commit. */
  deleteObject(trx: Executor, accountId: string, bucket: string, key: string): Promise<() => Promise<void>>;
  /** The objects of the account's bucket whose keys start with `prefix`, in key order (ObjectStorageError). */
  listObjects(accountId: string, bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>>;
  /**
   * Copies an object of the account's bucket into a local file (`dest`, created or replaced):
   * in the kernel when the content is one local blob, streamed otherwise (ObjectStorageError).
   */
  copyObjectToFile(accountId: string, bucket: string, key: string, dest: string): Promise<void>;
  /** Stores an object in the account's bucket, replacing any object of that key (ObjectStorageError). */
  writeObject(accountId: string, bucket: string, key: string, body: Readable | Buffer, contentType?: string): Promise<void>;
}

declare module '../../context.js' {
  interface ServiceApis {
    s3: ObjectStorageApi;
  }
}
