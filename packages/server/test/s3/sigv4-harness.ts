/**
 * A bare node:http server whose handler only verifies (verifySigV4 + decodeBody) and answers
 * the minimum the AWS SDK expects, recording what it saw; plus signing helpers built on the
 * SDK's own SignatureV4 for hand-crafted requests.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Iam } from '../../src/iam/iam.js';
import { S3Error, type VerifiedRequest } from '../../src/services/s3/auth.js';
import { verifySigV4 } from '../../src/services/s3/sigv4.js';
import { decodeBody } from '../../src/services/s3/chunked.js';

export const ACCESS_KEY = 'STKTESTACCESSKEY0001';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

export const fakeIam = {
  resolve: async (id: string) =>
    id === ACCESS_KEY
      ? { accessKeyId: id, secret: SECRET, accountId: '1', userId: 'u', userName: 'n', role: 'owner' as const }
      : null,
} as unknown as Iam;

export interface Seen {
  method: string;
  rawPath: string;
  rawQuery: string | null;
  headers: IncomingHttpHeaders;
  verified?: VerifiedRequest;
  body?: Buffer;
  /** Sizes of the pieces the decoded stream emitted. */
  pieces?: number[];
  checksums?: Record<string, string>;
  error?: S3Error;
}

export interface Harness {
  endpoint: string;
  port: number;
  seen: Seen[];
  last(): Seen;
  /** Milliseconds added to the server's clock. */
  skewMs: number;
  client(secret?: string, accessKeyId?: string): S3Client;
  close(): Promise<void>;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startHarness(): Promise<Harness> {
  const seen: Seen[] = [];
  const h: Harness = {
    endpoint: '',
    port: 0,
    seen,
    skewMs: 0,
    last() {
      const s = seen[seen.length - 1];
      if (!s) throw new Error('no request seen');
      return s;
    },
    client(secret = SECRET, accessKeyId = ACCESS_KEY) {
      return new S3Client({
        region: 'us-east-1',
        endpoint: h.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey: secret },
        maxAttempts: 1,
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const s: Seen = {
      method: req.method ?? 'GET',
      rawPath: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? null : url.slice(q + 1),
      headers: req.headers,
    };
    seen.push(s);
    void (async () => {
      try {
        s.verified = await verifySigV4(
          { method: s.method, rawPath: s.rawPath, rawQuery: s.rawQuery, headers: req.headers },
          fakeIam,
          Date.now() + h.skewMs,
        );
        const body = decodeBody(req, s.verified.payload, req.headers);
        const chunks: Buffer[] = [];
        for await (const c of body.stream) chunks.push(c as Buffer);
        await body.done;
        s.body = Buffer.concat(chunks);
        s.pieces = chunks.map((c) => c.length);
        s.checksums = body.checksums();
        const query = new URLSearchParams(s.rawQuery ?? '');
        if (s.method === 'PUT') {
          res.writeHead(200, { ETag: '"0123456789abcdef0123456789abcdef"' }).end();
        } else if (s.method === 'POST' && query.has('delete')) {
          res.writeHead(200, { 'Content-Type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><DeleteResult/>');
        } else if (s.method === 'GET' && query.get('list-type') === '2') {
          res
            .writeHead(200, { 'Content-Type': 'application/xml' })
            .end(
              '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix>' +
                xmlEscape(query.get('prefix') ?? '') +
                '</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
            );
        } else if (s.method === 'GET') {
          res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '5' }).end('hello');
        } else if (s.method === 'HEAD') {
          res.writeHead(200, { 'Content-Length': '5' }).end();
        } else {
          res.writeHead(204).end();
        }
      } catch (err) {
        if (!(err instanceof S3Error)) {
          res.writeHead(500).end(String(err));
          return;
        }
        s.error = err;
        const extra = Object.entries(err.extra)
          .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
          .join('');
        res
          .writeHead(err.status, { 'Content-Type': 'application/xml', Connection: 'close' })
          .end(
            s.method === 'HEAD'
              ? undefined
              : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${extra}</Error>`,
          );
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.port = (server.address() as AddressInfo).port;
  h.endpoint = `http://127.0.0.1:${h.port}`;
  return h;
}

export const signer = (secret = SECRET, accessKeyId = ACCESS_KEY) =>
  new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret },
    region: 'us-east-1',
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
    applyChecksum: false,
  });

/** Sign a request with the SDK signer; returns the headers to send (Authorization included). */
export async function signHeaders(opts: {
  method: string;
  host: string;
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  date?: Date;
  secret?: string;
}): Promise<Record<string, string>> {
  const request = new HttpRequest({
    method: opts.method,
    protocol: 'http:',
    hostname: opts.host.split(':')[0],
    path: opts.path,
    query: opts.query ?? {},
    headers: { host: opts.host, ...opts.headers },
  });
  const signed = await signer(opts.secret).sign(request, { signingDate: opts.date ?? new Date() });
  return signed.headers;
}

export interface RawResponse {
  status: number;
  body: string;
}

/** Send a raw request (body as given, no framing added beyond what `headers` says). */
export function rawRequest(
  port: number,
  opts: { method: string; path: string; headers: Record<string, string>; body?: Buffer | Buffer[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method, path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const parts = opts.body === undefined ? [] : Array.isArray(opts.body) ? opts.body : [opts.body];
    for (const p of parts) req.write(p);
    req.end();
  });
}

export const errorCode = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
