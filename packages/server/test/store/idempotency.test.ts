import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import {
  canonicalJson,
  IDEMPOTENCY_TTL_MS,
  IdempotencyError,
  purgeExpiredIdempotency,
  withIdempotency,
} from '../../src/store/idempotency.js';
import { ManualClock } from '../../src/tasks/clock.js';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const isCode = (code: string) => (err: unknown) => err instanceof IdempotencyError && err.code === code;

describe(`idempotency (${backend})`, () => {
  let store: TestStore;
  let tokenN = 0;
  const token = () => `token-${tokenN++}`;
  before(async () => {
    store = await openTestStore('idempotency');
  });
  after(async () => {
    await store.cleanup();
  });

  test('canonical JSON sorts keys at every level', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null }, u: undefined }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson(undefined), 'null');
  });

  test('same token and parameters: the stored result is replayed without running again', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const key = { accountId: 'acc1', operation: 'CreateFileSystem', token: token(), params: { fsName: 'a', zone: 'zoneA', tags: [{ k: 1 }] } };
    let runs = 0;
    const run = async () => ({ status: 200, body: { fsId: `cfs-${++runs}` } });
    const first = await withIdempotency(store, clock, key, run);
    assert.deepEqual(first, { status: 200, body: { fsId: 'cfs-1' }, replayed: false });
    clock.advance(1000);
    // Same parameters in another key order.
    const second = await withIdempotency(store, clock, { ...key, params: { tags: [{ k: 1 }], zone: 'zoneA', fsName: 'a' } }, run);
    assert.deepEqual(second, { status: 200, body: { fsId: 'cfs-1' }, replayed: true });
    assert.equal(runs, 1);
  });

  test('the key is scoped by account and operation', async () => {
    const clock = new ManualClock();
    const t = token();
    let runs = 0;
    const run = async () => ({ status: 201, body: ++runs });
    await withIdempotency(store, clock, { accountId: 'a', operation: 'op', token: t, params: {} }, run);
    await withIdempotency(store, clock, { accountId: 'b', operation: 'op', token: t, params: {} }, run);
    await withIdempotency(store, clock, { accountId: 'a', operation: 'op2', token: t, params: {} }, run);
    const again = await withIdempotency(store, clock, { accountId: 'b', operation: 'op', token: t, params: {} }, run);
    assert.deepEqual(again, { status: 201, body: 2, replayed: true });
    assert.equal(runs, 3);
  });

  test('same token with different parameters: IdempotentParameterMismatch (403)', async () => {
    const clock = new ManualClock();
    const key = { accountId: 'acc1', operation: 'CreateFileSystem', token: token(), params: { fsName: 'a' } };
    await withIdempotency(store, clock, key, async () => ({ status: 200, body: { fsId: 'x' } }));
    let ran = false;
    await assert.rejects(
      withIdempotency(store, clock, { ...key, params: { fsName: 'b' } }, async () => {
        ran = true;
        return { status: 200, body: { fsId: 'y' } };
      }),
      (err: unknown) =>
        isCode('IdempotentParameterMismatch')(err) &&
        (err as IdempotencyError).status === 403 &&
        (err as Error).message === 'The request uses the same client token as a previous, but non-identical request.',
    );
    assert.equal(ran, false);
  });

  test('same token while the first call is in flight: MultiRequestConflict; afterwards it replays', async () => {
    const clock = new ManualClock();
    const key = { accountId: 'acc1', operation: 'CreateMountTarget', token: token(), params: { fsId: 'cfs-1' } };
    const gate = deferred();
    const started = deferred();
    let runs = 0;
    const first = withIdempotency(store, clock, key, async () => {
      runs++;
      started.resolve();
      await gate.promise;
      return { status: 200, body: { mountId: 'm-1' } };
    });
    await started.promise;
    const run = async () => {
      runs++;
      return { status: 200, body: { mountId: 'm-2' } };
    };
    const dupes = await Promise.allSettled([1, 2, 3].map(() => withIdempotency(store, clock, key, run)));
    for (const d of dupes) {
      assert.equal(d.status, 'rejected');
      assert.ok(isCode('MultiRequestConflict')(d.reason));
      assert.equal((d.reason as IdempotencyError).status, 409);
    }
    // A different payload while pending is a mismatch, not a conflict.
    await assert.rejects(withIdempotency(store, clock, { ...key, params: { fsId: 'other' } }, run), isCode('IdempotentParameterMismatch'));
    gate.resolve();
    assert.deepEqual(await first, { status: 200, body: { mountId: 'm-1' }, replayed: false });
    assert.deepEqual(await withIdempotency(store, clock, key, run), { status: 200, body: { mountId: 'm-1' }, replayed: true });
    assert.equal(runs, 1);
  });

  test('simultaneous first calls: exactly one runs, the others are told it is in progress', async () => {
    const clock = new ManualClock();
    const key = { accountId: 'acc1', operation: 'Race', token: token(), params: { n: 1 } };
    let runs = 0;
    // The run that won the token finishes only once every other call has been answered, so all
    // eight are simultaneous however slowly the database serves them.
    const allAnswered = deferred();
    let conflicts = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        withIdempotency(store, clock, key, async () => {
          runs++;
          await allAnswered.promise;
          return { status: 200, body: 'ok' };
        }).catch((e: unknown) => {
          if (++conflicts === 7) allAnswered.resolve();
          throw e;
        }),
      ),
    );
    assert.equal(runs, 1);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isCode('MultiRequestConflict')(r.reason));
  });

  test('a failing run clears the pending row, so the client can retry', async () => {
    const clock = new ManualClock();
    const key = { accountId: 'acc1', operation: 'CreateFileSystem', token: token(), params: { fsName: 'a' } };
    await assert.rejects(
      withIdempotency(store, clock, key, async () => {
        throw new Error('zone unavailable');
      }),
      /zone unavailable/,
    );
    const row = await store.db.selectFrom('idempotency').selectAll().where('token', '=', key.token).executeTakeFirst();
    assert.equal(row, undefined);
    const retry = await withIdempotency(store, clock, key, async () => ({ status: 200, body: { fsId: 'ok' } }));
    assert.deepEqual(retry, { status: 200, body: { fsId: 'ok' }, replayed: false });
  });

  test('tokens expire 24 h after creation', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const key = { accountId: 'acc1', operation: 'CreateFileSystem', token: token(), params: { fsName: 'a' } };
    let runs = 0;
    const run = async () => ({ status: 200, body: { fsId: `cfs-${++runs}` } });
    await withIdempotency(store, clock, key, run);
    clock.advance(IDEMPOTENCY_TTL_MS - 1);
    assert.deepEqual(await withIdempotency(store, clock, key, run), { status: 200, body: { fsId: 'cfs-1' }, replayed: true });
    clock.advance(1);
    // Expired: treated as absent, even with different parameters.
    assert.deepEqual(await withIdempotency(store, clock, { ...key, params: { fsName: 'b' } }, run), {
      status: 200,
      body: { fsId: 'cfs-2' },
      replayed: false,
    });
    assert.deepEqual(await withIdempotency(store, clock, { ...key, params: { fsName: 'b' } }, run), {
      status: 200,
      body: { fsId: 'cfs-2' },
      replayed: true,
    });
    const row = await store.db.selectFrom('idempotency').selectAll().where('token', '=', key.token).executeTakeFirstOrThrow();
    assert.equal(row.created_at, 1_700_000_000_000 + IDEMPOTENCY_TTL_MS);
    assert.equal(row.expires_at, 1_700_000_000_000 + 2 * IDEMPOTENCY_TTL_MS);
    assert.equal(row.state, 'done');
    assert.equal(row.status, 200);
  });

  test('an abandoned pending row also expires after 24 h', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const key = { accountId: 'acc1', operation: 'Crashed', token: token(), params: {} };
    await store.db
      .insertInto('idempotency')
      .values({
        account_id: key.accountId,
        operation: key.operation,
        token: key.token,
        params_hash: 'whatever',
        state: 'pending',
        status: null,
        response: null,
        created_at: clock.now(),
        expires_at: clock.now() + IDEMPOTENCY_TTL_MS,
      })
      .execute();
    await assert.rejects(withIdempotency(store, clock, key, async () => ({ status: 200, body: 1 })), IdempotencyError);
    clock.advance(IDEMPOTENCY_TTL_MS);
    assert.deepEqual(await withIdempotency(store, clock, key, async () => ({ status: 200, body: 1 })), {
      status: 200,
      body: 1,
      replayed: false,
    });
  });

  test('ctx.complete records the result in the handler transaction', async () => {
    const clock = new ManualClock();
    const key = { accountId: 'acc1', operation: 'CreateAccessGroup', token: token(), params: { name: 'g' } };
    const result = await withIdempotency(store, clock, key, async (ctx) =>
      store.tx(async (trx) => {
        await trx.insertInto('probe_runs').values({ task_id: 1, runner: 'handler', finished_at: clock.now() }).execute();
        const r = { status: 200, body: { name: 'g' } };
        await ctx.complete(trx, r);
        const row = await trx.selectFrom('idempotency').select('state').where('token', '=', key.token).executeTakeFirstOrThrow();
        assert.equal(row.state, 'done');
        return r;
      }),
    );
    assert.equal(result.replayed, false);
    assert.deepEqual(await withIdempotency(store, clock, key, async () => ({ status: 500, body: { name: 'no' } })), {
      status: 200,
      body: { name: 'g' },
      replayed: true,
    });
  });

  test('purgeExpiredIdempotency removes expired rows only', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const t1 = token();
    await withIdempotency(store, clock, { accountId: 'p', operation: 'op', token: t1, params: {} }, async () => ({ status: 200, body: null }));
    clock.advance(IDEMPOTENCY_TTL_MS / 2);
    const t2 = token();
    await withIdempotency(store, clock, { accountId: 'p', operation: 'op', token: t2, params: {} }, async () => ({ status: 200, body: null }));
    clock.advance(IDEMPOTENCY_TTL_MS / 2);
    const purged = await purgeExpiredIdempotency(store, clock);
    assert.ok(purged >= 1);
    const left = await store.db.selectFrom('idempotency').select('token').where('account_id', '=', 'p').execute();
    assert.deepEqual(left.map((r) => r.token), [t2]);
  });
});
