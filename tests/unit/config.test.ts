/** The configuration module: defaults, validation messages that name the variable, live requirements. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/engine/config.js';

const TOKEN = `dyn_${'a'.repeat(56)}`;
const ENV = '95b11417-f18f-457f-8804-68e361f9164f';

test('defaults: the embedded mock on 127.0.0.1:4010, docs-2026, started by the suite', () => {
  const c = parseConfig({});
  assert.equal(c.target, 'mock');
  assert.equal(c.apiUrl, 'http://127.0.0.1:4010/api/v0');
  assert.equal(c.startMock, true);
  assert.equal(c.docsProfile, 'docs-2026');
  assert.equal(c.fc.runs, 100);
});

test('DYNAMIC_API_URL with the mock target uses that server and starts none', () => {
  const c = parseConfig({ DYNAMIC_API_URL: 'http://127.0.0.1:5000/api/v0/' });
  assert.equal(c.apiUrl, 'http://127.0.0.1:5000/api/v0');
  assert.equal(c.startMock, false);
});

test('bad values fail with a message naming the variable', () => {
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [{ DYNAMIC_TARGET: 'prod' }, /DYNAMIC_TARGET must be 'mock' or 'live'/],
    [{ MOCK_PORT: 'abc' }, /MOCK_PORT must be an integer/],
    [{ MOCK_PORT: '70000' }, /MOCK_PORT must be between 1 and 65535/],
    [{ DYNAMIC_API_URL: 'not a url' }, /DYNAMIC_API_URL is not a URL/],
    [{ DYNAMIC_API_URL: 'http://example.com/api/v0' }, /DYNAMIC_API_URL must use https unless it points at loopback/],
    [{ DYNAMIC_API_URL: 'https://evil.example/api/v0' }, /DYNAMIC_API_URL host must be one of/],
    [{ DYNAMIC_API_URL: 'https://app.dynamic.xyz/api/v0?token=x' }, /must not carry credentials, a query/],
    [{ DYNAMIC_DOCS_PROFILE: 'latest' }, /DYNAMIC_DOCS_PROFILE must look like docs-2026/],
    [{ DYNAMIC_DOCS_PROFILE: 'docs-2019' }, /DYNAMIC_DOCS_PROFILE 'docs-2019' is not one of docs-2025, docs-2026/],
    [{ FC_SEED: '1.5' }, /FC_SEED must be an integer/],
    [{ FC_PATH: '0:1' }, /FC_PATH needs FC_SEED/],
    [{ FC_SEED: '1', FC_PATH: 'x' }, /FC_PATH must look like 0:1:3/],
    [{ DYNAMIC_ALLOW_WRITES: 'maybe' }, /DYNAMIC_ALLOW_WRITES must be true or false/],
    [{ DYNAMIC_TARGET: 'live' }, /DYNAMIC_ENVIRONMENT_ID is required when DYNAMIC_TARGET=live/],
    [{ DYNAMIC_TARGET: 'live', DYNAMIC_ENVIRONMENT_ID: 'ENV' }, /DYNAMIC_ENVIRONMENT_ID must be a lowercase UUID/],
    [{ DYNAMIC_TARGET: 'live', DYNAMIC_ENVIRONMENT_ID: ENV }, /DYNAMIC_API_TOKEN is required/],
    [
      { DYNAMIC_TARGET: 'live', DYNAMIC_ENVIRONMENT_ID: ENV, DYNAMIC_API_TOKEN: 'sk_live_x' },
      /DYNAMIC_API_TOKEN must start with dyn_ \(the value is not shown\)/,
    ],
    [{ DYNAMIC_RATE_LIMIT_BUDGET: '0' }, /DYNAMIC_RATE_LIMIT_BUDGET must be between 1 and 1000/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => parseConfig(env),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      `${JSON.stringify(env)} → ${String(message)}`,
    );
  }
});

test('a rejected token value never appears in the error message', () => {
  try {
    parseConfig({ DYNAMIC_TARGET: 'live', DYNAMIC_ENVIRONMENT_ID: ENV, DYNAMIC_API_TOKEN: 'sk_live_secretvalue123' });
    assert.fail('should throw');
  } catch (e) {
    assert.doesNotMatch(String(e), /secretvalue123/);
  }
});

test("live: defaults to Dynamic's host, small property runs, a request budget, optional credentials", () => {
  const c = parseConfig({ DYNAMIC_TARGET: 'live', DYNAMIC_ENVIRONMENT_ID: ENV, DYNAMIC_API_TOKEN: TOKEN });
  assert.equal(c.apiUrl, 'https://app.dynamic.xyz/api/v0');
  assert.equal(c.startMock, false);
  assert.equal(c.fc.runs, 20);
  assert.equal(c.requestBudget, 5000);
  assert.equal(c.allowWrites, false);
  assert.equal(c.live?.userJwt, undefined);
});

test('DYNAMIC_TRANSPORT_FAILURE_THRESHOLD: a percentage, default 2; anything else names the variable', () => {
  assert.equal(parseConfig({}).transportFailureThreshold, 2);
  assert.equal(parseConfig({ DYNAMIC_TRANSPORT_FAILURE_THRESHOLD: '0.5%' }).transportFailureThreshold, 0.5);
  assert.equal(parseConfig({ DYNAMIC_TRANSPORT_FAILURE_THRESHOLD: '0' }).transportFailureThreshold, 0);
  for (const bad of ['-1', '101', 'two', '2 percent']) {
    assert.throws(
      () => parseConfig({ DYNAMIC_TRANSPORT_FAILURE_THRESHOLD: bad }),
      /^ConfigError: DYNAMIC_TRANSPORT_FAILURE_THRESHOLD must be a percentage/,
      bad,
    );
  }
});
