/**
 * The SDK's SigV4 signer (packages/sdk/src/signing/sigv4.ts), which the web console signs its
 * Object Storage calls with: byte for byte the official signer's Authorization, and accepted by
 * the server, for keys that need encoding and for query strings. Also in its browser form
 * (pure-JS SHA-256/HMAC), the form the console bundles.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sigv4SignHeaders, uriEncode } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('sigv4_sdk_signer');
});
after(async () => {
  await srv.close();
});

const CASES: Array<{ method: string; path: string; query: Record<string, string> }> = [
  { method: 'GET', path: '/', query: {} },
  { method: 'PUT', path: '/bucket-a/plain.txt', query: {} },
  { method: 'PUT', path: '/bucket-a/dir/a b+c~(1)/組-é 🙂.txt', query: {} },
  { method: 'GET', path: '/bucket-a', query: { 'list-type': '2', delimiter: '/', prefix: 'a b/組' } },
  { method: 'POST', path: '/bucket-a/k', query: { uploads: '' } },
  { method: 'PUT', path: '/bucket-a/k', query: { partNumber: '2', uploadId: 'x/y+z=' } },
];

test('the SDK signer gives the official signer’s Authorization header', async () => {
  const date = new Date('2026-03-04T05:06:07Z');
  const official = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  });
  for (const c of CASES) {
    const encodedPath = c.path.split('/').map((s) => uriEncode(s)).join('/');
    const qs = Object.entries(c.query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
    const url = new URL(`http://127.0.0.1:9000${encodedPath}${qs ? '?' + qs : ''}`);
    const mine = sigv4SignHeaders({
      method: c.method, url, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1', date,
    });
    const theirs = await official.sign(
      new HttpRequest({
        method: c.method, protocol: 'http:', hostname: '127.0.0.1', port: 9000, path: encodedPath, query: c.query,
        headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      }),
      { signingDate: date },
    );
    assert.equal(mine['authorization'], theirs.headers['authorization'], `${c.method} ${c.path}`);
    assert.equal(mine['x-amz-date'], theirs.headers['x-amz-date']);
  }
});

test('the server accepts requests signed by the SDK signer, with an unsigned or a hashed payload', async () => {
  const sign = (method: string, url: URL, payloadHash?: string, headers?: Record<string, string>) =>
    sigv4SignHeaders({ method, url, accessKeyId: srv.accessKeyId, secretAccessKey: srv.secretAccessKey, region: 'us-east-1', ...(payloadHash ? { payloadHash } : {}), ...(headers ? { headers } : {}) });
  const bucket = new URL(srv.url + '/sdk-signed');
  assert.equal((await fetch(bucket, { method: 'PUT', headers: sign('PUT', bucket) })).status, 200);
  const key = new URL(srv.url + '/sdk-signed/' + uriEncode('dir/組 a+b.txt', false));
  const body = 'hello from the SDK signer';
  const hash = createHash('sha256').update(body).digest('hex');
  const put = await fetch(key, { method: 'PUT', body, headers: sign('PUT', key, hash, { 'content-type': 'text/plain' }) });
  assert.equal(put.status, 200, await put.text());
  const get = await fetch(key, { headers: sign('GET', key) });
  assert.equal(await get.text(), body);
  const list = new URL(srv.url + '/sdk-signed?list-type=2&prefix=' + uriEncode('dir/組'));
  assert.match(await (await fetch(list, { headers: sign('GET', list) })).text(), /<KeyCount>1<\/KeyCount>/);
  // The official client reads what the SDK signer wrote.
  const s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv });
  const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-signed', Key: 'dir/組 a+b.txt' }));
  assert.equal(await got.Body!.transformToString(), body);
  await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'sdk-signed' })));
  s3.destroy();
});

test('a request signed with another secret is refused (SignatureDoesNotMatch)', async () => {
  const url = new URL(srv.url + '/');
  const headers = sigv4SignHeaders({ method: 'GET', url, accessKeyId: srv.accessKeyId, secretAccessKey: 'not-the-secret', region: 'us-east-1' });
  const res = await fetch(url, { headers });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /SignatureDoesNotMatch/);
});
