/**
 * The live rate-limit probe (src/checks/rate/budget.ts) against an in-memory server built on the reference model: the
 * budget guard stops it, it is serial, it waits Retry-After, and its verdicts hold for any algorithm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpResponse } from '../../src/http/client.js';
import { RateLimitModel } from '../../src/checks/rate/model.js';
import {
  RateBudget,
  judgeThreshold,
  parseRetryAfter,
  probeBurst,
  probeRecovery,
  type ProbeIo,
  type ProbePlan,
} from '../../src/checks/rate/budget.js';

function response(status: number, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers,
    text: '',
    json: undefined,
    exchange: { seq: 0, request: { method: 'GET', url: '/', headers: [] }, ms: 0, curl: '' },
  };
}

/** A fake API: nonce 10/60 s per address, X-Forwarded-For ignored unless `trustXff`; optionally no limit at all. */
function fakeServer(
  options: { trustXff?: boolean; unlimited?: boolean; sendDelayMs?: number } = {},
): ProbeIo & { model: RateLimitModel; requests: number } {
  const model = new RateLimitModel({ nonce: { key: ['ip'], windows: [{ limit: 10, seconds: 60 }] } });
  const io = {
    model,
    requests: 0,
    async send(headers?: [string, string][]): Promise<HttpResponse> {
      io.requests += 1;
      if (options.sendDelayMs) await new Promise((r) => setTimeout(r, options.sendDelayMs));
      const xff = headers?.find(([n]) => n === 'x-forwarded-for')?.[1];
      const v = model.send({ policies: options.unlimited ? [] : ['nonce'], ip: options.trustXff && xff ? xff : 'me' });
      return v.limited ? response(429, { 'retry-after': String(v.retryAfter) }) : response(200);
    },
    wait(seconds: number): Promise<void> {
      model.advance(seconds);
      return Promise.resolve();
    },
    now: () => model.now,
    spoofedAddress: () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
  };
  return io;
}

const plan = (budget: number, extra: Partial<ProbePlan> = {}): ProbePlan => ({
  policy: 'nonce',
  limit: 10,
  windowSeconds: 60,
  budget: new RateBudget(budget),
  coolDownSeconds: 60,
  maxWaitSeconds: 120,
  retryMarginSeconds: 0,
  ...extra,
});

test('RateBudget: take() stops at the limit and never goes past it', () => {
  const b = new RateBudget(3);
  assert.deepEqual([b.take(), b.take(), b.take(), b.take(), b.take()], [true, true, true, false, false]);
  assert.equal(b.used, 3);
  assert.equal(b.remaining, 0);
  assert.throws(() => new RateBudget(-1));
});

test(
  'the whole probe: cool-down, 429 at N+1, spoofed header ' +
    'still 429, recovery after Retry-After, ≤ 2N+2 requests, ' +
    'serial',
  async () => {
    const io = fakeServer({ sendDelayMs: 1 });
    const p = plan(22);
    const r = await probeRecovery(io, p, await probeBurst(io, p));
    assert.equal(r.firstLimitedAt, 11);
    assert.equal(r.retryAfter, 60);
    assert.equal(r.spoofed?.status, 429);
    assert.equal(r.recovery?.status, 200);
    assert.ok((r.waitedBeforeRecovery ?? 0) >= 60);
    assert.deepEqual(r.waits, [60, 60]);
    assert.equal(r.sent, 13);
    assert.equal(io.requests, 13);
    assert.equal(r.maxInFlight, 1);
    assert.deepEqual(judgeThreshold(r), {
      status: 'pass',
      reason: 'the first 429 came at request 11 (N = 10, within 2N = 20)',
    });
  },
);

test('the budget guard aborts the probe exactly at the budget, undecided', async () => {
  const io = fakeServer();
  const r = await probeBurst(io, plan(5));
  assert.equal(io.requests, 5);
  assert.equal(r.sent, 5);
  assert.match(r.stopped.join(), /budget of 5 requests/);
  assert.equal(judgeThreshold(r).status, 'inconclusive');
  const after = await probeRecovery(io, plan(0), r);
  assert.equal(after.recovery, undefined);
  assert.equal(io.requests, 5);
});

test('a warm key (shared egress address) gives a 429 before N: inconclusive, never pass or fail', async () => {
  const io = fakeServer();
  for (let i = 0; i < 4; i++) await io.send();
  const r = await probeBurst(io, plan(30, { coolDownSeconds: 0 }));
  assert.equal(r.firstLimitedAt, 7);
  assert.equal(judgeThreshold(r).status, 'inconclusive');
});

test('no 429 within 2N fails; a trusted X-Forwarded-For shows in the spoofed request', async () => {
  const unlimited = fakeServer({ unlimited: true });
  const r = await probeBurst(unlimited, plan(100));
  assert.equal(r.sent, 20);
  assert.equal(judgeThreshold(r).status, 'fail');
  const trusting = fakeServer({ trustXff: true });
  const t = await probeBurst(trusting, plan(30));
  assert.equal(t.spoofed?.status, 200);
});

test('waits longer than one check allows are refused, not slept', async () => {
  const io = fakeServer();
  const r = await probeBurst(io, plan(30, { coolDownSeconds: 600, maxWaitSeconds: 90 }));
  assert.equal(r.sent, 0);
  assert.match(r.stopped.join(), /cool-down: waiting 600 s exceeds the 90 s limit/);
  const s = await probeBurst(io, plan(30, { coolDownSeconds: 0 }));
  const after = await probeRecovery(io, { ...plan(30), maxWaitSeconds: 10 }, s);
  assert.equal(after.recovery, undefined);
  assert.match(after.stopped.join(), /Retry-After: waiting 60 s exceeds/);
});

test('parseRetryAfter: delay-seconds or HTTP-date only', () => {
  assert.deepEqual(parseRetryAfter('120'), { seconds: 120, form: 'delay-seconds' });
  assert.deepEqual(parseRetryAfter(' 7 '), { seconds: 7, form: 'delay-seconds' });
  for (const bad of ['1.5', '-1', '', 'soon', '10s', 'Sun, 99 Nov 1994 08:49:37 GMT', undefined])
    assert.equal(parseRetryAfter(bad), undefined, String(bad));
  const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
  assert.deepEqual(parseRetryAfter('Wed, 21 Oct 2015 07:29:00 GMT', date), { seconds: 60, form: 'http-date' });
  assert.deepEqual(parseRetryAfter('Wednesday, 21-Oct-15 07:28:30 GMT', date), { seconds: 30, form: 'http-date' });
  assert.deepEqual(parseRetryAfter('Wed Oct 21 07:28:10 2015', date), { seconds: 10, form: 'http-date' });
});
