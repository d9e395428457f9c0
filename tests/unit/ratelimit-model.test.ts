/** The reference model of the rate-limit contract (src/checks/rate/model.ts), checked against hand-worked examples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RateLimitModel, type ModelPolicy, type ModelRequest } from '../../src/checks/rate/model.js';
import { rateCommands } from '../../src/arbitraries/rateCommands.js';

const policies: Record<string, ModelPolicy> = {
  nonce: { key: ['ip'], windows: [{ limit: 10, seconds: 60 }] },
  'sdk-ip': {
    key: ['ip'],
    windows: [
      { limit: 60, seconds: 10 },
      { limit: 250, seconds: 60 },
      { limit: 500, seconds: 300 },
    ],
  },
  'sdk-environment': { key: ['environment'], windows: [{ limit: 400, seconds: 60 }] },
  connect: { key: ['ip'], windows: [{ limit: 10, seconds: 60 }] },
  mfa: { key: ['ip'], windows: null },
  broadcast: { key: ['wallet'], windows: [{ limit: 1, seconds: 60 }] },
};
const nonce = (ip = 'a', environment = 'e1'): ModelRequest => ({
  policies: ['nonce', 'sdk-ip', 'sdk-environment'],
  ip,
  environment,
});
const jwks = (ip = 'a', environment = 'e1'): ModelRequest => ({
  policies: ['sdk-ip', 'sdk-environment'],
  ip,
  environment,
});

function sendMany(model: RateLimitModel, request: ModelRequest, n: number): { admitted: number; limited: number } {
  let admitted = 0;
  for (let i = 0; i < n; i++) if (!model.send(request).limited) admitted++;
  return { admitted, limited: n - admitted };
}

test('exactly N pass in a window; N+1 is limited with Retry-After to the window end', () => {
  const m = new RateLimitModel(policies);
  assert.deepEqual(sendMany(m, nonce(), 10), { admitted: 10, limited: 0 });
  m.advance(15);
  const v = m.send(nonce());
  assert.equal(v.limited, true);
  assert.ok(v.limited && v.retryAfter === 45 && v.refusedBy[0]?.policy === 'nonce');
});

test('the window starts at the first request and capacity returns exactly at its end, not before', () => {
  const m = new RateLimitModel(policies);
  m.advance(7);
  sendMany(m, nonce(), 10);
  m.advance(59);
  assert.equal(m.send(nonce()).limited, true);
  m.advance(1);
  assert.equal(m.send(nonce()).limited, false);
  assert.equal(m.count('nonce', { ip: 'a' }), 1, 'a new window holds the one request');
});

test('a limited request is not charged: the window count stays at the limit', () => {
  const m = new RateLimitModel(policies);
  sendMany(m, nonce(), 15);
  assert.equal(m.count('nonce', { ip: 'a' }), 10);
  assert.equal(m.count('sdk-ip', { ip: 'a' }, 0), 10, 'the global per-IP window saw only the admitted requests');
});

test('keys are independent: another IP, another environment', () => {
  const m = new RateLimitModel(policies);
  sendMany(m, nonce('a'), 10);
  assert.equal(m.send(nonce('a')).limited, true);
  assert.equal(m.send(nonce('b')).limited, false);
  for (let i = 0; i < 399; i++) m.send(jwks(`ip${i}`, 'e1'));
  const v = m.send(jwks('fresh', 'e1'));
  assert.ok(v.limited && v.refusedBy.every((w) => w.policy === 'sdk-environment'));
  assert.equal(m.send(jwks('fresh', 'e2')).limited, false);
});

test('per-endpoint policies are separate but add up in the global per-IP policy', () => {
  const m = new RateLimitModel(policies);
  sendMany(m, nonce(), 10);
  assert.equal(
    m.send({ policies: ['connect', 'sdk-ip', 'sdk-environment'], ip: 'a', environment: 'e1' }).limited,
    false,
  );
  assert.deepEqual(sendMany(m, jwks(), 49), { admitted: 49, limited: 0 });
  const v = m.send(jwks());
  assert.ok(v.limited && v.retryAfter === 10 && v.refusedBy[0]?.policy === 'sdk-ip');
});

test('multi-window: each window binds at its own count, whichever comes first', () => {
  const m = new RateLimitModel(policies);
  const r = jwks('a', 'e1');
  // 60 per 10 s binds first
  assert.deepEqual(sendMany(m, r, 61), { admitted: 60, limited: 1 });
  // 250 per minute: 60 + 60 + 60 + 60 (t=0..30) + 10 at t=40
  for (const t of [10, 20, 30]) {
    m.advance(10);
    assert.equal(t, m.now);
    assert.equal(sendMany(m, r, 60).admitted, 60);
  }
  m.advance(10);
  assert.equal(sendMany(m, r, 10).admitted, 10);
  const v = m.send(r);
  assert.ok(v.limited && v.retryAfter === 20 && v.refusedBy.length === 1 && v.refusedBy[0]?.window.limit === 250);
});

test('Retry-After is the latest end among the refusing windows, at least 1', () => {
  const m = new RateLimitModel({
    a: {
      key: ['ip'],
      windows: [
        { limit: 1, seconds: 10 },
        { limit: 1, seconds: 30 },
      ],
    },
  });
  m.send({ policies: ['a'], ip: 'x' });
  m.advance(9.5);
  const v = m.send({ policies: ['a'], ip: 'x' });
  assert.ok(v.limited && v.retryAfter === 21 && v.refusedBy.length === 2);
  m.advance(20.4);
  const w = m.send({ policies: ['a'], ip: 'x' });
  assert.ok(w.limited && w.retryAfter === 1);
});

test('unenforced policies and policies without a key value do not limit', () => {
  const m = new RateLimitModel(policies);
  assert.deepEqual(sendMany(m, { policies: ['mfa'], ip: 'a' }, 1000), { admitted: 1000, limited: 0 });
  assert.deepEqual(sendMany(m, { policies: ['broadcast'], ip: 'a' }, 5), { admitted: 5, limited: 0 });
  assert.deepEqual(sendMany(m, { policies: ['broadcast'], ip: 'a', wallet: 'w' }, 2), { admitted: 1, limited: 1 });
});

test('room and windowEnds describe the state the arbitraries steer by', () => {
  const m = new RateLimitModel(policies);
  assert.equal(m.room(nonce()), 10);
  m.advance(3);
  sendMany(m, nonce(), 4);
  assert.equal(m.room(nonce()), 6);
  assert.deepEqual(m.windowEnds(), [13, 63, 303]);
  assert.deepEqual(
    m.windows().map((w) => [w.policy, w.key, w.count, w.end]),
    [
      ['sdk-ip', { ip: 'a' }, 4, 13],
      ['nonce', { ip: 'a' }, 4, 63],
      ['sdk-environment', { environment: 'e1' }, 4, 63],
      ['sdk-ip', { ip: 'a' }, 4, 63],
      ['sdk-ip', { ip: 'a' }, 4, 303],
    ],
  );
  m.advance(10);
  assert.deepEqual(m.windowEnds(), [63, 303]);
  assert.throws(() => m.advance(-1));
  m.reset(100);
  assert.equal(m.now, 100);
  assert.deepEqual(m.windowEnds(), []);
});

test('property: whatever the sequence, a key never admits more than a window limit within that window', () => {
  const shape = { ips: 2, endpoints: 2, environments: 1, maxBurst: 30, maxAdvance: 40, maxCommands: 30 };
  fc.assert(
    fc.property(rateCommands(shape), (commands) => {
      const m = new RateLimitModel(policies);
      const admittedAt: number[] = [];
      for (const c of commands) {
        if (c.kind === 'advance') m.advance(c.seconds);
        else if (c.kind === 'edge') {
          const running = m.windows();
          const w = running[c.which % Math.max(1, running.length)];
          if (w && w.end + c.delta > m.now) m.advance(w.end + c.delta - m.now);
        } else {
          for (let i = 0; i < c.count; i++)
            if (
              !m.send(c.endpoint === 0 ? nonce(`ip${c.ip}`) : jwks(`ip${c.ip}`)).limited &&
              c.endpoint === 0 &&
              c.ip === 0
            )
              admittedAt.push(m.now);
        }
      }
      // Fixed windows: any 60 s span holds at most 2 windows' worth (2 × 10) of nonce admissions for one IP.
      for (const t of admittedAt) assert.ok(admittedAt.filter((u) => u >= t && u < t + 60).length <= 20);
    }),
    { numRuns: 200, seed: 42 },
  );
});
