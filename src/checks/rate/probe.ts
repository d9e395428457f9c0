/**
 * The shared probe of one policy on the mock (RATE-001..006, 008..011 judge what it saw): fill the window, provoke the
 * 429, then step the clock across Retry-After and the window edge. Run once per run, mock and fault set.
 */
import { headerValue, type HttpResponse } from '../../http/client.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { mockControl } from '../support/send.js';
import { mapLimit } from '../../engine/runner.js';
import { workerSlot } from '../../engine/worker-state.js';
import { parseRetryAfter } from './budget.js';
import { RateLimitModel } from './model.js';
import {
  FILL_CONCURRENCY,
  endpointPolicies,
  enforcedTargets,
  modelPolicies,
  perAddressQuota,
  policyTargets,
  type Target,
} from './policies.js';
import {
  NO_ADDRESSES,
  addresses,
  admitted,
  advance,
  histogram,
  isRequest,
  limited,
  modelRequest,
  mustRequest,
  rateRequest,
  spoofedAddress,
  type Addresses,
} from './requests.js';
import { loadRun, restored, saveRun, stored, type StoredResponse } from './store.js';

interface TimelineStep {
  /** Seconds after the window started (the first request of the fill). */
  at: number;
  res: HttpResponse;
}

/** What the probe of one policy saw. */
export interface PolicyProbe {
  target: Target;
  /** Global per-IP policies: the per-endpoint policy whose operation sent the first requests of the fill (RATE-010). */
  lead: { target: Target; count: number } | undefined;
  /** Why the probe could not run. */
  skipped?: string;
  n: number;
  /** Seconds the clock moved in the middle of the fill (so Retry-After ≠ window length). */
  offset: number;
  /** The end of the refusing window(s), seconds after the window started (model). */
  edge: number;
  /** The longest refusing window, seconds (the bound of Retry-After). */
  refusingSeconds: number;
  fill: HttpResponse[];
  /** Requests N+1, N+2… until the first 429 (at most 6, or the lead's count + 2). */
  over: HttpResponse[];
  first429: HttpResponse | undefined;
  /** Retry-After the model predicts for the first 429. */
  expectedRetryAfter: number | undefined;
  /** Fresh spoofed X-Forwarded-For from the exhausted address (ip-keyed policies). */
  spoofed: HttpResponse[];
  otherAddress: HttpResponse | undefined;
  otherEnvironment: HttpResponse | string | undefined;
  /** Per-endpoint policies: one request to every other per-endpoint policy from the exhausted address (RATE-010). */
  neighbours: { target: Target; res: HttpResponse }[];
  timeline: TimelineStep[];
  /** Every 429 the probe received. */
  all429: HttpResponse[];
}

export function emptyProbe(target: Target): PolicyProbe {
  return {
    target,
    lead: undefined,
    n: target.binding.limit,
    offset: 0,
    edge: target.binding.seconds,
    refusingSeconds: target.binding.seconds,
    fill: [],
    over: [],
    first429: undefined,
    expectedRetryAfter: undefined,
    spoofed: [],
    otherAddress: undefined,
    otherEnvironment: undefined,
    neighbours: [],
    timeline: [],
    all429: [],
  };
}

/**
 * Probes one policy: fill its window from a cold key (half, then the clock moves a quarter window, then the rest),
 * request N+1, then — while the window is full — spoofed X-Forwarded-For, another address, another environment,
 * and (per-endpoint policies) one request to every other per-endpoint policy from the exhausted address;
 * finally one request at each of: one second before and at the window edge, one second before and at Retry-After.
 * A global per-IP policy (e.g. sdk-ip) is filled starting with requests to a per-endpoint policy's operation
 * (e.g. nonce), so its threshold also proves that those requests count toward it (RATE-010).
 */
async function probePolicy(
  ctx: CheckContext,
  target: Target,
  all: readonly Target[],
  addr: NonNullable<Addresses>,
): Promise<PolicyProbe> {
  const { op, binding, id } = target;
  const model = new RateLimitModel(modelPolicies(ctx));
  const probe = emptyProbe(target);
  const first = rateRequest(ctx, op, {});
  if (!isRequest(first)) return { ...probe, skipped: first.skip };
  await mockControl(ctx).reset();
  const n = binding.limit;
  // The exhausted address: for ip-keyed policies every request comes from it; else it is a fresh address.
  const p = addr(0);
  const quota = target.ipKeyed ? n : perAddressQuota(ctx, op, id);
  const spread = Math.ceil(n / Math.min(n, quota));
  const fillAddress = (i: number): string => (target.ipKeyed ? p : addr(10 + (i % spread)));
  const { endpoint, global } = endpointPolicies(ctx, all);
  const lead = global.some((g) => g.id === id)
    ? endpoint
        .filter((e) => e.op.surface === op.surface && e.op.policies.includes(id))
        .sort((a, b) => a.binding.limit - b.binding.limit)[0]
    : undefined;
  if (lead) probe.lead = { target: lead, count: Math.min(lead.binding.limit, Math.floor(n / 2)) };
  const leadCount = probe.lead?.count ?? 0;
  const fillOp = (i: number): Operation => (lead && i < leadCount ? lead.op : op);
  const offset = binding.seconds >= 4 ? Math.floor(binding.seconds / 4) : 0;
  probe.offset = offset;
  const half = Math.floor(n / 2);
  const fillRange = async (from: number, to: number): Promise<void> => {
    const indices = Array.from({ length: to - from }, (_, k) => from + k);
    for (const i of indices)
      if (model.send(modelRequest(ctx, fillOp(i), fillAddress(i))).limited)
        throw new Error(`probe design: the model limits fill request ${i + 1} of ${target.label}`);
    probe.fill.push(
      ...(await mapLimit(indices, FILL_CONCURRENCY, (i) =>
        ctx.client.send(mustRequest(ctx, fillOp(i), { ip: fillAddress(i) })),
      )),
    );
  };
  await fillRange(0, half);
  await advance(ctx, model, offset);
  await fillRange(half, n);
  // Request N+1 (and a few more when N+1 was admitted, so the other rules still see this policy's 429).
  for (let extra = 0; extra < Math.max(6, leadCount + 2); extra++) {
    const verdict = model.predict(modelRequest(ctx, op, p));
    if (extra === 0 && verdict.limited) {
      probe.expectedRetryAfter = verdict.retryAfter;
      probe.edge = Math.max(...verdict.refusedBy.map((w) => w.end));
      probe.refusingSeconds = Math.max(...verdict.refusedBy.map((w) => w.window.seconds));
    }
    const res = await ctx.client.send(mustRequest(ctx, op, { ip: p }));
    probe.over.push(res);
    if (limited(res)) {
      probe.first429 = res;
      break;
    }
    if (res.status === 0) break;
  }
  if (target.ipKeyed) {
    for (let i = 0; i < 2; i++)
      probe.spoofed.push(
        await ctx.client.send(mustRequest(ctx, op, { ip: p, headers: [['x-forwarded-for', spoofedAddress()]] })),
      );
    probe.otherAddress = await ctx.client.send(mustRequest(ctx, op, { ip: addr(1) }));
  }
  if (probe.first429 && endpoint.some((e) => e.id === id)) {
    for (const b of endpoint)
      if (b.id !== id)
        probe.neighbours.push({ target: b, res: await ctx.client.send(mustRequest(ctx, b.op, { ip: p })) });
  }
  if (target.policy.key.includes('environment')) {
    const other = rateRequest(ctx, op, { ip: addr(2), env: 'other' });
    probe.otherEnvironment = isRequest(other) ? await ctx.client.send(other) : other.skip;
  }
  // Step the clock across the window edge and across Retry-After (seconds after the window started).
  const retryAfter = probe.first429
    ? parseRetryAfter(headerValue(probe.first429.headers['retry-after']))?.seconds
    : undefined;
  const points = new Set<number>([probe.edge - 1, probe.edge]);
  if (retryAfter !== undefined && retryAfter <= 10 * probe.refusingSeconds)
    for (const d of [retryAfter - 1, retryAfter]) points.add(offset + d);
  for (const at of [...points].filter((x) => x >= offset).sort((a, b) => a - b)) {
    await advance(ctx, model, at - model.now);
    probe.timeline.push({ at, res: await ctx.client.send(mustRequest(ctx, op, { ip: p })) });
  }
  probe.all429 = [...probe.over, ...probe.spoofed, ...probe.timeline.map((s) => s.res)].filter(limited);
  return probe;
}
interface StoredProbe {
  id: string;
  skipped?: string;
  lead?: { id: string; count: number };
  n: number;
  offset: number;
  edge: number;
  refusingSeconds: number;
  expectedRetryAfter?: number;
  fill: StoredResponse[];
  over: StoredResponse[];
  spoofed: StoredResponse[];
  otherAddress?: StoredResponse;
  otherEnvironment?: StoredResponse | string;
  neighbours: { id: string; res: StoredResponse }[];
  timeline: { at: number; res: StoredResponse }[];
}

function storeProbe(p: PolicyProbe): StoredProbe {
  return {
    id: p.target.id,
    ...(p.skipped !== undefined ? { skipped: p.skipped } : {}),
    ...(p.lead ? { lead: { id: p.lead.target.id, count: p.lead.count } } : {}),
    n: p.n,
    offset: p.offset,
    edge: p.edge,
    refusingSeconds: p.refusingSeconds,
    ...(p.expectedRetryAfter !== undefined ? { expectedRetryAfter: p.expectedRetryAfter } : {}),
    fill: p.fill.map(stored),
    over: p.over.map(stored),
    spoofed: p.spoofed.map(stored),
    ...(p.otherAddress ? { otherAddress: stored(p.otherAddress) } : {}),
    ...(p.otherEnvironment !== undefined
      ? { otherEnvironment: typeof p.otherEnvironment === 'string' ? p.otherEnvironment : stored(p.otherEnvironment) }
      : {}),
    neighbours: p.neighbours.map((x) => ({ id: x.target.id, res: stored(x.res) })),
    timeline: p.timeline.map((x) => ({ at: x.at, res: stored(x.res) })),
  };
}

function restoreProbe(s: StoredProbe, targets: readonly Target[]): PolicyProbe | undefined {
  const byId = (id: string): Target | undefined => targets.find((t) => t.id === id);
  const target = byId(s.id);
  if (!target) return undefined;
  const lead = s.lead ? byId(s.lead.id) : undefined;
  const over = s.over.map(restored);
  const spoofed = s.spoofed.map(restored);
  const timeline = s.timeline.map((x) => ({ at: x.at, res: restored(x.res) }));
  const probe: PolicyProbe = {
    ...emptyProbe(target),
    lead: lead && s.lead ? { target: lead, count: s.lead.count } : undefined,
    n: s.n,
    offset: s.offset,
    edge: s.edge,
    refusingSeconds: s.refusingSeconds,
    expectedRetryAfter: s.expectedRetryAfter,
    fill: s.fill.map(restored),
    over,
    first429: over.find(limited),
    spoofed,
    otherAddress: s.otherAddress ? restored(s.otherAddress) : undefined,
    otherEnvironment:
      s.otherEnvironment === undefined || typeof s.otherEnvironment === 'string'
        ? s.otherEnvironment
        : restored(s.otherEnvironment),
    neighbours: s.neighbours.flatMap((x) => {
      const t = byId(x.id);
      return t ? [{ target: t, res: restored(x.res) }] : [];
    }),
    timeline,
  };
  probe.all429 = [...over, ...spoofed, ...timeline.map((x) => x.res)].filter(limited);
  return s.skipped !== undefined ? { ...probe, skipped: s.skipped } : probe;
}

/** This worker's probe runs, by API, profile and fault set. */
const PROBES = workerSlot('rate policy probes', () => new Map<string, Promise<PolicyProbe[]>>());

/**
 * The probes of every enforced policy, run once per run, mock and fault set (RATE-001 usually pays for them; a rule
 * run alone with -g runs them itself; a worker that replaced a failed one reads them from the per-run store).
 */
export async function policyProbes(ctx: CheckContext): Promise<PolicyProbe[]> {
  const seed = await mockControl(ctx).seed();
  const key = `${ctx.config.apiUrl} ${ctx.spec.profile.id} ${seed.faults.join(',')}`;
  const cache = ctx.worker.get(PROBES);
  let pending = cache.get(key);
  if (!pending) {
    const addr = addresses(ctx);
    const { targets } = policyTargets(ctx);
    pending = (async () => {
      const saved = loadRun<StoredProbe[]>('probes', key)?.map((x) => restoreProbe(x, targets));
      if (saved && saved.length === targets.length && saved.every((x) => x !== undefined)) {
        ctx.log(`probes of ${saved.length} policies read from this run's store (recorded by an earlier worker)`);
        return saved;
      }
      const out: PolicyProbe[] = [];
      for (const t of targets) {
        if (!addr && !t.ipKeyed) {
          out.push({ ...emptyProbe(t), skipped: NO_ADDRESSES });
          continue;
        }
        const started = performance.now();
        const sentBefore = ctx.client.requestsSent;
        out.push(await probePolicy(ctx, t, targets, addr ?? (() => '127.0.0.1')));
        ctx.log(
          `probe ${t.label} via ${t.op.key}: ` +
            `${ctx.client.requestsSent - sentBefore} requests, ` +
            `${Math.round(performance.now() - started)} ms`,
        );
      }
      saveRun('probes', key, out.map(storeProbe));
      return out;
    })();
    cache.set(key, pending);
    // A failed probe run must not poison later checks.
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

/**
 * Runs `judge` on the probe of every enforced policy the rule applies to (mock target; the live target runs the
 * check's `live` body); records skips of the others.
 */
export async function judgeProbes(
  ctx: CheckContext,
  judge: (probe: PolicyProbe) => void,
  only: (t: Target) => boolean = () => true,
): Promise<void> {
  const wanted = new Set(
    enforcedTargets(ctx)
      .filter(only)
      .map((t) => t.id),
  );
  if (wanted.size === 0)
    return ctx.skip('(rule)', `no enforced policy of ${ctx.spec.profile.id} to which this rule applies`);
  for (const probe of await policyProbes(ctx)) {
    if (!wanted.has(probe.target.id)) continue;
    if (probe.skipped) ctx.skip(probe.target.label, probe.skipped);
    else judge(probe);
  }
}

/**
 * Probes that never saw a 429 cannot judge the 429's properties; with `exact`, a probe whose fill was refused early
 * (another policy or a lower limit bound first) cannot judge this policy's window, edge or bucket key either.
 */
export function without429(ctx: CheckContext, probe: PolicyProbe, exact = false): boolean {
  if (exact && probe.fill.some((r) => !admitted(r))) {
    ctx.inconclusive(
      probe.target.label,
      `the window was not filled as documented (first ${probe.n}: ` +
        `${histogram(probe.fill)}), so this policy's own 429 was not isolated; ` +
        `see RATE-001`,
      probe.fill.find((r) => !admitted(r)),
    );
    return true;
  }
  if (probe.first429) return false;
  ctx.inconclusive(
    probe.target.label,
    `no 429 was provoked (request N+1 = ${probe.n + 1} and ` +
      `${probe.over.length - 1} more answered ${histogram(probe.over)}); ` +
      `see RATE-001`,
    probe.over.at(-1),
  );
  return true;
}
