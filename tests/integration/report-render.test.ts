/**
 * Both HTML reports of a real run, read the way a person reads them: a faulted mock (accept-missing-token breaks
 * AUTH-001) and three rules, then conformance-report/index.html and playwright-report/index.html are opened in
 * a real headless Chromium (driven by Playwright) and what is on screen is asserted — the counts at the top
 * of the matrix equal report.json, the failing rule is marked failed with its failures and exchange link, and the
 * Playwright report (a single-page app that decodes its embedded zip after load) shows the test titles and the
 * failed count. The browser is the one support/browser.ts picks (the npm package's Chromium on Linux); with none,
 * this test FAILS naming what it tried.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from '@playwright/test';
import type { MatrixReport } from '../../src/report/matrix-reporter.js';
import { launchBrowser } from './support/browser.js';
import { runSuite, startMock, tail, type Mock, type SuiteRun } from './support/suite-runs.js';

/** One folder per test process: concurrent `npm test` runs on one machine must not share output. */
const OUT = `/tmp/helper-live-render-${process.pid}`;
const GREP = '(AUTH-001|SEC-002|SEC-004) ';

let mock: Mock | undefined;
let browser: Browser | undefined;
let run: SuiteRun;
let report: MatrixReport;

before(async () => {
  // The browser first: without one the test fails at once with the reason, before any suite run.
  const launched = await launchBrowser();
  browser = launched.browser;
  console.log(
    `report rendering in ${launched.choice.source} Chromium ${browser.version()} (${launched.choice.executablePath})`,
  );
  mock = await startMock(4243, { faults: ['accept-missing-token'] });
  const port = mock.port;
  run = await runSuite(OUT, ['test', '--project=conformance', '--workers=1', '-g', GREP], {
    DYNAMIC_TARGET: 'mock',
    DYNAMIC_API_URL: mock.apiUrl,
    MOCK_PORT: String(port),
    FC_SEED: '3',
    FC_RUNS: '10',
  });
  await mock.stop();
  mock = undefined;
  assert.equal(run.code, 1, `AUTH-001 fails on the faulted mock\n${tail(run)}`);
  report = JSON.parse(readFileSync(join(OUT, 'conformance-report', 'report.json'), 'utf8')) as MatrixReport;
});

let passed = 0;
after(async () => {
  await browser?.close();
  await mock?.stop();
  if (passed === 2) rmSync(OUT, { recursive: true, force: true });
});

async function open(file: string): Promise<Page> {
  assert.ok(browser, 'a Chromium is running');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(join(OUT, file)).href);
  return page;
}

test('the conformance matrix shows the counts of report.json at the top and the failing rule', async () => {
  const page = await open('conformance-report/index.html');
  assert.equal(await page.locator('h1').innerText(), 'Dynamic API conformance');
  assert.equal(await page.locator('#target').innerText(), `mock (${report.apiUrl})`);
  assert.match(report.apiUrl, /^http:\/\/127\.0\.0\.1:424\d\/api\/v0$/);
  assert.equal(await page.locator('#profile').innerText(), report.profile);
  assert.equal(await page.locator('#seed').innerText(), '3');
  assert.equal(await page.locator('#count-pass b').innerText(), String(report.counts.rules.pass));
  assert.equal(await page.locator('#count-fail b').innerText(), String(report.counts.rules.fail));
  assert.deepEqual(
    [report.counts.rules.pass, report.counts.rules.fail],
    [2, 1],
    'SEC-002 and SEC-004 pass, AUTH-001 fails',
  );

  const row = page.locator('tr#AUTH-001');
  assert.ok(await row.isVisible(), 'the AUTH-001 row is visible');
  assert.equal(await row.locator('.badge').innerText(), 'fail');
  assert.match((await row.getAttribute('class')) ?? '', /\bfail\b/);
  const failures = row.locator('ul.failures li');
  assert.ok((await failures.count()) >= 1, 'the failures are listed under the rule');
  assert.match(await failures.first().innerText(), /no Authorization header: expected 401, got [2-5]\d\d/);
  assert.equal(await page.locator('section#auth h2 .red').innerText(), '1 failing');
  assert.equal(await page.locator('tr#SEC-002 .badge').innerText(), 'pass');

  // The operations × rules grid: open it as a reader would and find failing cells.
  await page.locator('section#auth details summary').click();
  assert.ok((await page.locator('section#auth td.cell.fail').count()) > 0, 'failing operations are marked in the grid');

  // Each failure links its redacted exchanges.
  const link = row.locator('a', { hasText: 'exchanges' }).first();
  assert.equal(await link.getAttribute('href'), 'exchanges/AUTH-001.json');
  await link.click();
  const exchanges = JSON.parse(await page.locator('body').innerText()) as {
    request: { url: string };
    response?: { status: number };
  }[];
  assert.ok(
    exchanges.length > 0 && exchanges.every((e) => e.request.url.startsWith(`${report.apiUrl}/`)),
    'the linked file holds the exchanges',
  );
  assert.ok(
    exchanges.some((e) => e.response !== undefined && e.response.status !== 401),
    'the exchanges show the wrong answers',
  );
  await page.close();
  passed += 1;
});

test('the Playwright HTML report renders its embedded data: test titles and the failed count', async () => {
  const page = await open('playwright-report/index.html');
  // The report decodes its base64 zip asynchronously after load: wait for the content, not for 'load'.
  await page
    .getByText('AUTH-001 A request without Authorization is rejected with 401')
    .first()
    .waitFor({ timeout: 60_000 });
  for (const title of [
    'SEC-002 The suite never puts a credential in a URL',
    "SEC-004 Credentials go only over https to Dynamic's hosts",
  ]) {
    assert.ok(await page.getByText(title).first().isVisible(), `${title} is listed`);
  }
  const chips = (await page.locator('.subnav-item').allInnerTexts()).map((t) => t.replace(/\s+/g, ''));
  assert.ok(chips.includes('All3'), `3 tests in total: ${chips.join(' ')}`);
  assert.ok(chips.includes('Failed1'), `1 failed: ${chips.join(' ')}`);
  assert.ok(chips.includes('Passed2'), `2 passed: ${chips.join(' ')}`);

  // The failing test's page shows the redacted failure summary and the conformance attachments.
  await page.getByText('AUTH-001 A request without Authorization is rejected with 401').first().click();
  await page.getByText('AUTH-001 failed on').first().waitFor({ timeout: 30_000 });
  const body = await page.locator('body').innerText();
  assert.match(body, /no Authorization header: expected 401, got [2-5]\d\d/);
  for (const attachment of ['conformance-outcomes', 'exchanges (redacted)', 'replay (curl)'])
    assert.ok(body.includes(attachment), `the ${attachment} attachment is listed`);
  await page.close();
  passed += 1;
});
