/**
 * `store.tx`: a forgotten `trx` inside a transaction fails at once, loudly, on both databases (it
 * used to wait forever on SQLite and commit outside the transaction on PostgreSQL).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RootConnectionInTransactionError } from '../../src/store/db.js';
import { TaskRunner } from '../../src/tasks/runner.js';
import { systemClock } from '../../src/tasks/clock.js';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';

let store: TestStore;
after(async () => {
  await store.cleanup();
});

const count = async (table: 'tasks' | 'accounts') =>
  Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

test(`using the root connection inside a transaction throws, and the transaction rolls back (${testDatabaseUrl ? 'postgres' : 'sqlite'})`, async () => {
  store = await openTestStore('tx_guard');
  const runner = new TaskRunner({ store, clock: systemClock, owner: 'tx', logger: { warn() {}, error() {} } });
  // A task enqueued without the transaction, as the bug looked: refused instead of hanging.
  await assert.rejects(
    store.tx(async (trx) => {
      await trx.insertInto('accounts').values({ id: '100000000009', name: 'x', created_at: 1 }).execute();
      await runner.enqueue('k', {});
    }),
    RootConnectionInTransactionError,
  );
  assert.equal(await count('accounts'), 0, 'the transaction rolled back');
  assert.equal(await count('tasks'), 0, 'nothing was committed outside it');
  // A nested transaction is the same mistake.
  await assert.rejects(store.tx(() => store.tx(async () => 1)), RootConnectionInTransactionError);
  // With the transaction, everything commits together; the root connection is usable afterwards.
  await store.tx(async (trx) => {
    await trx.insertInto('accounts').values({ id: '100000000009', name: 'x', created_at: 1 }).execute();
    await runner.enqueue('k', {}, { db: trx });
  });
  assert.equal(await count('accounts'), 1);
  assert.equal(await count('tasks'), 1);
  // Work running concurrently in other async contexts is not affected by an open transaction.
  const [inside] = await Promise.all([
    store.tx(async (trx) => {
      await new Promise((r) => setTimeout(r, 20));
      return trx.selectFrom('accounts').select('id').execute();
    }),
    (async () => {
      await new Promise((r) => setTimeout(r, 5));
      return store.db.selectFrom('accounts').select('id').execute();
    })(),
  ]);
  assert.equal(inside.length, 1);
});
