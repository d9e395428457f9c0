/**
 * The live code path on every commit: the real suite runs with DYNAMIC_TARGET=live semantics against a private
 * mock (DYNAMIC_API_URL = the mock, a seeded sandbox token, environment and project from /__mock/seed, no optional
 * credentials). Asserted: the target is live in the matrix; checks whose credential is not configured are skipped
 * with the reason (naming the variable) in report.json, never passed and never failed; nothing is a pass without
 * outcomes; every test of the run is in the matrix; traces are off (no trace.zip anywhere); the burst gate refuses
 * without DYNAMIC_RATE_LIMIT_BUDGET; the sandbox verification (GET /projects/{projectId}/environments) succeeds for
 * the seeded sandbox; and DYNAMIC_REQUEST_BUDGET stops a run with a readable reason shown in the matrix.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkFor } from '../../src/checks/index.js';
import type { MockSeed } from '../../src/engine/credentials.js';
import { filesUnder, scanPaths } from '../../src/secrets/leaks.js';
import type { MatrixReport, RuleReport } from '../../src/report/matrix-reporter.js';
import { runSuite, startMock, tail, type Mock, type SuiteRun } from './support/suite-runs.js';

/** One folder per test process: concurrent `npm test` runs on one machine must not share output. */
const OUT = `/tmp/helper-live-path-${process.pid}`;
/**
 * Rules that need optional credentials (AUTH-012 user-jwt ops, AUTH-007, AUTH-008, JWT-005), one the catalogue skips
 * on live (AUTH-006), one sweep with the configured token (AUTH-005), the burst gate (RATE-015, rate-limit project) and
 * the suite properties (SEC-*). Ids followed by a space match only at the start of a title.
 * No sweep over the /sdk operations: the live client sends from one address and waits Retry-After in real time,
 * while the mock's clock stands still, so the sdk-ip policy (60 per 10 s) would stall such a run.
 */
const GREP = '(AUTH-005|AUTH-006|AUTH-007|AUTH-008|AUTH-012|JWT-005|RATE-015|SEC-00[1-6]) ';

let mock: Mock;
let seed: MockSeed;
let live: { environmentId: string; projectId: string; token: string };

before(async () => {
  mock = await startMock(4242);
  seed = await mock.seed();
  const sandbox = seed.environments.find((e) => e.name === 'sandbox');
  const token = seed.tokens.find((t) => t.environmentId === sandbox?.id && t.label === 'all');
  assert.ok(sandbox?.projectId && token, 'the mock seeds a sandbox with its project and a full-scope token');
  live = { environmentId: sandbox.id, projectId: sandbox.projectId, token: token.value };
});

/** Tests that completed; the output folder is removed only when all of them did (kept for inspection otherwise). */
let passed = 0;
const TESTS = 8;
after(async () => {
  await mock?.stop();
  if (passed === TESTS) rmSync(OUT, { recursive: true, force: true });
});

function liveVars(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DYNAMIC_TARGET: 'live',
    DYNAMIC_API_URL: mock.apiUrl,
    DYNAMIC_ENVIRONMENT_ID: live.environmentId,
    DYNAMIC_API_TOKEN: live.token,
    DYNAMIC_PROJECT_ID: live.projectId,
    FC_SEED: '11',
    FC_RUNS: '5',
    ...extra,
  };
}

function matrixOf(run: SuiteRun): MatrixReport {
  return JSON.parse(readFileSync(join(run.outDir, 'conformance-report', 'report.json'), 'utf8')) as MatrixReport;
}

function junitRules(run: SuiteRun): string[] {
  const xml = readFileSync(join(run.outDir, 'test-results', 'junit.xml'), 'utf8');
  return [...new Set([...xml.matchAll(/<testcase name="[^"]*?› ([A-Z]+-\d{3}) /g)].map((m) => m[1]!))].sort();
}

let main: SuiteRun;
let report: MatrixReport;
const rule = (id: string): RuleReport | undefined => report.rules.find((r) => r.id === id);

test('the suite runs against the mock with live semantics and reports the live target', async () => {
  main = await runSuite(join(OUT, 'main'), ['test', '-g', GREP], liveVars({ DYNAMIC_REQUEST_BUDGET: '20000' }));
  report = matrixOf(main);
  assert.equal(report.target, 'live', tail(main));
  assert.ok(
    report.rules.length >= 6,
    `expected the SEC rules at least, got ${report.rules.map((r) => r.id).join(', ')}`,
  );
  assert.match(main.stdout, /Conformance matrix: \d+ rules/);
  passed += 1;
});

test('every test of the run is in the matrix, and nothing is a pass without outcomes', () => {
  assert.deepEqual(report.rules.map((r) => r.id).sort(), junitRules(main), 'the matrix and JUnit list the same rules');
  for (const r of report.rules) {
    const total = r.counts.pass + r.counts.fail + r.counts.skip + r.counts.inconclusive;
    assert.ok(total > 0, `${r.id} is in the matrix without any outcome`);
    if (r.status === 'pass')
      assert.ok(
        r.counts.pass > 0 && r.counts.fail === 0 && r.counts.inconclusive === 0,
        `${r.id} is a pass without passing outcomes`,
      );
    if (r.status === 'skip') assert.ok(r.counts.pass === 0 && r.counts.fail === 0, `${r.id} skipped but has verdicts`);
  }
  passed += 1;
});

test('checks whose credential is not configured are skipped with the reason naming the variable', () => {
  for (const r of report.rules)
    if (r.counts.skip > 0)
      assert.ok(
        r.skipReasons.length > 0 && r.skipReasons.every((s) => s.trim().length > 10),
        `${r.id} has skips without reasons`,
      );
  const reasons = (id: string): string => rule(id)?.skipReasons.join(' | ') ?? '';
  // The sandbox verifies (DYNAMIC_PROJECT_ID), so the run signs in through the test account for its user JWT.
  assert.equal(
    report.pacing?.jwt?.user.source,
    'test-account',
    'the user JWT is obtained through the sandbox test account',
  );
  assert.doesNotMatch(reasons('AUTH-012'), /DYNAMIC_USER_JWT/, 'AUTH-012 has a user JWT for the user-jwt operations');
  if (checkFor('AUTH-007')) assert.match(reasons('AUTH-007'), /DYNAMIC_OTHER_ENVIRONMENT_(TOKEN|ID)/);
  if (checkFor('AUTH-008')) assert.match(reasons('AUTH-008'), /DYNAMIC_LIMITED_TOKEN/);
  if (checkFor('JWT-005')) assert.doesNotMatch(reasons('JWT-005'), /DYNAMIC_USER_JWT is not set/);
  const auth006 = rule('AUTH-006');
  if (auth006) {
    assert.equal(auth006.status, 'skip', 'AUTH-006 is not asserted on live (catalogue: targets.live = skip)');
    assert.match(reasons('AUTH-006'), /not asserted on the live target/);
  }
  passed += 1;
});

test('bursts are refused without DYNAMIC_RATE_LIMIT_BUDGET (skip with the reason, no probe)', () => {
  const rate = rule('RATE-015');
  assert.ok(rate, 'RATE-015 ran in the rate-limit project');
  assert.equal(rate.status, 'skip');
  assert.match(rate.skipReasons.join(' | '), /DYNAMIC_RATE_LIMIT_BUDGET/);
  passed += 1;
});

test('traces are off on the live target: no trace anywhere in the output, SEC-005 passes', () => {
  const traces = filesUnder([main.outDir]).files.filter(
    (f) => /trace\.zip$|\.trace$|[/\\]trace[/\\]/.test(f) && !/playwright-report[/\\]trace[/\\]/.test(f),
  );
  assert.deepEqual(traces, []);
  assert.equal(rule('SEC-005')?.status, 'pass');
  passed += 1;
});

test('the seeded sandbox is verified (GET /projects/{projectId}/environments serves the seed) and the write gate holds', () => {
  const sec003 = rule('SEC-003');
  assert.ok(sec003);
  assert.deepEqual(
    sec003.failures.map((f) => `${f.subject}: ${f.reason}`),
    [],
    'SEC-003 has no failures',
  );
  // With DYNAMIC_PROJECT_ID set, nothing of SEC-003 may be skipped: a skip here means the sandbox did not verify.
  assert.deepEqual(sec003.skipReasons, [], 'the seeded sandbox verifies');
  assert.equal(sec003.status, 'pass');
  passed += 1;
});

test('the live token never appears in any artifact of the live-path run', () => {
  const { hits } = scanPaths([main.outDir], [live.token], main.outDir);
  assert.deepEqual(
    hits.map((h) => `${h.location} (${h.encoding})`),
    [],
  );
  passed += 1;
});

test('DYNAMIC_REQUEST_BUDGET bounds the run and the matrix says why (a spent share is a skip with the reason, never a pass or a failure)', async () => {
  const run = await runSuite(
    join(OUT, 'budget'),
    ['test', '--project=conformance', '-g', '(AUTH-005) '],
    liveVars({ DYNAMIC_REQUEST_BUDGET: '25' }),
  );
  assert.equal(run.code, 0, tail(run));
  const m = matrixOf(run);
  const r = m.rules.find((x) => x.id === 'AUTH-005');
  assert.ok(r, 'AUTH-005 is in the matrix');
  assert.notEqual(r.status, 'fail');
  assert.match(r.skipReasons.join(' '), /share of the request budget is spent \(\d+ of DYNAMIC_REQUEST_BUDGET=25/);
  assert.ok((m.pacing?.requests ?? 0) <= 25, `the run-wide budget holds: ${m.pacing?.requests}`);
  passed += 1;
});
