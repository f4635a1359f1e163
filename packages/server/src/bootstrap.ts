/**
 * First start: with an empty database, create an account, its owner user and key, a default
 * Datafence, and write `<data>/credentials.json` (mode 0600). `STOCKADE_ACCESS_KEY_ID` and
 * `STOCKADE_SECRET_ACCESS_KEY` seed that key with known values (tests, CI); if the data
 * directory already exists, the seeded key is added to the first account when it is missing.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from './app.js';
import { createFence } from './services/datafence/fences.js';

export interface Credentials {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface BootstrapResult {
  /** The bootstrap credentials when known (created now, seeded, or read from the file). */
  credentials: Credentials | null;
  credentialsFile: string;
  /** True when this start created the account. */
  created: boolean;
}

export function readCredentials(file: string): Credentials | null {
  if (!existsSync(file)) return null;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    if (typeof c.accountId === 'string' && typeof c.accessKeyId === 'string' && typeof c.secretAccessKey === 'string') {
      return { accountId: c.accountId, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
    }
  } catch {
    /* unreadable: treated as absent */
  }
  return null;
}

function writeCredentials(file: string, c: Credentials): void {
  writeFileSync(file, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
}

export async function bootstrap(ctx: AppContext, env: NodeJS.ProcessEnv): Promise<BootstrapResult> {
  const { iam } = ctx;
  mkdirSync(ctx.config.dataDir, { recursive: true });
  const credentialsFile = join(ctx.config.dataDir, 'credentials.json');
  const seeded =
    env.STOCKADE_ACCESS_KEY_ID && env.STOCKADE_SECRET_ACCESS_KEY
      ? { accessKeyId: env.STOCKADE_ACCESS_KEY_ID, secretAccessKey: env.STOCKADE_SECRET_ACCESS_KEY }
      : undefined;

  const accounts = await iam.listAccounts();
  if (accounts.length === 0) {
    try {
      const account = await iam.createAccount('default');
      const owner = await iam.createUser(account.id, 'owner', 'owner');
      const key = await iam.createKey(owner.id, seeded);
      await createFence(ctx, account.id, { name: 'fence-1', description: 'Default Datafence' });
      const credentials = { accountId: account.id, ...key };
      writeCredentials(credentialsFile, credentials);
      ctx.logger.debug({ accountId: account.id }, 'first start: created the owner account');
      return { credentials, credentialsFile, created: true };
    } catch (e) {
      // Another process sharing the database bootstrapped at the same moment: use its account.
      if ((await iam.listAccounts()).length === 0) throw e;
    }
  }

  const first = (await iam.listAccounts())[0];
  if (seeded && first) {
    const existing = await iam.resolve(seeded.accessKeyId);
    if (!existing) {
      const owner = (await iam.findUser(first.id, 'owner')) ?? { id: (await iam.createUser(first.id, 'owner', 'owner')).id };
      try {
        await iam.createKey(owner.id, seeded);
      } catch {
        /* created concurrently by another process */
      }
    }
    const account = (await iam.resolve(seeded.accessKeyId))?.accountId ?? first.id;
    const credentials = { accountId: account, ...seeded };
    if (!readCredentials(credentialsFile)) writeCredentials(credentialsFile, credentials);
    return { credentials, credentialsFile, created: false };
  }
  return { credentials: readCredentials(credentialsFile), credentialsFile, created: false };
}
