import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { sql } from 'kysely';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import { appliedMigrations, fullIds, migrate } from '../../src/store/migrations.js';
import { migrateAll, migrationSets } from '../../src/platform/registry.js';
import { LEGACY_SCHEMA_VERSIONS } from '../../src/store/core-migrations.js';

/** Every migration's full id, in the global order. */
const ALL = fullIds(migrationSets());

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';

describe(`migrations (${backend})`, () => {
  const stores: TestStore[] = [];
  after(async () => {
    for (const s of stores) await s.cleanup();
  });
  const fresh = async (name: string, migrateNow = true) => {
    const s = await openTestStore(name, { migrate: migrateNow });
    stores.push(s);
    return s;
  };

  test('opens on the expected dialect', async () => {
    const s = await fresh('mig_dialect', false);
    assert.equal(s.dialect, backend);
    if (s.dialect === 'sqlite') {
      const one = async (q: string) => Object.values((await sql.raw<Record<string, unknown>>(q).execute(s.db)).rows[0] ?? {})[0];
      assert.equal(await one('pragma journal_mode'), 'wal');
      assert.equal(await one('pragma synchronous'), 2); // FULL
      assert.equal(await one('pragma foreign_keys'), 1);
      assert.equal(await one('pragma busy_timeout'), 5000);
    } else {
      // Every pooled connection uses the test's own schema.
      const rows = await Promise.all(
        Array.from({ length: 12 }, () => sql<{ s: string }>`select current_schema() as s`.execute(s.db)),
      );
      for (const r of rows) assert.equal(r.rows[0]?.s, s.schema);
    }
  });

  test('first run applies every migration in the global order; running again, or after reopening, applies nothing', async () => {
    const s = await fresh('mig_idem', false);
    assert.deepEqual(await appliedMigrations(s), []);
    const first = await migrateAll(s);
    assert.deepEqual(first, { before: 0, applied: ALL });
    assert.ok(ALL[0]?.startsWith('core/'), 'the platform migrates first');
    assert.deepEqual(await appliedMigrations(s), [...ALL].sort());
    await s.db.insertInto('accounts').values({ id: '100000000001', name: 'acme', created_at: 1 }).execute();

    const again = await migrateAll(s);
    assert.deepEqual(again.applied, []);

    const other = await s.reopen();
    try {
      const r = await migrateAll(other);
      assert.deepEqual(r, { before: ALL.length, applied: [] });
      const rows = await other.db.selectFrom('accounts').selectAll().execute();
      assert.deepEqual(rows, [{ id: '100000000001', name: 'acme', created_at: 1 }]);
    } finally {
      await other.close();
    }
  });

  test('a database holding a migration this code does not know is refused with a clear message, and nothing changes', async () => {
    const s = await fresh('mig_newer');
    await sql`insert into schema_migrations (id, applied_at) values ('cfs/9999-from-the-future', 1)`.execute(s.db);
    const other = await s.reopen();
    try {
      await assert.rejects(migrateAll(other), {
        name: 'SchemaTooNewError',
        message: /holds migrations this stockade does not know \(cfs\/9999-from-the-future\).*newer stockade/,
      });
    } finally {
      await other.close();
    }
    assert.deepEqual(await appliedMigrations(s), [...ALL, 'cfs/9999-from-the-future'].sort());
  });

  test('a database of the number-based history (meta.schema_version 2) is adopted: its ids are recorded, the rest applied', async () => {
    const s = await fresh('mig_legacy', false);
    // What version 2 of the old history had: its tables, and the number.
    const legacy = migrationSets().map((set) => ({
      owner: set.owner,
      migrations: set.migrations.filter((m) => LEGACY_SCHEMA_VERSIONS[1]!.concat(LEGACY_SCHEMA_VERSIONS[2]!).includes(`${set.owner}/${m.id}`)),
    }));
    await migrate(s, legacy);
    await sql`delete from schema_migrations`.execute(s.db);
    await sql`create table if not exists meta (key text primary key, value text not null)`.execute(s.db);
    await sql`insert into meta (key, value) values ('schema_version', '2')`.execute(s.db);
    await s.db.insertInto('accounts').values({ id: '100000000001', name: 'old', created_at: 1 }).execute();

    const r = await migrateAll(s);
    const adopted = [...LEGACY_SCHEMA_VERSIONS[1]!, ...LEGACY_SCHEMA_VERSIONS[2]!];
    assert.deepEqual(r.applied, ALL.filter((id) => !adopted.includes(id)));
    assert.deepEqual(await appliedMigrations(s), [...ALL].sort());
    assert.equal((await s.db.selectFrom('accounts').selectAll().execute()).length, 1, 'data kept');
    const version = await sql`select value from meta where key = 'schema_version'`.execute(s.db);
    assert.equal(version.rows.length, 0, 'the number is gone');
  });

  test('a failing migration rolls back entirely', async () => {
    const s = await fresh('mig_fail');
    await assert.rejects(
      migrate(s, [
        ...migrationSets(),
        {
          owner: 'test',
          migrations: [
            {
              id: '0001-creates-then-fails',
              async up(trx) {
                await trx.schema.createTable('half_done').addColumn('x', 'integer').execute();
                await sql`select * from no_such_table`.execute(trx);
              },
            },
          ],
        },
      ]),
    );
    assert.deepEqual(await appliedMigrations(s), [...ALL].sort());
    await assert.rejects(sql`select * from half_done`.execute(s.db));
  });

  test('numbers come back as JS numbers (int8 on PostgreSQL included)', async () => {
    const s = await fresh('mig_numbers');
    const big = 1_760_000_000_123; // epoch ms: needs 64 bits
    const t = await s.db
      .insertInto('tasks')
      .values({
        kind: 'probe',
        payload: '{}',
        state: 'queued',
        attempts: 0,
        max_attempts: 3,
        due_at: big,
        lease_owner: null,
        lease_expires_at: big + 1,
        last_error: null,
        created_at: big,
        finished_at: null,
        dedupe_key: null,
        cancel_requested: 0,
        progress: null,
      })
      .returning(['id', 'due_at', 'lease_expires_at', 'attempts'])
      .executeTakeFirstOrThrow();
    assert.equal(typeof t.id, 'number');
    assert.equal(t.due_at, big);
    assert.equal(t.lease_expires_at, big + 1);
    assert.equal(t.attempts, 0);
    const f = await sql<{ id: number }>`insert into fences (account_id, name, description, status, export_bucket, ssl_vpn_name, created_at)
      values ('100000000001', 'f', '', 'INITIALIZE', 'b', 'v', ${big}) returning id`.execute(s.db);
    assert.equal(typeof f.rows[0]?.id, 'number');
    await s.db.insertInto('blobs').values({ id: 'a'.repeat(32), size: 5_000_000_000, sha256: 'x', created_at: big }).execute();
    const b = await s.db.selectFrom('blobs').selectAll().executeTakeFirstOrThrow();
    assert.equal(b.size, 5_000_000_000);
    assert.equal(b.created_at, big);
    const c = await s.db
      .selectFrom('blobs')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('total')])
      .executeTakeFirstOrThrow();
    assert.equal(c.n, 1);
    assert.equal(c.total, 5_000_000_000);
    const p = await s.db
      .insertInto('probe_runs')
      .values({ task_id: t.id, runner: 'r', finished_at: big })
      .returningAll()
      .executeTakeFirstOrThrow();
    assert.deepEqual(p, { id: p.id, task_id: t.id, runner: 'r', finished_at: big });
    assert.equal(typeof p.id, 'number');
  });

  test('idempotency primary key and task index exist', async () => {
    const s = await fresh('mig_keys');
    const row = {
      account_id: 'a',
      operation: 'op',
      token: 't',
      params_hash: 'h',
      state: 'pending' as const,
      status: null,
      response: null,
      created_at: 1,
      expires_at: 2,
    };
    await s.db.insertInto('idempotency').values(row).execute();
    await assert.rejects(s.db.insertInto('idempotency').values(row).execute());
    await s.db.insertInto('idempotency').values({ ...row, token: 'u' }).execute();
    const indexes =
      s.dialect === 'postgres'
        ? (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`.execute(s.db)).rows
        : (await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(s.db)).rows;
    const names = new Set(indexes.map((r) => r.name));
    for (const n of ['tasks_state_due', 'audit_events_account_seq', 'idempotency_expires']) {
      assert.ok(names.has(n), `index ${n} exists`);
    }
  });

  test('two processes migrating the same empty database at once: each migration runs once', async () => {
    const s = await fresh('mig_race', false);
    const storeUrl = new URL('../../src/store/db.js', import.meta.url).href;
    const migUrl = new URL('../../src/platform/registry.js', import.meta.url).href;
    const script = `
      const { openDatabase } = await import(${JSON.stringify(storeUrl)});
      const { migrateAll } = await import(${JSON.stringify(migUrl)});
      const store = await openDatabase(JSON.parse(process.env.OPEN_OPTS));
      try { process.stdout.write(JSON.stringify(await migrateAll(store))); } finally { await store.close(); }
    `;
    const openOpts = JSON.stringify({
      dataDir: s.dataDir,
      ...(s.url ? { url: s.url, schema: s.schema } : {}),
    });
    const runOne = () =>
      new Promise<{ applied: string[] }>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { env: { ...process.env, OPEN_OPTS: openOpts } },
          (err, stdout, stderr) => {
            if (err) reject(new Error(`${err.message}\n${stderr}`));
            else resolve(JSON.parse(stdout) as { applied: string[] });
          },
        );
      });
    const results = await Promise.all([runOne(), runOne(), runOne()]);
    const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length);
    assert.deepEqual(applied, [ALL, [], []]);
    assert.deepEqual(await appliedMigrations(s), [...ALL].sort());
  });
});
