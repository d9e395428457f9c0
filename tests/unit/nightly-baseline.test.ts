/**
 * Known deviations (issue 14 §1): the baseline file is schema-validated through the engine's one ajv with readable
 * errors; an entry silences exactly the failures its rule and operation globs match; an expired entry silences
 * nothing and is named; an entry matching nothing in a rule that ran is stale; `baseline:write` output round-trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemas } from '../../src/engine/schemas.js';
import {
  applyBaseline,
  baselineFromReport,
  BaselineError,
  BASELINE_SCHEMA_ID,
  describeEntry,
  expiredEntries,
  exactGlob,
  matchDeviation,
  parseBaseline,
} from '../../src/nightly/baseline.js';
import { reportOf } from './support/reports.js';

const validate = (id: string, v: unknown) => schemas().validate(id, v);
const RULES = new Set(['AUTH-004', 'AUTH-005', 'ERR-001']);
const TODAY = '2026-12-01';
const parse = (value: unknown) => parseBaseline('conformance.baseline.json', JSON.stringify(value), validate, RULES);

const entry = {
  rule: 'AUTH-004',
  operations: ['GET /environments/*'],
  reason: 'lower-case bearer refused',
  owner: 'platform',
  link: 'https://example.com/i/1',
  expires: '2027-03-01',
};

test("the issue's example file is valid; the schema is registered in the engine's registry", () => {
  assert.ok(schemas().ids.includes(BASELINE_SCHEMA_ID));
  const b = parse({ deviations: [entry] });
  assert.equal(b.deviations.length, 1);
  assert.equal(
    describeEntry(b, 0),
    'conformance.baseline.json deviations[0] (AUTH-004 GET /environments/*, owner platform)',
  );
});

test('a bad baseline gets one readable line naming the file and the problem, never a stack trace', () => {
  const cases: [string, RegExp][] = [
    ['{"deviations": [', /^conformance\.baseline\.json is not valid JSON: /],
    [
      JSON.stringify({ deviations: [{ ...entry, expires: '2027-13-45' }] }),
      /deviations\[0\]\/expires must match format "date"/,
    ],
    [JSON.stringify({ deviations: [{ rule: 'AUTH-004' }] }), /deviations\[0\] must have required property 'reason'/],
    [
      JSON.stringify({ deviations: [{ ...entry, operations: ['get /environments/*'] }] }),
      /deviations\[0\]\/operations\/0 must match pattern/,
    ],
    [JSON.stringify({ deviations: [{ ...entry, colour: 'red' }] }), /must NOT have additional properties/],
    [JSON.stringify({ deviation: [] }), /must have required property 'deviations'/],
    [
      JSON.stringify({ deviations: [{ ...entry, rule: 'AUTH-999' }] }),
      /deviations\[0\]\.rule 'AUTH-999' is not a rule of specs\/rules\//,
    ],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseBaseline('conformance.baseline.json', text, validate, RULES),
      (error: Error) => {
        assert.ok(error instanceof BaselineError, error.name);
        assert.match(error.message, expected);
        assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace in the message');
        return true;
      },
    );
  }
});

test(
  'operation globs: method + path template, * one ' +
    'segment, ** any, alternatives; no operations = every ' +
    'subject',
  () => {
    const b = parse({
      deviations: [
        entry,
        { rule: 'ERR-001', operations: ['{GET,DELETE} /sdk/**'], reason: 'xyz' },
        { rule: 'AUTH-005', reason: 'whole rule' },
      ],
    });
    assert.equal(matchDeviation(b, 'AUTH-004', 'GET /environments/{environmentId}', TODAY), 0);
    assert.equal(
      matchDeviation(b, 'AUTH-004', 'GET /environments/{environmentId}/users', TODAY),
      undefined,
      '* is one segment',
    );
    assert.equal(
      matchDeviation(b, 'AUTH-004', 'POST /environments/{environmentId}', TODAY),
      undefined,
      'the method counts',
    );
    assert.equal(
      matchDeviation(b, 'AUTH-005', 'GET /environments/{environmentId}', TODAY),
      2,
      "another rule's entry does not match",
    );
    assert.equal(matchDeviation(b, 'ERR-001', 'DELETE /sdk/{environmentId}/users/{userId}', TODAY), 1);
    assert.equal(matchDeviation(b, 'ERR-001', 'POST /sdk/{environmentId}/users', TODAY), undefined);
    assert.equal(
      matchDeviation(b, 'AUTH-005', 'policy nonce', TODAY),
      2,
      'an entry without operations covers API-level cases too',
    );
    assert.equal(matchDeviation(b, 'AUTH-004', 'policy nonce', TODAY), undefined);
  },
);

test('an entry is valid through its expiry day; after it, it silences nothing and is named', () => {
  const b = parse({ deviations: [{ ...entry, expires: TODAY }] });
  assert.equal(matchDeviation(b, 'AUTH-004', 'GET /environments/{environmentId}', TODAY), 0);
  assert.equal(matchDeviation(b, 'AUTH-004', 'GET /environments/{environmentId}', '2026-12-02'), undefined);
  assert.deepEqual(expiredEntries(b, 'AUTH-004', '2026-12-02'), [0]);
  assert.deepEqual(expiredEntries(b, 'AUTH-005', '2026-12-02'), []);
});

test('applyBaseline silences exactly its deviation: matched failures become known, others stay failing', () => {
  const report = reportOf({
    'AUTH-004': {
      'GET /environments/{environmentId}': 'fail',
      'POST /environments/{environmentId}': 'fail',
      'GET /users': 'pass',
    },
    'AUTH-005': { 'GET /environments/{environmentId}': 'fail' },
    'ERR-001': { 'GET /users': 'pass' },
  });
  const b = parse({
    deviations: [
      entry,
      { rule: 'AUTH-005', reason: 'whole rule' },
      { rule: 'ERR-001', reason: 'never matches' },
      { rule: 'AUTH-004', operations: ['PATCH /x'], reason: 'expired one', expires: '2026-01-01' },
    ],
  });
  const summary = applyBaseline(report, b, TODAY);
  const [a4, a5] = report.rules;
  assert.equal(a4!.status, 'fail', 'one failure is not covered: the rule still fails');
  assert.deepEqual(
    a4!.failures.map((f) => f.deviation),
    [0, undefined],
  );
  assert.deepEqual(
    a4!.outcomes!.map((o) => o.status),
    ['known', 'fail', 'pass'],
  );
  assert.equal(a5!.status, 'known', 'every failure known: the rule is known');
  assert.equal(
    report.operations.find((o) => o.key === 'GET /environments/{environmentId}')!.results['AUTH-004'],
    'known',
  );
  assert.equal(
    report.operations.find((o) => o.key === 'POST /environments/{environmentId}')!.results['AUTH-004'],
    'fail',
  );
  assert.deepEqual(
    summary.entries.map((e) => e.state),
    ['active', 'active', 'stale', 'expired'],
  );
  assert.deepEqual(summary.counts, { active: 2, expired: 1, stale: 1, matched: 2 });
});

test('an entry for a rule the run did not include is not-run, not stale', () => {
  const report = reportOf({ 'ERR-001': { 'GET /users': 'pass' } });
  const summary = applyBaseline(report, parse({ deviations: [entry] }), TODAY);
  assert.equal(summary.entries[0]!.state, 'not-run');
});

test("baseline:write: today's failures as a valid starting file that makes exactly them known", () => {
  const table = {
    'AUTH-004': { 'GET /environments/{environmentId}': 'fail', 'GET /users': 'pass' },
    'AUTH-005': { 'GET /a': 'fail', 'GET /b': 'fail' },
    'ERR-001': { 'GET /users': 'pass' },
  } as const;
  const written = baselineFromReport(reportOf(table), TODAY);
  assert.deepEqual(
    written.deviations.map((d) => [d.rule, d.operations]),
    [
      ['AUTH-004', ['GET /environments/{environmentId}']],
      ['AUTH-005', undefined],
    ],
  );
  assert.equal(written.deviations[0]!.expires, '2027-03-01');
  assert.equal(written.deviations[0]!.owner, 'unassigned');
  const b = parse(written);
  const again = reportOf(table);
  applyBaseline(again, b, TODAY);
  assert.deepEqual(
    again.rules.map((r) => r.status),
    ['known', 'known', 'pass'],
  );
  // A new failure next night is not silenced by the written file.
  const next = reportOf({
    ...table,
    'AUTH-004': { 'GET /environments/{environmentId}': 'fail', 'GET /users': 'fail' },
  });
  applyBaseline(next, b, TODAY);
  assert.equal(next.rules[0]!.status, 'fail');
  assert.equal(exactGlob('GET /a/(x)*'), 'GET /a/\\(x\\)\\*');
});
