/**
 * Issue 14 end to end, with the real suite in child processes against private mocks (one process, three instances),
 * in five small runs (two or three rules each) and one that stops at its configuration — started at once, the
 * three nights in order: night 1 (no previous run, a partial baseline, drift from a loopback front) fails X and Y;
 * night 2 has X fixed and Y still failing with the drift known and CONFORMANCE_FAIL_ON_DRIFT on, and passes;
 * night 3 has X broken again (new: the run fails, Y still failing does not). A baseline entry silences exactly its
 * deviation, an expired one fails the run naming itself; a whole-rule entry makes the rule `known` and — with new
 * drift in the same run, which never fails a run by default — the run green; new drift alone fails a run only under
 * CONFORMANCE_FAIL_ON_DRIFT=true; drift is in report.json and the matrix's drift section and its values appear
 * nowhere. Every run writes ctrf.json (CTRF-schema-valid) and summary.md, and appends the summary to
 * $GITHUB_STEP_SUMMARY. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate as validateCtrf } from 'ctrf';
import { scanPaths } from '../../src/secrets/leaks.js';
import type { ReportLike, RuleEntry } from '../../src/nightly/types.js';
import { runSuite, startMocks, tail, type Mock, type SuiteRun } from './support/suite-runs.js';
import {
  DRIFT_HEADER,
  DRIFT_PROPERTY,
  DRIFT_STATUS,
  DRIFT_VALUE,
  startDriftFront,
  type DriftFront,
} from './support/drift-front.js';

const OUT = `/tmp/helper-nightly-${process.pid}`;
const X = { rule: 'AUTH-004', fault: 'scheme-case-sensitive' };
// Y's fault only changes 401 answers (the mock's state evolves the same way under it): each night's SCHEMA-001 sees
// the same data, so the same drift.
const Y = { rule: 'AUTH-013', fault: 'no-www-authenticate' };
const NIGHT = '(AUTH-004|AUTH-013|SCHEMA-001) ';
const TWO = '(AUTH-004|AUTH-013) ';
let night: Mock;
let withFault: Mock;
let clean: Mock;
const fronts: DriftFront[] = [];
let passed = 0;
const TESTS = 4;

type NightlyRun = SuiteRun & { report: ReportLike; summary: string };
/** The runs (started at once in before: the three nights in order, the others next to them). */
let nights: Promise<[NightlyRun, NightlyRun, NightlyRun]>;
let knownAndDrift: Promise<NightlyRun>;
let driftOptedIn: Promise<NightlyRun>;
let badBaseline: Promise<SuiteRun>;
let partialBaselineFile: string;

before(async () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // One mock process, three mocks: the nights' (faults set per night), one with X's fault, one clean.
  [night, withFault, clean] = (await startMocks(4246, [[], [X.fault], []])) as [Mock, Mock, Mock];
  const seed = await night.seed();
  const sandbox = seed.environments.find((e) => e.name === 'sandbox')!;
  const users = `/api/v0/environments/${sandbox.id}/users`;
  const front = async (m: Mock): Promise<DriftFront> => {
    const f = await startDriftFront(m.apiUrl.replace(/\/api\/v0$/, ''), users);
    fronts.push(f);
    return f;
  };
  const [nightFront, faultFront, cleanFront] = [await front(night), await front(withFault), await front(clean)];

  partialBaselineFile = join(OUT, 'partial.baseline.json');
  writeFileSync(
    partialBaselineFile,
    JSON.stringify({
      deviations: [
        {
          rule: 'AUTH-004',
          operations: ['GET /**'],
          reason: 'GETs accepted for now',
          owner: 'qa',
          expires: '2999-01-01',
        },
        { rule: 'AUTH-013', reason: 'expired acceptance', owner: 'qa', expires: '2020-01-01' },
        { rule: 'AUTH-004', operations: ['PATCH /nothing/*'], reason: 'matches nothing' },
      ],
    }),
  );
  const wholeFile = join(OUT, 'whole.baseline.json');
  writeFileSync(
    wholeFile,
    JSON.stringify({ deviations: [{ rule: 'AUTH-004', reason: 'accepted', owner: 'qa', expires: '2999-01-01' }] }),
  );
  const bad = join(OUT, 'bad.baseline.json');
  writeFileSync(bad, JSON.stringify({ deviations: [{ rule: 'AUTH-004', reason: 'x y z', expires: '2027-02-30x' }] }));

  // Night 1 (no previous run; the partial baseline; drift from the front): X and Y fail. Night 2: X fixed, Y still
  // failing, the drift known, CONFORMANCE_FAIL_ON_DRIFT on. Night 3: X broken again (new), Y still failing.
  nights = (async () => {
    await night.control('/faults', { faults: [X.fault, Y.fault] });
    const first = await run(night, '1-first-night', NIGHT, { CONFORMANCE_BASELINE: partialBaselineFile }, nightFront);
    await night.control('/faults', { faults: [Y.fault] });
    const second = await run(
      night,
      '2-second-night',
      NIGHT,
      { CONFORMANCE_PREVIOUS: folder(first), CONFORMANCE_FAIL_ON_DRIFT: 'true' },
      nightFront,
    );
    await night.control('/faults', { faults: [X.fault, Y.fault] });
    const third = await run(night, '3-third-night', TWO, { CONFORMANCE_PREVIOUS: join(folder(second), 'report.json') });
    return [first, second, third];
  })();
  // X fully known under CONFORMANCE_FAIL_ON=any, and new drift (by default it never fails a run): the run passes.
  knownAndDrift = run(
    withFault,
    '4-known-and-drift',
    '(AUTH-004|SCHEMA-001) ',
    { CONFORMANCE_BASELINE: wholeFile, CONFORMANCE_FAIL_ON: 'any' },
    faultFront,
  );
  // Nothing fails but new drift, opted in: the run fails.
  driftOptedIn = run(clean, '5-drift-opted-in', 'SCHEMA-001 ', { CONFORMANCE_FAIL_ON_DRIFT: 'true' }, cleanFront);
  badBaseline = runSuite(
    join(OUT, '6-bad-baseline'),
    ['test', '--project=conformance', '-g', X.rule],
    { DYNAMIC_API_URL: clean.apiUrl },
    { CONFORMANCE_BASELINE: bad },
  );
  // Each is awaited by its test; a failure before that must not end the process as an unhandled rejection.
  for (const p of [nights, knownAndDrift, driftOptedIn, badBaseline]) p.catch(() => undefined);
});

after(async () => {
  await Promise.allSettled([nights, knownAndDrift, driftOptedIn, badBaseline]);
  await Promise.all(fronts.map((f) => f.stop()));
  await night?.stop();
  if (passed === TESTS) rmSync(OUT, { recursive: true, force: true });
});

/** One small suite run (list and matrix reporters only: the nightly files are the matrix reporter's). */
async function run(
  mock: Mock,
  name: string,
  grep: string,
  nightly: Record<string, string>,
  through?: DriftFront,
): Promise<NightlyRun> {
  const dir = join(OUT, name);
  const stepSummary = join(dir, 'console', 'github-step-summary.md');
  const r = await runSuite(
    dir,
    [
      'test',
      '--project=conformance',
      '--workers=1',
      '--reporter=list,./src/report/matrix-reporter.ts',
      '--trace=off',
      '-g',
      grep,
    ],
    { DYNAMIC_API_URL: through?.apiUrl ?? mock.apiUrl, FC_SEED: '7', FC_RUNS: '3' },
    {
      CONFORMANCE_BASELINE: 'off',
      CONFORMANCE_FAIL_ON: '',
      CONFORMANCE_FAIL_ON_DRIFT: '',
      CONFORMANCE_LEDGER: '',
      CONFORMANCE_PREVIOUS: '',
      ...nightly,
      GITHUB_STEP_SUMMARY: stepSummary,
    },
  );
  const file = join(dir, 'conformance-report', 'report.json');
  assert.ok(existsSync(file), `no report.json\n${tail(r)}`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as ReportLike;
  const ctrf = JSON.parse(readFileSync(join(dir, 'conformance-report', 'ctrf.json'), 'utf8')) as unknown;
  const valid = validateCtrf(ctrf);
  assert.ok(valid.valid, `ctrf.json is not CTRF-schema-valid: ${JSON.stringify(valid.errors)}`);
  const summary = readFileSync(join(dir, 'conformance-report', 'summary.md'), 'utf8');
  assert.equal(readFileSync(stepSummary, 'utf8'), summary, '$GITHUB_STEP_SUMMARY gets the summary');
  assert.ok(existsSync(join(dir, 'conformance-report', 'ledger.json')), 'the ledger is written for the next run');
  return { ...r, report, summary };
}

const rule = (r: ReportLike, id: string): RuleEntry => {
  const found = r.rules.find((x) => x.id === id);
  assert.ok(found, `${id} is in the report`);
  return found;
};
const folder = (r: SuiteRun): string => join(r.outDir, 'conformance-report');

test(
  'a faulted run then a clean run: fixed; the reverse: new ' +
    'and failing; still failing does not fail a new-only run',
  async () => {
    const [faulted, clean, broken] = await nights;
    assert.equal(faulted.code, 1, `a plain run (no previous) fails on any failure\n${tail(faulted)}`);
    assert.equal(faulted.report.verdict?.failOn, 'any', 'no previous report: any failure fails the run');
    assert.ok(
      faulted.report.verdict.reasons.some((r) => r.startsWith(`${X.rule} fails on`)),
      `${X.rule}'s failures are among the reasons: ${faulted.report.verdict.reasons.join('; ')}`,
    );
    assert.equal(rule(faulted.report, X.rule).status, 'fail');
    assert.equal(rule(faulted.report, X.rule).change, undefined, 'no previous run, no change');
    assert.equal(rule(faulted.report, Y.rule).status, 'fail');

    // The second night: X fixed and Y still failing in one run; the run passes (CONFORMANCE_FAIL_ON=new by default).
    assert.equal(clean.code, 0, `fixed and still failing: nothing new, the run passes\n${tail(clean)}`);
    const fixed = rule(clean.report, X.rule);
    assert.equal(fixed.change, 'fixed');
    assert.ok(
      fixed.outcomes!.some((o) => o.change === 'fixed'),
      'the operations it failed on are fixed',
    );
    assert.ok(
      fixed.outcomes!.every((o) => o.change === 'fixed' || o.change === 'still-passing' || o.change === 'not-covered'),
    );
    assert.equal(clean.report.operations.find((op) => op.changes?.[X.rule] === 'fixed')?.changes?.[X.rule], 'fixed');
    assert.match(clean.summary, /\*\*fixed\*\*: 1 rule\(s\)/);
    const out = clean.stdout;
    assert.ok(
      out.indexOf('What changed') >= 0 && out.indexOf('What changed') < out.indexOf('Conformance matrix:'),
      'what changed is printed first',
    );
    const html = readFileSync(join(folder(clean), 'index.html'), 'utf8');
    assert.ok(
      html.indexOf('id="changes"') > 0 && html.indexOf('id="changes"') < html.indexOf('id="auth"'),
      'what changed comes first in the matrix',
    );
    assert.equal(rule(clean.report, Y.rule).status, 'fail', 'still red in the matrix');
    assert.equal(rule(clean.report, Y.rule).change, 'still-failing');
    assert.equal(clean.report.verdict?.failOn, 'new', 'a previous report makes new the default');
    assert.equal(clean.report.verdict?.failed, false);

    // The third night: X broken again (new: the run fails), Y still failing.
    assert.equal(broken.code, 1, `a new failure fails a CONFORMANCE_FAIL_ON=new run\n${tail(broken)}`);
    assert.equal(rule(broken.report, X.rule).change, 'new');
    assert.ok(rule(broken.report, X.rule).failures.every((f) => f.change === 'new'));
    assert.equal(rule(broken.report, Y.rule).change, 'still-failing');
    assert.equal(broken.report.verdict?.failOn, 'new', 'a previous report makes new the default');
    assert.match(broken.summary, /\*\*new\*\*: 1 rule\(s\)/);
    assert.deepEqual(
      broken.report.verdict.reasons.map((r) => r.split(' ')[0]),
      [X.rule],
      'only the new failure fails the run, not the still-failing one',
    );
    passed += 1;
  },
);

test(
  'a baseline entry silences exactly its deviation; an expired ' +
    'one fails the run naming itself; whole-rule → known',
  async () => {
    // The first night ran with the partial baseline (X's GETs accepted, an expired entry for Y, a stale entry).
    const [partial] = await nights;
    assert.equal(partial.code, 1, tail(partial));
    const a4 = rule(partial.report, X.rule);
    assert.equal(a4.status, 'fail', 'non-GET failures are not covered by the entry');
    const known = a4.failures.filter((f) => f.deviation === 0);
    const unknown = a4.failures.filter((f) => f.deviation === undefined);
    assert.ok(
      known.length > 0 && known.every((f) => f.subject.startsWith('GET ')),
      'exactly the GET failures are known',
    );
    assert.ok(unknown.length > 0 && unknown.every((f) => !f.subject.startsWith('GET ')));
    assert.ok(a4.outcomes!.filter((o) => o.status === 'known').every((o) => o.subject.startsWith('GET ')));
    assert.deepEqual(
      partial.report.baseline!.entries.map((e) => e.state),
      ['active', 'expired', 'stale'],
    );
    assert.match(
      `${partial.stdout}\n${partial.stderr}`,
      /partial\.baseline\.json deviations\[1\] \(AUTH-013, owner qa\) expired on 2020-01-01/,
    );
    assert.ok(partial.report.verdict!.reasons.some((r) => /deviations\[1\].*expired/.test(r)));

    const whole = await knownAndDrift;
    assert.equal(whole.code, 0, `a fully known deviation does not fail the run\n${tail(whole)}`);
    assert.equal(rule(whole.report, X.rule).status, 'known');
    assert.equal(whole.report.counts!.rules.known, 1);
    const html = readFileSync(join(folder(whole), 'index.html'), 'utf8');
    assert.match(html, /id="baseline"/);
    assert.match(html, /badge known/);
    assert.match(whole.summary, /### Known deviations/);
    passed += 1;
  },
);

test('a bad baseline file stops the run with one readable line, before any request', async () => {
  const r = await badBaseline;
  assert.equal(r.code, 2, tail(r));
  assert.match(
    r.stderr,
    new RegExp(
      'configuration error: CONFORMANCE_BASELINE: .*bad\\.baseline\\.json does not match ' +
        'schemas/meta/baseline\\.schema\\.json: deviations\\[0\\]/expires must match format "date"',
    ),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(!existsSync(join(r.outDir, 'conformance-report')), 'no test ran: no matrix was written');
  passed += 1;
});

test(
  'drift injected by a front: recorded per operation (names ' + 'only), known the next night, fails only when opted in',
  async () => {
    // New drift with the default setting, in a run that otherwise passes (its one failing rule is a known deviation).
    const first = await knownAndDrift;
    assert.equal(first.code, 0, `drift never fails a run by default\n${tail(first)}`);
    const drift = first.report.drift!;
    assert.ok(drift.counts.operations > 10, `drift on many operations: ${JSON.stringify(drift.counts)}`);
    assert.equal(drift.failsRun, false);
    const users = drift.operations.find((op) => op.key === 'GET /environments/{environmentId}/users');
    assert.ok(users, 'the operation whose status was changed has drift');
    assert.ok(users.headers.some((h) => h.name === DRIFT_HEADER && h.change === 'new'));
    assert.ok(users.properties.some((p) => p.name === `${DRIFT_STATUS} $.${DRIFT_PROPERTY}` && p.change === 'new'));
    assert.ok(users.statuses.some((s) => s.name === String(DRIFT_STATUS)));
    const html = readFileSync(join(folder(first), 'index.html'), 'utf8');
    assert.match(html, /<section id="drift">/);
    assert.match(html, new RegExp(DRIFT_PROPERTY));
    assert.match(first.summary, /### Drift/);
    // Values never: the scanner also looks inside the HTML report's embedded zip and base64 data. The exchanges of the
    // AUTH rules that failed (or were known deviations) record the front's answers verbatim, header included: they are
    // the evidence of those failures, not drift records.
    const [firstNight, secondNight] = await nights;
    for (const r of [first, firstNight, secondNight]) {
      const { hits } = scanPaths([r.outDir], [DRIFT_VALUE], r.outDir);
      assert.deepEqual(
        hits.map((h) => h.location).filter((l) => !/^conformance-report\/exchanges\/AUTH-\d{3}\.json:\d+$/.test(l)),
        [],
        `a drift value was written somewhere in ${r.outDir}`,
      );
    }

    // The second night saw the first night's drift again, with CONFORMANCE_FAIL_ON_DRIFT=true (and passed: test 1).
    const before = firstNight.report.drift!;
    assert.ok(
      before.counts.new > 0 && before.counts.operations > 10,
      `drift the first night: ${JSON.stringify(before)}`,
    );
    assert.equal(secondNight.code, 0, `nothing new: the opted-in drift setting does not fail\n${tail(secondNight)}`);
    assert.equal(secondNight.report.drift!.counts.new, 0);
    assert.equal(secondNight.report.drift!.failsRun, false);
    // The second night sees the same undocumented names again (a seeded property may reach a few other operations).
    const known = secondNight.report.drift!.counts.known;
    assert.ok(
      known > 0 && known <= before.counts.items && known >= before.counts.items * 0.95,
      `known ${known} of ${before.counts.items}`,
    );

    const optedIn = await driftOptedIn;
    assert.equal(optedIn.code, 1, `new drift fails the run when opted in\n${tail(optedIn)}`);
    assert.equal(optedIn.report.drift!.failsRun, true);
    assert.ok(
      optedIn.report.rules.every((r) => r.status === 'pass'),
      'every rule passed: the drift alone failed the run',
    );
    passed += 1;
  },
);
