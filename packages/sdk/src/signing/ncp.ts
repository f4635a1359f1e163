/**
 * NAVER Cloud Platform API Gateway signature v2 (../shared/spec/auth.md §2).
 *
 *   StringToSign = METHOD + " " + requestTarget + "\n" + timestamp + "\n" + accessKey
 *   signature    = Base64(HMAC-SHA256(secretKey, StringToSign))
 *
 * `requestTarget` is the path plus `?query` exactly as sent on the wire (no scheme/host/port,
 * no re-encoding, no sorting). All functions are pure except `ncpSignHeaders` reading the clock
 * when no timestamp is given.
 */
import { hmacSha256Base64 } from '#sdk-crypto';

export const NCP_HEADER_TIMESTAMP = 'x-ncp-apigw-timestamp';
export const NCP_HEADER_ACCESS_KEY = 'x-ncp-iam-access-key';
export const NCP_HEADER_SIGNATURE = 'x-ncp-apigw-signature-v2';

/** The v2 string to sign: `METHOD requestTarget\ntimestamp\naccessKey` (no trailing newline). */
export function ncpStringToSign(method: string, requestTarget: string, timestamp: string, accessKey: string): string {
  return `${method.toUpperCase()} ${requestTarget}\n${timestamp}\n${accessKey}`;
}

/** Standard Base64 (with padding) of HMAC-SHA256 keyed with the UTF-8 secret key. */
export function ncpSignature(secretKey: string, stringToSign: string): string {
  return hmacSha256Base64(secretKey, stringToSign);
}

export interface NcpSignInput {
  method: string;
  /** Path + `?` + query exactly as sent (e.g. `/api/v1/jobs?page=0`). */
  requestTarget: string;
  accessKey: string;
  secretKey: string;
  /** Milliseconds since the epoch; defaults to `Date.now()`. */
  timestamp?: number;
}

/** The three `x-ncp-*` headers for a request. */
export function ncpSignHeaders(input: NcpSignInput): Record<string, string> {
  const timestamp = String(Math.trunc(input.timestamp ?? Date.now()));
  const sts = ncpStringToSign(input.method, input.requestTarget, timestamp, input.accessKey);
  return {
    [NCP_HEADER_TIMESTAMP]: timestamp,
    [NCP_HEADER_ACCESS_KEY]: input.accessKey,
    [NCP_HEADER_SIGNATURE]: ncpSignature(input.secretKey, sts),
  };
}
