/**
 * Test stores on both backends. Without STOCKADE_TEST_DATABASE_URL: SQLite in a fresh temp dir.
 * With it (postgres://…): that database, in a fresh schema `t_<name>_<random>` dropped by cleanup().
 * Either way `dataDir` is a fresh temp dir (for blobs and volumes), removed by cleanup().
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dropSchema, openDatabase, type Store } from '../../src/store/db.js';
import { migrateAll } from '../../src/platform/registry.js';

export interface TestStore extends Store {
  dataDir: string;
  /** PostgreSQL URL, or undefined on SQLite. */
  url: string | undefined;
  /** PostgreSQL schema, or undefined on SQLite. */
  schema: string | undefined;
  /** Opens another, independent Store on the same database (the caller closes it). */
  reopen(): Promise<Store>;
  /** Closes the store, drops the schema (PostgreSQL) and removes dataDir. */
  cleanup(): Promise<void>;
}

export interface TestStoreOptions {
  /** Run the migrations (default true). */
  migrate?: boolean;
}

export const testDatabaseUrl: string | undefined = process.env.STOCKADE_TEST_DATABASE_URL || undefined;

export async function openTestStore(name: string, opts: TestStoreOptions = {}): Promise<TestStore> {
  const safe = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40) || 'x';
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), `stockade-${safe}-`));
  const url = testDatabaseUrl;
  const schema = url ? `t_${safe}_${randomBytes(5).toString('hex')}` : undefined;
  const open = (): Promise<Store> =>
    openDatabase({ dataDir, ...(url ? { url } : {}), ...(schema ? { schema } : {}) });
  const store = await open();
  if (opts.migrate !== false) await migrateAll(store);
  return {
    ...store,
    dataDir,
    url,
    schema,
    reopen: open,
    async cleanup() {
      await store.close();
      if (url && schema) await dropSchema(url, schema);
      await fsp.rm(dataDir, { recursive: true, force: true });
    },
  };
}
