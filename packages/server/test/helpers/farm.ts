/**
 * Real `stockade serve` processes on one store: a data directory (SQLite) or a PostgreSQL schema of
 * their own, with one account whose key the test knows. For tests that kill and restart servers.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dropSchema, openDatabase, type Store } from '../../src/store/db.js';
import { ServeProcess, cliEnv } from './cli.js';
import { testDatabaseUrl } from './db.js';

export interface Farm {
  /** The first account's owner key. */
  creds: { accessKeyId: string; secretAccessKey: string };
  /** Starts one more server on the store; resolves once it listens. */
  serve(): Promise<{ p: ServeProcess; url: string }>;
  /**
   * The servers' database, opened by the test itself: to watch state change without asking a
   * server, whose answers wait behind the work it is doing. Closed by `close`.
   */
  store(): Promise<Store>;
  /** Stops every server, drops the schema and removes the directory. */
  close(): Promise<void>;
}

/** `env`: more variables for the servers (STOCKADE_TASK_LEASE_MS, STOCKADE_TRANSITIONS, …). */
export async function startFarm(name: string, env: Record<string, string | undefined> = {}): Promise<Farm> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), `stockade-${name}-`));
  const schema = testDatabaseUrl ? `t_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}` : undefined;
  const creds = { accessKeyId: 'STKFARM' + randomBytes(5).toString('hex').toUpperCase(), secretAccessKey: randomBytes(20).toString('base64url') };
  const serverEnv = cliEnv({
    STOCKADE_DATABASE_SCHEMA: schema,
    STOCKADE_MASTER_KEY: `${name}-test`,
    STOCKADE_LOG_LEVEL: 'warn',
    STOCKADE_ACCESS_KEY_ID: creds.accessKeyId,
    STOCKADE_SECRET_ACCESS_KEY: creds.secretAccessKey,
    ...env,
  });
  const args = ['--port', '0', '--data', path.join(root, 'data'), ...(testDatabaseUrl ? ['--database', testDatabaseUrl] : [])];
  const procs: ServeProcess[] = [];
  let store: Promise<Store> | undefined;
  return {
    creds,
    async serve() {
      const p = new ServeProcess(args, { env: serverEnv });
      procs.push(p);
      const line = await p.waitForLine((l) => l.startsWith('Stockade listening on '), 30_000);
      return { p, url: line.slice('Stockade listening on '.length).trim() };
    },
    store() {
      store ??= openDatabase({ dataDir: path.join(root, 'data'), ...(testDatabaseUrl ? { url: testDatabaseUrl, schema } : {}) });
      return store;
    },
    async close() {
      for (const p of procs) await p.stop(2_000).catch(() => undefined);
      if (store) await (await store).close();
      if (testDatabaseUrl && schema) await dropSchema(testDatabaseUrl, schema);
      await fsp.rm(root, { recursive: true, force: true });
    },
  };
}
