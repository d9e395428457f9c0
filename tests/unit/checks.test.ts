/**
 * The check table and the rule catalogue agree: every rule has exactly one registered check, every check names a rule,
 * and every rule the mock enforces is broken by at least one named fault (or is listed here with the reason it has
 * none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKS } from '../../src/checks/index.js';
import { loadSpec } from '../../src/engine/spec.js';

const spec = loadSpec('docs-2026');

/** Rules no mock fault can break, and why. */
const WITHOUT_FAULT: Record<string, string> = {
  'TOKEN-001': 'a property of the suite (its classifier), proven by tests/unit/token-classifier.test.ts',
  'TOKEN-010': "node's HTTP parser rejects CR/LF/NUL in header values before the mock sees them",
  'ERR-014': "node's maxHeaderSize answers 431 before the mock sees the request",
  'RATE-015': 'a property of the suite (live budget), proven by its unit tests',
};

test('every rule has exactly one check and every check names a known rule', () => {
  const byRule = new Map<string, number>();
  for (const check of CHECKS) byRule.set(check.rule, (byRule.get(check.rule) ?? 0) + 1);
  for (const rule of spec.rules)
    assert.equal(byRule.get(rule.id), 1, `${rule.id} has ${byRule.get(rule.id) ?? 0} checks`);
  for (const check of CHECKS) assert.ok(spec.rulesById.has(check.rule), `check for unknown rule ${check.rule}`);
});

test('every rule enforced on the mock has a fault that breaks it, or a stated reason why none can', () => {
  const faulted = new Set(spec.faults.map((f) => f.rule));
  for (const rule of spec.rules) {
    if (rule.targets.mock !== 'enforce' || rule.id.startsWith('SEC-')) continue;
    assert.ok(faulted.has(rule.id) || WITHOUT_FAULT[rule.id], `${rule.id} has no fault in specs/faults.json`);
  }
});
