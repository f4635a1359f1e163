/**
 * Stockade's own operations (ops/stockade.ts): who a key is, and its account's audit log with the
 * chain's verification status. What the web console shows in its header and on its audit page.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DatafenceClient, StockadeClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/ncp.js';

let srv: TestServer;
let owner: StockadeClient;
let fenceId: number;

before(async () => {
  srv = await startTestServer('stockade_api');
  owner = new StockadeClient(srv.creds);
  // An audited change: resize the account's default fence NAS.
  const df = new DatafenceClient(srv.creds);
  fenceId = (await df.getDatafence())[0]!.fenceId;
  const nas = (await df.getDatafenceInfraList({ fenceId })).content.find((i) => i.infraType === 'FENCE_NAS')!;
  await df.changeFenceNasVolume({ fenceId, instanceNo: nas.instanceNo, volumeSize: 600 });
});
after(async () => {
  await srv.close();
});

const client = (k: { accessKeyId: string; secretAccessKey: string }) => new StockadeClient({ endpoint: srv.url, ...k });

describe('get-caller-identity', () => {
  test('tells the owner key its account, user, role and the S3 regions', async () => {
    const me = await owner.getCallerIdentity();
    assert.equal(me.accountId, srv.accountId);
    assert.equal(me.accessKeyId, srv.accessKeyId);
    assert.equal(me.role, 'owner');
    assert.equal(typeof me.userName, 'string');
    assert.deepEqual(me.s3Regions, srv.app.ctx.config.s3Regions);
  });

  test('answers every role with its own identity, and another account with that account', async () => {
    for (const role of ['fence-admin', 'box-user'] as const) {
      const key = await srv.newKey(role);
      const me = await client(key).getCallerIdentity();
      assert.deepEqual([me.accountId, me.role, me.accessKeyId], [srv.accountId, role, key.accessKeyId]);
    }
    const other = await srv.newAccount('stockade-other');
    const me = await client(other).getCallerIdentity();
    assert.equal(me.accountId, other.accountId);
    assert.notEqual(me.accountId, srv.accountId);
  });

  test('a wrong secret is refused with the NCP gateway error 401/200', async () => {
    await rejects(client({ accessKeyId: srv.accessKeyId, secretAccessKey: 'wrong' }).getCallerIdentity(), 401, '200');
  });
});

describe('list-audit-events', () => {
  test("gives the owner its account's events, newest first, with who, what and where", async () => {
    const { events } = await owner.listAuditEvents();
    const resize = events.find((e) => e.resource.startsWith(`fence/${fenceId}`) && e.accessKeyId === srv.accessKeyId);
    assert.ok(resize, JSON.stringify(events));
    assert.ok(resize.requestId, 'a request made the change');
    assert.equal(resize.fenceId, fenceId);
    assert.match(resize.at, /^\d{4}-\d{2}-\d{2}T/);
    for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.seq > events[i]!.seq, 'newest first');
  });

  test('pages with before and limit, and filters by action and resource', async () => {
    const all = (await owner.listAuditEvents({ limit: 200 })).events;
    const first = (await owner.listAuditEvents({ limit: 1 })).events;
    assert.equal(first.length, 1);
    assert.equal(first[0]!.seq, all[0]!.seq);
    const rest = (await owner.listAuditEvents({ before: first[0]!.seq, limit: 200 })).events;
    assert.deepEqual(rest.map((e) => e.seq), all.slice(1).map((e) => e.seq));
    const byResource = (await owner.listAuditEvents({ resource: `fence/${fenceId}` })).events;
    assert.ok(byResource.length > 0 && byResource.every((e) => e.resource.startsWith(`fence/${fenceId}`)));
    const action = byResource[0]!.action;
    assert.ok((await owner.listAuditEvents({ action })).events.every((e) => e.action === action));
    assert.deepEqual((await owner.listAuditEvents({ action: 'no.such.action' })).events, []);
  });

  test("another account's owner sees none of this account's events", async () => {
    const other = await srv.newAccount('stockade-audit-other');
    const { events } = await client(other).listAuditEvents({ limit: 200 });
    assert.ok(events.length > 0, 'the new account has events of its own (its fence)');
    assert.ok(events.every((e) => !e.resource.startsWith(`fence/${fenceId}`) && e.accessKeyId !== srv.accessKeyId), JSON.stringify(events));
  });

  test("a fence-admin key (a reviewer) sees its account's fence events and none of the account-wide ones", async () => {
    const all = (await owner.listAuditEvents({ limit: 200 })).events;
    const accountWide = all.filter((e) => e.fenceId === null);
    // The account's creation is recorded without a fence.
    assert.ok(accountWide.some((e) => e.action === 'account.create'), JSON.stringify(all));
    const admin = client(await srv.newKey('fence-admin'));
    const { events } = await admin.listAuditEvents({ limit: 200 });
    assert.ok(events.some((e) => e.fenceId === fenceId && e.resource.startsWith(`fence/${fenceId}`) && e.accessKeyId === srv.accessKeyId), JSON.stringify(events));
    assert.deepEqual(events.filter((e) => e.fenceId === null), []);
    assert.deepEqual(events.map((e) => e.seq), all.filter((e) => e.fenceId !== null).map((e) => e.seq), "exactly the owner's events with a fence");
    // Paging and filters work on what the key may see.
    const first = (await admin.listAuditEvents({ limit: 1 })).events;
    assert.deepEqual(first.map((e) => e.seq), [events[0]!.seq]);
    assert.deepEqual((await admin.listAuditEvents({ action: 'account.create' })).events, []);
  });

  test("a fence-admin key of another account sees nothing of this account's", async () => {
    const other = await srv.newAccount('stockade-audit-other-admin');
    // A change in the other account's own fence, which its fence-admin does see.
    const df = new DatafenceClient({ endpoint: srv.url, ...other });
    const otherFence = (await df.getDatafence())[0]!.fenceId;
    const nas = (await df.getDatafenceInfraList({ fenceId: otherFence })).content.find((i) => i.infraType === 'FENCE_NAS')!;
    await df.changeFenceNasVolume({ fenceId: otherFence, instanceNo: nas.instanceNo, volumeSize: 600 });
    const { events } = await client(await srv.newKey('fence-admin', other.accountId)).listAuditEvents({ limit: 200 });
    assert.ok(events.some((e) => e.fenceId === otherFence && e.accessKeyId === other.accessKeyId), JSON.stringify(events));
    assert.ok(events.every((e) => e.fenceId === otherFence && e.accessKeyId !== srv.accessKeyId), JSON.stringify(events));
  });

  test('a box-user key is refused (401/210)', async () => {
    await rejects(client(await srv.newKey('box-user')).listAuditEvents(), 401, '210');
  });

  test('an out-of-range limit or before is invalidParameter (400/10001)', async () => {
    await rejects(owner.listAuditEvents({ limit: 0 }), 400, '10001');
    await rejects(owner.listAuditEvents({ limit: 201 }), 400, '10001');
    await rejects(owner.listAuditEvents({ before: 0 }), 400, '10001');
    await rejects(owner.call(StockadeClient.operations.listAuditEvents, { before: 'x' }), 400, '10001');
  });
});

describe('verify-audit-chain', () => {
  test('says the chain is intact, with no counts of other accounts', async () => {
    const r = await owner.verifyAuditChain();
    assert.deepEqual(Object.keys(r).sort(), ['intact', 'problemCount', 'verifiedAt']);
    assert.equal(r.intact, true);
    assert.equal(r.problemCount, 0);
  });

  test('calls close together share one walk of the chain (its verifiedAt says when it ran)', async () => {
    const [a, b] = await Promise.all([owner.verifyAuditChain(), owner.verifyAuditChain()]);
    const c = await owner.verifyAuditChain();
    assert.equal(a.verifiedAt, b.verifiedAt);
    assert.ok(Date.parse(c.verifiedAt) >= Date.parse(a.verifiedAt));
  });

  test('reports a broken chain when a row was edited behind its back', async () => {
    const s = await startTestServer('stockade_api_broken');
    try {
      const df = new DatafenceClient(s.creds);
      const fid = (await df.getDatafence())[0]!.fenceId;
      const nas = (await df.getDatafenceInfraList({ fenceId: fid })).content.find((i) => i.infraType === 'FENCE_NAS')!;
      await df.changeFenceNasVolume({ fenceId: fid, instanceNo: nas.instanceNo, volumeSize: 700 });
      await s.app.ctx.store.db.updateTable('audit_events').set({ action: 'forged.action' }).execute();
      const r = await new StockadeClient(s.creds).verifyAuditChain();
      assert.equal(r.intact, false);
      assert.ok(r.problemCount > 0);
    } finally {
      await s.close();
    }
  });

  test('a fence-admin or box-user key is refused (401/210)', async () => {
    for (const role of ['fence-admin', 'box-user'] as const) {
      await rejects(client(await srv.newKey(role)).verifyAuditChain(), 401, '210');
    }
  });
});
