/**
 * Coverage across nights (issue 14 §3): the ledger keeps, per (rule, subject), the last date verified and the outcome;
 * skipped pairs keep their old date; coverage lists never- and not-recently-verified pairs; samplingOrder gives a
 * rule's operations oldest-verified first, deterministically. The written ledger matches its schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemas } from '../../src/engine/schemas.js';
import {
  coverage,
  daysBetween,
  LEDGER_SCHEMA_ID,
  LedgerError,
  parseLedger,
  samplingOrder,
  updateLedger,
} from '../../src/nightly/ledger.js';
import { reportOf, roundTrip } from './support/reports.js';

const validate = (id: string, v: unknown) => schemas().validate(id, v);

test('the ledger records the last verification of each pair; a skip keeps the older date', () => {
  const applicable = new Map([['AUTH-001', ['GET /a', 'GET /b', 'POST /c', 'DELETE /d']]]);
  const l1 = updateLedger(
    undefined,
    reportOf({ 'AUTH-001': { 'GET /a': 'pass', 'GET /b': 'fail', 'POST /c': 'skip' } }),
    '2026-11-01',
    applicable,
  );
  assert.deepEqual(l1.pairs['AUTH-001']!['GET /a'], {
    verified: '2026-11-01',
    outcome: 'pass',
    lastRun: '2026-11-01',
    lastStatus: 'pass',
  });
  assert.deepEqual(l1.pairs['AUTH-001']!['POST /c'], { lastRun: '2026-11-01', lastStatus: 'skip' });
  assert.deepEqual(
    l1.pairs['AUTH-001']!['DELETE /d'],
    { lastRun: '2026-11-01', lastStatus: 'not-run' },
    'applicable but not reached',
  );
  const l2 = updateLedger(
    roundTrip(l1),
    reportOf({ 'AUTH-001': { 'GET /a': 'skip', 'POST /c': 'pass' } }),
    '2026-11-20',
    applicable,
  );
  assert.deepEqual(l2.pairs['AUTH-001']!['GET /a'], {
    verified: '2026-11-01',
    outcome: 'pass',
    lastRun: '2026-11-20',
    lastStatus: 'skip',
  });
  assert.equal(l2.pairs['AUTH-001']!['POST /c']!.verified, '2026-11-20');
  assert.equal(l2.pairs['AUTH-001']!['GET /b']!.verified, '2026-11-01', 'a pair the run did not reach keeps its entry');
  assert.deepEqual(validate(LEDGER_SCHEMA_ID, roundTrip(l2)), { valid: true, errors: [] });

  const cov = coverage(l2, '2026-11-20', 14, 'conformance-report/ledger.json');
  assert.deepEqual(cov.never, [{ rule: 'AUTH-001', subject: 'DELETE /d' }]);
  assert.deepEqual(
    cov.stale.map((s) => s.subject),
    ['GET /a', 'GET /b'],
    'verified 19 days ago',
  );
  assert.equal(cov.pairs, 4);
  assert.equal(cov.verified, 3);
  assert.equal(daysBetween('2026-11-01', '2026-11-20'), 19);
});

test('samplingOrder: never verified first (spec order), then the oldest verification; same input, same order', () => {
  const ledger = updateLedger(
    undefined,
    reportOf({ 'AUTH-001': { 'GET /a': 'pass', 'GET /c': 'pass' } }),
    '2026-11-10',
  );
  const later = updateLedger(ledger, reportOf({ 'AUTH-001': { 'GET /a': 'pass' } }), '2026-11-12');
  const ops = ['GET /a', 'GET /b', 'GET /c', 'GET /d'];
  assert.deepEqual(samplingOrder(later, 'AUTH-001', ops), ['GET /b', 'GET /d', 'GET /c', 'GET /a']);
  assert.deepEqual(samplingOrder(later, 'AUTH-001', ops), samplingOrder(roundTrip(later), 'AUTH-001', ops));
  assert.deepEqual(samplingOrder(undefined, 'AUTH-001', ops), ops, 'no ledger: spec order');
  assert.deepEqual(samplingOrder(later, 'ERR-001', ops), ops, 'a rule the ledger has not seen: spec order');
});

test('a broken ledger file is a readable error naming the file', () => {
  assert.throws(
    () => parseLedger('ledger.json', '{', validate),
    (e: Error) => e instanceof LedgerError && /^ledger\.json is not valid JSON/.test(e.message),
  );
  assert.throws(
    () => parseLedger('ledger.json', '{"tool":"x"}', validate),
    (e: Error) => e instanceof LedgerError && /does not match schemas\/meta\/ledger\.schema\.json/.test(e.message),
  );
});
