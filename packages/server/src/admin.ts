/** Management operations the CLI runs directly against the database (accounts, keys, fences). */
import type { Role } from '@stockade/sdk';
import type { Config } from './config.js';
import { openDatabase, type Store } from './store/db.js';
import { migrate } from './store/migrations.js';
import { SecretBox } from './iam/secrets.js';
import { AUDIT_KEY_PURPOSE, AuditLog } from './store/audit.js';
import { Iam } from './iam/iam.js';
import { systemClock } from './tasks/clock.js';
import { createFence, listFences, type FenceRow } from './services/datafence/fences.js';

export interface AdminContext {
  store: Store;
  iam: Iam;
  createAccount(name: string): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }>;
  createKey(opts: { role: Role; accountId?: string; userName?: string }): Promise<{
    accountId: string;
    userName: string;
    role: Role;
    accessKeyId: string;
    secretAccessKey: string;
  }>;
  createFence(name: string, accountId?: string, description?: string): Promise<FenceRow>;
  listFences(accountId?: string): Promise<FenceRow[]>;
  close(): Promise<void>;
}

/**
 * The audit log of the database for `stockade audit`. With `verify`, the server's master key must
 * exist (STOCKADE_MASTER_KEY or `<data>/master.key`): it is checked before the database is opened,
 * and never generated here, since a new key would make every event look forged.
 */
export async function openAudit(
  config: Config,
  opts: { verify: boolean; env?: NodeJS.ProcessEnv },
): Promise<{ store: Store; log: AuditLog | null; close(): Promise<void> }> {
  const log = opts.verify
    ? new AuditLog(SecretBox.fromEnvOrFile(config.dataDir, opts.env, { create: false }).deriveKey(AUDIT_KEY_PURPOSE), systemClock)
    : null;
  const store = await openDatabase({ dataDir: config.dataDir, url: config.databaseUrl, schema: config.databaseSchema });
  await migrate(store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  return { store, log, close: () => store.close() };
}

export async function openAdmin(config: Config): Promise<AdminContext> {
  const store = await openDatabase({ dataDir: config.dataDir, url: config.databaseUrl, schema: config.databaseSchema });
  await migrate(store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  const clock = systemClock;
  const iam = new Iam(store.db, SecretBox.fromEnvOrFile(config.dataDir), clock);

  const accountOrFirst = async (accountId?: string): Promise<string> => {
    if (accountId) {
      if (!(await iam.getAccount(accountId))) throw new Error(`no account ${accountId}`);
      return accountId;
    }
    const first = (await iam.listAccounts())[0];
    if (!first) throw new Error('no account yet: start the server once, or run `stockade accounts create NAME`');
    return first.id;
  };

  return {
    store,
    iam,
    async createAccount(name) {
      const account = await iam.createAccount(name);
      const owner = await iam.createUser(account.id, 'owner', 'owner');
      const key = await iam.createKey(owner.id);
      await createFence({ store, clock }, account.id, { name: 'fence-1', description: 'Default Datafence' });
      return { accountId: account.id, ...key };
    },
    async createKey({ role, accountId, userName }) {
      const account = await accountOrFirst(accountId);
      const name = userName ?? role;
      const user = (await iam.findUser(account, name)) ?? { id: (await iam.createUser(account, name, role)).id, role };
      if (user.role !== role) throw new Error(`user ${name} exists with role ${user.role}, not ${role}`);
      const key = await iam.createKey(user.id);
      return { accountId: account, userName: name, role, ...key };
    },
    async createFence(name, accountId, description) {
      return createFence({ store, clock }, await accountOrFirst(accountId), { name, description });
    },
    async listFences(accountId) {
      if (accountId) return listFences(store.db, accountId);
      const out: FenceRow[] = [];
      for (const a of await iam.listAccounts()) out.push(...(await listFences(store.db, a.id)));
      return out;
    },
    close: () => store.close(),
  };
}
