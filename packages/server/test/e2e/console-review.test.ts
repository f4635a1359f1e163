/**
 * The console's second half (issue 12) end to end in Debian's Chromium: an analyst (a box-user
 * key bound to one box) imports an object onto the box NAS and requests its export; a reviewer
 * (a fence-admin key) opens the review queue, previews the file (read from the sealed review
 * bucket with the browser's own SigV4 signature: an audit event), sees the pinned SHA-256 equal
 * to the browser's own, approves and sees the request's audit trail; the object arrives in the
 * target bucket (AWS SDK). The reviewer's own request shows the decision disabled; their audit page
 * lists the fence's events without the chain verification. The Data Flow page draws a job's DAG
 * and shows an execution's log; a workflow runs from its page, a trigger shows its next due time,
 * and the dashboard charts the last 7 days. Every page is checked with axe-core; no CSP violation
 * happens.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DataFlowClient, DatafenceClient } from '@stockade/sdk';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, checkPage, launchBrowser, openConsole } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, newestBox, runTasks } from '../helpers/datafence.js';

const skip = browserSkip;
const CSV = 'id,name,score\n1,Ann,3.5\n2,"Bo, Jr.",4\n3,Cid,5\n';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let srv: TestServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  srv = await startTestServer('console_review', { config: { transitions: 'box=manual,import=manual,export=manual' } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

/** Script errors and CSP violations go to `problems` (the refusals this test asks for are 4xx answers). */
async function open(k: { accessKeyId: string; secretAccessKey: string }, problems: string[]): Promise<Page> {
  return (await openConsole(browser, srv.url, k, { httpErrors: false, problems })).page;
}

test('an analyst imports and requests an export; a reviewer previews, checks the pinned hash and approves; the object is released', { skip, timeout: 120_000 }, async () => {
  const owner = new DatafenceClient(srv.creds);
  const s3 = new S3Client({ endpoint: srv.url, region: 'us-east-1', forcePathStyle: true, credentials: srv });
  const fenceId = (await owner.getDatafence())[0]!.fenceId;
  await owner.createBox({ fenceId, description: 'console review', createBoxInfo: boxInfo(await owner.getProductSpec()) });
  await runTasks(srv);
  const boxId = (await newestBox(owner, fenceId)).boxId;
  await s3.send(new CreateBucketCommand({ Bucket: 'c-in' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'c-out' }));
  await s3.send(new PutObjectCommand({ Bucket: 'c-in', Key: 'data/result.csv', Body: CSV }));
  const analystKey = await srv.newKey('box-user', undefined, { boxes: [boxId] });
  const adminKey = await srv.newKey('fence-admin');
  const problems: string[] = [];

  // The analyst: import the object, then export the file it became on the NAS.
  const analyst = await open(analystKey, problems);
  await analyst.getByRole('link', { name: 'Imports and exports' }).click();
  const imp = analyst.locator('form[aria-labelledby="import-form-title"]');
  await imp.locator('select[name="import-bucket"]').selectOption('c-in');
  await imp.getByLabel('Object key').fill('data/result.csv');
  await imp.getByLabel('Description').fill('cohort');
  await imp.getByRole('button', { name: 'Request import' }).click();
  await analyst.getByRole('status').getByText('File import requested.').waitFor();
  await analyst.locator('#imports tr[data-status="INITIALIZED"]').waitFor();
  await runTasks(srv);
  await analyst.locator('#imports tr[data-status="IMPORTED"]').waitFor();
  await checkPage(analyst, 'imports');
  await analyst.getByRole('button', { name: 'Export this file' }).click();
  const exp = analyst.locator('form[aria-labelledby="export-form-title"]');
  const nasFile = await exp.getByLabel('Files on the NAS').inputValue();
  assert.match(nasFile, /^\d+_result\.csv$/);
  await exp.locator('select[name="export-bucket"]').selectOption('c-out');
  await exp.getByLabel('File description').fill('scores per person');
  await exp.getByLabel('Export purpose').fill('paper figure 2');
  await exp.getByRole('button', { name: 'Request export' }).click();
  await analyst.getByRole('status').getByText('File export requested.').waitFor();
  // The reviewer asks for the same file: a request of their own, which they may not decide.
  const admin = new DatafenceClient({ endpoint: srv.url, ...adminKey });
  const sourceNasInstanceNo = (await admin.getSourceNasList({ fenceId, boxId })).content[0]!.instanceNo;
  await admin.createFileExport({ fenceId, boxId, sourceNasInstanceNo, sourceFilePathList: [nasFile], targetBucketName: 'c-out', fileDescription: 'mine', exportPurpose: 'mine', description: '' });
  await runTasks(srv);
  await analyst.locator('#exports tr[data-status="UPLOADED"]').first().waitFor();
  const requests = (await owner.getExportList({ fenceId, boxId, size: 10 })).content;
  // The analyst asked first: the smaller fileId.
  const [analystsId, adminsId] = requests.map((r) => r.fileId).sort((a, b) => a - b) as [number, number];

  // The reviewer: the queue, the analyst's request, the preview with its hash, approve.
  const reviewer = await open(adminKey, problems);
  await reviewer.getByRole('link', { name: 'Review queue' }).click();
  await reviewer.locator(`#review-queue tr[data-file-id="${analystsId}"]`).waitFor();
  await reviewer.locator(`#review-queue tr[data-file-id="${adminsId}"]`).getByText('your request').waitFor();
  await checkPage(reviewer, 'review-queue');
  await reviewer.getByRole('link', { name: `Request ${analystsId}` }).click();
  assert.equal(await reviewer.locator('#pinned-sha256').textContent(), sha256(CSV));
  await reviewer.getByRole('button', { name: 'Open the file' }).click();
  await reviewer.locator('#preview-table').waitFor();
  assert.deepEqual(await reviewer.locator('#preview-table thead th').allTextContents(), ['id', 'name', 'score']);
  assert.equal(await reviewer.locator('#preview-table tbody tr').nth(1).locator('td').nth(1).textContent(), 'Bo, Jr.');
  assert.equal(await reviewer.locator('#preview-sha256').textContent(), sha256(CSV));
  assert.equal(await reviewer.locator('#hash-match').textContent(), 'matches the pinned hash');
  // Rejecting needs a reason: the form says so and sends nothing.
  await reviewer.getByRole('button', { name: 'Reject', exact: true }).click();
  await reviewer.getByText('Give a reason of 1 to 1000 characters.').waitFor();
  await checkPage(reviewer, 'review-detail');
  await reviewer.getByRole('button', { name: 'Approve' }).click();
  await reviewer.getByRole('status').getByText('File export approved.').waitFor();
  await reviewer.locator('#votes').getByText('APPROVE').waitFor();
  assert.equal(await reviewer.getByRole('button', { name: 'Approve' }).isDisabled(), true);
  // The reviewer's detail shows the request's audit trail: the request, their approval, their read of the review object.
  for (const action of ['export.request', 'export.approve', 's3.GetObject']) await reviewer.locator(`#trail tr[data-action="${action}"]`).first().waitFor();

  // Their own request: the decision is disabled, with the reason.
  await reviewer.getByRole('link', { name: 'Review queue' }).first().click();
  await reviewer.getByRole('link', { name: `Request ${adminsId}` }).click();
  await reviewer.locator('#decision-blocked').getByText('This is your own request').waitFor();
  assert.equal(await reviewer.getByRole('button', { name: 'Approve' }).isDisabled(), true);
  assert.equal(await reviewer.getByRole('button', { name: 'Reject', exact: true }).isDisabled(), true);

  // Their audit log page: the fence's events, without the chain verification (an owner operation).
  await reviewer.getByRole('link', { name: 'Audit log' }).click();
  await reviewer.locator('#audit tr[data-action="export.approve"]').first().waitFor();
  await reviewer.locator('#audit-scope').getByText('Chain verification needs an owner key.').waitFor();
  assert.equal(await reviewer.locator('#audit-chain').count(), 0);
  await checkPage(reviewer, 'audit-fence-admin');

  // Released: the analyst sees EXPORTED, and the bytes are in the target bucket.
  await runTasks(srv);
  await analyst.locator(`#exports tr[data-status="EXPORTED"]`).waitFor();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'c-out' }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), [nasFile]);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'c-out', Key: nasFile }));
  assert.equal(await got.Body!.transformToString(), CSV);

  // A second export of the same file, canceled by the analyst before it is copied for review.
  analyst.on('dialog', (d) => void d.accept());
  await analyst.getByRole('button', { name: 'Export this file' }).click();
  await exp.getByLabel('File description').fill('again');
  await exp.getByLabel('Export purpose').fill('again');
  await exp.getByRole('button', { name: 'Request export' }).click();
  const pending = analyst.locator('#exports tr[data-status="INITIALIZED"]');
  await pending.getByRole('button', { name: 'Cancel export' }).click();
  await analyst.getByRole('status').getByText('File export cancel requested.').waitFor();
  await pending.waitFor({ state: 'detached' });

  // The owner sees the request's audit trail, the reviewer's read of the review object included.
  const ownerPage = await open(srv, problems);
  await ownerPage.goto(`${srv.url}/console/reviews/${fenceId}/${boxId}/${analystsId}`);
  for (const action of ['export.request', 'export.approve', 's3.GetObject']) await ownerPage.locator(`#trail tr[data-action="${action}"]`).first().waitFor();

  // Data Flow: a job's graph as a DAG; a run and its log.
  const flow = new DataFlowClient(srv.creds);
  const fields = [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'score', type: 'string' }];
  const node = (id: number, type: string, parents: number[], extra: Record<string, unknown>) => ({ id, type, name: `n${id}`, parentNodeIds: parents, ...extra });
  await flow.createJob({
    name: 'console_dag',
    nodes: [
      node(1, 'SOURCE_OBS', [], { regionNo: '1', bucketName: 'c-in', prefix: 'data', dataType: 'CSV', fieldList: fields }),
      node(2, 'TRANSFORM_FILTER', [1], { filterType: 'AND', filterConditionList: [{ name: 'name', operator: 'EQ', value: 'Ann' }] }),
      node(3, 'TARGET_OBS', [2], { regionNo: '1', bucketName: 'c-in', prefix: 'out', dataType: 'CSV', fieldList: fields }),
    ] as never,
  });
  await ownerPage.getByRole('link', { name: 'Data Flow' }).click();
  await ownerPage.getByRole('link', { name: 'console_dag' }).click();
  await ownerPage.locator('#dag g[data-node="3"]').waitFor();
  assert.equal(await ownerPage.locator('#dag .dag-edge').count(), 2);
  await ownerPage.getByRole('button', { name: 'Run now' }).click();
  await ownerPage.locator('#executions tr[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  await ownerPage.getByRole('button', { name: 'Log' }).click();
  await ownerPage.locator('#execution-log pre').nth(1).waitFor();
  assert.equal(await ownerPage.locator('#execution-log .error').count(), 0, 'both logs are read');
  await checkPage(ownerPage, 'dataflow-job');

  // Workflows: a manual one runs from its page; a scheduled one's refusal is shown in place; the
  // scheduled trigger's next due time is computed in the browser on the KST clock.
  const dagJob = (await flow.getJobs({})).list.find((j) => j.name === 'console_dag')!;
  const manual = await flow.createTrigger({ name: 'console_manual', type: 'NONE', triggerRule: { type: 'NONE' } });
  const daily = await flow.createTrigger({ name: 'console_daily', type: 'SCHEDULED', triggerRule: { type: 'RECURRING', interval: 'DAY', time: '09:30' } });
  const cond = { workerType: 'DEFAULT', numWorker: 2, timeout: 360, nrn: 'nrn:PUB:IAM::1:Role/x' };
  const wfNodes = (t: { triggerId: string; name: string }) => [
    { id: t.triggerId, name: t.name, type: 'TRIGGER' as const, parentNodeIds: [] },
    { id: dagJob.jobId, name: dagJob.name, type: 'JOB' as const, parentNodeIds: [t.triggerId], jobCondition: cond },
  ];
  await flow.createWorkflow({ name: 'console_wf_daily', nodes: wfNodes(daily) as never });
  const wf = await flow.createWorkflow({ name: 'console_wf', nodes: wfNodes(manual) as never });
  await ownerPage.getByRole('link', { name: 'Data Flow' }).first().click();
  await ownerPage.locator(`#workflows tr[data-workflow="${wf.workflowId}"]`).waitFor();
  const due = await ownerPage.locator('#triggers tr', { hasText: 'console_daily' }).locator('td[data-next-due]').textContent();
  const expected = new Date(Date.now() + 9 * 3600_000);
  if (expected.getUTCHours() * 60 + expected.getUTCMinutes() >= 9 * 60 + 30) expected.setUTCDate(expected.getUTCDate() + 1);
  assert.equal(due, `${expected.toISOString().slice(0, 10)} 09:30 KST`);
  assert.equal(await ownerPage.locator('#triggers tr', { hasText: 'console_manual' }).locator('td[data-next-due]').textContent(), '—');
  await ownerPage.getByRole('link', { name: 'console_wf_daily' }).click();
  await ownerPage.getByRole('button', { name: 'Run now' }).click();
  await ownerPage.locator('.action .error').waitFor();
  await ownerPage.getByRole('link', { name: 'Data Flow' }).first().click();
  await ownerPage.getByRole('link', { name: 'console_wf', exact: true }).click();
  await ownerPage.locator('#dag g.dag-node').nth(1).waitFor();
  assert.equal(await ownerPage.locator('#dag .dag-edge').count(), 1);
  await ownerPage.getByRole('button', { name: 'Run now' }).click();
  await ownerPage.getByRole('status').getByText('The workflow was accepted').waitFor();
  await ownerPage.locator('#workflow-executions tbody tr').first().waitFor();
  await checkPage(ownerPage, 'dataflow-workflow');

  // The dashboard: the last 7 KST days as charts and tables.
  await ownerPage.goto(`${srv.url}/console/dataflow/dashboard`);
  await ownerPage.locator('#chart-times').waitFor();
  assert.ok(Number(await ownerPage.locator('#stats-result td').first().textContent()) >= 1, 'the job run is counted');
  assert.equal(await ownerPage.locator('#stats-daily tbody tr').count(), 7);
  assert.equal(await ownerPage.locator('#chart-daily rect.chart-bar').count(), 7);
  await checkPage(ownerPage, 'dataflow-dashboard');

  assert.deepEqual(problems, []);
});
