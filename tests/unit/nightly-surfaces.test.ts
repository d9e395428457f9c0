/**
 * CI surfaces (issue 14 §5) and the whole nightly pass over a report (§1–§4 together): the CTRF document validates
 * against CTRF's published schema (the `ctrf` package's validator and its bundled JSON schema), rule statuses map
 * honestly; the step summary shows counts, new failures, fixed, known deviations, drift and where the artifacts are;
 * annotateReport and the fixture's ruleVerdict agree on whether the run fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { validate as validateCtrf } from 'ctrf';
import { schemas } from '../../src/engine/schemas.js';
import { parseBaseline } from '../../src/nightly/baseline.js';
import { indexPrevious } from '../../src/nightly/change.js';
import { toCtrf } from '../../src/nightly/ctrf.js';
import { annotateReport, ruleVerdict } from '../../src/nightly/annotate.js';
import type { NightlyInputs } from '../../src/nightly/inputs.js';
import { renderStepSummary, TRACKING_MARKER, trackingIssueBody } from '../../src/nightly/step-summary.js';
import { reportOf, roundTrip, type Table } from './support/reports.js';

const validate = (id: string, v: unknown) => schemas().validate(id, v);
const TODAY = '2026-12-02';
const NIGHT1: Table = {
  'AUTH-004': { 'GET /environments/{environmentId}': 'fail', 'GET /users': 'pass' },
  'AUTH-005': { 'GET /users': 'fail', 'GET /environments/{environmentId}': 'pass' },
  'ERR-001': { 'GET /users': 'pass', 'POST /users': 'pass' },
  'SCHEMA-001': { 'GET /users': 'pass', 'GET /x': 'skip' },
};
const NIGHT2: Table = {
  'AUTH-004': { 'GET /environments/{environmentId}': 'fail', 'GET /users': 'pass' },
  'AUTH-005': { 'GET /users': 'pass', 'GET /environments/{environmentId}': 'pass' },
  'ERR-001': { 'GET /users': 'pass', 'POST /users': 'fail' },
  'SCHEMA-001': { 'GET /users': 'pass', 'GET /x': 'skip' },
};

function inputs(
  failOn: 'new' | 'any',
  previous?: ReturnType<typeof reportOf>,
  deviations: unknown[] = [],
): NightlyInputs {
  const baseline = parseBaseline(
    'conformance.baseline.json',
    JSON.stringify({ deviations }),
    validate,
    new Set(Object.keys(NIGHT1)),
  );
  return {
    settings: {
      baselineFile: 'x',
      previousFile: undefined,
      ledgerFile: undefined,
      failOn,
      failOnDrift: false,
      staleAfterDays: 14,
    },
    baseline,
    previous: previous ? { file: 'prev/report.json', report: previous, index: indexPrevious(previous) } : undefined,
    ledger: undefined,
  };
}

function twoNights(deviations: unknown[] = [], failOn: 'new' | 'any' = 'new') {
  const first = reportOf(NIGHT1, '2026-12-01T03:23:00.000Z');
  annotateReport(first, inputs(failOn), { today: '2026-12-01', drift: [] });
  const previous = roundTrip(first);
  const second = reportOf(NIGHT2, '2026-12-02T03:23:00.000Z');
  const drift = [
    {
      operation: 'GET /users',
      properties: [{ status: 200, path: '$.user.brandNew' }],
      headers: ['x-request-id'],
      statuses: [],
    },
  ];
  const { ledger } = annotateReport(second, inputs(failOn, previous, deviations), {
    today: TODAY,
    drift,
    ledgerOut: 'conformance-report/ledger.json',
  });
  return { first, second, ledger };
}

test('annotateReport: changes, known deviations, drift, coverage and the verdict on one report', () => {
  const { second, ledger } = twoNights([
    {
      rule: 'AUTH-004',
      operations: ['GET /environments/*'],
      reason: 'accepted',
      owner: 'platform',
      expires: '2027-03-01',
    },
    { rule: 'ERR-001', operations: ['DELETE /nothing'], reason: 'never matches' },
  ]);
  const byId = Object.fromEntries(second.rules.map((r) => [r.id, r]));
  assert.equal(byId['AUTH-004']!.status, 'known');
  assert.equal(byId['AUTH-004']!.change, 'still-failing');
  assert.equal(byId['AUTH-005']!.change, 'fixed');
  assert.equal(byId['ERR-001']!.change, 'new');
  assert.equal(byId['SCHEMA-001']!.outcomes!.find((o) => o.subject === 'GET /x')!.change, 'not-covered');
  assert.deepEqual(
    second.baseline!.entries.map((e) => e.state),
    ['active', 'stale'],
  );
  assert.equal(second.drift!.counts.new, 2);
  assert.equal(second.drift!.failsRun, false);
  assert.equal(second.counts!.rules.known, 1);
  assert.equal(second.coverage!.never.length, 1, 'SCHEMA-001 GET /x was never verified');
  assert.deepEqual(second.verdict, {
    failOn: 'new',
    failed: true,
    reasons: ['ERR-001 has 1 new failure(s): POST /users'],
  });
  assert.ok(ledger.drift?.['GET /users header x-request-id']);
});

test("the fixture's per-rule decision agrees with the report's verdict (new vs still failing, known, expired)", () => {
  const previous = roundTrip(
    (() => {
      const r = reportOf(NIGHT1);
      annotateReport(r, inputs('new'), { today: '2026-12-01', drift: [] });
      return r;
    })(),
  );
  const devs = [{ rule: 'AUTH-005', reason: 'expired one', expires: '2026-11-30' }];
  const inp = inputs('new', previous, devs);
  const outcomes = (t: Table, id: string) => Object.entries(t[id]!).map(([subject, status]) => ({ subject, status }));
  assert.equal(
    ruleVerdict('AUTH-004', 'enforce', outcomes(NIGHT2, 'AUTH-004'), inp, TODAY).fails,
    false,
    'still failing under new',
  );
  assert.equal(
    ruleVerdict(
      'AUTH-004',
      'enforce',
      outcomes(NIGHT2, 'AUTH-004'),
      { ...inp, settings: { ...inp.settings, failOn: 'any' } },
      TODAY,
    ).fails,
    true,
  );
  const err = ruleVerdict('ERR-001', 'enforce', outcomes(NIGHT2, 'ERR-001'), inp, TODAY);
  assert.deepEqual([err.fails, err.newFailing], [true, ['POST /users']]);
  assert.equal(
    ruleVerdict('ERR-001', 'report', outcomes(NIGHT2, 'ERR-001'), inp, TODAY).fails,
    false,
    'report-only rules never fail the run',
  );
  const expired = ruleVerdict('AUTH-005', 'enforce', outcomes(NIGHT2, 'AUTH-005'), inp, TODAY);
  assert.equal(expired.fails, true, 'an expired entry fails its rule even when the rule passes');
  assert.match(expired.expired[0]!, /^conformance\.baseline\.json deviations\[0\] \(AUTH-005\) expired on 2026-11-30/);
  const known = ruleVerdict(
    'AUTH-004',
    'enforce',
    outcomes(NIGHT2, 'AUTH-004'),
    inputs('any', previous, [{ rule: 'AUTH-004', reason: 'whole rule' }]),
    TODAY,
  );
  assert.deepEqual([known.fails, [...known.known.keys()]], [false, ['GET /environments/{environmentId}']]);
});

test("ctrf.json validates against CTRF's schema; statuses map honestly, change and deviations carried", () => {
  const { second } = twoNights([{ rule: 'AUTH-004', reason: 'accepted', owner: 'platform' }]);
  second.rules.push(
    { id: 'RATE-001', status: 'inconclusive', failures: [] },
    {
      id: 'AUTH-019',
      status: 'fail',
      reportOnly: true,
      mode: 'report',
      failures: [{ subject: 'GET /a', reason: 'x' }],
    },
  );
  const doc = roundTrip(
    toCtrf(second, { toolVersion: '0.1.0', environment: { buildId: '123', branchName: 'main', commit: undefined } }),
  );
  const result = validateCtrf(doc);
  assert.deepEqual(result.errors ?? [], []);
  assert.equal(result.valid, true);
  // The same document against the JSON schema file the package ships, with a separate validator.
  const require = createRequire(import.meta.url);
  const schemaFile = require.resolve('ctrf').replace(/index\.c?js$/, 'ctrf-schema-0.0.json');
  const ajv = new Ajv({ allErrors: true, strict: false });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  const check = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  assert.ok(check(doc), JSON.stringify(check.errors));
  const status = Object.fromEntries(doc.results.tests.map((t) => [t.testId, [t.status, t.rawStatus]]));
  assert.deepEqual(status, {
    'AUTH-004': ['other', 'known deviation'],
    'AUTH-005': ['passed', 'pass'],
    'ERR-001': ['failed', 'fail'],
    'SCHEMA-001': ['passed', 'pass'],
    'RATE-001': ['other', 'inconclusive'],
    'AUTH-019': ['other', 'report-only deviation'],
  });
  assert.deepEqual(doc.results.summary.tests, 6);
  assert.equal(doc.results.summary.failed, 1);
  assert.equal(doc.results.tests.find((t) => t.testId === 'ERR-001')!.labels.change, 'new');
  assert.equal(doc.results.environment.testEnvironment, 'mock');
});

test('step summary: verdict, counts, new failures first, fixed, known deviations, drift, coverage, artifacts', () => {
  const { second } = twoNights([
    {
      rule: 'AUTH-004',
      operations: ['GET /environments/*'],
      reason: 'accepted',
      owner: 'platform',
      expires: '2027-03-01',
    },
    { rule: 'ERR-001', operations: ['DELETE /nothing'], reason: 'never matches' },
  ]);
  const md = renderStepSummary(second, { artifacts: 'https://github.com/o/r/actions/runs/1' });
  assert.match(md, /^## Dynamic API conformance — ❌ failing \(mock, docs-2026, seed 42\)/);
  assert.match(md, /\| pass \| fail \| known \|/);
  assert.match(md, /\| 2 \| 1 \| 1 \| 0 \| 0 \| 0 \| 10 \|/);
  const changed = md.indexOf('### What changed');
  assert.ok(changed > 0 && changed < md.indexOf('### Known deviations'), 'what changed comes before the rest');
  assert.match(md, /\*\*new\*\*: 1 rule\(s\), 1 operation outcome\(s\)\n- `ERR-001`\n- `ERR-001` `POST \/users`/);
  assert.match(md, /\*\*fixed\*\*: 1 rule\(s\)/);
  assert.match(md, /active `deviations\[0\]` `AUTH-004` `GET \/environments\/\*` — platform, expires 2027-03-01/);
  assert.match(md, /🧹 stale `deviations\[1\]`/);
  assert.match(md, /### Drift[^\n]*\n\n2 item\(s\) on 1 operation\(s\): 2 new, 0 known\./);
  assert.match(md, /`GET \/users` header `x-request-id`/);
  assert.match(md, /### Coverage across runs/);
  assert.match(md, /`conformance-report\/ctrf\.json`.*https:\/\/github\.com\/o\/r\/actions\/runs\/1/);
  const body = trackingIssueBody(md, 'https://github.com/o/r/actions/runs/1');
  assert.ok(body.startsWith(TRACKING_MARKER));
});

test('the step summary of a first night (no previous run) says so', () => {
  const r = reportOf(NIGHT1);
  annotateReport(r, inputs('any'), { today: '2026-12-01', drift: [] });
  const md = renderStepSummary(r);
  assert.match(md, /No previous run was given \(CONFORMANCE_PREVIOUS\)/);
  assert.match(md, /fails on `any` failures/);
});
