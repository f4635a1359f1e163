import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { sql } from 'kysely';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import { LATEST_SCHEMA_VERSION, migrate, migrations, schemaVersion } from '../../src/store/migrations.js';

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

  test('first run applies every migration; running again, or after reopening, applies nothing', async () => {
    const s = await fresh('mig_idem', false);
    assert.equal(await schemaVersion(s), 0);
    const first = await migrate(s);
    assert.deepEqual(first, { from: 0, to: LATEST_SCHEMA_VERSION, applied: migrations.map((m) => m.version) });
    assert.equal(await schemaVersion(s), LATEST_SCHEMA_VERSION);
    await s.db.insertInto('accounts').values({ id: '100000000001', name: 'acme', created_at: 1 }).execute();

    const again = await migrate(s);
    assert.deepEqual(again.applied, []);

    const other = await s.reopen();
    try {
      const r = await migrate(other);
      assert.deepEqual(r, { from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] });
      const rows = await other.db.selectFrom('accounts').selectAll().execute();
      assert.deepEqual(rows, [{ id: '100000000001', name: 'acme', created_at: 1 }]);
    } finally {
      await other.close();
    }
  });

  test('a database with a newer schema version is refused with a clear message', async () => {
    const s = await fresh('mig_newer');
    const newer = LATEST_SCHEMA_VERSION + 1;
    await s.db.updateTable('meta').set({ value: String(newer) }).where('key', '=', 'schema_version').execute();
    const other = await s.reopen();
    try {
      await assert.rejects(migrate(other), {
        message:
          `database schema version ${newer} is newer than this stockade (supports up to ${LATEST_SCHEMA_VERSION}); ` +
          'upgrade stockade or use another data directory',
      });
    } finally {
      await other.close();
    }
    // Refusing changed nothing.
    assert.equal(await schemaVersion(s), newer);
  });

  test('a failing migration rolls back entirely', async () => {
    const s = await fresh('mig_fail');
    await assert.rejects(
      migrate(s, [
        ...migrations,
        {
          version: LATEST_SCHEMA_VERSION + 1,
          name: 'creates then fails',
          async up(trx) {
            await trx.schema.createTable('half_done').addColumn('x', 'integer').execute();
            await sql`select * from no_such_table`.execute(trx);
          },
        },
      ]),
    );
    assert.equal(await schemaVersion(s), LATEST_SCHEMA_VERSION);
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
      })
      .returning(['id', 'due_at', 'lease_expires_at', 'attempts'])
      .executeTakeFirstOrThrow();
    assert.equal(typeof t.id, 'number');
    assert.equal(t.due_at, big);
    assert.equal(t.lease_expires_at, big + 1);
    assert.equal(t.attempts, 0);
    const f = await s.db
      .insertInto('fences')
      .values({
        account_id: '100000000001',
        name: 'f',
        description: '',
        status: 'INITIALIZE',
        export_bucket: 'b',
        ssl_vpn_name: 'v',
        created_at: big,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    assert.equal(typeof f.id, 'number');
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
    const migUrl = new URL('../../src/store/migrations.js', import.meta.url).href;
    const script = `
      const { openDatabase } = await import(${JSON.stringify(storeUrl)});
      const { migrate } = await import(${JSON.stringify(migUrl)});
      const store = await openDatabase(JSON.parse(process.env.OPEN_OPTS));
      try { process.stdout.write(JSON.stringify(await migrate(store))); } finally { await store.close(); }
    `;
    const openOpts = JSON.stringify({
      dataDir: s.dataDir,
      ...(s.url ? { url: s.url, schema: s.schema } : {}),
    });
    const runOne = () =>
      new Promise<{ applied: number[] }>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { env: { ...process.env, OPEN_OPTS: openOpts } },
          (err, stdout, stderr) => {
            if (err) reject(new Error(`${err.message}\n${stderr}`));
            else resolve(JSON.parse(stdout) as { applied: number[] });
          },
        );
      });
    const results = await Promise.all([runOne(), runOne(), runOne()]);
    const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length);
    assert.deepEqual(applied, [migrations.map((m) => m.version), [], []]);
    assert.equal(await schemaVersion(s), LATEST_SCHEMA_VERSION);
  });
});
