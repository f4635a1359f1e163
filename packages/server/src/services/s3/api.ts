/**
 * Object Storage's interface for other services (Datafence reads imports from buckets and writes
 * exports into them). Services reach Object Storage only through this.
 */
import type { Executor } from '../../store/schema.js';

export interface ObjectStorageApi {
  /** The account's buckets, by name. */
  listBuckets(accountId: string): Promise<Array<{ name: string; createdAt: number }>>;
  /**
   * Creates a bucket for the account in the caller's transaction; `taken` when the name exists
   * (bucket names are global), and nothing changes.
   */
  createBucket(trx: Executor, bucket: { name: string; accountId: string }): Promise<'created' | 'taken'>;
}

declare module '../../context.js' {
  interface ServiceApis {
    s3: ObjectStorageApi;
  }
}
