/** CFS over a real socket: the SDK's CfsClient, and requests signed by Baidu's own `@baiducloud/sdk` signer. */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CfsClient, StockadeApiError, bceAuthorization, bceSign, formatBceTimestamp } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';

// @baiducloud/sdk is CommonJS; load only its signer.
const require = createRequire(import.meta.url);
const { Auth } = require('@baiducloud/sdk') as typeof import('@baiducloud/sdk');

let srv: TestServer;
before(async () => {
  srv = await startTestServer('cfs');
});
after(async () => {
  await srv.close();
});

interface BceAnswer {
  status: number;
  requestIdHeader: string | null;
  body: { code?: string; message?: string; requestId?: string } & Record<string, unknown>;
}

/** GET /v1/cfs signed by Baidu's signer with host + x-bce-date (as the CFS doc examples do). */
async function baiduSigned(
  path: string,
  query: Record<string, string>,
  opts: { sk?: string; ak?: string; at?: Date; expiration?: number } = {},
): Promise<BceAnswer> {
  const at = opts.at ?? new Date();
  const host = new URL(srv.url).host;
  const xBceDate = at.toISOString().replace(/\.\d+Z$/, 'Z');
  const headers: Record<string, string> = { host, 'x-bce-date': xBceDate, 'content-type': 'application/json; charset=utf-8' };
  const auth = new Auth(opts.ak ?? srv.accessKeyId, opts.sk ?? srv.secretAccessKey);
  const authorization = auth.generateAuthorization('GET', path, query, headers, Math.floor(at.getTime() / 1000), opts.expiration ?? 1800, ['host', 'x-bce-date']);
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(`${srv.url}${path}${qs ? '?' + qs : ''}`, {
    headers: { 'x-bce-date': xBceDate, 'content-type': headers['content-type']!, authorization },
  });
  return { status: res.status, requestIdHeader: res.headers.get('x-bce-request-id'), body: (await res.json()) as BceAnswer['body'] };
}

describe('CFS QueryFileSystem', () => {
  test('answers an empty list with paging fields for a new account', async () => {
    const cfs = new CfsClient(srv.creds);
    assert.deepEqual(await cfs.queryFileSystem({}), { fileSystemList: [], isTruncated: false, maxKeys: 1000 });
    assert.deepEqual(await cfs.queryFileSystem({ maxKeys: 2, marker: '' }), { fileSystemList: [], isTruncated: false, maxKeys: 2 });
  });

  test('accepts a request signed by the Baidu SDK and answers with x-bce-request-id', async () => {
    const r = await baiduSigned('/v1/cfs', { maxKeys: '10' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.requestIdHeader ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(r.body, { fileSystemList: [], isTruncated: false, maxKeys: 10 });
  });

  test('refuses a Baidu-SDK request signed with the wrong secret: 403 SignatureDoesNotMatch', async () => {
    const r = await baiduSigned('/v1/cfs', {}, { sk: 'wrong-secret' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'SignatureDoesNotMatch');
    assert.equal(r.body.requestId, r.requestIdHeader);
  });

  test('refuses an expired signature: 400 RequestExpired', async () => {
    const r = await baiduSigned('/v1/cfs', {}, { at: new Date(Date.now() - 3600_000), expiration: 60 });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'RequestExpired');
    assert.match(r.body.message ?? '', /^Request has expired\. Timestamp date is /);
  });

  test('refuses a request time 30 minutes or more in the future: 403 RequestTimeTooSkewed', async () => {
    const r = await baiduSigned('/v1/cfs', {}, { at: new Date(Date.now() + 45 * 60_000) });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'RequestTimeTooSkewed');
  });

  test('refuses an unknown access key: 403 InvalidAccessKeyId', async () => {
    const r = await baiduSigned('/v1/cfs', {}, { ak: 'NOSUCHKEY' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'InvalidAccessKeyId');
  });

  test('refuses a malformed Authorization header: 400 InvalidHTTPAuthHeader', async () => {
    const res = await fetch(`${srv.url}/v1/cfs`, { headers: { authorization: 'bce-auth-v1/AK/not-a-time/1800//abc' } });
    const body = (await res.json()) as { code: string };
    assert.equal(res.status, 400);
    assert.equal(body.code, 'InvalidHTTPAuthHeader');
    assert.ok(res.headers.get('x-bce-request-id'));
  });

  /** GET /v1/cfs with a bce-auth-v1 header signed over exactly `signedHeaders`. */
  async function signedOver(signedHeaders: string[], opts: { at?: Date; expiration?: number; xBceDate?: boolean } = {}) {
    const at = opts.at ?? new Date();
    const headers: Record<string, string> = { host: new URL(srv.url).host };
    if (opts.xBceDate !== false) headers['x-bce-date'] = formatBceTimestamp(at);
    const signed = bceSign({
      method: 'GET',
      path: '/v1/cfs',
      headers,
      accessKeyId: srv.accessKeyId,
      secretAccessKey: srv.secretAccessKey,
      timestamp: at,
      expirationSeconds: opts.expiration,
      signedHeaders,
    });
    // The names exactly as asked (the signer leaves out the ones not sent, as a client may not).
    const authorization = `${signed.authStringPrefix}/${signedHeaders.join(';')}/${signed.signature}`;
    const sent: Record<string, string> = { authorization };
    if (headers['x-bce-date']) sent['x-bce-date'] = headers['x-bce-date'];
    const res = await fetch(`${srv.url}/v1/cfs`, { headers: sent });
    return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
  }

  test('refuses a signature that does not cover host: 400 InvalidHTTPAuthHeader', async () => {
    for (const names of [['x-bce-not-sent'], ['x-bce-date'], ['content-type', 'x-bce-date']]) {
      const r = await signedOver(names);
      assert.equal(r.status, 400, `${names.join(';')}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'InvalidHTTPAuthHeader');
    }
    assert.equal((await signedOver(['host'])).status, 200);
    assert.equal((await signedOver(['host', 'x-bce-date'])).status, 200);
    assert.equal((await signedOver([])).status, 200, 'an empty list means the default set, which has host');
  });

  test('a long expiration period counts for at most 7 days: an older signature is 400 RequestExpired', async () => {
    const tenYears = 10 * 365 * 86_400;
    const day = 86_400_000;
    const old = await signedOver(['host'], { at: new Date(Date.now() - 8 * day), expiration: tenYears, xBceDate: false });
    assert.equal(old.status, 400, JSON.stringify(old.body));
    assert.equal(old.body.code, 'RequestExpired');
    const recent = await signedOver(['host'], { at: new Date(Date.now() - 6 * day), expiration: tenYears, xBceDate: false });
    assert.equal(recent.status, 200, JSON.stringify(recent.body));
  });

  test('refuses a request without credentials: 403 AccessDenied', async () => {
    const res = await fetch(`${srv.url}/v1/cfs`);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'AccessDenied');
  });

  test("a fence admin lacks the owner role CFS requires: 403 AccessDenied", async () => {
    const k = await srv.newKey('fence-admin');
    await assert.rejects(new CfsClient({ endpoint: srv.url, ...k }).queryFileSystem({}), (e: unknown) => {
      assert.ok(e instanceof StockadeApiError);
      assert.equal(e.status, 403);
      assert.equal(e.code, 'AccessDenied');
      return true;
    });
  });

  test("a userId of another account lists nothing", async () => {
    const cfs = new CfsClient(srv.creds);
    assert.deepEqual((await cfs.queryFileSystem({ userId: '999999999999' })).fileSystemList, []);
  });

  test('an out-of-range maxKeys is 400 InvalidParameter naming it', async () => {
    await assert.rejects(new CfsClient(srv.creds).queryFileSystem({ maxKeys: 5000 }), (e: unknown) => {
      assert.ok(e instanceof StockadeApiError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'InvalidParameter');
      assert.match(e.message, /maxKeys/);
      return true;
    });
  });

  test('malformed JSON on a POST is 400 MalformedJSON and changes nothing', async () => {
    const host = new URL(srv.url).host;
    const headers = { host, 'content-type': 'application/json', 'x-bce-date': formatBceTimestamp(new Date()) };
    const authorization = bceAuthorization({
      method: 'POST',
      path: '/v1/accessGroup',
      headers,
      accessKeyId: srv.accessKeyId,
      secretAccessKey: srv.secretAccessKey,
      timestamp: new Date(),
      signedHeaders: ['host', 'x-bce-date'],
    });
    const res = await fetch(`${srv.url}/v1/accessGroup`, {
      method: 'POST',
      headers: { 'content-type': headers['content-type'], 'x-bce-date': headers['x-bce-date'], authorization },
      body: '{"accessGroupName": ',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'MalformedJSON');
  });
});

describe('Object Storage dispatch', () => {
  test('a SigV4-signed request reaches Object Storage, which answers in S3 XML', async () => {
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const res = await fetch(`${srv.url}/some-bucket/key`, {
      headers: {
        'x-amz-date': amzDate,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        authorization: `AWS4-HMAC-SHA256 Credential=NOSUCHKEY/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
    });
    assert.equal(res.status, 403);
    assert.ok(res.headers.get('x-amz-request-id'));
    assert.match(await res.text(), /<Error><Code>InvalidAccessKeyId<\/Code>/);
  });
});
