/**
 * Integrity checks of Object Storage over a real socket with the official AWS SDK v3: expired
 * presigned URLs, a corrupted aws-chunked CRC32 trailer (the SDK's own framing, altered after
 * signing, and a request built by hand), a wrong `x-amz-content-sha256`. A refused upload stores
 * nothing (no object, no `blobs` row, no file, before or after garbage collection) and never
 * harms the object it would have replaced.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';
import { filesUnder, rejectsS3 } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let srv: TestServer;
let s3: S3Client;
const BUCKET = 'integrity';

before(async () => {
  srv = await startTestServer('s3_integrity');
  s3 = new S3Client({
    endpoint: srv.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: srv,
    // Not "An error was encountered in a non-retryable streaming request." for every refused upload.
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  s3.destroy();
  await srv.close();
});

const sha256hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const crc32b64 = (b: Uint8Array) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(b) >>> 0);
  return out.toString('base64');
};
const codeOf = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];


/* ------------------------------------------------------------ what is stored --- */


/** The `blobs` rows and every file under `<data>/blobs`, sorted. */
async function stored(): Promise<{ rows: string[]; files: string[] }> {
  const rows = (await srv.app.ctx.store.db.selectFrom('blobs').select('id').execute()).map((r) => r.id).sort();
  const files = (await filesUnder(path.join(srv.app.ctx.config.dataDir, 'blobs'))).map((f) => path.relative(srv.app.ctx.config.dataDir, f)).sort();
  return { rows, files };
}

/**
 * Runs `refused` (a request that must fail) and checks that it stored nothing: the rows and files
 * are as before it, already when it answered (its temp file is gone, GC finds nothing of it), and
 * after `POST /_stockade/gc`.
 */
async function storesNothing(refused: () => Promise<void>): Promise<void> {
  const before = await stored();
  await refused();
  assert.deepEqual(await stored(), before, 'nothing new right after the refusal');
  const res = await fetch(`${srv.url}/_stockade/gc`, { method: 'POST', headers: { 'x-stockade-control': '1' } });
  assert.equal(res.status, 200);
  const gc = (await res.json()) as { deleted: number; deletedTemp: number };
  assert.deepEqual([gc.deleted, gc.deletedTemp], [0, 0], 'the refused upload left nothing for garbage collection');
  assert.deepEqual(await stored(), before, 'nothing new after garbage collection');
}

/* ------------------------------------------------------------- raw requests --- */

interface RawResponse {
  status: number;
  body: string;
}

/** A request signed with the SDK's SignatureV4, its `x-amz-content-sha256` as given, the body sent as is. */
async function signedRaw(method: string, key: string, headers: Record<string, string>, body: Buffer): Promise<RawResponse> {
  const url = new URL(srv.url);
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: srv.accessKeyId, secretAccessKey: srv.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/${BUCKET}/${key}`,
      headers: { host: url.host, 'content-length': String(body.length), ...headers },
    }),
  );
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: `/${BUCKET}/${key}`, headers: signed.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `data` in aws-chunked framing (64 KiB chunks, no chunk signatures) with a CRC32 trailer. */
function awsChunked(data: Buffer, crc32: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 64 * 1024) {
    const chunk = data.subarray(i, i + 64 * 1024);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\nx-amz-checksum-crc32:${crc32}\r\n\r\n`));
  return Buffer.concat(parts);
}

/** PutObject as the SDK streams it (STREAMING-UNSIGNED-PAYLOAD-TRAILER), built by hand. */
function putTrailer(key: string, data: Buffer, crc32: string): Promise<RawResponse> {
  return signedRaw(
    'PUT',
    key,
    {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    },
    awsChunked(data, crc32),
  );
}

/** PutObject with a plain body and the given `x-amz-content-sha256` (signed as such). */
function putWithSha256(key: string, data: Buffer, sha256: string): Promise<RawResponse> {
  return signedRaw('PUT', key, { 'x-amz-content-sha256': sha256 }, data);
}

/* ------------------------------------------------- SDK with a corrupted trailer --- */

/** A CRC32 that is valid base64 of 4 bytes but not the body's. */
const wrongCrc32 = (right: string) => {
  const b = Buffer.from(right, 'base64');
  b[0] = (b[0] as number) ^ 0xff;
  return b.toString('base64');
};

/**
 * Sends a streamed PutObject through the SDK (which frames it aws-chunked with a CRC32 trailer);
 * with `corrupt`, a middleware after signing rewrites the trailer's value (same length).
 */
async function sdkStreamedPut(input: Omit<PutObjectCommandInput, 'Body'> & { data: Buffer }, corrupt: boolean) {
  const { data, ...rest } = input;
  const cmd = new PutObjectCommand({ ...rest, Body: Readable.from([data]), ContentLength: data.length });
  let seenTrailer: string | undefined;
  cmd.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as HttpRequest;
      assert.equal(request.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      assert.equal(request.headers['x-amz-trailer'], 'x-amz-checksum-crc32');
      const chunks: Buffer[] = [];
      for await (const c of request.body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
      let wire = Buffer.concat(chunks).toString('latin1');
      const m = /x-amz-checksum-crc32:([A-Za-z0-9+/=]{8})\r\n/.exec(wire);
      assert.ok(m, 'the SDK sent a CRC32 trailer');
      seenTrailer = m[1];
      if (corrupt) wire = wire.replace(m[0], `x-amz-checksum-crc32:${wrongCrc32(m[1] as string)}\r\n`);
      request.body = Buffer.from(wire, 'latin1');
      return next(args);
    },
    { step: 'deserialize', name: 'stockadeTestRewriteTrailer' },
  );
  const out = await s3.send(cmd).finally(() => assert.equal(seenTrailer, crc32b64(data), 'the SDK computed the right CRC32'));
  return out;
}

/* ----------------------------------------------------------------------- tests --- */

describe('presigned URLs', () => {
  test('a presigned GET with expiresIn 1, used after 2.5 s → 403 AccessDenied (Request has expired)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt', Body: 'short-lived' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 1 });
    assert.match(url, /X-Amz-Expires=1(&|$)/);
    await new Promise((r) => setTimeout(r, 2_500));
    const res = await fetch(url);
    const body = await res.text();
    assert.equal(res.status, 403);
    assert.equal(codeOf(body), 'AccessDenied');
    assert.match(body, /Request has expired/);
    // The same request with a fresh URL still works: it was the expiry, nothing else.
    const fresh = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 300 }));
    assert.equal(fresh.status, 200);
    assert.equal(await fresh.text(), 'short-lived');
  });
});

describe('refused uploads store nothing', () => {
  test('SDK PutObject whose aws-chunked CRC32 trailer was corrupted after signing → 400 BadDigest', async () => {
    const data = randomBytes(300_000);
    // Control: the same streamed upload through the same middleware, unaltered, is stored.
    const ok = await sdkStreamedPut({ Bucket: BUCKET, Key: 'trailer-ok', data }, false);
    assert.equal(ok.ChecksumCRC32, crc32b64(data));
    const stored = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'trailer-ok', ChecksumMode: 'ENABLED' }));
    assert.equal(stored.ChecksumCRC32, crc32b64(data), 'the verified trailer value is the stored checksum');
    await storesNothing(async () => {
      const e = await rejectsS3(sdkStreamedPut({ Bucket: BUCKET, Key: 'trailer-bad', data }, true), 400, 'BadDigest');
      assert.match(e.message, /CRC32 you specified did not match/);
    });
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'trailer-bad' })), 404);
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'trailer-bad' })), 404, 'NoSuchKey');
  });

  test('hand-built STREAMING-UNSIGNED-PAYLOAD-TRAILER PutObject with a wrong CRC32 → 400 BadDigest', async () => {
    const data = randomBytes(200_000);
    const good = await putTrailer('raw-trailer-ok', data, crc32b64(data));
    assert.equal(good.status, 200, good.body);
    await storesNothing(async () => {
      const bad = await putTrailer('raw-trailer-bad', data, wrongCrc32(crc32b64(data)));
      assert.equal(bad.status, 400, bad.body);
      assert.equal(codeOf(bad.body), 'BadDigest');
      assert.match(bad.body, /CRC32 you specified did not match/);
    });
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'raw-trailer-bad' })), 404);
  });

  test('PutObject with a wrong x-amz-content-sha256 → 400 XAmzContentSHA256Mismatch', async () => {
    const data = randomBytes(1024 * 1024);
    const good = await putWithSha256('sha-ok', data, sha256hex(data));
    assert.equal(good.status, 200, good.body);
    await storesNothing(async () => {
      const other = Buffer.from(data);
      other[other.length - 1] = (other[other.length - 1] as number) ^ 1;
      const bad = await putWithSha256('sha-bad', data, sha256hex(other));
      assert.equal(bad.status, 400, bad.body);
      assert.equal(codeOf(bad.body), 'XAmzContentSHA256Mismatch');
      assert.match(bad.body, new RegExp(`<S3ComputedContentSHA256>${sha256hex(data)}</S3ComputedContentSHA256>`));
    });
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sha-bad' })), 404);
  });

  test('an overwrite that fails its checksum leaves the previous version intact', async () => {
    const v1 = randomBytes(2 * 1024 * 1024 + 3);
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc', Body: v1, Metadata: { version: '1' } }));
    const v2 = randomBytes(v1.length);
    await storesNothing(async () => {
      await rejectsS3(sdkStreamedPut({ Bucket: BUCKET, Key: 'doc', data: v2, Metadata: { version: '2' } }, true), 400, 'BadDigest');
      const trailer = await putTrailer('doc', v2, wrongCrc32(crc32b64(v2)));
      assert.equal(trailer.status, 400, trailer.body);
      assert.equal(codeOf(trailer.body), 'BadDigest');
      const sha = await putWithSha256('doc', v2, sha256hex(v1));
      assert.equal(sha.status, 400, sha.body);
      assert.equal(codeOf(sha.body), 'XAmzContentSHA256Mismatch');
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'doc' }));
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.ContentLength, v1.length);
    assert.deepEqual(head.Metadata, { version: '1' });
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'doc' }));
    assert.equal(sha256hex(Buffer.from(await got.Body!.transformToByteArray())), sha256hex(v1));
  });
});
