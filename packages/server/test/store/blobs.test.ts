import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';
import {
  collectGarbage,
  ContentTooLargeError,
  InvalidBlobIdError,
  LocalBlobStore,
  newBlobId,
} from '../../src/store/blobs.js';
import { ManualClock } from '../../src/tasks/clock.js';

const backend = testDatabaseUrl ? 'postgres' : 'sqlite';

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe(`blobs (${backend})`, () => {
  let store: TestStore;
  let blobs: LocalBlobStore;
  before(async () => {
    store = await openTestStore('blobs');
    blobs = new LocalBlobStore(store.dataDir);
  });
  after(async () => {
    await store.cleanup();
  });

  const commitRow = (b: { id: string; size: number; sha256: string }) =>
    store.db.insertInto('blobs').values({ ...b, created_at: Date.now() }).execute();

  test('put streams content to <dataDir>/blobs/<id[0..2]>/<id>; open reads it back', async () => {
    const content = Buffer.from('hello, stockade blobs\n'.repeat(100));
    const b = await blobs.put(Readable.from([content.subarray(0, 7), content.subarray(7)]));
    assert.match(b.id, /^[0-9a-f]{32}$/);
    assert.equal(b.size, content.length);
    assert.equal(b.sha256, sha(content));
    assert.ok(fs.existsSync(path.join(store.dataDir, 'blobs', b.id.slice(0, 2), b.id)));
    assert.deepEqual(await fsp.readdir(path.join(store.dataDir, 'blobs', 'tmp')), []);
    assert.deepEqual(await readAll(blobs.open(b.id)), content);
    const st = await blobs.stat(b.id);
    assert.equal(st?.size, content.length);
  });

  test('ids are fresh for identical content', async () => {
    const a = await blobs.put(Readable.from([Buffer.from('same')]));
    const b = await blobs.put(Readable.from([Buffer.from('same')]));
    assert.notEqual(a.id, b.id);
    assert.equal(a.sha256, b.sha256);
  });

  test('open with an inclusive byte range', async () => {
    const b = await blobs.put(Readable.from([Buffer.from('0123456789')]));
    assert.equal((await readAll(blobs.open(b.id, { start: 2, end: 5 }))).toString(), '2345');
    assert.equal((await readAll(blobs.open(b.id, { start: 9, end: 9 }))).toString(), '9');
    assert.equal((await readAll(blobs.open(b.id, { start: 7, end: 100 }))).toString(), '789');
    assert.throws(() => blobs.open(b.id, { start: 5, end: 2 }), RangeError);
  });

  test('accepts any async iterable of bytes, and empty content', async () => {
    async function* gen() {
      for (let i = 0; i < 64; i++) yield new Uint8Array(64 * 1024).fill(i);
    }
    const b = await blobs.put(gen());
    assert.equal(b.size, 64 * 64 * 1024);
    const empty = await blobs.put(Readable.from([]));
    assert.equal(empty.size, 0);
    assert.equal(empty.sha256, sha(new Uint8Array()));
    assert.equal((await readAll(blobs.open(empty.id))).length, 0);
  });

  test('maxBytes: ContentTooLargeError and no file left behind', async () => {
    const before = await fsp.readdir(path.join(store.dataDir, 'blobs', 'tmp'));
    await assert.rejects(
      blobs.put(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), { maxBytes: 10 }),
      (err: unknown) => err instanceof ContentTooLargeError && err.maxBytes === 10,
    );
    assert.deepEqual(await fsp.readdir(path.join(store.dataDir, 'blobs', 'tmp')), before);
    const ok = await blobs.put(Readable.from([Buffer.alloc(10)]), { maxBytes: 10 });
    assert.equal(ok.size, 10);
  });

  test('a failing source leaves no temp file', async () => {
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('client went away');
    }
    await assert.rejects(blobs.put(failing()), /client went away/);
    assert.deepEqual(await fsp.readdir(path.join(store.dataDir, 'blobs', 'tmp')), []);
  });


  test('content larger than the flush step (flushed while it is written) reads back whole; a failure after a flush leaves no temp file', async () => {
    // 80 MiB of distinct 1 MiB chunks: the put starts flushes on the way (every 32 MiB).
    const chunk = (i: number) => Buffer.alloc(1024 * 1024, i % 251);
    const whole = createHash('sha256');
    for (let i = 0; i < 80; i++) whole.update(chunk(i));
    const b = await blobs.put(Readable.from((function* () {
      for (let i = 0; i < 80; i++) yield chunk(i);
    })()));
    assert.equal(b.size, 80 * 1024 * 1024);
    assert.equal(b.sha256, whole.digest('hex'));
    assert.equal(createHash('sha256').update(await readAll(blobs.open(b.id))).digest('hex'), b.sha256);
    await blobs.delete(b.id);

    async function* failsLate() {
      for (let i = 0; i < 70; i++) yield chunk(i);
      throw new Error('client went away late');
    }
    await assert.rejects(blobs.put(failsLate()), /client went away late/);
    await assert.rejects(blobs.put(failsLate(), { maxBytes: 65 * 1024 * 1024 }), (err: unknown) => err instanceof ContentTooLargeError);
    assert.deepEqual(await fsp.readdir(path.join(store.dataDir, 'blobs', 'tmp')), []);
  });
  test('readSync reads an inclusive byte range whole; a range past the end and a missing blob throw', async () => {
    const content = Buffer.from('0123456789'.repeat(1000));
    const b = await blobs.put(Readable.from([content]));
    assert.deepEqual(blobs.readSync(b.id, { start: 0, end: content.length - 1 }), content);
    assert.equal(blobs.readSync(b.id, { start: 9995, end: 9999 }).toString(), '56789');
    assert.equal(blobs.readSync(b.id, { start: 3, end: 3 }).toString(), '3');
    assert.throws(() => blobs.readSync(b.id, { start: 9990, end: 10_000 }), /shorter than the byte range/);
    assert.throws(() => blobs.readSync(b.id, { start: 5, end: 2 }), RangeError);
    assert.throws(() => blobs.readSync('../../etc/passwd', { start: 0, end: 1 }), InvalidBlobIdError);
    await blobs.delete(b.id);
    assert.throws(() => blobs.readSync(b.id, { start: 0, end: 1 }), { code: 'ENOENT' });
  });

  test('stat / delete / open of a missing blob; invalid ids are refused', async () => {
    const b = await blobs.put(Readable.from([Buffer.from('x')]));
    assert.equal(await blobs.delete(b.id), true);
    assert.equal(await blobs.delete(b.id), false);
    assert.equal(await blobs.stat(b.id), null);
    await assert.rejects(readAll(blobs.open(b.id)), { code: 'ENOENT' });
    assert.throws(() => blobs.open('../../etc/passwd'), InvalidBlobIdError);
    assert.throws(() => blobs.open('A'.repeat(32)), InvalidBlobIdError);
  });

  test('garbage collection removes old orphans and old temp files, keeps fresh and referenced content', async () => {
    const dataDir = path.join(store.dataDir, 'gc');
    const gcBlobs = new LocalBlobStore(dataDir);
    const clock = new ManualClock(Date.now());
    const hourAgo = new Date(clock.now() - 2 * 3600_000);

    const referenced = await gcBlobs.put(Readable.from([Buffer.from('keep me')]));
    await commitRow(referenced);
    const orphan = await gcBlobs.put(Readable.from([Buffer.from('crashed before commit')]));
    const fresh = await gcBlobs.put(Readable.from([Buffer.from('commit in progress')]));
    const tempId = newBlobId();
    const tempPath = path.join(dataDir, 'blobs', 'tmp', tempId);
    await fsp.writeFile(tempPath, 'half an upload');
    const foreign = path.join(dataDir, 'blobs', 'README');
    await fsp.writeFile(foreign, 'not a blob');

    for (const p of [gcBlobs.pathOf(referenced.id), gcBlobs.pathOf(orphan.id), tempPath, foreign]) {
      await fsp.utimes(p, hourAgo, hourAgo);
    }

    const r = await collectGarbage(store, gcBlobs, { olderThanMs: 3600_000, clock });
    assert.deepEqual(r, {
      scanned: 4,
      deleted: 1,
      deletedTemp: 1,
      bytesFreed: 'crashed before commit'.length + 'half an upload'.length,
    });
    assert.equal(await gcBlobs.stat(orphan.id), null);
    assert.ok(!fs.existsSync(tempPath));
    assert.ok(await gcBlobs.stat(referenced.id));
    assert.ok(await gcBlobs.stat(fresh.id));
    assert.ok(fs.existsSync(foreign));

    // Later, the fresh one is still uncommitted: it is an orphan now.
    clock.advance(2 * 3600_000);
    const r2 = await collectGarbage(store, gcBlobs, { olderThanMs: 3600_000, clock });
    assert.equal(r2.deleted, 1);
    assert.equal(await gcBlobs.stat(fresh.id), null);
    assert.deepEqual((await readAll(gcBlobs.open(referenced.id))).toString(), 'keep me');
  });

  test('garbage collection on an empty data dir', async () => {
    const empty = new LocalBlobStore(path.join(store.dataDir, 'nothing-here'));
    const r = await collectGarbage(store, empty, { olderThanMs: 0, clock: new ManualClock() });
    assert.deepEqual(r, { scanned: 0, deleted: 0, deletedTemp: 0, bytesFreed: 0 });
  });
});
