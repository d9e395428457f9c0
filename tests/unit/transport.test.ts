/**
 * Transport-fault classification and the retry rule (src/http/transport.ts): which errors are transport faults of
 * which kind and phase, which requests may be sent again, the `transport:` reason, and the run's threshold verdict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyTransportError, mayRetry, transportReason, transportVerdict } from '../../src/http/transport.js';

const err = (code: string | undefined, message: string, cause?: Error): Error =>
  Object.assign(new Error(message), code ? { code } : {}, cause ? { cause } : {});

test('undici and socket errors map to a kind and a phase', () => {
  const cases: [Error, string, string, 'connect' | 'request' | 'response' | undefined][] = [
    [err('UND_ERR_SOCKET', 'other side closed'), 'closed', 'request', undefined],
    [err('ECONNRESET', 'read ECONNRESET'), 'reset', 'request', undefined],
    [err('ECONNRESET', 'read ECONNRESET'), 'truncated', 'response', 'response'],
    [err('UND_ERR_SOCKET', 'other side closed'), 'truncated', 'response', 'response'],
    [err('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'), 'timeout', 'request', undefined],
    [err('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'), 'timeout', 'response', undefined],
    [err('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'), 'timeout', 'connect', undefined],
    [err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), 'refused', 'connect', undefined],
    [err('ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere.invalid'), 'unresolved', 'connect', undefined],
    [err('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 'tls', 'connect', undefined],
    [err(undefined, 'fetch failed', err('ECONNRESET', 'socket reset')), 'reset', 'request', undefined],
    [err(undefined, 'something else entirely'), 'other', 'request', undefined],
  ];
  for (const [error, kind, phase, given] of cases) {
    const f = classifyTransportError(error, given);
    assert.deepEqual([f.kind, f.phase], [kind, phase], `${String((error as { code?: string }).code)} ${error.message}`);
  }
  assert.equal(
    classifyTransportError(err(undefined, 'fetch failed', err('ECONNRESET', 'socket reset'))).code,
    'ECONNRESET',
  );
});

test('retry: methods safe to repeat, or nothing reached the server; never a fault a retry cannot cure', () => {
  const reset = { kind: 'reset', phase: 'request' } as const;
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'get']) assert.equal(mayRetry(reset, m), true, m);
  for (const m of ['POST', 'PATCH']) assert.equal(mayRetry(reset, m), false, m);
  assert.equal(
    mayRetry({ kind: 'timeout', phase: 'connect' }, 'POST'),
    true,
    'the connection never opened: no byte reached the server',
  );
  for (const kind of ['refused', 'unresolved', 'tls'] as const)
    assert.equal(mayRetry({ kind, phase: 'connect' }, 'GET'), false, kind);
});

test('the reason starts with transport: and says what happened', () => {
  const r = transportReason({
    kind: 'closed',
    phase: 'request',
    code: 'UND_ERR_SOCKET',
    message: 'other side closed',
    attempts: 3,
  });
  assert.equal(r, 'transport: closed (UND_ERR_SOCKET) before any response byte, after 3 attempts; no answer to judge');
  assert.match(
    transportReason({ kind: 'reset', phase: 'request', code: undefined, message: '', attempts: 1 }),
    /^transport: reset before any response byte, not retried/,
  );
});

test('the run fails on transport trouble only past the threshold', () => {
  assert.deepEqual(transportVerdict(1000, 20, 2), { percent: 2, exceeded: false });
  assert.deepEqual(transportVerdict(1000, 21, 2), { percent: 2.1, exceeded: true });
  assert.deepEqual(transportVerdict(0, 0, 2), { percent: 0, exceeded: false });
  assert.equal(transportVerdict(10, 1, 0).exceeded, true, 'threshold 0: any unanswered request fails the run');
  assert.equal(transportVerdict(10, 0, 0).exceeded, false);
});
