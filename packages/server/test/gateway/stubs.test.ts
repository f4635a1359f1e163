/**
 * The gateway's promises around a handler, tested with stub handlers so that none of them depends
 * on an operation being implemented or not: every service's "not implemented" envelope, roles
 * before handlers, idempotency declared in the operation table, one transaction per request with
 * its tasks and audit events, and the contract checks that hold answers to the operation table.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CfsClient, DatafenceClient, DataFlowClient } from '@stockade/sdk';
import { ApiError } from '../../src/platform/errors.js';
import type { Handler } from '../../src/platform/service.js';
import type { RequestContext } from '../../src/context.js';
import { ManualClock } from '../../src/tasks/clock.js';
import { asDb, type CoreDatabase } from '../../src/store/schema.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { stubService } from '../helpers/stubs.js';
import { rejects } from '../helpers/ncp.js';


const clock = new ManualClock(Date.now());
let srv: TestServer;
/** What the stub handlers saw and did. */
const seen = { creates: 0, inputs: [] as unknown[] };
let release: (() => void) | undefined;
let gateUsed = false;

const cfsHandlers: Record<string, Handler> = {
  // A create that records its effect (an audit event) and its answer in one transaction.
  async createFileSystem(ctx: RequestContext, input: { fsName: string }) {
    // The first slow call waits until the test releases it.
    if (input.fsName.startsWith('slow') && !gateUsed) {
      gateUsed = true;
      await new Promise<void>((r) => (release = r));
    }
    const n = ++seen.creates;
    const answer = await ctx.tx(async (trx) => {
      await ctx.audit(trx, 'cfs.CreateFileSystem', `cfs/fs-${n}`);
      return { fsId: `cfs-${String(n).padStart(10, '0')}` };
    });
    // A failure after the commit (a crash, in effect): the recorded answer still stands.
    if (input.fsName.startsWith('crash')) throw new Error('the process died after committing');
    return answer;
  },
  async queryFileSystem(_ctx: RequestContext, input: unknown) {
    seen.inputs.push(input);
    return { fileSystemList: [], isTruncated: false, maxKeys: 1000 };
  },
  // Off-contract on purpose: an error code GetFsQuota does not declare.
  async getFsQuota(ctx: RequestContext) {
    throw new ApiError(409, 'DropMountedFS', 'not a GetFsQuota error', undefined);
    return ctx;
  },
};

const datafenceHandlers: Record<string, Handler> = {
  async exportFileApprove() {
    return { message: 'approved' };
  },
  // Off-contract on purpose: a body that does not match get-product-spec's response schema.
  async getProductSpec() {
    return { notAnArray: true };
  },
  // Enqueues a task and writes an audit event in the request's transaction, then fails.
  async returnBox(ctx: RequestContext, input: { boxId: number }) {
    await ctx.tx(async (trx) => {
      await ctx.app.runner.enqueue('probe', { ms: 0 }, { db: trx });
      await ctx.audit(trx, 'box.return', `box/${input.boxId}`);
      if (input.boxId === 13) throw new ApiError(400, '10001', 'unlucky box');
    });
    return { message: 'returned' };
  },
};

before(async () => {
  srv = await startTestServer('stubs', {
    clock,
    replaceServices: [
      stubService('cfs', cfsHandlers),
      stubService('datafence', datafenceHandlers),
      stubService('dataflow', {}),
    ],
  });
});
after(async () => {
  await srv.close();
});

const auditCount = async (resource: string) =>
  Number(
    (
      await asDb<CoreDatabase>(srv.app.ctx.store.db)
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('resource', '=', resource)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('an operation without a handler answers in its own service envelope', () => {
  test('Datafence: 500 / 10007', async () => {
    const e = await rejects(new DatafenceClient(srv.creds).getBoxList({ fenceId: 1 }), 500, '10007');
    assert.match(JSON.stringify(e.body), /get-box-list is not implemented/);
  });
  test('Data Flow: 501 problem with errorType not-implemented', async () => {
    await rejects(new DataFlowClient(srv.creds).getTriggers({}), 501, 'not-implemented');
  });
  test('CFS: 501 NotImplemented', async () => {
    await rejects(new CfsClient(srv.creds).queryAccessGroups({}), 501, 'NotImplemented');
  });
});

describe('roles are checked before the handler runs', () => {
  test('a box user gets 401/210 on export review; a fence admin reaches the handler', async () => {
    const analyst = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
    await rejects(analyst.exportFileApprove({ fenceId: 1, boxId: 1, fileId: 1 }), 401, '210');
    const reviewer = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('fence-admin')) });
    assert.deepEqual(await reviewer.exportFileApprove({ fenceId: 1, boxId: 1, fileId: 1 }), { message: 'approved' });
  });
});

describe('one transaction per request: its tasks and audit events commit or roll back with it', () => {
  test('a request that commits leaves its task and its audit event; one that fails leaves neither', async () => {
    const df = new DatafenceClient(srv.creds);
    const tasksBefore = await srv.app.ctx.store.db.selectFrom('tasks').select('id').execute();
    assert.deepEqual(await df.returnBox({ fenceId: 1, boxId: 12 }), { message: 'returned' });
    await rejects(df.returnBox({ fenceId: 1, boxId: 13 }), 400, '10001');
    const tasksAfter = await srv.app.ctx.store.db.selectFrom('tasks').select('id').execute();
    assert.equal(tasksAfter.length - tasksBefore.length, 1);
    assert.equal(await auditCount('box/12'), 1);
    assert.equal(await auditCount('box/13'), 0);
  });
});

describe('idempotency, declared in the operation table (CFS clientToken), applied by the gateway', () => {
  const cfs = () => new CfsClient(srv.creds);

  test('a retry with the same token and parameters gets the first answer; the operation ran once', async () => {
    const before = seen.creates;
    const first = await cfs().createFileSystem({ clientToken: 'tok-1', fsName: 'alpha', zone: 'zoneA' });
    const again = await cfs().createFileSystem({ clientToken: 'tok-1', fsName: 'alpha', zone: 'zoneA' });
    assert.deepEqual(again, first);
    assert.equal(seen.creates, before + 1);
    // Without a token every call runs.
    await cfs().createFileSystem({ fsName: 'alpha', zone: 'zoneA' });
    await cfs().createFileSystem({ fsName: 'alpha', zone: 'zoneA' });
    assert.equal(seen.creates, before + 3);
  });

  test('the same token with other parameters is 403 IdempotentParameterMismatch, and nothing runs', async () => {
    await cfs().createFileSystem({ clientToken: 'tok-2', fsName: 'beta', zone: 'zoneA' });
    const before = seen.creates;
    await rejects(cfs().createFileSystem({ clientToken: 'tok-2', fsName: 'gamma', zone: 'zoneA' }), 403, 'IdempotentParameterMismatch');
    assert.equal(seen.creates, before);
  });

  test('tokens are per account', async () => {
    const other = await srv.newAccount('idem-other');
    const before = seen.creates;
    await cfs().createFileSystem({ clientToken: 'tok-3', fsName: 'delta', zone: 'zoneA' });
    await new CfsClient({ endpoint: srv.url, ...other }).createFileSystem({ clientToken: 'tok-3', fsName: 'delta', zone: 'zoneA' });
    assert.equal(seen.creates, before + 2);
  });

  test('while the first request runs, a retry is 409 MultiRequestConflict; a token left pending by a crash frees up within a minute', async () => {
    const slow = cfs().createFileSystem({ clientToken: 'tok-4', fsName: 'slow-one', zone: 'zoneA' });
    while (!release) await new Promise((r) => setTimeout(r, 5));
    await rejects(cfs().createFileSystem({ clientToken: 'tok-4', fsName: 'slow-one', zone: 'zoneA' }), 409, 'MultiRequestConflict');
    // As if the first request's process died: its pending claim expires after a minute.
    clock.advance(61_000);
    const rerun = await cfs().createFileSystem({ clientToken: 'tok-4', fsName: 'slow-one', zone: 'zoneA' });
    release();
    const first = await slow;
    assert.notDeepEqual(rerun, first);
  });

  test('a request that committed its effects and then failed is replayed from its record, never run twice', async () => {
    await rejects(cfs().createFileSystem({ clientToken: 'tok-5', fsName: 'crash-one', zone: 'zoneA' }), 500, 'InternalError');
    const before = seen.creates;
    const replay = await cfs().createFileSystem({ clientToken: 'tok-5', fsName: 'crash-one', zone: 'zoneA' });
    assert.equal(seen.creates, before, 'not run again');
    assert.equal(replay.fsId, `cfs-${String(before).padStart(10, '0')}`);
  });
});

describe('contract checks hold every answer to the operation table', () => {
  test('an error the operation does not declare becomes a 500 and is recorded', async () => {
    await rejects(new CfsClient(srv.creds).getFsQuota({}), 500, 'InternalError');
    const v = srv.app.contract!.violations.splice(0);
    assert.equal(v.length, 1);
    assert.match(v[0]!, /GetFsQuota raised 409 DropMountedFS/);
  });

  test('a body off its response schema becomes a 500 and is recorded', async () => {
    await rejects(new DatafenceClient(srv.creds).getProductSpec({}), 500, '900');
    const v = srv.app.contract!.violations.splice(0);
    assert.equal(v.length, 1);
    assert.match(v[0]!, /get-product-spec answered a body that does not match its response schema/);
  });
});
