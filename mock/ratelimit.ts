/** One fixed window of a policy, in milliseconds. */
export interface LimitWindow {
  readonly limit: number;
  readonly ms: number;
}

/** One policy to charge for a request: its bucket key (policy + key value) and its windows. */
export interface LimitCheck {
  readonly bucket: string;
  readonly windows: readonly LimitWindow[];
}

/** A charged window, so that it can be refunded (used only by the `rejected-attempts-free` fault). */
export interface Charge {
  readonly state: number[];
  readonly index: number;
  readonly start: number;
}

/** Outcome of a rate-limit check (RATE-001). */
export type Admission =
  | { readonly allowed: true; readonly charges: readonly Charge[] }
  | { readonly allowed: false; readonly retryAfterMs: number };

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Upper bound of buckets kept in memory (default 100,000). */
  readonly maxKeys?: number;
}

/** Per-call knobs (faults `late-window-reset`, `off-by-one-limit`). */
export interface HitOptions {
  /** Extra delay after a window's edge before it resets (ms). Retry-After still points at the documented edge. */
  readonly resetDelayMs?: number;
  /** Requests allowed beyond each limit. */
  readonly extraAllowance?: number;
}

// Bucket layout: [expiresAt, start0, count0, start1, count1, ...] (a packed number array, ~70 bytes per key).
const EXPIRES = 0;

/**
 * Fixed-window rate limiter (RATE-001, RATE-006, RATE-007, RATE-010, RATE-013, RATE-014): each window of a bucket
 * starts at the first request that finds it cold (never seen, or past its edge) and admits `limit` requests until
 * `start + window`. A request is admitted only if every window of every policy has room; then all of them are charged
 * at once, synchronously (no await between check and increment). Throttled requests are not charged.
 *
 * Memory is bounded by two generations of buckets (O(1) per request): new buckets go into the young generation,
 * buckets used again are promoted to it, and when the young generation reaches `maxKeys / 2` the old one is dropped
 * whole. Idle buckets therefore disappear after two generations of new keys; at most `maxKeys` are held. A key
 * dropped while its window was still open starts cold again (fail-open for the least recently used keys rather than
 * unbounded growth); `evictedLive` counts those.
 */
export class RateLimiter {
  #young = new Map<string, number[]>();
  #old = new Map<string, number[]>();
  readonly #generation: number;
  #evictedLive = 0;

  constructor(options: RateLimiterOptions = {}) {
    this.#generation = Math.max(1, Math.floor((options.maxKeys ?? 100_000) / 2));
  }

  /** Number of buckets currently held. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** Buckets dropped while one of their windows was still open (capacity pressure). */
  get evictedLive(): number {
    return this.#evictedLive;
  }

  /** Forgets every bucket (`POST /__mock/reset`). */
  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
    this.#evictedLive = 0;
  }

  /** Synchronous check-and-increment over all `checks` at `nowMs`. */
  hit(checks: readonly LimitCheck[], nowMs: number, options: HitOptions = {}): Admission {
    const verdict = this.check(checks, nowMs, options);
    if (!verdict.allowed) return verdict;
    return { allowed: true, charges: this.commit(checks, nowMs, options) };
  }

  /** Check only (no increment). Split from {@link commit} only to emulate the `racy-counter` fault. */
  check(checks: readonly LimitCheck[], nowMs: number, options: HitOptions = {}): Admission {
    const delay = options.resetDelayMs ?? 0;
    const extra = options.extraAllowance ?? 0;
    let retryAfterMs = -1;
    for (const c of checks) {
      const state = this.#young.get(c.bucket) ?? this.#old.get(c.bucket);
      for (let i = 0; i < c.windows.length; i++) {
        const w = c.windows[i]!;
        const start = state?.[1 + 2 * i];
        const count = state?.[2 + 2 * i];
        const live = start !== undefined && count !== undefined && nowMs < start + w.ms + delay;
        const used = live ? count : 0;
        if (used + 1 > w.limit + extra) retryAfterMs = Math.max(retryAfterMs, live ? start + w.ms - nowMs : w.ms);
      }
    }
    return retryAfterMs >= 0 ? { allowed: false, retryAfterMs } : { allowed: true, charges: [] };
  }

  /** Charges one request to every window of every check. */
  commit(checks: readonly LimitCheck[], nowMs: number, options: HitOptions = {}): Charge[] {
    const delay = options.resetDelayMs ?? 0;
    const charges: Charge[] = [];
    for (const c of checks) {
      const state = this.#bucket(c.bucket, nowMs);
      let expires = 0;
      for (let i = 0; i < c.windows.length; i++) {
        const w = c.windows[i]!;
        const si = 1 + 2 * i;
        const start = state[si];
        if (start === undefined || nowMs >= start + w.ms + delay) {
          state[si] = nowMs;
          state[si + 1] = 1;
        } else {
          state[si + 1] = (state[si + 1] ?? 0) + 1;
        }
        const s = state[si]!;
        charges.push({ state, index: si + 1, start: s });
        expires = Math.max(expires, s + w.ms + delay);
      }
      state[EXPIRES] = Math.max(state[EXPIRES] ?? 0, expires);
    }
    return charges;
  }

  /** Takes back charges (fault `rejected-attempts-free`). */
  refund(charges: readonly Charge[]): void {
    for (const ch of charges) {
      const v = ch.state[ch.index];
      if (ch.state[ch.index - 1] === ch.start && v !== undefined && v > 0) ch.state[ch.index] = v - 1;
    }
  }

  /** The bucket for `key` in the young generation (promoted or created), rotating generations when full. */
  #bucket(key: string, nowMs: number): number[] {
    let state = this.#young.get(key);
    if (state !== undefined) return state;
    state = this.#old.get(key);
    if (state !== undefined) this.#old.delete(key);
    else state = [0];
    if (this.#young.size >= this.#generation) this.#rotate(nowMs);
    this.#young.set(key, state);
    return state;
  }

  #rotate(nowMs: number): void {
    // Buckets still in the old generation were not used during a whole generation: drop them.
    for (const s of this.#old.values()) if ((s[EXPIRES] ?? 0) > nowMs) this.#evictedLive++;
    this.#old = this.#young;
    this.#young = new Map();
  }
}
