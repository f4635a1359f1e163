/**
 * The platform: configuration, database, content, volumes, audit, IAM, tasks and the services'
 * instances, wired once. The server (app.ts) adds a listener; the management commands (admin.ts)
 * use it headless (no listener, no task loop, no background work).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sql } from 'kysely';
import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';
import type { AppContext, ServiceApis } from '../context.js';
import { openDatabase, type Store } from '../store/db.js';
import { LocalBlobStore, type BlobStore } from '../store/blobs.js';
import { VolumeStore } from '../store/volumes.js';
import { AUDIT_KEY_PURPOSE, AuditLog, resetAuditLog, SYSTEM_ACTOR } from '../store/audit.js';
import type { Executor } from '../store/schema.js';
import { SecretBox } from '../iam/secrets.js';
import { Iam } from '../iam/iam.js';
import { systemClock, type Clock } from '../tasks/clock.js';
import { TaskRunner, registerProbe } from '../tasks/runner.js';
import { LifecyclePolicies, loadTransitionsFile, parseTransitions } from '../tasks/lifecycle.js';
import { migrateAll, resetTables, services } from './registry.js';
import type { ServiceHooks, ServiceModule } from './service.js';

export interface PlatformOptions {
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Management commands: no content backend is contacted (they never move object content). */
  headless?: boolean;
  /**
   * Tests: these service modules in place of the registered ones with the same name (a module
   * with stub handlers, to test the gateway's side of an operation on its own).
   */
  replaceServices?: ReadonlyArray<ServiceModule>;
}

export interface Credentials {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RunningService {
  module: ServiceModule;
  instance: ServiceHooks;
}

/** Content is never read or written by management commands; this store says so if it is. */
const noContent: BlobStore = new Proxy({} as BlobStore, {
  get(_t, prop) {
    if (prop === 'then' || prop === 'close') return undefined;
    return () => {
      throw new Error(`object content is not available to management commands (BlobStore.${String(prop)})`);
    };
  },
});

export class Platform {
  private constructor(
    readonly ctx: AppContext,
    readonly services: readonly RunningService[],
  ) {}

  static async open(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
    const env = opts.env ?? process.env;
    const logger = opts.logger ?? pino({ level: config.logLevel });
    const clock = opts.clock ?? systemClock;
    const transitions = {
      ...(config.transitionsFile ? loadTransitionsFile(config.transitionsFile) : {}),
      ...(config.transitions ? parseTransitions(config.transitions) : {}),
    };
    const store: Store = await openDatabase({ dataDir: config.dataDir, url: config.databaseUrl, schema: config.databaseSchema });
    try {
      await migrateAll(store);
      const blobs: BlobStore = opts.headless
        ? noContent
        : config.blobBackend === 's3'
          ? await (await import('../store/blobs-s3.js')).S3BlobStore.create({
              endpoint: config.blobS3Endpoint ?? '',
              bucket: config.blobS3Bucket ?? '',
              region: config.blobS3Region,
              prefix: config.blobS3Prefix,
              accessKeyId: config.blobS3AccessKeyId,
              secretAccessKey: config.blobS3SecretAccessKey,
            })
          : new LocalBlobStore(config.dataDir);
      const secrets = SecretBox.fromEnvOrFile(config.dataDir, env);
      const volumes = new VolumeStore(store, config.volumesDir ?? path.join(config.dataDir, 'volumes'), clock);
      const runner = new TaskRunner({
        store,
        clock,
        owner: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
        leaseMs: config.taskLeaseMs,
        pollMs: config.taskPollMs,
        logger,
      });
      const apis = new Map<string, unknown>();
      const ctx: AppContext = {
        config,
        store,
        blobs,
        volumes,
        audit: new AuditLog(secrets.deriveKey(AUDIT_KEY_PURPOSE), clock),
        iam: new Iam(store.db, secrets, clock),
        secrets,
        clock,
        runner,
        lifecycle: LifecyclePolicies.forProfile(config.profile, transitions),
        logger,
        api<K extends keyof ServiceApis>(name: K): ServiceApis[K] {
          if (!apis.has(name)) throw new Error(`no service ${String(name)} offers an api`);
          return apis.get(name) as ServiceApis[K];
        },
      };
      if (config.profile === 'dev') registerProbe(runner);
      const running: RunningService[] = [];
      const modules = services.map((m) => opts.replaceServices?.find((r) => r.name === m.name) ?? m);
      for (const module of modules) {
        const instance = module.create(ctx);
        if (instance.api !== undefined) apis.set(module.name, instance.api);
        for (const t of module.tasks ?? []) {
          runner.register(t.kind, (payload, tctx) => t.run(instance, payload as never, tctx), {
            payload: t.payload,
            ...(t.concurrency !== undefined ? { concurrency: t.concurrency } : {}),
            ...(t.leaseMs !== undefined ? { leaseMs: t.leaseMs } : {}),
            ...(t.timeoutMs !== undefined ? { timeoutMs: t.timeoutMs } : {}),
            ...(t.maxAttempts !== undefined ? { maxAttempts: t.maxAttempts } : {}),
            ...(t.backoffMs !== undefined ? { backoffMs: t.backoffMs } : {}),
            ...(t.retentionMs !== undefined ? { retentionMs: t.retentionMs } : {}),
          });
        }
        running.push({ module, instance });
      }
      if (!opts.headless) await volumes.checkRoot();
      return new Platform(ctx, running);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /**
   * Creates an account with its owner user and key, and whatever each service gives a new account
   * (a default fence, …), in the caller's transaction. One function for first start, `accounts
   * create` and tests.
   */
  async provisionAccount(
    trx: Executor,
    opts: { name: string; seed?: { accessKeyId: string; secretAccessKey: string } },
  ): Promise<Credentials> {
    const { iam, audit } = this.ctx;
    const account = await iam.createAccount(opts.name, trx);
    const owner = await iam.createUser(account.id, 'owner', 'owner', trx);
    const key = await iam.createKey(owner.id, opts.seed, trx);
    for (const s of this.services) await s.instance.onAccountCreated?.(trx, account);
    await audit.record(trx, {
      ...SYSTEM_ACTOR,
      accountId: account.id,
      action: 'account.create',
      resource: `account/${account.id}`,
      clientAddress: null,
      requestId: null,
    });
    return { accountId: account.id, ...key };
  }

  /**
   * First start: with an empty database, provisions the first account, in one transaction that
   * also decides whether the database is empty (PostgreSQL: under an advisory lock), so two
   * processes starting together on one empty database create exactly one account. Returns it,
   * or null when an account existed.
   */
  async provisionFirstAccount(seed?: { accessKeyId: string; secretAccessKey: string }): Promise<Credentials | null> {
    const { store } = this.ctx;
    return store.tx(async (trx) => {
      if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('stockade.bootstrap.' || current_schema()))`.execute(trx);
      const any = await trx.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
      if (any) return null;
      return this.provisionAccount(trx, { name: 'default', ...(seed ? { seed } : {}) });
    });
  }

  /**
   * Test control: empties every service's tables and the platform's (accounts, users and keys
   * stay), removes volumes and content, and gives every account back what a new account gets.
   */
  async reset(): Promise<void> {
    const { store, volumes, blobs, lifecycle } = this.ctx;
    await store.tx(async (trx) => {
      for (const table of resetTables()) await trx.deleteFrom(table as 'tasks').execute();
      // The audit log restarts its chain (deleting its rows alone would look like tampering).
      await resetAuditLog(trx);
      for (const account of await trx.selectFrom('accounts').select(['id', 'name']).orderBy('created_at').execute()) {
        for (const s of this.services) await s.instance.onAccountCreated?.(trx, account);
      }
    });
    await volumes.collectOrphans();
    // No `blobs` row is left, so every stored file is content nothing refers to.
    for await (const entry of blobs.entries()) await blobs.deleteEntry(entry);
    for (const s of this.services) await s.instance.afterReset?.();
    lifecycle.reset();
  }

  async startServices(): Promise<void> {
    for (const s of this.services) await s.instance.start?.();
  }

  async close(): Promise<void> {
    for (const s of [...this.services].reverse()) {
      try {
        await s.instance.stop?.();
      } catch (err) {
        this.ctx.logger.error({ err, service: s.module.name }, 'service failed to stop');
      }
    }
    this.ctx.blobs.close?.();
    await this.ctx.store.close();
  }
}
