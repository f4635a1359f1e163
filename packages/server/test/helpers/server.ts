/**
 * An in-process server on a real socket (port 0), on SQLite in a temp dir or, with
 * STOCKADE_TEST_DATABASE_URL, on PostgreSQL in a fresh schema. The bootstrap key is seeded.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { startApp, type RunningApp } from '../../src/app.js';
import { defaultConfig, type Config } from '../../src/config.js';
import { dropSchema } from '../../src/store/db.js';
import { openAdmin } from '../../src/admin.js';
import type { Clock } from '../../src/tasks/clock.js';
import type { ServiceModule } from '../../src/platform/service.js';
import { testDatabaseUrl } from './db.js';

export interface TestServer {
  app: RunningApp;
  url: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  creds: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** Create another account with its own owner key, or a key of another role in this account. */
  newAccount(name: string): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }>;
  /** `boxes`: a box-user key bound to these boxes (`stockade keys create --box`). */
  newKey(
    role: 'owner' | 'fence-admin' | 'box-user',
    accountId?: string,
    opts?: { boxes?: number[] },
  ): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  close(): Promise<void>;
}

export async function startTestServer(
  name: string,
  opts: { config?: Partial<Config>; clock?: Clock; logger?: Logger; replaceServices?: ReadonlyArray<ServiceModule> } = {},
): Promise<TestServer> {
  const safe = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40);
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), `stockade-${safe}-`));
  const schema = testDatabaseUrl ? `t_${safe}_${randomBytes(5).toString('hex')}` : undefined;
  const accessKeyId = 'STKTEST' + randomBytes(6).toString('hex').toUpperCase();
  const secretAccessKey = randomBytes(20).toString('base64url');
  const config: Config = {
    ...defaultConfig({}),
    port: 0,
    dataDir,
    databaseUrl: testDatabaseUrl,
    databaseSchema: schema,
    logLevel: 'silent',
    // Every answer is held to the operation table (undeclared errors, bodies off-schema): see close().
    contractChecks: true,
    ...opts.config,
  };
  const app = await startApp(config, {
    logger: opts.logger ?? pino({ level: 'silent' }),
    clock: opts.clock,
    ...(opts.replaceServices ? { replaceServices: opts.replaceServices } : {}),
    env: { STOCKADE_ACCESS_KEY_ID: accessKeyId, STOCKADE_SECRET_ACCESS_KEY: secretAccessKey, STOCKADE_MASTER_KEY: 'test-master-key' },
  });
  const accountId = app.boot.credentials!.accountId;
  const adminConfig = { ...config };
  const withAdmin = async <T>(fn: (a: Awaited<ReturnType<typeof openAdmin>>) => Promise<T>): Promise<T> => {
    const prev = process.env.STOCKADE_MASTER_KEY;
    process.env.STOCKADE_MASTER_KEY = 'test-master-key';
    const a = await openAdmin(adminConfig);
    try {
      return await fn(a);
    } finally {
      await a.close();
      if (prev === undefined) delete process.env.STOCKADE_MASTER_KEY;
      else process.env.STOCKADE_MASTER_KEY = prev;
    }
  };
  return {
    app,
    url: app.url,
    accountId,
    accessKeyId,
    secretAccessKey,
    creds: { endpoint: app.url, accessKeyId, secretAccessKey },
    newAccount: (n) => withAdmin((a) => a.createAccount(n)),
    newKey: (role, acc, o) =>
      withAdmin((a) =>
        a.createKey({ role, accountId: acc ?? accountId, userName: `${role}-${randomBytes(3).toString('hex')}`, ...(o?.boxes ? { boxes: o.boxes } : {}) }),
      ),
    async close() {
      await app.close();
      const violations = app.contract?.violations ?? [];
      if (violations.length > 0) throw new Error(`the server answered against its operation table:\n${violations.join('\n')}`);
      if (testDatabaseUrl && schema) await dropSchema(testDatabaseUrl, schema);
      await fsp.rm(dataDir, { recursive: true, force: true });
    },
  };
}

