/**
 * What a handler receives: a Gateway built with stub handlers that echo their input, so these
 * tests hold whether or not the real operations are implemented.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allOperations, ncpSignHeaders, type ServiceName } from '@stockade/sdk';
import { Gateway } from '../../src/gateway/server.js';
import { Reply, type Handler } from '../../src/platform/service.js';
import type { AppContext } from '../../src/app.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { stubService } from '../helpers/stubs.js';

let srv: TestServer;
const gateways: Server[] = [];

/** Every operation answers 200 with the input its handler received. */
function echoHandlers(service: Exclude<ServiceName, 's3'>): Record<string, Handler> {
  const handlers: Record<string, Handler> = {};
  for (const { key, def } of allOperations()) if (def.service === service) handlers[key] = (_ctx, input) => Promise.resolve(new Reply(200, input));
  return handlers;
}

async function echoGateway(app: AppContext): Promise<string> {
  // Echoed inputs are not the operations' answers: no contract checks on this gateway.
  const ctx = { ...app, config: { ...app.config, contractChecks: false } };
  const services = (['datafence', 'dataflow', 'cfs'] as const).map((name) => ({ module: stubService(name, echoHandlers(name)), instance: { app: ctx } }));
  const server = new Gateway(ctx, { services }).createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateways.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let url: string;
let strictUrl: string;

before(async () => {
  srv = await startTestServer('gateway_input');
  url = await echoGateway(srv.app.ctx);
  strictUrl = await echoGateway({ ...srv.app.ctx, config: { ...srv.app.ctx.config, strict: true } });
});
after(async () => {
  for (const s of gateways) await new Promise<void>((resolve) => s.close(() => resolve()));
  await srv.close();
});

async function call(base: string, method: string, target: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = ncpSignHeaders({ method, requestTarget: target, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey });
  const res = await fetch(base + target, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('path parameters', () => {
  test('a body field cannot override a path parameter', async () => {
    const r = await call(url, 'PATCH', '/api/v1/jobs/A', { type: 'VISUAL', jobId: 'B' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.jobId, 'A');
  });

  test('a query field cannot override a path parameter', async () => {
    const r = await call(url, 'POST', '/api/v1/jobs/A/executions?jobId=B', { jobId: 'C' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.jobId, 'A');
  });

  test('a field declared in both query and body takes the query value', async () => {
    const both = await call(url, 'POST', '/api/v1/jobs/A/executions?triggerId=Tquery', { triggerId: 'Tbody' });
    assert.equal(both.body.triggerId, 'Tquery');
    const bodyOnly = await call(url, 'POST', '/api/v1/jobs/A/executions', { triggerId: 'Tbody' });
    assert.equal(bodyOnly.body.triggerId, 'Tbody');
  });
});

describe('undeclared fields', () => {
  test('undeclared body and query fields never reach the handler, at any depth', async () => {
    const r = await call(url, 'PATCH', '/api/v1/jobs/A?extraQuery=1', {
      type: 'VISUAL',
      extra: { a: 1 },
      jobCondition: { numWorker: 2, injected: true },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { jobId: 'A', type: 'VISUAL', jobCondition: { numWorker: 2 } });
  });

  test('objects that declare open properties (job nodes) keep them', async () => {
    const node = { id: 1, name: 'src', type: 'SOURCE_OBS', parentNodeIds: [], bucketName: 'b', prefix: 'p' };
    const r = await call(url, 'PATCH', '/api/v1/jobs/A', { type: 'VISUAL', nodes: [node] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.nodes, [node]);
  });

  test('--strict refuses undeclared body fields, a path parameter repeated in the body included, naming them', async () => {
    const extra = await call(strictUrl, 'PATCH', '/api/v1/jobs/A', { type: 'VISUAL', jobCondition: { injected: 1 } });
    assert.equal(extra.status, 400);
    assert.equal(extra.body.errorType, 'bad-parameter');
    assert.match(String(extra.body.detail), /jobCondition\.injected/);
    const repeated = await call(strictUrl, 'PATCH', '/api/v1/jobs/A', { type: 'VISUAL', jobId: 'B' });
    assert.equal(repeated.status, 400);
    assert.match(String(repeated.body.detail), /jobId/);
    const ok = await call(strictUrl, 'PATCH', '/api/v1/jobs/A', { type: 'VISUAL' });
    assert.equal(ok.status, 200);
  });
});

describe('integer bounds', () => {
  test('an integer beyond its declared maximum is a 400, never a 500', async () => {
    for (const q of ['limit=9223372036854775807', 'page=9223372036854775807', 'limit=1e3', 'page=-1']) {
      const r = await call(url, 'GET', `/api/v1/jobs?${q}`);
      assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.errorType, 'bad-parameter', q);
    }
    const big = await call(url, 'GET', '/api/v1/box/get-box-list?fenceId=9007199254740993');
    assert.equal(big.status, 400, JSON.stringify(big.body));
  });
});
