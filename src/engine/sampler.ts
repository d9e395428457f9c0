/**
 * The live sampler's rotation (issue #13 "coverage within a budget"): on live a rule covers only `count` of its
 * testable operations per run; which ones rotates deterministically with the run's rotation number
 * (DYNAMIC_RUN_NUMBER — the CI run number — or else the UTC day), so successive nights cover every
 * (operation, rule) pair: a rule with n testable operations and a sample of k covers all of them in ⌈n / k⌉ nights.
 *
 * Each rule walks a fixed permutation of its items (ordered by sha256(rule + key), stable across runs as long as the
 * spec does not change), one window of k per night. A priority hook (helper h14's cross-night ledger) can steer the
 * choice toward the pairs covered longest ago: `setSamplingPriority(fn)`; items with a higher priority go first, ties
 * keep the rotation's order.
 */
import { createHash } from 'node:crypto';

/** Higher = sooner (e.g. nights since the pair was last covered); undefined = no opinion. */
export type SamplingPriority = (rule: string, key: string) => number | undefined;

let priority: SamplingPriority | undefined;

/** Plugs a priority list into the sampler (the cross-night ledger); undefined restores the plain rotation. */
export function setSamplingPriority(fn: SamplingPriority | undefined): void {
  priority = fn;
}

/** What the sampler decided for one rule (the reports show coverage and the nights a full rotation takes). */
export interface SamplingRecord {
  rule: string;
  /** Items the rule could test on this target. */
  testable: number;
  /** Items sampled this run. */
  sampled: number;
  /** Runs (nights) a full rotation takes at this sample size. */
  nights: number;
  rotation: number;
}

const records = new Map<string, SamplingRecord>();

/** This process's sampling decisions so far (one entry per rule: its latest sample). */
export function samplingRecords(): SamplingRecord[] {
  return [...records.values()];
}

/** The records of one rule (taken by the fixture into the rule's outcomes attachment). */
export function samplingRecordOf(rule: string): SamplingRecord | undefined {
  return records.get(rule);
}

/** The rotation number of a run: an explicit run number, else the UTC day number (one rotation step per night). */
export function rotationNumber(runNumber: number | undefined, nowMs: number = Date.now()): number {
  return runNumber ?? Math.floor(nowMs / 86_400_000);
}

function rank(rule: string, key: string): string {
  return createHash('sha256').update(`${rule}\u0000${key}`).digest('hex');
}

/**
 * `count` of `items` for `rule` in run `rotation`: window number `rotation` of the rule's fixed permutation (wrapping),
 * or, with a priority hook, the highest-priority items first. Deterministic for (rule, items, count, rotation).
 */
export function rotatingSample<T>(
  rule: string,
  items: readonly T[],
  count: number,
  keyOf: (item: T) => string,
  rotation: number,
): T[] {
  const n = items.length;
  const k = Math.max(0, Math.min(count, n));
  const nights = k === 0 ? 0 : Math.ceil(n / k);
  records.set(rule, { rule, testable: n, sampled: k, nights, rotation });
  if (k >= n) return [...items];
  const order = items.map((item) => ({ item, key: keyOf(item) })).map((x) => ({ ...x, rank: rank(rule, x.key) }));
  order.sort((a, b) => a.rank.localeCompare(b.rank));
  const start = (((rotation % nights) + nights) % nights) * k;
  const rotated = [...order.slice(start), ...order.slice(0, start)];
  if (priority) {
    const p = priority;
    const scored = rotated.map((x, i) => ({ ...x, i, score: p(rule, x.key) ?? Number.NEGATIVE_INFINITY }));
    scored.sort((a, b) => (b.score === a.score ? a.i - b.i : b.score - a.score));
    return scored.slice(0, k).map((x) => x.item);
  }
  return rotated.slice(0, k).map((x) => x.item);
}
