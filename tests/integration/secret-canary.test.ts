/**
 * SEC-001 proved end to end (conformance-rules SH-02, SH-03): the real suite runs with canary credentials three
 * ways — the whole suite as `npm run conformance` runs it (both projects, every rule, its embedded mock), which must
 * pass, a failing run against a faulted mock that echoes credentials into its error bodies (with blob reports merged
 * like the nightly job does), and a transport-error run on the live code path against a closed port — each into its
 * own output folder, all three at once. The whole run is `npm test`'s run of the suite against the mock.
 * Then every produced file (test-results, JUnit, playwright-report incl. its embedded base64 zip, conformance-report,
 * blob zips, merged reports, stdout/stderr) is scanned recursively for the canaries in every encoding — ctrf.json,
 * summary.md and the $GITHUB_STEP_SUMMARY copy too. Any hit fails. For mock runs the canaries are the mock's own
 * tokens and JWTs (a random MOCK_SEED makes them fresh); for the live run they are random dyn_/JWT values.
 *
 * The failing run's two HTML reports are also read the way a person reads them: conformance-report/index.html and
 * playwright-report/index.html are opened in a real headless Chromium (driven by Playwright) and what is on screen is
 * asserted — the counts at the top of the matrix equal report.json, the failing rule is marked failed with its
 * failures and exchange link, and the Playwright report (a single-page app that decodes its embedded zip after load)
 * shows the test titles and the failed count. The browser is the one support/browser.ts picks (the npm package's
 * Chromium on Linux); with none, those two tests FAIL naming what it tried. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from '@playwright/test';
import { zipSync } from 'fflate';
import { scanPaths } from '../../src/secrets/leaks.js';
import { redact, registerSecret } from '../../src/secrets/redact.js';
import { checkFor } from '../../src/checks/index.js';
import { uuidFrom } from '../../src/http/requests.js';
import type { MatrixReport } from '../../src/report/matrix-reporter.js';
import { launchBrowser } from './support/browser.js';
import { ROOT } from '../../src/engine/config.js';
import { loadRules } from '../../src/engine/spec.js';
import {
  closedPort,
  runSuite,
  runWithEmbeddedMock,
  startMock,
  type Mock,
  type SuiteRun,
} from './support/suite-runs.js';

/** One folder per test process: concurrent `npm test` runs on one machine must not share output. */
const OUT = `/tmp/helper-live-canary-${process.pid}`;
/** What a suite run writes into its output folder: all a kept folder may already hold (the run wipes it first). */
const RUN_FOLDERS = new Set(['conformance-report', 'playwright-report', 'test-results', 'blob-report', 'console']);
/**
 * Where the whole run writes its reports: NPM_TEST_REPORTS_DIR when set (kept, for CI to upload them: see
 * .github/workflows/ci.yml), else a folder of OUT. A folder that holds anything else, the repository or one of its
 * parents is refused, naming the variable: the run would wipe it.
 */
function wholeRunFolder(): string {
  const given = process.env.NPM_TEST_REPORTS_DIR;
  if (!given) return join(OUT, 'whole');
  const dir = resolve(ROOT, given);
  const strays = existsSync(dir) ? readdirSync(dir).filter((f) => !RUN_FOLDERS.has(f)) : [];
  if (!relative(dir, ROOT).startsWith('..') || strays.length > 0)
    throw new Error(
      `NPM_TEST_REPORTS_DIR=${given}: the whole run wipes its folder first; give a new folder or a previous one ` +
        `(found ${strays.length ? strays.slice(0, 3).join(', ') : 'the repository in it'})`,
    );
  return dir;
}
const WHOLE = wholeRunFolder();
let passed = 0;
/**
 * Rules whose checks present credentials (valid, mutated, misplaced) or touch the redaction layer, a few seconds each:
 * AUTH-001 fails under accept-missing-token, ERR-009 under echo-credential-in-error (its exchanges carry the echoed
 * credentials), AUTH-016/TOKEN-008/JWT-004 send real and mutated credentials into 401s. The trailing space matches
 * the id at the start of a title only (some titles mention other ids).
 */
const GREP = '(AUTH-001|AUTH-016|TOKEN-008|JWT-004|ERR-009|SEC-001|SEC-003) ';
const COMMON = ['test', '--project=conformance', '--workers=1', '-g', GREP];
/** The failing run also holds the two suite-property rules the rendered reports show passing. */
const FAILING_GREP = '(AUTH-001|AUTH-016|TOKEN-008|JWT-004|ERR-009|SEC-001|SEC-002|SEC-003|SEC-004) ';
const FAULTS = ['echo-credential-in-error', 'accept-missing-token'];
const TESTS = 6;

/** The seed of the faulted mock and of the whole run's embedded mock: the same credentials, so the same canaries. */
const MOCK_SEED = randomInt(1, 2 ** 40);
let faulted: Mock;
let browser: Promise<{ browser: Browser; source: string }>;
let wholeRun: Promise<SuiteRun>;
let failingRun: Promise<SuiteRun>;
let transportRun: Promise<{ run: SuiteRun; canaries: string[] }>;

before(async () => {
  rmSync(OUT, { recursive: true, force: true });
  // The browser first (its failure is reported by the rendering tests, naming what it tried).
  browser = launchBrowser().then(({ browser: b, choice }) => ({
    browser: b,
    source: `${choice.source} Chromium ${b.version()} (${choice.executablePath})`,
  }));
  faulted = await startMock(4240, { faults: FAULTS, seed: MOCK_SEED });
  // The three runs are independent: all at once, each on its own mock (or none) and into its own folder.
  wholeRun = runWithEmbeddedMock(WHOLE, ['test'], {}, { MOCK_SEED: String(MOCK_SEED) });
  failingRun = runFailing();
  transportRun = runTransport();
  for (const p of [browser, wholeRun, failingRun, transportRun]) p.catch(() => undefined);
});

after(async () => {
  await Promise.allSettled([wholeRun, failingRun, transportRun]);
  await (await browser.catch(() => undefined))?.browser.close();
  await faulted?.stop();
  // Kept for inspection when a test failed; removed when all passed.
  if (passed === TESTS) rmSync(OUT, { recursive: true, force: true });
});

/** Console output made safe to print: the canaries are registered with the redaction layer of this process. */
function safe(text: string, canaries: string[]): string {
  for (const c of canaries) registerSecret(c);
  return redact(text);
}

function summary(run: SuiteRun, canaries: string[]): string {
  return safe(
    `exit ${run.code} after ${run.ms} ms\n${`${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-30).join('\n')}`,
    canaries,
  );
}

function matrix(run: SuiteRun, canaries: string[]): MatrixReport {
  const file = join(run.outDir, 'conformance-report', 'report.json');
  assert.ok(existsSync(file), `no conformance matrix was written\n${summary(run, canaries)}`);
  return JSON.parse(readFileSync(file, 'utf8')) as MatrixReport;
}

/** Scans everything under the run's folder; hits name file:offset and encoding, never the value. */
function assertNoCanary(dir: string, canaries: string[]): void {
  const { hits, stats } = scanPaths([dir], canaries, dir);
  assert.ok(stats.files >= 5, `expected artifacts to scan in ${dir}, found ${stats.files} files`);
  assert.deepEqual(
    hits.map((h) => `${h.location} (canary #${h.value + 1}, ${h.encoding})`),
    [],
    `canary credentials leaked into ${dir}`,
  );
}

/** The CI surfaces (issue 14) a run wrote: CTRF, the Markdown summary and the $GITHUB_STEP_SUMMARY copy (scanned). */
function assertCiSurfaces(dir: string, stepSummary: string): void {
  for (const f of [
    join(dir, 'conformance-report', 'ctrf.json'),
    join(dir, 'conformance-report', 'summary.md'),
    stepSummary,
  ])
    assert.ok(existsSync(f), `${f} was written`);
  assert.ok(stepSummary.startsWith(dir), 'the step summary lies under the scanned folder');
}

async function mockCanaries(): Promise<string[]> {
  const seed = await faulted.seed();
  const values = [...seed.tokens.map((t) => t.value), ...seed.users.map((u) => u.jwt)];
  assert.ok(values.length >= 8, 'the mock seed exposes its tokens and user JWTs');
  return values;
}

test('the scanner finds a canary hidden as base64 inside a zip inside base64 in HTML (positive control)', () => {
  const dir = join(OUT, 'control');
  mkdirSync(dir, { recursive: true });
  const canary = `dyn_CONTROL${randomBytes(24).toString('hex')}`;
  const zip = zipSync({
    'data/a.json': Buffer.from(JSON.stringify({ note: Buffer.from(`x${canary}`).toString('base64') })),
  });
  writeFileSync(
    join(dir, 'index.html'),
    '<template id="playwrightReportBase64">data:application/zip;base64,' +
      `${Buffer.from(zip).toString('base64')}</template>`,
  );
  writeFileSync(join(dir, 'partial.txt'), `token=${canary.slice(9, 30)}…`);
  const { hits } = scanPaths([dir], [canary], dir);
  const where = new Set(hits.map((h) => h.location.replace(/:\d+/g, ':N')));
  assert.ok(
    where.has('index.html:N → base64 → zip:data/a.json:N'),
    `the base64 form inside the zip inside the HTML was found: ${[...where].join(', ')}`,
  );
  assert.ok(where.has('index.html:N → base64 → zip:data/a.json:N → base64:N'), 'the decoded value was found');
  assert.ok(where.has('partial.txt:N'), 'a 21-character fragment was found');
  rmSync(dir, { recursive: true, force: true });
  passed += 1;
});

/** The failing run: the faulted mock, every reporter (blob too), the step summary. Its HTML reports are rendered. */
function runFailing(): Promise<SuiteRun> {
  const outDir = join(OUT, 'failing');
  return runSuite(
    outDir,
    [
      'test',
      '--project=conformance',
      '--workers=1',
      '-g',
      FAILING_GREP,
      '--reporter=list,junit,html,blob,./src/report/matrix-reporter.ts',
    ],
    {
      DYNAMIC_TARGET: 'mock',
      DYNAMIC_API_URL: faulted.apiUrl,
      MOCK_PORT: String(faulted.port),
      FC_SEED: '7',
      FC_RUNS: '5',
    },
    {
      PLAYWRIGHT_JUNIT_OUTPUT_FILE: join(outDir, 'test-results', 'junit.xml'),
      PLAYWRIGHT_HTML_OUTPUT_DIR: join(outDir, 'playwright-report'),
      PLAYWRIGHT_BLOB_OUTPUT_DIR: join(outDir, 'blob-report'),
      GITHUB_STEP_SUMMARY: join(outDir, 'console', 'step-summary.md'),
    },
  );
}

/** The transport-error run: the live code path against a closed port, with random canary credentials. */
async function runTransport(): Promise<{ run: SuiteRun; canaries: string[] }> {
  const port = await closedPort(4249);
  const alnum = (n: number): string =>
    randomBytes(n * 2)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, n);
  const jwt = (): string =>
    'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.' +
    Buffer.from(JSON.stringify({ sub: alnum(16), environment_id: uuidFrom(alnum(8)) })).toString('base64url') +
    `.${randomBytes(256).toString('base64url')}`;
  const vars = {
    DYNAMIC_API_TOKEN: `dyn_${alnum(56)}`,
    DYNAMIC_OTHER_ENVIRONMENT_TOKEN: `dyn_${alnum(56)}`,
    DYNAMIC_LIMITED_TOKEN: `dyn_${alnum(56)}`,
    DYNAMIC_INACTIVE_TOKEN: `dyn_${alnum(56)}`,
    DYNAMIC_USER_JWT: jwt(),
    DYNAMIC_OTHER_ENVIRONMENT_JWT: jwt(),
    DYNAMIC_OTHER_ORGANIZATION_TOKEN: `dyn_${alnum(56)}`,
    DYNAMIC_OTHER_USER_JWT: jwt(),
  };
  const canaries = Object.values(vars);
  const run = await runSuite(join(OUT, 'transport'), COMMON, {
    ...vars,
    DYNAMIC_TARGET: 'live',
    DYNAMIC_API_URL: `http://127.0.0.1:${port}/api/v0`,
    DYNAMIC_ENVIRONMENT_ID: uuidFrom(`env ${alnum(8)}`),
    DYNAMIC_PROJECT_ID: uuidFrom(`project ${alnum(8)}`),
    DYNAMIC_OTHER_ENVIRONMENT_ID: uuidFrom(`other ${alnum(8)}`),
    DYNAMIC_ALLOW_WRITES: 'true',
    DYNAMIC_RATE_LIMIT_BUDGET: '5',
    DYNAMIC_REQUEST_BUDGET: '2000',
    FC_SEED: '7',
    FC_RUNS: '5',
    GITHUB_STEP_SUMMARY: join(OUT, 'transport', 'console', 'step-summary.md'),
  });
  return { run, canaries };
}

test('the whole suite passes against its embedded mock, every rule, and leaves no canary in any artifact', async () => {
  const canaries = await mockCanaries();
  const run = await wholeRun;
  const report = matrix(run, canaries);
  assert.equal(run.code, 0, `the whole run passes\n${summary(run, canaries)}`);
  assert.deepEqual(
    report.rules.filter((r) => r.status !== 'pass').map((r) => `${r.id} ${r.status}`),
    [],
    `every rule passes\n${summary(run, canaries)}`,
  );
  assert.deepEqual(
    report.rules.map((r) => r.id).sort(),
    loadRules()
      .map((r) => r.id)
      .sort(),
    'every rule of the catalogue ran',
  );
  assert.match(run.stdout, /^\s+\d+ passed \(/m, 'Playwright reports the passed tests');
  assert.doesNotMatch(run.stdout, /^\s+\d+ (failed|flaky|skipped|did not run)/m, 'and nothing else');
  assertNoCanary(run.outDir, canaries);
  passed += 1;
});

test(
  'a failing run against a mock that echoes credentials leaves no canary, ' + 'also after merging its blob report',
  async () => {
    const canaries = await mockCanaries();
    const run = await failingRun;
    const outDir = run.outDir;
    assert.equal(run.code, 1, `the faulted run fails\n${summary(run, canaries)}`);
    const report = matrix(run, canaries);
    assert.ok(
      report.rules.some((r) => r.status === 'fail'),
      'some rule fails on the faulted mock',
    );
    if (checkFor('AUTH-001'))
      assert.equal(
        report.rules.find((r) => r.id === 'AUTH-001')?.status,
        'fail',
        'AUTH-001 fails under accept-missing-token',
      );
    if (checkFor('ERR-009')) {
      // The echo fault put credentials into 401 bodies; the attached exchanges show fingerprints instead.
      const exchanges = join(outDir, 'conformance-report', 'exchanges', 'ERR-009.json');
      assert.ok(existsSync(exchanges), 'ERR-009 failed with its exchanges attached');
      assert.match(
        readFileSync(exchanges, 'utf8'),
        /\[(dyn_|jwt)…#[0-9a-f]{8}\]/,
        'the echoed credentials appear as fingerprints',
      );
    }
    assert.ok(existsSync(join(outDir, 'blob-report')), 'the blob reporter wrote its zip');

    // The nightly path: merge the blob into an HTML report, JUnit and matrix with the project configuration.
    const merged = join(outDir, 'merged');
    const merge = await runSuite(
      merged,
      ['merge-reports', '--config', 'playwright.config.ts', join(outDir, 'blob-report')],
      { DYNAMIC_TARGET: 'mock', DYNAMIC_API_URL: faulted.apiUrl, MOCK_PORT: String(faulted.port) },
    );
    const mergedReport = matrix(merge, canaries);
    assert.deepEqual(
      mergedReport.rules.map((r) => `${r.id} ${r.status}`),
      report.rules.map((r) => `${r.id} ${r.status}`),
      "the merged matrix equals the run's matrix",
    );
    assertCiSurfaces(outDir, join(outDir, 'console', 'step-summary.md'));
    assertNoCanary(outDir, canaries);
    passed += 1;
  },
);

test('a transport-error run on the live code path (closed port) leaves no canary in any artifact', async () => {
  const { run, canaries } = await transportRun;
  assert.equal(
    run.code,
    1,
    `requests to a closed port fail the run (transport trouble past the threshold)\n${summary(run, canaries)}`,
  );
  const report = matrix(run, canaries);
  assert.equal(report.target, 'live');
  assert.ok(report.transport?.exceeded, `the run failed on transport trouble, and says so\n${summary(run, canaries)}`);
  const unanswered = report.rules.flatMap((r) => (r.inconclusive ?? []).filter((i) => i.kind === 'transport'));
  assert.ok(
    unanswered.some((i) => /^transport: refused \(ECONNREFUSED\)/.test(i.reason)),
    `inconclusive (transport), never failures\n${summary(run, canaries)}`,
  );
  assertCiSurfaces(run.outDir, join(run.outDir, 'console', 'step-summary.md'));
  assertNoCanary(run.outDir, canaries);
  passed += 1;
});

/** The failing run's report.json, and a page of its folder in the Chromium. */
async function rendered(file: string): Promise<{ page: Page; report: MatrixReport }> {
  const launched = await browser;
  console.log(`report rendering in ${launched.source}`);
  const run = await failingRun;
  const report = JSON.parse(
    readFileSync(join(run.outDir, 'conformance-report', 'report.json'), 'utf8'),
  ) as MatrixReport;
  const page = await launched.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(join(run.outDir, file)).href);
  return { page, report };
}

test('the conformance matrix shows the counts of report.json at the top and the failing rule', async () => {
  const { page, report } = await rendered('conformance-report/index.html');
  assert.equal(await page.locator('h1').innerText(), 'Dynamic API conformance');
  assert.equal(await page.locator('#target').innerText(), `mock (${report.apiUrl})`);
  assert.match(report.apiUrl, /^http:\/\/127\.0\.0\.1:424\d\/api\/v0$/);
  assert.equal(await page.locator('#profile').innerText(), report.profile);
  assert.equal(await page.locator('#seed').innerText(), '7');
  assert.equal(await page.locator('#count-pass b').innerText(), String(report.counts.rules.pass));
  assert.equal(await page.locator('#count-fail b').innerText(), String(report.counts.rules.fail));
  assert.deepEqual(
    [report.counts.rules.pass, report.counts.rules.fail],
    [7, 2],
    'AUTH-001 and ERR-009 fail under the faults, the other seven (SEC-002 and SEC-004 among them) pass',
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
  const { page } = await rendered('playwright-report/index.html');
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
  assert.ok(chips.includes('All9'), `9 tests in total: ${chips.join(' ')}`);
  assert.ok(chips.includes('Failed2'), `2 failed: ${chips.join(' ')}`);
  assert.ok(chips.includes('Passed7'), `7 passed: ${chips.join(' ')}`);

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
