/**
 * Crash safety of S3 uploads: `stockade serve` (the bundled CLI) is SIGKILLed while a large
 * PutObject and a multipart part stream in, then restarted on the same data directory and
 * database. What was acknowledged survives byte-exact, nothing half-written becomes visible, and
 * `POST /_stockade/gc` leaves no file that no `blobs` row names.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { dropSchema, openDatabase } from '../../src/store/db.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { filesUnder } from '../helpers/s3.js';
import { ServeProcess, cliEnv, waitFor, withTimeout } from '../helpers/cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';
const MiB = 1024 * 1024;
const ACCESS_KEY = 'STKCRASH' + randomBytes(6).toString('hex').toUpperCase();
const SECRET_KEY = randomBytes(20).toString('base64url');

// Created at load time so that `after` can always clean up.
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'stockade-s3-crash-'));
const dataDir = path.join(tmpRoot, 'data');
const schema = testDatabaseUrl ? `t_s3_crash_${randomBytes(5).toString('hex')}` : undefined;
const children: ServeProcess[] = [];
const clients: S3Client[] = [];

after(async () => {
  for (const c of clients) c.destroy();
  for (const c of children) c.signal('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  if (testDatabaseUrl && schema) await dropSchema(testDatabaseUrl, schema);
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function serve(): Promise<{ proc: ServeProcess; url: string; s3: S3Client }> {
  const proc = new ServeProcess(
    ['--port', '0', '--data', dataDir, '--log-level', 'warn', ...(testDatabaseUrl ? ['--database', testDatabaseUrl] : [])],
    {
      env: cliEnv({ STOCKADE_DATABASE_SCHEMA: schema, STOCKADE_ACCESS_KEY_ID: ACCESS_KEY, STOCKADE_SECRET_ACCESS_KEY: SECRET_KEY }),
      cwd: tmpRoot,
    },
  );
  children.push(proc);
  const { url } = await proc.banner();
  // One attempt: a request cut off by the crash must fail, not be retried against the next server.
  const s3 = new S3Client({
    endpoint: url,
    forcePathStyle: true,
    region: 'us-east-1',
    maxAttempts: 1,
    logger: quiet, // not "An error was encountered in a non-retryable streaming request." for the cut-off ones
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  clients.push(s3);
  return { proc, url, s3 };
}

/**
 * `size` bytes (a 1 MiB random block repeated), produced on demand. It stops producing after
 * `stallAt` bytes and waits there, so the crash finds the upload mid-flight, with a known amount written.
 */
function stallingBody(size: number, stallAt: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (sent >= stallAt) return; // no push: read() is not called again, the body stalls here
      const n = Math.min(MiB, size - sent, stallAt - sent);
      sent += n;
      this.push(block.subarray(0, n));
      if (sent === size) this.push(null);
    },
  });
}


/** Files of unfinished uploads: in a `tmp` directory of the blob store, with their sizes. */
async function tempFiles(): Promise<{ file: string; size: number }[]> {
  const out: { file: string; size: number }[] = [];
  for (const f of await filesUnder(path.join(dataDir, 'blobs'))) {
    if (path.basename(path.dirname(f)) !== 'tmp') continue;
    try {
      out.push({ file: f, size: (await fsp.stat(f)).size });
    } catch {
      /* renamed or removed meanwhile */
    }
  }
  return out;
}

async function status(p: Promise<unknown>): Promise<{ status: number | undefined; name: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `expected an S3 error, got ${String(e)}`);
    return { status: e.$metadata.httpStatusCode, name: e.name };
  }
  assert.fail('expected an S3 error');
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe(`a crash during uploads (stockade serve, ${backend})`, () => {
  test('a crash during a large upload leaves nothing visible and no orphaned bytes', { timeout: 120_000 }, async () => {
    const BIG = 200 * MiB;
    const BIG_STALL = 128 * MiB;
    const PART2 = 48 * MiB;
    const PART2_STALL = 24 * MiB;

    // --- first life: acknowledged content, then uploads in flight, then SIGKILL ---
    const first = await serve();
    await first.s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    await first.s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    const kept = randomBytes(3 * MiB + 17);
    await first.s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'acknowledged.bin', Body: kept }));

    const { UploadId } = await first.s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: 'multi.bin' }));
    assert.ok(UploadId);
    const part1Body = randomBytes(5 * MiB);
    const part1 = await first.s3.send(
      new UploadPartCommand({ Bucket: 'crash', Key: 'multi.bin', UploadId, PartNumber: 1, Body: part1Body }),
    );
    assert.ok(part1.ETag);

    const bigBody = stallingBody(BIG, BIG_STALL);
    const part2Body = stallingBody(PART2, PART2_STALL);
    const inFlight = [
      first.s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'big.bin', Body: bigBody, ContentLength: BIG })),
      first.s3.send(
        new UploadPartCommand({ Bucket: 'crash', Key: 'multi.bin', UploadId, PartNumber: 2, Body: part2Body, ContentLength: PART2 }),
      ),
    ];
    const settled = Promise.allSettled(inFlight);

    // Both bodies are being written to temp files; wait until most of what was sent is on disk.
    const written = await waitFor(
      'the server to write most of both uploads',
      async () => {
        if (!first.proc.running) throw new Error(`server exited\n${first.proc.output()}`);
        const sizes = (await tempFiles()).map((t) => t.size).sort((a, b) => b - a);
        return sizes.length === 2 && (sizes[0] as number) >= BIG_STALL - 16 * MiB && (sizes[1] as number) >= PART2_STALL - 8 * MiB
          ? sizes
          : undefined;
      },
      { timeoutMs: 30_000, everyMs: 50 },
    );
    assert.ok(written[0]! < BIG && written[1]! < PART2, 'neither upload finished');

    first.proc.signal('SIGKILL');
    assert.equal((await withTimeout(first.proc.exited, 10_000, 'the server to die')).signal, 'SIGKILL');
    const outcomes = await withTimeout(settled, 10_000, 'the cut-off requests to fail');
    for (const o of outcomes) assert.equal(o.status, 'rejected', 'a request cut off by the crash fails');
    bigBody.destroy();
    part2Body.destroy();
    const debris = await tempFiles();
    assert.equal(debris.length, 2, 'the crash left both partial temp files behind');

    // --- second life on the same data directory and database ---
    const second = await serve();
    const s3 = second.s3;

    // Nothing of the cut-off PUT is visible.
    const head = await status(s3.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'big.bin' })));
    assert.equal(head.status, 404);
    assert.deepEqual(await status(s3.send(new GetObjectCommand({ Bucket: 'crash', Key: 'big.bin' }))), { status: 404, name: 'NoSuchKey' });
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'crash' }));
    assert.equal(list.KeyCount, 0);
    assert.deepEqual(list.Contents ?? [], []);

    // The multipart upload survives with exactly its acknowledged part.
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'crash' }));
    assert.deepEqual(
      (uploads.Uploads ?? []).map((u) => [u.Key, u.UploadId]),
      [['multi.bin', UploadId]],
    );
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'crash', Key: 'multi.bin', UploadId }));
    assert.deepEqual(
      (parts.Parts ?? []).map((p) => [p.PartNumber, p.ETag, p.Size]),
      [[1, part1.ETag, part1Body.length]],
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'crash', Key: 'multi.bin', UploadId }));
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'crash' }))).Uploads ?? [], []);
    assert.deepEqual(
      await status(s3.send(new ListPartsCommand({ Bucket: 'crash', Key: 'multi.bin', UploadId }))),
      { status: 404, name: 'NoSuchUpload' },
    );

    // Acknowledged → never lost: byte-exact.
    const got = await s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'acknowledged.bin' }));
    const gotBytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(gotBytes.length, kept.length);
    assert.equal(sha256(gotBytes), sha256(kept));

    // Garbage collection now: the partial temp files go, referenced content stays.
    const res = await fetch(`${second.url}/_stockade/gc`, { method: 'POST', headers: { 'x-stockade-control': '1', 'content-type': 'application/json' }, body: JSON.stringify({ olderThanMs: 0 }) });
    assert.equal(res.status, 200);
    const gc = (await res.json()) as { scanned: number; deleted: number; deletedTemp: number; bytesFreed: number };
    assert.equal(gc.deletedTemp, 2, JSON.stringify(gc));
    assert.ok(gc.bytesFreed >= debris.reduce((n, d) => n + d.size, 0), JSON.stringify(gc));

    assert.deepEqual(await tempFiles(), [], 'tmp is empty');
    const store = await openDatabase({ dataDir, url: testDatabaseUrl, schema });
    let rows: Set<string>;
    try {
      rows = new Set((await store.db.selectFrom('blobs').select('id').execute()).map((r) => r.id));
    } finally {
      await store.close();
    }
    const files = await filesUnder(path.join(dataDir, 'blobs'));
    for (const f of files) assert.ok(rows.has(path.basename(f)), `${path.relative(dataDir, f)} is named by a blobs row`);
    // …and every row's file is there: the acknowledged object is all that is stored.
    assert.deepEqual([...rows].sort(), files.map((f) => path.basename(f)).sort());
    assert.equal(rows.size, 1);

    const again = await s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'acknowledged.bin' }));
    assert.equal(sha256(Buffer.from(await again.Body!.transformToByteArray())), sha256(kept));
    assert.equal((await second.proc.stop()).code, 0);
  });
});
