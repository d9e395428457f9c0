/**
 * The nightly variables (issue 14), parsed by the one configuration module: CONFORMANCE_FAIL_ON defaults to `new`
 * with a previous report and `any` without; CONFORMANCE_PREVIOUS takes a report.json or its folder; the ledger
 * beside it is read by default; bad values are one readable ConfigError naming the variable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseNightly } from '../../src/engine/config.js';

test(
  'defaults: no baseline (off), no previous, fail on any; ' +
    'with a previous folder: its report and ledger, fail on ' +
    'new',
  () => {
    const plain = parseNightly({ CONFORMANCE_BASELINE: 'off', CONFORMANCE_TODAY: '2026-12-01' });
    assert.deepEqual(
      [
        plain.baselineFile,
        plain.previousFile,
        plain.ledgerFile,
        plain.failOn,
        plain.failOnDrift,
        plain.staleAfterDays,
        plain.today,
      ],
      [undefined, undefined, undefined, 'any', false, 14, '2026-12-01'],
    );
    const dir = mkdtempSync(join(tmpdir(), 'nightly-config-'));
    try {
      writeFileSync(join(dir, 'report.json'), '{}');
      writeFileSync(join(dir, 'ledger.json'), '{}');
      const nightly = parseNightly({
        CONFORMANCE_BASELINE: 'off',
        CONFORMANCE_PREVIOUS: dir,
        GITHUB_STEP_SUMMARY: '/tmp/s.md',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '5',
      });
      assert.equal(nightly.previousFile, join(dir, 'report.json'));
      assert.equal(nightly.ledgerFile, join(dir, 'ledger.json'));
      assert.equal(nightly.failOn, 'new');
      assert.equal(nightly.stepSummaryFile, '/tmp/s.md');
      assert.equal(nightly.runUrl, 'https://github.com/o/r/actions/runs/5');
      assert.equal(
        parseNightly({ CONFORMANCE_BASELINE: 'off', CONFORMANCE_PREVIOUS: dir, CONFORMANCE_FAIL_ON: 'ANY' }).failOn,
        'any',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('bad nightly values are one line naming the variable', () => {
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [{ CONFORMANCE_FAIL_ON: 'sometimes' }, /^CONFORMANCE_FAIL_ON must be 'new' or 'any', got 'sometimes'$/],
    [{ CONFORMANCE_PREVIOUS: '/nonexistent/night' }, /^CONFORMANCE_PREVIOUS: no report\.json at \/nonexistent\/night/],
    [{ CONFORMANCE_BASELINE: '/nonexistent/b.json' }, /^CONFORMANCE_BASELINE: no such file \/nonexistent\/b\.json/],
    [{ CONFORMANCE_LEDGER: '/nonexistent/l.json' }, /^CONFORMANCE_LEDGER: no such file/],
    [{ CONFORMANCE_FAIL_ON_DRIFT: 'maybe' }, /^CONFORMANCE_FAIL_ON_DRIFT must be true or false/],
    [{ CONFORMANCE_STALE_DAYS: '0' }, /^CONFORMANCE_STALE_DAYS must be between 1 and 3650/],
    [{ CONFORMANCE_TODAY: 'tomorrow' }, /^CONFORMANCE_TODAY must be a date/],
  ];
  for (const [env, expected] of cases) {
    assert.throws(
      () => parseNightly({ CONFORMANCE_BASELINE: 'off', ...env }),
      (e: unknown) => e instanceof ConfigError && expected.test(e.message),
      JSON.stringify(env),
    );
  }
});
