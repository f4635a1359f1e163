/** Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject. */
import type { Readable } from 'node:stream';
import { S3Error } from './auth.js';
import { isChecksumAlgorithm, type ChecksumAlgorithm } from './checksums.js';
import {
  checkObjectOptions,
  checkOwned,
  checksumElements,
  checksumHeaders,
  invalidArgument,
  noSuchKey,
  objectHeadersOf,
  ownedBucket,
  parseJsonRecord,
  preconditionFailed,
  quotedMd5,
  readSmallBody,
  requestedChecksums,
  S3HeaderError,
  storeBody,
  xmlReply,
  type S3Call,
  type S3Handler,
  type S3Reply,
} from './common.js';
import { ContentGone, segmentsFor, type StoredContent } from './content.js';
import { checkKey, etagMatches, httpDate, isoDate, MAX_KEY_BYTES, nulRefused, parseHttpDate } from './names.js';
import { BucketGone, newVersionId, type ObjectRow, type StoredObject } from './repository.js';
import { auditResource } from '../../store/audit.js';
import { listOf, malformedXml, parseXml, textOf, type XmlNode } from './xml.js';

/** Times on the wire have whole seconds: conditions compare seconds. */
const seconds = (ms: number): number => Math.floor(ms / 1000);

function bucketGone(call: S3Call, e: unknown): never {
  if (e instanceof BucketGone) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: call.bucket });
  throw e;
}

/** Commits a stored blob as the object of the call's key; deletes what it replaced. */
async function commitObject(
  call: S3Call,
  stored: StoredContent,
  row: Omit<ObjectRow, 'bucket' | 'key' | 'version' | 'size' | 'last_modified'>,
  check?: (current: ObjectRow | undefined) => void,
): Promise<ObjectRow> {
  const now = call.app.clock.now();
  const full: ObjectRow = {
    ...row,
    bucket: call.bucket,
    key: call.key,
    version: newVersionId(),
    size: stored.blob.size,
    last_modified: now,
  };
  let replaced: string[];
  try {
    replaced = await call.repo.putObject(full, [{ blobId: stored.blob.id, size: stored.blob.size }], [stored.blob], now, check);
  } catch (e) {
    await call.content.discard([stored.blob.id]);
    bucketGone(call, e);
  }
  await call.content.discard(replaced);
  return full;
}

/** PUT conditions (`If-None-Match: *`, `If-Match`), checked against the current object at commit. */
function putConditions(call: S3Call): ((current: ObjectRow | undefined) => void) | undefined {
  const ifNoneMatch = call.header('if-none-match');
  const ifMatch = call.header('if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  }
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!current) throw noSuchKey(call.key);
      if (!etagMatches(ifMatch, current.etag)) throw preconditionFailed('If-Match');
    }
  };
}

export const putObject: S3Handler = async (call) => {
  await ownedBucket(call);
  checkKey(call.key);
  const { headers, metadata } = objectHeadersOf(call);
  checkObjectOptions(call);
  const check = putConditions(call);
  const algorithms = requestedChecksums(call);
  const stored = await storeBody(call, algorithms);
  const etag = quotedMd5(stored.md5);
  const checksums = stored.checksums as Record<string, string>;
  const type = Object.keys(checksums).length ? 'FULL_OBJECT' : null;
  await commitObject(
    call,
    stored,
    {
      etag,
      headers: JSON.stringify(headers),
      metadata: JSON.stringify(metadata),
      checksums: JSON.stringify(checksums),
      checksum_type: type,
      part_count: null,
    },
    check,
  );
  return { status: 200, headers: { etag, ...checksumHeaders(checksums, type) } };
};

/** Headers describing an object (GET/HEAD), without length and range. */
function describe(row: ObjectRow): Record<string, string | number> {
  const h: Record<string, string | number> = {
    etag: row.etag,
    'last-modified': httpDate(Number(row.last_modified)),
    'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(parseJsonRecord(row.headers))) h[k] = v;
  for (const [k, v] of Object.entries(parseJsonRecord(row.metadata))) h[`x-amz-meta-${k}`] = v;
  return h;
}

/**
 * GET/HEAD conditions (RFC 7232 as S3 applies them): If-Match, then If-Unmodified-Since (only
 * without If-Match) → 412; If-None-Match, then If-Modified-Since (only without If-None-Match) → 304.
 */
function readConditions(call: S3Call, row: ObjectRow): 'ok' | 'notModified' {
  const lm = seconds(Number(row.last_modified));
  const ifMatch = call.header('if-match');
  const ifUnmodified = call.header('if-unmodified-since');
  const ifNoneMatch = call.header('if-none-match');
  const ifModified = call.header('if-modified-since');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, row.etag)) throw preconditionFailed('If-Match');
  } else if (ifUnmodified !== undefined) {
    const t = parseHttpDate(ifUnmodified);
    if (!Number.isNaN(t) && lm > seconds(t)) throw preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, row.etag)) return 'notModified';
  } else if (ifModified !== undefined) {
    const t = parseHttpDate(ifModified);
    if (!Number.isNaN(t) && lm <= seconds(t)) return 'notModified';
  }
  return 'ok';
}

/** An inclusive byte range from a `Range` header; null for the whole object. Unsatisfiable → 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // several ranges or another unit: S3 answers the whole object
  const [, a = '', b = ''] = m;
  let start: number;
  let end: number;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) throw invalidRange(header, size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? Infinity : Number(b);
    if (end < start) return null; // syntactically invalid: ignored (RFC 9110)
    if (start >= size) throw invalidRange(header, size);
    end = Math.min(end, size - 1);
  }
  return { start, end };
}

function invalidRange(header: string, size: number): S3Error {
  return new S3HeaderError(
    416,
    'InvalidRange',
    'The requested range is not satisfiable',
    { RangeRequested: header, ActualObjectSize: String(size) },
    { 'content-range': `bytes */${size}` },
  );
}

/** `?partNumber=N` on GET/HEAD: the bytes of the object's N-th part (a single-PUT object has one). */
function partRange(call: S3Call, obj: StoredObject): { start: number; end: number } | null {
  const v = call.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 10_000)) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', v);
  if (call.header('range') !== undefined) throw invalidArgument('Cannot specify both Range header and partNumber query parameter', 'partNumber', v);
  const count = obj.row.part_count ?? 1;
  if (n > count) {
    throw new S3Error(416, 'InvalidPartNumber', 'The requested partnumber is not satisfiable', {
      PartNumberRequested: String(n),
      ActualPartCount: String(count),
    });
  }
  if (obj.row.part_count === null) return null;
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += obj.blobs[i]?.size ?? 0;
  const size = obj.blobs[n - 1]?.size ?? 0;
  return size === 0 ? null : { start, end: start + size - 1 };
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** How often a GET re-reads an object whose content an overwrite deleted under it. */
const READ_ATTEMPTS = 5;

/**
 * `versionId`: buckets here are never versioned, so an object's only version is `null`; any other
 * id is refused as S3 refuses an id it did not issue (400 InvalidArgument), before anything is
 * read or deleted (a DELETE naming a version must not delete the current object).
 */
function checkVersionId(call: S3Call): void {
  const v = call.query.get('versionId');
  if (v !== undefined && v !== 'null') throw invalidArgument('Invalid version id specified', 'versionId', v);
}

async function readObject(call: S3Call, head: boolean): Promise<S3Reply> {
  checkVersionId(call);
  for (let attempt = 1; ; attempt++) {
    const found = await call.repo.getBucketAndObject(call.bucket, call.key);
    if (attempt === 1) {
      const bucket = checkOwned(call, found.bucket);
      checkKey(call.key);
      if (bucket.sealed_fence_id !== null) await auditSealedRead(call, Number(bucket.sealed_fence_id), found.object !== undefined);
    }
    const obj = found.object;
    if (!obj) throw noSuchKey(call.key);
    const row = obj.row;
    const size = Number(row.size);
    const headers = describe(row);
    if (readConditions(call, row) === 'notModified') {
      return { status: 304, headers: { etag: headers.etag as string, 'last-modified': headers['last-modified'] as string } };
    }
    const range = call.query.has('partNumber') ? partRange(call, obj) : parseRange(call.header('range'), size);
    if (row.part_count !== null && call.query.has('partNumber')) headers['x-amz-mp-parts-count'] = row.part_count;
    if (!range && call.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      Object.assign(headers, checksumHeaders(parseJsonRecord(row.checksums), row.checksum_type));
    }
    for (const [q, h] of Object.entries(RESPONSE_OVERRIDES)) {
      const v = call.query.get(q);
      if (v !== undefined) headers[h] = v;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    headers['content-length'] = Math.max(0, end - start + 1);
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    const status = range ? 206 : 200;
    if (head) return { status, headers };
    const opened = readSmallContent(call, obj, start, end) ?? (await openContent(call, obj, start, end));
    if (opened === 'gone') {
      if (attempt < READ_ATTEMPTS) continue;
      throw new S3Error(503, 'SlowDown', 'Please reduce your request rate.');
    }
    return { status, headers, body: opened };
  }
}

/** Bytes start..end of a small object read whole (ContentGone: 'gone'); null when it must be streamed. */
function readSmallContent(call: S3Call, obj: StoredObject, start: number, end: number): Buffer | 'gone' | null {
  if (obj.blobs.reduce((n, b) => n + b.size, 0) !== Number(obj.row.size)) return 'gone';
  try {
    return call.content.readSmall(segmentsFor(obj.blobs, start, end));
  } catch (e) {
    if (e instanceof ContentGone) return 'gone';
    throw e;
  }
}

/**
 * A stream of bytes start..end of an object, its blobs pinned until the stream closes; 'gone'
 * when a concurrent overwrite removed them (read the object again).
 */
export async function openContent(call: S3Call, obj: StoredObject, start: number, end: number): Promise<Readable | 'gone'> {
  if (obj.blobs.reduce((n, b) => n + b.size, 0) !== Number(obj.row.size)) return 'gone';
  const release = call.content.pin(obj.blobs.map((b) => b.blobId));
  try {
    const stream = await call.content.open(segmentsFor(obj.blobs, start, end));
    stream.once('close', release);
    return stream;
  } catch (e) {
    release();
    if (e instanceof ContentGone) return 'gone';
    throw e;
  }
}

/**
 * Every read of an object in a Datafence export-review bucket is an event of the fence's audit
 * trail (issue 9): who read which file under review, whether or not it exists, before any byte
 * is served.
 */
async function auditSealedRead(call: S3Call, fenceId: number, found: boolean): Promise<void> {
  const id = call.identity;
  await call.app.store.tx((trx) =>
    call.app.audit.record(trx, {
      action: `s3.${call.op}`,
      resource: auditResource('s3', call.bucket, call.key),
      fenceId,
      detail: { found },
      accountId: id.accountId,
      userId: id.userId,
      userName: id.userName,
      accessKeyId: id.accessKeyId,
      clientAddress: call.req.socket.remoteAddress ?? null,
      requestId: call.requestId,
    }),
  );
}

export const getObject: S3Handler = (call) => readObject(call, false);
export const headObject: S3Handler = (call) => readObject(call, true);

export const deleteObject: S3Handler = async (call) => {
  await ownedBucket(call);
  checkKey(call.key);
  checkVersionId(call);
  const ids = await call.repo.deleteObject(call.bucket, call.key);
  await call.content.discard(ids);
  return { status: 204, headers: {} };
};

const MAX_DELETE_KEYS = 1000;

export const deleteObjects: S3Handler = async (call) => {
  await ownedBucket(call);
  const body = await readSmallBody(call);
  const doc = parseXml(body, 'Delete');
  // xs:boolean, as S3's schema has it: anything else is MalformedXML.
  const quietText = (textOf(doc, 'Quiet') ?? 'false').trim().toLowerCase();
  if (!['true', 'false', '1', '0'].includes(quietText)) throw malformedXml();
  const quiet = quietText === 'true' || quietText === '1';
  const objects = listOf(doc, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml();
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  const valid: string[] = [];
  for (const o of objects) {
    const key = textOf(o, 'Key');
    if (key === undefined) throw malformedXml();
    const version = textOf(o, 'VersionId');
    // Only the `null` version exists (checkVersionId): another names nothing and deletes nothing.
    if (version !== undefined && version !== 'null') {
      errors.push({ Key: key, VersionId: version, Code: 'NoSuchVersion', Message: 'The specified version does not exist.' });
    } else if (key === '') errors.push({ Key: key, Code: 'InvalidArgument', Message: 'Invalid key' });
    else if (Buffer.byteLength(key) > MAX_KEY_BYTES) errors.push({ Key: key, Code: 'KeyTooLongError', Message: 'Your key is too long' });
    else valid.push(key);
  }
  // One transaction for the batch; the content goes after the commit.
  const ids = await call.repo.deleteObjects(call.bucket, [...new Set(valid)]);
  await call.content.discard(ids);
  if (!quiet) for (const key of valid) deleted.push({ Key: key });
  return xmlReply('DeleteResult', { Deleted: deleted, Error: errors });
};

/* ------------------------------------------------------------------ copying --- */

export interface CopySource {
  bucket: string;
  key: string;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, the key URL-encoded. */
export function parseCopySource(value: string): CopySource {
  let s = value.trim();
  const q = s.indexOf('?');
  if (q >= 0) {
    const version = new URLSearchParams(s.slice(q + 1)).get('versionId');
    if (version !== null && version !== 'null') {
      throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', { VersionId: version });
    }
    s = s.slice(0, q);
  }
  try {
    s = decodeURIComponent(s);
  } catch {
    throw invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', value);
  }
  if (s.includes('\u0000')) throw nulRefused('x-amz-copy-source');
  if (s.startsWith('/')) s = s.slice(1);
  const i = s.indexOf('/');
  if (i <= 0 || i === s.length - 1) throw invalidArgument('Invalid copy source object key', 'x-amz-copy-source', value);
  return { bucket: s.slice(0, i), key: s.slice(i + 1) };
}

/** The copy source, readable by the caller; copy-source conditions checked. */
export async function loadCopySource(call: S3Call): Promise<{ src: CopySource; obj: StoredObject }> {
  const src = parseCopySource(call.header('x-amz-copy-source') ?? '');
  await ownedBucket(call, src.bucket);
  checkKey(src.key);
  const obj = await call.repo.getObject(src.bucket, src.key);
  if (!obj) throw noSuchKey(src.key);
  const row = obj.row;
  const lm = seconds(Number(row.last_modified));
  const ifMatch = call.header('x-amz-copy-source-if-match');
  const ifNoneMatch = call.header('x-amz-copy-source-if-none-match');
  const ifUnmodified = call.header('x-amz-copy-source-if-unmodified-since');
  const ifModified = call.header('x-amz-copy-source-if-modified-since');
  if (ifMatch !== undefined && !etagMatches(ifMatch, row.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, row.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
  if (ifUnmodified !== undefined && ifMatch === undefined) {
    const t = parseHttpDate(ifUnmodified);
    if (!Number.isNaN(t) && lm > seconds(t)) throw preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifModified !== undefined && ifNoneMatch === undefined) {
    const t = parseHttpDate(ifModified);
    if (!Number.isNaN(t) && lm <= seconds(t)) throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
  return { src, obj };
}

/**
 * Copies bytes start..end of the source into a new blob (streamed, never buffered whole). If an
 * overwrite of the source removed its content meanwhile, the source is read again.
 */
export async function copyContent(
  call: S3Call,
  src: CopySource,
  first: StoredObject,
  range: { start: number; end: number } | null,
  algorithms: ChecksumAlgorithm[],
): Promise<{ stored: StoredContent; source: StoredObject }> {
  let obj = first;
  for (let attempt = 1; ; attempt++) {
    const size = Number(obj.row.size);
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range && end >= size) {
      throw invalidArgument(`Range specified is not valid for source object of size: ${size}`, 'x-amz-copy-source-range', `bytes=${start}-${end}`);
    }
    const stream = await openContent(call, obj, start, end);
    if (stream !== 'gone') {
      try {
        return { stored: await call.content.store(stream, algorithms), source: obj };
      } finally {
        stream.destroy();
      }
    }
    const again = await call.repo.getObject(src.bucket, src.key);
    if (!again) throw noSuchKey(src.key);
    if (attempt >= 5) throw new S3Error(503, 'SlowDown', 'Please reduce your request rate.');
    obj = again;
  }
}

export const copyObject: S3Handler = async (call) => {
  await ownedBucket(call);
  checkKey(call.key);
  const directive = (call.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  // The new headers and metadata are checked before any content is copied.
  const replaced = directive === 'REPLACE' ? objectHeadersOf(call) : undefined;
  checkObjectOptions(call);
  const { src, obj } = await loadCopySource(call);
  if (src.bucket === call.bucket && src.key === call.key && directive === 'COPY' && !call.header('x-amz-checksum-algorithm')) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.',
    );
  }
  const requested = call.header('x-amz-checksum-algorithm')?.toLowerCase();
  if (requested !== undefined && !isChecksumAlgorithm(requested)) {
    throw invalidArgument(`Checksum algorithm ${requested.toUpperCase()} is not supported.`, 'x-amz-checksum-algorithm', requested);
  }
  const srcAlgorithms = Object.keys(parseJsonRecord(obj.row.checksums)).filter(isChecksumAlgorithm);
  const algorithms: ChecksumAlgorithm[] = requested !== undefined ? [requested] : srcAlgorithms;
  const { stored, source } = await copyContent(call, src, obj, null, algorithms);
  const meta = replaced
    ? { headers: JSON.stringify(replaced.headers), metadata: JSON.stringify(replaced.metadata) }
    : { headers: source.row.headers, metadata: source.row.metadata };
  const checksums = stored.checksums as Record<string, string>;
  const type = Object.keys(checksums).length ? 'FULL_OBJECT' : null;
  const row = await commitObject(call, stored, {
    etag: quotedMd5(stored.md5),
    ...meta,
    checksums: JSON.stringify(checksums),
    checksum_type: type,
    part_count: null,
  });
  return xmlReply('CopyObjectResult', { LastModified: isoDate(row.last_modified), ETag: row.etag, ...checksumElements(checksums) });
};
