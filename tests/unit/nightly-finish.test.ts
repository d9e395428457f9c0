/**
 * The nightly end of a run (issue 14 §5): finishNightly writes ledger.json, ctrf.json and summary.md, appends the
 * summary to $GITHUB_STEP_SUMMARY, passes every file through the redactor; the matrix sections put "what changed"
 * first and escape what they show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate as validateCtrf } from 'ctrf';
import { indexPrevious } from '../../src/nightly/change.js';
import { finishNightly } from '../../src/nightly/finish.js';
import type { NightlyInputs } from '../../src/nightly/inputs.js';
import { baselineSection, changesSection, coverageSection, driftSection } from '../../src/nightly/matrix-sections.js';
import { reportOf, roundTrip } from './support/reports.js';

const CANARY = 'dyn_CANARYcanaryCANARYcanaryCANARY0123456789';

function inputs(previous?: ReturnType<typeof reportOf>): NightlyInputs {
  return {
    settings: {
      baselineFile: undefined,
      previousFile: undefined,
      ledgerFile: undefined,
      failOn: 'new',
      failOnDrift: false,
      staleAfterDays: 14,
    },
    baseline: undefined,
    previous: previous ? { file: 'p', report: previous, index: indexPrevious(previous) } : undefined,
    ledger: undefined,
  };
}

test('finishNightly writes ledger, CTRF and summary (redacted), appends the step summary, returns the verdict', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nightly-finish-'));
  try {
    const previous = reportOf({ 'AUTH-001': { 'GET /a': 'pass' } });
    const report = reportOf({ 'AUTH-001': { 'GET /a': 'fail' } });
    report.rules[0]!.failures[0]!.reason = `echoed ${CANARY} in the body`;
    const stepSummary = join(dir, 'step-summary.md');
    writeFileSync(stepSummary, '# earlier step\n');
    const redact = (s: string): string => s.split(CANARY).join('[dyn_…#redacted]');
    const drift = [{ operation: 'GET /a', headers: ['x-request-id'] }];
    const out = finishNightly(report, inputs(roundTrip(previous)), {
      outDir: dir,
      today: '2026-12-01',
      drift,
      redact,
      stepSummaryFile: stepSummary,
      runUrl: 'https://github.com/o/r/actions/runs/9',
    });
    assert.deepEqual(out.verdict, { failOn: 'new', failed: true, reasons: ['AUTH-001 has 1 new failure(s): GET /a'] });
    assert.ok(
      out.console.some((l) => /^ {2}new: 1 rule\(s\) \(AUTH-001\)/.test(l)),
      out.console.join('\n'),
    );
    assert.ok(out.console.some((l) => /^ {4}✗ AUTH-001 GET \/a$/.test(l)));
    for (const f of ['ledger.json', 'ctrf.json', 'summary.md'])
      assert.doesNotMatch(readFileSync(join(dir, f), 'utf8'), /CANARY/, f);
    const ctrf = JSON.parse(readFileSync(join(dir, 'ctrf.json'), 'utf8')) as unknown;
    assert.equal(validateCtrf(ctrf).valid, true);
    const step = readFileSync(stepSummary, 'utf8');
    assert.ok(
      step.startsWith('# earlier step\n## Dynamic ' + 'API conformance — ❌ ' + 'failing'),
      'appended, not overwritten',
    );
    assert.match(step, /https:\/\/github\.com\/o\/r\/actions\/runs\/9/);
    assert.doesNotMatch(step, /CANARY/);
    const ledger = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as {
      pairs: Record<string, Record<string, unknown>>;
      drift: Record<string, unknown>;
    };
    assert.deepEqual(ledger.pairs['AUTH-001']!['GET /a'], {
      verified: '2026-12-01',
      outcome: 'fail',
      lastRun: '2026-12-01',
      lastStatus: 'fail',
    });
    assert.ok(ledger.drift['GET /a header x-request-id']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('matrix sections: what changed lists new failures with links; every shown value is escaped', () => {
  const previous = reportOf({ 'AUTH-001': { 'GET /a': 'pass' } });
  const report = reportOf({ 'AUTH-001': { 'GET /a': 'pass', 'GET /<b>': 'fail' } });
  const dir = mkdtempSync(join(tmpdir(), 'nightly-sections-'));
  try {
    finishNightly(report, inputs(roundTrip(previous)), {
      outDir: dir,
      today: '2026-12-01',
      drift: [{ operation: 'GET /<b>', properties: [{ status: 200, path: '$.<img>' }] }],
      redact: (s) => s,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const html = changesSection(report) + driftSection(report) + coverageSection(report) + baselineSection(report);
  assert.match(
    html,
    new RegExp(
      String.raw`<h3>New failures <small>1 rule\(s\), 1 operation outcome\(s\)<\/small><\/h3>` +
        String.raw`<p><a href="#AUTH-001">AUTH-001<\/a><\/p><ul><li><a href="#AUTH-001">AUTH-001<\/a> ` +
        String.raw`<code>GET \/&lt;b&gt;<\/code>`,
    ),
  );
  assert.doesNotMatch(html, /GET \/<b>|<img>/);
  assert.match(html, /property <code>200 \$\.&lt;img&gt;<\/code> <span class="badge fail">new<\/span>/);
  assert.equal(baselineSection(report), '', 'no baseline, no section');
  assert.match(changesSection(reportOf({ 'AUTH-001': { 'GET /a': 'pass' } })), /No previous run was given/);
});
