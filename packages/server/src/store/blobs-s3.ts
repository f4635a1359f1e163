/**
 * Blob content in an external S3-compatible bucket (`--blob-backend s3`), for installations whose
 * content outgrows one disk. Same contract as `LocalBlobStore` (see blobs.ts): fresh random ids,
 * streamed puts (never buffering whole content), sha256 and size computed while streaming.
 *
 * Layout in the bucket: `<prefix><id[0..2]>/<id>`. A put of unknown length goes through
 * `Upload` (lib-storage): one PutObject for small content, a multipart upload otherwise, so memory
 * stays bounded by `queueSize × partSize`. A crash in the middle of a multipart upload leaves an
 * incomplete upload behind: `entries()` reports it as a temp entry (its "mtime" is its last part's)
 * and `deleteEntry()` aborts it. Finished objects' "mtime" is their LastModified.
 *
 * `@aws-sdk/client-s3` is loaded by `S3BlobStore.create()` only (`loadAwsSdk`), so the default
 * local backend's cold start never pays for it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type * as S3 from '@aws-sdk/client-s3';
import { ContentTooLargeError, InvalidBlobIdError, isBlobId, newBlobId } from './blobs.js';
import type { BlobEntry, BlobInfo, BlobStat, BlobStore, ByteRange, PutOptions } from './blobs.js';
import { chunksOf } from './fsutil.js';

export interface S3BlobStoreOptions {
  endpoint: string;
  bucket: string;
  region?: string;
  /** Key prefix inside the bucket; a `/` is appended when missing. */
  prefix?: string;
  /** Both or neither; the AWS SDK's default credential chain when absent. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Multipart part size for large puts (default 8 MiB; S3 needs at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently per put (default 4). */
  queueSize?: number;
  /** Check that the bucket is reachable before returning (default true). */
  verify?: boolean;
}

/** An entry of `entries()`; `uploadId` marks an incomplete multipart upload. */
export interface S3BlobEntry extends BlobEntry {
  uploadId?: string;
}

type Sdk = typeof import('@aws-sdk/client-s3');
type Storage = typeof import('@aws-sdk/lib-storage');
type UploadCtor = Storage['Upload'];

/**
 * Imports `@aws-sdk/client-s3` and `@aws-sdk/lib-storage` on first use. The specifiers are
 * computed so that the CLI bundle (scripts/bundle.mjs) leaves them out: they resolve from
 * node_modules at run time, and commands that never touch S3 (`serve` on local storage) neither
 * parse nor load the SDK.
 */
export async function loadAwsSdk(): Promise<{ sdk: Sdk; Upload: UploadCtor }> {
  // Node 20 is supported here; the SDK's multi-line "NodeVersionSupportWarning" would break the
  // CLI's one-line errors and clutter server logs.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const unbundled = (name: string) => ['@aws-sdk', name].join('/');
  const [sdk, storage] = await Promise.all([import(unbundled('client-s3')) as Promise<Sdk>, import(unbundled('lib-storage')) as Promise<Storage>]);
  return { sdk, Upload: storage.Upload };
}

interface SdkError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string | undefined {
  const e = err as SdkError | null;
  return e?.name ?? e?.Code;
}

function isNotFound(err: unknown): boolean {
  const n = nameOf(err);
  return statusOf(err) === 404 || n === 'NotFound' || n === 'NoSuchKey' || n === 'NoSuchUpload';
}

function isNotImplemented(err: unknown): boolean {
  return statusOf(err) === 501 || nameOf(err) === 'NotImplemented';
}

function enoent(id: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`ENOENT: no such blob ${id}`);
  e.code = 'ENOENT';
  return e;
}

function checkId(id: string): void {
  if (!isBlobId(id)) throw new InvalidBlobIdError(id);
}

export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly #sdk: Sdk;
  readonly #Upload: UploadCtor;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly client: S3.S3Client;

  private constructor(sdk: Sdk, upload: UploadCtor, opts: S3BlobStoreOptions) {
    this.#sdk = sdk;
    this.#Upload = upload;
    this.bucket = opts.bucket;
    const p = opts.prefix ?? '';
    this.prefix = p === '' || p.endsWith('/') ? p : `${p}/`;
    this.#partSize = Math.max(opts.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
    this.#queueSize = Math.max(opts.queueSize ?? 4, 1);
    this.client = new sdk.S3Client({
      endpoint: opts.endpoint,
      region: opts.region || 'us-east-1',
      forcePathStyle: true,
      credentials:
        opts.accessKeyId && opts.secretAccessKey
          ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
          : undefined,
      // The store verifies content itself (sha256 while streaming); the optional CRC checksums
      // are extra work and trip up some S3-compatible servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Loads the AWS SDK, connects, and (unless `verify: false`) checks that the bucket exists. */
  static async create(opts: S3BlobStoreOptions): Promise<S3BlobStore> {
    if (!opts.endpoint) throw new Error('the s3 blob backend needs an endpoint');
    if (!opts.bucket) throw new Error('the s3 blob backend needs a bucket');
    if (Boolean(opts.accessKeyId) !== Boolean(opts.secretAccessKey)) {
      throw new Error('the s3 blob backend needs both an access key id and a secret access key, or neither');
    }
    const { sdk, Upload } = await loadAwsSdk();
    const store = new S3BlobStore(sdk, Upload, opts);
    if (opts.verify !== false) {
      try {
        await store.client.send(new sdk.HeadBucketCommand({ Bucket: store.bucket }));
      } catch (err) {
        store.client.destroy();
        const what = nameOf(err) === 'NotFound' || nameOf(err) === 'NoSuchBucket' ? 'does not exist' : `is not reachable (${describeError(err)})`;
        throw new Error(`blob backend: bucket ${JSON.stringify(opts.bucket)} at ${opts.endpoint} ${what}`);
      }
    }
    return store;
  }

  /** Object key of a blob. */
  keyOf(id: string): string {
    checkId(id);
    return `${this.prefix}${id.slice(0, 2)}/${id}`;
  }

  /** The blob id of an object key, or null for keys this store did not write. */
  #idOfKey(key: string): string | null {
    if (!key.startsWith(this.prefix)) return null;
    const rest = key.slice(this.prefix.length);
    const m = /^([0-9a-f]{2})\/([0-9a-f]{32})$/.exec(rest);
    return m && m[2]!.startsWith(m[1]!) ? m[2]! : null;
  }

  async put(stream: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<BlobInfo> {
    const maxBytes = opts.maxBytes ?? Infinity;
    const id = newBlobId();
    const hash = createHash('sha256');
    let size = 0;
    let tooLarge: ContentTooLargeError | null = null;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunksOf(stream)) {
        size += chunk.byteLength;
        if (size > maxBytes) throw (tooLarge = new ContentTooLargeError(maxBytes));
        hash.update(chunk);
        yield chunk;
      }
    }
    const body = Readable.from(counted(), { objectMode: false });
    const upload = new this.#Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.keyOf(id), Body: body },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      body.destroy();
      throw tooLarge ?? err;
    }
    return { id, size, sha256: hash.digest('hex') };
  }

  /**
   * Returns at once. The GetObject request starts on the first read, or as soon as someone listens
   * for 'ready' (emitted when the response arrives, like fs.ReadStream's), so a caller that opens
   * many segments up front holds no backend connections for the ones it has not reached yet.
   * A missing blob errors the stream with code ENOENT.
   */
  open(id: string, range?: ByteRange): Readable {
    const key = this.keyOf(id);
    if (range) {
      if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
        throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
      }
    }
    const get = (signal: AbortSignal) =>
      this.client.send(
        new this.#sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        { abortSignal: signal },
      );
    return new ObjectStream(id, get, range !== undefined);
  }

  async stat(id: string): Promise<BlobStat | null> {
    try {
      const h = await this.client.send(new this.#sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
      return { size: h.ContentLength ?? 0, mtimeMs: h.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    // DeleteObject succeeds whether or not the key exists: ask first to answer "existed".
    if (!(await this.stat(id))) return false;
    await this.client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
    return true;
  }

  async *entries(): AsyncIterable<S3BlobEntry> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new this.#sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix || undefined, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        // Unknown keys are never touched.
        const id = o.Key ? this.#idOfKey(o.Key) : null;
        if (!id) continue;
        yield { id, temp: false, size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    yield* this.#incompleteUploads();
  }

  /** Multipart uploads that were started and neither completed nor aborted (a crash mid-put). */
  async *#incompleteUploads(): AsyncIterable<S3BlobEntry> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page: S3.ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new this.#sdk.ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix || undefined,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (err) {
        if (isNotImplemented(err)) return; // a server without multipart listing: nothing to report
        throw err;
      }
      for (const u of page.Uploads ?? []) {
        const id = u.Key ? this.#idOfKey(u.Key) : null;
        if (!id || !u.UploadId) continue;
        const parts = await this.#parts(u.Key!, u.UploadId);
        if (!parts) continue; // finished or aborted meanwhile
        const mtimeMs = Math.max(u.Initiated?.getTime() ?? 0, parts.lastModified);
        yield { id, temp: true, size: parts.size, mtimeMs, uploadId: u.UploadId };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
      if (!keyMarker && !uploadIdMarker) return;
    }
  }

  /** Total size and latest LastModified of an upload's parts; null when the upload is gone. */
  async #parts(key: string, uploadId: string): Promise<{ size: number; lastModified: number } | null> {
    let size = 0;
    let lastModified = 0;
    let marker: string | undefined;
    for (;;) {
      let page: S3.ListPartsCommandOutput;
      try {
        page = await this.client.send(
          new this.#sdk.ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        );
      } catch (err) {
        if (isNotFound(err)) return null;
        if (isNotImplemented(err)) return { size, lastModified };
        throw err;
      }
      for (const p of page.Parts ?? []) {
        size += p.Size ?? 0;
        lastModified = Math.max(lastModified, p.LastModified?.getTime() ?? 0);
      }
      if (!page.IsTruncated || !page.NextPartNumberMarker) return { size, lastModified };
      marker = page.NextPartNumberMarker;
    }
  }

  async deleteEntry(entry: BlobEntry): Promise<boolean> {
    if (!entry.temp) return this.delete(entry.id);
    const uploadId = (entry as S3BlobEntry).uploadId;
    if (!uploadId) return false;
    try {
      await this.client.send(
        new this.#sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.keyOf(entry.id), UploadId: uploadId }),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }
}

/** One line for an SDK or network error. */
function describeError(err: unknown): string {
  const e = err as (SdkError & { code?: string; errors?: unknown[] }) | null;
  if (e?.code === 'ECONNREFUSED' || (Array.isArray(e?.errors) && (e.errors[0] as { code?: string } | undefined)?.code === 'ECONNREFUSED')) {
    return 'connection refused';
  }
  const status = statusOf(err);
  const name = nameOf(err);
  const msg = e?.message && e.message !== 'UnknownError' ? e.message : '';
  return [name && name !== 'Error' ? name : '', msg, status ? `HTTP ${status}` : ''].filter(Boolean).join(': ') || String(err);
}

/** The body of one GetObject, requested lazily (see `S3BlobStore.open`). */
class ObjectStream extends Readable {
  readonly #abort = new AbortController();
  #started = false;
  #body: Readable | undefined;

  constructor(
    private readonly id: string,
    private readonly get: (signal: AbortSignal) => Promise<S3.GetObjectCommandOutput>,
    private readonly ranged: boolean,
  ) {
    super();
    this.on('newListener', (event) => {
      if (event === 'ready') queueMicrotask(() => this.#start());
    });
  }

  override _read(): void {
    if (!this.#started) this.#start();
    else this.#body?.resume();
  }

  #start(): void {
    if (this.#started || this.destroyed) return;
    this.#started = true;
    this.get(this.#abort.signal).then(
      (res) => {
        const body = res.Body as Readable | undefined;
        if (this.destroyed) return void body?.destroy();
        this.emit('ready');
        if (!body) return void this.push(null);
        this.#body = body;
        body.on('data', (chunk: Buffer) => {
          if (!this.push(chunk)) body.pause();
        });
        body.once('end', () => this.push(null));
        body.once('error', (err) => this.destroy(err));
      },
      (err: unknown) => {
        if (this.destroyed) return;
        // Like reading a file from an offset past its end: no bytes.
        if (this.ranged && (statusOf(err) === 416 || nameOf(err) === 'InvalidRange')) {
          this.emit('ready');
          return void this.push(null);
        }
        this.destroy(isNotFound(err) ? enoent(this.id) : (err as Error));
      },
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#body) this.#body.destroy();
    else if (this.#started) this.#abort.abort();
    cb(err);
  }
}
