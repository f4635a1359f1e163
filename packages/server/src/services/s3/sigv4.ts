/**
 * AWS Signature Version 4 verification for the S3 API: the `Authorization: AWS4-HMAC-SHA256 …`
 * header form and the presigned query form. The expected signature is computed over the request
 * as received exactly as the AWS SDK's own signer (`SignatureV4` from @smithy/signature-v4)
 * computes it, so client and server canonicalise alike (a test holds the two together). Errors
 * are the ones S3 answers with.
 */
import crypto, { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Iam, ResolvedKey } from '../../iam/iam.js';
import { DEFAULT_S3_REGION } from '../../config.js';
import { S3Error, type PayloadMode, type SigV4Input, type VerifiedRequest } from './auth.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** Requests whose time is further than this from the server's are refused (S3: 15 minutes). */
export const MAX_SKEW_MS = 15 * 60_000;
/** Longest presigned-URL lifetime S3 accepts, in seconds (one week). */
export const MAX_PRESIGNED_EXPIRES = 604_800;

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';

/* ------------------------------------------------------------------------ parsing --- */

interface Credential {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
}

interface ParsedAuth {
  presigned: boolean;
  credential: Credential;
  /** Lower-case names, in the order the client listed them. */
  signedHeaders: string[];
  signature: string;
  /** The signing time, ISO 8601 basic (`yyyymmddThhmmssZ`). */
  amzDate: string;
  /** The request time in ms (for the skew window). */
  time: number;
  /** What the client gave as its time (for error bodies). */
  timeText: string;
  /** Presigned only: X-Amz-Expires, seconds. */
  expires: number;
  /** Presigned only: the decoded query minus X-Amz-Signature. */
  query: Array<[string, string]>;
}

function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const AMZ_DATE_RE = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/;

/**
 * Dates already parsed: every request of the same second (and every credential of the same day)
 * carries the same text. Bounded: emptied when full.
 */
const parsedAmzDates = new Map<string, number>();

/** `yyyymmddThhmmssZ` → ms since epoch, or NaN. */
export function parseAmzDate(s: string): number {
  let t = parsedAmzDates.get(s);
  if (t === undefined) {
    t = parseAmzDateText(s);
    if (parsedAmzDates.size >= 256) parsedAmzDates.clear();
    parsedAmzDates.set(s, t);
  }
  return t;
}

function parseAmzDateText(s: string): number {
  const m = AMZ_DATE_RE.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(t);
  // Reject out-of-range fields (Feb 30th, 25h…) rather than letting Date roll them over.
  if (back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== se)
    return NaN;
  return t;
}

let lastAmzDate = { ms: NaN, text: '' };

/** ms since epoch → `yyyymmddThhmmssZ` (the last one is kept: requests of one second share it). */
function toAmzDate(ms: number): string {
  if (ms !== lastAmzDate.ms) {
    lastAmzDate = { ms, text: new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '') };
  }
  return lastAmzDate.text;
}

/** Split a raw query string into decoded name/value pairs (`a` alone is `a=`). */
export function parseQuery(rawQuery: string | null): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  if (!rawQuery) return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      out.push([decodeURIComponent(name), decodeURIComponent(value)]);
    } catch {
      return null;
    }
  }
  return out;
}

const CREDENTIAL_RE = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/([^/]+)$/;

/**
 * The credential scope. Its region must be one the server serves (`--s3-region`); otherwise S3's
 * answer, naming the region expected (the first served) in the message and a `<Region>` element.
 */
function parseCredential(
  value: string,
  regions: readonly string[],
  fail: (detail: string, extra?: Record<string, string>) => S3Error,
): Credential {
  const m = CREDENTIAL_RE.exec(value);
  const malformed = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';
  if (!m) throw fail(malformed);
  const [, accessKeyId, shortDate, region, service, terminal] = m as unknown as [string, string, string, string, string, string];
  if (Number.isNaN(parseAmzDate(`${shortDate}T000000Z`))) throw fail(malformed);
  if (!regions.includes(region)) {
    const expected = regions[0] ?? DEFAULT_S3_REGION;
    throw fail(`the region '${region}' is wrong; expecting '${expected}'`, { Region: expected });
  }
  if (service !== 's3') throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return { accessKeyId, shortDate, region, service };
}

function parseSignedHeaders(value: string): string[] | null {
  if (value === '') return null;
  const names = value.split(';');
  return names.every((n) => /^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(n)) ? names : null;
}

function headerMalformed(detail: string, extra: Record<string, string> = {}): S3Error {
  return new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, extra);
}

function queryError(message: string, extra: Record<string, string> = {}): S3Error {
  return new S3Error(400, 'AuthorizationQueryParametersError', message, extra);
}

function requestTime(headers: IncomingHttpHeaders): { amzDate: string; time: number; text: string } {
  const amz = headerValue(headers, 'x-amz-date')?.trim();
  if (amz !== undefined) {
    const t = parseAmzDate(amz);
    if (!Number.isNaN(t)) return { amzDate: amz, time: t, text: amz };
  }
  const date = headerValue(headers, 'date')?.trim();
  if (amz === undefined && date !== undefined) {
    // SigV4 also takes its time from `Date` (RFC 7231, or ISO 8601 basic).
    const t = AMZ_DATE_RE.test(date) ? parseAmzDate(date) : Date.parse(date);
    if (!Number.isNaN(t)) return { amzDate: toAmzDate(t), time: t, text: date };
  }
  throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

function parseHeaderAuth(authorization: string, headers: IncomingHttpHeaders, regions: readonly string[]): ParsedAuth {
  const m = /^\s*(\S+)\s*(.*)$/s.exec(authorization);
  const algorithm = m?.[1] ?? '';
  if (algorithm !== SIGV4_ALGORITHM) {
    throw new S3Error(400, 'InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const fields = new Map<string, string>();
  for (const part of (m?.[2] ?? '').split(/[\s,]+/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0 || fields.has(name) || !['Credential', 'SignedHeaders', 'Signature'].includes(name)) {
      throw headerMalformed(`the authorization component "${part}" is malformed.`);
    }
    fields.set(name, part.slice(eq + 1));
  }
  const credentialText = fields.get('Credential');
  const signedText = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credentialText === undefined || signedText === undefined || signature === undefined) {
    throw headerMalformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const credential = parseCredential(credentialText, regions, headerMalformed);
  const signedHeaders = parseSignedHeaders(signedText);
  if (!signedHeaders) throw headerMalformed(`the SignedHeaders component "${signedText}" is malformed.`);
  if (!signedHeaders.includes('host')) throw headerMalformed("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const t = requestTime(headers);
  if (credential.shortDate !== t.amzDate.slice(0, 8)) {
    throw headerMalformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  return {
    presigned: false,
    credential,
    signedHeaders,
    signature,
    amzDate: t.amzDate,
    time: t.time,
    timeText: t.text,
    expires: 0,
    query: [],
  };
}

const REQUIRED_QUERY =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

function parseQueryAuth(query: Array<[string, string]>, regions: readonly string[]): ParsedAuth {
  const get = (name: string): string | undefined => {
    const hits = query.filter(([k]) => k === name);
    if (hits.length > 1) throw queryError(`Only one ${name} parameter is allowed.`);
    return hits[0]?.[1];
  };
  const algorithm = get('X-Amz-Algorithm');
  const credentialText = get('X-Amz-Credential');
  const amzDate = get('X-Amz-Date');
  const expiresText = get('X-Amz-Expires');
  const signedText = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  if (
    algorithm === undefined ||
    credentialText === undefined ||
    amzDate === undefined ||
    expiresText === undefined ||
    signedText === undefined ||
    signature === undefined
  ) {
    throw queryError(REQUIRED_QUERY);
  }
  if (algorithm !== SIGV4_ALGORITHM) throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const credential = parseCredential(credentialText, regions, (d, extra) =>
    queryError(`Error parsing the X-Amz-Credential parameter; ${d}`, extra),
  );
  const time = parseAmzDate(amzDate);
  if (Number.isNaN(time)) throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (!/^-?\d+$/.test(expiresText)) throw queryError('X-Amz-Expires should be a number');
  const expires = Number(expiresText);
  if (expires < 0) throw queryError('X-Amz-Expires must be non-negative');
  if (expires === 0) throw queryError('X-Amz-Expires must be greater than 0');
  if (expires > MAX_PRESIGNED_EXPIRES) {
    throw queryError('X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  const signedHeaders = parseSignedHeaders(signedText);
  if (!signedHeaders) throw queryError(`Error parsing the X-Amz-SignedHeaders parameter "${signedText}".`);
  if (!signedHeaders.includes('host')) throw queryError("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  if (credential.shortDate !== amzDate.slice(0, 8)) {
    throw queryError(
      `Invalid credential date "${credential.shortDate}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  return {
    presigned: true,
    credential,
    signedHeaders,
    signature,
    amzDate,
    time,
    timeText: amzDate,
    expires,
    query: query.filter(([k]) => k !== 'X-Amz-Signature'),
  };
}

/* ------------------------------------------------------------------------ payload --- */

const CONTENT_SHA256_VALUES =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.';

function invalidContentSha256(value: string): S3Error {
  return new S3Error(400, 'InvalidArgument', CONTENT_SHA256_VALUES, {
    ArgumentName: 'x-amz-content-sha256',
    ArgumentValue: value,
  });
}

/** Names listed in `x-amz-trailer`, lower-cased. */
export function trailerNames(headers: IncomingHttpHeaders): string[] {
  return (headerValue(headers, 'x-amz-trailer') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/** Check the declared payload hash's form before any signing work. */
function checkContentSha256(value: string): void {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return;
  if ([UNSIGNED_PAYLOAD, STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER].includes(value)) return;
  throw invalidContentSha256(value);
}

/* ----------------------------------------------------------------------- signing --- */

/*
 * The canonical request, string to sign and signature, computed here as the AWS SDK's signer
 * (@smithy/signature-v4 `sign()` and `presign()`, with `uriEscapePath: false`) computes them for
 * the request as received; test/s3/sigv4-equality.test.ts proves both agree on generated
 * requests. Written out instead of calling the SDK's signer, which costs several times more per
 * request (a request object cloned several times, async hashing, a key cache keyed by another HMAC).
 */

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** Hex SHA-256 of a string: the one-shot `crypto.hash` where Node has it (20.12+), which costs half. */
const sha256Hex: (data: string) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data, 'utf8').digest('hex');

/** Signing keys kept, by secret, date, region and service (least recently derived evicted first). */
export const SIGNING_KEY_CACHE_SIZE = 1024;
/** Each key as bytes and as a KeyObject (an HMAC keyed with a KeyObject starts faster). */
const signingKeys = new Map<string, { bytes: Buffer; object: KeyObject }>();

function cachedSigningKey(secret: string, shortDate: string, region: string, service: string): { bytes: Buffer; object: KeyObject } {
  const id = `${shortDate}/${region}/${service}/${secret}`;
  let key = signingKeys.get(id);
  if (key === undefined) {
    const bytes = hmac(hmac(hmac(hmac(`AWS4${secret}`, shortDate), region), service), 'aws4_request');
    key = { bytes, object: createSecretKey(bytes) };
    if (signingKeys.size >= SIGNING_KEY_CACHE_SIZE) {
      const oldest = signingKeys.keys().next();
      if (!oldest.done) signingKeys.delete(oldest.value);
    }
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * The SigV4 signing key (`AWS4<secret>` HMAC'd with the date, region, service and
 * `aws4_request`), derived once per secret, date, region and service and then reused.
 */
export function signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  return cachedSigningKey(secret, shortDate, region, service).bytes;
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;

/** RFC 3986 strict percent-encoding, as SigV4 wants (everything but A-Z a-z 0-9 - _ . ~). */
function strictEncode(s: string): string {
  if (UNRESERVED.test(s)) return s;
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The canonical query: names and values strictly encoded, sorted by name, the values of a
 * repeated name sorted too; `X-Amz-Signature` (any case) left out. `set` replaces parameters
 * (presigned form: the values the signer writes itself).
 */
function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>, set?: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 0 && !set) return '';
  const byName = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const list = byName.get(k);
    if (list) list.push(v);
    else byName.set(k, [v]);
  }
  if (set) for (const [k, v] of set) byName.set(k, [v]);
  const parts: Array<[string, string]> = [];
  for (const [k, values] of byName) {
    if (k.toLowerCase() === 'x-amz-signature') continue;
    const ek = strictEncode(k);
    const encoded = values.map((v) => `${ek}=${strictEncode(v)}`);
    if (encoded.length > 1) encoded.sort();
    parts.push([ek, encoded.join('&')]);
  }
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return parts.map((p) => p[1]).join('&');
}

const NEEDS_FOLDING = /[\r\n\t]|^ | $| {2}/;

/** A header value in the canonical request: line breaks and runs of blanks become one space, trimmed. */
function foldValue(v: string): string {
  return NEEDS_FOLDING.test(v) ? v.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '') : v;
}

/** As `foldValue`, then trimmed of any white space (the form a signed `Date` header is verified in). */
function foldValueTrim(v: string): string {
  return v.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim();
}

/**
 * How the canonical request is formed:
 * - `header`: the Authorization header form, as the SDK's `sign()` does: `authorization` is never
 *   a canonical header, `x-amz-date` (when listed) carries the signing time;
 * - `query`: the presigned form, as `presign()` does: nor is `x-amz-date`, and the X-Amz-*
 *   parameters carry the values the signer writes (sorted signed-header list included);
 * - `verbatim`: a request that signed `date` (which the SDK's signer never signs): the listed
 *   headers and the query exactly as received.
 */
type CanonicalForm = 'header' | 'query' | 'verbatim';

interface CanonicalHeaders {
  names: string[];
  lines: string;
}

function canonicalHeaders(form: CanonicalForm, auth: ParsedAuth, headers: IncomingHttpHeaders, contentSha256: string, longDate: string): CanonicalHeaders {
  const seen = new Set<string>();
  const entries: Array<[string, string]> = [];
  for (const name of auth.signedHeaders) {
    if (seen.has(name)) continue;
    seen.add(name);
    let v: string | undefined;
    if (form === 'verbatim') {
      v = headerValue(headers, name);
      if (v !== undefined) entries.push([name, foldValueTrim(v)]);
      continue;
    }
    if (name === 'authorization' || (name === 'x-amz-date' && form === 'query')) continue;
    if (name === 'x-amz-date') v = longDate;
    else if (name === 'x-amz-content-sha256') v = contentSha256;
    else {
      v = headerValue(headers, name);
      if (v !== undefined) v = foldValue(v);
    }
    if (v !== undefined) entries.push([name, v]);
  }
  // Clients list them sorted already (SigV4 asks them to); sort when one did not.
  for (let i = 1; i < entries.length; i++) {
    if ((entries[i - 1] as [string, string])[0] > (entries[i] as [string, string])[0]) {
      entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      break;
    }
  }
  const names: string[] = [];
  let lines = '';
  for (const [n, v] of entries) {
    lines += names.length === 0 ? `${n}:${v}` : `\n${n}:${v}`;
    names.push(n);
  }
  return { names, lines };
}

interface Signed {
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
}

/** The expected signature of a request whose path is `path` (one of `pathCandidates`). */
function expectedSignature(
  method: string,
  path: string,
  query: string,
  headers: CanonicalHeaders,
  contentSha256: string,
  requestDate: string,
  scope: string,
  key: KeyObject,
): Signed {
  const canonicalRequest = `${method}\n${path}\n${query}\n${headers.lines}\n\n${headers.names.join(';')}\n${contentSha256}`;
  const hashed = sha256Hex(canonicalRequest);
  const stringToSign = `${SIGV4_ALGORITHM}\n${requestDate}\n${scope}\n${hashed}`;
  return { signature: createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'), canonicalRequest, stringToSign };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The path forms to try: as received (what the AWS SDKs sign, since S3 paths are not
 * double-encoded), then each segment decoded and strictly re-encoded, for clients that send a
 * character unencoded (or encoded) where their signer did the opposite.
 */
function* pathCandidates(rawPath: string): Generator<string> {
  yield rawPath;
  let normalized: string;
  try {
    normalized = rawPath
      .split('/')
      .map((seg) => strictEncode(decodeURIComponent(seg)))
      .join('/');
  } catch {
    return; // undecodable path: only the wire form can match
  }
  if (normalized !== rawPath) yield normalized;
}

/** x-amz-* headers S3 does not require to be signed (their values are bound by the string to sign or unused). */
const UNSIGNED_AMZ_OK = new Set(['x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']);

/**
 * Verify a SigV4-signed S3 request (header or presigned form). Resolves with the key, the
 * region of the credential scope and how the body's integrity is declared; throws S3Error.
 * `regions` are the regions served (a scope naming another is refused).
 * A request with neither an Authorization header nor X-Amz-Algorithm is the caller's concern.
 */
export async function verifySigV4(
  input: SigV4Input,
  iam: Iam,
  now: number,
  regions: readonly string[] = [DEFAULT_S3_REGION],
): Promise<VerifiedRequest> {
  const { headers } = input;
  const authorization = headerValue(headers, 'authorization');
  const query = parseQuery(input.rawQuery);
  const presignedQuery = query?.some(([k]) => k === 'X-Amz-Algorithm') ?? false;
  if (authorization !== undefined && presignedQuery) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization },
    );
  }
  if (authorization === undefined && !presignedQuery) {
    throw new S3Error(403, 'AccessDenied', 'Access Denied');
  }
  if (query === null) {
    throw new S3Error(400, 'InvalidArgument', 'The query string is not properly percent-encoded.');
  }
  const auth = authorization !== undefined ? parseHeaderAuth(authorization, headers, regions) : parseQueryAuth(query, regions);

  // The declared payload hash: a header (required for the header form), a query parameter or
  // UNSIGNED-PAYLOAD for presigned URLs.
  let contentSha256: string;
  if (auth.presigned) {
    // A signed x-amz-content-sha256 header is the payload hash, as smithy's presign() takes it.
    const signedHeader = auth.signedHeaders.includes('x-amz-content-sha256')
      ? headerValue(headers, 'x-amz-content-sha256')?.trim()
      : undefined;
    contentSha256 =
      signedHeader ?? query.find(([k]) => k.toLowerCase() === 'x-amz-content-sha256')?.[1] ?? UNSIGNED_PAYLOAD;
  } else {
    const h = headerValue(headers, 'x-amz-content-sha256');
    if (h === undefined) {
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    contentSha256 = h.trim();
  }
  checkContentSha256(contentSha256);

  const key = await iam.resolve(auth.credential.accessKeyId);
  if (!key) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: auth.credential.accessKeyId,
    });
  }

  const serverTime = () => new Date(now).toISOString();
  if (auth.presigned) {
    if (now > auth.time + auth.expires * 1000) {
      throw new S3Error(403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': String(auth.expires),
        Expires: new Date(auth.time + auth.expires * 1000).toISOString(),
        ServerTime: serverTime(),
      });
    }
    if (auth.time - now > MAX_SKEW_MS) throw new S3Error(403, 'AccessDenied', 'Request is not valid yet');
  } else if (Math.abs(auth.time - now) > MAX_SKEW_MS) {
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      { RequestTime: auth.timeText, ServerTime: serverTime(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
    );
  }

  // Every x-amz-* header sent must be signed (S3 refuses smuggled ones).
  const signedSet = new Set(auth.signedHeaders);
  const notSigned = Object.keys(headers).filter(
    (h) => h.startsWith('x-amz-') && !signedSet.has(h) && !UNSIGNED_AMZ_OK.has(h),
  );
  if (notSigned.length > 0) {
    throw new S3Error(403, 'AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: notSigned.join(', '),
    });
  }

  const { region, service, shortDate } = auth.credential;
  // The signing time as the SDK's signer formats it: the date of the key and of the scope, the
  // time in the string to sign (but a verbatim `date`-signed request keeps its own texts).
  const longDate = toAmzDate(auth.time);
  const signingScope = `${longDate.slice(0, 8)}/${region}/${service}/aws4_request`;
  const signing = cachedSigningKey(key.secret, longDate.slice(0, 8), region, service).object;
  const form: CanonicalForm = signedSet.has('date') ? 'verbatim' : auth.presigned ? 'query' : 'header';
  const headerSet = canonicalHeaders(form, auth, headers, contentSha256, longDate);
  const canonicalQueryText =
    form === 'header'
      ? canonicalQuery(query)
      : form === 'verbatim'
        ? canonicalQuery(auth.presigned ? auth.query : query)
        : canonicalQuery(auth.query, [
            ['X-Amz-Algorithm', SIGV4_ALGORITHM],
            ['X-Amz-Credential', `${auth.credential.accessKeyId}/${signingScope}`],
            ['X-Amz-Date', longDate],
            ['X-Amz-Expires', String(auth.expires)],
            ['X-Amz-SignedHeaders', headerSet.names.join(';')],
          ]);
  const requestDate = form === 'verbatim' ? auth.amzDate : longDate;
  const scope = form === 'verbatim' ? `${shortDate}/${region}/${service}/aws4_request` : signingScope;
  const method = input.method.toUpperCase();

  let first: Signed | undefined;
  for (const path of pathCandidates(input.rawPath)) {
    const expected = expectedSignature(method, path, canonicalQueryText, headerSet, contentSha256, requestDate, scope, signing);
    first ??= expected;
    if (safeEqual(expected.signature, auth.signature)) {
      return { key, region, presigned: auth.presigned, payload: payloadMode(contentSha256, headers, auth, key) };
    }
  }
  throw new S3Error(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH, {
    AWSAccessKeyId: auth.credential.accessKeyId,
    StringToSign: first?.stringToSign ?? '',
    SignatureProvided: auth.signature,
    CanonicalRequest: first?.canonicalRequest ?? '',
  });
}

/** How the body's integrity is declared; a streaming-signed body gets the key and scope of its chunk signatures. */
function payloadMode(contentSha256: string, headers: IncomingHttpHeaders, auth: ParsedAuth, key: ResolvedKey): PayloadMode {
  if (/^[0-9a-fA-F]{64}$/.test(contentSha256)) return { kind: 'sha256', hex: contentSha256.toLowerCase() };
  switch (contentSha256) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer', trailer: trailerNames(headers) };
    case STREAMING_SIGNED:
    case STREAMING_SIGNED_TRAILER: {
      const { shortDate, region, service } = auth.credential;
      return {
        kind: 'streaming-signed',
        trailer: contentSha256 === STREAMING_SIGNED_TRAILER ? trailerNames(headers) : [],
        seedSignature: auth.signature,
        signingKey: signingKey(key.secret, shortDate, region, service),
        amzDate: auth.amzDate,
        scope: `${shortDate}/${region}/${service}/aws4_request`,
      };
    }
    default:
      throw invalidContentSha256(contentSha256);
  }
}
