/**
 * A client that goes away mid-request (half a body sent, or a download abandoned) is routine:
 * the server notes it at debug level, logs nothing at warn or error, and keeps serving.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';
import { DatafenceClient, ncpSignHeaders } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

const lines: LogLine[] = [];
let srv: TestServer;
let s3: S3Client;
let port: number;

before(async () => {
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  srv = await startTestServer('disconnect', { logger });
  port = Number(new URL(srv.url).port);
  s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: 'disconnect' }));
});
after(async () => {
  s3.destroy();
  await srv.close();
});

/** Writes `head` and `part` on a raw socket, then closes it without reading an answer. */
async function sendHalfAndClose(head: string, part: Buffer): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.write(head);
  await new Promise<void>((resolve) => sock.write(part, () => resolve()));
  await new Promise((r) => setTimeout(r, 50));
  sock.destroy();
}

function requestHead(method: string, target: string, headers: Record<string, string>): string {
  return `${method} ${target} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > 5_000) assert.fail(`timed out waiting for ${what}; log: ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `fn`; asserts the server noted a disconnect at debug level and nothing at warn or above, then still serves. */
async function expectQuietDisconnect(fn: () => Promise<void>): Promise<void> {
  const from = lines.length;
  await fn();
  await waitFor('a debug line about the disconnect', () =>
    lines.slice(from).some((l) => l.level === 20 && /disconnected/.test(l.msg)),
  );
  await new Promise((r) => setTimeout(r, 100));
  const loud = lines.slice(from).filter((l) => l.level >= 40);
  assert.deepEqual(loud, [], 'nothing at warn or error');
  assert.ok((await new DatafenceClient(srv.creds).getProductSpec({})).length > 0, 'still serving the signed APIs');
  assert.equal((await fetch(`${srv.url}/_stockade/health`)).status, 200, 'still serving controls');
}

describe('a client that disconnects mid-request', () => {
  test('half a JSON body on a signed NCP request', async () => {
    await expectQuietDisconnect(async () => {
      const target = '/api/v1/jobs';
      const signed = ncpSignHeaders({ method: 'POST', requestTarget: target, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey });
      const body = Buffer.from(JSON.stringify({ name: 'half_sent', type: 'VISUAL', nodes: [], pad: 'x'.repeat(4000) }));
      const head = requestHead('POST', target, {
        host: `127.0.0.1:${port}`,
        'content-type': 'application/json',
        'content-length': String(body.length),
        ...signed,
      });
      await sendHalfAndClose(head, body.subarray(0, body.length / 2));
    });
  });

  test('half a body on a test-control POST', async () => {
    await expectQuietDisconnect(async () => {
      const body = Buffer.from(JSON.stringify({ kind: 'probe', count: 1, ms: 0, pad: 'x'.repeat(4000) }));
      const head = requestHead('POST', '/_stockade/tasks', {
        host: `127.0.0.1:${port}`,
        'x-stockade-control': '1',
        'content-type': 'application/json',
        'content-length': String(body.length),
      });
      await sendHalfAndClose(head, body.subarray(0, 100));
    });
  });

  test('half an S3 PutObject body', async () => {
    await expectQuietDisconnect(async () => {
      const body = Buffer.alloc(256 * 1024, 7);
      const signer = new SignatureV4({
        service: 's3',
        region: 'us-east-1',
        credentials: srv,
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: false,
      });
      const headers = {
        host: `127.0.0.1:${port}`,
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        'content-length': String(body.length),
      };
      const signed = await signer.sign(
        new HttpRequest({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port, path: '/disconnect/half', headers }),
      );
      await sendHalfAndClose(requestHead('PUT', '/disconnect/half', signed.headers), body.subarray(0, 100 * 1024));
    });
  });

  test('an S3 download abandoned after its first bytes', async () => {
    const body = Buffer.alloc(32 * 1024 * 1024, 3);
    await s3.send(new PutObjectCommand({ Bucket: 'disconnect', Key: 'big', Body: body }));
    await expectQuietDisconnect(async () => {
      const controller = new AbortController();
      const out = await s3.send(new GetObjectCommand({ Bucket: 'disconnect', Key: 'big' }), { abortSignal: controller.signal });
      const reader = (out.Body as unknown as { transformToWebStream(): ReadableStream<Uint8Array> }).transformToWebStream().getReader();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => undefined);
    });
  });
});
