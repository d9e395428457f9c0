/**
 * The live pacer's schedule (src/http/pacer.ts) and the run's pacing logic (src/engine/run-state.ts), on a fake
 * clock: no interval of a window's length ever holds more than the window's cap; a fixed-window server (the mock's
 * limiter semantics, any start) never refuses a paced request; Retry-After closes buckets; probes are recorded,
 * not held back; the run-wide budget refuses; planned and unplanned 429s are counted apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  capOf,
  minimumSpanMs,
  PacingSchedule,
  RequestPolicies,
  type BucketDemand,
  type PaceWindow,
} from '../../src/http/pacer.js';
import { formatPlan, planRun, retryAfterMs, RunPacing } from '../../src/engine/run-state.js';
import { loadSpec } from '../../src/engine/spec.js';

const SDK_IP: PaceWindow[] = [
  { limit: 60, ms: 10_000 },
  { limit: 250, ms: 60_000 },
  { limit: 500, ms: 300_000 },
];
const demand = (windows: PaceWindow[], bucket = 'sdk-ip|ip=suite'): BucketDemand[] => [
  { bucket, policy: bucket.split('|')[0]!, windows },
];

/** The most sends any half-open interval (t - ms, t] holds. */
function densest(times: number[], ms: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo]! <= times[hi]! - ms) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** A fixed-window limiter like the mock's (a window starts at the first request that finds it cold). */
function fixedWindowRefusals(times: number[], windows: PaceWindow[], offsetMs: number): number {
  const state = windows.map(() => ({ start: -Infinity, count: 0 }));
  let refused = 0;
  for (const raw of times) {
    const t = raw + offsetMs;
    const ok = windows.every((w, i) => (t >= state[i]!.start + w.ms ? 0 : state[i]!.count) + 1 <= w.limit);
    if (!ok) {
      refused++;
      continue;
    }
    windows.forEach((w, i) => {
      const s = state[i]!;
      if (t >= s.start + w.ms) {
        s.start = t;
        s.count = 1;
      } else s.count++;
    });
  }
  return refused;
}

describe('PacingSchedule', () => {
  it('a 10/min policy at 90 %: 9 requests at once, the 10th one window later', () => {
    const s = new PacingSchedule({ margin: 0.9 });
    const w = [{ limit: 10, ms: 60_000 }];
    const times = Array.from({ length: 10 }, () => s.reserve(demand(w, 'nonce|ip=suite'), 0));
    assert.deepEqual(times, [0, 0, 0, 0, 0, 0, 0, 0, 0, 60_000]);
    assert.equal(capOf({ limit: 3, ms: 60_000 }, 0.9), 2);
    assert.equal(capOf({ limit: 1, ms: 60_000 }, 0.9), 1, 'never below one request per window');
  });

  it(
    'the /sdk per-IP policy (60/10 s, 250/min, 500/5 min): no ' +
      'window over its cap, a fixed-window server refuses nothing',
    () => {
      const s = new PacingSchedule({ margin: 0.9 });
      const times: number[] = [];
      let now = 0;
      for (let i = 0; i < 1200; i++) {
        now += i % 7 === 0 ? 37 : 3; // requests arrive faster than the limits allow
        times.push(s.reserve(demand(SDK_IP), now));
      }
      const sorted = [...times].sort((a, b) => a - b);
      for (const w of SDK_IP)
        assert.ok(
          densest(sorted, w.ms) <= capOf(w, 0.9),
          `window ${w.limit}/${w.ms} ms holds ${densest(sorted, w.ms)}`,
        );
      for (const offset of [0, 1, 4999, 9999, 33_333])
        assert.equal(fixedWindowRefusals(sorted, SDK_IP, offset), 0, `offset ${offset}`);
    },
  );

  it(
    'margin 1: exactly the documented limits — 600 ' +
      'requests need 310 s (the 501st waits for the 5-minute ' +
      'window)',
    () => {
      assert.equal(minimumSpanMs(600, SDK_IP, 1), 310_000);
      assert.equal(minimumSpanMs(250, SDK_IP, 1), 40_000);
      assert.equal(minimumSpanMs(1, SDK_IP, 1), 0);
    },
  );

  it('a request under several policies waits for the tightest; unrelated buckets do not wait', () => {
    const s = new PacingSchedule({ margin: 1 });
    const nonce = { bucket: 'nonce|ip=suite', policy: 'nonce', windows: [{ limit: 2, ms: 60_000 }] };
    const sdk = { bucket: 'sdk-ip|ip=suite', policy: 'sdk-ip', windows: SDK_IP };
    const admin = { bucket: 'admin-ip|ip=suite', policy: 'admin-ip', windows: [{ limit: 1500, ms: 60_000 }] };
    assert.equal(s.reserve([sdk, nonce], 0), 0);
    assert.equal(s.reserve([sdk, nonce], 0), 0);
    assert.equal(s.reserve([sdk, nonce], 0), 60_000);
    assert.equal(s.reserve([admin], 5), 5, 'the admin bucket is free');
    assert.equal(s.reserve([sdk], 10), 10, 'an sdk request does not queue behind the one waiting for the nonce policy');
  });

  it(
    'blockUntil (a 429 with Retry-After) holds the bucket for ' +
      'everyone; record (a probe) uses capacity without waiting',
    () => {
      const s = new PacingSchedule({ margin: 1 });
      const w = [{ limit: 5, ms: 10_000 }];
      s.blockUntil(demand(w), 7_000);
      assert.equal(s.reserve(demand(w), 1_000), 7_000);
      const t = new PacingSchedule({ margin: 1 });
      for (let i = 0; i < 5; i++) t.record(demand(w), 100);
      assert.equal(t.reserve(demand(w), 200), 10_100, 'the probe filled the window');
    },
  );

  it('long runs stay bounded in memory (old entries are pruned)', () => {
    const s = new PacingSchedule({ margin: 0.9 });
    const w = [{ limit: 1000, ms: 1_000 }];
    let t = 0;
    for (let i = 0; i < 50_000; i++) t = s.reserve(demand(w), t);
    const logs = (s as unknown as { logs: Map<string, { times: number[] }> }).logs;
    assert.ok([...logs.values()][0]!.times.length < 1_300, 'only the open window (and a little more) is kept');
  });
});

describe('RequestPolicies', () => {
  const spec = loadSpec('docs-2026');
  const p = new RequestPolicies(spec.operations, spec.profile);
  const env = '0f6e1b52-3a57-4f7e-9a3d-5b7c1e2d4a60';

  it(
    'charges an operation to every policy of its ' +
      'x-dynamic-rate-limit, keyed by the one source and the ' +
      'environment',
    () => {
      const buckets = p
        .demandsFor('GET', `/sdk/${env}/nonce`)
        .map((d) => d.bucket)
        .sort();
      assert.deepEqual(buckets, ['nonce|ip=suite', `sdk-environment|environment=${env}`, 'sdk-ip|ip=suite']);
      const signin = p
        .demandsFor('POST', `/sdk/${env}/emailVerifications/signin`)
        .map((d) => d.policy)
        .sort();
      assert.deepEqual(signin, ['sdk-environment', 'sdk-ip', 'signin']);
      const admin = p
        .demandsFor('GET', `/environments/${env}/users`)
        .map((d) => d.bucket)
        .sort();
      assert.deepEqual(admin, [`admin-environment|environment=${env}`, 'admin-ip|ip=suite']);
    },
  );

  it('a static segment wins over a parameter; unknown paths and methods still count', () => {
    const route = p.resolve('POST', `/sdk/${env}/emailVerifications/create`);
    assert.ok(route.policies.includes('otp'));
    assert.deepEqual(p.resolve('GET', `/sdk/${env}/no-such-endpoint`).policies, ['sdk-ip', 'sdk-environment']);
    assert.deepEqual(p.resolve('GET', '/no/such/admin/path').policies, ['admin-ip', 'admin-environment']);
    assert.ok(
      p.resolve('PATCH', `/sdk/${env}/nonce`).policies.includes('nonce'),
      "another method: the path's policies",
    );
    assert.equal(
      p.demandsFor('GET', '/no/such/admin/path').length,
      1,
      'no environment in the path: only the per-IP bucket',
    );
  });
});

describe('RunPacing', () => {
  const spec = loadSpec('docs-2026');
  const env = '0f6e1b52-3a57-4f7e-9a3d-5b7c1e2d4a60';

  it('paces on the injected clock, refuses past the run-wide budget, counts 429s planned and unplanned', () => {
    let now = 1_000;
    const pacing = new RunPacing(spec.operations, spec.profile, 12, 0.9, () => now);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = pacing.reserve('GET', `/sdk/${env}/nonce`);
      assert.ok('waitMs' in r);
      waits.push(r.waitMs);
    }
    assert.deepEqual(waits, [0, 0, 0, 0, 0, 0, 0, 0, 0, 60_000], 'nonce 10/min at 90 %');
    pacing.outcome('GET', `/sdk/${env}/nonce`, 429, '30', true);
    pacing.outcome('GET', `/sdk/${env}/users`, 429, '5', false);
    now = 2_000;
    const after = pacing.reserve('GET', `/sdk/${env}/users`);
    assert.ok(
      'waitMs' in after && after.waitMs === 5_000,
      `an unplanned 429 closes its buckets for Retry-After + 1 s (${JSON.stringify(after)})`,
    );
    const refused = pacing.reserve('GET', `/environments/${env}`);
    assert.ok('waitMs' in refused);
    const over = pacing.reserve('GET', `/environments/${env}`);
    assert.ok('refused' in over && /request budget of 12 exhausted/.test(over.refused));
    const snap = pacing.snapshot();
    assert.equal(snap.requests, 12);
    assert.equal(snap.refused, 1);
    assert.equal(snap.planned429, 1);
    assert.equal(snap.unplanned429, 1);
    assert.deepEqual(snap.unplanned[0]?.policies.sort(), ['sdk-environment', 'sdk-ip']);
    assert.ok(snap.policies.find((f) => f.policy === 'nonce')?.requests === 10);
  });

  it('shares what is left of the budget among the rules not started yet', () => {
    const pacing = new RunPacing(spec.operations, spec.profile, 100, 0.9, () => 0);
    pacing.expectedRules = 4;
    assert.equal(pacing.startRule('AUTH-001'), 25);
    for (let i = 0; i < 10; i++) pacing.reserve('GET', `/environments/${env}`);
    assert.equal(pacing.startRule('AUTH-002'), 30, 'a rule that used less leaves its share to the later ones');
    assert.equal(pacing.startRule('AUTH-003'), 45);
    assert.equal(pacing.startRule('AUTH-004'), 90);
  });

  it('a probe request is recorded, never held back', () => {
    const pacing = new RunPacing(spec.operations, spec.profile, 100, 0.9, () => 0);
    for (let i = 0; i < 20; i++) assert.deepEqual(pacing.reserve('GET', `/sdk/${env}/nonce`, true), { waitMs: 0 });
    const next = pacing.reserve('GET', `/sdk/${env}/nonce`);
    assert.ok('waitMs' in next && next.waitMs >= 60_000, 'paced requests wait for the window the probe filled');
  });

  it('plans the budget over the policies and prints the minimum wall time', () => {
    const policies = new RequestPolicies(spec.operations, spec.profile);
    const plan = planRun(
      policies,
      1200,
      0.9,
      [
        { method: 'GET', path: `/sdk/${env}/users`, share: 1 },
        { method: 'GET', path: `/environments/${env}`, share: 1 },
      ],
      'test',
    );
    const sdk = plan.policies.find((f) => f.policy === 'sdk-ip')!;
    assert.equal(sdk.requests, 600);
    assert.equal(sdk.minimumMs, 310_000);
    assert.equal(plan.minimumMs, 310_000);
    assert.match(formatPlan(plan), /request budget 1200 .* minimum wall time the limits allow ≈ 310 s/);
  });

  it('reads Retry-After as seconds or an HTTP-date', () => {
    assert.equal(retryAfterMs('7', 0), 7_000);
    assert.equal(retryAfterMs(new Date(60_000).toUTCString(), 0), 60_000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(undefined, 0), undefined);
  });
});
