/**
 * First start: with an empty database, create an account, its owner user and key and what each
 * service gives a new account (a default Datafence), in one transaction, and write
 * `<data>/credentials.json` (mode 0600). `STOCKADE_ACCESS_KEY_ID` and `STOCKADE_SECRET_ACCESS_KEY`
 * seed that key with known values (tests, CI); if the database already has an account, the seeded
 * key is added to the first account when it is missing.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials, Platform } from './platform/runtime.js';

export type { Credentials } from './platform/runtime.js';

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

export async function bootstrap(platform: Platform, env: NodeJS.ProcessEnv): Promise<BootstrapResult> {
  const { iam, config, logger } = platform.ctx;
  mkdirSync(config.dataDir, { recursive: true });
  const credentialsFile = join(config.dataDir, 'credentials.json');
  const seeded =
    env.STOCKADE_ACCESS_KEY_ID && env.STOCKADE_SECRET_ACCESS_KEY
      ? { accessKeyId: env.STOCKADE_ACCESS_KEY_ID, secretAccessKey: env.STOCKADE_SECRET_ACCESS_KEY }
      : undefined;

  const created = await platform.provisionFirstAccount(seeded);
  if (created) {
    writeCredentials(credentialsFile, created);
    logger.debug({ accountId: created.accountId }, 'first start: created the owner account');
    return { credentials: created, credentialsFile, created: true };
  }

  const first = (await iam.listAccounts())[0];
  if (seeded && first) {
    if (!(await iam.resolve(seeded.accessKeyId))) {
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
