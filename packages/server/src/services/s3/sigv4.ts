/**
 * AWS Signature Version 4 verification for the S3 API: the `Authorization: AWS4-HMAC-SHA256 …`
 * header form and the presigned query form. The expected signature is computed by the AWS SDK's
 * own signer (`SignatureV4` from @smithy/signature-v4) over the request as received, so client
 * and server canonicalise alike. Errors are the ones S3 answers with.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest, type HeaderBag, type IHttpRequest } from '@smithy/protocol-http';
import { SignatureV4, createScope, getSigningKey } from '@smithy/signature-v4';
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

const sha256 = Hash.bind(null, 'sha256');

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

/** `yyyymmddThhmmssZ` → ms since epoch, or NaN. */
export function parseAmzDate(s: string): number {
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

function toAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
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

/**
 * The SDK signer, recording the canonical request and string to sign it produced (S3 returns
 * them in a SignatureDoesNotMatch body), and able to sign a request whose signed headers include
 * `date` (which `sign()` always strips).
 */
class RecordingSigner extends SignatureV4 {
  canonicalRequest = '';
  stringToSign = '';

  protected override createCanonicalRequest(request: IHttpRequest, canonicalHeaders: HeaderBag, payloadHash: string): string {
    this.canonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    return this.canonicalRequest;
  }

  protected override async createStringToSign(
    longDate: string,
    credentialScope: string,
    canonicalRequest: string,
    algorithmIdentifier: string,
  ): Promise<string> {
    this.stringToSign = await super.createStringToSign(longDate, credentialScope, canonicalRequest, algorithmIdentifier);
    return this.stringToSign;
  }

  /** Sign exactly the given headers (all of them) and query, with no header removed or added. */
  async signVerbatim(request: IHttpRequest, payloadHash: string, amzDate: string, scope: string, signingDate: Date) {
    const names = new Set(Object.keys(request.headers));
    const canonicalHeaders: HeaderBag = {};
    for (const name of [...names].sort()) {
      canonicalHeaders[name] = (request.headers[name] ?? '').replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim();
    }
    const canonical = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const toSign = await this.createStringToSign(amzDate, scope, canonical, SIGV4_ALGORITHM);
    return this.sign(toSign, { signingDate });
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 3986 strict percent-encoding, as SigV4 wants (everything but A-Z a-z 0-9 - _ . ~). */
function strictEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The path forms to try: as received (what the AWS SDKs sign, since S3 paths are not
 * double-encoded), then each segment decoded and strictly re-encoded, for clients that send a
 * character unencoded (or encoded) where their signer did the opposite.
 */
function pathCandidates(rawPath: string): string[] {
  const out = [rawPath];
  try {
    const normalized = rawPath
      .split('/')
      .map((seg) => strictEncode(decodeURIComponent(seg)))
      .join('/');
    if (normalized !== rawPath) out.push(normalized);
  } catch {
    /* undecodable path: only the wire form can match */
  }
  return out;
}

function splitHost(host: string): { hostname: string; port: number | undefined } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  return { hostname: m?.[1] ?? host, port: m?.[2] !== undefined ? Number(m[2]) : undefined };
}

function queryRecord(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of pairs) {
    const prev = q[k];
    q[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return q;
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

  const serverTime = new Date(now).toISOString();
  if (auth.presigned) {
    if (now > auth.time + auth.expires * 1000) {
      throw new S3Error(403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': String(auth.expires),
        Expires: new Date(auth.time + auth.expires * 1000).toISOString(),
        ServerTime: serverTime,
      });
    }
    if (auth.time - now > MAX_SKEW_MS) throw new S3Error(403, 'AccessDenied', 'Request is not valid yet');
  } else if (Math.abs(auth.time - now) > MAX_SKEW_MS) {
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      { RequestTime: auth.timeText, ServerTime: serverTime, MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
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
  const credentials = { accessKeyId: auth.credential.accessKeyId, secretAccessKey: key.secret };
  const signer = new RecordingSigner({ credentials, region, service, sha256, uriEscapePath: false, applyChecksum: false });
  const signingDate = new Date(auth.time);
  const scope = createScope(shortDate, region, service);

  // The request as the client signed it: only the headers it listed, plus the payload hash
  // header smithy reads (kept out of the canonical headers unless listed).
  const signedHeaders: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = headerValue(headers, name);
    if (v !== undefined) signedHeaders[name] = v;
  }
  const reqHeaders: Record<string, string> = { ...signedHeaders, 'x-amz-content-sha256': contentSha256 };
  const names = new Set([...Object.keys(reqHeaders), 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']);
  const unsignableHeaders = new Set([...names].filter((n) => !signedSet.has(n)));
  const signableHeaders = new Set(auth.signedHeaders);
  const { hostname, port } = splitHost(headerValue(headers, 'host') ?? '');
  const queryObj = queryRecord(auth.presigned ? auth.query : query);

  let first: { canonicalRequest: string; stringToSign: string } | undefined;
  for (const path of pathCandidates(input.rawPath)) {
    const request = new HttpRequest({
      method: input.method.toUpperCase(),
      protocol: 'http:',
      hostname,
      port,
      path,
      query: queryObj,
      headers: { ...reqHeaders },
    });
    let expected: string;
    if (signedSet.has('date')) {
      // sign()/presign() always strip `date`; sign the listed headers verbatim instead.
      const verbatim = new HttpRequest({ ...request, headers: { ...signedHeaders } });
      expected = await signer.signVerbatim(verbatim, contentSha256, auth.amzDate, scope, signingDate);
    } else if (auth.presigned) {
      const signed = await signer.presign(request, {
        signingDate,
        expiresIn: auth.expires,
        signableHeaders,
        unsignableHeaders,
        unhoistableHeaders: new Set(Object.keys(reqHeaders)),
      });
      const sig = signed.query?.['X-Amz-Signature'];
      expected = typeof sig === 'string' ? sig : '';
    } else {
      const signed = await signer.sign(request, { signingDate, signableHeaders, unsignableHeaders });
      expected = /Signature=([0-9a-f]+)/.exec(signed.headers['authorization'] ?? '')?.[1] ?? '';
    }
    first ??= { canonicalRequest: signer.canonicalRequest, stringToSign: signer.stringToSign };
    if (expected !== '' && safeEqual(expected, auth.signature)) {
      return { key, region, presigned: auth.presigned, payload: await payloadMode(contentSha256, headers, auth, key, scope) };
    }
  }
  throw new S3Error(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH, {
    AWSAccessKeyId: auth.credential.accessKeyId,
    StringToSign: first?.stringToSign ?? '',
    SignatureProvided: auth.signature,
    CanonicalRequest: first?.canonicalRequest ?? '',
  });
}

async function payloadMode(
  contentSha256: string,
  headers: IncomingHttpHeaders,
  auth: ParsedAuth,
  key: ResolvedKey,
  scope: string,
): Promise<PayloadMode> {
  if (/^[0-9a-fA-F]{64}$/.test(contentSha256)) return { kind: 'sha256', hex: contentSha256.toLowerCase() };
  switch (contentSha256) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer', trailer: trailerNames(headers) };
    case STREAMING_SIGNED:
    case STREAMING_SIGNED_TRAILER: {
      const { shortDate, region, service } = auth.credential;
      const signingKey = await getSigningKey(
        sha256,
        { accessKeyId: auth.credential.accessKeyId, secretAccessKey: key.secret },
        shortDate,
        region,
        service,
      );
      return {
        kind: 'streaming-signed',
        trailer: contentSha256 === STREAMING_SIGNED_TRAILER ? trailerNames(headers) : [],
        seedSignature: auth.signature,
        signingKey,
        amzDate: auth.amzDate,
        scope,
      };
    }
    default:
      throw invalidContentSha256(contentSha256);
  }
}
