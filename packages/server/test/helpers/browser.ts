/**
 * The web console's browser tests: Debian's Chromium driven by playwright-core (`.ci/run` installs
 * `chromium`; a test tool's own browser download does not work here), axe-core on each page, and
 * a signed-in page that records what it sent and what went wrong.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots, kept as test artifacts (never committed). */
const ARTIFACTS = path.resolve('packages/server/dist/test-artifacts/console');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The `skip` option of a browser test: false, or why it cannot run here. */
export const browserSkip: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`;

export async function launchBrowser(): Promise<Browser> {
  await fsp.mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/**
 * axe-core on the page as it is now: no serious or critical violation (WCAG 2.x A/AA rules and
 * axe's best practices), and a screenshot kept as an artifact. axe is evaluated through the
 * DevTools protocol, so the page's CSP stays as it is.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE);
  const violations = await page.evaluate<Array<{ id: string; impact: string | null; help: string; nodes: string[] }>>(
    `axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
  );
  assert.deepEqual(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), [], `${name}: serious accessibility violations`);
}

export interface Watch {
  /** Every request the page made. */
  requests: Array<{ method: string; url: string; headers: Record<string, string>; body: string | null }>;
  /** Script errors, CSP violations and (unless `httpErrors: false`) answers of 400 and above as `400 POST /path`. */
  problems: string[];
}

export interface OpenOptions {
  /** Count answers of 400 and above as problems (default true). */
  httpErrors?: boolean;
  /** Collect problems here (several pages sharing one list). */
  problems?: string[];
  /** Runs on the sign-in page before the key is entered. */
  onSignInPage?: (page: Page) => Promise<void>;
}

/** A new browser context on `/console/`, signed in with `key`. */
export async function openConsole(
  browser: Browser,
  url: string,
  key: { accessKeyId: string; secretAccessKey: string },
  opts: OpenOptions = {},
): Promise<{ page: Page; watch: Watch }> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15_000);
  const watch: Watch = { requests: [], problems: opts.problems ?? [] };
  page.on('request', (r) => watch.requests.push({ method: r.method(), url: r.url(), headers: r.headers(), body: r.postData() }));
  page.on('console', (m) => {
    // A failed request is recorded with its path by the response handler below.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) watch.problems.push(`console: ${m.text()}`);
  });
  if (opts.httpErrors !== false) {
    page.on('response', (r) => {
      if (r.status() >= 400) watch.problems.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
  }
  page.on('pageerror', (e) => watch.problems.push(`page error: ${e.message}`));
  await page.goto(url + '/console/');
  await page.getByLabel('Access key ID').waitFor();
  await opts.onSignInPage?.(page);
  await page.getByLabel('Access key ID').fill(key.accessKeyId);
  await page.getByLabel('Secret access key').fill(key.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#whoami').waitFor();
  return { page, watch };
}
