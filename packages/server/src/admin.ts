/** Management operations the CLI runs directly against the database (accounts, keys, fences). */
import type { Role } from '@stockade/sdk';
import { pino } from 'pino';
import type { Config } from './config.js';
import type { Iam } from './iam/iam.js';
import type { Store } from './store/db.js';
import { Platform, type Credentials } from './platform/runtime.js';
import { openDatabase } from './store/db.js';
import { migrateAll } from './platform/registry.js';
import { SecretBox } from './iam/secrets.js';
import { AUDIT_KEY_PURPOSE, AuditLog } from './store/audit.js';
import { systemClock } from './tasks/clock.js';
import type { FenceRow } from './services/datafence/tables.js';

export interface AdminContext {
  store: Store;
  iam: Iam;
  platform: Platform;
  createAccount(name: string): Promise<Credentials>;
  /** A key of a (new or existing) user; a box-user key may be bound to boxes of the account (`boxes`). */
  createKey(opts: { role: Role; accountId?: string; userName?: string; boxes?: readonly number[] }): Promise<{
    accountId: string;
    userName: string;
    role: Role;
    accessKeyId: string;
    secretAccessKey: string;
    boxes?: number[];
  }>;
  createFence(name: string, accountId?: string, description?: string): Promise<FenceRow>;
  listFences(accountId?: string): Promise<FenceRow[]>;
  close(): Promise<void>;
}

export async function openAdmin(config: Config): Promise<AdminContext> {
  const platform = await Platform.open(config, { headless: true, logger: pino({ level: 'silent' }) });
  const { store, iam } = platform.ctx;

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
    platform,
    createAccount: (name) => store.tx((trx) => platform.provisionAccount(trx, { name })),
    async createKey({ role, accountId, userName, boxes }) {
      const account = await accountOrFirst(accountId);
      const name = userName ?? role;
      if (boxes && boxes.length > 0 && role !== 'box-user') throw new Error('only box-user keys are bound to boxes (--box)');
      // The user, the key and its boxes commit together: a key is never left without the boxes it was made for.
      return store.tx(async (trx) => {
        const user = (await iam.findUser(account, name, trx)) ?? { id: (await iam.createUser(account, name, role, trx)).id, role };
        if (user.role !== role) throw new Error(`user ${name} exists with role ${user.role}, not ${role}`);
        const key = await iam.createKey(user.id, undefined, trx);
        if (boxes && boxes.length > 0) await platform.ctx.api('datafence').bindKeyToBoxes(trx, account, key.accessKeyId, boxes);
        return { accountId: account, userName: name, role, ...key, ...(boxes && boxes.length > 0 ? { boxes: [...new Set(boxes)] } : {}) };
      });
    },
    async createFence(name, accountId, description) {
      const account = await accountOrFirst(accountId);
      return store.tx((trx) => platform.ctx.api('datafence').createFence(trx, account, { name, ...(description !== undefined ? { description } : {}) }));
    },
    listFences: (accountId) => platform.ctx.api('datafence').listFences(accountId),
    close: () => platform.close(),
  };
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
  await migrateAll(store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  return { store, log, close: () => store.close() };
}
