/**
 * The conformance matrix shows x-dynamic-auth-conflict per operation (issue 12): the engine's operations carry the
 * spec's conflict sentence and live decision, and the HTML grid marks the operation with the sentence as tooltip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec } from '../../src/engine/spec.js';
import { renderMatrixHtml } from '../../src/report/matrix-html.js';
import type { MatrixReport } from '../../src/report/matrix-types.js';

const spec = loadSpec('docs-2026');

test("operations carry the spec's auth conflict and its live decision", () => {
  const conflicted = spec.operations.filter((o) => o.authConflict);
  console.log(
    `operations with an auth conflict: ${conflicted.length} (` +
      `${conflicted.filter((o) => o.authConflict!.live === 'report').length} ` +
      `report on live)`,
  );
  assert.equal(conflicted.length, 80);
  assert.equal(spec.byId.get('scanUrl')!.authConflict!.live, 'report');
  assert.equal(spec.byId.get('getEndUserOauthAccessToken')!.authConflict!.live, 'enforce');
  assert.equal(spec.byId.get('getTokens')!.authConflict, undefined);
});

test('the HTML grid marks a conflicted operation with the sentence; others stay unmarked', () => {
  const op = spec.byId.get('getWebhooks')!;
  const other = spec.byId.get('getTokens')!;
  const rule = {
    id: 'AUTH-001',
    title: 't',
    level: 'documented',
    tags: ['@auth'],
    source: 's',
    mode: 'enforce',
    status: 'pass',
    reportOnly: false,
    counts: { pass: 2, fail: 0, skip: 0, inconclusive: 0 },
    failures: [],
    skipReasons: [],
  };
  const report = {
    tool: 'dynamic-api-conformance',
    schemaVersion: 1,
    target: 'mock',
    apiUrl: 'http://127.0.0.1:1/api/v0',
    profile: 'docs-2026',
    specHash: 'x',
    fcSeed: 1,
    startedAt: '',
    durationMs: 1,
    runStatus: 'passed',
    counts: {
      rules: { pass: 1, fail: 0, skip: 0, inconclusive: 0, deviation: 0 },
      outcomes: { pass: 2, fail: 0, skip: 0, inconclusive: 0 },
      requests: 2,
    },
    rules: [rule],
    operations: [
      {
        key: op.key,
        operationId: op.operationId,
        auth: op.auth,
        tag: op.tag,
        authConflict: op.authConflict,
        results: { 'AUTH-001': 'pass' },
      },
      {
        key: other.key,
        operationId: other.operationId,
        auth: other.auth,
        tag: other.tag,
        results: { 'AUTH-001': 'pass' },
      },
    ],
  } as unknown as MatrixReport;
  const html = renderMatrixHtml(report);
  assert.equal((html.match(/class="auth-conflict"/g) ?? []).length, 1);
  assert.match(html, /auth conflict \(enforce on live\)/);
  assert.ok(html.includes('Classed api-token'), 'the sentence is in the tooltip');
});
