/**
 * Crash safety of the Datafence airlock (issue 9 §5) under a real process, SIGKILLed again and
 * again while it copies: objects into a box NAS (import), NAS files into the review bucket
 * (export), review objects into the target bucket (release). After restarts, every request
 * completes exactly once (one audit transition to its end state), nothing partial is visible on
 * the NAS or in a bucket, and a released object's bytes hash to the pinned SHA-256.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DatafenceClient } from '@stockade/sdk';
import { dropSchema, openDatabase, type Store } from '../../src/store/db.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { ServeProcess, cliEnv, runCli, waitFor } from '../helpers/cli.js';
import { boxInfo } from '../helpers/datafence.js';

const BACKEND = testDatabaseUrl ? 'postgres' : 'sqlite';
const MIB = 1024 * 1024;
/** Large enough that a copy takes a while on a loaded machine, small enough for CI. */
const FILE_BYTES = 12 * MIB;
const FILES = 3;
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const CONTROL = { headers: { 'x-stockade-control': '1' } };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(`airlock under SIGKILL (${BACKEND})`, () => {
  test('imports, copies for review and releases each complete exactly once; nothing partial is visible', { timeout: 240_000 }, async (t) => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-airlock-crash-'));
    const schema = testDatabaseUrl ? `t_airlock_crash_${randomBytes(4).toString('hex')}` : undefined;
    const accessKeyId = 'STKAIR' + randomBytes(4).toString('hex').toUpperCase();
    const secretAccessKey = randomBytes(20).toString('base64url');
    const env = cliEnv({
      STOCKADE_DATABASE_SCHEMA: schema,
      STOCKADE_TASK_LEASE_MS: '900',
      STOCKADE_MASTER_KEY: 'airlock-crash',
      STOCKADE_LOG_LEVEL: 'warn',
      STOCKADE_ACCESS_KEY_ID: accessKeyId,
      STOCKADE_SECRET_ACCESS_KEY: secretAccessKey,
    });
    const args = ['--port', '0', '--data', path.join(root, 'data'), ...(testDatabaseUrl ? ['--database', testDatabaseUrl] : [])];
    let proc: ServeProcess | undefined;
    const held: { store?: Store } = {};
    const cleanup = async () => {
      await proc?.stop(2_000);
      await held.store?.close();
      if (testDatabaseUrl && schema) await dropSchema(testDatabaseUrl, schema);
      await fsp.rm(root, { recursive: true, force: true });
    };
    cleanups.push(cleanup);
    let url = '';
    const start = async () => {
      proc = new ServeProcess(args, { env });
      const line = await proc.waitForLine((l) => l.startsWith('Stockade listening on '), 30_000);
      url = line.slice('Stockade listening on '.length).trim();
    };
    await start();
    const opened = await openDatabase({ dataDir: path.join(root, 'data'), ...(testDatabaseUrl ? { url: testDatabaseUrl, schema } : {}) });
    held.store = opened;
    const db = opened.db;
    const clients = () => {
      const creds = { endpoint: url, accessKeyId, secretAccessKey };
      return { df: new DatafenceClient(creds), s3: new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: creds }) };
    };

    /** SIGKILLs the server at random moments (and restarts it) until `done()`; returns the number of kills. */
    const killUntil = async (what: string, done: () => Promise<boolean>): Promise<number> => {
      let kills = 0;
      for (let round = 0; round < 3 && !(await done()); round++) {
        await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 260)));
        proc!.signal('SIGKILL');
        await proc!.exited;
        kills++;
        await start();
      }
      await waitFor(what, done, { timeoutMs: 90_000, everyMs: 100 });
      return kills;
    };
    const statuses = async (table: 'datafence_imports' | 'datafence_exports') =>
      (await sql<{ id: number; status: string; sha256: string | null; source_path?: string }>`select * from ${sql.table(table)} order by id`.execute(db)).rows;
    /** Audit transitions of a request to `to`. */
    const transitionsTo = async (kind: 'import' | 'export', fileId: number, to: string) =>
      (
        await sql<{ detail: string }>`select detail from audit_events where action = ${`${kind}.transition`} and resource like ${`%/${kind}/${fileId}`}`.execute(db)
      ).rows.filter((r) => (JSON.parse(r.detail) as { to: string }).to === to).length;

    let { df, s3 } = clients();
    const fenceId = (await df.getDatafence())[0]!.fenceId;
    await df.createBox({ fenceId, description: 'crash', createBoxInfo: boxInfo(await df.getProductSpec()) });
    const boxId = (await df.getBoxList({ fenceId })).content[0]!.boxId;
    await waitFor('box in USE', async () => (await df.getBoxList({ fenceId })).content[0]!.statusCode === 'USE', { timeoutMs: 30_000, everyMs: 100 });
    const nasNo = (await df.getTargetNasList({ fenceId, boxId })).content[0]!.instanceNo;
    await s3.send(new CreateBucketCommand({ Bucket: 'crash-in' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'crash-out' }));
    const bodies = Array.from({ length: FILES }, () => randomBytes(FILE_BYTES));
    for (let i = 0; i < FILES; i++) await s3.send(new PutObjectCommand({ Bucket: 'crash-in', Key: `in${i}.bin`, Body: bodies[i] }));

    // ── import ──
    await df.createFileImport({ fenceId, boxId, sourceBucketName: 'crash-in', sourceFilePathList: bodies.map((_, i) => `in${i}.bin`), targetNasInstanceNo: nasNo, description: 'crash' });
    const ended = (t: 'datafence_imports' | 'datafence_exports', busy: string[]) => async () => (await statuses(t)).every((r) => !busy.includes(r.status));
    const importKills = await killUntil('imports ended', ended('datafence_imports', ['INITIALIZED', 'UPLOADING']));
    ({ df, s3 } = clients());
    const imports = await statuses('datafence_imports');
    assert.deepEqual(imports.map((r) => r.status), imports.map(() => 'IMPORTED'));
    const nasList = async () => ((await (await fetch(`${url}/_stockade/boxes/${boxId}/nas`, CONTROL)).json()) as { files: Array<{ path: string; size: number }> }).files;
    assert.deepEqual(
      (await nasList()).map((f) => [f.path, f.size]).sort(),
      imports.map((r, i) => [`${r.id}_in${i}.bin`, FILE_BYTES]).sort(),
      'exactly the imported files, whole, on the NAS',
    );
    for (const [i, r] of imports.entries()) {
      const got = Buffer.from(await (await fetch(`${url}/_stockade/boxes/${boxId}/nas/${r.id}_in${i}.bin`, CONTROL)).arrayBuffer());
      assert.equal(sha256(got), sha256(bodies[i]!));
      assert.equal(await transitionsTo('import', r.id, 'IMPORTED'), 1, `import ${r.id} completed once`);
    }

    // ── export: copy for review ──
    const reviewer = JSON.parse((await runCli(['keys', 'create', '--role', 'fence-admin', ...args.slice(2)], { env })).stdout) as { accessKeyId: string; secretAccessKey: string };
    await df.createFileExport({
      fenceId,
      boxId,
      sourceNasInstanceNo: nasNo,
      sourceFilePathList: imports.map((r, i) => `${r.id}_in${i}.bin`),
      targetBucketName: 'crash-out',
      fileDescription: 'f',
      exportPurpose: 'p',
      description: '',
    });
    const uploadKills = await killUntil('exports uploaded', ended('datafence_exports', ['INITIALIZED', 'UPLOADING']));
    ({ df, s3 } = clients());
    const exports = await statuses('datafence_exports');
    assert.deepEqual(exports.map((r) => r.status), exports.map(() => 'UPLOADED'));
    const fence = (await df.getDatafence())[0]!;
    const review = await s3.send(new ListObjectsV2Command({ Bucket: fence.exportScreenBucketName }));
    assert.equal(review.Contents?.length, FILES, 'one review object per request');
    for (const o of review.Contents ?? []) assert.equal(o.Size, FILE_BYTES);
    for (const [i, r] of exports.entries()) {
      assert.equal(r.sha256, sha256(bodies[i]!), 'the pinned SHA-256 is the file’s');
      assert.equal(await transitionsTo('export', r.id, 'UPLOADED'), 1, `export ${r.id} uploaded once`);
    }

    // ── release ──
    const admin = new DatafenceClient({ endpoint: url, ...reviewer });
    for (const r of exports) await admin.exportFileApprove({ fenceId, boxId, fileId: r.id });
    const releaseKills = await killUntil('exports released', ended('datafence_exports', ['UPLOADED', 'APPROVED', 'EXPORTING']));
    assert.deepEqual((await statuses('datafence_exports')).map((r) => r.status), exports.map(() => 'EXPORTED'));
    ({ df, s3 } = clients());
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'crash-out' }));
    assert.deepEqual((out.Contents ?? []).map((o) => [o.Key, o.Size]).sort(), exports.map((r) => [r.source_path, FILE_BYTES]).sort());
    for (const r of exports) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'crash-out', Key: r.source_path! }));
      assert.equal(sha256(Buffer.from(await got.Body!.transformToByteArray())), r.sha256, 'released bytes hash to the pinned SHA-256');
      assert.equal(await transitionsTo('export', r.id, 'EXPORTED'), 1, `export ${r.id} released once`);
    }
    s3.destroy();
    t.diagnostic(`kills: import ${importKills}, upload ${uploadKills}, release ${releaseKills}`);
    assert.ok(importKills + uploadKills + releaseKills >= 1, 'the server was killed at least once mid-work');
  });
});
