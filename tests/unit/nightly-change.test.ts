/**
 * What changed (issue 14 §2): every rule and every (rule, subject) outcome gets a change against the previous run,
 * from the short history the report carries; flaky = failed then passed on retry, or alternating; the run-failing
 * decision under CONFORMANCE_FAIL_ON=new|any.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alternates,
  applyChanges,
  changeDigest,
  classify,
  decideRule,
  HISTORY,
  indexPrevious,
  nextRecent,
} from '../../src/nightly/change.js';
import { reportOf, roundTrip } from './support/reports.js';

test('classify: every class from the status and the history before this run', () => {
  const cases: [Parameters<typeof classify>, string][] = [
    [['fail', 'P'], 'new'],
    [['fail', undefined], 'new'],
    [['fail', 'S'], 'new'],
    [['pass', 'F'], 'fixed'],
    [['pass', 'K'], 'fixed'],
    [['fail', 'F'], 'still-failing'],
    [['known', 'F'], 'still-failing'],
    [['fail', 'FS'], 'still-failing'],
    [['pass', 'P'], 'still-passing'],
    [['pass', undefined], 'newly-covered'],
    [['pass', 'SSI'], 'newly-covered'],
    [['pass', 'PF'], 'fixed'],
    [['fail', 'FP'], 'new'],
    [['pass', 'FPF'], 'flaky'],
    [['fail', 'PFP'], 'flaky'],
    [['fail', 'PSFSP'], 'flaky'],
    [['pass', 'FP'], 'still-passing'],
    [['pass', 'P', true], 'flaky'],
    [['skip', 'P'], 'not-covered'],
    [['inconclusive', 'F'], 'not-covered'],
    [['pass', 'FSP'], 'still-passing'],
    [['pass', 'FSF'], 'fixed'],
  ];
  for (const [args, expected] of cases) assert.equal(classify(...args), expected, JSON.stringify(args));
});

test('the history is bounded and skips do not break alternation detection', () => {
  let recent: string | undefined;
  for (let i = 0; i < 25; i += 1) recent = nextRecent(recent, i % 2 ? 'pass' : 'skip');
  assert.equal(recent!.length, HISTORY);
  assert.ok(alternates('PFSPF'));
  assert.ok(!alternates('PFP'), 'fixed then broken again is new, not flaky');
  assert.ok(!alternates('PPPPF'));
  assert.ok(!alternates('FFFPP'));
});

const OPS = { 'GET /a': 'pass', 'GET /b': 'pass', 'POST /c': 'pass' } as const;

test('a run with a fault, then a clean one: the rule and the broken operation are fixed, the rest pass', () => {
  const faulty = reportOf({ 'AUTH-001': { ...OPS, 'GET /b': 'fail' }, 'ERR-001': OPS });
  applyChanges(faulty, undefined);
  assert.equal(faulty.rules[0]!.change, undefined, 'no previous run: no change, only the history');
  assert.equal(faulty.rules[0]!.recent, 'F');
  const clean = reportOf({ 'AUTH-001': OPS, 'ERR-001': OPS }, '2026-12-02T03:23:00.000Z');
  applyChanges(clean, indexPrevious(roundTrip(faulty)));
  assert.equal(clean.rules[0]!.change, 'fixed');
  assert.equal(clean.rules[1]!.change, 'still-passing');
  assert.deepEqual(Object.fromEntries(clean.rules[0]!.outcomes!.map((o) => [o.subject, o.change])), {
    'GET /a': 'still-passing',
    'GET /b': 'fixed',
    'POST /c': 'still-passing',
  });
  assert.equal(clean.operations.find((o) => o.key === 'GET /b')!.changes!['AUTH-001'], 'fixed');
  assert.equal(clean.rules[0]!.recent, 'FP');
});

test('a clean run, then a run with a fault: new, on the rule, the outcome, the failure and the operation', () => {
  const clean = reportOf({ 'AUTH-001': OPS });
  applyChanges(clean, undefined);
  const faulty = reportOf({ 'AUTH-001': { ...OPS, 'POST /c': 'fail' } });
  applyChanges(faulty, indexPrevious(roundTrip(clean)));
  assert.equal(faulty.rules[0]!.change, 'new');
  assert.equal(faulty.rules[0]!.failures[0]!.change, 'new');
  assert.equal(faulty.operations.find((o) => o.key === 'POST /c')!.changes!['AUTH-001'], 'new');
  const digest = changeDigest(faulty);
  assert.deepEqual(
    digest.find((d) => d.change === 'new'),
    { change: 'new', rules: ['AUTH-001'], outcomes: [{ rule: 'AUTH-001', subject: 'POST /c' }] },
  );
});

test('a rule already failing that fails on one more operation: still-failing, with one new outcome', () => {
  const night1 = reportOf({ 'AUTH-001': { ...OPS, 'GET /a': 'fail' } });
  applyChanges(night1, undefined);
  const night2 = reportOf({ 'AUTH-001': { ...OPS, 'GET /a': 'fail', 'GET /b': 'fail' } });
  applyChanges(night2, indexPrevious(roundTrip(night1)));
  assert.equal(night2.rules[0]!.change, 'still-failing');
  assert.deepEqual(
    night2.rules[0]!.failures.map((f) => [f.subject, f.change]),
    [
      ['GET /a', 'still-failing'],
      ['GET /b', 'new'],
    ],
  );
});

test('alternating over the kept runs is flaky; a failure then a pass on retry within the run is flaky', () => {
  let previous;
  const seen: (string | undefined)[] = [];
  for (const status of ['pass', 'fail', 'pass', 'fail'] as const) {
    const r = reportOf({ 'AUTH-001': { 'GET /a': status } });
    applyChanges(r, previous);
    previous = indexPrevious(roundTrip(r));
    seen.push(r.rules[0]!.change);
  }
  assert.deepEqual(seen, [undefined, 'new', 'fixed', 'flaky']);
  const retried = reportOf({ 'AUTH-001': { 'GET /a': 'pass' } });
  retried.rules[0]!.retriedFlaky = true;
  applyChanges(retried, indexPrevious(roundTrip(reportOf({ 'AUTH-001': { 'GET /a': 'pass' } }))));
  assert.equal(retried.rules[0]!.change, 'flaky');
});

test('a report written before outcomes/recent existed still serves as the previous run', () => {
  const old = reportOf({ 'AUTH-001': { ...OPS, 'GET /a': 'fail' } }, undefined, { withOutcomes: false });
  const now = reportOf({ 'AUTH-001': OPS, 'AUTH-002': OPS });
  applyChanges(now, indexPrevious(roundTrip(old)));
  assert.equal(now.rules[0]!.change, 'fixed');
  assert.equal(now.rules[0]!.outcomes![0]!.change, 'fixed');
  assert.equal(now.rules[0]!.outcomes![1]!.change, 'still-passing');
  assert.equal(now.rules[1]!.change, 'newly-covered', 'a rule the previous run did not have');
});

test('CONFORMANCE_FAIL_ON: new fails only on new failures; any on every failure; no previous run = all new', () => {
  const night1 = reportOf({ 'AUTH-001': { ...OPS, 'GET /a': 'fail' } });
  applyChanges(night1, undefined);
  const prev = indexPrevious(roundTrip(night1));
  const still = [
    { subject: 'GET /a', status: 'fail' as const },
    { subject: 'GET /b', status: 'pass' as const },
  ];
  assert.deepEqual(decideRule('AUTH-001', still, prev, 'new'), { fails: false, failing: ['GET /a'], newFailing: [] });
  assert.equal(decideRule('AUTH-001', still, prev, 'any').fails, true);
  assert.equal(decideRule('AUTH-001', still, undefined, 'new').fails, true);
  const more = [...still, { subject: 'POST /c', status: 'fail' as const }];
  assert.deepEqual(decideRule('AUTH-001', more, prev, 'new').newFailing, ['POST /c']);
  const known = [{ subject: 'POST /c', status: 'known' as const }];
  assert.equal(decideRule('AUTH-001', known, prev, 'any').fails, false, 'a known deviation never fails the run');
});
