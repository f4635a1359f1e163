/**
 * Object Storage's interface for other services (Datafence reads imports from buckets and writes
 * exports into them; Data Flow's jobs read their sources and write their targets, scripts and
 * logs). Services reach Object Storage only through this.
 */
import type { Readable } from 'node:stream';
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

export interface ObjectStorageApi {
  /** The account's buckets, by name. */
  listBuckets(accountId: string): Promise<Array<{ name: string; createdAt: number }>>;
  /**
   * Creates a bucket for the account in the caller's transaction; `taken` when the name exists
   * (bucket names are global), and nothing changes.
   */
  createBucket(trx: Executor, bucket: { name: string; accountId: string }): Promise<'created' | 'taken'>;
  /** The objects of the account's bucket whose keys start with `prefix`, in key order (ObjectStorageError). */
  listObjects(accountId: string, bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>>;
  /** The content of an object of the account's bucket, streamed (ObjectStorageError). */
  readObject(accountId: string, bucket: string, key: string): Promise<Readable>;
  /**
   * Copies an object of the account's bucket into a local file (`dest`, created or replaced):
   * in the kernel when the content is one local blob, streamed otherwise (ObjectStorageError).
   */
  copyObjectToFile(accountId: string, bucket: string, key: string, dest: string): Promise<void>;
  /** Stores an object in the account's bucket, replacing any object of that key (ObjectStorageError). */
  writeObject(accountId: string, bucket: string, key: string, body: Readable | Buffer, contentType?: string): Promise<void>;
  /** Deletes an object of the account's bucket; nothing when it does not exist (ObjectStorageError for the bucket). */
  deleteObject(accountId: string, bucket: string, key: string): Promise<void>;
}

declare module '../../context.js' {
  interface ServiceApis {
    s3: ObjectStorageApi;
  }
}
