/**
 * Composition root: wires configuration, the database, content storage, IAM, the task runner
 * and the services' handlers into one listening server. Nothing else constructs these.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Store } from './store/db.js';
import { migrate } from './store/migrations.js';
import { LocalBlobStore, collectGarbage, type BlobStore } from './store/blobs.js';
import { SecretBox } from './iam/secrets.js';
import { AUDIT_KEY_PURPOSE, AuditLog } from './store/audit.js';
import { Iam } from './iam/iam.js';
import { systemClock, type Clock } from './tasks/clock.js';
import { TaskRunner } from './tasks/runner.js';
import { registerProbe } from './tasks/runner.js';
import { LifecyclePolicies, loadTransitionsFile, parseTransitions } from './tasks/lifecycle.js';
import { Gateway } from './gateway/server.js';
import { serviceHandlers } from './services/index.js';
import { createS3Service } from './services/s3/index.js';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import { controlRoutes } from './control.js';

/** Orphaned content older than this is collected; younger files may belong to an upload in flight. */
const BLOB_GC_GRACE_MS = 60 * 60_000;
const BLOB_GC_INTERVAL_MS = 10 * 60_000;

export interface AppContext {
  config: Config;
  store: Store;
  blobs: BlobStore;
  iam: Iam;
  /** The audit log: `audit.record(trx, event)` inside the transaction of the change. */
  audit: AuditLog;
  clock: Clock;
  runner: TaskRunner;
  lifecycle: LifecyclePolicies;
  logger: Logger;
}

export interface RunningApp {
  ctx: AppContext;
  server: Server;
  url: string;
  boot: BootstrapResult;
  /** Stop accepting, finish in-flight requests, release task leases, close the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export async function startApp(config: Config, opts: StartOptions = {}): Promise<RunningApp> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? pino({ level: config.logLevel });
  const clock = opts.clock ?? systemClock;
  const transitions = {
    ...(config.transitionsFile ? loadTransitionsFile(config.transitionsFile) : {}),
    ...(config.transitions ? parseTransitions(config.transitions) : {}),
  };
  const lifecycle = LifecyclePolicies.forProfile(config.profile, transitions);

  const store = await openDatabase({
    dataDir: config.dataDir,
    url: config.databaseUrl,
    schema: config.databaseSchema,
  });
  try {
    await migrate(store);
    const blobs: BlobStore =
      config.blobBackend === 's3'
        ? await (await import('./store/blobs-s3.js')).S3BlobStore.create({
            endpoint: config.blobS3Endpoint ?? '',
            bucket: config.blobS3Bucket ?? '',
            region: config.blobS3Region,
            prefix: config.blobS3Prefix,
            accessKeyId: config.blobS3AccessKeyId,
            secretAccessKey: config.blobS3SecretAccessKey,
          })
        : new LocalBlobStore(config.dataDir);
    const secrets = SecretBox.fromEnvOrFile(config.dataDir, env);
    const iam = new Iam(store.db, secrets, clock);
    const audit = new AuditLog(secrets.deriveKey(AUDIT_KEY_PURPOSE), clock);
    const runner = new TaskRunner({
      store,
      clock,
      owner: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      leaseMs: config.taskLeaseMs,
      pollMs: config.taskPollMs,
      logger,
    });
    if (config.profile === 'dev') registerProbe(runner, store);
    const ctx: AppContext = { config, store, blobs, iam, audit, clock, runner, lifecycle, logger };
    const boot = await bootstrap(ctx, env);

    const gateway = new Gateway(ctx, {
      handlers: serviceHandlers,
      s3: createS3Service(ctx),
      control: config.profile === 'dev' ? controlRoutes(ctx, boot) : controlRoutes(ctx, boot, { testControls: false }),
    });
    const server = gateway.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;
    runner.start();
    // Background collection of orphaned content (an upload that crashed before its row committed).
    const gc = setInterval(() => {
      collectGarbage(store, blobs, { olderThanMs: BLOB_GC_GRACE_MS, clock }).then(
        (r) => r.deleted + r.deletedTemp > 0 && logger.info(r, 'collected orphaned content'),
        (err: unknown) => logger.warn({ err }, 'content garbage collection failed'),
      );
    }, BLOB_GC_INTERVAL_MS);
    gc.unref();

    let closing: Promise<void> | null = null;
    const close = () =>
      (closing ??= (async () => {
        clearInterval(gc);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await runner.stop();
        blobs.close?.();
        await store.close();
      })());
    return { ctx, server, url, boot, close };
  } catch (e) {
    await store.close();
    throw e;
  }
}
