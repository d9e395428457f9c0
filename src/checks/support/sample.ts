/**
 * Which operations a check covers: every one on the mock; on live THE one live sampler (a seed-rotated subset, so
 * FC_SEED/FC_PATH replay hits the same operations), and the tag-spread sample properties run over.
 */
import type { Operation } from '../../engine/spec.js';
import { rotatingSample } from '../../engine/sampler.js';
import type { CheckContext } from '../../engine/types.js';
import { mapLimit } from '../../engine/runner.js';
import { workerSlot } from '../../engine/worker-state.js';
import { concurrency } from './send.js';

/** How many operations (or paths) a per-operation rule samples on live; the mock covers every one. */
export const LIVE_SAMPLE = 12;

/**
 * THE live sampler: `count` of `items`, rotating with the run (src/engine/sampler.ts: window number
 * DYNAMIC_RUN_NUMBER — or the UTC day — of the rule's fixed permutation), so successive nights cover every
 * (operation, rule) pair. `rule` defaults to the check's rule; the same rotation number picks the same items.
 */
export function liveSample<T>(
  ctx: CheckContext,
  items: readonly T[],
  count: number,
  keyOf: (item: T) => string,
  rule = ctx.rule.id,
): T[] {
  return rotatingSample(rule, items, count, keyOf, ctx.config.rotation);
}

/**
 * A small sample of operations spread across tags, rotated by the run's seed (the same seed picks the same sample, so
 * FC_SEED/FC_PATH replay hits the same operations): what a property runs over. On live only read operations.
 */
export function spreadOperations(ctx: CheckContext, operations: readonly Operation[], count: number): Operation[] {
  const candidates = ctx.config.target === 'live' ? operations.filter((op) => op.method === 'GET') : [...operations];
  const byTag = new Map<string, Operation[]>();
  for (const op of candidates) byTag.set(op.tag, [...(byTag.get(op.tag) ?? []), op]);
  const tags = [...byTag.keys()].sort();
  if (!tags.length) return [];
  const seed = Math.abs(ctx.fc.seed);
  const stride = Math.max(1, Math.floor(tags.length / count));
  const out: Operation[] = [];
  for (let i = 0; out.length < Math.min(count, candidates.length) && i < count * 4; i += 1) {
    const group = byTag.get(tags[(seed + i * stride) % tags.length]!)!;
    const op = group[(seed + i) % group.length]!;
    if (!out.includes(op)) out.push(op);
  }
  return out;
}

/** How many user-jwt (SDK) operations a check covers on live: the SDK per-IP limit is 500 requests per 5 minutes. */
export const LIVE_SDK_OPERATIONS = 8;
/** This worker's live sample of user-jwt operations (one per worker: the same seed picks the same sample). */
const LIVE_SDK_SAMPLE = workerSlot('live user-jwt sample', () => ({ keys: undefined as Set<string> | undefined }));

/**
 * On live, user-jwt operations are covered through a seed-rotated sample of LIVE_SDK_OPERATIONS read operations
 * (sequential requests at Dynamic's documented SDK limit of 60 / 10 s, 250 / min, 500 / 5 min per IP would otherwise
 * take far longer than a test); the reason for every other one, or undefined when the operation is covered.
 */
export function liveSdkSkipReason(ctx: CheckContext, op: Operation): string | undefined {
  if (ctx.config.target !== 'live' || op.auth !== 'user-jwt') return undefined;
  const slot = ctx.worker.get(LIVE_SDK_SAMPLE);
  if (!slot.keys) {
    const reads = ctx.spec.operations.filter((o) => o.auth === 'user-jwt' && o.method === 'GET');
    slot.keys = new Set(
      liveSample(ctx, reads, LIVE_SDK_OPERATIONS, (o) => o.key, 'live user-jwt sample').map((o) => o.key),
    );
  }
  const sample = slot.keys;
  if (sample.has(op.key)) return undefined;
  return (
    `live: user-jwt operations are covered through a sample of ${LIVE_SDK_OPERATIONS} read operations (the SDK ` +
    (`per-IP limit is 500 requests / 5 min); this one is not in run ` +
      `${ctx.config.rotation}'s sample (DYNAMIC_RUN_NUMBER rotates it)`)
  );
}

/** On the mock every variant is sent; on live one per operation, rotating, to keep the request count low. */
export function variantsFor<T>(ctx: CheckContext, variants: readonly T[], index: number): T[] {
  if (ctx.config.target === 'mock' || variants.length <= 1) return [...variants];
  return [variants[index % variants.length]!];
}

/**
 * Runs a per-operation check: `prepare` says why an operation cannot be tested (a skip) or returns what the test
 * needs; on live only a seed-rotated sample of the testable operations is sent (request budget, rate limits), the
 * rest are skipped with that reason; `run` records the outcome of each sent operation.
 */
export async function forEachOperation<T extends object>(
  ctx: CheckContext,
  operations: readonly Operation[],
  prepare: (op: Operation) => T | string,
  run: (op: Operation, prepared: T, index: number) => Promise<void>,
  liveCount = LIVE_SAMPLE,
): Promise<void> {
  const ready: [Operation, T][] = [];
  for (const op of operations) {
    const prepared = prepare(op);
    if (typeof prepared === 'string') ctx.skip(op.key, prepared);
    else ready.push([op, prepared]);
  }
  const chosen = ctx.config.target === 'live' ? liveSample(ctx, ready, liveCount, ([op]) => op.key) : ready;
  if (chosen.length < ready.length) {
    const sent = new Set(chosen.map(([op]) => op.key));
    const reason =
      `live: not in this run's sample of ${chosen.length} of ${ready.length} testable operations ` +
      `(rotation ${ctx.config.rotation}: DYNAMIC_RUN_NUMBER or the UTC day; the mock target covers all)`;
    for (const [op] of ready) if (!sent.has(op.key)) ctx.skip(op.key, reason);
  }
  await mapLimit(chosen, concurrency(ctx), ([op, prepared], index) => run(op, prepared, index));
}

/**
 * ERR-007: the (path, operations) pairs a per-path check covers — on live a rotating sample of LIVE_SAMPLE paths
 * (the others are skipped with the reason), every path on the mock.
 */
export function samplePaths<T>(ctx: CheckContext, paths: [string, T][]): [string, T][] {
  if (ctx.config.target !== 'live') return paths;
  const chosen = new Set(liveSample(ctx, paths, LIVE_SAMPLE, ([path]) => path).map(([path]) => path));
  const reason =
    `live: not in this run's sample of ${chosen.size} of ${paths.length} paths ` +
    `(rotation ${ctx.config.rotation}: DYNAMIC_RUN_NUMBER or the UTC day; the mock target covers all)`;
  for (const [path] of paths) if (!chosen.has(path)) ctx.skip(path, reason);
  return paths.filter(([path]) => chosen.has(path));
}
