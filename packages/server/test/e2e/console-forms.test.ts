/**
 * The console's create and drop forms for CFS, and its multi-file imports, end to end in Debian's
 * Chromium (playwright-core, `/usr/bin/chromium`). Signed in as the owner: a file system is
 * created through the form (after the form's own name check and the server's refusal of an unknown
 * zone, in place) and listed with its usage; a mount target is created on it; dropping the file
 * system while it has one shows the server's DropMountedFS in place; then the mount target and the
 * file system are dropped. An import of two files in one request makes two import records. Each
 * step is checked with the SDK too; the pages pass axe-core. A box-user key on the CFS page sees
 * the server's refusal in words.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CfsClient, DatafenceClient } from '@stockade/sdk';
import type { Browser } from 'playwright-core';
import { browserSkip, checkPage, launchBrowser, openConsole } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, newestBox, runTasks } from '../helpers/datafence.js';

const skip = browserSkip;

let srv: TestServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  srv = await startTestServer('console_forms', { config: { transitions: 'box=manual,import=manual' } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const open = (k: { accessKeyId: string; secretAccessKey: string }) => openConsole(browser, srv.url, k);

/** The console's way of writing a byte count (ui.tsx formatBytes), to compare with the API's fsUsage. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

test('the owner creates a file system and a mount target, is refused dropping a mounted file system, then drops both', { skip, timeout: 120_000 }, async () => {
  const cfs = new CfsClient(srv.creds);
  await cfs.createAccessGroup({ accessGroupName: 'forms-group' });
  const { page, watch } = await open(srv);
  await page.getByRole('link', { name: 'File storage (CFS)' }).click();
  await page.getByRole('heading', { name: 'File systems' }).waitFor();

  // The form checks the documented name rule first: nothing is sent.
  await page.getByText('Create a file system', { exact: true }).first().click();
  const form = page.locator('form[aria-labelledby="create-fs-title"]');
  await form.getByLabel('File system name').fill('9-starts-with-a-digit');
  await form.getByLabel('Availability zone').fill('zoneB');
  await form.getByRole('button', { name: 'Create a file system' }).click();
  await form.getByText('Fix the fields marked below.').waitFor();
  assert.equal(await form.getByLabel('File system name').getAttribute('aria-invalid'), 'true');
  assert.ok(!watch.requests.some((r) => r.method === 'POST' && new URL(r.url).pathname === '/v1/cfs'), 'an invalid form sends nothing');
  // A zone the server does not know: its error, with its code, in the form.
  await form.getByLabel('File system name').fill('console-fs');
  await form.getByLabel('Availability zone').fill('zoneNowhere');
  await form.getByRole('button', { name: 'Create a file system' }).click();
  await form.getByRole('alert').getByText('AvailabilityZoneNotFound').waitFor();
  assert.equal((await cfs.queryFileSystem({})).fileSystemList.length, 0);
  await form.getByLabel('Availability zone').fill('zoneB');
  await form.getByLabel('Capacity quota (GiB)').fill('5');
  await form.getByRole('button', { name: 'Create a file system' }).click();
  await form.getByRole('status').getByText(/File system cfs-\w+ created\./).waitFor();

  // The API has it; the page lists it with its usage and quota as the API gives them.
  const created = (await cfs.queryFileSystem({})).fileSystemList;
  assert.equal(created.length, 1);
  const fs = created[0]!;
  assert.deepEqual([fs.fsName, fs.zone, fs.type, fs.protocol, fs.capacityQuota], ['console-fs', 'zoneB', 'cap', 'nfs', 5 * 2 ** 30]);
  const card = page.locator(`article[data-fs-id="${fs.fsId}"]`);
  await card.getByText('console-fs', { exact: true }).waitFor();
  assert.equal(await card.locator('.fs-usage').textContent(), bytes(Number((await cfs.queryFileSystem({ fsId: fs.fsId })).fileSystemList[0]!.fsUsage)));
  await card.getByText('Quota: 5.0 GiB').waitFor();

  // A mount target: the VPC starts as the file system's, the subnet is typed, the group chosen.
  await card.getByText('Add a mount target', { exact: true }).first().click();
  const mt = page.getByRole('form', { name: 'Add a mount target to console-fs' });
  assert.equal(await mt.getByLabel('VPC').inputValue(), fs.vpcId);
  await mt.getByLabel('Subnet', { exact: true }).fill('sbn-stockade000b');
  await mt.getByLabel('Access group').selectOption('forms-group');
  await mt.getByRole('button', { name: 'Add a mount target' }).click();
  await card.locator('tr[data-mount-id]').waitFor();
  const targets = (await cfs.queryMountTarget({ fsId: fs.fsId })).mountTargetList;
  assert.equal(targets.length, 1);
  const target = targets[0]!;
  assert.deepEqual([target.subnetId, target.accessGroupName], ['sbn-stockade000b', 'forms-group']);
  const row = card.locator(`tr[data-mount-id="${target.mountId}"]`);
  await row.getByText(target.domain).waitFor();
  await row.getByRole('cell', { name: 'forms-group' }).waitFor();

  // Dropping the file system while it has a mount target: the server's DropMountedFS, in place.
  page.once('dialog', (d) => void d.accept());
  await card.getByRole('button', { name: 'Drop file system' }).click();
  await card.getByRole('alert').getByText('DropMountedFS').waitFor();
  assert.equal((await cfs.queryFileSystem({ fsId: fs.fsId })).fileSystemList.length, 1, 'still there');
  await checkPage(page, 'cfs-forms');

  // Drop the mount target, then the file system: each leaves the page and the API.
  page.once('dialog', (d) => void d.accept());
  await row.getByRole('button', { name: 'Drop mount target' }).click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual((await cfs.queryMountTarget({ fsId: fs.fsId })).mountTargetList, []);
  page.once('dialog', (d) => void d.accept());
  await card.getByRole('button', { name: 'Drop file system' }).click();
  await card.waitFor({ state: 'detached' });
  assert.deepEqual((await cfs.queryFileSystem({})).fileSystemList, []);
  await checkPage(page, 'cfs-dropped');

  // Signed with bce-auth-v1 in the browser; the refusals asked for, and nothing else went wrong.
  assert.deepEqual(watch.problems, [
    '400 POST /v1/cfs',
    `409 DELETE /v1/cfs/${fs.fsId}`,
  ]);
  await page.context().close();
});

test('an import of two files in one request makes two import records; the form checks the count first', { skip, timeout: 120_000 }, async () => {
  const owner = new DatafenceClient(srv.creds);
  const fenceId = (await owner.getDatafence())[0]!.fenceId;
  await owner.createBox({ fenceId, description: 'console forms', createBoxInfo: boxInfo(await owner.getProductSpec()) });
  await runTasks(srv);
  const boxId = (await newestBox(owner, fenceId)).boxId;
  const s3 = new S3Client({ endpoint: srv.url, region: 'us-east-1', forcePathStyle: true, credentials: srv });
  await s3.send(new CreateBucketCommand({ Bucket: 'multi-in' }));
  await s3.send(new PutObjectCommand({ Bucket: 'multi-in', Key: 'a/one.txt', Body: 'one\n' }));
  await s3.send(new PutObjectCommand({ Bucket: 'multi-in', Key: 'a/two.txt', Body: 'two\n' }));
  s3.destroy();

  const { page, watch } = await open(srv);
  await page.getByRole('link', { name: 'Imports and exports' }).click();
  await page.locator('select[name="box"]').selectOption(String(boxId));
  const imp = page.locator('form[aria-labelledby="import-form-title"]');
  await imp.locator('select[name="import-bucket"]').selectOption('multi-in');
  // Eleven files are one too many: the form says so and sends nothing.
  await imp.getByLabel('Object keys').fill(Array.from({ length: 11 }, (_, i) => `a/f${i}.txt`).join('\n'));
  await imp.getByLabel('Description').fill('two at once');
  await imp.getByRole('button', { name: 'Request import' }).click();
  await imp.getByText('Give 1 to 10 different files, one per line.').waitFor();
  assert.equal(await imp.getByLabel('Object keys').getAttribute('aria-invalid'), 'true');
  assert.ok(!watch.requests.some((r) => r.url.includes('/create-file-import')), 'an invalid form sends nothing');
  // A key that is not in the bucket: the server's error, with its code, in the form; nothing made.
  await imp.getByLabel('Object keys').fill('a/one.txt\na/missing.txt');
  await imp.getByRole('button', { name: 'Request import' }).click();
  await imp.getByRole('alert').getByText('2610012').waitFor();
  assert.equal((await owner.getImportList({ fenceId, boxId })).content.length, 0);
  // Two files, one request: two records.
  await imp.getByLabel('Object keys').fill('a/one.txt\n\na/two.txt\n');
  await imp.getByRole('button', { name: 'Request import' }).click();
  await page.getByRole('status').getByText('File import requested.').waitFor();
  const records = (await owner.getImportList({ fenceId, boxId })).content;
  assert.deepEqual(records.map((r) => r.sourceFilePath).sort(), ['a/one.txt', 'a/two.txt']);
  assert.ok(records.every((r) => r.description === 'two at once' && r.sourceBucketName === 'multi-in'));
  await page.locator('#imports tr[data-file="a/one.txt"]').waitFor();
  await page.locator('#imports tr[data-file="a/two.txt"]').waitFor();
  assert.equal(watch.requests.filter((r) => r.url.includes('/create-file-import')).length, 2, 'the refused request and the one that made both records');
  assert.equal(await imp.getByLabel('Object keys').inputValue(), '', 'the list is emptied after the request');
  await checkPage(page, 'imports-multi');
  assert.deepEqual(watch.problems, ['400 POST /api/v1/import/create-file-import']);
  await page.context().close();
});

test("a box-user key on the CFS page sees the server's refusal in words", { skip, timeout: 60_000 }, async () => {
  const key = await srv.newKey('box-user');
  const { page, watch } = await open(key);
  await page.getByRole('link', { name: 'File storage (CFS)' }).click();
  await page.getByText('CFS needs an owner key.').waitFor();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? '', /AccessDenied/);
  assert.equal(await page.getByRole('button', { name: 'Create a file system' }).count(), 0);
  await checkPage(page, 'cfs-box-user');
  assert.deepEqual(watch.problems, ['403 GET /v1/cfs']);
  await page.context().close();
});
