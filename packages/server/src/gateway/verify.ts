/**
 * Signature verifiers, one per scheme (../shared/spec/auth.md). The canonicalisation code is the
 * SDK's own signing code, so client and server can never disagree on it.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  ncpStringToSign,
  parseBceAuthorization,
  bceCanonicalUri,
  bceCanonicalQuery,
  bceCanonicalHeaders,
  defaultSignedHeaderNames,
  bceSigningKey,
  parseBceQuery,
} from '@stockade/sdk';
import { ApiError } from '../platform/errors.js';
import type { Lang } from '../platform/i18n.js';
import { t } from './i18n.js';
import type { Iam, ResolvedKey } from '../iam/iam.js';

export interface SignedRequest {
  method: string;
  /** The request-target exactly as received: path and query, percent-encoding preserved. */
  target: string;
  rawPath: string;
  rawQuery: string | null;
  headers: IncomingHttpHeaders;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * A query string as the gateway reads it: split on `&`, then on the first `=`, each side
 * percent-decoded; `+` is a literal plus (clients encode a space as `%20`).
 */
export function readQuery(rawQuery: string | null): Array<[string, string]> {
  return rawQuery ? [...new URLSearchParams(rawQuery.replace(/\+/g, '%2B'))] : [];
}

/** A query split like `readQuery` but taken literally, nothing decoded. */
function splitLiterally(query: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

function samePairs(a: Array<[string, string]>, b: Array<[string, string]>): boolean {
  return a.length === b.length && a.every(([k, v], i) => b[i]?.[0] === k && b[i]?.[1] === v);
}

/**
 * The decoded form of a query, for clients that sign it instead of the wire form (auth.md
 * §2.3 step 5a), or null when accepting a signature over it could let the signature validate
 * a request that the server reads differently: decoding must not change how the query splits
 * into parameters (`limit%3D5` is one parameter named `limit=5`, not `limit` = 5), and the
 * decoded text, read as a query itself, must mean the same (`%2541` decodes to `%41`, which a
 * client signing the wire form meant as `A`).
 */
export function decodedQueryReadAlike(rawQuery: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawQuery);
  } catch {
    return null; // undecodable: only the wire form can match
  }
  if (decoded === rawQuery) return null;
  const read = readQuery(rawQuery);
  return samePairs(read, splitLiterally(decoded)) && samePairs(read, readQuery(decoded)) ? decoded : null;
}

/** Secrets as HMAC KeyObjects (an HMAC keyed with one starts faster than with a new Buffer); bounded. */
const ncpKeys = new Map<string, KeyObject>();

/** The SDK's `ncpSignature` (base64 HMAC-SHA256 keyed with the UTF-8 secret), with the key kept. */
export function ncpHmac(secret: string, stringToSign: string): string {
  let k = ncpKeys.get(secret);
  if (k === undefined) {
    if (ncpKeys.size >= 1024) ncpKeys.clear();
    ncpKeys.set(secret, (k = createSecretKey(Buffer.from(secret, 'utf8'))));
  }
  return createHmac('sha256', k).update(stringToSign, 'utf8').digest('base64');
}

/** NCP API Gateway window: requests 5 minutes or more away from server time are refused (auth.md §2.5). */
export const NCP_WINDOW_MS = 300_000;

export async function verifyNcp(req: SignedRequest, iam: Iam, now: number, lang: Lang): Promise<ResolvedKey> {
  const fail = (key: Parameters<typeof t>[1]) =>
    new ApiError(401, '200', t(lang, 'auth.failed'), t(lang, key), 'gateway');
  const ts = header(req.headers, 'x-ncp-apigw-timestamp');
  const ak = header(req.headers, 'x-ncp-iam-access-key');
  // The Go SDK sends the v2 signature under the legacy v1 header name (auth.md §2.6).
  const sig = header(req.headers, 'x-ncp-apigw-signature-v2') ?? header(req.headers, 'x-ncp-apigw-signature-v1');
  if (!ts || !ak || !sig) throw fail('auth.missing');
  if (!/^\d{1,16}$/.test(ts) || Math.abs(now - Number(ts)) >= NCP_WINDOW_MS) throw fail('auth.timestamp');
  const key = await iam.resolve(ak);
  if (!key) throw fail('auth.unknownKey');
  const candidates = [req.target];
  // Compatibility fallbacks (auth.md §2.3 step 5): a client that signed the decoded query
  // (only where it reads as the wire form does), or the bare path when it sent an empty `?`.
  if (req.rawQuery !== null) {
    const decoded = decodedQueryReadAlike(req.rawQuery);
    if (decoded !== null) candidates.push(`${req.rawPath}?${decoded}`);
    if (req.rawQuery === '') candidates.push(req.rawPath);
  }
  for (const target of candidates) {
    if (safeEqual(ncpHmac(key.secret, ncpStringToSign(req.method, target, ts, ak)), sig)) return key;
  }
  throw fail('auth.signature');
}

/** BCE: a request time more than 30 minutes away from server time is refused (auth.md §1.5 step 4). */
export const BCE_SKEW_MS = 30 * 60_000;

/**
 * The longest validity honoured for a bce-auth-v1 signature, whatever `expirationPeriodInSeconds`
 * says: 7 days. Baidu documents no maximum for the header (the SDKs default to 1800 s; the Java
 * SDK accepts up to 2^31 − 1 s, about 68 years), so a captured request could otherwise be
 * replayed for years. 7 days is S3's limit for a presigned request; a longer period is accepted
 * but counts as 7 days (the request then expires with `RequestExpired`).
 */
export const BCE_MAX_EXPIRATION_S = 7 * 86_400;

const INVALID_AUTH_HEADER = 'The HTTP authorization header is invalid. Consult the service documentation for details.';

function bceError(status: number, code: string, message: string): ApiError {
  return new ApiError(status, code, message);
}

function parseIsoSeconds(s: string): number {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s) ? Date.parse(s) : NaN;
}

export async function verifyBce(req: SignedRequest, iam: Iam, now: number): Promise<ResolvedKey> {
  const authorization = header(req.headers, 'authorization');
  if (!authorization) throw bceError(403, 'AccessDenied', 'Access denied.');
  const auth = parseBceAuthorization(authorization);
  if (!auth) throw bceError(400, 'InvalidHTTPAuthHeader', INVALID_AUTH_HEADER);
  // The signature must cover Host (auth.md §1.4.4): listed explicitly, or implied by an empty
  // list (the default set), and present on the request. Otherwise it would hold for any host.
  const host = header(req.headers, 'host')?.trim();
  if (!host || (auth.signedHeaders.length > 0 && !auth.signedHeaders.includes('host'))) {
    throw bceError(400, 'InvalidHTTPAuthHeader', INVALID_AUTH_HEADER);
  }
  const key = await iam.resolve(auth.accessKeyId);
  if (!key) throw bceError(403, 'InvalidAccessKeyId', 'The Access Key ID you provided does not exist in our records.');

  const signedAt = parseIsoSeconds(auth.timestamp);
  if (now > signedAt + Math.min(auth.expiration, BCE_MAX_EXPIRATION_S) * 1000) {
    throw bceError(400, 'RequestExpired', `Request has expired. Timestamp date is ${auth.timestamp}.`);
  }
  const bceDate = header(req.headers, 'x-bce-date');
  const dated = bceDate !== undefined ? parseIsoSeconds(bceDate.trim()) : NaN;
  if (signedAt - now > BCE_SKEW_MS || (!Number.isNaN(dated) && Math.abs(dated - now) > BCE_SKEW_MS)) {
    throw bceError(
      403,
      'RequestTimeTooSkewed',
      "The difference between the request time and the server's time is too large.",
    );
  }

  let decodedPath: string;
  let pairs: Array<[string, string]>;
  try {
    decodedPath = decodeURIComponent(req.rawPath);
    pairs = parseBceQuery(req.rawQuery ?? '');
  } catch {
    throw bceError(400, 'InvalidURI', 'Could not parse the specified URI.');
  }
  const flat: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) flat[k] = Array.isArray(v) ? v.join(',') : v;

  const prefix = `bce-auth-v1/${auth.accessKeyId}/${auth.timestamp}/${auth.expiration}`;
  const signingKey = bceSigningKey(key.secret, prefix);
  const head = `${req.method}\n${bceCanonicalUri(decodedPath)}\n${bceCanonicalQuery(pairs)}\n`;
  const headerSets =
    auth.signedHeaders.length > 0
      ? [
          auth.signedHeaders,
          // Compatibility (auth.md §1.5 step 6): SDKs that also signed every x-bce-* header.
          [...new Set([...auth.signedHeaders, ...Object.keys(flat).filter((h) => h.startsWith('x-bce-'))])],
        ]
      : [defaultSignedHeaderNames(flat)];
  for (const names of headerSets) {
    const canonical = head + bceCanonicalHeaders(flat, names).canonical;
    const expected = createHmac('sha256', signingKey).update(canonical).digest('hex');
    if (safeEqual(expected, auth.signature)) return key;
  }
  throw bceError(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.',
  );
}
