/** Data Flow triggers (§4.20–§4.23) over a real socket with the SDK, on SQLite and PostgreSQL. */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DataFlowClient, StockadeApiError } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/ncp.js';

let srv: TestServer;
let flow: DataFlowClient;
before(async () => {
  srv = await startTestServer('dataflow-triggers');
  flow = new DataFlowClient(srv.creds);
});
after(async () => {
  await srv.close();
});


const daily = { type: 'RECURRING', interval: 'DAY', time: '10:00' } as const;

describe('Data Flow triggers', () => {
  test('createTrigger answers 201 with the documented trigger, and getTriggerById gives it back', async () => {
    const t = await flow.createTrigger({ name: 'trigger1', type: 'SCHEDULED', triggerRule: daily });
    assert.match(t.triggerId, /^[A-Za-z0-9]{12}$/);
    assert.equal(t.name, 'trigger1');
    assert.equal(t.type, 'SCHEDULED');
    assert.deepEqual(t.triggerRule, daily);
    assert.match(t.createdDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+09:00$/);
    assert.equal(t.updatedDate, t.createdDate);
    assert.deepEqual(await flow.getTriggerById({ triggerId: t.triggerId }), t);
  });

  test('only the rule fields its type uses are kept; a weekly rule keeps its days, a one-time rule its date as sent', async () => {
    const weekly = await flow.createTrigger({
      name: 'weekly_report',
      type: 'SCHEDULED',
      triggerRule: { type: 'RECURRING', interval: 'WEEK', time: '08:30', dayOfWeek: ['MONDAY', 'FRIDAY', 'MONDAY'], dateOfMonth: '3' },
    });
    assert.deepEqual(weekly.triggerRule, { type: 'RECURRING', interval: 'WEEK', time: '08:30', dayOfWeek: ['MONDAY', 'FRIDAY'] });
    const once = await flow.createTrigger({ name: 'new_year', type: 'SCHEDULED', triggerRule: { type: 'ONE_TIME', executionDate: '2027-01-01T00:00:00', time: '10:00' } });
    assert.deepEqual(once.triggerRule, { type: 'ONE_TIME', executionDate: '2027-01-01T00:00:00' });
    const manual = await flow.createTrigger({ name: 'manual_only', type: 'NONE', triggerRule: { type: 'NONE' } });
    assert.deepEqual(manual.triggerRule, { type: 'NONE' });
    const event = await flow.createTrigger({ name: 'on_event', type: 'EVENT', triggerRule: { type: 'NONE' } });
    assert.equal(event.type, 'EVENT');
  });

  test('createTrigger refuses a rule missing what its interval needs, naming the field, and stores nothing', async () => {
    const before = (await flow.getTriggers({})).count;
    const bad: Array<[Parameters<DataFlowClient['createTrigger']>[0]['triggerRule'], RegExp]> = [
      [{ type: 'RECURRING' }, /triggerRule\.interval/],
      [{ type: 'RECURRING', interval: 'DAY' }, /triggerRule\.time/],
      [{ type: 'RECURRING', interval: 'HOUR', time: '10:00' }, /triggerRule\.time/],
      [{ type: 'RECURRING', interval: 'WEEK', time: '10:00' }, /triggerRule\.dayOfWeek/],
      [{ type: 'RECURRING', interval: 'MONTH', time: '10:00' }, /triggerRule\.dateOfMonth/],
      [{ type: 'ONE_TIME' }, /triggerRule\.executionDate/],
      [{ type: 'ONE_TIME', executionDate: '2027-02-30T10:00' }, /triggerRule\.executionDate/],
    ];
    for (const [triggerRule, detail] of bad) {
      await rejects(flow.createTrigger({ name: 'bad_rule', type: 'SCHEDULED', triggerRule }), 400, 'bad-parameter', detail);
    }
    assert.equal((await flow.getTriggers({})).count, before);
  });

  test('createTrigger refuses a type that does not go with the rule type, a bad name, and a name already used', async () => {
    await rejects(flow.createTrigger({ name: 'mismatch', type: 'SCHEDULED', triggerRule: { type: 'NONE' } }), 400, 'bad-parameter', /SCHEDULED/);
    await rejects(flow.createTrigger({ name: 'mismatch', type: 'NONE', triggerRule: daily }), 400, 'bad-parameter', /NONE/);
    await rejects(flow.createTrigger({ name: 'mismatch', type: 'EVENT', triggerRule: daily }), 400, 'bad-parameter', /EVENT/);
    await rejects(flow.createTrigger({ name: '1starts_with_digit', type: 'NONE', triggerRule: { type: 'NONE' } }), 400, 'bad-parameter');
    await rejects(flow.createTrigger({ name: 'ab', type: 'NONE', triggerRule: { type: 'NONE' } }), 400, 'bad-parameter');
    await flow.createTrigger({ name: 'twice', type: 'NONE', triggerRule: { type: 'NONE' } });
    await rejects(flow.createTrigger({ name: 'twice', type: 'SCHEDULED', triggerRule: daily }), 400, 'bad-parameter', /already exists/);
    assert.equal((await flow.getTriggers({ name: 'twice' })).count, 1);
  });

  test('the same name created by many requests at once makes one trigger', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => flow.createTrigger({ name: 'raced', type: 'NONE', triggerRule: { type: 'NONE' } })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as StockadeApiError).code, 'bad-parameter');
    assert.equal((await flow.getTriggers({ name: 'raced' })).count, 1);
  });

  test('getTriggers pages newest first and filters by name (case-insensitive substring, % and _ literal)', async () => {
    const other = await srv.newAccount('paging');
    const own = new DataFlowClient({ endpoint: srv.url, ...other });
    for (const name of ['nightly_a', 'nightly_b', 'Nightly_c', 'hourly_x', 'night%ly']) {
      await own.createTrigger({ name: name.replace('%', '_'), type: 'SCHEDULED', triggerRule: daily });
      await new Promise((r) => setTimeout(r, 3)); // distinct creation times, so "newest first" is one order
    }
    const all = await own.getTriggers({});
    assert.equal(all.count, 5);
    assert.deepEqual(
      all.list.map((t) => t.name),
      ['night_ly', 'hourly_x', 'Nightly_c', 'nightly_b', 'nightly_a'],
    );
    const page1 = await own.getTriggers({ page: 1, limit: 2 });
    assert.deepEqual({ names: page1.list.map((t) => t.name), count: page1.count, page: page1.page, limit: page1.limit }, { names: ['Nightly_c', 'nightly_b'], count: 5, page: 1, limit: 2 });
    assert.deepEqual((await own.getTriggers({ name: 'NIGHTLY' })).list.map((t) => t.name), ['Nightly_c', 'nightly_b', 'nightly_a']);
    // `_` is a literal underscore, not LIKE's any-character (which would match every name with an inner `l`).
    assert.deepEqual((await own.getTriggers({ name: '_l' })).list.map((t) => t.name), ['night_ly']);
    assert.equal((await own.getTriggers({ name: '%' })).count, 0);
  });

  test('deleteTrigger answers true, and the trigger is gone', async () => {
    const t = await flow.createTrigger({ name: 'to_delete', type: 'NONE', triggerRule: { type: 'NONE' } });
    assert.equal(await flow.deleteTrigger({ triggerId: t.triggerId }), true);
    await rejects(flow.getTriggerById({ triggerId: t.triggerId }), 404, 'resource-not-found/trigger');
    await rejects(flow.deleteTrigger({ triggerId: t.triggerId }), 404, 'resource-not-found/trigger');
  });

  test('another account sees none of the triggers, cannot read or delete them, and may reuse the names', async () => {
    const t = await flow.createTrigger({ name: 'private_one', type: 'SCHEDULED', triggerRule: daily });
    const other = await srv.newAccount('stranger');
    const them = new DataFlowClient({ endpoint: srv.url, ...other });
    assert.equal((await them.getTriggers({ name: 'private_one' })).count, 0);
    await rejects(them.getTriggerById({ triggerId: t.triggerId }), 404, 'resource-not-found/trigger');
    await rejects(them.deleteTrigger({ triggerId: t.triggerId }), 404, 'resource-not-found/trigger');
    await them.createTrigger({ name: 'private_one', type: 'NONE', triggerRule: { type: 'NONE' } });
    assert.equal((await flow.getTriggerById({ triggerId: t.triggerId })).type, 'SCHEDULED');
  });

  test('a box-user key is refused every trigger operation; a fence-admin key may use them', async () => {
    const t = await flow.createTrigger({ name: 'guarded', type: 'NONE', triggerRule: { type: 'NONE' } });
    const analyst = new DataFlowClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
    for (const call of [
      () => analyst.getTriggers({}),
      () => analyst.getTriggerById({ triggerId: t.triggerId }),
      () => analyst.createTrigger({ name: 'sneaky', type: 'NONE', triggerRule: { type: 'NONE' } }),
      () => analyst.deleteTrigger({ triggerId: t.triggerId }),
    ]) {
      // The NCP gateway's answer to a role that does not suffice: 401 with errorCode 210.
      await rejects(call(), 401, '210');
    }
    assert.equal((await flow.getTriggerById({ triggerId: t.triggerId })).name, 'guarded');
    const admin = new DataFlowClient({ endpoint: srv.url, ...(await srv.newKey('fence-admin')) });
    assert.equal((await admin.getTriggerById({ triggerId: t.triggerId })).name, 'guarded');
  });
});
