/**
 * Baidu AI Cloud `bce-auth-v1` request signing (../shared/spec/auth.md §1).
 *
 * Every function here is pure (no clock, no I/O): the server's verifier reuses them to recompute
 * signatures from what it received, so they follow the reference byte for byte.
 *
 *   authStringPrefix = bce-auth-v1/{ak}/{timestamp}/{expiration}
 *   signingKey       = hex(HMAC-SHA256(sk, authStringPrefix))
 *   canonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders
 *   signature        = hex(HMAC-SHA256(signingKey-as-hex-text, canonicalRequest))
 *   Authorization    = authStringPrefix/{signedHeaders}/{signature}
 */
import { hmacSha256Hex, utf8Decode, utf8Encode } from '#sdk-crypto';

export const BCE_AUTH_VERSION = 'bce-auth-v1';
export const BCE_DEFAULT_EXPIRATION_SECONDS = 1800;
/** Fixed members of the default signed-header set; every `x-bce-*` header is added to them. */
export const BCE_DEFAULT_HEADERS: readonly string[] = ['host', 'content-length', 'content-type', 'content-md5'];

const HEX = '0123456789ABCDEF';

/**
 * UriEncode (§1.3): every UTF-8 byte except `A–Z a–z 0–9 - _ . ~` becomes `%XY` (upper-case hex).
 * With `encodeSlash = false`, `/` is kept literal (UriEncodeExceptSlash, for paths).
 */
export function uriEncode(s: string, encodeSlash = true): string {
  const bytes = utf8Encode(s);
  let out = '';
  for (const b of bytes) {
    if (
      (b >= 0x41 && b <= 0x5a) || // A-Z
      (b >= 0x61 && b <= 0x7a) || // a-z
      (b >= 0x30 && b <= 0x39) || // 0-9
      b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e || // - _ . ~
      (b === 0x2f && !encodeSlash)
    ) {
      out += String.fromCharCode(b);
    } else {
      out += '%' + HEX[b >> 4]! + HEX[b & 0x0f]!;
    }
  }
  return out;
}

/**
 * RFC 3986 percent-decoding: valid `%XY` sequences become bytes, everything else (including `+`
 * and malformed `%` sequences) is kept literally; the bytes are read as UTF-8.
 */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const src = utf8Encode(s);
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25 && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out[n++] = parseInt(String.fromCharCode(src[i + 1]!, src[i + 2]!), 16);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return utf8Decode(out.subarray(0, n));
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

/**
 * Server-side query parsing rule (§1.4.3): split the raw query (without `?`) on `&`, each item on
 * its first `=`, percent-decode key and value (`+` stays `+`). Empty items are skipped; repeated
 * keys are all kept.
 */
export function parseBceQuery(rawQuery: string): Array<[string, string]> {
  const q = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  const pairs: Array<[string, string]> = [];
  if (q === '') return pairs;
  for (const item of q.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const k = eq < 0 ? item : item.slice(0, eq);
    const v = eq < 0 ? '' : item.slice(eq + 1);
    pairs.push([percentDecode(k), percentDecode(v)]);
  }
  return pairs;
}

/** CanonicalURI (§1.4.2) from the **decoded** absolute path. */
export function bceCanonicalUri(decodedPath: string): string {
  if (decodedPath === '') return '/';
  const p = decodedPath.startsWith('/') ? decodedPath : '/' + decodedPath;
  return uriEncode(p, false);
}

/**
 * CanonicalQueryString (§1.4.3) from decoded pairs: drops `authorization` keys (any case),
 * encodes `key=value` (a missing value gives `key=`), sorts the whole strings, joins with `&`.
 */
export function bceCanonicalQuery(pairs: ReadonlyArray<readonly [string, string | null | undefined]>): string {
  const items: string[] = [];
  for (const [k, v] of pairs) {
    if (k.toLowerCase() === 'authorization') continue;
    items.push(uriEncode(k) + '=' + uriEncode(v ?? ''));
  }
  // All items are ASCII after encoding, so UTF-16 code-unit order is byte order.
  return items.sort().join('&');
}

export type BceHeaderBag = Record<string, string | readonly string[] | number | undefined>;

function lowerHeaderMap(headers: BceHeaderBag): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : raw.join(', ');
    const key = name.toLowerCase();
    const prev = m.get(key);
    m.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  return m;
}

/**
 * The default signed-header set (§1.4.4) for these headers: those of `host`, `content-length`,
 * `content-type`, `content-md5` that are present, plus every `x-bce-*` header; lower-case, sorted.
 */
export function defaultSignedHeaderNames(headers: BceHeaderBag): string[] {
  const names = new Set<string>();
  for (const name of lowerHeaderMap(headers).keys()) {
    if (BCE_DEFAULT_HEADERS.includes(name) || name.startsWith('x-bce-')) names.add(name);
  }
  return [...names].sort();
}

/**
 * CanonicalHeaders (§1.4.4) for the given names (case-insensitive, looked up case-insensitively):
 * values trimmed, empty/missing ones skipped, `UriEncode(name):UriEncode(value)` lines sorted and
 * joined with `\n`. `signedNames` are the lower-case names actually included, sorted.
 */
export function bceCanonicalHeaders(
  headers: BceHeaderBag,
  names: readonly string[],
): { canonical: string; signedNames: string[] } {
  const map = lowerHeaderMap(headers);
  const wanted = new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
  const lines: string[] = [];
  const signedNames: string[] = [];
  for (const name of wanted) {
    const value = map.get(name)?.trim();
    if (value === undefined || value === '') continue;
    lines.push(uriEncode(name) + ':' + uriEncode(value));
    signedNames.push(name);
  }
  return { canonical: lines.sort().join('\n'), signedNames: signedNames.sort() };
}

/** `bce-auth-v1/{ak}/{timestamp}/{expiration}`. */
export function bceAuthStringPrefix(accessKeyId: string, timestamp: string, expirationSeconds: number | string): string {
  return `${BCE_AUTH_VERSION}/${accessKeyId}/${timestamp}/${expirationSeconds}`;
}

/** signingKey = lower-case hex of HMAC-SHA256(key = SK, msg = authStringPrefix). */
export function bceSigningKey(secretAccessKey: string, authStringPrefix: string): string {
  return hmacSha256Hex(secretAccessKey, authStringPrefix);
}

/** `METHOD\nCanonicalURI\nCanonicalQuery\nCanonicalHeaders` (no trailing newline). */
export function bceCanonicalRequest(method: string, canonicalUri: string, canonicalQuery: string, canonicalHeaders: string): string {
  return `${method.toUpperCase()}\n${canonicalUri}\n${canonicalQuery}\n${canonicalHeaders}`;
}

/** signature = lower-case hex of HMAC-SHA256(key = the signing key's hex text, msg = canonicalRequest). */
export function bceSignature(signingKey: string, canonicalRequest: string): string {
  return hmacSha256Hex(signingKey, canonicalRequest);
}

/** `YYYY-MM-DDThh:mm:ssZ` (UTC, second precision). */
export function formatBceTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface BceSignInput {
  method: string;
  /** The decoded absolute path (`/v1/accessGroup/组-A b+c~(1)/rule 7`). */
  path: string;
  /** Decoded query pairs (order irrelevant); a valueless key has value `''` (or null/undefined). */
  query?: ReadonlyArray<readonly [string, string | null | undefined]>;
  /** The request headers as sent (any name case). */
  headers: BceHeaderBag;
  accessKeyId: string;
  secretAccessKey: string;
  /** A Date, or an already formatted `YYYY-MM-DDThh:mm:ssZ` string (used verbatim). */
  timestamp: Date | string;
  /** Default 1800. A string is written verbatim (a verifier re-signing a received header). */
  expirationSeconds?: number | string;
  /**
   * Which headers to sign. `'default'`/absent: the default set, written out explicitly.
   * An array: exactly those names; an **empty** array writes an empty `signedHeaders` field
   * (Java-SDK style), which by the protocol means the default set is signed.
   */
  signedHeaders?: readonly string[] | 'default';
}

export interface BceSignResult {
  authorization: string;
  authStringPrefix: string;
  signingKey: string;
  canonicalRequest: string;
  signature: string;
  /** The names written into the header's `signedHeaders` field (empty for the Java style). */
  signedHeaders: string[];
}

/** Computes every intermediate of a bce-auth-v1 signature. */
export function bceSign(input: BceSignInput): BceSignResult {
  const timestamp = typeof input.timestamp === 'string' ? input.timestamp : formatBceTimestamp(input.timestamp);
  const expiration = input.expirationSeconds ?? BCE_DEFAULT_EXPIRATION_SECONDS;
  const explicit = Array.isArray(input.signedHeaders) ? (input.signedHeaders as readonly string[]) : undefined;
  const useDefault = explicit === undefined || explicit.length === 0;
  const names = useDefault ? defaultSignedHeaderNames(input.headers) : explicit;
  const { canonical, signedNames } = bceCanonicalHeaders(input.headers, names);
  const canonicalRequest = bceCanonicalRequest(
    input.method,
    bceCanonicalUri(input.path),
    bceCanonicalQuery(input.query ?? []),
    canonical,
  );
  const authStringPrefix = bceAuthStringPrefix(input.accessKeyId, timestamp, expiration);
  const signingKey = bceSigningKey(input.secretAccessKey, authStringPrefix);
  const signature = bceSignature(signingKey, canonicalRequest);
  const written = explicit !== undefined && explicit.length === 0 ? [] : signedNames;
  return {
    authorization: `${authStringPrefix}/${written.join(';')}/${signature}`,
    authStringPrefix,
    signingKey,
    canonicalRequest,
    signature,
    signedHeaders: written,
  };
}

/** The `Authorization` header value for a request. */
export function bceAuthorization(input: BceSignInput): string {
  return bceSign(input).authorization;
}

export interface ParsedBceAuthorization {
  accessKeyId: string;
  /** `YYYY-MM-DDThh:mm:ssZ` as written. */
  timestamp: string;
  /** The timestamp in epoch milliseconds. */
  timestampMs: number;
  expiration: number;
  /** Lower-case names; empty when the field was empty (the default set applies). */
  signedHeaders: string[];
  signature: string;
  /** The first four parts exactly as received (the signing key's input). */
  authStringPrefix: string;
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * Parses an `Authorization` header (§1.5 step 2): exactly 6 `/`-separated parts, the version
 * literal, a non-empty AK, a real `YYYY-MM-DDThh:mm:ssZ` timestamp, a non-negative decimal
 * expiration and a 64-char lower-case hex signature. Anything else → null.
 */
export function parseBceAuthorization(header: string | undefined | null): ParsedBceAuthorization | null {
  if (typeof header !== 'string') return null;
  const parts = header.split('/');
  if (parts.length !== 6) return null;
  const [version, accessKeyId, timestamp, expirationText, signed, signature] = parts as [
    string, string, string, string, string, string,
  ];
  if (version !== BCE_AUTH_VERSION || accessKeyId === '') return null;
  const m = TIMESTAMP_RE.exec(timestamp);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const timestampMs = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(timestampMs);
  if (
    check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d ||
    check.getUTCHours() !== h || check.getUTCMinutes() !== mi || check.getUTCSeconds() !== s
  ) {
    return null;
  }
  if (!/^\d+$/.test(expirationText)) return null;
  const expiration = Number(expirationText);
  if (!Number.isSafeInteger(expiration)) return null;
  if (!/^[0-9a-f]{64}$/.test(signature)) return null;
  const signedHeaders = signed === '' ? [] : signed.split(';').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  return {
    accessKeyId,
    timestamp,
    timestampMs,
    expiration,
    signedHeaders,
    signature,
    authStringPrefix: `${version}/${accessKeyId}/${timestamp}/${expirationText}`,
  };
}
