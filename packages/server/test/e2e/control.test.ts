/** Dev-profile test controls and the OpenAPI document. */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { DatafenceClient, allOperations, ncpSignHeaders } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { handlerTables } from '../../src/platform/registry.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('control');
});
after(async () => {
  await srv.close();
});

/** A control request as documented: POST with `x-stockade-control: 1`. */
const post = (path: string, body?: unknown) =>
  fetch(srv.url + path, {
    method: 'POST',
    headers: { 'x-stockade-control': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A raw request with a Host header of our choosing (fetch does not let a caller set Host). */
function rawControl(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string; contentType: string | undefined }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), contentType: res.headers['content-type'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('test controls (dev profile)', () => {
  test('GET /_stockade/health reports ok, the profile and the database', async () => {
    const res = await fetch(srv.url + '/_stockade/health');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; profile: string; database: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.profile, 'dev');
    assert.ok(['sqlite', 'postgres'].includes(body.database));
  });

  test('POST /_stockade/tasks/run runs due probe tasks and reports how many ran', async () => {
    const enq = await post('/_stockade/tasks', { kind: 'probe', count: 3, ms: 0 });
    assert.equal(enq.status, 200);
    await post('/_stockade/tasks/run');
    const rows = await srv.app.ctx.store.db.selectFrom('probe_runs').select('task_id').execute();
    assert.ok(rows.length >= 3);
  });

  test('POST /_stockade/tasks refuses an unknown kind', async () => {
    const res = await post('/_stockade/tasks', { kind: 'nope' });
    assert.equal(res.status, 400);
  });

  test('POST /_stockade/transitions changes a kind at run time; bad input is 400', async () => {
    const res = await post('/_stockade/transitions', { box: 'manual', export: 'delay:2500' });
    assert.equal(res.status, 200);
    const now = (await res.json()) as Record<string, string>;
    assert.equal(now.box, 'manual');
    assert.equal(now.export, 'delay:2500');
    assert.equal((await post('/_stockade/transitions', { box: 'sometimes' })).status, 400);
  });

  test('POST /_stockade/gc collects content no row names, after the given grace (default 0); bad input is 400', async () => {
    const orphan = await srv.app.ctx.blobs.put(Readable.from([Buffer.from('orphaned bytes')]));
    assert.ok(await srv.app.ctx.blobs.stat(orphan.id));
    const graced = await post('/_stockade/gc', { olderThanMs: 3_600_000 });
    assert.equal(graced.status, 200);
    assert.equal(((await graced.json()) as { deleted: number }).deleted, 0);
    assert.ok(await srv.app.ctx.blobs.stat(orphan.id), 'younger than the grace: kept');
    const res = await post('/_stockade/gc');
    assert.equal(res.status, 200);
    const r = (await res.json()) as { scanned: number; deleted: number; deletedTemp: number; bytesFreed: number };
    assert.ok(r.scanned >= 1);
    assert.ok(r.deleted >= 1);
    assert.ok(r.bytesFreed >= orphan.size);
    assert.equal(await srv.app.ctx.blobs.stat(orphan.id), null);
    for (const bad of [{ olderThanMs: -1 }, { olderThanMs: 'soon' }, { olderThanMs: 1.5 }]) {
      const b = await post('/_stockade/gc', bad);
      assert.equal(b.status, 400, JSON.stringify(bad));
      await b.arrayBuffer();
    }
  });

  test('POST /_stockade/reset wipes state but keeps the bootstrap key and the default fence', async () => {
    await post('/_stockade/tasks', { kind: 'probe', count: 2, ms: 0 });
    const res = await post('/_stockade/reset');
    assert.equal(res.status, 200);
    const tasks = await srv.app.ctx.store.db.selectFrom('tasks').selectAll().execute();
    assert.equal(tasks.length, 0);
    const fences = await new DatafenceClient(srv.creds).getDatafence({});
    assert.equal(fences.length, 1);
    assert.equal(fences[0]!.fenceName, 'fence-1');
    const transitions = (await (await fetch(srv.url + '/_stockade/transitions')).json()) as Record<string, string>;
    assert.equal(transitions.box, undefined);
  });
});

describe('test controls refuse cross-site requests', () => {
  const port = () => new URL(srv.url).port;
  const taskCount = async () => (await srv.app.ctx.store.db.selectFrom('tasks').select('id').execute()).length;
  const expectRefused = (r: { status: number; body: string; contentType: string | undefined }, why: RegExp) => {
    assert.equal(r.status, 403, r.body);
    assert.match(r.contentType ?? '', /^application\/json/);
    assert.match((JSON.parse(r.body) as { error: string }).error, why);
  };

  test('a simple (form-like) POST from a foreign page is refused and changes nothing', async () => {
    await post('/_stockade/tasks', { kind: 'probe', count: 1, ms: 0 });
    const before = await taskCount();
    assert.ok(before > 0);
    const r = await rawControl(srv.url, 'POST', '/_stockade/reset', {
      host: `127.0.0.1:${port()}`,
      origin: 'http://attacker.example',
      'content-type': 'text/plain',
    }, '{}');
    expectRefused(r, /origin/i);
    assert.equal(await taskCount(), before);
  });

  test('a POST without x-stockade-control: 1 is refused, whatever its content type', async () => {
    for (const type of ['text/plain', 'application/json', 'application/x-www-form-urlencoded']) {
      const r = await rawControl(srv.url, 'POST', '/_stockade/tasks', { host: `127.0.0.1:${port()}`, 'content-type': type }, '{"kind":"probe"}');
      expectRefused(r, /x-stockade-control/);
    }
    const wrong = await rawControl(srv.url, 'POST', '/_stockade/reset', { host: `127.0.0.1:${port()}`, 'x-stockade-control': '0' });
    expectRefused(wrong, /x-stockade-control/);
  });

  test('a foreign or opaque Origin is refused even with the header', async () => {
    for (const origin of ['http://attacker.example', 'null', `http://127.0.0.1.attacker.example:${port()}`, 'https://localhost.attacker.example']) {
      const r = await rawControl(srv.url, 'POST', '/_stockade/tasks/run', { host: `127.0.0.1:${port()}`, origin, 'x-stockade-control': '1' });
      expectRefused(r, /origin/i);
    }
  });

  test('a Host that is not a loopback name is refused (DNS rebinding), for reads too', async () => {
    for (const [method, path] of [['GET', '/_stockade/health'], ['GET', '/_stockade/transitions'], ['POST', '/_stockade/tasks/run']] as const) {
      const r = await rawControl(srv.url, method, path, { host: `attacker.example:${port()}`, 'x-stockade-control': '1' });
      expectRefused(r, /host/i);
    }
  });

  test('loopback hosts and origins, on any port, are accepted', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `LOCALHOST`, `[::1]:${port()}`]) {
      const r = await rawControl(srv.url, 'POST', '/_stockade/tasks/run', { host, 'x-stockade-control': '1' });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
    }
    for (const origin of [`http://127.0.0.1:${port()}`, 'http://localhost:3000', 'https://[::1]']) {
      const r = await rawControl(srv.url, 'POST', '/_stockade/tasks/run', { host: `127.0.0.1:${port()}`, origin, 'x-stockade-control': '1' });
      assert.equal(r.status, 200, `${origin}: ${r.body}`);
    }
  });

  test('the OpenAPI document is served whatever the Host and Origin (it is the same public document for everyone)', async () => {
    const r = await rawControl(srv.url, 'GET', '/_stockade/openapi.json', { host: 'docs.example', origin: 'http://docs.example' });
    assert.equal(r.status, 200);
  });

  test('--allowed-hosts adds names (and their origins) to the loopback ones', async () => {
    const named = await startTestServer('control_hosts', { config: { allowedHosts: ['stockade.internal', 'CI-Runner'] } });
    try {
      const p = new URL(named.url).port;
      for (const host of [`stockade.internal:${p}`, 'ci-runner', `127.0.0.1:${p}`]) {
        const r = await rawControl(named.url, 'POST', '/_stockade/tasks/run', { host, origin: `http://${host}`, 'x-stockade-control': '1' });
        assert.equal(r.status, 200, `${host}: ${r.body}`);
      }
      expectRefused(await rawControl(named.url, 'GET', '/_stockade/health', { host: 'other.internal' }), /host/i);
    } finally {
      await named.close();
    }
  });
});

describe('OpenAPI document', () => {
  test('describes every declared operation with its service tag and implementation state', async () => {
    const res = await fetch(srv.url + '/_stockade/openapi.json');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string; tags: string[]; 'x-stockade-implemented': boolean }>> };
    assert.equal(doc.openapi, '3.1.0');
    const ids = new Set(Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId)));
    for (const { key, def } of allOperations()) assert.ok(ids.has(`${def.service}.${key}`), `${def.service}.${key}`);
    assert.equal(doc.paths['/api/v1/product/get-product-spec']!.get!['x-stockade-implemented'], true);
    assert.equal(doc.paths['/v1/cfs?tag']!.post!['x-stockade-implemented'], true);
    assert.equal(doc.paths['/api/v1/box/get-box-list']!.get!['x-stockade-implemented'], Boolean(handlerTables().datafence['getBoxList']));
  });
});

describe('secure profile', () => {
  test('has no test controls', async () => {
    const secure = await startTestServer('secure', { config: { profile: 'secure' } });
    try {
      for (const [method, path] of [['GET', '/_stockade/health'], ['POST', '/_stockade/reset'], ['POST', '/_stockade/tasks/run'], ['POST', '/_stockade/gc']] as const) {
        const res = await fetch(secure.url + path, { method, headers: { 'x-stockade-control': '1' } });
        assert.notEqual(res.status, 200, path);
        await res.arrayBuffer();
      }
      assert.equal((await new DatafenceClient(secure.creds).getProductSpec({})).length > 0, true);
    } finally {
      await secure.close();
    }
  });
});

describe('strict mode', () => {
  test('rejects unknown body fields, naming them', async () => {
    const strict = await startTestServer('strict', { config: { strict: true } });
    try {
      // The SDK only sends declared fields, so send this one by hand.
      const target = '/api/v1/export-approval/export-file-approve';
      const headers = ncpSignHeaders({ method: 'PATCH', requestTarget: target, accessKey: strict.accessKeyId, secretKey: strict.secretAccessKey });
      const res = await fetch(strict.url + target, {
        method: 'PATCH',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ fenceId: 1, boxId: 1, fileId: 1, extra: 1 }),
      });
      const body = (await res.json()) as { error: { errorCode: string; details: string } };
      assert.equal(res.status, 400);
      assert.equal(body.error.errorCode, '10001');
      assert.match(body.error.details, /extra/);
    } finally {
      await strict.close();
    }
  });
});
