/** Datafence and Data Flow over a real socket, driven by the SDK, plus raw requests for auth failures. */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DatafenceClient, DataFlowClient, ncpSignHeaders, PRODUCT_CODES } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/ncp.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('ncp');
});
after(async () => {
  await srv.close();
});


/** A raw signed NCP request, for cases the SDK would never send. */
async function rawNcp(
  method: string,
  target: string,
  opts: { secret?: string; accessKey?: string; timestamp?: number; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; text: string }> {
  const signed = ncpSignHeaders({
    method,
    requestTarget: target,
    accessKey: opts.accessKey ?? srv.accessKeyId,
    secretKey: opts.secret ?? srv.secretAccessKey,
    timestamp: opts.timestamp ?? Date.now(),
  });
  const res = await fetch(srv.url + target, {
    method,
    headers: { ...signed, ...opts.headers },
    body: opts.body,
  });
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, text };
}

describe('Datafence get-product-spec', () => {
  test('answers a bare array covering every documented product code', async () => {
    const df = new DatafenceClient(srv.creds);
    const specs = await df.getProductSpec({});
    assert.ok(Array.isArray(specs));
    assert.deepEqual(new Set(specs.map((s) => s.productCode)), new Set(PRODUCT_CODES));
    const worker = specs.find((s) => s.productCode === 'HD_WORKER')!;
    assert.deepEqual([worker.defaultQuantity, worker.minQuantity, worker.maxQuantity], [2, 2, 8]);
    assert.ok(worker.specCodeList.some((s) => s.specCode === 'SVR.VCHDP.MSTDT.STAND.C004.M016.NET.HDD.B050.G002'));
    for (const p of specs) assert.ok(p.specCodeList.length > 0, `${p.productCode} has specs`);
  });
});

describe('Datafence get-datafence', () => {
  test("lists the account's default fence with a localised status name", async () => {
    const en = await new DatafenceClient(srv.creds).getDatafence({});
    assert.equal(en.length, 1);
    const f = en[0]!;
    assert.equal(f.fenceName, 'fence-1');
    assert.equal(f.statusCode, 'USE');
    assert.equal(f.statusName, 'In use');
    // Its own review bucket, named after it and unique in the store (bucket names are global).
    assert.match(f.exportScreenBucketName, /^fence-1-review-\d+$/);
    assert.match(f.createDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$/);
    const ko = await new DatafenceClient({ ...srv.creds, lang: 'ko-KR' }).getDatafence({});
    assert.equal(ko[0]!.statusName, '이용중');
  });

  test("another account sees only its own fences", async () => {
    const other = await srv.newAccount('other-ncp');
    const mine = await new DatafenceClient(srv.creds).getDatafence({});
    const theirs = await new DatafenceClient({ endpoint: srv.url, ...other }).getDatafence({});
    assert.equal(theirs.length, 1);
    assert.notEqual(theirs[0]!.fenceId, mine[0]!.fenceId);
  });
});

describe('Datafence get-box-custom-image', () => {
  test('answers an empty content list for a fence without images', async () => {
    const df = new DatafenceClient(srv.creds);
    const [fence] = await df.getDatafence({});
    assert.deepEqual(await df.getBoxCustomImage({ fenceId: fence!.fenceId, productCode: 'CON' }), { content: [] });
  });

  test('refuses an unknown fence with 2600053', async () => {
    await rejects(new DatafenceClient(srv.creds).getBoxCustomImage({ fenceId: 999999, productCode: 'CON' }), 400, '2600053');
  });

  test("refuses another account's fence with 2600053, revealing nothing", async () => {
    const other = await srv.newAccount('other-img');
    const [theirs] = await new DatafenceClient({ endpoint: srv.url, ...other }).getDatafence({});
    await rejects(
      new DatafenceClient(srv.creds).getBoxCustomImage({ fenceId: theirs!.fenceId, productCode: 'CON' }),
      400,
      '2600053',
    );
  });

  test('refuses a product code outside the documented set with 10001', async () => {
    const r = await rawNcp('GET', '/api/v1/box/get-box-custom-image?fenceId=1&productCode=BOX');
    assert.equal(r.status, 400);
    assert.equal((r.body as { error: { errorCode: string } }).error.errorCode, '10001');
  });

  test('refuses a missing or non-integer fenceId with 10001', async () => {
    for (const q of ['productCode=CON', 'fenceId=abc&productCode=CON', 'fenceId=1.5&productCode=CON']) {
      const r = await rawNcp('GET', `/api/v1/box/get-box-custom-image?${q}`);
      assert.equal(r.status, 400, q);
      const err = (r.body as { error: { errorCode: string; details: string } }).error;
      assert.equal(err.errorCode, '10001', q);
      assert.match(err.details, /fenceId/);
    }
  });
});

describe('NCP signature v2 verification', () => {
  const target = '/api/v1/product/get-product-spec';
  const expectAuthFailed = (r: { status: number; body: unknown }) => {
    assert.equal(r.status, 401);
    const err = (r.body as { error: { errorCode: string; message: string } }).error;
    assert.equal(err.errorCode, '200');
    assert.equal(err.message, 'Authentication Failed');
  };

  test('refuses a request without the signature headers', async () => {
    const res = await fetch(srv.url + target);
    const body = (await res.json()) as { error: { errorCode: string; details: string } };
    assert.equal(res.status, 401);
    assert.deepEqual(body.error.errorCode, '200');
    assert.equal(body.error.details, 'Authentication information are missing.');
  });

  test('refuses a signature made with the wrong secret', async () => {
    expectAuthFailed(await rawNcp('GET', target, { secret: 'not-the-secret' }));
  });

  test('refuses an unknown access key', async () => {
    expectAuthFailed(await rawNcp('GET', target, { accessKey: 'NOSUCHKEY0000000000' }));
  });

  test('refuses a timestamp 5 minutes or more away, accepts one just inside', async () => {
    expectAuthFailed(await rawNcp('GET', target, { timestamp: Date.now() - 300_500 }));
    expectAuthFailed(await rawNcp('GET', target, { timestamp: Date.now() + 300_500 }));
    assert.equal((await rawNcp('GET', target, { timestamp: Date.now() - 290_000 })).status, 200);
  });

  test('refuses a request whose query was changed after signing', async () => {
    const signed = ncpSignHeaders({ method: 'GET', requestTarget: `${target}?a=1`, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey });
    const res = await fetch(`${srv.url}${target}?a=2`, { headers: signed });
    expectAuthFailed({ status: res.status, body: await res.json() });
  });

  /** Headers signed for `signedTarget`, sent on `sentTarget`. */
  const replay = async (signedTarget: string, sentTarget: string) => {
    const signed = ncpSignHeaders({ method: 'GET', requestTarget: signedTarget, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey });
    const res = await fetch(srv.url + sentTarget, { headers: signed });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('accepts a client that signed the decoded form of a query with spaces, Korean text and reserved characters', async () => {
    for (const name of ['daily sales', '한글 작업', 'a+b', '50%', 'x#y', "it's"]) {
      const sent = `/api/v1/jobs?name=${encodeURIComponent(name)}&limit=5`;
      const r = await replay(`/api/v1/jobs?name=${name}&limit=5`, sent);
      assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body as { limit: number }).limit, 5);
    }
  });

  test('refuses a signature replayed on a query the server reads differently (an encoded = or & changes the parameters)', async () => {
    // Signed for page=0 and limit=5; `limit%3D5` is one parameter named "limit=5".
    expectAuthFailed(await replay('/api/v1/jobs?page=0&limit=5', '/api/v1/jobs?page=0&limit%3D5'));
    expectAuthFailed(await replay('/api/v1/jobs?name=a&limit=5', '/api/v1/jobs?name=a%26limit%3D5'));
    expectAuthFailed(await replay('/api/v1/jobs?name=a&page=1', '/api/v1/jobs?name%3Da&page=1'));
    // Signed (as sent) for name "Abc" written %41bc; `%2541bc` decodes to the signed text but reads as "%41bc".
    expectAuthFailed(await replay('/api/v1/jobs?name=%41bc', '/api/v1/jobs?name=%2541bc'));
    // The genuine requests still pass.
    assert.equal((await replay('/api/v1/jobs?page=0&limit=5', '/api/v1/jobs?page=0&limit=5')).status, 200);
    assert.equal((await replay('/api/v1/jobs?name=%41bc', '/api/v1/jobs?name=%41bc')).status, 200);
  });

  test('accepts the signature under the legacy v1 header name', async () => {
    const signed = ncpSignHeaders({ method: 'GET', requestTarget: target, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey });
    const sig = signed['x-ncp-apigw-signature-v2']!;
    const res = await fetch(srv.url + target, {
      headers: {
        'x-ncp-apigw-timestamp': signed['x-ncp-apigw-timestamp']!,
        'x-ncp-iam-access-key': srv.accessKeyId,
        'x-ncp-apigw-signature-v1': sig,
      },
    });
    assert.equal(res.status, 200);
  });

  test('refuses a revoked key', async () => {
    const k = await srv.newKey('box-user');
    assert.equal((await rawNcp('GET', target, { accessKey: k.accessKeyId, secret: k.secretAccessKey })).status, 200);
    await srv.app.ctx.iam.revokeKey(k.accessKeyId);
    expectAuthFailed(await rawNcp('GET', target, { accessKey: k.accessKeyId, secret: k.secretAccessKey }));
  });
});

describe('gateway input handling (Datafence envelope)', () => {
  const errorOf = (r: { body: unknown }) => (r.body as { error: { errorCode: string } }).error.errorCode;

  test('malformed JSON is 400/10001, never a 500', async () => {
    const r = await rawNcp('POST', '/api/v1/box/return-box', { body: '{"fenceId":', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(errorOf(r), '10001');
  });

  test('a non-JSON content type is 400/10001', async () => {
    const r = await rawNcp('POST', '/api/v1/box/return-box', { body: 'fenceId=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 400);
    assert.equal(errorOf(r), '10001');
  });

  test('a body over 10 MiB is 413/430', async () => {
    const big = JSON.stringify({ fenceId: 1, boxId: 1, pad: 'x'.repeat(10 * 1024 * 1024) });
    const r = await rawNcp('POST', '/api/v1/box/return-box', { body: big, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 413);
    assert.equal(errorOf(r), '430');
  });

  test('an out-of-range value is 400/10001 naming the field', async () => {
    const r = await rawNcp('GET', '/api/v1/box/get-box-list?fenceId=1&size=1000');
    assert.equal(r.status, 400);
    assert.match((r.body as { error: { details: string } }).error.details, /size/);
  });

  test('an unknown path is 404/300', async () => {
    const r = await rawNcp('GET', '/api/v1/box/no-such-thing');
    assert.equal(r.status, 404);
    assert.equal(errorOf(r), '300');
  });

  test('a body nested 10,000 deep is 400/10001 naming the limit, never a 500', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const r = await rawNcp('POST', '/api/v1/box/return-box', { body: `{"fenceId":1,"boxId":1,"x":${deep}}`, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(errorOf(r), '10001');
    assert.match((r.body as { error: { details: string } }).error.details, /deeper than 64/);
  });

  test('a NUL character in a query or body value is 400/10001 naming the field, on every database', async () => {
    const q = await rawNcp('GET', '/api/v1/export/get-export-list?fenceId=1&boxId=1&status=ab%00cd');
    assert.equal(q.status, 400, q.text);
    assert.equal(errorOf(q), '10001');
    assert.match((q.body as { error: { details: string } }).error.details, /^status .*NUL/);
    const b = await rawNcp('POST', '/api/v1/box/create-box', {
      body: JSON.stringify({
        fenceId: 1,
        description: 'a\u0000b',
        createBoxInfo: { connectServerList: [{ specCode: 'c', storageSize: 100 }], nasList: [{ nasSize: 500, count: 1 }] },
      }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(b.status, 400, b.text);
    assert.equal(errorOf(b), '10001');
    assert.match((b.body as { error: { details: string } }).error.details, /^description .*NUL/);
  });

  test("a body that is not UTF-8 is the gateway's 400/100 (encoding), not read with replacement characters", async () => {
    const body = Buffer.concat([Buffer.from('{"fenceId":1,"boxId":1,"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const r = await rawNcp('POST', '/api/v1/box/return-box', { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(errorOf(r), '100');
  });

  test("a request line over the header limit (a 100 KB query) is the gateway's 400/100, not a bare 431", async () => {
    const r = await rawNcp('GET', `/api/v1/box/get-box-list?fenceId=1&x=${'y'.repeat(100 * 1024)}`);
    assert.equal(r.status, 400, r.text);
    assert.equal(errorOf(r), '100');
    assert.match((r.body as { error: { details: string } }).error.details, /exceed \d+ bytes/);
  });

});

describe('Data Flow getJobs / getJobById', () => {
  test('getJobs answers the list envelope', async () => {
    const flow = new DataFlowClient(srv.creds);
    assert.deepEqual(await flow.getJobs({}), { list: [], count: 0, page: 0, limit: 1000 });
    assert.deepEqual(await flow.getJobs({ page: 2, limit: 5 }), { list: [], count: 0, page: 2, limit: 5 });
  });

  test('getJobById of an unknown id is a 404 problem with errorType resource-not-found/job', async () => {
    const e = await rejects(new DataFlowClient(srv.creds).getJobById({ jobId: 'abcdefABCDEF' }), 404, 'resource-not-found/job');
    const body = e.body as Record<string, unknown>;
    assert.equal(body.status, 404);
    assert.equal(body.title, 'Not Found');
    assert.equal(body.instance, '/api/v1/jobs/abcdefABCDEF');
    assert.equal(typeof body.detail, 'string');
  });

  test('a bad query value is a 400 bad-parameter problem', async () => {
    const r = await rawNcp('GET', '/api/v1/jobs?limit=0');
    assert.equal(r.status, 400);
    assert.equal((r.body as { errorType: string }).errorType, 'bad-parameter');
  });

  test('a page size or page beyond the declared maximum is a 400 bad-parameter problem, not a 500', async () => {
    for (const q of ['limit=9223372036854775807', 'page=9223372036854775807', 'limit=1001', 'page=1000001']) {
      const r = await rawNcp('GET', `/api/v1/jobs?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal((r.body as { errorType: string }).errorType, 'bad-parameter', q);
    }
    assert.equal((await rawNcp('GET', '/api/v1/jobs?limit=1000&page=1000000')).status, 200);
  });

  test("a path parameter that is not percent-encoded UTF-8 is the gateway's 400/100, on Data Flow too", async () => {
    for (const id of ['%zz', '%E0%A4']) {
      const r = await rawNcp('GET', `/api/v1/jobs/${id}`);
      assert.equal(r.status, 400, r.text);
      assert.equal((r.body as { error: { errorCode: string } }).error.errorCode, '100', id);
    }
  });

  test('a NUL in a job id or a name filter is a 400 bad-parameter problem naming it, not a 500 on PostgreSQL', async () => {
    for (const [target, field] of [['/api/v1/jobs/ab%00cd', /^jobId /], ['/api/v1/jobs?name=%00', /^name /]] as const) {
      const r = await rawNcp('GET', target);
      assert.equal(r.status, 400, `${target}: ${r.text}`);
      assert.equal((r.body as { errorType: string }).errorType, 'bad-parameter');
      assert.match((r.body as { detail: string }).detail, field);
    }
  });

  test('a body nested 10,000 deep is a 400 bad-parameter problem, not a 500', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const body = `{"name":"deep_trigger","type":"SCHEDULED","triggerRule":{"type":"RECURRING","interval":"WEEK","time":"10:00","dayOfWeek":${deep}}}`;
    const r = await rawNcp('POST', '/api/v1/triggers', { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, r.text);
    assert.equal((r.body as { errorType: string }).errorType, 'bad-parameter');
  });

  test('authentication failures use the gateway envelope on Data Flow too', async () => {
    const r = await rawNcp('GET', '/api/v1/jobs', { secret: 'wrong' });
    assert.equal(r.status, 401);
    assert.equal((r.body as { error: { errorCode: string } }).error.errorCode, '200');
  });
});
