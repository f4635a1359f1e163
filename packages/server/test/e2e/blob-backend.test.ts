/**
 * The external content backend for real: Stockade B keeps its object content in a bucket of
 * Stockade A (`blobBackend: 's3'`), both driven with the official AWS SDK.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { ServeProcess, cliEnv, runCli, waitFor } from '../helpers/cli.js';
import { collectGarbage, ContentTooLargeError, newBlobId } from '../../src/store/blobs.js';
import { S3BlobStore } from '../../src/store/blobs-s3.js';
import { ManualClock } from '../../src/tasks/clock.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';
const PREFIX = 'stockade-b/';
const MiB = 1024 * 1024;

function client(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(r: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function getBytes(s3: S3Client, Bucket: string, Key: string, Range?: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key, Range }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Every object key in A's backend bucket under `prefix`, with its size. */
async function backendKeys(s3: S3Client, prefix = PREFIX): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'backend', Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!, o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

const keyOf = (id: string, prefix = PREFIX) => `${prefix}${id.slice(0, 2)}/${id}`;

describe(`external blob backend: Stockade B stores content in Stockade A (${backend})`, () => {
  let a: TestServer;
  let b: TestServer;
  let sa: S3Client;
  let sb: S3Client;
  const small = Buffer.from('hello from stockade b\n'.repeat(50));
  const big = randomBytes(12 * MiB + 12345);

  before(async () => {
    a = await startTestServer('blob_backend_a');
    sa = client(a.url, a.accessKeyId, a.secretAccessKey);
    await sa.send(new CreateBucketCommand({ Bucket: 'backend' }));
    b = await startTestServer('blob_backend_b', {
      config: {
        blobBackend: 's3',
        blobS3Endpoint: a.url,
        blobS3Bucket: 'backend',
        blobS3Prefix: 'stockade-b', // the store appends the '/'
        blobS3AccessKeyId: a.accessKeyId,
        blobS3SecretAccessKey: a.secretAccessKey,
      },
    });
    sb = client(b.url, b.accessKeyId, b.secretAccessKey);
    await sb.send(new CreateBucketCommand({ Bucket: 'data' }));
  });

  after(async () => {
    sb?.destroy();
    sa?.destroy();
    const blobs = b?.app.ctx.blobs;
    await b?.close();
    if (blobs instanceof S3BlobStore) blobs.close();
    await a?.close();
  });

  test('B uses the S3 store', () => {
    assert.ok(b.app.ctx.blobs instanceof S3BlobStore);
    assert.equal(b.app.ctx.blobs.prefix, PREFIX);
  });

  test('small and multipart objects put to B read back byte-exact, whole and ranged', async () => {
    await sb.send(new PutObjectCommand({ Bucket: 'data', Key: 'small.txt', Body: small }));
    const up = new Upload({
      client: sb,
      params: { Bucket: 'data', Key: 'dir/big.bin', Body: Readable.from([big.subarray(0, 3 * MiB), big.subarray(3 * MiB)]) },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    await up.done();

    assert.deepEqual(await getBytes(sb, 'data', 'small.txt'), small);
    const got = await getBytes(sb, 'data', 'dir/big.bin');
    assert.equal(got.length, big.length);
    assert.equal(sha(got), sha(big));
    // A range across the first part boundary, and one inside the small object.
    assert.deepEqual(await getBytes(sb, 'data', 'dir/big.bin', `bytes=${5 * MiB - 100}-${5 * MiB + 99}`), big.subarray(5 * MiB - 100, 5 * MiB + 100));
    assert.deepEqual(await getBytes(sb, 'data', 'small.txt', 'bytes=6-9'), small.subarray(6, 10));
    const head = await sb.send(new HeadObjectCommand({ Bucket: 'data', Key: 'dir/big.bin' }));
    assert.equal(head.ContentLength, big.length);
  });

  test("A's backend bucket holds B's content: one object per blobs row, same size", async () => {
    const keys = await backendKeys(sa);
    const rows = await b.app.ctx.store.db.selectFrom('blobs').selectAll().execute();
    assert.ok(rows.length >= 2, `B has blob rows (${rows.length})`);
    for (const r of rows) {
      assert.equal(keys.get(keyOf(r.id)), Number(r.size), `blob ${r.id} is ${keyOf(r.id)} in A`);
    }
    for (const k of keys.keys()) assert.match(k, /^stockade-b\/[0-9a-f]{2}\/[0-9a-f]{32}$/);
    // The small object's bytes are one blob in A, byte-exact.
    const row = rows.find((r) => r.sha256 === sha(small));
    assert.ok(row, 'a blob row with the small object content');
    assert.deepEqual(await getBytes(sa, 'backend', keyOf(row.id)), small);
    const total = rows.reduce((n, r) => n + Number(r.size), 0);
    assert.ok(total >= small.length + big.length);
  });

  test("deleting B's object removes its content from A (at once or by garbage collection)", async () => {
    const before = new Set((await b.app.ctx.store.db.selectFrom('blobs').select('id').execute()).map((r) => r.id));
    await sb.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'small.txt' }));
    const afterIds = new Set((await b.app.ctx.store.db.selectFrom('blobs').select('id').execute()).map((r) => r.id));
    const gone = [...before].filter((id) => !afterIds.has(id));
    assert.ok(gone.length >= 1, 'the object content row is gone');
    await collectGarbage(b.app.ctx.store, b.app.ctx.blobs, { olderThanMs: 0, clock: new ManualClock(Date.now() + 60_000) });
    const keys = await backendKeys(sa);
    for (const id of gone) assert.equal(keys.has(keyOf(id)), false, `${keyOf(id)} removed from A`);
    for (const id of afterIds) assert.ok(keys.has(keyOf(id)), `referenced ${keyOf(id)} kept`);
    // The other object is intact.
    assert.equal(sha(await getBytes(sb, 'data', 'dir/big.bin')), sha(big));
  });

  test('garbage collection removes orphaned content and abandoned multipart uploads in A, after the grace period', async () => {
    const blobs = b.app.ctx.blobs;
    const orphan = await blobs.put(Readable.from([Buffer.from('orphaned by a crash before the row commit')]));
    assert.ok((await backendKeys(sa)).has(keyOf(orphan.id)));
    // A multipart upload that a crashed put left behind.
    const abandonedKey = keyOf(newBlobId());
    const mpu = await sa.send(new CreateMultipartUploadCommand({ Bucket: 'backend', Key: abandonedKey }));
    await sa.send(new UploadPartCommand({ Bucket: 'backend', Key: abandonedKey, UploadId: mpu.UploadId, PartNumber: 1, Body: randomBytes(1000) }));
    const listUploads = async () =>
      ((await sa.send(new ListMultipartUploadsCommand({ Bucket: 'backend', Prefix: PREFIX }))).Uploads ?? []).map((u) => u.UploadId);
    assert.ok((await listUploads()).includes(mpu.UploadId));

    // Within the grace period: nothing of it is touched.
    const young = await collectGarbage(b.app.ctx.store, blobs, { olderThanMs: 60 * 60_000, clock: new ManualClock(Date.now()) });
    assert.equal(young.deleted + young.deletedTemp, 0);
    assert.ok((await backendKeys(sa)).has(keyOf(orphan.id)));

    const old = await collectGarbage(b.app.ctx.store, blobs, { olderThanMs: 60 * 60_000, clock: new ManualClock(Date.now() + 2 * 60 * 60_000) });
    assert.ok(old.deleted >= 1, `orphan deleted (${JSON.stringify(old)})`);
    assert.equal(old.deletedTemp, 1, `abandoned upload aborted (${JSON.stringify(old)})`);
    assert.ok(old.bytesFreed >= 1000);
    assert.equal((await backendKeys(sa)).has(keyOf(orphan.id)), false);
    assert.equal((await listUploads()).includes(mpu.UploadId), false);
    // Referenced content survives.
    assert.equal(sha(await getBytes(sb, 'data', 'dir/big.bin')), sha(big));
  });

  test('the store contract: stat, open (ranges, missing), delete, maxBytes', async () => {
    const blobs = b.app.ctx.blobs;
    const content = randomBytes(70_000);
    const info = await blobs.put(Readable.from([content.subarray(0, 1), content.subarray(1)]));
    assert.equal(info.size, content.length);
    assert.equal(info.sha256, sha(content));
    const st = await blobs.stat(info.id);
    assert.equal(st?.size, content.length);
    assert.ok(st && Math.abs(st.mtimeMs - Date.now()) < 5 * 60_000);
    assert.deepEqual(await readAll(blobs.open(info.id)), content);
    assert.deepEqual(await readAll(blobs.open(info.id, { start: 100, end: 199 })), content.subarray(100, 200));
    assert.deepEqual(await readAll(blobs.open(info.id, { start: 69_990, end: 80_000 })), content.subarray(69_990));
    assert.throws(() => blobs.open(info.id, { start: 5, end: 4 }), RangeError);
    // 'ready' once the response arrives, like fs.ReadStream.
    const r = blobs.open(info.id);
    await new Promise<void>((resolve, reject) => r.once('ready', resolve).once('error', reject));
    r.destroy();

    assert.equal(await blobs.delete(info.id), true);
    assert.equal(await blobs.delete(info.id), false);
    assert.equal(await blobs.stat(info.id), null);
    await assert.rejects(readAll(blobs.open(info.id)), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');

    // Content over the limit: refused, nothing left in A (not even an unfinished multipart upload).
    const keysBefore = await backendKeys(sa);
    const tooBig = randomBytes(6 * MiB);
    await assert.rejects(
      blobs.put(Readable.from([tooBig.subarray(0, 2 * MiB), tooBig.subarray(2 * MiB, 4 * MiB), tooBig.subarray(4 * MiB)]), { maxBytes: 5.5 * MiB }),
      ContentTooLargeError,
    );
    await assert.rejects(blobs.put(Readable.from([Buffer.alloc(11)]), { maxBytes: 10 }), ContentTooLargeError);
    assert.deepEqual([...(await backendKeys(sa)).keys()].sort(), [...keysBefore.keys()].sort());
    const uploads = (await sa.send(new ListMultipartUploadsCommand({ Bucket: 'backend', Prefix: PREFIX }))).Uploads ?? [];
    assert.deepEqual(uploads, []);
  });

  test('a put streams: parts reach A while the source is still producing', async () => {
    const blobs = b.app.ctx.blobs;
    const hash = createHash('sha256');
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let finished = false;
    async function* source(): AsyncIterable<Uint8Array> {
      // More than one part (8 MiB), then wait: a store that buffered everything would send nothing yet.
      for (let i = 0; i < 9 * 4; i++) {
        const chunk = randomBytes(MiB / 4);
        hash.update(chunk);
        yield chunk;
      }
      await gate;
      const last = randomBytes(3 * MiB);
      hash.update(last);
      yield last;
      finished = true;
    }
    const put = blobs.put(source());
    const uploaded = await waitFor(
      'a part of the put in A',
      async () => {
        const uploads = (await sa.send(new ListMultipartUploadsCommand({ Bucket: 'backend', Prefix: PREFIX }))).Uploads ?? [];
        for (const u of uploads) {
          const parts = await sa.send(new ListPartsCommand({ Bucket: 'backend', Key: u.Key, UploadId: u.UploadId }));
          if ((parts.Parts ?? []).length > 0) return parts.Parts!;
        }
        return undefined;
      },
      { timeoutMs: 15_000, everyMs: 50 },
    );
    assert.equal(finished, false);
    assert.equal(uploaded[0]!.Size, 8 * MiB);
    open();
    const info = await put;
    assert.equal(info.size, 12 * MiB);
    assert.equal(info.sha256, hash.digest('hex'));
    assert.equal((await backendKeys(sa)).get(keyOf(info.id)), 12 * MiB);
    assert.equal(await blobs.delete(info.id), true);
  });
});

describe(`stockade serve --blob-backend s3 (${backend})`, () => {
  let a: TestServer;
  let sa: S3Client;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-blob-serve-'));

  before(async () => {
    a = await startTestServer('blob_backend_serve_a');
    sa = client(a.url, a.accessKeyId, a.secretAccessKey);
    await sa.send(new CreateBucketCommand({ Bucket: 'backend' }));
  });
  after(async () => {
    sa?.destroy();
    await a?.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('flags and STOCKADE_BLOB_S3_* variables configure the backend; objects land in A', async () => {
    const dir = path.join(tmp, 'serve');
    const p = new ServeProcess(
      ['--port', '0', '--data', dir, '--blob-backend', 's3', '--blob-s3-endpoint', a.url, '--blob-s3-bucket', 'backend', '--blob-s3-prefix', 'served/'],
      { env: cliEnv({ STOCKADE_BLOB_S3_ACCESS_KEY_ID: a.accessKeyId, STOCKADE_BLOB_S3_SECRET_ACCESS_KEY: a.secretAccessKey }), cwd: tmp },
    );
    try {
      const banner = await p.banner();
      assert.match(banner.fields.content ?? '', /^s3 http:\/\/127\.0\.0\.1:\d+ bucket backend prefix served\/$/);
      const s = client(banner.url, banner.fields['access key']!, banner.fields['secret key']!);
      try {
        await s.send(new CreateBucketCommand({ Bucket: 'mine' }));
        const body = randomBytes(5000);
        await s.send(new PutObjectCommand({ Bucket: 'mine', Key: 'k', Body: body }));
        assert.deepEqual(await getBytes(s, 'mine', 'k'), body);
      } finally {
        s.destroy();
      }
      const keys = await backendKeys(sa, 'served/');
      assert.ok([...keys.values()].includes(5000), `A has the content under served/: ${JSON.stringify([...keys])}`);
    } finally {
      await p.stop();
    }
  });

  test('bad backend settings are one line on stderr', async () => {
    const env = cliEnv();
    const data = ['--data', path.join(tmp, 'bad')];
    let r = await runCli(['serve', '--port', '0', ...data, '--blob-backend', 's3', '--blob-s3-bucket', 'x'], { env, cwd: tmp });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^stockade: --blob-backend s3 needs --blob-s3-endpoint URL[^\n]*\n$/);
    r = await runCli(['serve', '--port', '0', ...data, '--blob-backend', 'nfs'], { env, cwd: tmp });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^stockade: --blob-backend must be local or s3, got nfs\n$/);
    r = await runCli(['serve', '--port', '0', ...data], { env: cliEnv({ STOCKADE_BLOB_BACKEND: 's3', STOCKADE_BLOB_S3_ENDPOINT: a.url }), cwd: tmp });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^stockade: --blob-backend s3 needs --blob-s3-bucket NAME[^\n]*\n$/);
    // A bucket that does not exist: found at start-up, not at the first upload.
    r = await runCli(
      ['serve', '--port', '0', ...data, '--blob-backend', 's3', '--blob-s3-endpoint', a.url, '--blob-s3-bucket', 'nope'],
      { env: cliEnv({ STOCKADE_BLOB_S3_ACCESS_KEY_ID: a.accessKeyId, STOCKADE_BLOB_S3_SECRET_ACCESS_KEY: a.secretAccessKey }), cwd: tmp },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^stockade: blob backend: bucket "nope" at http:\/\/127\.0\.0\.1:\d+ does not exist\n$/);
  });
});
