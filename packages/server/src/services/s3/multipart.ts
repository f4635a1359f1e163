/**
 * Multipart uploads. Each part is one blob; CompleteMultipartUpload makes the object a manifest
 * of its parts' blobs (no copying) with the ETag `"md5(concatenated binary part MD5s)-N"`.
 */
import { createHash } from 'node:crypto';
import { S3Error } from './auth.js';
import { CHECKSUM_ALGORITHMS, checksumOf, isChecksumAlgorithm, type ChecksumAlgorithm } from './checksums.js';
import {
  checkObjectOptions,
  checksumElements,
  checksumHeaders,
  intParam,
  invalidArgument,
  noSuchUpload,
  objectHeadersOf,
  ownedBucket,
  parseJsonRecord,
  quotedMd5,
  readSmallBody,
  requestedChecksums,
  storeBody,
  xmlReply,
  type S3Call,
  type S3Handler,
} from './common.js';
import { owner } from './buckets.js';
import { copyContent, loadCopySource } from './objects.js';
import { checkKey, compareKeys, isoDate, unquoteEtag, urlEncodeKey } from './names.js';
import { BucketGone, newUploadId, newVersionId, UploadGone, type PartRow, type UploadRow } from './repository.js';
import { listOf, malformedXml, parseXml, textOf, type XmlNode } from './xml.js';

/** Every part but the last must be at least this large. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

const bucketMissing = (bucket: string) => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });

/** The upload named by `uploadId`, which must be for the call's bucket and key. */
async function theUpload(call: S3Call): Promise<UploadRow> {
  const id = call.query.get('uploadId') ?? '';
  const u = id ? await call.repo.getUpload(id) : undefined;
  if (!u || u.bucket !== call.bucket || u.key !== call.key) throw noSuchUpload(id);
  return u;
}

function partNumber(call: S3Call): number {
  const v = call.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', v);
  }
  return n;
}

export const createMultipartUpload: S3Handler = async (call) => {
  await ownedBucket(call);
  checkKey(call.key);
  const { headers, metadata } = objectHeadersOf(call);
  checkObjectOptions(call);
  const algorithm = call.header('x-amz-checksum-algorithm')?.toLowerCase() ?? null;
  if (algorithm !== null && !isChecksumAlgorithm(algorithm)) {
    throw invalidArgument(`Checksum algorithm ${algorithm.toUpperCase()} is not supported.`, 'x-amz-checksum-algorithm', algorithm);
  }
  let type = call.header('x-amz-checksum-type')?.toUpperCase() ?? null;
  if (type !== null && type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw invalidArgument('Value for x-amz-checksum-type header is invalid.', 'x-amz-checksum-type', type);
  }
  if (algorithm !== null) type ??= algorithm === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE';
  const now = call.app.clock.now();
  const uploadId = newUploadId(now);
  try {
    await call.repo.createUpload({
      upload_id: uploadId,
      bucket: call.bucket,
      key: call.key,
      account_id: call.identity.accountId,
      initiator: call.identity.accessKeyId,
      headers: JSON.stringify(headers),
      metadata: JSON.stringify(metadata),
      checksum_algorithm: algorithm,
      checksum_type: type,
      initiated_at: now,
    });
  } catch (e) {
    if (e instanceof BucketGone) throw bucketMissing(call.bucket);
    throw e;
  }
  const h: Record<string, string> = {};
  if (algorithm !== null && type !== null) {
    h['x-amz-checksum-algorithm'] = algorithm.toUpperCase();
    h['x-amz-checksum-type'] = type;
  }
  return xmlReply('InitiateMultipartUploadResult', { Bucket: call.bucket, Key: call.key, UploadId: uploadId }, 200, h);
};

async function savePart(call: S3Call, upload: UploadRow, n: number, stored: Awaited<ReturnType<typeof storeBody>>): Promise<PartRow> {
  const now = call.app.clock.now();
  const part: PartRow = {
    upload_id: upload.upload_id,
    part_number: n,
    blob_id: stored.blob.id,
    size: stored.blob.size,
    etag: quotedMd5(stored.md5),
    checksums: JSON.stringify(stored.checksums),
    last_modified: now,
  };
  let replaced: string[];
  try {
    replaced = await call.repo.putPart(part, stored.blob, now);
  } catch (e) {
    await call.content.discard([stored.blob.id]);
    if (e instanceof UploadGone) throw noSuchUpload(upload.upload_id);
    throw e;
  }
  await call.content.discard(replaced);
  return part;
}

function partAlgorithms(call: S3Call, upload: UploadRow): ChecksumAlgorithm[] {
  const algs = new Set(requestedChecksums(call));
  if (upload.checksum_algorithm && isChecksumAlgorithm(upload.checksum_algorithm)) algs.add(upload.checksum_algorithm);
  return [...algs];
}

export const uploadPart: S3Handler = async (call) => {
  await ownedBucket(call);
  const n = partNumber(call);
  const upload = await theUpload(call);
  const stored = await storeBody(call, partAlgorithms(call, upload));
  const part = await savePart(call, upload, n, stored);
  return { status: 200, headers: { etag: part.etag, ...checksumHeaders(stored.checksums, null) } };
};

export const uploadPartCopy: S3Handler = async (call) => {
  await ownedBucket(call);
  const n = partNumber(call);
  const upload = await theUpload(call);
  const { src, obj } = await loadCopySource(call);
  let range: { start: number; end: number } | null = null;
  const rv = call.header('x-amz-copy-source-range');
  if (rv !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rv.trim());
    if (!m || Number(m[2]) < Number(m[1])) {
      throw invalidArgument(
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
        'x-amz-copy-source-range',
        rv,
      );
    }
    range = { start: Number(m[1]), end: Number(m[2]) };
  }
  const algorithms = upload.checksum_algorithm && isChecksumAlgorithm(upload.checksum_algorithm) ? [upload.checksum_algorithm] : [];
  const { stored } = await copyContent(call, src, obj, range, algorithms);
  const part = await savePart(call, upload, n, stored);
  const checksums = stored.checksums as Record<string, string>;
  return xmlReply('CopyPartResult', { LastModified: isoDate(part.last_modified), ETag: part.etag, ...checksumElements(checksums) });
};

interface RequestedPart {
  number: number;
  etag: string;
  checksums: Record<string, string>;
}

function parseCompleteBody(body: Buffer): RequestedPart[] {
  const doc = parseXml(body, 'CompleteMultipartUpload');
  const parts = listOf(doc, 'Part').map((p) => {
    const num = textOf(p, 'PartNumber')?.trim() ?? '';
    const etag = textOf(p, 'ETag');
    if (!/^\d{1,5}$/.test(num) || etag === undefined) throw malformedXml();
    const checksums: Record<string, string> = {};
    for (const a of CHECKSUM_ALGORITHMS) {
      const v = textOf(p, `Checksum${a.toUpperCase()}`);
      if (v !== undefined) checksums[a] = v.trim();
    }
    return { number: Number(num), etag: unquoteEtag(etag), checksums };
  });
  if (parts.length === 0) throw malformedXml();
  return parts;
}

export const completeMultipartUpload: S3Handler = async (call) => {
  await ownedBucket(call);
  const first = await theUpload(call);
  const requested = parseCompleteBody(await readSmallBody(call, 16 * 1024 * 1024));
  const now = call.app.clock.now();
  let result;
  try {
    result = await call.repo.completeUpload(first.upload_id, (upload, parts) => {
      if (upload.bucket !== call.bucket || upload.key !== call.key) throw noSuchUpload(upload.upload_id);
      const byNumber = new Map(parts.map((p) => [p.part_number, p]));
      const used: PartRow[] = [];
      let prev = 0;
      for (const r of requested) {
        if (r.number <= prev) {
          throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', {
            UploadId: upload.upload_id,
          });
        }
        prev = r.number;
        const p = byNumber.get(r.number);
        const invalidPart = () =>
          new S3Error(
            400,
            'InvalidPart',
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            { UploadId: upload.upload_id, PartNumber: String(r.number), ETag: r.etag },
          );
        if (!p || unquoteEtag(p.etag) !== r.etag) throw invalidPart();
        const stored = parseJsonRecord(p.checksums);
        for (const [a, v] of Object.entries(r.checksums)) if (stored[a] !== undefined && stored[a] !== v) throw invalidPart();
        used.push(p);
      }
      used.forEach((p, i) => {
        if (i < used.length - 1 && Number(p.size) < MIN_PART_SIZE) {
          throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
            ProposedSize: String(p.size),
            MinSizeAllowed: String(MIN_PART_SIZE),
            PartNumber: String(p.part_number),
            ETag: p.etag,
          });
        }
      });
      const md5s = Buffer.concat(used.map((p) => Buffer.from(unquoteEtag(p.etag), 'hex')));
      const etag = `"${createHash('md5').update(md5s).digest('hex')}-${used.length}"`;
      const checksums: Record<string, string> = {};
      let type: string | null = null;
      const alg = upload.checksum_algorithm;
      if (alg && isChecksumAlgorithm(alg) && upload.checksum_type === 'COMPOSITE') {
        const each = used.map((p) => parseJsonRecord(p.checksums)[alg]);
        if (each.every((v) => v !== undefined)) {
          checksums[alg] = `${compositeChecksum(alg, each)}-${used.length}`;
          type = 'COMPOSITE';
        }
      }
      return {
        used,
        row: {
          bucket: call.bucket,
          key: call.key,
          version: newVersionId(),
          size: used.reduce((s, p) => s + Number(p.size), 0),
          etag,
          headers: upload.headers,
          metadata: upload.metadata,
          checksums: JSON.stringify(checksums),
          checksum_type: type,
          part_count: used.length,
          last_modified: now,
        },
      };
    });
  } catch (e) {
    if (e instanceof UploadGone) throw noSuchUpload(first.upload_id);
    if (e instanceof BucketGone) throw bucketMissing(call.bucket);
    throw e;
  }
  await call.content.discard(result.discard);
  const checksums = parseJsonRecord(result.row.checksums);
  const host = call.header('host') ?? 'localhost';
  return xmlReply(
    'CompleteMultipartUploadResult',
    {
      Location: `http://${host}/${call.bucket}/${encodeURIComponent(call.key).replace(/%2F/g, '/')}`,
      Bucket: call.bucket,
      Key: call.key,
      ETag: result.row.etag,
      ...checksumElements(checksums),
      ...(result.row.checksum_type ? { ChecksumType: result.row.checksum_type } : {}),
    },
    200,
    checksumHeaders(checksums, result.row.checksum_type),
  );
};

/** The checksum of the concatenated binary part checksums (S3 "composite" checksums). */
function compositeChecksum(alg: ChecksumAlgorithm, parts: string[]): string {
  // The composite is the same algorithm over the concatenated digests.
  const data = Buffer.concat(parts.map((p) => Buffer.from(p, 'base64')));
  return checksumOf(alg, data);
}

export const abortMultipartUpload: S3Handler = async (call) => {
  await ownedBucket(call);
  const upload = await theUpload(call);
  const ids = await call.repo.abortUpload(upload.upload_id);
  if (ids === null) throw noSuchUpload(upload.upload_id);
  await call.content.discard(ids);
  return { status: 204, headers: {} };
};

export const listParts: S3Handler = async (call) => {
  const bucket = await ownedBucket(call);
  const upload = await theUpload(call);
  const max = intParam(call, 'max-parts', 1000, 1000);
  const marker = intParam(call, 'part-number-marker', 0);
  const rows = await call.repo.listParts(upload.upload_id, { after: marker, limit: max + 1 });
  const page = rows.slice(0, max);
  const truncated = rows.length > max;
  const last = page[page.length - 1];
  return xmlReply('ListPartsResult', {
    Bucket: call.bucket,
    Key: call.key,
    UploadId: upload.upload_id,
    Initiator: { ID: upload.initiator, DisplayName: upload.initiator },
    Owner: owner(bucket.account_id),
    StorageClass: 'STANDARD',
    PartNumberMarker: marker,
    NextPartNumberMarker: last ? last.part_number : undefined,
    MaxParts: max,
    IsTruncated: truncated,
    ...(upload.checksum_algorithm ? { ChecksumAlgorithm: upload.checksum_algorithm.toUpperCase() } : {}),
    ...(upload.checksum_type ? { ChecksumType: upload.checksum_type } : {}),
    Part: page.map((p) => ({
      PartNumber: p.part_number,
      LastModified: isoDate(Number(p.last_modified)),
      ETag: p.etag,
      Size: Number(p.size),
      ...checksumElements(parseJsonRecord(p.checksums)),
    })),
  });
};

export const listMultipartUploads: S3Handler = async (call) => {
  const bucket = await ownedBucket(call);
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = call.query.get('delimiter') ?? '';
  const max = intParam(call, 'max-uploads', 1000, 1000);
  const keyMarker = call.query.get('key-marker') || undefined;
  const uploadIdMarker = keyMarker !== undefined ? call.query.get('upload-id-marker') || undefined : undefined;
  const encodingType = call.query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  }
  const enc = encodingType === 'url' ? urlEncodeKey : (s: string) => s;
  const uploads: UploadRow[] = [];
  const cps: string[] = [];
  let truncated = false;
  let afterKey = keyMarker;
  let afterUploadId = uploadIdMarker;
  let next: { key: string; uploadId: string } | undefined;
  scan: for (;;) {
    const rows = await call.repo.listUploads(call.bucket, { from: prefix || undefined, afterKey, afterUploadId, limit: 1000 });
    for (const u of rows) {
      afterKey = u.key;
      afterUploadId = u.upload_id;
      if (!u.key.startsWith(prefix)) break scan;
      const i = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
      if (i >= 0) {
        const cp = u.key.slice(0, i + delimiter.length);
        if (cps[cps.length - 1] === cp || (keyMarker !== undefined && compareKeys(cp, keyMarker) <= 0)) continue;
        if (uploads.length + cps.length >= max) {
          truncated = true;
          break scan;
        }
        cps.push(cp);
        next = { key: cp, uploadId: '' };
        continue;
      }
      if (uploads.length + cps.length >= max) {
        truncated = true;
        break scan;
      }
      uploads.push(u);
      next = { key: u.key, uploadId: u.upload_id };
    }
    if (rows.length < 1000) break;
  }
  return xmlReply('ListMultipartUploadsResult', {
    Bucket: call.bucket,
    KeyMarker: enc(keyMarker ?? ''),
    UploadIdMarker: uploadIdMarker ?? '',
    NextKeyMarker: truncated && next ? enc(next.key) : undefined,
    NextUploadIdMarker: truncated && next ? next.uploadId : undefined,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    Prefix: enc(prefix),
    MaxUploads: max,
    EncodingType: encodingType,
    IsTruncated: truncated,
    Upload: uploads.map(
      (u): XmlNode => ({
        Key: enc(u.key),
        UploadId: u.upload_id,
        Initiator: { ID: u.initiator, DisplayName: u.initiator },
        Owner: owner(bucket.account_id),
        StorageClass: 'STANDARD',
        Initiated: isoDate(Number(u.initiated_at)),
        ...(u.checksum_algorithm ? { ChecksumAlgorithm: u.checksum_algorithm.toUpperCase() } : {}),
      }),
    ),
    CommonPrefixes: cps.map((cp) => ({ Prefix: enc(cp) })),
  });
};
