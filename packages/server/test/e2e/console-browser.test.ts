/**
 * The web console end to end in Debian's Chromium (playwright-core, `/usr/bin/chromium`;
 * `.ci/run` installs it): sign in with an access key, see the account and role, list fences,
 * create a bucket and upload a file. The browser signs every call itself: the test sees NCP v2
 * and SigV4 signatures on the wire, the secret in no request and no cookie, and no CSP violation.
 * Another account's key sees none of it. Screenshots go to packages/server/dist/test-artifacts/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DatafenceClient } from '@stockade/sdk';
import type { Browser } from 'playwright-core';
import { browserSkip, checkPage, launchBrowser, openConsole } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Passw0rd#2024';
const skip = browserSkip;

let srv: TestServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  // Boxes wait for a manual transition (the dev page advances them); one box per fence, so that
  // a second create-box is refused by the server.
  srv = await startTestServer('console_browser', { config: { transitions: 'box=manual', boxLimit: 1 } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

/** Runs due tasks (manual transitions included) through the dev profile's test control. */
async function runTasks(): Promise<void> {
  const res = await fetch(srv.url + '/_stockade/tasks/run', { method: 'POST', headers: { 'x-stockade-control': '1' } });
  assert.equal(res.status, 200);
}

/** Signed in with `k`; the sign-in page is checked with axe-core first. */
const open = (k: { accessKeyId: string; secretAccessKey: string }) =>
  openConsole(browser, srv.url, k, { onSignInPage: (page) => checkPage(page, 'sign-in') });

test('sign in, see account and role, list fences, create a bucket and upload: every call signed in the browser', { skip, timeout: 180_000 }, async () => {
  const { page, watch } = await open(srv);
  const who = await page.locator('#whoami').textContent();
  assert.ok(who?.includes(srv.accountId) && who.includes('owner'), who ?? '');

  // Datafence: the account's fences, as the API lists them.
  const fences = await new DatafenceClient(srv.creds).getDatafence();
  await page.locator('#fences').getByText(fences[0]!.fenceName).waitFor();
  await page.locator('#boxes, #boxes-title').first().waitFor();
  await checkPage(page, 'fences');

  // Create a box: the form's own checks first (nothing is sent), then the server's answer.
  await page.getByRole('button', { name: 'Create a box' }).click();
  const form = page.locator('form[aria-labelledby="create-box-title"]');
  for (const prefix of ['connect', 'linux']) {
    await form.locator(`select[name="${prefix}-spec"]`).selectOption({ index: 1 });
    await form.locator(`input[name="${prefix}-password"]`).fill('short');
  }
  await form.locator('select[name="linux-software"]').selectOption({ index: 1 });
  await form.getByRole('button', { name: 'Create', exact: true }).click();
  await form.getByText('Fix the fields marked below.').waitFor();
  assert.equal(await form.locator('input[name="connect-password"]').getAttribute('aria-invalid'), 'true');
  assert.ok(!watch.requests.some((r) => r.url.includes('/create-box')), 'an invalid form sends nothing');
  for (const prefix of ['connect', 'linux']) await form.locator(`input[name="${prefix}-password"]`).fill(PASSWORD);
  await form.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('status').getByText('Box creation requested.').waitFor();
  await page.locator('#boxes tr[data-status="INITIALIZE"]').waitFor();
  // A second box is over the fence's limit: the server's error, in words and with its code, in the form.
  await page.getByRole('button', { name: 'Create a box' }).click();
  for (const prefix of ['connect', 'linux']) {
    await form.locator(`select[name="${prefix}-spec"]`).selectOption({ index: 1 });
    await form.locator(`input[name="${prefix}-password"]`).fill(PASSWORD);
  }
  await form.locator('select[name="linux-software"]').selectOption({ index: 1 });
  await form.getByRole('button', { name: 'Create', exact: true }).click();
  await form.getByRole('alert').getByText('2600011').waitFor();
  await checkPage(page, 'create-box');
  await form.getByRole('button', { name: 'Cancel' }).click();

  // Dev controls: run due tasks (advances the manual transition); the box list shows USE by itself.
  await page.getByRole('link', { name: 'Dev controls' }).click();
  await page.getByRole('button', { name: /Run due tasks/ }).click();
  await page.getByText(/Ran \d+ task/).waitFor();
  await checkPage(page, 'dev');
  await page.getByRole('link', { name: 'Datafence', exact: true }).click();
  await page.locator('#boxes tr[data-status="USE"]').waitFor();

  // Object storage: create a bucket, open it, upload a file.
  await page.getByRole('link', { name: 'Object storage' }).click();
  await page.getByLabel('New bucket name').fill('console-e2e');
  await page.getByRole('button', { name: 'Create bucket' }).click();
  await page.locator('#buckets').getByRole('link', { name: 'console-e2e' }).click();
  await page.locator('input[type=file]').setInputFiles({ name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from chromium\n') });
  await page.locator('#objects').getByText('hello.txt').waitFor();
  await checkPage(page, 'storage');

  const s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv });
  await s3.send(new HeadBucketCommand({ Bucket: 'console-e2e' }));
  const obj = await s3.send(new GetObjectCommand({ Bucket: 'console-e2e', Key: 'hello.txt' }));
  assert.equal(await obj.Body!.transformToString(), 'hello from chromium\n');
  s3.destroy();

  // The audit page: the chain is intact.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.locator('#chain-status').getByText('Intact').waitFor();
  await checkPage(page, 'audit');
  await page.getByRole('link', { name: 'File storage (CFS)' }).click();
  await page.getByRole('heading', { name: 'File systems' }).waitFor();
  await page.getByRole('heading', { name: 'Access groups' }).waitFor();
  await page.getByLabel('New access group name').fill('console-group');
  await page.getByRole('button', { name: 'Create access group' }).click();
  await page.getByRole('cell', { name: 'console-group', exact: true }).waitFor();
  await page.getByRole('row', { name: /console-group/ }).locator('summary').click();
  const rule = page.getByRole('form', { name: 'Add a rule to console-group' });
  await rule.getByLabel('Address (IPv4 or IPv6)').fill('not-an-address');
  await rule.getByRole('button', { name: 'Add a rule' }).click();
  await rule.getByRole('alert').waitFor(); // the server's refusal, in place
  await rule.getByLabel('Address (IPv4 or IPv6)').fill('10.1.0.0');
  await rule.getByLabel('Prefix length').fill('24');
  await rule.getByRole('button', { name: 'Add a rule' }).click();
  await page.getByText('10.1.0.0/24 · read_write · no_squash · priority 1').waitFor();
  await checkPage(page, 'cfs');
  const box = (await new DatafenceClient(srv.creds).getBoxList({ fenceId: fences[0]!.fenceId })).content[0]!;
  await page.getByRole('link', { name: 'Datafence', exact: true }).click();
  await page.locator('#boxes').getByRole('link', { name: box.boxName }).click();
  await page.getByRole('heading', { name: 'Box infrastructure', exact: true }).waitFor();
  await page.locator('#box-infra + table, #box-infra ~ table').first().waitFor().catch(() => undefined);
  await checkPage(page, 'box');

  // Box actions, each answered in place with the server's message; the status follows by itself.
  const status = page.locator('p[aria-live="polite"] .status');
  const network = (await new DatafenceClient(srv.creds).getBoxSummaryInfo({ fenceId: fences[0]!.fenceId, boxId: box.boxId })).webBlockStatus;
  await page.locator('#box-network').getByText(network ? 'External network: blocked' : 'External network: allowed').waitFor();
  await page.getByRole('button', { name: network ? 'Allow external network' : 'Block external network' }).click();
  await page.getByRole('status').getByText('Box network setting modification requested.').waitFor();
  await runTasks();
  await status.and(page.locator('.status-use')).waitFor();
  await page.locator('#box-network').getByText(network ? 'External network: allowed' : 'External network: blocked').waitFor();
  const nas = page.getByLabel(/New size \(GB\) of NAS/);
  await nas.fill('550');
  assert.ok(await page.getByRole('button', { name: 'Resize NAS' }).isDisabled(), '550 GB is not a multiple of 100');
  await nas.fill('600');
  await page.getByRole('button', { name: 'Resize NAS' }).click();
  await page.getByRole('status').getByText('Box volume update requested.').waitFor();
  await runTasks();
  await status.and(page.locator('.status-use')).waitFor();
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Return box' }).click();
  await page.getByRole('status').getByText('Box return requested.').waitFor();
  await status.and(page.locator('.status-return')).waitFor();

  // The browser signed: NCP v2 for Datafence and Stockade, SigV4 for S3; the secret never left it.
  const api = watch.requests.filter((r) => !r.url.includes('/console/'));
  assert.ok(api.some((r) => r.url.includes('/api/v1/fence/get-datafence') && r.headers['x-ncp-apigw-signature-v2'] && r.headers['x-ncp-iam-access-key'] === srv.accessKeyId));
  assert.ok(api.some((r) => r.url.endsWith('/console-e2e') && r.headers['authorization']?.startsWith(`AWS4-HMAC-SHA256 Credential=${srv.accessKeyId}/`)));
  assert.ok(api.some((r) => r.url.includes('uploadId=') && r.headers['authorization']?.startsWith('AWS4-HMAC-SHA256')), 'multipart upload');
  for (const r of watch.requests) {
    const all = r.url + JSON.stringify(r.headers) + (r.body ?? '');
    assert.ok(!all.includes(srv.secretAccessKey), `the secret was sent: ${r.url}`);
  }
  assert.deepEqual(await page.context().cookies(), [], 'no cookies');
  const stored = await page.evaluate<string>('JSON.stringify(sessionStorage)');
  assert.ok(stored.includes(srv.secretAccessKey), 'the secret is in session storage');
  assert.equal(await page.evaluate('localStorage.length'), 0, 'nothing in local storage');
  // The refusals asked for (the second box, over the limit; a rule for no address); no CSP
  // violation, no script error.
  assert.deepEqual(watch.problems, ['400 POST /api/v1/box/create-box', '400 POST /v1/accessGroup/console-group']);
  // CFS calls were signed with bce-auth-v1.
  assert.ok(api.some((r) => r.url.includes('/v1/accessGroup') && r.headers['authorization']?.startsWith(`bce-auth-v1/${srv.accessKeyId}/`)));
  await page.context().close();
});

test("another account's key sees none of the first account's buckets or fences", { skip, timeout: 120_000 }, async () => {
  const other = await srv.newAccount('console-other');
  const { page, watch } = await open(other);
  assert.ok((await page.locator('#whoami').textContent())?.includes(other.accountId));
  const mine = (await new DatafenceClient(srv.creds).getDatafence()).map((f) => String(f.fenceId));
  const theirs = (await new DatafenceClient({ endpoint: srv.url, ...other }).getDatafence()).map((f) => String(f.fenceId));
  await page.locator('#fences tbody tr').first().waitFor();
  const shown = await page.locator('#fences tbody tr td:first-child').allTextContents();
  assert.deepEqual(shown, theirs, 'the UI lists exactly what the API gives this key');
  assert.ok(shown.every((id) => !mine.includes(id)));
  await page.getByRole('link', { name: 'Object storage' }).click();
  await page.getByRole('heading', { name: 'Buckets' }).waitFor();
  // The other account's buckets (its fence's screening bucket), exactly as S3 lists them for its key.
  const s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: other });
  const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
  s3.destroy();
  await page.locator('#buckets').or(page.getByText('Nothing here yet.')).first().waitFor();
  const shownBuckets = names.length === 0 ? [] : await page.locator('#buckets tbody tr td:first-child').allTextContents();
  assert.deepEqual(shownBuckets.sort(), [...names].sort());
  assert.equal(await page.getByText('console-e2e').count(), 0);
  assert.deepEqual(watch.problems, []);
  await page.context().close();
});

test('a wrong secret is refused in place, and nothing is stored', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(srv.url + '/console/');
  await page.getByLabel('Access key ID').fill(srv.accessKeyId);
  await page.getByLabel('Secret access key').fill('wrong-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? '', /Error/);
  assert.equal(await page.evaluate('sessionStorage.length'), 0);
  await context.close();
});
