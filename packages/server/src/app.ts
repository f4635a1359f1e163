/**
 * The server: the platform (platform/runtime.ts) plus one listening gateway, the task loop, the
 * services' background work and the platform's housekeeping.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { collectGarbage } from './store/blobs.js';
import { purgeExpiredIdempotency } from './store/idempotency.js';
import { Gateway } from './gateway/server.js';
import type { ContractChecker } from './gateway/contract.js';
import { Platform, type PlatformOptions } from './platform/runtime.js';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import { controlRoutes } from './control.js';

export type { AppContext } from './context.js';

/** Orphaned content older than this is collected; younger files may belong to an upload in flight. */
const BLOB_GC_GRACE_MS = 60 * 60_000;
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface RunningApp {
  ctx: AppContext;
  platform: Platform;
  server: Server;
  url: string;
  boot: BootstrapResult;
  /** Contract checks (tests): what the gateway found answered against the operation table. */
  contract: ContractChecker | null;
  /** Stop accepting, finish in-flight requests, release task leases, stop services, close the database. */
  close(): Promise<void>;
}

export type StartOptions = PlatformOptions;

export async function startApp(config: Config, opts: StartOptions = {}): Promise<RunningApp> {
  const platform = await Platform.open(config, opts);
  const { ctx } = platform;
  try {
    const boot = await bootstrap(platform, opts.env ?? process.env);
    const gateway = new Gateway(ctx, {
      services: platform.services,
      control: controlRoutes(platform, boot, { testControls: config.profile === 'dev' }),
    });
    const server = gateway.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;
    ctx.runner.start();
    try {
      await platform.startServices();
    } catch (e) {
      // A service that cannot start (the NFS server) stops the server: nothing keeps listening.
      await ctx.runner.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw e; // the platform is closed below

    }
    // Housekeeping: content an upload left behind when it crashed before its row committed,
    // volumes whose row is gone, expired idempotency tokens (finished tasks: the runner purges them).
    const housekeeping = setInterval(() => {
      void (async () => {
        const r = await collectGarbage(ctx.store, ctx.blobs, { olderThanMs: BLOB_GC_GRACE_MS, clock: ctx.clock });
        if (r.deleted + r.deletedTemp > 0) ctx.logger.info(r, 'collected orphaned content');
        const orphans = await ctx.volumes.collectOrphans();
        if (orphans.length > 0) ctx.logger.info({ volumes: orphans }, 'removed the files of dropped volumes');
        await purgeExpiredIdempotency(ctx.store, ctx.clock);
      })().catch((err: unknown) => ctx.logger.warn({ err }, 'housekeeping failed'));
    }, HOUSEKEEPING_INTERVAL_MS);
    housekeeping.unref();

    let closing: Promise<void> | null = null;
    const close = () =>
      (closing ??= (async () => {
        clearInterval(housekeeping);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await ctx.runner.stop();
        await platform.close();
      })());
    return { ctx, platform, server, url, boot, contract: gateway.contract, close };
  } catch (e) {
    await platform.close();
    throw e;
  }
}
