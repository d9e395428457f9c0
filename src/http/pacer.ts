/**
 * The live pacer's scheduling core (issue #13 "paced live runner"; dynamic-api-facts.md §7): every request is given a
 * send time at which every window of every rate-limit policy it falls under (x-dynamic-rate-limit ids of its
 * operation, numbers from the active docs profile, keyed per IP and per environment) still has room, with a safety
 * margin (default 90 % of each window's limit). Pure and clock-free: callers pass `nowMs`, so unit tests run it on a
 * fake clock; the run's one shared instance lives in the pacing service (src/engine/run-state.ts).
 *
 * The schedule is a sliding-window log per bucket: no interval of a window's length ever holds more than its cap of
 * send times, which keeps every fixed window (aligned or not, wherever the server starts it) below the limit too.
 * A request goes into the earliest gap that fits all its buckets — not behind everything already queued: a request
 * waiting for the OTP policy (3/min) must not hold back the other /sdk requests that share the per-IP bucket.
 */
import type { DocsProfile, Operation } from '../engine/spec.js';

/** What the HTTP client needs from a pacer: wait for a slot (or learn the budget is spent), report a 429. */
export interface Pacer {
  /** Resolves when the request may be sent; resolves to a refusal (the run's budget is spent) instead. */
  acquire(method: string, path: string, probe: boolean): Promise<string | undefined>;
  settle(method: string, path: string, status: number, retryAfter: string | undefined, probe: boolean): Promise<void>;
  /** A rule starts: its share of the run's remaining request budget. */
  startRule(rule: string): Promise<number>;
}

/** One window of a policy in milliseconds (limit requests per `ms`). */
export interface PaceWindow {
  limit: number;
  ms: number;
}

/** One bucket a request is charged to: policy id + key value (e.g. `sdk-ip|suite`, `sdk-environment|<env id>`). */
export interface BucketDemand {
  bucket: string;
  policy: string;
  windows: PaceWindow[];
}

export interface PacingScheduleOptions {
  /** Fraction of each window's limit the schedule may use (default 0.9; 1 = exactly the documented limit). */
  margin?: number;
}

interface BucketLog {
  /** Send times, sorted ascending. */
  times: number[];
  blockedUntil: number;
  /** The longest window of this bucket (entries older than that no longer matter). */
  horizon: number;
}

/** The cap of a window under a margin: at least one request, at most the limit. */
export function capOf(window: PaceWindow, margin: number): number {
  return Math.max(1, Math.min(window.limit, Math.floor(window.limit * margin)));
}

/** Index of the first entry > x (entries sorted ascending). */
function upperBound(times: readonly number[], x: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * True if one more send at `t` keeps every interval (x - ms, x] that contains t at most `cap` sends: the densest such
 * interval ends at t or at one of the sends in (t, t + ms).
 */
function fits(times: readonly number[], t: number, w: PaceWindow, cap: number): boolean {
  const from = upperBound(times, t - w.ms);
  const to = upperBound(times, t + w.ms - 1e-9);
  // Sends in (t - ms, t + ms): sweep the ends x = t and x = each later send, two pointers over that slice.
  let lo = from;
  const firstAfter = upperBound(times, t);
  if (firstAfter - lo + 1 > cap) return false;
  for (let hi = firstAfter; hi < to; hi++) {
    const x = times[hi]!;
    while (lo < hi && times[lo]! <= x - w.ms) lo++;
    if (hi - lo + 2 > cap) return false;
  }
  return true;
}

/**
 * Sliding-window schedule over buckets. `reserve` hands out send times; `record` enters sends that were not
 * scheduled (a budgeted rate-limit probe); `blockUntil` keeps a bucket closed after a 429's Retry-After.
 */
export class PacingSchedule {
  private readonly logs = new Map<string, BucketLog>();
  readonly margin: number;

  constructor(options: PacingScheduleOptions = {}) {
    const margin = options.margin ?? 0.9;
    if (!(margin > 0 && margin <= 1)) throw new Error(`pacing margin must be in (0, 1], got ${margin}`);
    this.margin = margin;
  }

  private log(demand: BucketDemand): BucketLog {
    let log = this.logs.get(demand.bucket);
    const horizon = Math.max(0, ...demand.windows.map((w) => w.ms));
    if (!log) this.logs.set(demand.bucket, (log = { times: [], blockedUntil: 0, horizon }));
    else log.horizon = Math.max(log.horizon, horizon);
    return log;
  }

  private feasible(demands: readonly BucketDemand[], t: number): boolean {
    for (const d of demands) {
      const log = this.logs.get(d.bucket);
      if (!log) continue;
      if (t < log.blockedUntil) return false;
      for (const w of d.windows) if (!fits(log.times, t, w, capOf(w, this.margin))) return false;
    }
    return true;
  }

  /** The earliest time ≥ nowMs at which one more request fits every window of every demand (does not reserve). */
  earliest(demands: readonly BucketDemand[], nowMs: number): number {
    let start = nowMs;
    for (const d of demands) start = Math.max(start, this.logs.get(d.bucket)?.blockedUntil ?? 0);
    if (this.feasible(demands, start)) return start;
    // Feasibility only changes where a send leaves a window: try those moments in order.
    const candidates: number[] = [];
    for (const d of demands) {
      const log = this.logs.get(d.bucket);
      if (!log) continue;
      for (const w of d.windows)
        for (let i = upperBound(log.times, start - w.ms); i < log.times.length; i++)
          candidates.push(log.times[i]! + w.ms);
    }
    candidates.sort((a, b) => a - b);
    let previous = Number.NaN;
    for (const c of candidates) {
      if (c <= start || c === previous) continue;
      previous = c;
      if (this.feasible(demands, c)) return c;
    }
    throw new Error('pacing schedule: no admissible time (a window cap below one)');
  }

  /** Reserves the earliest admissible send time for a request charged to `demands` and returns it. */
  reserve(demands: readonly BucketDemand[], nowMs: number): number {
    const t = this.earliest(demands, nowMs);
    this.record(demands, t, nowMs);
    return t;
  }

  /** Enters a send at `atMs` without scheduling it (e.g. a budgeted rate-limit probe). */
  record(demands: readonly BucketDemand[], atMs: number, nowMs = atMs): void {
    for (const d of demands) {
      const log = this.log(d);
      log.times.splice(upperBound(log.times, atMs), 0, atMs);
      // Entries older than the longest window no longer matter.
      const stale = upperBound(log.times, nowMs - log.horizon);
      if (stale > 256) log.times.splice(0, stale);
    }
  }

  /** Keeps the buckets closed until `untilMs` (a 429's Retry-After: no request of any worker goes out before). */
  blockUntil(demands: readonly BucketDemand[], untilMs: number): void {
    for (const d of demands) {
      const log = this.log(d);
      log.blockedUntil = Math.max(log.blockedUntil, untilMs);
    }
  }
}

/** The per-policy numbers of a profile as pacing windows (policies without numbers are not paced: nothing to keep). */
export function profileWindows(
  profile: Pick<DocsProfile, 'rateLimits'>,
): Map<string, { key: string[]; windows: PaceWindow[] }> {
  const out = new Map<string, { key: string[]; windows: PaceWindow[] }>();
  for (const [id, p] of Object.entries(profile.rateLimits)) {
    if (!p.windows || p.windows.length === 0) continue;
    out.set(id, { key: [...p.key], windows: p.windows.map((w) => ({ limit: w.limit, ms: w.seconds * 1000 })) });
  }
  return out;
}

interface CompiledRoute {
  method: string;
  regex: RegExp;
  names: string[];
  statics: number;
  policies: string[];
}

/** The policies every `/sdk`-prefixed request falls under, and every admin request (docs: "all endpoints"). */
const SDK_DEFAULT = ['sdk-ip', 'sdk-environment'];
const ADMIN_DEFAULT = ['admin-ip', 'admin-environment'];

/**
 * Maps a request (method + path below the API base) to the buckets it is charged to: the policies of its operation
 * (x-dynamic-rate-limit), keyed by the one source address of the run (`ip`) and the environment id in its path.
 * A path no operation matches still counts: `/sdk/…` under the SDK policies, anything else under the admin ones; a
 * known path with another method under the union of that path's policies.
 */
export class RequestPolicies {
  private readonly routes: CompiledRoute[];
  private readonly windows: Map<string, { key: string[]; windows: PaceWindow[] }>;

  constructor(
    operations: readonly Pick<Operation, 'method' | 'path' | 'policies'>[],
    profile: Pick<DocsProfile, 'rateLimits'>,
    private readonly sourceKey = 'suite',
  ) {
    this.windows = profileWindows(profile);
    this.routes = operations
      .map((op) => {
        const names: string[] = [];
        const segments = op.path.split('/');
        const pattern = segments
          .map((s) => {
            const m = /^\{(\w+)\}$/.exec(s);
            if (!m) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            names.push(m[1]!);
            return '([^/]+)';
          })
          .join('/');
        return {
          method: op.method,
          regex: new RegExp(`^${pattern}$`),
          names,
          statics: segments.length - names.length,
          policies: [...op.policies],
        };
      })
      .sort((a, b) => b.statics - a.statics);
  }

  /** The policy ids and path parameters of a request. */
  resolve(method: string, path: string): { policies: string[]; params: Record<string, string> } {
    const clean = path.split('?')[0]!.replace(/\/+$/, '') || '/';
    const matches = this.routes.filter((r) => r.regex.test(clean));
    const exact = matches.find((r) => r.method === method.toUpperCase());
    const chosen = exact ? [exact] : matches;
    const params: Record<string, string> = {};
    const first = chosen[0];
    if (first) {
      const m = first.regex.exec(clean)!;
      first.names.forEach((n, i) => (params[n] = decodeURIComponentSafe(m[i + 1]!)));
    } else {
      const env = /^\/(?:sdk|environments)\/([^/]+)/.exec(clean)?.[1];
      if (env !== undefined) params.environmentId = decodeURIComponentSafe(env);
    }
    const policies = chosen.length
      ? [...new Set(chosen.flatMap((r) => r.policies))]
      : clean.startsWith('/sdk/')
        ? SDK_DEFAULT
        : ADMIN_DEFAULT;
    return { policies, params };
  }

  /** The buckets a request is charged to (policies without numbers and keys the path does not give are left out). */
  demandsFor(method: string, path: string): BucketDemand[] {
    const { policies, params } = this.resolve(method, path);
    const out: BucketDemand[] = [];
    for (const policy of policies) {
      const p = this.windows.get(policy);
      if (!p) continue;
      const values: string[] = [];
      let missing = false;
      for (const dim of p.key) {
        const v =
          dim === 'ip'
            ? this.sourceKey
            : dim === 'environment'
              ? params.environmentId
              : dim === 'wallet'
                ? params.walletId
                : undefined;
        if (v === undefined) missing = true;
        values.push(`${dim}=${v ?? ''}`);
      }
      if (missing) continue;
      out.push({ bucket: `${policy}|${values.join('|')}`, policy, windows: p.windows });
    }
    return out;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The least wall time (ms, from the first send to the last) in which `count` requests fit the windows at the given
 * margin: the send time of the last request when all are due at once. margin 1 = "the minimum the limits allow".
 */
export function minimumSpanMs(count: number, windows: readonly PaceWindow[], margin = 1): number {
  if (count <= 1 || windows.length === 0) return 0;
  // All due at once, one bucket: the schedule is first come first served, so send i goes at
  // max(send i-1, send (i - cap) + window) over the windows — O(count × windows).
  const caps = windows.map((w) => capOf(w, margin));
  const times = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    let t = i === 0 ? 0 : times[i - 1]!;
    windows.forEach((w, j) => {
      const earlier = i - caps[j]!;
      if (earlier >= 0) t = Math.max(t, times[earlier]! + w.ms);
    });
    times[i] = t;
  }
  return times[count - 1]!;
}

/** Requests per bucket → the minimum wall time the limits allow for all of them (the slowest bucket decides). */
export function minimumWallTimeMs(
  counts: ReadonlyMap<string, { count: number; windows: readonly PaceWindow[] }>,
  margin = 1,
): number {
  let worst = 0;
  for (const { count, windows } of counts.values()) worst = Math.max(worst, minimumSpanMs(count, windows, margin));
  return worst;
}
