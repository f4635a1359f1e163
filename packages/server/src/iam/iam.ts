/**
 * Accounts → users (owner, fence-admin, box-user) → access keys. One access key works with every
 * signing scheme (NCP v2, bce-auth-v1, AWS SigV4): it identifies a user in an account.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Role } from '@stockade/sdk';
import { asDb, type CoreDatabase, type Db, type Executor } from '../store/schema.js';
import type { Clock } from '../tasks/clock.js';
import type { SecretBox } from './secrets.js';

export interface Identity {
  accessKeyId: string;
  accountId: string;
  userId: string;
  userName: string;
  role: Role;
}

export interface ResolvedKey extends Identity {
  secret: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[(bytes[i] as number) % alphabet.length];
  return s;
}

export const newAccessKeyId = () => 'STK' + randomString(ALNUM, 17);
export const newSecret = () => randomString(BASE62, 40);

/**
 * How long a resolved key stays cached in this process. Revocation through this process takes
 * effect at once; through another process sharing the database, within this many milliseconds.
 */
export const KEY_CACHE_MS = 2000;

export class Iam {
  private readonly cache = new Map<string, { at: number; key: ResolvedKey | null }>();

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  private on(e?: Executor): Db {
    return e ? asDb<CoreDatabase>(e) : this.db;
  }

  async createAccount(name: string, e?: Executor): Promise<{ id: string; name: string }> {
    const id = String(randomInt(100_000_000_000, 999_999_999_999));
    await this.on(e).insertInto('accounts').values({ id, name, created_at: this.clock.now() }).execute();
    return { id, name };
  }

  async listAccounts(): Promise<Array<{ id: string; name: string; created_at: number }>> {
    return this.db.selectFrom('accounts').selectAll().orderBy('created_at').execute();
  }

  async getAccount(id: string): Promise<{ id: string; name: string } | undefined> {
    return this.db.selectFrom('accounts').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
  }

  async createUser(accountId: string, name: string, role: Role, e?: Executor): Promise<{ id: string }> {
    const id = 'u-' + randomString(ALNUM.toLowerCase().slice(0, 26) + '0123456789', 12);
    await this.on(e)
      .insertInto('users')
      .values({ id, account_id: accountId, name, role, created_at: this.clock.now() })
      .execute();
    return { id };
  }

  async findUser(accountId: string, name: string, e?: Executor) {
    return this.on(e)
      .selectFrom('users')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Create a key for a user; `given` seeds it with known values (tests, CI). */
  async createKey(
    userId: string,
    given?: { accessKeyId: string; secretAccessKey: string },
    e?: Executor,
  ): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    const db = this.on(e);
    const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    const accessKeyId = given?.accessKeyId ?? newAccessKeyId();
    const secretAccessKey = given?.secretAccessKey ?? newSecret();
    await db
      .insertInto('access_keys')
      .values({
        access_key_id: accessKeyId,
        account_id: user.account_id,
        user_id: userId,
        secret_enc: this.secrets.seal(secretAccessKey),
        status: 'active',
        created_at: this.clock.now(),
        revoked_at: null,
      })
      .execute();
    return { accessKeyId, secretAccessKey };
  }

  async listKeys(accountId?: string) {
    let q = this.db
      .selectFrom('access_keys')
      .innerJoin('users', 'users.id', 'access_keys.user_id')
      .select([
        'access_keys.access_key_id as accessKeyId',
        'access_keys.account_id as accountId',
        'users.name as userName',
        'users.role as role',
        'access_keys.status as status',
        'access_keys.created_at as createdAt',
      ])
      .orderBy('access_keys.created_at');
    if (accountId) q = q.where('access_keys.account_id', '=', accountId);
    return q.execute();
  }

  /** Revoke a key; returns false when there is no such active key. */
  async revokeKey(accessKeyId: string): Promise<boolean> {
    const r = await this.db
      .updateTable('access_keys')
      .set({ status: 'revoked', revoked_at: this.clock.now() })
      .where('access_key_id', '=', accessKeyId)
      .where('status', '=', 'active')
      .executeTakeFirst();
    this.cache.delete(accessKeyId);
    return Number(r.numUpdatedRows) > 0;
  }

  /** The active key with its decrypted secret and its user's identity, or null. Cached briefly. */
  async resolve(accessKeyId: string): Promise<ResolvedKey | null> {
    const now = Date.now();
    const hit = this.cache.get(accessKeyId);
    if (hit && now - hit.at < KEY_CACHE_MS) return hit.key;
    const row = await this.db
      .selectFrom('access_keys')
      .innerJoin('users', 'users.id', 'access_keys.user_id')
      .select([
        'access_keys.account_id as accountId',
        'access_keys.secret_enc as secretEnc',
        'access_keys.status as status',
        'users.id as userId',
        'users.name as userName',
        'users.role as role',
      ])
      .where('access_keys.access_key_id', '=', accessKeyId)
      .executeTakeFirst();
    const key: ResolvedKey | null =
      row && row.status === 'active'
        ? {
            accessKeyId,
            accountId: row.accountId,
            userId: row.userId,
            userName: row.userName,
            role: row.role,
            secret: this.secrets.open(row.secretEnc),
          }
        : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(accessKeyId, { at: now, key });
    return key;
  }
}
