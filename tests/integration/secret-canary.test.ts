/**
 * SEC-001 proved end to end (conformance-rules SH-02, SH-03): the real suite runs with canary credentials three
 * ways — a passing run against the clean mock, a failing run against a faulted mock that echoes credentials into
 * its error bodies (with blob reports merged like the nightly job does), and a transport-error run on the live code
 * path against a closed port — each into its own output folder. Then every produced file (test-results, JUnit,
 * playwright-report incl. its embedded base64 zip, conformance-report, blob zips, merged reports, stdout/stderr) is
 * scanned recursively for the canaries in every encoding — ctrf.json, summary.md and the $GITHUB_STEP_SUMMARY copy too. Any hit fails. For mock runs the canaries are the mock's
 * own tokens and JWTs (a random MOCK_SEED makes them fresh); for the live run they are random dyn_/JWT values.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { scanPaths } from '../../src/secrets/leaks.js';
import { redact, registerSecret } from '../../src/secrets/redact.js';
import { checkFor } from '../../src/checks/index.js';
import { uuidFrom } from '../../src/http/requests.js';
import type { MatrixReport } from '../../src/report/matrix-reporter.js';
import { closedPort, runSuite, startMock, type Mock, type SuiteRun } from './support/suite-runs.js';

/** One folder per test process: concurrent `npm test` runs on one machine must not share output. */
const OUT = `/tmp/helper-live-canary-${process.pid}`;
let passed = 0;
/**
 * Rules whose checks present credentials (valid, mutated, misplaced) or touch the redaction layer, a few seconds each:
 * AUTH-001 fails under accept-missing-token, ERR-009 under echo-credential-in-error (its exchanges carry the echoed
 * credentials), AUTH-016/TOKEN-008/JWT-004 send real and mutated credentials into 401s. The trailing space matches
 * the id at the start of a title only (some titles mention other ids).
 */
const GREP = '(AUTH-001|AUTH-016|TOKEN-008|JWT-004|ERR-009|SEC-001|SEC-003) ';
const COMMON = ['test', '--project=conformance', '--workers=1', '-g', GREP];

let mock: Mock;

before(async () => {
  rmSync(OUT, { recursive: true, force: true });
  mock = await startMock(4240, { seed: randomInt(1, 2 ** 40) });
});

after(async () => {
  await mock?.stop();
  // Kept for inspection when a test failed; removed when all four passed.
  if (passed === 4) rmSync(OUT, { recursive: true, force: true });
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

/** The CI surfaces (issue 14) a run wrote: CTRF, the Markdown summary and the $GITHUB_STEP_SUMMARY copy — all scanned. */
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
  const seed = await mock.seed();
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
    `<template id="playwrightReportBase64">data:application/zip;base64,${Buffer.from(zip).toString('base64')}</template>`,
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

test('a passing run against the clean mock leaves no canary in any artifact', async () => {
  await mock.control('/reset', { faults: [] });
  const canaries = await mockCanaries();
  const run = await runSuite(join(OUT, 'passing'), COMMON, {
    DYNAMIC_TARGET: 'mock',
    DYNAMIC_API_URL: mock.apiUrl,
    MOCK_PORT: String(mock.port),
    FC_SEED: '7',
    FC_RUNS: '15',
  });
  const report = matrix(run, canaries);
  assert.ok(
    report.rules.some((r) => r.status === 'pass'),
    `no rule passed\n${summary(run, canaries)}`,
  );
  assert.equal(
    report.rules.find((r) => r.id === 'SEC-001')?.status,
    'pass',
    "SEC-001 (this run's redaction layer) passes",
  );
  assertNoCanary(run.outDir, canaries);
  passed += 1;
});

test('a failing run against a mock that echoes credentials leaves no canary, also after merging its blob report', async () => {
  const faults = ['echo-credential-in-error', 'accept-missing-token'];
  await mock.control('/reset', { faults });
  const canaries = await mockCanaries();
  const outDir = join(OUT, 'failing');
  const run = await runSuite(
    outDir,
    [...COMMON, '--reporter=list,junit,html,blob,./src/report/matrix-reporter.ts'],
    { DYNAMIC_TARGET: 'mock', DYNAMIC_API_URL: mock.apiUrl, MOCK_PORT: String(mock.port), FC_SEED: '7', FC_RUNS: '15' },
    {
      PLAYWRIGHT_JUNIT_OUTPUT_FILE: join(outDir, 'test-results', 'junit.xml'),
      PLAYWRIGHT_HTML_OUTPUT_DIR: join(outDir, 'playwright-report'),
      PLAYWRIGHT_BLOB_OUTPUT_DIR: join(outDir, 'blob-report'),
      GITHUB_STEP_SUMMARY: join(outDir, 'console', 'step-summary.md'),
    },
  );
  await mock.control('/faults', { faults: [] });
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
    { DYNAMIC_TARGET: 'mock', DYNAMIC_API_URL: mock.apiUrl, MOCK_PORT: String(mock.port) },
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
});

test('a transport-error run on the live code path (closed port) leaves no canary in any artifact', async () => {
  const port = await closedPort(4249);
  const alnum = (n: number): string =>
    randomBytes(n * 2)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, n);
  const jwt = (): string =>
    `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from(JSON.stringify({ sub: alnum(16), environment_id: uuidFrom(alnum(8)) })).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
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
