/**
 * AWS Signature Version 4 for Object Storage (S3 API), header form: what the web console signs
 * its S3 calls with. The server verifies with its own canonicalisation
 * (packages/server/src/services/s3/sigv4.ts); `test/signing-sigv4.test.ts` holds this signer equal
 * to the official one (@smithy/signature-v4).
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n \n SignedHeaders \n PayloadHash
 *   StringToSign     = AWS4-HMAC-SHA256 \n amzDate \n date/region/s3/aws4_request \n hex(SHA256(CanonicalRequest))
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
 *
 * S3 paths are encoded once (no double encoding, unlike other AWS services).
 */
import { hmacSha256, hmacSha256Hex, sha256Hex } from '#sdk-crypto';
import { uriEncode } from './bce.js';

export const SIGV4_UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** `YYYYMMDDTHHMMSSZ`. */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export interface SigV4SignInput {
  method: string;
  /** The URL as sent (its path is already percent-encoded, as `new URL` leaves it). */
  url: URL;
  /** Headers to sign besides `host`, `x-amz-date` and `x-amz-content-sha256` (any name case). */
  headers?: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` (the default). */
  payloadHash?: string;
  date?: Date;
}

/** RFC 3986 decoding of one path or query component (`%XY` → byte; `+` stays `+`). */
function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The headers to send (besides the body's own): `x-amz-date`, `x-amz-content-sha256`, any given
 * ones and `authorization`. `host` is signed but not returned: a browser sets it itself.
 */
export function sigv4SignHeaders(input: SigV4SignInput): Record<string, string> {
  const date = input.date ?? new Date();
  const amzDate = formatAmzDate(date);
  const shortDate = amzDate.slice(0, 8);
  const service = input.service ?? 's3';
  const payloadHash = input.payloadHash ?? SIGV4_UNSIGNED_PAYLOAD;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) out[k.toLowerCase()] = v;
  out['x-amz-date'] = amzDate;
  out['x-amz-content-sha256'] = payloadHash;
  const toSign: Record<string, string> = { ...out, host: input.url.host };
  const names = Object.keys(toSign).sort();
  const canonicalHeaders = names.map((n) => `${n}:${toSign[n]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalUri = uriEncode(decodeComponent(input.url.pathname || '/'), false) || '/';
  const pairs: Array<[string, string]> = [];
  const rawQuery = input.url.search.startsWith('?') ? input.url.search.slice(1) : input.url.search;
  for (const item of rawQuery.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const k = decodeComponent(eq < 0 ? item : item.slice(0, eq));
    const v = decodeComponent(eq < 0 ? '' : item.slice(eq + 1));
    pairs.push([uriEncode(k), uriEncode(v)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalRequest = [
    input.method.toUpperCase(), canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash,
  ].join('\n');
  const scope = `${shortDate}/${input.region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const kDate = hmacSha256('AWS4' + input.secretAccessKey, shortDate);
  const kRegion = hmacSha256(kDate, input.region);
  const kService = hmacSha256(kRegion, service);
  const kSigning = hmacSha256(kService, 'aws4_request');
  const signature = hmacSha256Hex(kSigning, stringToSign);
  out['authorization'] = `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
