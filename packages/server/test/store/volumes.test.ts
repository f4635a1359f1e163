import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import {
  InvalidPathError,
  QuotaExceededError,
  VolumeStore,
  VOLUME_TMP_DIR,
  type InvalidPathReason,
  type Volume,
} from '../../src/store/volumes.js';
import { systemClock } from '../../src/tasks/clock.js';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';

async function readAll(r: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

const bytes = (s: string) => Readable.from([Buffer.from(s)]);

function rejectsWith(reason: InvalidPathReason) {
  return (err: unknown) => err instanceof InvalidPathError && err.reason === reason;
}

const used = async (v: Volume) => (await v.usage()).usedBytes;

describe(`volumes (${testDatabaseUrl ? 'postgres' : 'sqlite'})`, () => {
  let dir: string;
  let db: TestStore;
  let volumes: VolumeStore;
  let n = 0;
  const newVolume = async (quota = 1_000_000) => {
    const id = `v${n++}`;
    await db.tx((trx) => volumes.create(trx, { id, service: 'test', accountId: '100000000001', quotaBytes: quota }));
    return volumes.open(id);
  };

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-volumes-'));
    db = await openTestStore('volumes');
    volumes = new VolumeStore(db, path.join(dir, 'volumes'), systemClock);
  });
  after(async () => {
    await db.cleanup();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  describe('path rejection', () => {
    const cases: Array<[string, string, InvalidPathReason]> = [
      ['parent segment', '..', 'dot-segment'],
      ['parent segment inside', 'a/../../b', 'dot-segment'],
      ['dot segment', 'a/./b', 'dot-segment'],
      ['absolute', '/etc/passwd', 'absolute'],
      ['NUL byte', 'a\0b', 'nul'],
      ['backslash', 'a\\..\\b', 'backslash'],
      ['empty', '', 'empty'],
      ['empty segment', 'a//b', 'empty-segment'],
      ['trailing slash', 'a/', 'empty-segment'],
      ['256-byte segment', 'x'.repeat(256), 'segment-too-long'],
      ['256-byte multibyte segment', 'é'.repeat(128), 'segment-too-long'],
      ['path over 1024 bytes', Array.from({ length: 5 }, () => 'y'.repeat(250)).join('/'), 'path-too-long'],
      ['reserved temp dir', `${VOLUME_TMP_DIR}/x`, 'reserved'],
    ];
    for (const [name, p, reason] of cases) {
      test(`${name} → ${reason}`, async () => {
        const v = await newVolume();
        assert.throws(() => v.resolve(p), rejectsWith(reason));
      });
    }

    test('accepts plain relative paths, 255-byte segments and 1024-byte paths', async () => {
      const v = await newVolume();
      assert.equal(v.resolve('a/b/c.txt'), path.join(v.root, 'a', 'b', 'c.txt'));
      assert.equal(v.resolve('x'.repeat(255)), path.join(v.root, 'x'.repeat(255)));
      const p1024 = [...Array.from({ length: 4 }, () => 'z'.repeat(254)), 'abcd'].join('/');
      assert.equal(Buffer.byteLength(p1024), 1024);
      assert.ok(v.resolve(p1024).startsWith(v.root));
      assert.ok(v.resolve('데이터/résumé .txt').startsWith(v.root));
      assert.ok(v.resolve('...').startsWith(v.root)); // just a name
    });

    test('symlinks escaping the root are refused, anywhere on the path', async () => {
      const v = await newVolume();
      const outside = path.join(dir, 'outside');
      await fsp.mkdir(outside, { recursive: true });
      await fsp.writeFile(path.join(outside, 'secret'), 'top secret');
      await fsp.mkdir(path.join(v.root, 'sub'));
      await fsp.symlink(outside, path.join(v.root, 'sub', 'escape'));
      await fsp.symlink(path.join(outside, 'secret'), path.join(v.root, 'leak'));

      assert.throws(() => v.resolve('sub/escape'), rejectsWith('symlink'));
      assert.throws(() => v.resolve('sub/escape/secret'), rejectsWith('symlink'));
      assert.throws(() => v.resolve('sub/escape/new-file'), rejectsWith('symlink'));
      assert.throws(() => v.resolve('leak'), rejectsWith('symlink'));
      assert.throws(() => v.read('leak'), rejectsWith('symlink'));
      await assert.rejects(v.stat('sub/escape/secret'), rejectsWith('symlink'));
      await assert.rejects(v.write('sub/escape/secret', bytes('overwritten')), rejectsWith('symlink'));
      await assert.rejects(v.write('leak', bytes('overwritten')), rejectsWith('symlink'));
      await assert.rejects(v.remove('sub/escape'), rejectsWith('symlink'));
      assert.equal(await fsp.readFile(path.join(outside, 'secret'), 'utf8'), 'top secret');
      // Symlinks are not followed by listing or usage either.
      assert.deepEqual(await v.list(), []);
      assert.equal(await used(v), 0);
    });

    test('a symlink pointing inside the root is refused too', async () => {
      const v = await newVolume();
      await v.write('real/file', bytes('x'));
      await fsp.symlink(path.join(v.root, 'real'), path.join(v.root, 'alias'));
      assert.throws(() => v.resolve('alias/file'), rejectsWith('symlink'));
    });

    test('a file used as a directory is refused', async () => {
      const v = await newVolume();
      await v.write('f', bytes('x'));
      assert.throws(() => v.resolve('f/g'), rejectsWith('not-a-directory'));
    });
  });

  describe('files', () => {
    test('write / read / stat / list / remove', async () => {
      const v = await newVolume();
      assert.deepEqual(await v.write('data/in/a.csv', bytes('a,b\n1,2\n')), { size: 8 });
      await v.write('data/in/b.csv', bytes('bb'));
      await v.write('data/out.txt', bytes('out'));
      await v.write('top', bytes(''));
      assert.equal(await readAll(v.read('data/in/a.csv')), 'a,b\n1,2\n');
      assert.equal(await readAll(v.read('data/in/a.csv', { start: 4, end: 6 })), '1,2');
      assert.deepEqual(
        (await v.stat('data/in/a.csv')) && { ...(await v.stat('data/in/a.csv')), mtimeMs: 0 },
        { type: 'file', size: 8, mtimeMs: 0 },
      );
      assert.equal((await v.stat('data/in'))?.type, 'directory');
      assert.equal(await v.stat('nope'), null);
      await assert.rejects(readAll(v.read('nope')), { code: 'ENOENT' });

      const paths = async (prefix?: string) => (await v.list(prefix)).map((e) => `${e.path}:${e.size}`);
      assert.deepEqual(await paths(), ['data/in/a.csv:8', 'data/in/b.csv:2', 'data/out.txt:3', 'top:0']);
      assert.deepEqual(await paths('data/in/'), ['data/in/a.csv:8', 'data/in/b.csv:2']);
      assert.deepEqual(await paths('data/o'), ['data/out.txt:3']);
      assert.deepEqual(await paths('d'), ['data/in/a.csv:8', 'data/in/b.csv:2', 'data/out.txt:3']);
      assert.deepEqual(await paths('missing/dir/'), []);

      // Overwrite replaces atomically.
      await v.write('data/out.txt', bytes('OUTPUT'));
      assert.equal(await readAll(v.read('data/out.txt')), 'OUTPUT');

      assert.equal(await v.remove('data/in/a.csv'), true);
      assert.equal(await v.remove('data/in/a.csv'), false);
      assert.equal(await v.remove('data'), true);
      assert.deepEqual(await paths(), ['top:0']);
      // The temp area never shows.
      assert.ok(fs.existsSync(path.join(v.root, VOLUME_TMP_DIR)));
      assert.deepEqual(await fsp.readdir(path.join(v.root, VOLUME_TMP_DIR)), []);
    });

    test('writing over a directory is refused', async () => {
      const v = await newVolume();
      await v.write('d/f', bytes('x'));
      await assert.rejects(v.write('d', bytes('y')), rejectsWith('is-a-directory'));
    });
  });

  describe('quota and usage', () => {
    test('usage moves with every write and removal; files written behind Stockade\'s back count once measured', async () => {
      const v = await newVolume(1000);
      await v.write('x/a', Readable.from([Buffer.alloc(100)]));
      await v.write('b', Readable.from([Buffer.alloc(23)]));
      assert.equal(await used(v), 123);
      await v.remove('x');
      assert.equal(await used(v), 23);
      // A file written directly (over NFS, from inside a box) is seen when the tree is measured.
      await fsp.writeFile(path.join(v.root, 'external'), Buffer.alloc(70));
      assert.equal(await used(v), 23);
      assert.equal(await volumes.measure(v.id), 93);
      assert.equal(await used(v), 93);
      assert.ok((await volumes.get(v.id))!.measured_at! > 0);
    });

    test('the quota can be raised or lowered, never below what is stored; 0 means no limit', async () => {
      const v = await newVolume(100);
      await v.write('a', Readable.from([Buffer.alloc(80)]));
      assert.equal(await db.tx((trx) => volumes.setQuota(trx, v.id, 79)), 'below-usage');
      assert.equal((await v.usage()).quotaBytes, 100);
      assert.equal(await db.tx((trx) => volumes.setQuota(trx, v.id, 80)), 'ok');
      await assert.rejects(v.write('b', Readable.from([Buffer.alloc(1)])), QuotaExceededError);
      assert.equal(await db.tx((trx) => volumes.setQuota(trx, v.id, 0)), 'ok');
      await v.write('b', Readable.from([Buffer.alloc(5000)]));
      assert.equal(await used(v), 5080);
      assert.equal(await db.tx((trx) => volumes.setQuota(trx, 'no-such-volume', 1)), 'missing');
    });

    test('a dropped volume loses its files, and a directory without a row is collected', async () => {
      const v = await newVolume();
      await v.write('f', bytes('x'));
      await db.tx((trx) => volumes.drop(trx, v.id));
      await assert.rejects(volumes.open(v.id), { name: 'VolumeNotFoundError' });
      assert.ok(fs.existsSync(v.root), 'files stay until removed after the commit');
      assert.deepEqual(await volumes.collectOrphans(), [v.id]);
      assert.equal(fs.existsSync(v.root), false);
    });

    test('a write that would exceed the quota fails and leaves nothing behind', async () => {
      const v = await newVolume(100);
      await v.write('a', Readable.from([Buffer.alloc(60)]));
      await assert.rejects(
        v.write('b', Readable.from([Buffer.alloc(20), Buffer.alloc(21)])),
        (err: unknown) =>
          err instanceof QuotaExceededError && err.quotaBytes === 100 && err.usageBytes === 60 && err.incomingBytes === 41,
      );
      assert.equal(await v.stat('b'), null);
      assert.deepEqual(await fsp.readdir(path.join(v.root, VOLUME_TMP_DIR)), []);
      assert.equal(await used(v), 60);
      // Exactly up to the quota is fine.
      await v.write('b', Readable.from([Buffer.alloc(40)]));
      assert.equal(await used(v), 100);
      await assert.rejects(v.write('c', Readable.from([Buffer.alloc(1)])), QuotaExceededError);
      // Replacing a file only counts the difference.
      await v.write('a', Readable.from([Buffer.alloc(50)]));
      assert.equal(await used(v), 90);
      await assert.rejects(v.write('a', Readable.from([Buffer.alloc(61)])), QuotaExceededError);
      assert.equal((await v.stat('a'))?.size, 50, 'a failed overwrite keeps the old content');
      await v.remove('b');
      assert.equal(await used(v), 50);
    });

    test('concurrent writes, in one process or two, cannot exceed the quota together', async () => {
      const v = await newVolume(100);
      // A second process has its own connection; on SQLite, one process has one (see tasks/_shared.ts).
      const other = db.dialect === 'postgres' ? await db.reopen() : db;
      try {
        const v2 = await new VolumeStore(other, volumes.root, systemClock).open(v.id);
        async function* slow(total: number) {
          for (let i = 0; i < total / 10; i++) {
            await tick();
            yield Buffer.alloc(10);
          }
        }
        const results = await Promise.allSettled([v.write('one', slow(60)), v2.write('two', slow(60)), v.write('three', slow(60))]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(ok.length, 1);
        assert.equal(failed.length, 2);
        for (const f of failed) assert.ok((f).reason instanceof QuotaExceededError);
        assert.equal(await used(v), 60);
        assert.equal((await v.list()).length, 1);
      } finally {
        if (other !== db) await other.close();
      }
    });
  });
});
