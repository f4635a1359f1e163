/**
 * CFS migration 0003 on a database written before it (file systems without volumes, no access
 * groups): each file system gets a volume carrying its quota and recorded usage, tags stay, and every
 * account gets the default access group. On SQLite and PostgreSQL.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import { migrate } from '../../src/store/migrations.js';
import { migrateAll, migrationSets } from '../../src/platform/registry.js';
import { asDb, type Executor } from '../../src/store/schema.js';

let store: TestStore;
after(async () => {
  await store?.cleanup();
});

test(`migration 0003 gives earlier file systems a volume and every account the default group (${testDatabaseUrl ? 'postgres' : 'sqlite'})`, async () => {
  store = await openTestStore('cfs_migration', { migrate: false });
  // Everything up to and including CFS 0002, as a database of the previous version holds.
  const sets = migrationSets().map((s) => (s.owner === 'cfs' ? { ...s, migrations: s.migrations.filter((m) => m.id < '0003') } : s));
  await migrate(store, sets);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db = asDb<any>(store.db as Executor);
  await db.insertInto('accounts').values({ id: '100000000001', name: 'acme', created_at: 1 }).execute();
  await db
    .insertInto('cfs_file_systems')
    .values({
      id: 'cfs-OldFs00001',
      account_id: '100000000001',
      name: 'old',
      type: 'cap',
      protocol: 'nfs',
      status: 'available',
      vpc_id: 'vpc-old',
      zone: 'zoneA',
      capacity_quota: 2_000_000_000,
      usage_bytes: 1234,
      created_at: 5,
    })
    .execute();
  await db.insertInto('cfs_tags').values({ fs_id: 'cfs-OldFs00001', account_id: '100000000001', tag_key: 'k', tag_value: 'v', seq: 0 }).execute();

  const r = await migrateAll(store);
  assert.deepEqual(r.applied, ['cfs/0003-volumes-mount-targets-access-groups']);

  type Row = Record<string, string | number>;
  const fs = (await db.selectFrom('cfs_file_systems').selectAll().execute()) as Row[];
  assert.equal(fs.length, 1);
  const old = fs[0]!;
  assert.equal(old.name, 'old');
  assert.match(String(old.volume_id), /^cfs-[0-9a-f]{16}$/);
  const vol = (await db.selectFrom('volumes').selectAll().where('id', '=', old.volume_id).executeTakeFirstOrThrow()) as Row;
  assert.deepEqual(
    { service: vol.service, account: vol.account_id, quota: Number(vol.quota_bytes), used: Number(vol.used_bytes) },
    { service: 'cfs', account: '100000000001', quota: 2_000_000_000, used: 1234 },
  );
  assert.equal((await db.selectFrom('cfs_tags').selectAll().execute()).length, 1);
  const groups = (await db.selectFrom('cfs_access_groups').selectAll().execute()) as Row[];
  assert.deepEqual(groups.map((g) => [g.account_id, g.name]), [['100000000001', 'DEFAULT_ACCESS_GROUP_NAME']]);
  const rules = (await db.selectFrom('cfs_access_rules').selectAll().execute()) as Row[];
  assert.equal(rules.length, 1);
  assert.equal(rules[0]!.ip, '0.0.0.0');
});
