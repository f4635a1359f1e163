/** ListObjectsV2 and ListObjects (v1): prefix, delimiter, markers, pagination, url encoding. */
import { intParam, invalidArgument, ownedBucket, parseJsonRecord, xmlReply, type S3Call, type S3Handler } from './common.js';
import { owner } from './buckets.js';
import { compareKeys, isoDate, urlEncodeKey } from './names.js';
import type { XmlNode } from './xml.js';

const MAX_KEYS = 1000;
const BATCH = 1000;

interface ListedObject {
  key: string;
  size: number;
  etag: string;
  last_modified: number;
  checksums: string;
}

export interface Listing {
  contents: ListedObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned (the next marker). */
  last: string | undefined;
}

/**
 * The smallest string greater than every string that starts with `cp`, when cheap to compute
 * (`cp` ends in an ASCII character other than DEL): lets a listing skip all the keys a common
 * prefix rolls up in one query.
 */
function pastPrefix(cp: string): string | undefined {
  const c = cp.charCodeAt(cp.length - 1);
  return c < 0x7e ? cp.slice(0, -1) + String.fromCharCode(c + 1) : undefined;
}

/**
 * One page of keys and common prefixes in UTF-8 byte order, after `marker` (exclusive; a common
 * prefix at or before the marker was returned already).
 */
export async function listPage(
  call: S3Call,
  opts: { prefix: string; delimiter: string; maxKeys: number; marker: string | undefined },
): Promise<Listing> {
  const { prefix, delimiter, maxKeys, marker } = opts;
  const out: Listing = { contents: [], commonPrefixes: [], truncated: false, last: undefined };
  if (maxKeys === 0) return out;
  // Position: keys >= gte and > gt.
  let gte: string | undefined = prefix || undefined;
  let gt: string | undefined = marker;
  let count = 0;
  for (;;) {
    const rows = await call.repo.listObjects(call.bucket, { from: gte, after: gt, limit: BATCH });
    if (rows.length === 0) return out;
    let requery = false;
    for (const row of rows) {
      gt = row.key;
      if (!row.key.startsWith(prefix)) return out; // past the prefix range: nothing after it matches
      let cp: string | undefined;
      if (delimiter) {
        const i = row.key.indexOf(delimiter, prefix.length);
        if (i >= 0) cp = row.key.slice(0, i + delimiter.length);
      }
      if (cp !== undefined) {
        const seen = (marker !== undefined && compareKeys(cp, marker) <= 0) || out.commonPrefixes[out.commonPrefixes.length - 1] === cp;
        if (!seen) {
          if (count >= maxKeys) {
            out.truncated = true;
            return out;
          }
          out.commonPrefixes.push(cp);
          out.last = cp;
          count++;
        }
        const skip = pastPrefix(cp);
        if (skip !== undefined) {
          gte = skip;
          gt = undefined;
          requery = true;
          break;
        }
        continue;
      }
      if (count >= maxKeys) {
        out.truncated = true;
        return out;
      }
      out.contents.push({
        key: row.key,
        size: Number(row.size),
        etag: row.etag,
        last_modified: Number(row.last_modified),
        checksums: row.checksums,
      });
      out.last = row.key;
      count++;
    }
    if (!requery && rows.length < BATCH) return out;
  }
}

interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  encode: (s: string) => string;
  encodingType: string | undefined;
}

function params(call: S3Call): ListParams {
  const encodingType = call.query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  }
  return {
    prefix: call.query.get('prefix') ?? '',
    delimiter: call.query.get('delimiter') ?? '',
    maxKeys: intParam(call, 'max-keys', MAX_KEYS, MAX_KEYS),
    encode: encodingType === 'url' ? urlEncodeKey : (s) => s,
    encodingType,
  };
}

function contentsXml(l: Listing, p: ListParams, withOwner: string | undefined): XmlNode[] {
  return l.contents.map((o) => {
    const algs = Object.keys(parseJsonRecord(o.checksums));
    return {
      Key: p.encode(o.key),
      LastModified: isoDate(o.last_modified),
      ETag: o.etag,
      ...(algs.length ? { ChecksumAlgorithm: algs.map((a) => a.toUpperCase()).join(',') } : {}),
      Size: o.size,
      Owner: withOwner === undefined ? undefined : owner(withOwner),
      StorageClass: 'STANDARD',
    };
  });
}

export const listObjectsV2: S3Handler = async (call) => {
  const bucket = await ownedBucket(call);
  const p = params(call);
  const token = call.query.get('continuation-token');
  const startAfter = call.query.get('start-after');
  let marker: string | undefined;
  if (token !== undefined) {
    const decoded = Buffer.from(token, 'base64url');
    const text = decoded.toString('utf8');
    // Only a token this server issued: `1:` and a key (never a NUL, which no key holds and a
    // PostgreSQL parameter cannot carry).
    if (token === '' || decoded.toString('base64url') !== token || !text.startsWith('1:') || text.includes('\u0000')) {
      throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
    }
    marker = text.slice(2);
  } else if (startAfter) {
    marker = startAfter;
  }
  const l = await listPage(call, { ...p, marker });
  const fetchOwner = call.query.get('fetch-owner') === 'true';
  return xmlReply('ListBucketResult', {
    Name: call.bucket,
    Prefix: p.encode(p.prefix),
    Delimiter: p.delimiter ? p.encode(p.delimiter) : undefined,
    MaxKeys: p.maxKeys,
    EncodingType: p.encodingType,
    KeyCount: l.contents.length + l.commonPrefixes.length,
    IsTruncated: l.truncated,
    ContinuationToken: token,
    NextContinuationToken: l.truncated && l.last !== undefined ? Buffer.from('1:' + l.last).toString('base64url') : undefined,
    StartAfter: startAfter !== undefined ? p.encode(startAfter) : undefined,
    Contents: contentsXml(l, p, fetchOwner ? bucket.account_id : undefined),
    CommonPrefixes: l.commonPrefixes.map((cp) => ({ Prefix: p.encode(cp) })),
  });
};

export const listObjects: S3Handler = async (call) => {
  const bucket = await ownedBucket(call);
  const p = params(call);
  const marker = call.query.get('marker') ?? '';
  const l = await listPage(call, { ...p, marker: marker || undefined });
  return xmlReply('ListBucketResult', {
    Name: call.bucket,
    Prefix: p.encode(p.prefix),
    Marker: p.encode(marker),
    // Only with a delimiter, as S3 does; without one the last key is the next marker.
    NextMarker: l.truncated && p.delimiter && l.last !== undefined ? p.encode(l.last) : undefined,
    MaxKeys: p.maxKeys,
    Delimiter: p.delimiter ? p.encode(p.delimiter) : undefined,
    EncodingType: p.encodingType,
    IsTruncated: l.truncated,
    Contents: contentsXml(l, p, bucket.account_id),
    CommonPrefixes: l.commonPrefixes.map((cp) => ({ Prefix: p.encode(cp) })),
  });
};
