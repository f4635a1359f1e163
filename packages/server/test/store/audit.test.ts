import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import {
  AuditLog,
  GENESIS_HASH,
  auditResource,
  listAuditEvents,
  resetAuditLog,
  SYSTEM_ACTOR,
  type AuditEventInput,
  type AuditProblem,
} from '../../src/store/audit.js';
import type { Store } from '../../src/store/db.js';
import type { AuditEventsTable } from '../../src/store/schema.js';
import { ManualClock } from '../../src/tasks/clock.js';
import { SecretBox } from '../../src/iam/secrets.js';
import { AUDIT_KEY_PURPOSE } from '../../src/store/audit.js';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';
const T0 = 1_800_000_000_000;

/** An event by a user of account `acc`, with every field set. */
function event(n: number, over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    accountId: '100000000001',
    userId: 'u-owner',
    userName: 'owner',
    accessKeyId: 'STKKEY0000000000001',
    action: 'box.create',
    resource: auditResource('fence', 3, 'box', n),
    detail: { n, note: `event ${n}` },
    clientAddress: '192.0.2.7',
    requestId: `req-${n}`,
    ...over,
  };
}

/** What verify reports, reduced to what a reader checks: kind and row. */
const brief = (problems: AuditProblem[]) =>
  problems.map((p) => (p.target === 'head' ? `head ${p.kind}` : `${p.kind} ${p.seq}${p.toSeq !== p.seq ? `-${p.toSeq}` : ''}${p.writtenSeq !== null ? ` (written ${p.writtenSeq})` : ''}`));

describe(`audit log (${backend})`, () => {
  let store: TestStore;
  const clock = new ManualClock(T0);
  const log = new AuditLog(randomBytes(32), clock);

  const append = async (s: Store, ev: AuditEventInput) => s.tx((trx) => log.record(trx, ev));
  /** A fresh log of `n` events (the table is emptied first). */
  const fill = async (n: number) => {
    await store.tx((trx) => resetAuditLog(trx));
    for (let i = 1; i <= n; i++) {
      clock.advance(1000);
      await append(store, event(i));
    }
  };
  const rowAt = (seq: number) => store.db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
  const problems = async () => brief((await log.verify(store.db)).problems);

  before(async () => {
    store = await openTestStore('audit');
  });
  after(async () => {
    await store.cleanup();
  });

  test('recorded events form one chain that verifies, and list returns every field', async () => {
    await store.tx((trx) => resetAuditLog(trx));
    assert.deepEqual(await log.verify(store.db), { ok: true, count: 0, authentic: 0, head: { seq: 0, hash: GENESIS_HASH }, problems: [] });
    clock.set(T0);
    const first = await append(store, event(1));
    clock.advance(5);
    const second = await append(store, { ...SYSTEM_ACTOR, action: 'system.start', resource: 'server', clientAddress: null, requestId: null });
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    assert.equal(second.seq, 2);
    assert.equal(second.prevHash, first.hash);

    const listed = await listAuditEvents(store.db);
    assert.deepEqual(listed, [first, second]);
    assert.deepEqual(first, {
      seq: 1,
      at: T0,
      accountId: '100000000001',
      userId: 'u-owner',
      userName: 'owner',
      accessKeyId: 'STKKEY0000000000001',
      action: 'box.create',
      resource: 'fence/3/box/1',
      fenceId: 3,
      detail: { n: 1, note: 'event 1' },
      clientAddress: '192.0.2.7',
      requestId: 'req-1',
      hashVersion: 1,
      prevHash: GENESIS_HASH,
      hash: first.hash,
    });
    assert.deepEqual(
      { ...second, hash: '' },
      {
        seq: 2, at: T0 + 5, accountId: null, userId: null, userName: null, accessKeyId: 'system', action: 'system.start',
        resource: 'server', fenceId: null, detail: null, clientAddress: null, requestId: null, hashVersion: 1, prevHash: first.hash, hash: '',
      },
    );
    // detail is stored as canonical JSON: keys sorted, no white space.
    assert.equal((await rowAt(1)).detail, '{"n":1,"note":"event 1"}');
    const report = await log.verify(store.db);
    assert.deepEqual(report, { ok: true, count: 2, authentic: 2, head: { seq: 2, hash: second.hash }, problems: [] });
  });

  test('hashes follow the documented version-1 encoding under a key derived from the master key', async () => {
    await store.tx((trx) => resetAuditLog(trx));
    const master = 'documented-encoding';
    const derived = SecretBox.fromEnvOrFile(store.dataDir, { STOCKADE_MASTER_KEY: master }, { create: false }).deriveKey(AUDIT_KEY_PURPOSE);
    // Written out from the module comment, not from the implementation.
    const K = Buffer.from(hkdfSync('sha256', createHash('sha256').update(master).digest(), Buffer.alloc(0), 'stockade/audit-mac-v1', 32));
    assert.deepEqual(derived, K);
    const int = (n: number) => {
      const b = Buffer.alloc(9);
      b[0] = 1;
      b.writeBigInt64BE(BigInt(n), 1);
      return b;
    };
    const str = (v: string | null) => {
      if (v === null) return Buffer.of(0);
      const bytes = Buffer.from(v, 'utf8');
      const h = Buffer.alloc(5);
      h[0] = 2;
      h.writeUInt32BE(bytes.length, 1);
      return Buffer.concat([h, bytes]);
    };
    const documented = new AuditLog(derived, new ManualClock(T0));
    const record = (ev: AuditEventInput) => store.tx((trx) => documented.record(trx, ev));
    const e1 = await record(event(1, { userName: 'ünïcode ☃', detail: { b: 1, a: [true, null] } }));
    const e2 = await record({ ...SYSTEM_ACTOR, action: 'system.start', resource: 'server', clientAddress: null, requestId: null });
    const hmac = (...parts: Buffer[]) => createHmac('sha256', K).update(Buffer.concat([Buffer.from('stockade-audit-v1'), ...parts])).digest('hex');
    assert.equal(
      e1.hash,
      hmac(
        int(1), int(T0), str('100000000001'), str('u-owner'), str('ünïcode ☃'), str('STKKEY0000000000001'), str('box.create'),
        str('fence/3/box/1'), int(3), str('{"a":[true,null],"b":1}'), str('192.0.2.7'), str('req-1'), str(GENESIS_HASH),
      ),
    );
    assert.equal(
      e2.hash,
      hmac(int(2), int(T0), str(null), str(null), str(null), str('system'), str('system.start'), str('server'), Buffer.of(0), str(null), str(null), str(null), str(e1.hash)),
    );
    const head = await store.db.selectFrom('audit_chain_head').selectAll().executeTakeFirstOrThrow();
    assert.equal(head.mac, createHmac('sha256', K).update(Buffer.concat([Buffer.from('stockade-audit-head-v1'), int(2), str(e2.hash)])).digest('hex'));
    assert.equal((await rowAt(1)).detail, '{"a":[true,null],"b":1}');
    assert.deepEqual(brief((await documented.verify(store.db)).problems), []);
  });

  test('an event recorded in a transaction that rolls back leaves no event and no gap', async () => {
    await fill(2);
    await assert.rejects(
      store.tx(async (trx) => {
        await trx.insertInto('probe_runs').values({ task_id: 1, runner: 'r', finished_at: 1 }).execute();
        await log.record(trx, event(99));
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    assert.equal((await listAuditEvents(store.db)).length, 2);
    assert.deepEqual(await store.db.selectFrom('probe_runs').selectAll().where('runner', '=', 'r').execute(), []);
    const next = await append(store, event(3));
    assert.equal(next.seq, 3);
    assert.deepEqual(await problems(), []);
  });

  test('record refuses to run outside a transaction, and refuses malformed events without writing', async () => {
    await fill(1);
    await assert.rejects(log.record(store.db as never, event(2)), /inside the transaction/);
    const bad: Array<[Partial<AuditEventInput>, RegExp]> = [
      [{ action: 'create box' }, /action/],
      [{ action: '' }, /action/],
      [{ resource: '' }, /resource/],
      [{ resource: 'fence/3/\u0000' }, /NUL/],
      [{ userName: 'a\u0000b' }, /NUL/],
      [{ accessKeyId: '' }, /accessKeyId/],
      [{ fenceId: -1 }, /fenceId/],
      [{ fenceId: 1.5 }, /fenceId/],
      [{ detail: { big: 'x'.repeat(70 * 1024) } }, /64 KiB|65536/],
    ];
    for (const [over, message] of bad) {
      await assert.rejects(append(store, event(2, over)), message, JSON.stringify(over).slice(0, 80));
    }
    assert.equal((await listAuditEvents(store.db)).length, 1);
    assert.deepEqual(await problems(), []);
  });

  // On SQLite two connections in one process cannot hold overlapping transactions at all (better-sqlite3
  // waits for the lock synchronously, blocking the thread that would release it); there, concurrency
  // is between processes, which the next test covers on both databases.
  const inProcess = backend === 'postgres' ? false : 'SQLite: overlapping transactions need two processes (next test)';
  test('appends in concurrent transactions from two connections form one valid chain', { timeout: 60_000, skip: inProcess }, async () => {
    await fill(0);
    const other = await store.reopen();
    try {
      const N = 25;
      const writer = (s: Store, who: string) =>
        Promise.all(
          Array.from({ length: N }, (_, i) =>
            s.tx(async (trx) => {
              // The change the event records, then a pause so the transactions overlap.
              await trx.insertInto('probe_runs').values({ task_id: i, runner: who, finished_at: 1 }).execute();
              await new Promise((r) => setTimeout(r, 2));
              return log.record(trx, event(i, { action: `probe.${who}`, requestId: `${who}-${i}` }));
            }),
          ),
        );
      const [a, b] = await Promise.all([writer(store, 'a'), writer(other, 'b')]);
      const seqs = [...a, ...b].map((e) => e.seq).sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: 2 * N }, (_, i) => i + 1));
      const all = await listAuditEvents(store.db, { limit: 1000 });
      assert.deepEqual(all.map((e) => e.seq), seqs);
      for (let i = 1; i < all.length; i++) assert.equal(all[i]!.prevHash, all[i - 1]!.hash);
      assert.deepEqual(new Set(all.map((e) => e.requestId)).size, 2 * N);
      const report = await log.verify(store.db);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.count, 2 * N);
    } finally {
      await other.close();
    }
  });

  test('appends from two processes at once form one valid chain', { timeout: 60_000 }, async () => {
    await fill(0);
    const key = randomBytes(32);
    const auditUrl = new URL('../../src/store/audit.js', import.meta.url).href;
    const dbUrl = new URL('../../src/store/db.js', import.meta.url).href;
    const script = `
      const { openDatabase } = await import(${JSON.stringify(dbUrl)});
      const { AuditLog } = await import(${JSON.stringify(auditUrl)});
      const store = await openDatabase(JSON.parse(process.env.OPEN_OPTS));
      const log = new AuditLog(Buffer.from(process.env.AUDIT_KEY, 'hex'), { now: () => Date.now() });
      try {
        for (let i = 0; i < 25; i++) {
          await store.tx((trx) => log.record(trx, {
            accountId: null, userId: null, userName: null, accessKeyId: 'system',
            action: 'probe.' + process.env.WHO, resource: 'probe/' + i, clientAddress: null, requestId: null,
          }));
        }
      } finally { await store.close(); }
    `;
    const openOpts = JSON.stringify({ dataDir: store.dataDir, ...(store.url ? { url: store.url, schema: store.schema } : {}) });
    const run = (who: string) =>
      new Promise<void>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { env: { ...process.env, OPEN_OPTS: openOpts, AUDIT_KEY: key.toString('hex'), WHO: who } },
          (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()),
        );
      });
    await Promise.all([run('a'), run('b'), run('c')]);
    const report = await new AuditLog(key, clock).verify(store.db);
    assert.deepEqual(report.problems, []);
    assert.equal(report.count, 75);
    const all = await listAuditEvents(store.db, { limit: 1000 });
    for (const who of ['a', 'b', 'c']) assert.equal(all.filter((e) => e.action === `probe.${who}`).length, 25);
  });

  test('verify names an edited row, whichever column was changed', async () => {
    await fill(5);
    const original = await rowAt(3);
    const changes: Array<Partial<AuditEventsTable>> = [
      { at: original.at + 1 },
      { account_id: '100000000002' },
      { account_id: null },
      { user_id: 'u-other' },
      { user_name: 'mallory' },
      { access_key_id: 'STKKEY0000000000002' },
      { action: 'box.delete' },
      { resource: 'fence/3/box/4' },
      { fence_id: 4 },
      { fence_id: null },
      { detail: '{"n":3,"note":"event 3 "}' },
      { detail: null },
      { client_address: '198.51.100.1' },
      { request_id: 'req-x' },
      { hash_version: 2 },
      { prev_hash: (await rowAt(1)).hash },
      { hash: (await rowAt(2)).hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
    ];
    for (const change of changes) {
      await store.db.updateTable('audit_events').set(change).where('seq', '=', 3).execute();
      assert.deepEqual(await problems(), ['edited 3'], `after changing ${JSON.stringify(change)}`);
      const report = await log.verify(store.db);
      assert.match(report.problems[0]!.message, /^event 3: edited: /);
      await store.db.updateTable('audit_events').set(original).where('seq', '=', 3).execute();
      assert.deepEqual(await problems(), [], `restored after ${JSON.stringify(change)}`);
    }
    // The first and last rows too.
    for (const seq of [1, 5]) {
      await store.db.updateTable('audit_events').set({ user_name: 'mallory' }).where('seq', '=', seq).execute();
      assert.deepEqual(await problems(), [`edited ${seq}`]);
      await store.db.updateTable('audit_events').set({ user_name: 'owner' }).where('seq', '=', seq).execute();
    }
    assert.deepEqual(await problems(), []);
  });

  test('verify names a removed row: first, middle, last, and a run of rows', async () => {
    await fill(5);
    const rows = await store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    const restore = async () => {
      await store.db.deleteFrom('audit_events').execute();
      await store.db.insertInto('audit_events').values(rows).execute();
    };
    for (const [seqs, expected] of [
      [[1], ['removed 1']],
      [[3], ['removed 3']],
      [[5], ['removed 5']],
      [[2, 3, 4], ['removed 2-4']],
      [[1, 5], ['removed 1', 'removed 5']],
    ] as Array<[number[], string[]]>) {
      await store.db.deleteFrom('audit_events').where('seq', 'in', seqs).execute();
      assert.deepEqual(await problems(), expected, `after removing ${seqs.join(',')}`);
      const report = await log.verify(store.db);
      assert.equal(report.ok, false);
      assert.match(report.problems[0]!.message, /^events? \d+(-\d+)?: removed$/);
      await restore();
    }
    assert.deepEqual(await problems(), []);
  });

  test('verify names an inserted row: a forgery after the last event, a copy, one pushed into the middle', async () => {
    await fill(5);
    const five = await rowAt(5);
    // A forged event appended after the last one, linked to it, with a made-up hash.
    await store.db
      .insertInto('audit_events')
      .values({ ...five, seq: 6, action: 'export.approve', prev_hash: five.hash, hash: randomBytes(32).toString('hex') })
      .execute();
    assert.deepEqual(await problems(), ['inserted 6']);
    assert.match((await log.verify(store.db)).problems[0]!.message, /^event 6: inserted: /);
    await store.db.deleteFrom('audit_events').where('seq', '=', 6).execute();

    // A copy of a genuine event under a new seq.
    await store.db.insertInto('audit_events').values({ ...(await rowAt(2)), seq: 6 }).execute();
    assert.deepEqual(await problems(), ['inserted 6 (written 2)']);
    assert.match((await log.verify(store.db)).problems[0]!.message, /^event 6: inserted: a copy of event 2$/);
    await store.db.deleteFrom('audit_events').where('seq', '=', 6).execute();

    // A forgery pushed in at 3: events 3..5 renumbered 4..6, the head moved along without its MAC.
    const two = await rowAt(2);
    for (const seq of [5, 4, 3]) await store.db.updateTable('audit_events').set({ seq: seq + 1 }).where('seq', '=', seq).execute();
    await store.db
      .insertInto('audit_events')
      .values({ ...two, seq: 3, action: 'export.approve', prev_hash: two.hash, hash: randomBytes(32).toString('hex') })
      .execute();
    assert.deepEqual(await problems(), ['inserted 3', 'reordered 4-6 (written 3)']);
    const head = await store.db.selectFrom('audit_chain_head').selectAll().executeTakeFirstOrThrow();
    await store.db.updateTable('audit_chain_head').set({ seq: 6, hash: (await rowAt(6)).hash }).execute();
    assert.deepEqual(await problems(), ['head edited', 'inserted 3', 'reordered 4-6 (written 3)']);
    await store.db.updateTable('audit_chain_head').set(head).execute();
  });

  test('verify names a swapped pair of rows, adjacent or not', async () => {
    await fill(6);
    const swap = async (x: number, y: number) => {
      await store.db.updateTable('audit_events').set({ seq: -1 }).where('seq', '=', x).execute();
      await store.db.updateTable('audit_events').set({ seq: x }).where('seq', '=', y).execute();
      await store.db.updateTable('audit_events').set({ seq: y }).where('seq', '=', -1).execute();
    };
    await swap(2, 3);
    assert.deepEqual(await problems(), ['reordered 2 (written 3)', 'reordered 3 (written 2)']);
    const report = await log.verify(store.db);
    assert.deepEqual(report.problems.map((p) => p.message), ['event 2: reordered: written as event 3', 'event 3: reordered: written as event 2']);
    await swap(2, 3);
    assert.deepEqual(await problems(), []);
    await swap(1, 6);
    assert.deepEqual(await problems(), ['reordered 1 (written 6)', 'reordered 6 (written 1)']);
    await swap(1, 6);
    // Swapping the contents of two rows (every column but seq) is the same move.
    const [r2, r5] = [await rowAt(2), await rowAt(5)];
    await store.db.updateTable('audit_events').set({ ...r5, seq: 2 }).where('seq', '=', 2).execute();
    await store.db.updateTable('audit_events').set({ ...r2, seq: 5 }).where('seq', '=', 5).execute();
    assert.deepEqual(await problems(), ['reordered 2 (written 5)', 'reordered 5 (written 2)']);
  });

  test('verify names a chain head that was edited, removed or replaced by an older one', async () => {
    await fill(3);
    const headAt3 = await store.db.selectFrom('audit_chain_head').selectAll().executeTakeFirstOrThrow();
    clock.advance(1000);
    await append(store, event(4));
    const headAt4 = await store.db.selectFrom('audit_chain_head').selectAll().executeTakeFirstOrThrow();

    await store.db.updateTable('audit_chain_head').set({ mac: headAt3.mac }).execute();
    assert.deepEqual(await problems(), ['head edited']);
    // An older head: the events after it are still there and genuine.
    await store.db.updateTable('audit_chain_head').set(headAt3).execute();
    assert.deepEqual(await problems(), ['head edited']);
    assert.match((await log.verify(store.db)).problems[0]!.message, /^chain head: edited: says 3 events, but genuine events go up to 4/);
    // The empty chain's head over a log that has events.
    await store.db.updateTable('audit_chain_head').set({ seq: 0, hash: GENESIS_HASH, mac: '' }).execute();
    assert.deepEqual(await problems(), ['head edited']);
    await store.db.deleteFrom('audit_chain_head').execute();
    assert.deepEqual(await problems(), ['head removed']);
    await assert.rejects(append(store, event(5)), /chain head is missing/);
    await store.db.insertInto('audit_chain_head').values(headAt4).execute();
    assert.deepEqual(await problems(), []);
  });

  test('under another key no event verifies', async () => {
    await fill(3);
    const report = await new AuditLog(randomBytes(32), clock).verify(store.db);
    assert.equal(report.ok, false);
    assert.equal(report.count, 3);
    assert.equal(report.authentic, 0);
    assert.deepEqual(brief(report.problems), ['head edited', 'edited 1', 'edited 2', 'edited 3']);
  });

  test('verify includes events appended while it reads', async () => {
    await fill(30);
    let appended = 0;
    const pages = log.verify(store.db, { pageSize: 7 });
    while (appended < 5) {
      await append(store, event(100 + appended));
      appended++;
    }
    const report = await pages;
    assert.deepEqual(report.problems, []);
    assert.ok(report.count >= 30 && report.count <= 35, `count ${report.count}`);
    assert.equal(report.head?.seq, report.count);
  });

  test('list filters by account, resource prefix, fence (one, or any), action and time, and pages by seq', async () => {
    await store.tx((trx) => resetAuditLog(trx));
    clock.set(T0);
    const evs: Array<Partial<AuditEventInput>> = [
      { accountId: 'A', resource: 'fence/3', action: 'fence.create' },
      { accountId: 'A', resource: 'fence/3/box/1', action: 'box.create' },
      { accountId: 'A', resource: 'fence/30/box/2', action: 'box.create' },
      { accountId: 'B', resource: 'fence/4/export/7', action: 'export.request' },
      { accountId: 'B', resource: 'fence/4/export/7', action: 'export.approve' },
      { accountId: 'B', resource: auditResource('s3', 'fence-4-export', 'run/1.csv'), action: 's3.GetObject', fenceId: 4 },
      { accountId: 'A', resource: 'fence_3/box/1', action: 'box.create' },
      { accountId: 'A', resource: 'Fence/3/box/1', action: 'box.create' },
    ];
    for (const [i, over] of evs.entries()) {
      clock.set(T0 + i * 1000);
      await append(store, event(i + 1, over));
    }
    const seqs = async (f: Parameters<typeof listAuditEvents>[1]) => (await listAuditEvents(store.db, f)).map((e) => e.seq);
    assert.deepEqual(await seqs({}), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await seqs({ accountId: 'B' }), [4, 5, 6]);
    assert.deepEqual(await seqs({ accountId: 'nobody' }), []);
    // Whole segments; no LIKE wildcards; case-sensitive on both databases.
    assert.deepEqual(await seqs({ resource: 'fence/3' }), [1, 2]);
    assert.deepEqual(await seqs({ resource: 'fence/3/' }), [2]);
    assert.deepEqual(await seqs({ resource: 'fence/3/box/1' }), [2]);
    assert.deepEqual(await seqs({ resource: 'fence' }), [1, 2, 3, 4, 5]);
    assert.deepEqual(await seqs({ resource: 'fence_3' }), [7]);
    assert.deepEqual(await seqs({ resource: 's3/fence-4-export/run%2F1.csv' }), [6]);
    // The fence: from the resource, or given explicitly (an S3 read of the export bucket).
    assert.deepEqual(await seqs({ fenceId: 4 }), [4, 5, 6]);
    assert.deepEqual(await seqs({ fenceId: 3 }), [1, 2]);
    assert.deepEqual(await seqs({ fenceId: 4, action: 'export.' }), [4, 5]);
    // Any fence (what a fence-admin key reads): events 7 and 8 belong to none.
    assert.deepEqual(await seqs({ fenceScoped: true }), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await seqs({ accountId: 'A', fenceScoped: true, order: 'desc', limit: 2 }), [3, 2]);
    assert.deepEqual(await seqs({ fenceScoped: false }), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await seqs({ action: 'export.approve' }), [5]);
    assert.deepEqual(await seqs({ action: 'export' }), []);
    assert.deepEqual(await seqs({ since: T0 + 2000, until: T0 + 5000 }), [3, 4, 5]);
    assert.deepEqual(await seqs({ limit: 3 }), [1, 2, 3]);
    assert.deepEqual(await seqs({ after: 3, limit: 3 }), [4, 5, 6]);
    assert.deepEqual(await seqs({ order: 'desc', limit: 2 }), [8, 7]);
    assert.deepEqual(await seqs({ order: 'desc', before: 7, limit: 2 }), [6, 5]);
    assert.deepEqual(await seqs({ accountId: 'A', fenceId: 3, since: T0 + 1000 }), [2]);
    await assert.rejects(listAuditEvents(store.db, { limit: 0 }), RangeError);
    await assert.rejects(listAuditEvents(store.db, { limit: 1001 }), RangeError);
    await assert.rejects(listAuditEvents(store.db, { after: 1.5 }), RangeError);
  });

  test('auditResource escapes the separator, percent and control characters inside a segment', () => {
    assert.equal(auditResource('fence', 3, 'box', 12), 'fence/3/box/12');
    assert.equal(auditResource('s3', 'bucket', 'a/b%c\nd e'), 's3/bucket/a%2Fb%25c%0Ad e');
    assert.throws(() => auditResource(), TypeError);
  });

  test('resetAuditLog empties the log and starts a new chain', async () => {
    await fill(3);
    await store.tx((trx) => resetAuditLog(trx));
    assert.deepEqual(await log.verify(store.db), { ok: true, count: 0, authentic: 0, head: { seq: 0, hash: GENESIS_HASH }, problems: [] });
    const e = await append(store, event(1));
    assert.equal(e.seq, 1);
    assert.equal(e.prevHash, GENESIS_HASH);
    // A missing head row is put back.
    await store.db.deleteFrom('audit_chain_head').execute();
    await store.tx((trx) => resetAuditLog(trx));
    assert.deepEqual(await problems(), []);
    assert.equal((await append(store, event(1))).seq, 1);
  });
});
