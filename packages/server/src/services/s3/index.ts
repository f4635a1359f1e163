/**
 * Object Storage: the S3 API as a raw service on the shared listener. A request is addressed
 * path-style (`/{bucket}/{key}`) or virtual-host style (`Host: {bucket}.s3.…`), verified
 * (AWS SigV4, sigv4.ts), routed by method, sub-resource query flags and headers to one operation
 * (the routing table below), and answered with S3 headers and XML. Bodies stream: uploads are
 * decoded and verified on the fly (chunked.ts) into the blob store, downloads stream from it.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { roleSatisfies, type Role, type S3OperationName } from '@stockade/sdk';
import type { AppContext } from '../../context.js';
import { defineService, type RawRequestInfo, type RawService } from '../../platform/service.js';
import { ContentTooLargeError, LocalBlobStore } from '../../store/blobs.js';
import { checkKey, isValidBucketName, nulRefused } from './names.js';
import { migrations } from './migrations.js';
import { s3Tables } from './tables.js';
import { ObjectStorageError, type ObjectStorageApi } from './api.js';
import { S3Error, type DecodedBody } from './auth.js';
import { decodeBody } from './chunked.js';
import { verifySigV4 } from './sigv4.js';
import { accessDenied, quotedMd5, S3HeaderError, type S3Call, type S3Handler, type S3Reply } from './common.js';
import { ContentGone, ObjectContent, segmentsFor } from './content.js';
import { BucketGone, newVersionId, S3Repository, type ObjectRow } from './repository.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './buckets.js';
import { listObjects, listObjectsV2 } from './list.js';
import { copyObject, deleteObject, deleteObjects, getObject, headObject, putObject } from './objects.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';
import { errorDocument } from './xml.js';
import { DEFAULT_S3_REGION } from '../../config.js';
import { clientGone } from '../../platform/http.js';

/**
 * The least role that may use the S3 API: owners and fence admins (export review reads and
 * writes objects). A box user (an analyst) gets AccessDenied on every operation: analysts
 * receive data only through imports and release it only through reviewed exports.
 */
export const S3_ROLE: Role = 'fence-admin';

/** Every implemented S3 operation, by its API name (also the coverage matrix's list). */
export const s3Operations: Readonly<Record<S3OperationName, S3Handler>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  CopyObject: copyObject,
  ListObjectsV2: listObjectsV2,
  ListObjects: listObjects,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
};

/** Sub-resources of the S3 API this server does not implement: a request naming one gets 501. */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metadataConfiguration', 'metadataTable', 'metrics', 'notification',
  'object-lock', 'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock', 'renameObject', 'replication',
  'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'versioning', 'versions',
  'website',
];

interface Address {
  bucket: string;
  key: string;
}

const notImplemented = (what: string): S3Error =>
  new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: what });

function methodNotAllowed(method: string, resourceType: 'SERVICE' | 'BUCKET' | 'OBJECT'): S3Error {
  return new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
    Method: method,
    ResourceType: resourceType,
  });
}

/**
 * The routing table: method, sub-resource flags and headers → operation.
 */
export function route(method: string, addr: Address, query: Map<string, string>, headers: IncomingMessage['headers']): S3OperationName {
  const has = (k: string) => query.has(k);
  const unsupported = UNSUPPORTED_SUBRESOURCES.find(has);
  if (unsupported !== undefined) throw notImplemented(`?${unsupported}`);
  if (!addr.bucket) {
    if (method === 'GET') return 'ListBuckets';
    throw methodNotAllowed(method, 'SERVICE');
  }
  if (!addr.key) {
    switch (method) {
      case 'GET':
        if (has('location')) return 'GetBucketLocation';
        if (has('uploads')) return 'ListMultipartUploads';
        if (query.get('list-type') === '2') return 'ListObjectsV2';
        if (has('list-type')) throw new S3Error(400, 'InvalidArgument', 'Invalid List Type specified in Request', { ArgumentName: 'list-type', ArgumentValue: query.get('list-type') ?? '' });
        return 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'PUT':
        return 'CreateBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        if (has('delete')) return 'DeleteObjects';
        throw methodNotAllowed(method, 'BUCKET');
      default:
        throw methodNotAllowed(method, 'BUCKET');
    }
  }
  const copy = headers['x-amz-copy-source'] !== undefined;
  switch (method) {
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (has('partNumber') || has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      return copy ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      if (has('uploadId')) return 'AbortMultipartUpload';
      return 'DeleteObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      throw methodNotAllowed(method, 'OBJECT');
    default:
      throw methodNotAllowed(method, 'OBJECT');
  }
}

/** Percent-decodes `s` (part of `what`, the raw path or query), the argument `name`. */
function decode(s: string, what: string, name: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    throw new S3Error(400, 'InvalidURI', `Couldn't parse the specified URI.`, { URI: what });
  }
  if (decoded.includes('\u0000')) throw nulRefused(name);
  return decoded;
}

/** Bucket and key from the Host header (virtual-host style) or the path (path style). */
export function addressOf(host: string | undefined, rawPath: string): Address {
  const h = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  const vhost = /^(.+?)\.s3\./.exec(h);
  if (vhost) return { bucket: vhost[1] as string, key: decode(rawPath.slice(1), rawPath, 'key') };
  const p = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const slash = p.indexOf('/');
  if (slash < 0) return { bucket: decode(p, rawPath, 'bucket'), key: '' };
  return { bucket: decode(p.slice(0, slash), rawPath, 'bucket'), key: decode(p.slice(slash + 1), rawPath, 'key') };
}

/** Query parameters, percent-decoded (`+` stays a plus, as SigV4 clients encode a space as %20). */
export function parseQuery(rawQuery: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!rawQuery) return out;
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), rawQuery, 'query');
    const value = eq < 0 ? '' : decode(part.slice(eq + 1), rawQuery, name);
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/**
 * A header value as HTTP can carry it: text beyond Latin-1 (a `response-content-disposition`
 * with a UTF-8 file name) goes out as its UTF-8 bytes, as S3 sends it; line breaks and NULs go.
 */
function headerSafe(v: string): string {
  const clean = v.replace(/[\r\n\0]/g, ' ');
  // eslint-disable-next-line no-control-regex -- the Latin-1 range, from U+0000
  return /[^\u0000-\u00ff]/.test(clean) ? Buffer.from(clean, 'utf8').toString('latin1') : clean;
}

/**
 * `x-amz-id-2`, S3's opaque "extended request id": 24 bytes in base64, unique per response. 16
 * random bytes drawn once per process and a counter, instead of 24 fresh random bytes per request
 * (a system random draw costs more than the rest of the header work together).
 */
const extendedId = Buffer.concat([randomBytes(16), Buffer.alloc(8)]);
let extendedSeq = 0;
function extendedRequestId(): string {
  extendedSeq = (extendedSeq + 1) % 0x1_0000_0000;
  extendedId.writeUInt32BE(extendedSeq, 20);
  if (extendedSeq === 0) extendedId.writeUInt32BE((extendedId.readUInt32BE(16) + 1) % 0x1_0000_0000, 16);
  return extendedId.toString('base64');
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function createS3Service(ctx: AppContext, repo: S3Repository, content: ObjectContent): RawService {
  const regions = ctx.config.s3Regions.length > 0 ? ctx.config.s3Regions : [DEFAULT_S3_REGION];
  /** Requests whose body decoding started. */
  const bodyStarted = new WeakSet<IncomingMessage>();

  const send = async (req: IncomingMessage, res: ServerResponse, reply: S3Reply, base: Record<string, string>): Promise<void> => {
    const headers: Record<string, string | number> = { ...base };
    for (const [k, v] of Object.entries(reply.headers)) headers[k] = typeof v === 'string' ? headerSafe(v) : v;
    const head = req.method === 'HEAD';
    const body = reply.body;
    if (body instanceof Readable) {
      try {
        res.writeHead(reply.status, headers);
      } catch (e) {
        body.destroy(); // closes the files and releases the pinned content
        throw e;
      }
      if (head) {
        body.destroy();
        res.end();
        return;
      }
      try {
        await pipeline(body, res);
      } catch (err) {
        // The client went away (noted at debug level by the gateway), or content failed to read
        // after the headers: the response is cut short.
        const gone = clientGone(req, err);
        if (!res.destroyed) res.destroy();
        if (!gone) ctx.logger.warn({ err }, 'S3 response stream failed');
      }
      return;
    }
    if (body !== undefined) headers['content-length'] ??= Buffer.byteLength(body);
    else if (!('content-length' in headers) && reply.status !== 304 && reply.status !== 204) headers['content-length'] = 0;
    res.writeHead(reply.status, headers);
    res.end(head ? undefined : body);
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown, info: RawRequestInfo, base: Record<string, string>) => {
    let e: S3Error;
    if (err instanceof S3Error) e = err;
    else {
      // A client that went away mid-request is noted at debug level by the gateway.
      if (!clientGone(req, err)) ctx.logger.error({ err, requestId: info.requestId }, 'S3 request failed');
      e = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string | number> = { ...base, ...(e instanceof S3HeaderError ? e.headers : {}) };
    if (bodyStarted.has(req) && !req.complete) {
      // The body was being decoded when this failed: the rest of it is not read, so the
      // connection cannot carry another request.
      headers.connection = 'close';
      req.unpipe();
      req.resume();
    }
    if (req.method === 'HEAD') {
      headers['content-length'] = 0;
      res.writeHead(e.status, headers);
      res.end();
      return;
    }
    const body = errorDocument(e.code, e.message, info.requestId, base['x-amz-id-2'] ?? '', e.extra);
    headers['content-type'] = 'application/xml';
    headers['content-length'] = Buffer.byteLength(body);
    res.writeHead(e.status, headers);
    res.end(body);
  };

  return async (req, res, info) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const base = { 'x-amz-request-id': info.requestId, 'x-amz-id-2': extendedRequestId() };
    try {
      const addr = addressOf(headerOf(req, 'host'), info.rawPath);
      const query = parseQuery(info.rawQuery);
      const auth = await verifySigV4(
        { method, rawPath: info.rawPath, rawQuery: info.rawQuery, headers: req.headers },
        ctx.iam,
        ctx.clock.now(),
        regions,
      );
      if (!roleSatisfies(auth.key.role, S3_ROLE)) throw accessDenied();
      const op = route(method, addr, query, req.headers);
      let body: DecodedBody | undefined;
      const call: S3Call = {
        app: ctx,
        repo,
        content,
        op,
        req,
        method,
        requestId: info.requestId,
        identity: auth.key,
        auth,
        bucket: addr.bucket,
        key: addr.key,
        query,
        header: (name) => headerOf(req, name),
        body: () => {
          if (!body) {
            bodyStarted.add(req);
            body = decodeBody(req, auth.payload, req.headers);
          }
          return body;
        },
      };
      const reply = await s3Operations[op](call);
      await send(req, res, reply, base);
    } catch (err) {
      fail(req, res, err, info, base);
    }
  };
}

/** What other services may do with Object Storage (services/s3/api.ts). */
function objectStorageApi(app: AppContext, repo: S3Repository, content: ObjectContent): ObjectStorageApi {
  /** The account's bucket, or undefined (another account's bucket is as good as missing). */
  const owned = async (accountId: string, name: string) => {
    if (!isValidBucketName(name)) return undefined;
    const b = await repo.getBucket(name);
    return b && b.account_id === accountId ? b : undefined;
  };
  /** As `owned`, for the methods that answer a missing bucket with ObjectStorageError. */
  const mine = async (accountId: string, bucket: string) => {
    if (!(await owned(accountId, bucket))) throw new ObjectStorageError('NoSuchBucket', `bucket ${bucket} does not exist`);
  };
  return {
    async listObjects(accountId, bucket, prefix) {
      await mine(accountId, bucket);
      const out: Array<{ key: string; size: number }> = [];
      let after: string | undefined;
      for (;;) {
        const rows = await repo.listObjects(bucket, after === undefined ? { from: prefix, limit: 1000 } : { after, limit: 1000 });
        for (const r of rows) {
          if (!r.key.startsWith(prefix)) return out;
          out.push({ key: r.key, size: Number(r.size) });
        }
        if (rows.length < 1000) return out;
        after = rows[rows.length - 1]!.key;
      }
    },
    async copyObjectToFile(accountId, bucket, key, dest) {
      await mine(accountId, bucket);
      const obj = await repo.getObject(bucket, key);
      if (!obj) throw new ObjectStorageError('NoSuchKey', `object ${bucket}/${key} does not exist`);
      const blob = obj.blobs.length === 1 ? obj.blobs[0]! : null;
      if (blob && blob.size === Number(obj.row.size) && app.blobs instanceof LocalBlobStore) {
        const release = content.pin([blob.blobId]);
        try {
          await fsp.copyFile(app.blobs.pathOf(blob.blobId), dest, fsConstants.COPYFILE_FICLONE);
          return;
        } catch (e) {
          // Replaced meanwhile (its blob gone): stream the current version below.
          if ((e as { code?: string }).code !== 'ENOENT') throw e;
        } finally {
          release();
        }
      }
      const current = await this.readObject(accountId, bucket, key);
      if (current === 'noBucket') throw new ObjectStorageError('NoSuchBucket', `bucket ${bucket} does not exist`);
      if (current === 'noObject') throw new ObjectStorageError('NoSuchKey', `object ${bucket}/${key} does not exist`);
      await pipeline(current.stream, createWriteStream(dest));
    },
    async writeObject(accountId, bucket, key, body, contentType) {
      await mine(accountId, bucket);
      checkKey(key);
      const stored = await content.store(Buffer.isBuffer(body) ? Readable.from([body]) : body, []);
      const now = app.clock.now();
      const row: ObjectRow = {
        bucket,
        key,
        version: newVersionId(),
        size: stored.blob.size,
        last_modified: now,
        etag: quotedMd5(stored.md5),
        headers: JSON.stringify(contentType ? { 'content-type': contentType } : {}),
        metadata: '{}',
        checksums: '{}',
        checksum_type: null,
        part_count: null,
      };
      let replaced: string[];
      try {
        replaced = await repo.putObject(row, [{ blobId: stored.blob.id, size: stored.blob.size }], [stored.blob], now);
      } catch (e) {
        await content.discard([stored.blob.id]);
        if (e instanceof BucketGone) throw new ObjectStorageError('NoSuchBucket', `bucket ${bucket} does not exist`);
        throw e;
      }
      await content.discard(replaced);
    },
    async listBuckets(accountId) {
      return (await repo.listBuckets(accountId)).filter((b) => b.sealed_fence_id === null).map((b) => ({ name: b.name, createdAt: b.created_at }));
    },
    async createBucket(trx, b) {
      if (!isValidBucketName(b.name)) throw new Error(`invalid bucket name ${JSON.stringify(b.name)}`);
      const region = app.config.s3Regions[0] ?? DEFAULT_S3_REGION;
      const r = await repo.createBucket({ name: b.name, account_id: b.accountId, region, created_at: app.clock.now(), sealed_fence_id: null }, trx);
      if (r === 'created' && b.sealedForFence !== undefined) await repo.sealBucket(trx, b.name, b.sealedForFence);
      return r === 'created' ? 'created' : 'taken';
    },
    async sealBucket(trx, name, fenceId) {
      await repo.sealBucket(trx, name, fenceId);
    },
    async bucketExists(accountId, name) {
      return (await owned(accountId, name)) !== undefined;
    },
    async statObject(accountId, bucket, key) {
      if (!(await owned(accountId, bucket))) return 'noBucket';
      const o = key === '' ? undefined : await repo.getObject(bucket, key);
      return o ? { size: Number(o.row.size) } : 'noObject';
    },
    async readObject(accountId, bucket, key) {
      if (!(await owned(accountId, bucket))) return 'noBucket';
      for (let attempt = 1; attempt <= 5; attempt++) {
        const o = key === '' ? undefined : await repo.getObject(bucket, key);
        if (!o) return 'noObject';
        const size = Number(o.row.size);
        if (o.blobs.reduce((n, b) => n + b.size, 0) !== size) continue; // replaced meanwhile
        if (size === 0) return { size, stream: Readable.from([]) };
        const release = content.pin(o.blobs.map((b) => b.blobId));
        try {
          // Bulk reads (another service's transfer): 1 MiB at a time.
          const stream = await content.open(segmentsFor(o.blobs, 0, size - 1), { highWaterMark: 1024 * 1024 });
          stream.once('close', release);
          return { size, stream };
        } catch (e) {
          release();
          if (!(e instanceof ContentGone)) throw e;
        }
      }
      throw new Error(`object ${bucket}/${key} kept changing while it was opened`);
    },
    async stageObject(source, maxBytes) {
      // No MD5 here (it costs twice the SHA-256 the blob store computes anyway): the ETag of a
      // staged object is derived from its SHA-256, with a `-1` suffix as S3 gives ETags that are
      // not an MD5 of the content (multipart), so clients do not check it as one.
      let blob;
      try {
        blob = await app.blobs.put(source, { maxBytes });
      } catch (e) {
        if (e instanceof ContentTooLargeError) throw new Error(`content exceeds ${maxBytes} bytes`);
        throw e;
      }
      return { blobId: blob.id, size: blob.size, sha256: blob.sha256, etag: `"${blob.sha256.slice(0, 32)}-1"`, blob };
    },
    async commitObject(trx, accountId, bucket, key, staged) {
      const b = await repo.getBucket(bucket, trx);
      if (!b || b.account_id !== accountId) throw new Error(`no bucket ${bucket} in account ${accountId}`);
      const now = app.clock.now();
      const row = {
        bucket,
        key,
        version: newVersionId(),
        size: staged.size,
        etag: staged.etag,
        headers: JSON.stringify({ 'content-type': 'application/octet-stream' }),
        metadata: '{}',
        checksums: '{}',
        checksum_type: null,
        part_count: null,
        last_modified: now,
      };
      const replaced = await repo.putObject(row, [{ blobId: staged.blobId, size: staged.size }], [staged.blob], now, undefined, trx);
      return () => content.discard(replaced);
    },
    async discard(staged) {
      await content.discard([staged.blobId]);
    },
    async deleteObject(trx, accountId, bucket, key) {
      const b = await repo.getBucket(bucket, trx);
      if (!b || b.account_id !== accountId) return async () => undefined;
      const ids = await repo.deleteObject(bucket, key, trx);
      return () => content.discard(ids);
    },
  };
}

export const s3Service = defineService({
  name: 's3',
  rawOperations: Object.keys(s3Operations),
  tables: s3Tables,
  migrations,
  create(app) {
    const repo = new S3Repository(app.store);
    // One content store for requests and for other services: blobs pinned by a reader are
    // not deleted under it by either.
    const content = new ObjectContent(app.blobs, app.logger);
    return { app, raw: createS3Service(app, repo, content), api: objectStorageApi(app, repo, content) };
  },
});
