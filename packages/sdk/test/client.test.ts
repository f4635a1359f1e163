import { test, after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import { op } from '../src/ops/types.js';
import { ncpSignature, ncpStringToSign } from '../src/signing/ncp.js';
import { bceSign, parseBceAuthorization, parseBceQuery, percentDecode } from '../src/signing/bce.js';
import {
  CfsClient,
  DatafenceClient,
  DataFlowClient,
  OperationClient,
  StockadeApiError,
  WaitForTimeoutError,
  waitFor,
} from '../src/client/index.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const AK = 'AKTEST';
const SK = 'SKTEST/secret+key';

let server: Server;
let base: string;
let seen: Seen[] = [];
let replies: Reply[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies.shift() ?? { status: 200, body: {} };
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  replies = [];
});

function only(): Seen {
  assert.equal(seen.length, 1);
  return seen[0]!;
}

/** What the NCP gateway does: recompute v2 over the request target as received. */
function assertNcpSigned(req: Seen): void {
  const ts = req.headers['x-ncp-apigw-timestamp'] as string;
  assert.match(ts, /^\d{13}$/);
  assert.equal(req.headers['x-ncp-iam-access-key'], AK);
  assert.equal(req.headers['x-ncp-apigw-signature-v2'], ncpSignature(SK, ncpStringToSign(req.method, req.url, ts, AK)));
}

/** What the CFS verifier does: parse Authorization and re-sign from the received request. */
function assertBceSigned(req: Seen): void {
  const parsed = parseBceAuthorization(req.headers.authorization);
  assert.ok(parsed, req.headers.authorization);
  assert.equal(parsed.accessKeyId, AK);
  assert.equal(parsed.expiration, 1800);
  assert.deepEqual(parsed.signedHeaders, ['content-type', 'host', 'x-bce-date']);
  assert.equal(parsed.timestamp, req.headers['x-bce-date']);
  const q = req.url.indexOf('?');
  const resigned = bceSign({
    method: req.method,
    path: percentDecode(q < 0 ? req.url : req.url.slice(0, q)),
    query: parseBceQuery(q < 0 ? '' : req.url.slice(q + 1)),
    headers: req.headers,
    accessKeyId: parsed.accessKeyId,
    secretAccessKey: SK,
    timestamp: parsed.timestamp,
    expirationSeconds: parsed.expiration,
    signedHeaders: parsed.signedHeaders,
  });
  assert.equal(resigned.signature, parsed.signature);
}

const datafence = () => new DatafenceClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK, lang: 'ko-KR' });

test('sends a Datafence GET with query parameters from the input and a valid NCP v2 signature', async () => {
  replies.push({ status: 200, body: { content: [{ imageNo: 7, imageName: 'img', productCode: 'CON', baseServerName: 's' }] } });
  const out = await datafence().getBoxCustomImage({ fenceId: 1, productCode: 'CON' });
  assert.equal(out.content[0]!.imageNo, 7);
  const req = only();
  assert.equal(req.method, 'GET');
  assert.equal(req.url, '/api/v1/box/get-box-custom-image?fenceId=1&productCode=CON');
  assert.equal(req.body, '');
  assert.equal(req.headers['x-ncp-lang'], 'ko-KR');
  assert.equal(req.headers['content-type'], undefined);
  assertNcpSigned(req);
});

test('calls an operation without input and returns a bare JSON array', async () => {
  replies.push({ status: 200, body: [{ productCode: 'CON' }] });
  const out = await datafence().getProductSpec();
  assert.deepEqual(out, [{ productCode: 'CON' }]);
  assert.equal(only().url, '/api/v1/product/get-product-spec');
});

test('substitutes encoded path parameters and keeps the endpoint path prefix in the signed target', async () => {
  replies.push({ status: 200, body: { jobId: 'a b/c' } });
  const client = new DataFlowClient({ endpoint: `${base}/gw/`, accessKeyId: AK, secretAccessKey: SK });
  await client.getJobById({ jobId: 'a b/c' });
  const req = only();
  assert.equal(req.url, '/gw/api/v1/jobs/a%20b%2Fc');
  assert.equal(req.headers['x-ncp-lang'], undefined);
  assertNcpSigned(req);
});

test('splits input into path, query flag, query (arrays joined by comma, undefined skipped) and JSON body', async () => {
  const def = op({
    service: 'cfs',
    auth: 'bce-v1',
    name: 'TestOp',
    method: 'POST',
    path: '/v1/cfs/{fsId}/thing',
    queryFlag: 'tag',
    summary: 'test',
    role: 'owner',
    params: Type.Object({ fsId: Type.String() }),
    query: Type.Object({
      clientToken: Type.String(),
      ids: Type.Optional(Type.Array(Type.String())),
      skip: Type.Optional(Type.String()),
    }),
    body: Type.Object({ name: Type.String(), n: Type.Integer(), opt: Type.Optional(Type.String()) }),
    errors: [],
  });
  replies.push({ status: 200, body: { ok: true } });
  const client = new OperationClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK });
  const out = await client.call(def, {
    fsId: 'cfs-1',
    clientToken: "t'k (1)",
    ids: ['a', 'b c'],
    skip: undefined,
    name: 'x',
    n: 2,
    notDeclared: 'dropped',
  });
  assert.deepEqual(out, { ok: true });
  const req = only();
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/v1/cfs/cfs-1/thing?tag&clientToken=t%27k%20%281%29&ids=a%2Cb%20c');
  assert.deepEqual(JSON.parse(req.body), { name: 'x', n: 2 });
  assert.equal(req.headers['content-type'], 'application/json; charset=utf-8');
  assertBceSigned(req);
});

test('sends a non-object body schema from input.body', async () => {
  const def = op({
    service: 'dataflow',
    auth: 'ncp-v2',
    name: 'arr',
    method: 'PUT',
    path: '/api/v1/things',
    summary: 'test',
    role: 'owner',
    body: Type.Array(Type.Integer()),
    errors: [],
  });
  replies.push({ status: 204 });
  const out = await new OperationClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK }).call(def, { body: [1, 2] });
  assert.equal(out, undefined);
  const req = only();
  assert.equal(req.body, '[1,2]');
  assert.equal(req.headers['content-type'], 'application/json');
  assertNcpSigned(req);
});

test('signs CFS requests with bce-auth-v1 over host (with port), content-type and x-bce-date', async () => {
  replies.push({ status: 200, body: { fileSystemList: [], isTruncated: false, maxKeys: 5 } });
  const cfs = new CfsClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK });
  const out = await cfs.queryFileSystem({ maxKeys: 5, filterTag: 'env:prod test', fsId: 'cfs-a,cfs-b' });
  assert.equal(out.maxKeys, 5);
  const req = only();
  assert.equal(req.headers.host, base.slice('http://'.length));
  assert.match(req.headers['x-bce-date'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(
    parseBceQuery(req.url.slice(req.url.indexOf('?') + 1)).sort(),
    [['filterTag', 'env:prod test'], ['fsId', 'cfs-a,cfs-b'], ['maxKeys', '5']],
  );
  assertBceSigned(req);
});

test('retries a 503 with backoff, re-signing each attempt, then succeeds', async () => {
  replies.push(
    { status: 503, body: { error: { errorCode: '500', message: 'Endpoint Error', details: 'x' } } },
    { status: 429, body: { error: { errorCode: '410', message: 'Throttle Limited', details: 'x' } } },
    { status: 200, body: [] },
  );
  const out = await datafence().getProductSpec();
  assert.deepEqual(out, []);
  assert.equal(seen.length, 3);
  for (const req of seen) assertNcpSigned(req);
});

test('gives up after the configured retries and throws the last error', async () => {
  replies.push(
    { status: 503, body: { error: { errorCode: '500', message: 'Endpoint Error', details: 'down' } } },
    { status: 503, body: { error: { errorCode: '500', message: 'Endpoint Error', details: 'down' } } },
    { status: 200, body: [] },
  );
  const client = new DatafenceClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK, retries: 1 });
  await assert.rejects(client.getProductSpec(), (e: unknown) => {
    assert.ok(e instanceof StockadeApiError);
    assert.equal(e.status, 503);
    assert.equal(e.code, '500');
    return true;
  });
  assert.equal(seen.length, 2);
});

test('does not retry other 4xx/5xx answers', async () => {
  replies.push({ status: 500, body: { error: { errorCode: '900', message: 'Unexpected Error', details: '' } } });
  await assert.rejects(datafence().getProductSpec(), StockadeApiError);
  assert.equal(seen.length, 1);
});

test('turns a Datafence error envelope into StockadeApiError with error.errorCode', async () => {
  const body = { error: { errorCode: '2600053', message: 'Not found fence', details: 'fenceId=9' } };
  replies.push({ status: 400, body });
  await assert.rejects(datafence().getBoxCustomImage({ fenceId: 9, productCode: 'CON' }), (e: unknown) => {
    assert.ok(e instanceof StockadeApiError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'StockadeApiError');
    assert.equal(e.status, 400);
    assert.equal(e.service, 'datafence');
    assert.equal(e.operation, 'get-box-custom-image');
    assert.equal(e.code, '2600053');
    assert.equal(e.message, 'Not found fence');
    assert.equal(e.details, 'fenceId=9');
    assert.equal(e.requestId, undefined);
    assert.deepEqual(e.body, body);
    return true;
  });
});

test('reads Data Flow problem details errorType, and the gateway errorCode for gateway errors', async () => {
  const client = new DataFlowClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK });
  replies.push({
    status: 404,
    body: { type: 'about:blank', title: 'Not Found', status: 404, detail: 'Job not found: j1', instance: '/api/v1/jobs/j1', errorType: 'resource-not-found/job' },
  });
  await assert.rejects(client.getJobById({ jobId: 'j1' }), (e: unknown) => {
    assert.ok(e instanceof StockadeApiError);
    assert.equal(e.service, 'dataflow');
    assert.equal(e.status, 404);
    assert.equal(e.code, 'resource-not-found/job');
    assert.equal(e.message, 'Job not found: j1');
    return true;
  });
  replies.push({ status: 401, body: { error: { errorCode: '200', message: 'Authentication Failed', details: 'bad' } } });
  await assert.rejects(client.getJobs(), (e: unknown) => {
    assert.ok(e instanceof StockadeApiError);
    assert.equal(e.status, 401);
    assert.equal(e.code, '200');
    assert.equal(e.message, 'Authentication Failed');
    return true;
  });
});

test('reads the CFS code and the x-bce-request-id header', async () => {
  replies.push({
    status: 404,
    body: { requestId: 'body-id', code: 'InstanceNotFound', message: 'no such fs' },
    headers: { 'x-bce-request-id': 'hdr-id' },
  });
  const cfs = new CfsClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK });
  await assert.rejects(cfs.queryFileSystem(), (e: unknown) => {
    assert.ok(e instanceof StockadeApiError);
    assert.equal(e.service, 'cfs');
    assert.equal(e.code, 'InstanceNotFound');
    assert.equal(e.message, 'no such fs');
    assert.equal(e.requestId, 'hdr-id');
    return true;
  });
  replies.push({ status: 403, body: { requestId: 'body-only', code: 'AccessDenied', message: 'x' } });
  await assert.rejects(cfs.queryFileSystem(), (e: unknown) => e instanceof StockadeApiError && e.requestId === 'body-only');
  replies.push({ status: 403, body: undefined, headers: { 'x-amz-request-id': 'amz' } });
  await assert.rejects(cfs.queryFileSystem(), (e: unknown) => {
    assert.ok(e instanceof StockadeApiError);
    assert.equal(e.requestId, 'amz');
    assert.equal(e.code, undefined);
    assert.equal(e.body, undefined);
    assert.equal(e.message, 'HTTP 403');
    return true;
  });
});

test('uses an injected fetch and derives one method per table entry', async () => {
  const calls: string[] = [];
  const fakeFetch = (async (url: Parameters<typeof fetch>[0]) => {
    calls.push(url instanceof Request ? url.url : url.toString());
    return new Response('[]', { status: 200 });
  }) as typeof fetch;
  const client = new DatafenceClient({ endpoint: 'https://datafence.example', accessKeyId: AK, secretAccessKey: SK, fetch: fakeFetch });
  assert.ok(client instanceof OperationClient);
  assert.deepEqual(await client.getProductSpec(), []);
  assert.deepEqual(calls, ['https://datafence.example/api/v1/product/get-product-spec']);
  for (const key of Object.keys(DatafenceClient.operations)) {
    assert.equal(typeof (client as unknown as Record<string, unknown>)[key], 'function', key);
  }
});

test('rejects a call missing a path parameter before sending', async () => {
  const client = new DataFlowClient({ endpoint: base, accessKeyId: AK, secretAccessKey: SK });
  await assert.rejects(client.call(DataFlowClient.operations.getJobById, {}), TypeError);
  assert.equal(seen.length, 0);
});

test('waitFor polls until the predicate holds', async () => {
  let n = 0;
  const v = await waitFor(async () => ++n, (x) => x >= 3, { timeoutMs: 1000, intervalMs: 1 });
  assert.equal(v, 3);
});

test('waitFor throws WaitForTimeoutError with the last value when time runs out', async () => {
  await assert.rejects(waitFor(() => 'pending', (s) => s === 'done', { timeoutMs: 30, intervalMs: 5 }), (e: unknown) => {
    assert.ok(e instanceof WaitForTimeoutError);
    assert.equal(e.lastValue, 'pending');
    return true;
  });
});
