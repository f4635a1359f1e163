/**
 * Paging and filters of the list operations, with data, on SQLite and PostgreSQL alike: Data Flow
 * getJobs (name filter with LIKE metacharacters, status, page/limit, newest first with ties in byte
 * order) and CFS QueryFileSystem (marker paging, fsId lists, filterTag). Rows are put in through the
 * services' repositories (CFS: to pin ids that differ only in case; its own tests create through the API).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CfsClient, DataFlowClient } from '@stockade/sdk';
import { DataflowRepository } from '../../src/services/dataflow/repository.js';
import { CfsRepository } from '../../src/services/cfs/repository.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let flow: DataFlowClient;
let cfs: CfsClient;
const T0 = Date.UTC(2025, 3, 21, 2, 0, 0);

before(async () => {
  srv = await startTestServer('listing');
  flow = new DataFlowClient(srv.creds);
  cfs = new CfsClient(srv.creds);
  const store = srv.app.ctx.store;
  const jobs = new DataflowRepository(store);
  const job = (id: string, name: string, created: number, status = 'RUNNABLE') =>
    store.tx((trx) =>
      jobs.insertJob(trx, {
        id,
        account_id: srv.accountId,
        name,
        description: '',
        type: 'DATAFLOW',
        status,
        doc: JSON.stringify({ nodes: [], runCondition: {}, maxConcurrentRuns: 1 }),
        last_execution_status: null,
        last_execution_at: null,
        created_at: created,
        updated_at: created,
      }),
    );
  await job('job000000001', 'sales_2024', T0);
  await job('job000000002', 'salesX2024', T0 + 1000);
  await job('job000000003', 'SALES_report', T0 + 2000, 'STOPPED');
  await job('job000000004', 'cost%share', T0 + 3000);
  await job('job000000005', 'costly', T0 + 4000);
  // Same creation time: ordered by id, byte by byte ('B' < 'a').
  await job('aaaaaaaaaaaa', 'tie_lower', T0 + 5000);
  await job('BBBBBBBBBBBB', 'tie_upper', T0 + 5000);

  const fss = new CfsRepository(store);
  const fs = (id: string, tags: Array<{ tagKey: string; tagValue: string }>, accountId = srv.accountId) =>
    store.tx((trx) =>
      fss.insertFileSystem(
        trx,
        {
          id,
          account_id: accountId,
          name: `name-${id}`,
          type: 'cap',
          protocol: 'nfs',
          status: 'available',
          vpc_id: 'vpc-default',
          zone: 'zoneA',
          capacity_quota: 0,
          volume_id: `cfs-listing-${id}`,
          created_at: T0,
        },
        tags,
      ),
    );
  await fs('cfs-AAAAAAAAAA', [{ tagKey: 'team', tagValue: 'red' }]);
  await fs('cfs-BBBBBBBBBB', [{ tagKey: 'team', tagValue: 'blue' }, { tagKey: 'env', tagValue: 'prod' }]);
  await fs('cfs-aaaaaaaaaa', []);
  await fs('cfs-bbbbbbbbbb', [{ tagKey: 'team', tagValue: 'red' }]);
  await fs('cfs-cccccccccc', [{ tagKey: 'env', tagValue: 'dev' }]);
  await fs('cfs-zzzzzzzzzz', [{ tagKey: 'team', tagValue: 'red' }], '999999999999');
});
after(async () => {
  await srv.close();
});

describe('Data Flow getJobs', () => {
  const names = async (q: Parameters<DataFlowClient['getJobs']>[0]) => (await flow.getJobs(q)).list.map((j) => j.name);

  test('lists newest first; equal times in byte order of the id', async () => {
    assert.deepEqual(await names({}), ['tie_upper', 'tie_lower', 'costly', 'cost%share', 'SALES_report', 'salesX2024', 'sales_2024']);
  });

  test('the name filter is a case-insensitive substring where % and _ are literal', async () => {
    assert.deepEqual(await names({ name: 'sales_' }), ['SALES_report', 'sales_2024']);
    assert.deepEqual(await names({ name: 'SALES' }), ['SALES_report', 'salesX2024', 'sales_2024']);
    assert.deepEqual(await names({ name: 'cost%' }), ['cost%share']);
    assert.deepEqual(await names({ name: '%' }), ['cost%share']);
    assert.deepEqual(await names({ name: 'nothing-like-it' }), []);
  });

  test('status filter and paging with the total count', async () => {
    assert.deepEqual(await names({ status: 'STOPPED' }), ['SALES_report']);
    const p0 = await flow.getJobs({ page: 0, limit: 3 });
    const p2 = await flow.getJobs({ page: 2, limit: 3 });
    assert.equal(p0.count, 7);
    assert.deepEqual(p0.list.map((j) => j.jobId), ['BBBBBBBBBBBB', 'aaaaaaaaaaaa', 'job000000005']);
    assert.deepEqual(p2.list.map((j) => j.jobId), ['job000000001']);
    assert.deepEqual({ ...p2, list: [] }, { list: [], count: 7, page: 2, limit: 3 });
    const filtered = await flow.getJobs({ name: 'sales', limit: 1, page: 1 });
    assert.equal(filtered.count, 3);
    assert.deepEqual(filtered.list.map((j) => j.name), ['salesX2024']);
  });

  test('another account sees none of them', async () => {
    const other = await srv.newAccount('listing-other');
    assert.deepEqual(await new DataFlowClient({ endpoint: srv.url, ...other }).getJobs({}), { list: [], count: 0, page: 0, limit: 1000 });
  });
});

describe('CFS QueryFileSystem', () => {
  test('marker paging walks every file system once, in byte order of the id', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    const pages: Array<{ marker?: string; isTruncated: boolean; nextMarker?: string; n: number }> = [];
    for (;;) {
      const r = await cfs.queryFileSystem({ maxKeys: 2, ...(marker ? { marker } : {}) });
      seen.push(...r.fileSystemList.map((f) => f.fsId));
      pages.push({ ...(r.marker !== undefined ? { marker: r.marker } : {}), isTruncated: r.isTruncated, ...(r.nextMarker ? { nextMarker: r.nextMarker } : {}), n: r.fileSystemList.length });
      if (!r.isTruncated) break;
      marker = r.nextMarker;
    }
    assert.deepEqual(seen, ['cfs-AAAAAAAAAA', 'cfs-BBBBBBBBBB', 'cfs-aaaaaaaaaa', 'cfs-bbbbbbbbbb', 'cfs-cccccccccc']);
    assert.deepEqual(pages, [
      { marker: '', isTruncated: true, nextMarker: 'cfs-aaaaaaaaaa', n: 2 },
      { marker: 'cfs-aaaaaaaaaa', isTruncated: true, nextMarker: 'cfs-cccccccccc', n: 2 },
      { marker: 'cfs-cccccccccc', isTruncated: false, n: 1 },
    ]);
  });

  test('fsId lists and filterTag (key:value, key:@@@) filter in the query, with their tags shown', async () => {
    const ids = async (q: Parameters<CfsClient['queryFileSystem']>[0]) => (await cfs.queryFileSystem(q)).fileSystemList.map((f) => f.fsId);
    assert.deepEqual(await ids({ fsId: 'cfs-cccccccccc,cfs-AAAAAAAAAA,cfs-zzzzzzzzzz' }), ['cfs-AAAAAAAAAA', 'cfs-cccccccccc']);
    assert.deepEqual(await ids({ filterTag: 'team:red' }), ['cfs-AAAAAAAAAA', 'cfs-bbbbbbbbbb']);
    assert.deepEqual(await ids({ filterTag: 'env:@@@' }), ['cfs-BBBBBBBBBB', 'cfs-cccccccccc']);
    assert.deepEqual(await ids({ filterTag: 'team:red', maxKeys: 1 }), ['cfs-AAAAAAAAAA']);
    const r = await cfs.queryFileSystem({ filterTag: 'team:red', maxKeys: 1 });
    assert.equal(r.isTruncated, true);
    assert.equal(r.nextMarker, 'cfs-bbbbbbbbbb');
    const b = (await cfs.queryFileSystem({ fsId: 'cfs-BBBBBBBBBB' })).fileSystemList[0]!;
    assert.deepEqual(b.tags, [{ tagKey: 'team', tagValue: 'blue' }, { tagKey: 'env', tagValue: 'prod' }]);
  });
});
