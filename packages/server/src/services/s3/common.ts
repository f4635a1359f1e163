/** What every S3 operation handler receives and returns, and the helpers they share. */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { S3OperationName } from '@stockade/sdk';
import type { AppContext } from '../../context.js';
import type { ResolvedKey } from '../../iam/iam.js';
import { chunksOf } from '../../store/fsutil.js';
import { S3Error, type DecodedBody, type VerifiedRequest } from './auth.js';
import { CHECKSUM_ALGORITHMS, isChecksumAlgorithm, type ChecksumAlgorithm } from './checksums.js';
import type { ObjectContent, StoredContent } from './content.js';
import type { BucketRow, S3Repository } from './repository.js';
import { xmlDocument, type XmlNode } from './xml.js';

export interface S3Call {
  app: AppContext;
  repo: S3Repository;
  content: ObjectContent;
  req: IncomingMessage;
  method: string;
  requestId: string;
  identity: ResolvedKey;
  auth: VerifiedRequest;
  /** The operation the request was routed to. */
  op: S3OperationName;
  /** Bucket named by the request ('' for none). */
  bucket: string;
  /** Object key, percent-decoded ('' for none). */
  key: string;
  /** Decoded query parameters (first value of each). */
  query: Map<string, string>;
  header(name: string): string | undefined;
  /** The request body, decoded from its wire encoding and verified as it streams (once). */
  body(): DecodedBody;
}

export interface S3Reply {
  status: number;
  headers: Record<string, string | number>;
  body?: string | Buffer | Readable;
}

export type S3Handler = (call: S3Call) => Promise<S3Reply>;

export const XML_TYPE = 'application/xml';

export function xmlReply(root: string, node: XmlNode, status = 200, headers: Record<string, string | number> = {}): S3Reply {
  return { status, headers: { 'content-type': XML_TYPE, ...headers }, body: xmlDocument(root, node) };
}

/** An S3 error that also sets response headers (`Content-Range` of InvalidRange). */
export class S3HeaderError extends S3Error {
  constructor(
    status: number,
    code: string,
    message: string,
    extra: Record<string, string>,
    readonly headers: Record<string, string>,
  ) {
    super(status, code, message, extra);
  }
}

export const preconditionFailed = (condition: string): S3Error =>
  new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });

export const noSuchBucket = (bucket: string): S3Error =>
  new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string): S3Error => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
export const noSuchUpload = (uploadId: string): S3Error =>
  new S3Error(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
export const accessDenied = (): S3Error => new S3Error(403, 'AccessDenied', 'Access Denied');
export const invalidArgument = (message: string, name?: string, value?: string): S3Error =>
  new S3Error(400, 'InvalidArgument', message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' });

/** The bucket, which must exist and belong to the caller's account. */
export async function ownedBucket(call: S3Call, name = call.bucket): Promise<BucketRow> {
  return checkOwned(call, await call.repo.getBucket(name), name);
}

/** A bucket row read otherwise (or undefined when missing), checked as `ownedBucket` does. */
export function checkOwned(call: S3Call, b: BucketRow | undefined, name = call.bucket): BucketRow {
  if (!b) throw noSuchBucket(name);
  if (b.account_id !== call.identity.accountId) throw accessDenied();
  // A Datafence export-review bucket: only Datafence writes it (the copy of a file under review)
  // and nothing is copied out of it through S3 (a release goes through export-file-approve); its
  // owner and fence admins may read and list it (reads of objects are audited, objects.ts).
  if (b.sealed_fence_id !== null && (name !== call.bucket || !SEALED_READS.has(call.op))) throw accessDenied();
  return b;
}

/** What S3 may do on a sealed (export-review) bucket: read and list. */
const SEALED_READS: ReadonlySet<S3OperationName> = new Set<S3OperationName>([
  'GetObject', 'HeadObject', 'ListObjects', 'ListObjectsV2', 'GetBucketLocation', 'ListMultipartUploads', 'ListParts',
]);

/**
 * Waits for work that consumes a decoded body and for the decoder's verdict (`done`). The
 * decoder's error wins (it explains why the stream failed); when the work fails on its own (too
 * large, disk) `done` may never settle and is not waited for. `cleanup` undoes successful work
 * whose body turned out invalid.
 */
async function withDone<T>(work: Promise<T>, done: Promise<void>, cleanup?: (v: T) => Promise<void>): Promise<T> {
  let settled = false;
  let failure: { error: unknown } | undefined;
  const verdict = done.then(
    () => {
      settled = true;
    },
    (error: unknown) => {
      settled = true;
      failure = { error };
    },
  );
  let value: T;
  try {
    value = await work;
  } catch (e) {
    await new Promise((r) => setImmediate(r));
    if (settled && failure) throw failure.error;
    throw e;
  }
  await verdict;
  if (failure) {
    if (cleanup) await cleanup(value);
    throw failure.error;
  }
  return value;
}

/** A small request body (XML documents), read whole after verification. */
export async function readSmallBody(call: S3Call, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const body = call.body();
  const read = (async () => {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const c of chunksOf(body.stream)) {
      size += c.byteLength;
      if (size > limit) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
      parts.push(c);
    }
    return Buffer.concat(parts);
  })();
  const buf = await withDone(read, body.done);
  const md5 = contentMd5(call);
  if (md5 && !md5.equals(createHash('md5').update(buf).digest())) throw badDigest();
  return buf;
}

const badDigest = () => new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');

/** The `Content-MD5` header, decoded; InvalidDigest when it is not 16 bytes of base64. */
export function contentMd5(call: S3Call): Buffer | undefined {
  const v = call.header('content-md5');
  if (v === undefined) return undefined;
  const b = Buffer.from(v, 'base64');
  if (b.length !== 16 || b.toString('base64') !== v.trim()) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
  return b;
}

/**
 * Checksum algorithms a request asks for: `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`,
 * a declared `x-amz-checksum-<alg>` header, or one announced in `x-amz-trailer`.
 */
export function requestedChecksums(call: S3Call): ChecksumAlgorithm[] {
  const out = new Set<ChecksumAlgorithm>();
  for (const h of ['x-amz-checksum-algorithm', 'x-amz-sdk-checksum-algorithm']) {
    const v = call.header(h)?.toLowerCase();
    if (v === undefined) continue;
    if (!isChecksumAlgorithm(v)) throw invalidArgument(`Checksum algorithm ${v.toUpperCase()} is not supported.`, h, v);
    out.add(v);
  }
  for (const a of CHECKSUM_ALGORITHMS) if (call.header(`x-amz-checksum-${a}`) !== undefined) out.add(a);
  for (const t of (call.header('x-amz-trailer') ?? '').split(',')) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(t.trim().toLowerCase());
    if (m && isChecksumAlgorithm(m[1] as string)) out.add(m[1] as ChecksumAlgorithm);
  }
  return [...out];
}

/**
 * Streams the request body into the blob store: resolves once the content is durable AND the
 * decoder verified every declared hash and signature (`done`). On failure the stored blob is
 * deleted (it has no row) and the error is the decoder's when it has one.
 */
export async function storeBody(call: S3Call, algorithms: ChecksumAlgorithm[]): Promise<StoredContent> {
  const md5Header = contentMd5(call);
  const body = call.body();
  // What the decoder computes anyway (to verify it) is taken from it, not hashed a second time.
  const own = algorithms.filter((a) => !body.computes.includes(a));
  const s = await withDone(call.content.store(body.stream, own), body.done, (v) => call.content.discard([v.blob.id]));
  const computed = body.computed();
  for (const a of algorithms) if (!own.includes(a) && computed[a] !== undefined) s.checksums[a] = computed[a];
  const discard = () => call.content.discard([s.blob.id]);
  if (body.length !== null && s.blob.size !== body.length) {
    await discard();
    throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
  }
  if (md5Header && !md5Header.equals(s.md5)) {
    await discard();
    throw badDigest();
  }
  const declared = body.checksums();
  for (const [alg, value] of Object.entries(declared)) {
    if (isChecksumAlgorithm(alg) && s.checksums[alg] !== undefined && s.checksums[alg] !== value) {
      await discard();
      throw new S3Error(400, 'BadDigest', `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`);
    }
  }
  return s;
}

/** `x-amz-checksum-<alg>` response headers for stored checksums. */
export function checksumHeaders(checksums: Record<string, string>, type: string | null): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [alg, v] of Object.entries(checksums)) h[`x-amz-checksum-${alg}`] = v;
  if (type && Object.keys(h).length > 0) h['x-amz-checksum-type'] = type;
  return h;
}

/** XML elements for stored checksums (`ChecksumCRC32`…). */
export function checksumElements(checksums: Record<string, string>): XmlNode {
  const n: XmlNode = {};
  for (const [alg, v] of Object.entries(checksums)) n[`Checksum${alg.toUpperCase()}`] = v;
  return n;
}

/** Content headers stored with an object and returned on GET/HEAD. */
export const CONTENT_HEADERS = [
  'content-type',
  'content-disposition',
  'cache-control',
  'content-encoding',
  'content-language',
  'expires',
] as const;

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const MAX_METADATA_BYTES = 2048;

/** Content headers and `x-amz-meta-*` metadata of a request (PutObject, CreateMultipartUpload, CopyObject REPLACE). */
export function objectHeadersOf(call: S3Call): { headers: Record<string, string>; metadata: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const h of CONTENT_HEADERS) {
    let v = call.header(h);
    if (v === undefined) continue;
    if (h === 'content-encoding') {
      // `aws-chunked` is the transfer encoding of the request, not the object's.
      v = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s.toLowerCase() !== 'aws-chunked')
        .join(', ');
      if (!v) continue;
    }
    headers[h] = v;
  }
  headers['content-type'] ??= DEFAULT_CONTENT_TYPE;
  const metadata: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(call.req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const k = name.slice('x-amz-meta-'.length);
    const v = Array.isArray(value) ? value.join(',') : value;
    metadata[k] = v;
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > MAX_METADATA_BYTES) {
    throw new S3Error(400, 'MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', {
      MaxSizeAllowed: String(MAX_METADATA_BYTES),
      Size: String(size),
    });
  }
  return { headers, metadata };
}

const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS',
  'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE',
]);
const SSE_METHODS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const MAX_OBJECT_TAGS = 10;

/**
 * Options of a new object S3 validates before it takes the request (PutObject,
 * CreateMultipartUpload, CopyObject): the storage class, the server-side encryption method and
 * the `x-amz-tagging` set (URL-encoded `key=value` pairs, at most 10, keys 1–128 and values up to
 * 256 characters, no key twice). Every object here is STANDARD storage; tags are not kept.
 */
export function checkObjectOptions(call: S3Call): void {
  const storageClass = call.header('x-amz-storage-class');
  if (storageClass !== undefined && !STORAGE_CLASSES.has(storageClass)) {
    throw new S3Error(400, 'InvalidStorageClass', 'The storage class you specified is not valid', { StorageClassRequested: storageClass });
  }
  const sse = call.header('x-amz-server-side-encryption');
  if (sse !== undefined && !SSE_METHODS.has(sse)) {
    throw invalidArgument('The encryption method specified is not supported', 'x-amz-server-side-encryption', sse);
  }
  if (call.op === 'CopyObject') {
    const directive = call.header('x-amz-tagging-directive');
    if (directive !== undefined && directive !== 'COPY' && directive !== 'REPLACE') {
      throw invalidArgument('Unknown tagging directive.', 'x-amz-tagging-directive', directive);
    }
  }
  const tagging = call.header('x-amz-tagging');
  if (tagging === undefined || tagging === '') return;
  const malformed = () =>
    invalidArgument(
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
      'x-amz-tagging',
      tagging,
    );
  const invalidTag = (message: string) => new S3Error(400, 'InvalidTag', message);
  const keys = new Set<string>();
  for (const pair of tagging.split('&')) {
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
      value = decodeURIComponent((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' '));
    } catch {
      throw malformed();
    }
    if (keys.has(key)) throw malformed();
    keys.add(key);
    if (key === '') throw invalidTag('The TagKey you have provided is invalid');
    if ([...key].length > 128) throw invalidTag('The TagKey you have provided is too long, max 128');
    if ([...value].length > 256) throw invalidTag('The TagValue you have provided is too long, max 256');
  }
  if (keys.size > MAX_OBJECT_TAGS) throw new S3Error(400, 'BadRequest', 'Object tags cannot be greater than 10');
}

export function parseJsonRecord(text: string): Record<string, string> {
  return JSON.parse(text) as Record<string, string>;
}

/** A non-negative integer query parameter, or the default; InvalidArgument otherwise. */
export function intParam(call: S3Call, name: string, dflt: number, max?: number): number {
  const v = call.query.get(name);
  if (v === undefined || v === '') return dflt;
  // S3 reads these as 32-bit integers: a larger number is refused as one that is not a number.
  if (!/^\d+$/.test(v) || Number(v) > 2_147_483_647) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  const n = Number(v);
  return max === undefined ? n : Math.min(n, max);
}

/** The ETag of a part's or single PUT's content. */
export const quotedMd5 = (md5: Buffer): string => `"${md5.toString('hex')}"`;
