/**
 * The server computes SigV4 canonical requests itself (services/s3/sigv4.ts). These tests hold it
 * to the AWS SDK's own signer (@smithy/signature-v4) on generated requests: every request the
 * SDK signs verifies, and with a wrong signature the canonical request and string to sign the
 * server reports are exactly the ones the SDK signed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash } from '@smithy/hash-node';
import { HttpRequest, type HeaderBag, type IHttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3Error } from '../../src/services/s3/auth.js';
import { verifySigV4, signingKey, SIGNING_KEY_CACHE_SIZE } from '../../src/services/s3/sigv4.js';
import { ACCESS_KEY, SECRET, fakeIam } from './sigv4-harness.js';

/** The SDK signer, recording the canonical request and string to sign of its last signature. */
class RecordingSigner extends SignatureV4 {
  canonicalRequest = '';
  stringToSign = '';
  protected override createCanonicalRequest(request: IHttpRequest, canonicalHeaders: HeaderBag, payloadHash: string): string {
    this.canonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    return this.canonicalRequest;
  }
  protected override async createStringToSign(longDate: string, scope: string, canonicalRequest: string, algorithm: string): Promise<string> {
    this.stringToSign = await super.createStringToSign(longDate, scope, canonicalRequest, algorithm);
    return this.stringToSign;
  }
}

// The regions this verifier accepts (a server's --s3-region list).
const REGIONS = ['us-east-1', 'eu-west-1'];
const recordingSigner = (region: string) =>
  new RecordingSigner({
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    region,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
    applyChecksum: false,
  });

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const strict = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface Generated {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The query string as sent (its own, equivalent, percent-encoding). */
  rawQuery: string | null;
  headers: Record<string, string>;
}

function generator(seed: number) {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const ALPHABET = ['a', 'Z', '0', '-', '_', '.', '~', ' ', '+', '/', '%', '*', "'", '(', '!', '=', '&', '?', '#', 'é', '中', '😀', ':', '@', ','];
  const text = (max: number) => Array.from({ length: 1 + int(max) }, () => pick(ALPHABET)).join('');
  const headerText = () => {
    const words = Array.from({ length: 1 + int(4) }, () => Array.from({ length: 1 + int(6) }, () => pick(['a', 'B', '1', '-', '/', '=', ';', '"'])).join(''));
    // Runs of blanks inside a value (folded to one space in the canonical request).
    return words.join(pick([' ', '  ', '\t', ' \t ', '   ']));
  };
  return (): Generated => {
    const method = pick(['GET', 'PUT', 'HEAD', 'DELETE', 'POST']);
    const key = Array.from({ length: 1 + int(3) }, () => text(8)).join('/');
    // The wire path is what the client signs (S3 paths are not double-encoded): segments
    // encoded strictly, or (as some clients do) leaving !'()* as they are.
    const enc = r() < 0.5 ? strict : encodeURIComponent;
    const path = `/bkt-${int(100)}/${key.split('/').map(enc).join('/')}`;
    const query: Record<string, string | string[]> = {};
    const wire: string[] = [];
    for (let i = int(5); i > 0; i--) {
      const name = pick(['prefix', 'max-keys', 'uploads', 'a b', 'ü', 'X-Amz-Meta', 'z', 'A', 'list-type', text(4)]);
      const values = Array.from({ length: r() < 0.2 ? 2 : 1 }, () => (r() < 0.2 ? '' : text(6)));
      const prev = query[name];
      const all = [...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]), ...values];
      query[name] = all.length === 1 ? (all[0] as string) : all;
      for (const v of values) wire.push(v === '' && r() < 0.5 ? enc(name) : `${enc(name)}=${enc(v)}`);
    }
    const headers: Record<string, string> = {
      'x-amz-content-sha256': pick([EMPTY, 'UNSIGNED-PAYLOAD', 'ab'.repeat(32), 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']),
    };
    if (r() < 0.7) headers['content-type'] = pick(['application/octet-stream', 'text/plain; charset=utf-8', headerText()]);
    if (r() < 0.5) headers['x-amz-meta-note'] = headerText();
    if (r() < 0.3) headers['x-amz-meta-Other'.toLowerCase()] = headerText();
    if (r() < 0.3) headers.range = `bytes=${int(100)}-${100 + int(100)}`;
    if (r() < 0.3) headers['if-none-match'] = '"abc"';
    if (r() < 0.3) headers['user-agent'] = `client/${int(10)} ${headerText()}`;
    if (r() < 0.2) headers['x-amz-trailer'] = 'x-amz-checksum-crc32';
    return { method, path, query, rawQuery: wire.length ? wire.join('&') : null, headers };
  };
}

async function expectMismatch(p: Promise<unknown>): Promise<S3Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3Error && e.code === 'SignatureDoesNotMatch', String(e));
    return e;
  }
  assert.fail('expected SignatureDoesNotMatch');
}

const tamper = (sig: string) => sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');

test('header form: 300 generated requests signed by the SDK verify, and the canonical request matches the SDK’s', async () => {
  const next = generator(20240601);
  const now = Date.now();
  for (let i = 0; i < 300; i++) {
    const g = next();
    const region = i % 3 === 0 ? 'eu-west-1' : 'us-east-1';
    const host = i % 2 ? `127.0.0.1:${1000 + i}` : `bkt-${i}.s3.example.test`;
    const signer = recordingSigner(region);
    const signingDate = new Date(now - (i % 7) * 60_000);
    const signed = await signer.sign(
      new HttpRequest({ method: g.method, protocol: 'http:', hostname: host.split(':')[0], path: g.path, query: g.query, headers: { host, ...g.headers } }),
      { signingDate },
    );
    const headers = signed.headers;
    const input = { method: g.method, rawPath: g.path, rawQuery: g.rawQuery, headers };
    const v = await verifySigV4(input, fakeIam, now, REGIONS);
    assert.equal(v.region, region);

    const auth = headers.authorization as string;
    // The signed-header list out of order, or with a name twice, names the same canonical headers.
    const listed = /SignedHeaders=([^,]+)/.exec(auth)?.[1] as string;
    const reordered = i % 2 ? listed.split(';').reverse().join(';') : `${listed};host`;
    await verifySigV4({ ...input, headers: { ...headers, authorization: auth.replace(listed, reordered) } }, fakeIam, now, REGIONS);
    const sig = /Signature=([0-9a-f]{64})/.exec(auth)?.[1] as string;
    const e = await expectMismatch(verifySigV4({ ...input, headers: { ...headers, authorization: auth.replace(sig, tamper(sig)) } }, fakeIam, now, REGIONS));
    assert.equal(e.extra.CanonicalRequest, signer.canonicalRequest, `request ${i}: ${JSON.stringify(g)}`);
    assert.equal(e.extra.StringToSign, signer.stringToSign, `request ${i}`);
  }
});

test('presigned form: 200 generated URLs presigned by the SDK verify, and the canonical request matches the SDK’s', async () => {
  const next = generator(7);
  const now = Date.now();
  for (let i = 0; i < 200; i++) {
    const g = next();
    const host = `127.0.0.1:${2000 + i}`;
    // The payload hash of a presigned URL: UNSIGNED-PAYLOAD hoisted into the query with the
    // other x-amz-* headers (as @aws-sdk/s3-request-presigner does), or kept as a signed header.
    const keepHash = i % 2 === 0;
    if (!keepHash) g.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const signer = recordingSigner('us-east-1');
    const presigned = await signer.presign(
      new HttpRequest({ method: g.method, protocol: 'http:', hostname: '127.0.0.1', port: 2000 + i, path: g.path, query: g.query, headers: { host, ...g.headers } }),
      { signingDate: new Date(now - 1000), expiresIn: 60 + i, ...(keepHash ? { unhoistableHeaders: new Set(['x-amz-content-sha256']) } : {}) },
    );
    assert.equal('x-amz-content-sha256' in presigned.headers, keepHash);
    const pairs: string[] = [];
    for (const [k, v] of Object.entries(presigned.query ?? {})) {
      for (const x of Array.isArray(v) ? v : [v]) pairs.push(`${strict(k)}=${strict(x ?? '')}`);
    }
    const rawQuery = pairs.join('&');
    const input = { method: g.method, rawPath: g.path, rawQuery, headers: presigned.headers };
    const v = await verifySigV4(input, fakeIam, now, REGIONS);
    assert.equal(v.presigned, true);

    const sig = presigned.query?.['X-Amz-Signature'] as string;
    const e = await expectMismatch(verifySigV4({ ...input, rawQuery: rawQuery.replace(sig, tamper(sig)) }, fakeIam, now, REGIONS));
    assert.equal(e.extra.CanonicalRequest, signer.canonicalRequest, `request ${i}: ${JSON.stringify(g)}`);
    assert.equal(e.extra.StringToSign, signer.stringToSign, `request ${i}`);
  }
});

test('signing keys are the SDK’s, derived once per secret, date, region and service, and their cache is bounded', async () => {
  const date = new Date(Date.UTC(2024, 5, 1, 12));
  const s = recordingSigner('ap-northeast-2');
  // An SDK signature of a string to sign, recomputed with our key.
  const sdk = await s.sign('string to sign', { signingDate: date });
  const { createHmac } = await import('node:crypto');
  const ours = createHmac('sha256', signingKey(SECRET, '20240601', 'ap-northeast-2', 's3')).update('string to sign').digest('hex');
  assert.equal(ours, sdk);
  assert.equal(signingKey(SECRET, '20240601', 'ap-northeast-2', 's3'), signingKey(SECRET, '20240601', 'ap-northeast-2', 's3'));
  assert.notEqual(signingKey(SECRET, '20240601', 'ap-northeast-2', 's3'), signingKey(SECRET, '20240602', 'ap-northeast-2', 's3'));
  assert.notDeepEqual(signingKey(SECRET, '20240601', 'ap-northeast-2', 's3'), signingKey(SECRET + 'x', '20240601', 'ap-northeast-2', 's3'));
  // More keys than the cache holds: the first one is derived again (equal bytes, new buffer).
  const first = signingKey('secret-0', '20240601', 'us-east-1', 's3');
  for (let i = 1; i <= SIGNING_KEY_CACHE_SIZE; i++) signingKey(`secret-${i}`, '20240601', 'us-east-1', 's3');
  const again = signingKey('secret-0', '20240601', 'us-east-1', 's3');
  assert.notEqual(again, first);
  assert.deepEqual(again, first);
});
