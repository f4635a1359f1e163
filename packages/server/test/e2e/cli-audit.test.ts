/**
 * `stockade audit verify` and `stockade audit list` as an operator runs them, against a database
 * whose log a test wrote (SQLite, or PostgreSQL in a fresh schema with STOCKADE_TEST_DATABASE_URL).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import { cliEnv, runCli, type RunResult } from '../helpers/cli.js';
import { SecretBox } from '../../src/iam/secrets.js';
import { AUDIT_KEY_PURPOSE, AuditLog, auditResource, listAuditEvents, type AuditEntry, type AuditEventInput } from '../../src/store/audit.js';
import { ManualClock } from '../../src/tasks/clock.js';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';
const T0 = Date.UTC(2027, 0, 15, 9, 30, 0);

describe(`stockade audit (${backend})`, () => {
  let store: TestStore;
  const master = `audit-cli-${randomBytes(8).toString('hex')}`;
  let entries: AuditEntry[] = [];

  const audit = (args: string[], env: Record<string, string | undefined> = { STOCKADE_MASTER_KEY: master }): Promise<RunResult> =>
    runCli(['audit', ...args, '--data', store.dataDir, ...(store.url ? ['--database', store.url] : [])], {
      env: cliEnv({ STOCKADE_DATABASE_SCHEMA: store.schema, ...env }),
    });

  before(async () => {
    store = await openTestStore('cli_audit');
    const secrets = SecretBox.fromEnvOrFile(store.dataDir, { STOCKADE_MASTER_KEY: master }, { create: false });
    const clock = new ManualClock(T0);
    const log = new AuditLog(secrets.deriveKey(AUDIT_KEY_PURPOSE), clock);
    const who = { accountId: '100000000001', userId: 'u-admin', userName: 'admin', accessKeyId: 'STKADMIN00000000001', clientAddress: '192.0.2.10' };
    const events: AuditEventInput[] = [
      { ...who, action: 'box.create', resource: auditResource('fence', 3, 'box', 12), requestId: 'r1', detail: { productCode: 'SPSVRSTAND000005' } },
      { ...who, action: 'export.request', resource: auditResource('fence', 3, 'export', 7), requestId: 'r2' },
      { ...who, accountId: '100000000002', action: 'box.create', resource: auditResource('fence', 30, 'box', 1), requestId: 'r3' },
      { ...who, action: 'export.approve', resource: auditResource('fence', 3, 'export', 7), requestId: 'r4' },
    ];
    for (const ev of events) {
      clock.advance(60_000);
      await store.tx((trx) => log.record(trx, ev));
    }
    entries = await listAuditEvents(store.db);
  });
  after(async () => {
    await store.cleanup();
  });

  test('audit verify exits 0 on an intact chain and prints its head', async () => {
    const r = await audit(['verify']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `audit chain intact: 4 events; head seq 4 hash ${entries[3]!.hash}\n`);
  });

  test('audit verify exits 1 and names each edited or removed row, one line each', async () => {
    const two = await store.db.selectFrom('audit_events').selectAll().where('seq', '=', 2).executeTakeFirstOrThrow();
    const four = await store.db.selectFrom('audit_events').selectAll().where('seq', '=', 4).executeTakeFirstOrThrow();
    await store.db.updateTable('audit_events').set({ action: 'export.cancel' }).where('seq', '=', 2).execute();
    await store.db.deleteFrom('audit_events').where('seq', '=', 4).execute();
    try {
      const r = await audit(['verify']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, 'event 2: edited: its columns do not match its hash\nevent 4: removed\n');
      assert.equal(r.stderr, 'stockade: audit chain broken: 2 problem(s) in 3 events\n');
      const j = await audit(['verify', '--json']);
      assert.equal(j.code, 1);
      const report = JSON.parse(j.stdout) as { ok: boolean; count: number; problems: Array<{ kind: string; seq: number }> };
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [['edited', 2], ['removed', 4]]);
    } finally {
      await store.db.updateTable('audit_events').set(two).where('seq', '=', 2).execute();
      await store.db.insertInto('audit_events').values(four).execute();
    }
    assert.equal((await audit(['verify'])).code, 0);
  });

  test('audit verify refuses to run without the server\'s master key, and never makes one', async () => {
    const r = await audit(['verify'], { STOCKADE_MASTER_KEY: undefined });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^stockade: no master key: STOCKADE_MASTER_KEY is not set and .*master\.key does not exist/);
    assert.equal(existsSync(join(store.dataDir, 'master.key')), false);
    const wrong = await audit(['verify'], { STOCKADE_MASTER_KEY: 'not-the-server-key' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^chain head: edited: .*\nevent 1: edited: /);
    assert.match(wrong.stderr, /no event verifies under this master key/);
  });

  test('audit list prints every event as text or JSON, and filters', async () => {
    const text = await audit(['list']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(
      lines[0],
      `1  2027-01-15T09:31:00.000Z  box.create  fence/3/box/12  account=100000000001  user=admin(u-admin)  key=STKADMIN00000000001  ` +
        'from=192.0.2.10  fence=3  request=r1  detail={"productCode":"SPSVRSTAND000005"}',
    );

    const json = async (args: string[]) => {
      const r = await audit(['list', '--json', ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as AuditEntry[];
    };
    assert.deepEqual(await json([]), entries);
    assert.deepEqual((await json(['--fence', '3'])).map((e) => e.seq), [1, 2, 4]);
    assert.deepEqual((await json(['--resource', 'fence/3/export/7'])).map((e) => e.action), ['export.request', 'export.approve']);
    assert.deepEqual((await json(['--account', '100000000002'])).map((e) => e.seq), [3]);
    assert.deepEqual((await json(['--action', 'export.'])).map((e) => e.seq), [2, 4]);
    assert.deepEqual((await json(['--limit', '2'])).map((e) => e.seq), [3, 4]);
    assert.deepEqual((await json(['--since', '2027-01-15T09:32:00Z', '--until', '2027-01-15T09:34:00Z'])).map((e) => e.seq), [2, 3]);
    assert.deepEqual(await json(['--fence', '99']), []);
  });

  test('a bad audit command line is one clear line and exit status 2', async () => {
    for (const [args, message] of [
      [['list', '--limit', '0'], /--limit must be an integer of at least 1/],
      [['list', '--fence', 'three'], /--fence must be an integer/],
      [['list', '--since', 'yesterday'], /--since must be an ISO 8601 time/],
      [['list', '--colour'], /Unknown option '--colour'/],
      [['verify', 'now'], /usage: stockade audit verify/],
      [['rotate'], /usage: stockade audit verify \| list/],
    ] as Array<[string[], RegExp]>) {
      const r = await audit(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
    }
  });
});
