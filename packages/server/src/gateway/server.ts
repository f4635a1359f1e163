/**
 * The one listener. Dispatch: auth scheme (or Host prefix, or path space) → route from the
 * operation table → verify signature → role → validate → handler → the service's envelope.
 */
import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { allOperations, roleSatisfies, type OperationDef, type ServiceName } from '@stockade/sdk';
import { ApiError, type GenericFailure, type ValidationInfo } from '../platform/errors.js';
import { parseLang, type Lang } from '../platform/i18n.js';
import { Reply, Serialized, type Handler, type RawService } from '../platform/service.js';
import type { RunningService } from '../platform/runtime.js';
import type { AppContext, RequestContext } from '../context.js';
import type { ResolvedKey } from '../iam/iam.js';
import { IdempotencyError, withIdempotency, type IdempotencyContext } from '../store/idempotency.js';
import { ContractChecker } from './contract.js';
import { t } from './i18n.js';
import { PROTOCOLS, type Protocol } from './protocols.js';
import { Router, type RouteMatch } from './router.js';
import { validate, dropUndeclared, jsonDepth, MAX_JSON_DEPTH, nulField, ValidationFailure } from './validate.js';
import { readQuery, verifyBce, verifyNcp, type SignedRequest } from './verify.js';
import { clientGone } from '../platform/http.js';
import { findConsoleDir, isConsolePath, serveConsole } from './console.js';

type Scheme = 'ncp' | 'bce' | 'sigv4';

const NCP_SERVICES: ServiceName[] = ['datafence', 'dataflow', 'stockade'];

export interface GatewayOptions {
  /** The running services: operation-table handlers by the service they serve; S3 by its raw entry. */
  services: readonly RunningService[];
  /** Extra routes outside the signed APIs (`/_stockade/…`); return false to fall through. */
  control?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

interface Served {
  handlers: Record<string, Handler>;
  instance: unknown;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Which signing scheme a request uses; null when it carries no credentials we recognise. */
function detectScheme(req: IncomingMessage, rawQuery: string | null): Scheme | null {
  const auth = headerValue(req, 'authorization');
  if (auth?.startsWith('bce-auth-v1/')) return 'bce';
  if (auth?.startsWith('AWS4-HMAC-SHA256')) return 'sigv4';
  const h = req.headers;
  if (h['x-ncp-apigw-signature-v2'] || h['x-ncp-apigw-signature-v1'] || h['x-ncp-iam-access-key'] || h['x-ncp-apigw-timestamp']) {
    return 'ncp';
  }
  if (rawQuery && /(^|&)X-Amz-Algorithm=/.test(rawQuery)) return 'sigv4';
  return null;
}

/** The service a Host prefix names (`datafence.`, `dataflow.`, `cfs.`, `s3.`), if any. */
function hostService(req: IncomingMessage): ServiceName | null {
  const host = (headerValue(req, 'host') ?? '').toLowerCase();
  if (host.startsWith('datafence.')) return 'datafence';
  if (host.startsWith('dataflow.')) return 'dataflow';
  if (host.startsWith('cfs.')) return 'cfs';
  if (host.startsWith('s3.') || host.includes('.s3.')) return 's3';
  return null;
}

function schemeOf(service: ServiceName): Scheme {
  return service === 'cfs' ? 'bce' : service === 's3' ? 'sigv4' : 'ncp';
}

/** Writes a whole response; `headers` becomes the response's header object (content-length added). */
function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body: string | Buffer | undefined): void {
  headers['content-length'] = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The service whose envelope answers a request known only by its raw head (as much of it as
 * arrived): by signature scheme, else by path space, as `handle` dispatches. NCP failures before
 * routing use the gateway envelope, the same for every NCP service.
 */
function serviceOfHead(head: string): { service: ServiceName; path: string } {
  const eol = head.indexOf('\r\n');
  const target = (eol < 0 ? head : head.slice(0, eol)).split(' ')[1] ?? '/';
  const path = target.split('?')[0] ?? '/';
  if (/^authorization:[ \t]*bce-auth-v1\//im.test(head)) return { service: 'cfs', path };
  if (/^authorization:[ \t]*AWS4-HMAC-SHA256/im.test(head) || /[?&]X-Amz-Algorithm=/.test(target)) return { service: 's3', path };
  if (/^x-ncp-(apigw|iam)-/im.test(head) || path.startsWith('/api/v1/')) return { service: 'datafence', path };
  return { service: path.startsWith('/v1/') ? 'cfs' : 's3', path };
}

/** `(^|&)key(=|&|$)` tests of query flags, compiled once per flag name. */
const queryFlagTests = new Map<string, RegExp>();

function hasQueryFlag(rawQuery: string, key: string): boolean {
  let re = queryFlagTests.get(key);
  if (!re) queryFlagTests.set(key, (re = new RegExp(`(^|&)${key}(=|&|$)`)));
  return re.test(rawQuery);
}

class BodyTooLarge extends Error {}

/** Strict UTF-8 (a byte-order mark is kept, and so refused by JSON.parse as before). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The error a body read fails with when the client closed the connection before its end. */
function abortedError(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLarge());
  }
  // Closed while the request was being authenticated: 'end' and 'error' were already emitted.
  if (req.destroyed && !req.complete) return Promise.reject(abortedError());
  return new Promise((resolve, reject) => {
    req.on('close', () => {
      if (!req.complete) reject(abortedError());
    });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class Gateway {
  private readonly routers = new Map<ServiceName, Router>();
  private readonly served = new Map<ServiceName, Served>();
  private readonly s3?: RawService;
  /** The console's files: found on its first request (undefined until then; null: not built). */
  private consoleDir: string | null | undefined;
  /** With `config.contractChecks` (tests): the operation table's promises, checked on every answer. */
  readonly contract: ContractChecker | null;

  constructor(
    private readonly app: AppContext,
    private readonly opts: GatewayOptions,
  ) {
    for (const { key, def } of allOperations()) {
      let r = this.routers.get(def.service);
      if (!r) this.routers.set(def.service, (r = new Router()));
      r.add(key, def);
    }
    for (const { module, instance } of opts.services) {
      if (module.serves && module.handlers) this.served.set(module.serves, { handlers: module.handlers, instance });
      if (module.name === 's3' && instance.raw) this.s3 = instance.raw;
    }
    this.contract = app.config.contractChecks ? new ContractChecker(app.logger) : null;
  }

  listener = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID();
    // A client that goes away before its answer is complete (half a body sent, a download
    // abandoned) is routine: noted at debug level here, never logged as an error.
    res.once('close', () => {
      if (!res.writableFinished) {
        const path = (req.url ?? '').split('?')[0]; // the query may hold a presigned signature
        this.app.logger.debug({ requestId, method: req.method, path }, 'client disconnected before the response completed');
      }
    });
    this.handle(req, res, requestId).catch((err: unknown) => {
      if (clientGone(req, err)) {
        res.destroy();
        return;
      }
      this.app.logger.error({ err, requestId }, 'unhandled error in request');
      if (!res.headersSent) send(res, 500, { 'content-type': 'text/plain' }, 'internal error');
      else res.destroy();
    });
  };

  createServer(): Server {
    const server = createServer({ keepAliveTimeout: 65_000 }, this.listener);
    server.headersTimeout = 66_000;
    server.on('clientError', this.clientError);
    return server;
  }

  /**
   * A request node:http refuses before there is a request to hand to `listener`: a request line
   * and headers over `maxHeaderSize` (a query of 100 KB), or bytes that are not HTTP. Answered in
   * the envelope of the service the received head names, then the connection is closed.
   */
  clientError = (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      return;
    }
    const head = err.rawPacket ? err.rawPacket.toString('latin1') : '';
    const { service, path } = serviceOfHead(head);
    const detail =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? `The request line and headers exceed ${maxHeaderSize} bytes.`
        : 'The request is not valid HTTP/1.1.';
    const protocol = PROTOCOLS[service];
    const r = protocol.render(protocol.failure('badRequest', 'en-US', detail), { requestId: randomUUID(), path });
    const headers = { ...r.headers, 'content-length': Buffer.byteLength(r.body), connection: 'close' };
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\n${lines}\r\n${r.body}`);
  };

  private async handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    let target = req.url ?? '/';
    if (!target.startsWith('/')) {
      // absolute-form request-target (through a proxy): keep path and query only
      try {
        const u = new URL(target);
        target = u.pathname + u.search;
      } catch {
        target = '/';
      }
    }
    const qi = target.indexOf('?');
    const rawPath = qi < 0 ? target : target.slice(0, qi);
    const rawQuery = qi < 0 ? null : target.slice(qi + 1);
    const lang = parseLang(headerValue(req, 'x-ncp-lang'));

    if (rawPath.startsWith('/_stockade/') && this.opts.control && (await this.opts.control(req, res, rawPath))) return;

    const byHost = hostService(req);
    const detected = detectScheme(req, rawQuery);
    // The web console: unsigned requests under /console/ on a host that names no service. A signed
    // request there is an API call (an S3 bucket named `console`) and goes on as before.
    if (detected === null && byHost === null && isConsolePath(rawPath)) {
      this.consoleDir ??= this.app.config.consoleDir ?? findConsoleDir();
      return serveConsole(req, res, rawPath, this.consoleDir);
    }
    const scheme =
      detected ??
      (byHost ? schemeOf(byHost) : rawPath.startsWith('/api/v1/') ? 'ncp' : rawPath.startsWith('/v1/') ? 'bce' : 'sigv4');
    const services: ServiceName[] =
      byHost && schemeOf(byHost) === scheme ? [byHost] : scheme === 'ncp' ? NCP_SERVICES : scheme === 'bce' ? ['cfs'] : ['s3'];
    const fallback = PROTOCOLS[services[0] as ServiceName];
    const renderCtx = { requestId, path: rawPath };
    const fail = (protocol: Protocol, kind: GenericFailure, detail: string) =>
      this.reply(res, protocol, protocol.failure(kind, lang, detail), renderCtx);

    if (scheme === 'sigv4') {
      if (this.s3) return this.s3(req, res, { requestId, target, rawPath, rawQuery });
      return fail(PROTOCOLS.s3, 'notImplemented', 'Object Storage (S3 API) is not implemented by this server.');
    }

    // 1. Route.
    const hasKey = (k: string) => rawQuery !== null && hasQueryFlag(rawQuery, k);
    let match: RouteMatch | null = null;
    /** The service of the first route whose parameter segment did not decode. */
    let undecodable: ServiceName | undefined;
    for (const s of services) {
      const m = this.routers.get(s)?.match(req.method ?? 'GET', rawPath, hasKey) ?? null;
      if (m === 'decodeError') undecodable ??= s;
      else if (m) {
        match = m;
        break;
      }
    }
    if (!match && undecodable) return fail(PROTOCOLS[undecodable], 'badUri', t(lang, 'invalid.encodingDetail'));
    const protocol = match ? PROTOCOLS[match.def.service] : fallback;

    // 2. Authenticate: the scheme must carry credentials and they must verify.
    const signed: SignedRequest = { method: req.method ?? 'GET', target, rawPath, rawQuery, headers: req.headers };
    let key: ResolvedKey;
    try {
      const now = this.app.clock.now();
      key = scheme === 'ncp' ? await verifyNcp(signed, this.app.iam, now, lang) : await verifyBce(signed, this.app.iam, now);
    } catch (e) {
      if (e instanceof ApiError) return this.reply(res, protocol, e, renderCtx);
      throw e;
    }
    if (!match) {
      return fail(protocol, 'routeNotFound', t(lang, 'route.notFoundDetail', { method: signed.method, path: rawPath }));
    }
    const def = match.def;

    // 3. Authorise.
    if (!roleSatisfies(key.role, def.role)) {
      return fail(protocol, 'forbidden', t(lang, 'permission.role', { role: key.role, operation: def.name }));
    }

    // 4. Parse and validate the input.
    let input: Record<string, unknown>;
    try {
      input = await this.parseInput(req, def, match.params, rawQuery, protocol, lang);
    } catch (e) {
      if (e instanceof ApiError) return this.reply(res, protocol, e, renderCtx);
      if (clientGone(req, e)) throw e;
      // A bug of the gateway's own: still answered in the service's envelope.
      this.app.logger.error({ err: e, op: def.name, requestId }, 'reading the input failed');
      return fail(protocol, 'internal', `Request ${requestId} failed unexpectedly.`);
    }

    // 5. Run the handler (through the token's record when the operation declares idempotency).
    const served = this.served.get(def.service);
    const handler = served?.handlers[match.key];
    if (!served || !handler) return fail(protocol, 'notImplemented', t(lang, 'not.implemented', { operation: def.name }));
    const tokenField = def.idempotencyToken;
    const token = tokenField !== undefined ? input[tokenField] : undefined;
    let idem: IdempotencyContext<unknown> | undefined;
    const ctx = this.requestContext(req, def, served.instance, key, lang, requestId, () => idem);
    const successStatus = def.successStatus ?? 200;
    const run = async (): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> => {
      const result = await handler(ctx, input);
      return result instanceof Reply ? { status: result.status, body: result.body, headers: result.headers } : { status: successStatus, body: result };
    };
    let outcome: { status: number; body: unknown; headers?: Record<string, string> };
    try {
      if (typeof token === 'string' && token !== '') {
        const { [tokenField!]: _token, ...params } = input;
        outcome = await withIdempotency(
          this.app.store,
          this.app.clock,
          { accountId: key.accountId, operation: def.name, token, params },
          async (ic) => {
            idem = ic;
            const r = await run();
            return { status: r.status, body: r.body instanceof Serialized ? r.body.value : r.body };
          },
        );
      } else {
        outcome = await run();
      }
    } catch (e) {
      if (e instanceof IdempotencyError) {
        return this.reply(res, protocol, protocol.failure(e.code === 'IdempotentParameterMismatch' ? 'idempotencyMismatch' : 'idempotencyInFlight', lang, e.message), renderCtx);
      }
      if (e instanceof ApiError) {
        const violation = this.contract?.checkError(def, e);
        if (violation) return fail(protocol, 'internal', violation);
        return this.reply(res, protocol, e, renderCtx);
      }
      if (clientGone(req, e)) return;
      this.app.logger.error({ err: e, op: def.name, requestId }, 'handler failed');
      return fail(protocol, 'internal', `Request ${requestId} failed unexpectedly.`);
    }
    const violation = this.contract?.checkResponse(def, outcome.status, outcome.body instanceof Serialized ? outcome.body.value : outcome.body);
    if (violation) return fail(protocol, 'internal', violation);
    const headers: Record<string, string> = { ...outcome.headers };
    if (def.service === 'cfs') headers['x-bce-request-id'] = requestId;
    // An operation without a response body answers none, also when replaying a recorded answer (stored as null).
    if (outcome.body === undefined || (outcome.body === null && !def.response)) return send(res, outcome.status, headers, undefined);
    headers['content-type'] ??= def.service === 'cfs' ? 'application/json;charset=UTF-8' : 'application/json';
    send(res, outcome.status, headers, outcome.body instanceof Serialized ? outcome.body.bytes : JSON.stringify(outcome.body));
  }

  /** The context a handler gets: who, where, and the transaction that carries its changes. */
  private requestContext(
    req: IncomingMessage,
    def: OperationDef,
    svc: unknown,
    key: ResolvedKey,
    lang: Lang,
    requestId: string,
    idempotency: () => IdempotencyContext<unknown> | undefined,
  ): RequestContext {
    const { store, runner, audit } = this.app;
    const identity = { accessKeyId: key.accessKeyId, accountId: key.accountId, userId: key.userId, userName: key.userName, role: key.role };
    const who = {
      accountId: key.accountId,
      userId: key.userId,
      userName: key.userName,
      accessKeyId: key.accessKeyId,
      clientAddress: req.socket.remoteAddress ?? null,
      requestId,
    };
    const successStatus = def.successStatus ?? 200;
    return {
      app: this.app,
      svc,
      identity,
      lang,
      requestId,
      op: def,
      headers: req.headers,
      clientAddress: who.clientAddress ?? '',
      who,
      async tx(fn) {
        const result = await store.tx(async (trx) => {
          const r = await fn(trx);
          const idem = idempotency();
          if (idem) {
            const reply = r instanceof Reply ? { status: r.status, body: r.body } : { status: successStatus, body: r };
            await idem.complete(trx, { status: reply.status, body: reply.body instanceof Serialized ? reply.body.value : reply.body });
          }
          return r;
        });
        runner.wake();
        return result;
      },
      async audit(trx, action, resource, detail) {
        await audit.record(trx, { ...who, action, resource, ...(detail !== undefined ? { detail } : {}) });
      },
    };
  }

  /**
   * The handler's input: path parameters, query and body fields, each validated against its
   * schema, undeclared fields dropped. A name declared in several places takes the path
   * parameter first, then the query value, then the body field: a body or query field can
   * never override a path parameter.
   */
  private async parseInput(
    req: IncomingMessage,
    def: OperationDef,
    params: Record<string, string>,
    rawQuery: string | null,
    protocol: Protocol,
    lang: Lang,
  ): Promise<Record<string, unknown>> {
    const failure = (kind: GenericFailure, detail: string, info?: ValidationInfo) => protocol.failure(kind, lang, detail, info);
    let fromPath: Record<string, unknown> = {};
    let fromQuery: Record<string, unknown> = {};
    try {
      if (def.params) fromPath = validate(def.params, params, 'path', { convert: true }) as Record<string, unknown>;
      if (def.query) {
        const declared = def.query.properties;
        const q: Record<string, string> = {};
        for (const [k, v] of readQuery(rawQuery)) {
          if (Object.hasOwn(declared, k) && !Object.hasOwn(q, k)) q[k] = v;
        }
        fromQuery = validate(def.query, q, 'query', { convert: true }) as Record<string, unknown>;
      }
    } catch (e) {
      if (e instanceof ValidationFailure) throw failure('validation', e.message, e.info);
      throw e;
    }
    const nul = nulField(fromPath) ?? nulField(fromQuery);
    if (nul !== undefined) throw failure('validation', t(lang, 'invalid.nul', { field: nul }), { field: nul, missing: false });
    const method = req.method ?? 'GET';
    // GET, HEAD and DELETE bodies are ignored (the Java CFS SDK sends `{}` on them); node:http
    // discards an unread body once the response is sent.
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || !def.body) return { ...fromQuery, ...fromPath };
    let raw: Buffer;
    try {
      raw = await readBody(req, this.app.config.bodyLimit);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        throw failure('bodyTooLarge', t(lang, 'body.tooLargeDetail', { limit: this.app.config.bodyLimit }));
      }
      throw e;
    }
    let body: unknown = undefined;
    if (raw.length > 0) {
      const type = (headerValue(req, 'content-type') ?? '').toLowerCase();
      if (type && !type.includes('json')) throw failure('unsupportedMediaType', t(lang, 'invalid.contentType'));
      // JSON text is UTF-8 (RFC 8259 §8.1): bytes that are not are refused, not replaced with U+FFFD.
      let text: string;
      try {
        text = UTF8.decode(raw);
      } catch {
        throw failure('badEncoding', t(lang, 'invalid.utf8'));
      }
      try {
        body = JSON.parse(text);
      } catch {
        throw failure('malformedBody', t(lang, 'invalid.json'));
      }
      if (jsonDepth(raw) > MAX_JSON_DEPTH) throw failure('validation', t(lang, 'invalid.depth', { depth: MAX_JSON_DEPTH }));
    }
    let fromBody: Record<string, unknown>;
    try {
      const v = validate(def.body, body ?? {}, 'body');
      const dropped = dropUndeclared(def.body, v);
      if (this.app.config.strict && dropped.length) {
        throw new ValidationFailure(`unknown field ${dropped.join(', ')} (strict mode)`);
      }
      fromBody = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { body: v };
      const nulInBody = nulField(v);
      if (nulInBody !== undefined) {
        throw new ValidationFailure(t(lang, 'invalid.nul', { field: nulInBody || 'body' }), nulInBody ? { field: nulInBody, missing: false } : undefined);
      }
    } catch (e) {
      if (e instanceof ValidationFailure) throw failure('validation', e.message, e.info);
      throw e;
    }
    return { ...fromBody, ...fromQuery, ...fromPath };
  }

  private reply(res: ServerResponse, protocol: Protocol, err: ApiError, ctx: { requestId: string; path: string }): void {
    const r = protocol.render(err, ctx);
    send(res, r.status, { ...r.headers }, r.body);
  }
}
