/**
 * The runner's outcome recording (issue #13, item 6): a subject whose evidence includes a request left without an
 * answer (a transport fault after the client's retries) is recorded inconclusive with kind `transport` and a reason
 * starting `transport:`, whether the check called it a failure or an inconclusive; a pass stands unless the
 * connection never opened; genuine answers keep their verdicts. The check result carries the transport counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec } from '../../src/engine/spec.js';
import { runCheck, type Suite } from '../../src/engine/runner.js';
import type { HttpResponse, TransportCounts } from '../../src/http/client.js';
import type { TransportFault } from '../../src/http/transport.js';
import type { Check } from '../../src/engine/types.js';

const spec = loadSpec('docs-2026');
let seq = 0;
function res(status: number, transport?: TransportFault): HttpResponse {
  seq += 1;
  const exchange = { seq, request: { method: 'GET', url: 'x', headers: [] }, ms: 1, curl: '' };
  return { status, headers: {}, text: '', json: undefined, exchange, ...(transport ? { transport } : {}) };
}
const fault = (phase: TransportFault['phase'], kind: TransportFault['kind'] = 'reset'): TransportFault => ({
  kind,
  phase,
  code: 'ECONNRESET',
  message: 'read ECONNRESET',
  attempts: 3,
});

function suiteWith(counts: TransportCounts[]): Suite {
  let call = 0;
  const client = {
    requestsSent: 0,
    get transport(): TransportCounts {
      return counts[Math.min(call++, counts.length - 1)]!;
    },
    takeExchanges: () => [],
    setAllowance: () => undefined,
  };
  return {
    config: { target: 'mock', apiUrl: 'http://example.invalid/api/v0' },
    spec,
    client,
    fc: {},
    workerIndex: 0,
  } as unknown as Suite;
}

test('transport faults become inconclusive (transport); answers keep their verdicts', async () => {
  const zero = { failedAttempts: 0, retried: 0, recovered: 0, unanswered: 0 };
  const suite = suiteWith([zero, { failedAttempts: 7, retried: 4, recovered: 2, unanswered: 3 }]);
  const check: Check = {
    rule: 'AUTH-001',
    run: (ctx) => {
      ctx.fail('GET /a', 'expected 401, got no response (ECONNRESET: read ECONNRESET)', res(0, fault('request')));
      ctx.fail('GET /b', 'case 1 wrong | case 2 no response', [res(401), res(0, fault('request', 'closed'))]);
      ctx.inconclusive('GET /c', 'no 2xx body to check', res(0, fault('response', 'truncated')));
      ctx.pass('GET /d', res(0, fault('request', 'closed')));
      ctx.pass('GET /e', res(0, fault('connect', 'refused')));
      ctx.fail('GET /f', 'expected 401, got 200', res(200));
      ctx.pass('GET /g', res(401));
      ctx.inconclusive('GET /h', 'rate limited', res(429));
      return Promise.resolve();
    },
  };
  const result = await runCheck(suite, check);
  const by = Object.fromEntries(result.outcomes.map((o) => [o.subject.slice(5), o]));
  for (const s of ['a', 'b', 'c', 'e']) {
    assert.equal(by[s]!.status, 'inconclusive', s);
    assert.equal(by[s]!.kind, 'transport', s);
    assert.match(by[s]!.reason ?? '', /^transport: /, s);
  }
  assert.match(
    by['a']!.reason ?? '',
    new RegExp(
      String.raw`^transport: reset \(ECONNRESET\) before any response byte, after 3 attempts; ` +
        'no answer to judge — the check saw: expected 401',
    ),
  );
  assert.match(by['e']!.reason ?? '', /the connection never opened/);
  assert.equal(by['d']!.status, 'pass', 'a check may accept a closed connection as a rejection (TOKEN-010)');
  assert.deepEqual([by['f']!.status, by['f']!.kind], ['fail', undefined], 'a genuine answer is judged');
  assert.equal(by['g']!.status, 'pass');
  assert.deepEqual([by['h']!.status, by['h']!.kind], ['inconclusive', undefined]);
  assert.deepEqual(result.transport, { failedAttempts: 7, retried: 4, recovered: 2, unanswered: 3, inconclusive: 4 });
});
