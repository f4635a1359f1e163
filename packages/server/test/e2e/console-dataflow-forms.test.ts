/**
 * The console's Data Flow create and delete forms, end to end in Debian's Chromium (playwright-core,
 * `/usr/bin/chromium`). Signed in as the owner: a trigger is created (RECURRING DAY 10:00; the
 * next due time previewed in the form is the one the list then shows, and a second trigger of the
 * same name gets the server's bad-parameter in place); a job is verified and created from the
 * prefilled node graph, and a graph with a bad column gets the server's detail naming the node; a
 * workflow is made over the trigger, that job and a second job chained under it; deleting the
 * trigger or a job while the workflow uses them shows bad-state in place; then the workflow, the
 * trigger and the jobs are deleted. Each step is checked with the SDK's DataFlowClient; the page
 * passes axe-core. A box-user key sees the server's refusal in words and no form.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DataFlowClient } from '@stockade/sdk';
import type { Browser } from 'playwright-core';
import { browserSkip, checkPage, launchBrowser, openConsole } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const skip = browserSkip;

let srv: TestServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  srv = await startTestServer('console_dataflow_forms');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const open = (k: { accessKeyId: string; secretAccessKey: string }) => openConsole(browser, srv.url, k);

/** The next 10:00 KST from now, as the console writes it (`YYYY-MM-DD HH:mm KST`). */
function nextTenKst(): string {
  const kst = new Date(Date.now() + 9 * 3600_000);
  if (kst.getUTCHours() * 60 + kst.getUTCMinutes() >= 10 * 60) kst.setUTCDate(kst.getUTCDate() + 1);
  return `${kst.toISOString().slice(0, 10)} 10:00 KST`;
}

test('the owner creates a trigger, jobs and a workflow from the forms, is refused deleting what the workflow uses, then deletes all', { skip, timeout: 120_000 }, async () => {
  const flow = new DataFlowClient(srv.creds);
  const { page, watch } = await open(srv);
  await page.getByRole('link', { name: 'Data Flow' }).click();
  await page.getByRole('heading', { name: 'Triggers' }).waitFor();

  // A trigger: the name rule is checked here first; the next due time is previewed before sending.
  await page.getByText('Create a trigger', { exact: true }).first().click();
  const tf = page.locator('form[aria-labelledby="create-trigger-title"]');
  await tf.locator('input[name="trigger-name"]').fill('9-daily');
  assert.equal(await tf.getByLabel('Trigger type').inputValue(), 'SCHEDULED');
  assert.equal(await tf.getByLabel('Rule type').inputValue(), 'RECURRING');
  await tf.getByLabel('Interval').selectOption('WEEK');
  await tf.getByRole('group', { name: 'Days of the week' }).getByLabel('MONDAY').uncheck();
  await tf.getByRole('button', { name: 'Create a trigger' }).click();
  await tf.getByText('Fix the fields marked below.').waitFor();
  assert.equal(await tf.locator('input[name="trigger-name"]').getAttribute('aria-invalid'), 'true');
  assert.equal(await tf.locator('#trigger-preview').textContent(), '—', 'a WEEK rule without a day has no due time');
  assert.ok(!watch.requests.some((r) => r.method === 'POST' && new URL(r.url).pathname.endsWith('/triggers')), 'an invalid form sends nothing');
  await tf.getByLabel('Interval').selectOption('DAY');
  await tf.getByLabel('Time (KST)').fill('10:00');
  await tf.locator('input[name="trigger-name"]').fill('forms_daily');
  const preview = await tf.locator('#trigger-preview').textContent();
  assert.equal(preview, nextTenKst());
  await tf.getByRole('button', { name: 'Create a trigger' }).click();
  await tf.getByRole('status').getByText(/Trigger forms_daily created \(\w+\)\./).waitFor();
  const triggers = (await flow.getTriggers({})).list;
  assert.equal(triggers.length, 1);
  const trigger = triggers[0]!;
  assert.deepEqual([trigger.name, trigger.type, trigger.triggerRule], ['forms_daily', 'SCHEDULED', { type: 'RECURRING', interval: 'DAY', time: '10:00' }]);
  const triggerRow = page.locator(`#triggers tr[data-trigger="${trigger.triggerId}"]`);
  assert.equal(await triggerRow.locator('td[data-next-due]').textContent(), preview, 'the list shows the time the form previewed');
  // The same name again: the server's bad-parameter, with its detail, in the form.
  await tf.locator('input[name="trigger-name"]').fill('forms_daily');
  await tf.getByRole('button', { name: 'Create a trigger' }).click();
  await tf.getByRole('alert').getByText(/bad-parameter.*already exists/).waitFor();
  assert.equal((await flow.getTriggers({})).list.length, 1);
  // NONE goes with a NONE rule: choosing it says the trigger never fires by itself.
  await tf.getByLabel('Trigger type').selectOption('NONE');
  assert.equal(await tf.getByLabel('Rule type').inputValue(), 'NONE');
  assert.match((await tf.locator('#trigger-preview').textContent()) ?? '', /never by itself/);

  // A job from the prefilled graph: its DAG drawn from the JSON; verified (nothing saved), then created.
  await page.getByText('Create a job', { exact: true }).first().click();
  const jf = page.locator('form[aria-labelledby="create-job-title"]');
  await jf.locator('#job-preview g[data-node="3"]').waitFor();
  assert.equal(await jf.locator('#job-preview .dag-edge').count(), 2);
  await jf.locator('input[name="job-name"]').fill('forms_job');
  await jf.getByRole('button', { name: 'Verify' }).click();
  await jf.getByRole('status').getByText('The server accepts this definition.').waitFor();
  assert.equal((await flow.getJobs({})).list.length, 0, 'verifying saves nothing');
  await jf.getByRole('button', { name: 'Create a job' }).click();
  await jf.getByRole('status').getByText(/Job forms_job created/).waitFor();
  const job = (await flow.getJobs({})).list.find((j) => j.name === 'forms_job')!;
  assert.ok(job, 'the API has the job');
  assert.deepEqual((await flow.getJobById({ jobId: job.jobId })).nodes.map((n) => [n.id, n.type, n.parentNodeIds]), [[1, 'SOURCE_OBS', []], [2, 'TRANSFORM_FILTER', [1]], [3, 'TARGET_OBS', [2]]]);
  await page.locator(`#jobs tr[data-job="${job.jobId}"]`).waitFor();
  const good = await jf.locator('textarea[name="nodes"]').inputValue();
  // Text that is not JSON: said in the form, no preview, nothing sent.
  await jf.locator('textarea[name="nodes"]').fill('[{"id": 1,');
  await jf.getByText(/Not JSON/).waitFor();
  assert.equal(await jf.locator('#job-preview').count(), 0);
  // A filter on a column the source does not have: the server's detail names the node and field.
  const bad = JSON.parse(good) as Array<Record<string, unknown>>;
  (bad[1]!['filterConditionList'] as Array<{ name: string }>)[0]!.name = 'nope';
  await jf.locator('textarea[name="nodes"]').fill(JSON.stringify(bad, null, 2));
  await jf.locator('input[name="job-name"]').fill('forms_bad');
  await jf.getByRole('button', { name: 'Verify' }).click();
  const badNote = jf.getByRole('alert').filter({ hasText: 'bad-parameter' });
  await badNote.waitFor();
  assert.match((await badNote.textContent()) ?? '', /node 2 \(TRANSFORM_FILTER\).*filterConditionList.*nope/);
  assert.equal((await flow.getJobs({})).list.length, 1);
  await checkPage(page, 'dataflow-forms');

  // A second job (through the SDK), to chain under the first in the workflow.
  const job2 = await flow.createJob({ name: 'forms_job2', nodes: JSON.parse(good) as never });
  await page.getByRole('region', { name: 'Jobs' }).getByRole('button', { name: 'Refresh' }).click();
  await page.locator(`#jobs tr[data-job="${job2.jobId}"]`).waitFor();

  // A workflow: the trigger, forms_job under it (2 workers, 60 minutes), forms_job2 under forms_job.
  await page.getByText('Create a workflow', { exact: true }).first().click();
  const wf = page.locator('form[aria-labelledby="create-workflow-title"]');
  await wf.locator('input[name="workflow-name"]').fill('forms_wf');
  await wf.locator('select[name="workflow-trigger"]').selectOption(trigger.triggerId);
  const node1 = wf.getByRole('group', { name: 'Job node 1' });
  await node1.locator('select[name="node-1-job"]').selectOption(job.jobId);
  await node1.getByLabel('Workers').fill('2');
  await node1.getByLabel('Timeout').fill('60');
  await wf.getByRole('button', { name: 'Add a job node' }).click();
  const node2 = wf.getByRole('group', { name: 'Job node 2' });
  await node2.locator('select[name="node-2-job"]').selectOption(job2.jobId);
  await node2.getByLabel('Runs after').selectOption({ label: 'job node 1: forms_job' });
  await wf.locator('#workflow-preview g.dag-node').nth(2).waitFor();
  assert.equal(await wf.locator('#workflow-preview .dag-edge').count(), 2);
  assert.equal(await wf.locator(`#workflow-preview [data-edge="${job.jobId}-${job2.jobId}"]`).count(), 1);
  await wf.getByRole('button', { name: 'Create a workflow' }).click();
  await wf.getByRole('status').getByText(/Workflow forms_wf created/).waitFor();
  const flows = (await flow.getWorkflows({})).list;
  assert.equal(flows.length, 1);
  const made = await flow.getWorkflowById({ workflowId: flows[0]!.workflowId });
  assert.deepEqual(
    made.nodes.map((n) => [n.id, n.type, n.parentNodeIds, n.jobCondition ?? null]),
    [[trigger.triggerId, 'TRIGGER', [], null], [job.jobId, 'JOB', [trigger.triggerId], { numWorker: 2, timeout: 60 }], [job2.jobId, 'JOB', [job.jobId], null]],
  );
  const flowRow = page.locator(`#workflows tr[data-workflow="${made.workflowId}"]`);
  await flowRow.waitFor();

  // Deleting the trigger or a job the workflow uses: the server's bad-state, in place; both stay.
  page.once('dialog', (d) => void d.accept());
  await triggerRow.getByRole('button', { name: 'Delete' }).click();
  await triggerRow.getByRole('alert').getByText(/bad-state.*forms_wf/).waitFor();
  assert.equal((await flow.getTriggers({})).list.length, 1);
  const jobRow = page.locator(`#jobs tr[data-job="${job.jobId}"]`);
  page.once('dialog', (d) => void d.accept());
  await jobRow.getByRole('button', { name: 'Delete' }).click();
  await jobRow.getByRole('alert').getByText(/bad-state/).waitFor();
  assert.equal((await flow.getJobs({})).list.length, 2);
  await checkPage(page, 'dataflow-refused');

  // The workflow, then the trigger and the jobs: each leaves the page and the API.
  page.once('dialog', (d) => void d.accept());
  await flowRow.getByRole('button', { name: 'Delete' }).click();
  await flowRow.waitFor({ state: 'detached' });
  assert.deepEqual((await flow.getWorkflows({})).list, []);
  page.once('dialog', (d) => void d.accept());
  await triggerRow.getByRole('button', { name: 'Delete' }).click();
  await triggerRow.waitFor({ state: 'detached' });
  assert.deepEqual((await flow.getTriggers({})).list, []);
  for (const id of [job.jobId, job2.jobId]) {
    const row = page.locator(`#jobs tr[data-job="${id}"]`);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
  }
  assert.deepEqual((await flow.getJobs({})).list, []);
  await checkPage(page, 'dataflow-deleted');

  // The refusals asked for, and nothing else went wrong.
  assert.deepEqual(watch.problems.map((p) => p.replace(/\/[A-Za-z0-9]{12}$/, '/{id}')), [
    '400 POST /api/v1/triggers',
    '400 POST /api/v1/jobs/verify',
    '400 DELETE /api/v1/triggers/{id}',
    '400 DELETE /api/v1/jobs/{id}',
  ]);
  await page.context().close();
});

test("a box-user key on the Data Flow page sees the server's refusal in words and no form", { skip, timeout: 60_000 }, async () => {
  const key = await srv.newKey('box-user');
  const { page, watch } = await open(key);
  await page.getByRole('link', { name: 'Data Flow' }).click();
  await page.getByRole('heading', { name: 'Triggers' }).waitFor();
  await page.getByText('Data Flow needs an owner or fence-admin key').waitFor();
  // Each list shows the server's own refusal (401, gateway code 210), in words.
  for (const id of ['jobs-title', 'triggers-title', 'workflows-title']) {
    const alert = page.locator(`section[aria-labelledby="${id}"]`).getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /210/);
  }
  assert.equal(await page.getByText('Create a trigger').count(), 0);
  assert.equal(await page.getByText('Create a job').count(), 0);
  assert.equal(await page.getByText('Create a workflow').count(), 0);
  await checkPage(page, 'dataflow-box-user');
  assert.deepEqual([...watch.problems].sort(), ['401 GET /api/v1/jobs', '401 GET /api/v1/triggers', '401 GET /api/v1/workflows']);
  await page.context().close();
});
