/**
 * The live sampler's rotation (src/engine/sampler.ts): deterministic per rotation number, successive nights cover
 * every item in ⌈n / k⌉ nights, rules rotate independently, a priority hook steers the choice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rotatingSample, rotationNumber, samplingRecordOf, setSamplingPriority } from '../../src/engine/sampler.js';

const items = Array.from({ length: 50 }, (_, i) => `GET /op/${i}`);
const id = (s: string): string => s;

describe('rotatingSample', () => {
  it('is deterministic for a rotation number and covers every item in ⌈n/k⌉ nights', () => {
    assert.deepEqual(rotatingSample('AUTH-001', items, 12, id, 7), rotatingSample('AUTH-001', items, 12, id, 7));
    const seen = new Set<string>();
    for (let night = 100; night < 105; night++)
      for (const x of rotatingSample('AUTH-001', items, 12, id, night)) seen.add(x);
    assert.equal(seen.size, 50, '5 nights of 12 cover all 50');
    assert.deepEqual(samplingRecordOf('AUTH-001'), {
      rule: 'AUTH-001',
      testable: 50,
      sampled: 12,
      nights: 5,
      rotation: 104,
    });
    const night1 = new Set(rotatingSample('AUTH-001', items, 12, id, 1));
    const night2 = rotatingSample('AUTH-001', items, 12, id, 2);
    assert.ok(
      night2.every((x) => !night1.has(x)),
      'consecutive nights do not repeat while items remain',
    );
  });

  it('rules rotate over their own permutation; a small set is taken whole', () => {
    assert.notDeepEqual(rotatingSample('AUTH-001', items, 12, id, 3), rotatingSample('ERR-001', items, 12, id, 3));
    assert.deepEqual(rotatingSample('ERR-002', items.slice(0, 5), 12, id, 3), items.slice(0, 5));
  });

  it('a priority hook (the cross-night ledger) puts the oldest pairs first', () => {
    setSamplingPriority((rule, key) =>
      rule === 'JWT-001' && key.endsWith('/49') ? 1000 : rule === 'JWT-001' && key.endsWith('/48') ? 999 : undefined,
    );
    try {
      const chosen = rotatingSample('JWT-001', items, 3, id, 0);
      assert.deepEqual(chosen.slice(0, 2), ['GET /op/49', 'GET /op/48']);
      assert.equal(chosen.length, 3);
    } finally {
      setSamplingPriority(undefined);
    }
  });

  it('the rotation number is the run number, else the UTC day', () => {
    assert.equal(rotationNumber(42), 42);
    assert.equal(
      rotationNumber(undefined, Date.UTC(2026, 11, 1, 3, 23)),
      Math.floor(Date.UTC(2026, 11, 1) / 86_400_000),
    );
  });
});
