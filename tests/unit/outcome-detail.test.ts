/**
 * Structured outcomes and declared preconditions (issue #11), without a server: the one status judge returns
 * expected / received next to its sentence, the matrix HTML renders them, and the runner turns an unmet need into
 * the reason of one skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpResponse } from '../../src/http/client.js';
import { loadConfig } from '../../src/engine/config.js';
import { loadSpec } from '../../src/engine/spec.js';
import { schemas } from '../../src/engine/schemas.js';
import type { CheckContext } from '../../src/engine/types.js';
import { unmetNeed, type Suite } from '../../src/engine/runner.js';
import { expectError, judgeStatus } from '../../src/checks/support/status.js';
import { renderMatrixHtml } from '../../src/report/matrix-html.js';
import type { MatrixReport } from '../../src/report/matrix-types.js';

const spec = loadSpec(loadConfig().docsProfile);
const ctx = { spec, schemas: schemas() } as unknown as CheckContext;

function answer(status: number, json?: unknown): HttpResponse {
  const text = json === undefined ? '' : JSON.stringify(json);
  return {
    status,
    headers: {},
    text,
    json,
    exchange: { seq: 1, request: { method: 'GET', url: '/x', headers: [] }, ms: 1, curl: '' },
  };
}

test('the status judge gives expected and received next to the sentence', () => {
  const wrong = judgeStatus(ctx, answer(200, {}), [401]);
  assert.deepEqual({ expected: wrong?.expected, received: wrong?.received }, { expected: '401', received: '200' });
  assert.match(wrong?.reason ?? '', /expected 401, got 200/);
  const verdict = expectError(ctx, answer(0), [400], 'non-UUID {id}');
  assert.equal(verdict.ok, false);
  if (!verdict.ok) assert.equal(verdict.expected, '400');
  assert.equal(judgeStatus(ctx, answer(204), [204]), undefined, 'an expected success status is right');
});

test('the matrix HTML shows expected and received of a failure', () => {
  const rule = {
    id: 'AUTH-001',
    title: 't',
    level: 'documented',
    tags: ['@auth'],
    source: 's',
    mode: 'enforce',
    status: 'fail',
    reportOnly: false,
    counts: { pass: 0, fail: 1, skip: 0, inconclusive: 0 },
    test: undefined,
    testStatus: undefined,
    requests: 1,
    skipReasons: [],
    failures: [
      {
        subject: 'GET /x',
        reason: 'no Authorization header: expected 401, got 200',
        expected: '401',
        received: '200',
        exchanges: undefined,
      },
    ],
  } as const;
  const report = {
    tool: 'dynamic-api-conformance',
    schemaVersion: 1,
    target: 'mock',
    apiUrl: 'http://127.0.0.1:1/api/v0',
    profile: 'docs-2026',
    specHash: 'h',
    fcSeed: 1,
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    runStatus: 'failed',
    counts: {
      rules: { pass: 0, fail: 1, skip: 0, inconclusive: 0, deviation: 0 },
      outcomes: { pass: 0, fail: 1, skip: 0, inconclusive: 0 },
      requests: 1,
    },
    rules: [rule],
    operations: [],
  } as unknown as MatrixReport;
  const html = renderMatrixHtml(report);
  assert.match(html, /expected <b>401<\/b>, received <b>200<\/b>/);
});

test('an unmet need is the reason of the skip, checked in order', () => {
  const suite = (target: 'mock' | 'live', mock: boolean): Suite =>
    ({
      config: { target, apiUrl: 'http://127.0.0.1:4010/api/v0', allowWrites: false },
      credentials: { missing: { inactiveToken: 'DYNAMIC_INACTIVE_TOKEN is not set' } },
      mock: mock ? {} : undefined,
    }) as unknown as Suite;
  const needs = { target: { only: 'mock' as const, why: 'mock only' }, mockControl: {} };
  assert.equal(unmetNeed(needs, suite('live', false), false), 'mock only');
  assert.match(unmetNeed(needs, suite('mock', false), false) ?? '', /MOCK_CONTROL=off/);
  assert.equal(unmetNeed(needs, suite('mock', true), false), undefined);
  assert.equal(
    unmetNeed({ mockControl: {} }, suite('live', false), true),
    undefined,
    'a declared live body needs no control API',
  );
  assert.match(
    unmetNeed({ credentials: ['inactiveToken'] }, suite('mock', true), false) ?? '',
    /DYNAMIC_INACTIVE_TOKEN/,
  );
  assert.match(unmetNeed({ writes: { why: 'writes' } }, suite('live', false), false) ?? '', /writes/);
});
