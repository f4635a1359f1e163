/**
 * The SQLite statement cache (store/db.ts): statements are reused, the cache stays bounded, and
 * reusing them changes nothing that queries, transactions or schema changes do.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, StatementCache } from '../../src/store/db.js';

describe('SQLite statement cache', () => {
  test('the same SQL gets the same prepared statement; at most `max` are kept, least recently used evicted', () => {
    const cache = new StatementCache(new Sqlite(':memory:'), 3);
    try {
      const a = cache.prepare('select 1 as a');
      assert.equal(cache.prepare('select 1 as a'), a);
      const b = cache.prepare('select 2 as b');
      cache.prepare('select 3 as c');
      cache.prepare('select 1 as a'); // a is now the most recently used; b the least
      cache.prepare('select 4 as d'); // evicts b
      assert.equal(cache.size, 3);
      assert.equal(cache.prepare('select 1 as a'), a);
      const b2 = cache.prepare('select 2 as b');
      assert.notEqual(b2, b, 'an evicted statement is prepared again');
      assert.deepEqual(b2.all(), [{ b: 2 }]);
      assert.equal(cache.size, 3);
    } finally {
      cache.close();
    }
  });

  test('a statement still being iterated is not handed out again', () => {
    const cache = new StatementCache(new Sqlite(':memory:'));
    try {
      cache.sqlite.exec('create table t (x integer); insert into t values (1), (2), (3)');
      const first = cache.prepare('select x from t order by x');
      const seen: unknown[] = [];
      for (const row of first.iterate() as IterableIterator<{ x: number }>) {
        const again = cache.prepare('select x from t order by x');
        assert.notEqual(again, first);
        seen.push([row.x, (again.all() as Array<{ x: number }>).map((r) => r.x)]);
      }
      assert.deepEqual(seen, [
        [1, [1, 2, 3]],
        [2, [1, 2, 3]],
        [3, [1, 2, 3]],
      ]);
      assert.equal(cache.prepare('select x from t order by x'), first, 'once done, the cached one is reused');
    } finally {
      cache.close();
    }
  });

  test('through Kysely: rolled-back and committed transactions, a failed statement, and schema changes read right', async () => {
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-statements-'));
    const store = await openDatabase({ dataDir });
    try {
      const db = store.db;
      await sql`create table kv (k text primary key, v integer not null)`.execute(db);
      const insert = (k: string, v: number) => sql`insert into kv (k, v) values (${k}, ${v})`;
      const all = async () => (await sql<Record<string, unknown>>`select * from kv order by k`.execute(db)).rows;

      await assert.rejects(
        store.tx(async (trx) => {
          await insert('a', 1).execute(trx);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await all(), []);
      await store.tx(async (trx) => {
        await insert('a', 1).execute(trx);
        await insert('b', 2).execute(trx);
      });
      assert.deepEqual(await all(), [
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
      ]);
      // The same statement failing (unique key) and then succeeding.
      await assert.rejects(insert('a', 9).execute(db), /UNIQUE/);
      await insert('c', 3).execute(db);

      // `select *` prepared before a column is added returns the new column afterwards.
      await sql`alter table kv add column note text not null default 'n'`.execute(db);
      assert.deepEqual((await all())[0], { k: 'a', v: 1, note: 'n' });
      // Dropped: the cached statement fails as a fresh one would; re-created: it reads the new table.
      await sql`drop table kv`.execute(db);
      await assert.rejects(all(), /no such table/);
      await sql`create table kv (k text, w integer)`.execute(db);
      await sql`insert into kv (k, w) values ('z', 26)`.execute(db);
      assert.deepEqual(await all(), [{ k: 'z', w: 26 }]);
    } finally {
      await store.close();
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  });
});
