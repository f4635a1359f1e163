/**
 * `/_stockade/…` routes, unauthenticated. `openapi.json` exists in every profile; the test
 * controls (health, reset, tasks/run, tasks, transitions, gc, and each service's own through its
 * `control` hook) only in the dev profile.
 *
 * The test controls can wipe the store, so a web page open in the user's browser must not reach
 * them (README "Test controls"): every request needs a loopback or configured `Host` (DNS
 * rebinding) and no foreign `Origin`; a request that changes something (any method but GET and
 * HEAD) also needs `x-stockade-control: 1`, a header no cross-site form or simple request can
 * carry (a browser would send a CORS preflight first, which this server never grants). Refusals
 * are 403 with a JSON `{"error"}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BootstrapResult } from './bootstrap.js';
import type { Platform } from './platform/runtime.js';
import { openApiDocument } from './openapi.js';
import { isImplemented } from './coverage.js';
import { transitionsFromJSON } from './tasks/lifecycle.js';
import { collectGarbage } from './store/blobs.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 1024 * 1024) throw new Error('control request body over 1 MiB');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

/** Host names that always reach the test controls, on any port. */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
/** The header (and value) a state-changing control request must carry. */
export const CONTROL_HEADER = 'x-stockade-control';

const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * Why a request may not use the test controls, or null when it may: see the file comment.
 * `allowed` holds lower-case host names without ports.
 */
export function controlRefusal(req: IncomingMessage, allowed: ReadonlySet<string>): string | null {
  const host = (req.headers.host ?? '').trim().toLowerCase();
  const name = HOST_RE.exec(host)?.[1];
  if (name === undefined || !allowed.has(name)) {
    return `Host ${JSON.stringify(req.headers.host ?? '')} is not a loopback name or one of --allowed-hosts`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      const u = new URL(origin);
      if (u.protocol === 'http:' || u.protocol === 'https:') originHost = u.hostname;
    } catch {
      /* `null` and other opaque origins */
    }
    if (originHost === undefined || !allowed.has(originHost)) {
      return `Origin ${JSON.stringify(origin)} is not a loopback origin or one of --allowed-hosts`;
    }
  }
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && req.headers[CONTROL_HEADER] !== '1') {
    return `a ${method} to the test controls needs the header "${CONTROL_HEADER}: 1"`;
  }
  return null;
}

export function controlRoutes(platform: Platform, boot: BootstrapResult, opts: { testControls?: boolean } = {}) {
  const testControls = opts.testControls ?? true;
  const { ctx } = platform;
  const allowedHosts = new Set([...LOOPBACK_HOSTS, ...ctx.config.allowedHosts.map((h) => h.toLowerCase())]);
  let openapi: string | undefined;
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const method = req.method ?? 'GET';
    if (path === '/_stockade/openapi.json' && method === 'GET') {
      openapi ??= JSON.stringify(openApiDocument(isImplemented));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(openapi) });
      res.end(openapi);
      return true;
    }
    if (!testControls) return false;
    const refusal = controlRefusal(req, allowedHosts);
    if (refusal !== null) {
      req.resume();
      json(res, 403, { error: refusal });
      return true;
    }
    try {
      if (path === '/_stockade/health' && method === 'GET') {
        json(res, 200, { status: 'ok', profile: ctx.config.profile, database: ctx.store.dialect });
        return true;
      }
      if (path === '/_stockade/reset' && method === 'POST') {
        await platform.reset();
        json(res, 200, { status: 'reset', accountId: boot.credentials?.accountId ?? null });
        return true;
      }
      if (path === '/_stockade/tasks/run' && method === 'POST') {
        const ran = await ctx.runner.runDue({ includeManual: true });
        json(res, 200, { ran });
        return true;
      }
      if (path === '/_stockade/tasks' && method === 'POST') {
        // Enqueue probe tasks: proves that a cluster of processes runs each task exactly once. With
        // `dedupeKeys`, probe i carries key i: however many processes enqueue it, one task exists.
        const body = (await readJson(req)) as { kind?: unknown; count?: unknown; ms?: unknown; dedupeKeys?: unknown };
        const count = Number(body.count ?? 1);
        const ms = Number(body.ms ?? 0);
        const keys = body.dedupeKeys;
        const keysOk = keys === undefined || (Array.isArray(keys) && keys.length === count && keys.every((k) => typeof k === 'string' && k.length > 0 && k.length <= 200));
        if (body.kind !== 'probe' || !Number.isInteger(count) || count < 1 || count > 100_000 || !(ms >= 0 && ms <= 600_000) || !keysOk) {
          json(res, 400, { error: 'expected {"kind":"probe","count":1..100000,"ms":0..600000,"dedupeKeys"?:[count strings]}' });
          return true;
        }
        const ids: number[] = [];
        await ctx.store.tx(async (trx) => {
          for (let i = 0; i < count; i++) {
            const dedupeKey = (keys as string[] | undefined)?.[i];
            ids.push(await ctx.runner.enqueue('probe', { ms }, { db: trx, ...(dedupeKey ? { dedupeKey } : {}) }));
          }
        });
        ctx.runner.wake();
        json(res, 200, { enqueued: ids.length, first: ids[0], last: ids[ids.length - 1], ids });
        return true;
      }
      if (path === '/_stockade/gc' && method === 'POST') {
        // Content garbage collection now. The default grace is 0 (an explicit request): a temp
        // file of an upload still in flight is collected too, and that upload then fails.
        const body = (await readJson(req)) as { olderThanMs?: unknown } | null;
        const olderThanMs = Number(body?.olderThanMs ?? 0);
        if (!Number.isSafeInteger(olderThanMs) || olderThanMs < 0) {
          json(res, 400, { error: 'expected {"olderThanMs": a non-negative integer} or no body' });
          return true;
        }
        json(res, 200, await collectGarbage(ctx.store, ctx.blobs, { olderThanMs, clock: ctx.clock }));
        return true;
      }
      if (path === '/_stockade/transitions') {
        if (method === 'POST') ctx.lifecycle.setAll(transitionsFromJSON(await readJson(req)));
        else if (method !== 'GET') return false;
        json(res, 200, ctx.lifecycle.toJSON());
        return true;
      }
      for (const s of platform.services) {
        if (s.instance.control && (await s.instance.control(req, res, path))) return true;
      }
    } catch (e) {
      json(res, 400, { error: e instanceof Error ? e.message : String(e) });
      return true;
    }
    return false;
  };
}
