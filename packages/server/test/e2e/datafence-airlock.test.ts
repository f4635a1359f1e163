/**
 * Datafence import, export and review (issue 9) over real sockets: the project's SDK for
 * Datafence, the AWS SDK for the buckets, the NAS test control for files in the box. An object
 * is imported onto the box NAS, a result written in the box is exported, copied for review,
 * reviewed by another user and released into the target bucket with the same bytes. Governance:
 * no self-approval, N distinct reviewers, one rejection rejects, the pinned SHA-256 re-checked at
 * release, the review bucket sealed, the export policy, the import security check, the audit
 * trail. Transfers are manual here: a request waits until the test runs the tasks.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { DatafenceClient, StockadeClient } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, newestBox, runTasks, type Catalog } from '../helpers/datafence.js';
import { rejects } from '../helpers/ncp.js';
import { rejectsS3 } from '../helpers/s3.js';
import { listAuditEvents } from '../../src/store/audit.js';
import { EICAR, extensionOf, parsePolicies } from '../../src/services/datafence/airlock.js';
import { findBwrap } from '../../src/services/datafence/sandbox.js';
import { cliEnv, runCli } from '../helpers/cli.js';

let srv: TestServer;
let owner: DatafenceClient;
let admin: DatafenceClient;
let analyst: DatafenceClient;
let s3: S3Client;
let catalog: Catalog;
let fenceId: number;
let boxId: number;
let otherBox: number;
let nasNo: number;
let reviewBucket: string;

const IN = 'airlock-in';
const OUT = 'airlock-out';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const s3For = (creds: { accessKeyId: string; secretAccessKey: string }) =>
  new S3Client({ endpoint: srv.url, region: 'us-east-1', forcePathStyle: true, credentials: creds });

async function putObject(key: string, body: Buffer | string, bucket = IN): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function getObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** A NAS test control request on the box's first NAS. */
function nas(method: string, rel: string, body?: Buffer | string) {
  return fetch(`${srv.url}/_stockade/boxes/${boxId}/nas/${rel}`, { method, headers: { 'x-stockade-control': '1' }, ...(body !== undefined ? { body } : {}) });
}

async function nasFile(rel: string): Promise<Buffer | undefined> {
  const r = await nas('GET', rel);
  if (r.status === 404) return undefined;
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

async function writeInBox(rel: string, body: Buffer | string): Promise<void> {
  const r = await nas('PUT', rel, body);
  assert.equal(r.status, 200, await r.text());
}

const box = () => ({ fenceId, boxId });

/** The newest import / export request of the box. */
const newestImport = async () => (await owner.getImportList({ ...box(), size: 1 })).content[0]!;
const newestExport = async () => (await owner.getExportList({ ...box(), size: 1 })).content[0]!;

function exportBody(files: string[], extra: Record<string, unknown> = {}) {
  return {
    ...box(),
    sourceNasInstanceNo: nasNo,
    sourceFilePathList: files,
    targetBucketName: OUT,
    fileDescription: 'mean of the cohort',
    exportPurpose: 'paper figure 2',
    description: 'result',
    ...extra,
  };
}

/** A file written in the box and exported by `client` until it is UPLOADED; its fileId. */
async function uploaded(client: DatafenceClient, name: string, body: Buffer | string): Promise<number> {
  await writeInBox(name, body);
  await client.createFileExport(exportBody([name]));
  const { fileId } = await newestExport();
  await runTasks(srv);
  assert.equal((await owner.getExportDetail({ ...box(), fileId })).statusCode, 'UPLOADED');
  return fileId;
}

before(async () => {
  srv = await startTestServer('df-airlock', {
    config: {
      transitions: 'box=manual,fence=manual,import=manual,export=manual',
      exportPolicy: { default: { allowedExtensions: ['.csv', '.txt', '.bin'], maxSizeBytes: 64 * 1024 } },
    },
  });
  owner = new DatafenceClient(srv.creds);
  catalog = await owner.getProductSpec();
  const fence = (await owner.getDatafence())[0]!;
  fenceId = fence.fenceId;
  reviewBucket = fence.exportScreenBucketName;
  for (const _ of [1, 2]) await owner.createBox({ fenceId, description: 'airlock', createBoxInfo: boxInfo(catalog) });
  await runTasks(srv);
  otherBox = (await newestBox(owner, fenceId)).boxId;
  boxId = otherBox - 1;
  nasNo = (await owner.getTargetNasList(box())).content[0]!.instanceNo;
  admin = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('fence-admin')) });
  analyst = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user', undefined, { boxes: [boxId] })) });
  s3 = s3For(srv);
  await s3.send(new CreateBucketCommand({ Bucket: IN }));
  await s3.send(new CreateBucketCommand({ Bucket: OUT }));
});

after(async () => {
  s3?.destroy();
  await srv?.close();
});

describe('NAS lists', () => {
  test("get-target-nas-list and get-source-nas-list show the box's NAS; other boxes, keys and accounts are refused", async () => {
    const t = await analyst.getTargetNasList(box());
    assert.equal(t.content.length, 1);
    assert.equal(t.content[0]!.instanceName, `${boxId}box1`);
    assert.ok(t.content[0]!.boxStorageId > 0);
    assert.deepEqual(await analyst.getSourceNasList(box()), t);
    await rejects(analyst.getTargetNasList({ fenceId, boxId: otherBox }), 400, '2600003');
    await rejects(owner.getSourceNasList({ fenceId, boxId: 999_999 }), 400, '2600054');
    await rejects(owner.getSourceNasList({ fenceId: 999_999, boxId }), 400, '2600053');
  });

  test("every operation: another account's key sees nothing (2600053), an unbound box-user key nothing (2600003), review needs a reviewer's role (401/210)", async () => {
    const stranger = new DatafenceClient({ endpoint: srv.url, ...(await srv.newAccount('airlock-stranger')) });
    const unbound = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
    const file = { ...box(), fileId: 1 };
    const calls = (c: DatafenceClient) => [
      () => c.getTargetNasList(box()),
      () => c.getSourceNasList(box()),
      () => c.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['x.csv'], targetNasInstanceNo: nasNo, description: 'd' }),
      () => c.getImportList(box()),
      () => c.getImportDetail(file),
      () => c.createFileExport(exportBody(['x.csv'])),
      () => c.getExportList(box()),
      () => c.getExportDetail(file),
      () => c.cancelFileExport(file),
    ];
    const reviews = (c: DatafenceClient) => [
      () => c.getExportFileApproveList(box()),
      () => c.getExportFileApproveDetail(file),
      () => c.exportFileApprove(file),
      () => c.exportFileReject({ ...file, rejectReason: 'no' }),
    ];
    for (const call of [...calls(stranger), ...reviews(stranger)]) await rejects(call(), 400, '2600053');
    for (const call of calls(unbound)) await rejects(call(), 400, '2600003');
    for (const call of reviews(analyst)) await rejects(call(), 401, '210');
  });
});

describe('import', () => {
  test('objects imported by an analyst land on the box NAS as {fileId}_{name}, one request per file', async () => {
    const a = randomBytes(3000);
    await putObject('cohort/a.csv', a);
    await putObject('b.txt', 'hello box');
    assert.deepEqual(
      await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['cohort/a.csv', 'b.txt'], targetNasInstanceNo: String(nasNo), description: 'cohort data' }),
      { message: 'File import requested.' },
    );
    const list = await analyst.getImportList({ ...box(), status: 'INITIALIZED' });
    assert.equal(list.totalCount, 2);
    const [b, first] = list.content; // newest first
    assert.equal(first!.sourceFilePath, 'cohort/a.csv');
    assert.equal(first!.statusName, 'Import requested (before file transfer)');
    assert.equal(first!.targetNasName, `${boxId}box1`);
    assert.equal(first!.completeDate, '');
    assert.equal(await nasFile(`${first!.fileId}_a.csv`), undefined, 'nothing lands before the transfer');

    await runTasks(srv);
    const done = await analyst.getImportDetail({ ...box(), fileId: first!.fileId });
    assert.equal(done.statusCode, 'IMPORTED');
    assert.equal(done.statusName, 'Import completed');
    assert.match(done.completeDate, /\+09:00$/);
    assert.deepEqual(await nasFile(`${first!.fileId}_a.csv`), a);
    assert.equal((await nasFile(`${b!.fileId}_b.txt`))?.toString(), 'hello box');
    assert.equal((await analyst.getImportList({ ...box(), status: 'IMPORTED' })).totalCount, 2);
    assert.equal((await analyst.getImportList({ ...box(), from: '20000101000000', to: '20991231235959' })).totalCount, 2);
    assert.equal((await analyst.getImportList({ ...box(), to: '20000101000000' })).totalCount, 0);
    const ko = new DatafenceClient({ ...srv.creds, lang: 'ko-KR' });
    assert.equal((await ko.getImportDetail({ ...box(), fileId: first!.fileId })).statusName, '반입완료');
    await rejects(analyst.getImportDetail({ ...box(), fileId: 999_999 }), 400, '2610014');
    await rejects(analyst.getImportList({ ...box(), from: '20251399000000' }), 400, '10001');
    await rejects(analyst.getImportDetail({ fenceId, boxId: otherBox, fileId: first!.fileId }), 400, '2600003');
    await rejects(owner.getImportDetail({ fenceId, boxId: otherBox, fileId: first!.fileId }), 400, '2610014');
  });

  test('create-file-import refuses a missing bucket or object, a foreign NAS and bad lists, and creates nothing', async () => {
    await putObject('ok.csv', 'x');
    const before = (await owner.getImportList(box())).totalCount;
    const body = { ...box(), sourceBucketName: IN, sourceFilePathList: ['ok.csv'], targetNasInstanceNo: nasNo, description: 'd' };
    await rejects(analyst.createFileImport({ ...body, sourceBucketName: 'no-such-bucket-here' }), 400, '2600029');
    await rejects(analyst.createFileImport({ ...body, sourceFilePathList: ['ok.csv', 'missing.csv'] }), 400, '2610012');
    const foreignNas = (await owner.getTargetNasList({ fenceId, boxId: otherBox })).content[0]!.instanceNo;
    await rejects(analyst.createFileImport({ ...body, targetNasInstanceNo: foreignNas }), 400, '2610002');
    await rejects(analyst.createFileImport({ ...body, sourceFilePathList: Array.from({ length: 11 }, (_, i) => `f${i}`) }), 400, '10001');
    await rejects(analyst.createFileImport({ ...body, sourceFilePathList: ['ok.csv', 'ok.csv'] }), 400, '10001');
    await rejects(analyst.createFileImport({ ...body, sourceFilePathList: ['dir/'] }), 400, '10001');
    await rejects(analyst.createFileImport({ ...body, description: 'x'.repeat(51) }), 400, '10001');
    await rejects(analyst.createFileImport({ ...body, boxId: otherBox }), 400, '2600003');
    const unbound = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user')) });
    await rejects(unbound.createFileImport(body), 400, '2600003');
    // Another account's bucket is as good as missing.
    const acc = await srv.newAccount('airlock-bucket-owner');
    const theirs = s3For(acc);
    await theirs.send(new CreateBucketCommand({ Bucket: 'airlock-theirs' }));
    await theirs.send(new PutObjectCommand({ Bucket: 'airlock-theirs', Key: 'ok.csv', Body: 'secret' }));
    theirs.destroy();
    await rejects(analyst.createFileImport({ ...body, sourceBucketName: 'airlock-theirs' }), 400, '2600029');
    assert.equal((await owner.getImportList(box())).totalCount, before);
  });

  test('the security check refuses the EICAR signature and a blocked extension (ERROR_SECURITY); nothing lands', async () => {
    await putObject('eicar.txt', EICAR);
    await putObject('tool.exe', 'MZ');
    await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['eicar.txt', 'tool.exe'], targetNasInstanceNo: nasNo, description: 'suspicious' });
    await runTasks(srv);
    const rows = (await owner.getImportList({ ...box(), size: 2 })).content;
    for (const r of rows) {
      assert.equal(r.statusCode, 'ERROR_SECURITY', r.sourceFilePath);
      assert.equal(r.statusName, 'Error (security check)');
      assert.equal(await nasFile(`${r.fileId}_${r.sourceFilePath}`), undefined);
    }
    const listing = (await (await nas('GET', '')).json()) as { files: Array<{ path: string }> };
    assert.ok(!listing.files.some((f) => f.path.includes('eicar') || f.path.endsWith('.exe')), JSON.stringify(listing.files));
  });

  test('with --import-scan-command, the command decides from the file it is given (exit 0 admits)', async () => {
    const scanner = path.join(srv.app.ctx.config.dataDir, 'scan.sh');
    await fsp.writeFile(scanner, '#!/bin/sh\n! grep -q FORBIDDEN "$1"\n', { mode: 0o755 });
    srv.app.ctx.config.importScanCommand = scanner;
    try {
      await putObject('clean.exe', 'nothing to see');
      await putObject('dirty.csv', 'a,FORBIDDEN,c');
      await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['clean.exe', 'dirty.csv'], targetNasInstanceNo: nasNo, description: 'scanned' });
      await runTasks(srv);
      const [dirty, clean] = (await owner.getImportList({ ...box(), size: 2 })).content;
      assert.equal(clean!.statusCode, 'IMPORTED', 'the scanner, not the built-in extension list, decides');
      assert.equal(dirty!.statusCode, 'ERROR_SECURITY');
      assert.equal(await nasFile(`${dirty!.fileId}_dirty.csv`), undefined);
    } finally {
      delete srv.app.ctx.config.importScanCommand;
    }
  });

  test('an object that does not fit on the NAS ends the import in ERROR_FILE and nothing lands', async () => {
    const volumes = srv.app.ctx.volumes;
    const nasVolume = (await srv.app.ctx.api('datafence').boxNas(boxId))[0]!.volumeId;
    const before = (await volumes.get(nasVolume))!;
    await putObject('too-big.csv', Buffer.alloc(4096, 1));
    await srv.app.ctx.store.tx((trx) => volumes.setQuota(trx, nasVolume, Number(before.used_bytes) + 1000));
    try {
      await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['too-big.csv'], targetNasInstanceNo: nasNo, description: 'd' });
      await runTasks(srv);
      const r = await newestImport();
      assert.equal(r.statusCode, 'ERROR_FILE');
      assert.equal(await nasFile(`${r.fileId}_too-big.csv`), undefined);
    } finally {
      await srv.app.ctx.store.tx((trx) => volumes.setQuota(trx, nasVolume, Number(before.quota_bytes)));
    }
  });

  test('an object deleted before its transfer ends the import in ERROR_FILE', async () => {
    await putObject('vanishing.csv', 'soon gone');
    await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['vanishing.csv'], targetNasInstanceNo: nasNo, description: 'd' });
    await s3.send(new DeleteObjectCommand({ Bucket: IN, Key: 'vanishing.csv' }));
    await runTasks(srv);
    assert.equal((await newestImport()).statusCode, 'ERROR_FILE');
  });
});

describe('export and review', () => {
  test('the whole loop: import, a result written in the box, export, review by another user, the same bytes in the target bucket', async () => {
    const data = randomBytes(5000);
    await putObject('input.bin', data);
    await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['input.bin'], targetNasInstanceNo: nasNo, description: 'loop' });
    await runTasks(srv);
    const imp = await newestImport();
    assert.deepEqual(await nasFile(`${imp.fileId}_input.bin`), data);

    const result = Buffer.concat([Buffer.from('sha of input: '), Buffer.from(sha256(data))]);
    const name = `${imp.fileId}_result.txt`;
    await writeInBox(name, result);
    assert.deepEqual(await analyst.createFileExport(exportBody([name])), { message: 'File export requested.' });
    const req = await newestExport();
    assert.equal(req.statusCode, 'INITIALIZED');
    assert.equal(req.sourceFilePath, name);
    assert.equal(req.resultDate, '');
    assert.match(req.requesterId, /^box-user-/);
    assert.equal((await owner.getBoxSummaryInfo(box())).exportApplyCount >= 1, true);

    await runTasks(srv);
    const review = await admin.getExportFileApproveDetail({ ...box(), fileId: req.fileId });
    assert.equal(review.statusCode, 'UPLOADED');
    assert.equal(review.statusName, 'Review requested (file transfer completed)');
    assert.equal(review.sha256, sha256(result));
    assert.equal(review.fileSize, 1);
    assert.equal(review.fileDescription, 'mean of the cohort');
    assert.equal(review.exportPurpose, 'paper figure 2');
    assert.equal(review.approvalsRequired, 1);
    assert.deepEqual(review.voteList, []);
    assert.match(review.screenFilePath, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+09:00_${req.fileId}_${name}$`));
    const approveList = await admin.getExportFileApproveList({ ...box(), status: 'UPLOADED' });
    assert.equal(approveList.reviewBucketName, reviewBucket);
    assert.ok(approveList.content.some((r) => r.fileId === req.fileId));

    // The reviewer reads the copy under review (audited); nobody writes to the review bucket or copies out of it.
    const adminKeys = await srv.newKey('fence-admin');
    const reviewer = s3For(adminKeys);
    assert.deepEqual(await getObject(reviewer, reviewBucket, review.screenFilePath), result);
    await reviewer.send(new HeadObjectCommand({ Bucket: reviewBucket, Key: review.screenFilePath }));
    await rejectsS3(s3.send(new PutObjectCommand({ Bucket: reviewBucket, Key: review.screenFilePath, Body: 'forged' })), 403, 'AccessDenied');
    await rejectsS3(s3.send(new DeleteObjectCommand({ Bucket: reviewBucket, Key: review.screenFilePath })), 403, 'AccessDenied');
    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: OUT, Key: 'bypass', CopySource: `${reviewBucket}/${encodeURIComponent(review.screenFilePath)}` })), 403, 'AccessDenied');
    // A box user's key cannot read the review bucket.
    const analystS3 = s3For(await srv.newKey('box-user', undefined, { boxes: [boxId] }));
    await rejectsS3(analystS3.send(new GetObjectCommand({ Bucket: reviewBucket, Key: review.screenFilePath })), 403, 'AccessDenied');
    analystS3.destroy();
    reviewer.destroy();

    assert.deepEqual(await admin.exportFileApprove({ ...box(), fileId: req.fileId }), { message: 'File export approved.' });
    const approved = await analyst.getExportDetail({ ...box(), fileId: req.fileId });
    assert.equal(approved.statusCode, 'APPROVED');
    assert.match(approved.resultDate, /\+09:00$/);
    await runTasks(srv);
    assert.equal((await analyst.getExportDetail({ ...box(), fileId: req.fileId })).statusCode, 'EXPORTED');
    assert.deepEqual(await getObject(s3, OUT, name), result);
    const detail = await owner.getExportFileApproveDetail({ ...box(), fileId: req.fileId });
    assert.deepEqual(detail.voteList.map((v) => [v.vote, v.reason]), [['APPROVE', '']]);
    assert.equal(detail.resultDate, approved.resultDate);

    // The request's whole trail, in the fence's audit log, and the chain verifies.
    const events = await listAuditEvents(srv.app.ctx.store.db, { fenceId, limit: 1000 });
    const trail = events.filter((e) => e.resource === `fence/${fenceId}/box/${boxId}/export/${req.fileId}`).map((e) => e.action);
    assert.deepEqual(trail.sort(), ['export.approve', 'export.request', 'export.transition', 'export.transition', 'export.transition', 'export.transition', 'export.transition'].sort());
    const reads = events.filter((e) => e.action === 's3.GetObject' || e.action === 's3.HeadObject');
    assert.ok(reads.length >= 2, 'reads of the review object are audited');
    assert.ok(events.some((e) => e.action === 'import.transition'));
    // The reviewer reads the same trail through the API (list-audit-events: a fence-admin key sees its fences' events), their own reads included.
    const asReviewer = new StockadeClient({ endpoint: srv.url, ...adminKeys });
    const seen = (await asReviewer.listAuditEvents({ resource: `fence/${fenceId}/box/${boxId}/export/${req.fileId}`, limit: 200 })).events;
    assert.deepEqual(seen.map((e) => e.action).sort(), trail);
    const ownReads = (await asReviewer.listAuditEvents({ action: 's3.', limit: 200 })).events.filter((e) => e.accessKeyId === adminKeys.accessKeyId);
    assert.deepEqual(ownReads.map((e) => [e.action, e.fenceId]).sort(), [['s3.GetObject', fenceId], ['s3.HeadObject', fenceId]]);
    // As an operator reads it: `stockade audit list --fence ID`, and `stockade audit verify`.
    const c = srv.app.ctx.config;
    const operator = (args: string[]) =>
      runCli(['audit', ...args, '--data', c.dataDir, ...(c.databaseUrl ? ['--database', c.databaseUrl] : [])], {
        env: cliEnv({ STOCKADE_MASTER_KEY: 'test-master-key', STOCKADE_DATABASE_SCHEMA: c.databaseSchema }),
      });
    const listed = await operator(['list', '--json', '--fence', String(fenceId), '--resource', `fence/${fenceId}/box/${boxId}/export/${req.fileId}`]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ action: string }>).map((e) => e.action).sort(), trail);
    const verified = await operator(['verify']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });

  test('inside the box (`stockade box exec`) the imported file is read and a result written, which is exported', { skip: findBwrap() ? false : 'bubblewrap (bwrap) is not installed' }, async () => {
    const data = randomBytes(2000);
    await putObject('sandbox-input.bin', data);
    await analyst.createFileImport({ ...box(), sourceBucketName: IN, sourceFilePathList: ['sandbox-input.bin'], targetNasInstanceNo: nasNo, description: 'sandbox' });
    await runTasks(srv);
    const imp = await newestImport();
    assert.equal(imp.statusCode, 'IMPORTED');
    const mount = `/mnt/${boxId}box1`;
    const c = srv.app.ctx.config;
    const r = await runCli(
      ['box', 'exec', '--data', c.dataDir, ...(c.databaseUrl ? ['--database', c.databaseUrl] : []), '--box', String(boxId), '--', 'sh', '-c', `sha256sum < ${mount}/${imp.fileId}_sandbox-input.bin | cut -d' ' -f1 > ${mount}/sandbox-result.txt`],
      { env: cliEnv({ STOCKADE_MASTER_KEY: 'test-master-key', STOCKADE_DATABASE_SCHEMA: c.databaseSchema }) },
    );
    assert.equal(r.code, 0, r.stderr);
    await analyst.createFileExport(exportBody(['sandbox-result.txt']));
    const { fileId } = await newestExport();
    await runTasks(srv);
    await admin.exportFileApprove({ ...box(), fileId });
    await runTasks(srv);
    assert.equal((await getObject(s3, OUT, 'sandbox-result.txt')).toString().trim(), sha256(data));
  });

  test('create-file-export refuses a missing bucket or file, a foreign NAS, the policy, bad paths and texts, and creates nothing', async () => {
    await writeInBox('table.csv', 'a,b\n1,2\n');
    await writeInBox('notes.md', '# notes');
    await writeInBox('big.csv', Buffer.alloc(64 * 1024 + 1, 1));
    const before = (await owner.getExportList(box())).totalCount;
    await rejects(analyst.createFileExport(exportBody(['table.csv'], { targetBucketName: 'no-such-bucket-here' })), 400, '2600029');
    await rejects(analyst.createFileExport(exportBody(['table.csv'], { targetBucketName: reviewBucket })), 400, '2600029');
    await rejects(analyst.createFileExport(exportBody(['table.csv', 'missing.csv'])), 400, '2610012');
    await rejects(analyst.createFileExport(exportBody(['notes.md'])), 400, '2610006');
    await rejects(analyst.createFileExport(exportBody(['big.csv'])), 400, '2610008');
    // Over 2 GB: a sparse file on the NAS (no disk space used).
    const dir = srv.app.ctx.volumes.dirOf((await srv.app.ctx.api('datafence').boxNas(boxId))[0]!.volumeId);
    await fsp.writeFile(path.join(dir, 'huge.csv'), '');
    await fsp.truncate(path.join(dir, 'huge.csv'), 2 * 1024 ** 3 + 1);
    await rejects(analyst.createFileExport(exportBody(['huge.csv'])), 400, '2610004');
    await fsp.rm(path.join(dir, 'huge.csv'));
    const foreignNas = (await owner.getSourceNasList({ fenceId, boxId: otherBox })).content[0]!.instanceNo;
    await rejects(analyst.createFileExport(exportBody(['table.csv'], { sourceNasInstanceNo: foreignNas })), 400, '2610002');
    await rejects(analyst.createFileExport(exportBody(['../table.csv'])), 400, '10001');
    await rejects(analyst.createFileExport(exportBody(['table.csv', 'table.csv'])), 400, '10001');
    await rejects(analyst.createFileExport(exportBody(['table.csv'], { fileDescription: '' })), 400, '10001');
    await rejects(analyst.createFileExport(exportBody(['table.csv'], { exportPurpose: 'x'.repeat(1001) })), 400, '10001');
    await rejects(analyst.createFileExport(exportBody(['table.csv'], { boxId: otherBox })), 400, '2600003');
    assert.equal((await owner.getExportList(box())).totalCount, before);
    await rejects(analyst.getExportDetail({ ...box(), fileId: 999_999 }), 400, '2610014');
    await rejects(admin.getExportFileApproveDetail({ ...box(), fileId: 999_999 }), 400, '2610014');
  });

  test('a requester never decides on their own request; a box user cannot review at all', async () => {
    const fileId = await uploaded(owner, 'own.csv', 'x,y\n');
    await rejects(owner.exportFileApprove({ ...box(), fileId }), 400, '2610016');
    await rejects(owner.exportFileReject({ ...box(), fileId, rejectReason: 'no' }), 400, '2610016');
    await rejects(analyst.exportFileApprove({ ...box(), fileId }), 401, '210');
    await rejects(analyst.getExportFileApproveList(box()), 401, '210');
    const stranger = new DatafenceClient({ endpoint: srv.url, ...(await srv.newAccount('airlock-reviewer')) });
    await rejects(stranger.exportFileApprove({ ...box(), fileId }), 400, '2600053');
    assert.equal((await owner.getExportDetail({ ...box(), fileId })).statusCode, 'UPLOADED');
    await admin.exportFileApprove({ ...box(), fileId });
    assert.equal((await owner.getExportDetail({ ...box(), fileId })).statusCode, 'APPROVED');
  });

  test('with --export-approvals 2, two distinct reviewers must approve; each votes once; one rejection rejects', async () => {
    const config = srv.app.ctx.config;
    config.exportApprovals = 2;
    try {
      // Two reviewers approving at once: both votes count, the request is approved once.
      const raced = await uploaded(analyst, 'race.csv', 'r\n');
      await Promise.all([admin.exportFileApprove({ ...box(), fileId: raced }), owner.exportFileApprove({ ...box(), fileId: raced })]);
      const rd = await owner.getExportFileApproveDetail({ ...box(), fileId: raced });
      assert.equal(rd.statusCode, 'APPROVED');
      assert.equal(rd.voteList.length, 2);

      const fileId = await uploaded(analyst, 'two.csv', '2,2\n');
      await admin.exportFileApprove({ ...box(), fileId });
      let d = await owner.getExportFileApproveDetail({ ...box(), fileId });
      assert.equal(d.statusCode, 'UPLOADED');
      assert.equal(d.approvalsRequired, 2);
      assert.equal(d.voteList.length, 1);
      await rejects(admin.exportFileApprove({ ...box(), fileId }), 400, '2610018');
      await owner.exportFileApprove({ ...box(), fileId });
      d = await owner.getExportFileApproveDetail({ ...box(), fileId });
      assert.equal(d.statusCode, 'APPROVED');
      assert.equal(d.voteList.length, 2);
      await rejects(admin.exportFileReject({ ...box(), fileId, rejectReason: 'late' }), 400, '2610010');

      const second = await uploaded(analyst, 'three.csv', '3\n');
      await owner.exportFileApprove({ ...box(), fileId: second });
      await rejects(admin.exportFileReject({ ...box(), fileId: second, rejectReason: '' }), 400, '10001');
      assert.deepEqual(await admin.exportFileReject({ ...box(), fileId: second, rejectReason: 'identifiable rows' }), { message: 'File export rejected.' });
      const r = await analyst.getExportDetail({ ...box(), fileId: second });
      assert.equal(r.statusCode, 'REJECTED');
      assert.equal(r.rejectReason, 'identifiable rows');
      assert.match(r.resultDate, /\+09:00$/);
      await rejects(owner.exportFileApprove({ ...box(), fileId: second }), 400, '2610010');
      await runTasks(srv);
      await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: OUT, Key: 'three.csv' })), 404);
    } finally {
      config.exportApprovals = 1;
    }
  });

  test('a review object altered in storage is not released: ERROR_FILE, nothing in the target bucket', async () => {
    const fileId = await uploaded(analyst, 'tamper.csv', 'honest,data\n');
    const d = await owner.getExportFileApproveDetail({ ...box(), fileId });
    const { rows } = await sql<{ blob_id: string }>`select l.blob_id from s3_objects o join s3_object_blobs l on l.version = o.version where o.bucket = ${reviewBucket} and o.key = ${d.screenFilePath}`.execute(
      srv.app.ctx.store.db,
    );
    const blobId = rows[0]!.blob_id;
    await fsp.writeFile(path.join(srv.app.ctx.config.dataDir, 'blobs', blobId.slice(0, 2), blobId), 'forged,data\n');
    await admin.exportFileApprove({ ...box(), fileId });
    await runTasks(srv);
    const after = await owner.getExportDetail({ ...box(), fileId });
    assert.equal(after.statusCode, 'ERROR_FILE');
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: OUT, Key: 'tamper.csv' })), 404);
  });

  test('cancel-file-export removes an undecided request and its review copy; a decided one stays', async () => {
    const fileId = await uploaded(analyst, 'cancel.csv', 'c\n');
    const d = await owner.getExportFileApproveDetail({ ...box(), fileId });
    const other = new DatafenceClient({ endpoint: srv.url, ...(await srv.newKey('box-user', undefined, { boxes: [boxId] })) });
    await rejects(other.cancelFileExport({ ...box(), fileId }), 400, '2600003');
    assert.deepEqual(await analyst.cancelFileExport({ ...box(), fileId }), { message: 'File export cancel requested.' });
    await rejects(analyst.getExportDetail({ ...box(), fileId }), 400, '2610014');
    await rejects(analyst.cancelFileExport({ ...box(), fileId }), 400, '2610014');
    assert.ok(!(await owner.getExportFileApproveList({ ...box(), size: 100 })).content.some((r) => r.fileId === fileId));
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: reviewBucket, Key: d.screenFilePath })), 404);

    // Canceled before its copy ran: the copy commits nothing.
    await writeInBox('early.csv', 'e\n');
    await analyst.createFileExport(exportBody(['early.csv']));
    const early = (await newestExport()).fileId;
    await analyst.cancelFileExport({ ...box(), fileId: early });
    await runTasks(srv);
    const { rows } = await sql<{ n: number }>`select count(*) as n from s3_objects where bucket = ${reviewBucket} and key like ${'%_' + early + '_early.csv'}`.execute(srv.app.ctx.store.db);
    assert.equal(Number(rows[0]!.n), 0);

    const decided = await uploaded(analyst, 'decided.csv', 'd\n');
    await admin.exportFileReject({ ...box(), fileId: decided, rejectReason: 'no' });
    await rejects(analyst.cancelFileExport({ ...box(), fileId: decided }), 400, '2610010');
    await rejects(analyst.cancelFileExport({ fenceId, boxId: otherBox, fileId: decided }), 400, '2600003');
  });
});

describe('the export policy file', () => {
  test('a fence of its own overrides the default; extensions are normalised; a bad file says where it is wrong', () => {
    const p = parsePolicies({ default: { maxSizeBytes: 10 }, fences: { '7': { allowedExtensions: ['CSV', '.Txt', ''] } } }, 'policy.json');
    assert.deepEqual(p.fallback, { allowedExtensions: null, maxSizeBytes: 10 });
    assert.deepEqual(p.fences.get(7), { allowedExtensions: ['.csv', '.txt', ''], maxSizeBytes: null });
    assert.equal(extensionOf('dir.v2/Report.CSV'), '.csv');
    assert.equal(extensionOf('README'), '');
    assert.equal(extensionOf('.hidden'), '');
    assert.throws(() => parsePolicies({ fences: { abc: {} } }, 'policy.json'), /policy.json: fences: "abc" is not a fence id/);
    assert.throws(() => parsePolicies({ default: { maxSizeBytes: -1 } }, 'policy.json'), /default.maxSizeBytes must be a non-negative integer/);
    assert.throws(() => parsePolicies({ default: { allowedExtension: [] } }, 'policy.json'), /unknown field allowedExtension/);
    assert.throws(() => parsePolicies([], 'policy.json'), /must be a JSON object/);
  });
});
