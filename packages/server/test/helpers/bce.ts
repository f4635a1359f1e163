/**
 * CFS requests signed by Baidu's own signer (`@baiducloud/sdk`'s Auth, which ships no CFS client)
 * over a real socket, as Baidu's SDKs send them: JSON content type on every request, `host` and
 * `x-bce-date` signed.
 */
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { bceAuthorization, formatBceTimestamp, parseBceQuery } from '@stockade/sdk';
import type { Clock } from '../../src/tasks/clock.js';

const require = createRequire(import.meta.url);
const { Auth } = require('@baiducloud/sdk') as typeof import('@baiducloud/sdk');

export interface BceAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** The raw body text ('' when none). */
  text: string;
  /** The parsed body ({} when none). */
  body: T & { code?: string; message?: string; requestId?: string };
}

export interface BceCallOptions {
  /** Query parameters; `null` is a flag without a value (`?tag`). */
  query?: Record<string, string | number | null | undefined>;
  /** A JSON value, or a string sent as it is. */
  body?: unknown;
}

export type BceCall = <T = Record<string, unknown>>(method: string, path: string, opts?: BceCallOptions) => Promise<BceAnswer<T>>;

/** A caller signing with `key` against `url`; times come from `clock` when given (a manual clock). */
export function bceCaller(url: string, key: { accessKeyId: string; secretAccessKey: string }, clock?: Clock): BceCall {
  const host = new URL(url).host;
  const auth = new Auth(key.accessKeyId, key.secretAccessKey);
  return async <T>(method: string, path: string, opts: BceCallOptions = {}): Promise<BceAnswer<T>> => {
    const at = new Date(clock ? clock.now() : Date.now());
    const xBceDate = at.toISOString().replace(/\.\d+Z$/, 'Z');
    const query: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query[k] = v === null ? null : String(v);
    const headers: Record<string, string> = { host, 'x-bce-date': xBceDate, 'content-type': 'application/json; charset=utf-8' };
    const authorization = auth.generateAuthorization(method, path, query, headers, Math.floor(at.getTime() / 1000), 1800, ['host', 'x-bce-date']);
    const qs = Object.entries(query)
      .map(([k, v]) => (v === null ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
      .join('&');
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const res = await fetch(`${url}${path}${qs ? `?${qs}` : ''}`, {
      method,
      headers: { 'x-bce-date': xBceDate, 'content-type': headers['content-type']!, authorization },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = {};
    if (text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, body: parsed as BceAnswer<T>['body'] };
  };
}

/**
 * The signing headers of a request Baidu's signer would rewrite: `target` (path and query) is
 * signed as the server verifies it, over the decoded path, whatever escapes it holds on the wire.
 */
export function bceRawHeaders(host: string, key: { accessKeyId: string; secretAccessKey: string }, method: string, target: string): Record<string, string> {
  const qi = target.indexOf('?');
  const rawPath = qi < 0 ? target : target.slice(0, qi);
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // not decodable: the server refuses it before it looks at the signature
  }
  const date = formatBceTimestamp(new Date());
  const authorization = bceAuthorization({
    method,
    path,
    query: parseBceQuery(qi < 0 ? '' : target.slice(qi + 1)),
    headers: { host, 'x-bce-date': date },
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    timestamp: date,
    signedHeaders: ['host', 'x-bce-date'],
  });
  return { 'x-bce-date': date, authorization };
}

/**
 * A caller for requests Baidu's signer would rewrite: `target` (path and query) goes on the wire
 * exactly as written (percent-escapes kept, `%00`, undecodable ones); `body` is sent as these bytes.
 */
export function bceRawCaller(url: string, key: { accessKeyId: string; secretAccessKey: string }) {
  const host = new URL(url).host;
  return async (method: string, target: string, body?: string | Uint8Array): Promise<BceAnswer> => {
    const res = await fetch(url + target, {
      method,
      headers: { ...bceRawHeaders(host, key, method, target), 'content-type': 'application/json; charset=utf-8' },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (text ? JSON.parse(text) : {}) as BceAnswer['body'] };
  };
}

/** Asserts a CFS error answer: status, code, the envelope and its request id header. */
export function assertBceError(r: BceAnswer, status: number, code: string, message?: RegExp): void {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${r.text}`);
  assert.equal(r.body.code, code, r.text);
  assert.equal(typeof r.body.message, 'string');
  assert.equal(r.body.requestId, r.headers.get('x-bce-request-id'));
  if (message) assert.match(r.body.message ?? '', message);
}

/** Asserts a success; returns the body. */
export function ok<T>(r: BceAnswer<T>): BceAnswer<T>['body'] {
  assert.equal(r.status, 200, `expected 200, got ${r.status} ${r.text}`);
  assert.ok(r.headers.get('x-bce-request-id'));
  return r.body;
}
