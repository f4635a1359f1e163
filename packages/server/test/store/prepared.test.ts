/**
 * Queries compiled once (store/prepared.ts) answer as the same query built each time, with the
 * values of each call, in and out of transactions, on SQLite and PostgreSQL.
 */
import type { Db } from '../../src/store/schema.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import { prepared } from '../../src/store/prepared.js';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';

describe(`prepared queries (${backend})`, () => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore('prepared');
    for (const [id, name] of [
      ['100000000001', 'alpha'],
      ['100000000002', 'beta'],
      ['100000000003', 'gamma'],
    ] as const) {
      await store.db.insertInto('accounts').values({ id, name, created_at: Number(id.slice(-1)) }).execute();
    }
  });
  after(async () => {
    await store.cleanup();
  });

  const byName = prepared((db: Db, name: string) => db.selectFrom('accounts').selectAll().where('name', '=', name));
  // Two arguments, one of them used twice, and a constant of the query itself.
  const between = prepared((db: Db, low: number, high: number) =>
    db
      .selectFrom('accounts')
      .select(['name'])
      .where('created_at', '>=', low)
      .where((eb) => eb.or([eb('created_at', '<=', high), eb('created_at', '=', low)]))
      .where('name', '!=', 'nobody')
      .orderBy('name'),
  );

  test('each call runs with its own values and answers as the query built each time', async () => {
    for (const name of ['alpha', 'beta', 'gamma', 'delta', "o'quote", '']) {
      const built = await store.db.selectFrom('accounts').selectAll().where('name', '=', name).execute();
      assert.deepEqual(await byName(store.db, name), built);
    }
    assert.deepEqual((await between(store.db, 2, 3)).map((r) => r.name), ['beta', 'gamma']);
    assert.deepEqual((await between(store.db, 1, 1)).map((r) => r.name), ['alpha']);
    assert.deepEqual(await between(store.db, 4, 9), []);
    // Concurrent calls with different values do not mix.
    const names = ['alpha', 'beta', 'gamma', 'alpha', 'gamma', 'beta'];
    const got = await Promise.all(names.map((n) => byName(store.db, n)));
    assert.deepEqual(got.map((rows) => rows[0]?.name), names);
  });

  test('inside a transaction it reads the transaction’s own writes, and a rollback undoes them', async () => {
    await assert.rejects(
      store.tx(async (trx) => {
        await trx.insertInto('accounts').values({ id: '100000000009', name: 'in-trx', created_at: 9 }).execute();
        assert.equal((await byName(trx, 'in-trx')).length, 1);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await byName(store.db, 'in-trx'), []);
  });

  test('on PostgreSQL it is a named statement of the connection, prepared once', { skip: backend !== 'postgres' }, async () => {
    await store.tx(async (trx) => {
      for (let i = 0; i < 3; i++) assert.equal((await byName(trx, 'beta'))[0]?.name, 'beta');
      const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(trx);
      const mine = rows.filter((r) => /from "accounts" where "name" = \$1/.test(r.statement));
      assert.equal(mine.length, 1, JSON.stringify(rows));
      assert.match(mine[0]?.name ?? '', /^stockade_\d+$/);
    });
  });

  test('a table changed after its statements were prepared (another process migrating) still answers, with the new column', async () => {
    const all = prepared((db: Db, low: number) => db.selectFrom('accounts').selectAll().where('created_at', '>=', low).orderBy('id'));
    // Prepared on every pooled connection first.
    for (const rows of await Promise.all(Array.from({ length: 20 }, () => all(store.db, 0)))) assert.equal(rows.length, 3);
    await sql`alter table accounts add column note text not null default 'n'`.execute(store.db);
    for (const rows of await Promise.all(Array.from({ length: 20 }, () => all(store.db, 2)))) {
      assert.deepEqual(
        rows.map((r) => [r.name, (r as unknown as { note: string }).note]),
        [
          ['beta', 'n'],
          ['gamma', 'n'],
        ],
      );
    }
    await sql`alter table accounts drop column note`.execute(store.db);
  });

  test('an argument that is not a bound parameter is refused', async () => {
    const bad = prepared((db: Db, column: string) => db.selectFrom('accounts').select(sql.ref(column).as('x')));
    await assert.rejects(bad(store.db, 'name'), /every argument must be a bound parameter/);
  });
});
