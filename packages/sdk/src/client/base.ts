import { Kind, type TSchema } from '@sinclair/typebox';
import type { OperationDef, OperationOutput } from '../ops/types.js';
import { ncpSignHeaders } from '../signing/ncp.js';
import { bceAuthorization, formatBceTimestamp, parseBceQuery, percentDecode, uriEncode } from '../signing/bce.js';
import { StockadeApiError, parseErrorEnvelope } from './errors.js';
import { sleep } from './wait.js';

export type Lang = 'en-US' | 'ko-KR' | 'zh-CN';

export interface ClientOptions {
  /** Base URL of the service (`https://datafence.apigw.ntruss.com`, `http://127.0.0.1:8080`). A path prefix is kept. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Response language for NCP services (`x-ncp-lang`). */
  lang?: Lang;
  /** Retries of a 429 / 503 answer (default 3). */
  retries?: number;
  /** Replacement for the global `fetch`. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Extra request headers (not signed unless the scheme signs them by default). */
  headers?: Record<string, string>;
}

/** Any declared operation, whatever its schemas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperationDef = OperationDef<any, any, any, any>;

export const RETRY_BASE_MS = 100;
export const RETRY_MAX_MS = 2_000;
const RETRY_STATUSES = new Set([429, 503]);
const USER_AGENT = 'stockade-sdk/0.1.0';

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^attempt)). */
export function backoffDelay(attempt: number, baseMs = RETRY_BASE_MS, maxMs = RETRY_MAX_MS): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

/** Property names of a TypeBox object schema, or undefined for any other schema. */
function objectKeys(schema: TSchema | undefined): string[] | undefined {
  if (!schema || (schema as { [Kind]?: unknown })[Kind] !== 'Object') return undefined;
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  return props ? Object.keys(props) : [];
}

function queryValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(queryValue).join(',');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** A request as it goes on the wire, before signing. */
export interface PreparedRequest {
  method: string;
  url: URL;
  /** Path + `?query` exactly as sent (what NCP v2 signs). */
  requestTarget: string;
  body: string | undefined;
}

/**
 * Signs, sends and decodes calls of declared operations. Service clients add one method per
 * operation of their table; `call` reaches any operation directly.
 */
export class OperationClient {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly lang: Lang | undefined;
  readonly retries: number;
  readonly #secretAccessKey: string;
  readonly #fetch: typeof fetch | undefined;
  readonly #base: URL;

  constructor(options: ClientOptions) {
    this.endpoint = options.endpoint;
    this.accessKeyId = options.accessKeyId;
    this.#secretAccessKey = options.secretAccessKey;
    this.lang = options.lang;
    this.retries = Math.max(0, options.retries ?? 3);
    this.#fetch = options.fetch;
    this.#base = new URL(options.endpoint);
  }

  /** Builds URL, request target and body of a call (no signing, no I/O). */
  prepare(def: AnyOperationDef, input: Record<string, unknown> = {}): PreparedRequest {
    const path = def.path.replace(/\{([^}]+)\}/g, (_m: string, name: string) => {
      const v = input[name];
      if (v === undefined || v === null) throw new TypeError(`${def.name}: missing path parameter '${name}'`);
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- path values are scalars
      return uriEncode(String(v));
    });
    const query: string[] = [];
    if (def.queryFlag) query.push(uriEncode(def.queryFlag));
    for (const key of objectKeys(def.query) ?? []) {
      const v = input[key];
      if (v === undefined || v === null) continue;
      query.push(`${uriEncode(key)}=${uriEncode(queryValue(v))}`);
    }
    let body: string | undefined;
    if (def.body) {
      const keys = objectKeys(def.body);
      if (keys) {
        const obj: Record<string, unknown> = {};
        for (const key of keys) if (input[key] !== undefined) obj[key] = input[key];
        body = JSON.stringify(obj);
      } else if (input['body'] !== undefined) {
        body = JSON.stringify(input['body']);
      }
    }
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const target = prefix + path + (query.length ? '?' + query.join('&') : '');
    const url = new URL(target, this.#base.origin);
    return { method: def.method, url, requestTarget: url.pathname + url.search, body };
  }

  /** The headers of one attempt, signed for the operation's scheme. */
  signRequest(def: AnyOperationDef, req: PreparedRequest, extra: Record<string, string> = {}, now = new Date()): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
    switch (def.auth) {
      case 'ncp-v2': {
        if (req.body !== undefined) headers['content-type'] = 'application/json';
        if (this.lang) headers['x-ncp-lang'] = this.lang;
        Object.assign(
          headers,
          ncpSignHeaders({
            method: req.method,
            requestTarget: req.requestTarget,
            accessKey: this.accessKeyId,
            secretKey: this.#secretAccessKey,
            timestamp: now.getTime(),
          }),
        );
        return headers;
      }
      case 'bce-v1': {
        const date = formatBceTimestamp(now);
        headers['content-type'] = 'application/json; charset=utf-8';
        headers['x-bce-date'] = date;
        headers['authorization'] = bceAuthorization({
          method: req.method,
          path: percentDecode(req.url.pathname),
          query: parseBceQuery(req.url.search),
          headers: { host: req.url.host, 'content-type': headers['content-type'], 'x-bce-date': date },
          accessKeyId: this.accessKeyId,
          secretAccessKey: this.#secretAccessKey,
          timestamp: date,
          signedHeaders: ['host', 'content-type', 'x-bce-date'],
        });
        return headers;
      }
      default:
        throw new Error(`${def.name}: auth scheme '${def.auth}' is not supported by OperationClient`);
    }
  }

  /**
   * Calls an operation: path parameters, query parameters and body fields are taken from `input`
   * by the declared schemas. Resolves with the decoded JSON body (undefined when empty); rejects
   * with `StockadeApiError` on a non-2xx answer. 429 and 503 are retried with full-jitter backoff.
   */
  async call<D extends AnyOperationDef>(
    def: D,
    input?: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<OperationOutput<D>> {
    const req = this.prepare(def, input ?? {});
    const doFetch = this.#fetch ?? globalThis.fetch;
    for (let attempt = 0; ; attempt++) {
      const headers = this.signRequest(def, req, options.headers);
      const init: RequestInit = { method: req.method, headers };
      if (req.body !== undefined) init.body = req.body;
      if (options.signal) init.signal = options.signal;
      const res = await doFetch(req.url, init);
      const text = await res.text();
      if (RETRY_STATUSES.has(res.status) && attempt < this.retries) {
        await sleep(backoffDelay(attempt), options.signal);
        continue;
      }
      let body: unknown;
      let parsed = true;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
          parsed = false;
        }
      }
      const headerRequestId = res.headers.get('x-bce-request-id') ?? res.headers.get('x-amz-request-id') ?? undefined;
      if (res.ok && parsed) return body as OperationOutput<D>;
      const env = res.ok
        ? { code: 'InvalidResponse', message: 'response body is not JSON', details: undefined, requestId: undefined }
        : parseErrorEnvelope(def.service, res.status, body);
      throw new StockadeApiError({
        status: res.status,
        service: def.service,
        operation: def.name,
        code: env.code,
        message: env.message,
        details: env.details,
        requestId: headerRequestId ?? env.requestId,
        body,
      });
    }
  }
}
