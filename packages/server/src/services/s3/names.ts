/** Bucket-name and key rules of S3, and the wire forms of dates and ETags. */
import { S3Error } from './auth.js';

export const MAX_KEY_BYTES = 1024;

/** S3 bucket naming rules (general purpose buckets). */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) return false;
  return true;
}

export function checkBucketName(name: string): void {
  if (!isValidBucketName(name)) {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
}

/**
 * U+0000 in a key, a bucket name or a query parameter (a prefix, a marker, …). PostgreSQL cannot
 * store it in text and XML 1.0 cannot carry it in a listing, so it is refused on every database
 * alike, before anything is read or stored (inferred: S3's guidelines only warn about control
 * characters in keys).
 */
export function nulRefused(argument: string): S3Error {
  return new S3Error(400, 'InvalidArgument', 'Object keys, bucket names and request parameters must not contain the NUL character (U+0000).', {
    ArgumentName: argument,
  });
}

export function checkKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', {
      MaxSizeAllowed: String(MAX_KEY_BYTES),
      Size: String(Buffer.byteLength(key, 'utf8')),
    });
  }
  if (key.length === 0) throw new S3Error(400, 'InvalidArgument', 'The key must not be empty.');
}

/** UTF-8 byte order, the order S3 lists keys in (JS string comparison is UTF-16 order). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * ISO 8601 as in S3 XML (`2009-10-12T17:50:30.000Z`): whole seconds, like `Last-Modified`, so a
 * listing and a HEAD of the same object agree.
 */
export const isoDate = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString();
/** RFC 1123, as in `Last-Modified`. */
export const httpDate = (ms: number): string => new Date(ms).toUTCString();

/** Parses an HTTP date (RFC 1123, RFC 850 or asctime; Date.parse reads all three); NaN when invalid. */
export function parseHttpDate(s: string): number {
  return Date.parse(s);
}

/** `"abc"` → `abc`; a weak prefix is dropped. */
export function unquoteEtag(s: string): string {
  let v = s.trim();
  if (v.startsWith('W/')) v = v.slice(2);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  return v;
}

/** Whether an `If-Match` / `If-None-Match` list matches an ETag (`*` matches any). */
export function etagMatches(header: string, etag: string): boolean {
  const bare = unquoteEtag(etag);
  return header.split(',').some((e) => {
    const v = e.trim();
    return v === '*' || unquoteEtag(v) === bare;
  });
}

/**
 * `encoding-type=url`: S3 percent-encodes keys in listings like an HTML form (space as `+`), keeping
 * `/` as it is.
 */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
