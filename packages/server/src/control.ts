/**
 * `/_stockade/…` routes, unauthenticated. `openapi.json` exists in every profile; the test
 * controls (health, reset, tasks/run, tasks, transitions, gc) only in the dev profile.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from './app.js';
import type { BootstrapResult } from './bootstrap.js';
import { openApiDocument } from './openapi.js';
import { isImplemented } from './coverage.js';
import { transitionsFromJSON } from './tasks/lifecycle.js';
import { createFence } from './services/datafence/fences.js';
import { collectGarbage } from './store/blobs.js';
import { resetAuditLog } from './store/audit.js';

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

/**
 * Tables that `reset` empties (IAM tables are kept: every account, user and key survives). The
 * audit log is emptied too, by `resetAuditLog`, which also restarts its chain.
 */
const RESETTABLE = [
  'tasks', 'idempotency', 'probe_runs', 'blobs', 'custom_images', 'dataflow_jobs', 'cfs_file_systems', 'fences',
  's3_buckets', 's3_objects', 's3_object_blobs', 's3_uploads', 's3_parts',
] as const;

export function controlRoutes(ctx: AppContext, boot: BootstrapResult, opts: { testControls?: boolean } = {}) {
  const testControls = opts.testControls ?? true;
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
    try {
      if (path === '/_stockade/health' && method === 'GET') {
        json(res, 200, { status: 'ok', profile: ctx.config.profile, database: ctx.store.dialect });
        return true;
      }
      if (path === '/_stockade/reset' && method === 'POST') {
        await ctx.store.db.transaction().execute(async (trx) => {
          for (const table of RESETTABLE) await trx.deleteFrom(table).execute();
          await resetAuditLog(trx);
        });
        await rm(join(ctx.config.dataDir, 'volumes'), { recursive: true, force: true });
        // No `blobs` row is left, so every stored file is content nothing refers to.
        for await (const entry of ctx.blobs.entries()) await ctx.blobs.deleteEntry(entry);
        ctx.lifecycle.reset();
        // Every account gets its default Datafence back, as on first start.
        for (const account of await ctx.iam.listAccounts()) {
          await createFence(ctx, account.id, { name: 'fence-1', description: 'Default Datafence' });
        }
        json(res, 200, { status: 'reset', accountId: boot.credentials?.accountId ?? null });
        return true;
      }
      if (path === '/_stockade/tasks/run' && method === 'POST') {
        const ran = await ctx.runner.runDue({ includeManual: true });
        json(res, 200, { ran });
        return true;
      }
      if (path === '/_stockade/tasks' && method === 'POST') {
        // Enqueue probe tasks: proves that a cluster of processes runs each task exactly once.
        const body = (await readJson(req)) as { kind?: unknown; count?: unknown; ms?: unknown };
        const count = Number(body.count ?? 1);
        const ms = Number(body.ms ?? 0);
        if (body.kind !== 'probe' || !Number.isInteger(count) || count < 1 || count > 100_000 || !(ms >= 0 && ms <= 600_000)) {
          json(res, 400, { error: 'expected {"kind":"probe","count":1..100000,"ms":0..600000}' });
          return true;
        }
        const ids: number[] = [];
        await ctx.store.db.transaction().execute(async (trx) => {
          for (let i = 0; i < count; i++) ids.push(await ctx.runner.enqueue('probe', { ms }, { db: trx }));
        });
        ctx.runner.wake();
        json(res, 200, { enqueued: ids.length, first: ids[0], last: ids[ids.length - 1] });
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
    } catch (e) {
      json(res, 400, { error: e instanceof Error ? e.message : String(e) });
      return true;
    }
    return false;
  };
}
