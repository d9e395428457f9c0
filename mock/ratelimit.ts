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
 * Fixed-window rate limiter (RATE-001, RATE-006, RATE-007, RATE-010, RATE-013, RATE-014): each window of a bucket starts
 * at the first request that finds it cold (never seen, or past its edge) and admits `limit` requests until
 * `start + window`. A request is admitted only if every window of every policy has room; then all of them are
 * charged at once, synchronously (no await between check and increment). Throttled requests are not charged.
 *
 * Memory is bounded: buckets live in one insertion-ordered map used as an LRU; a new key first evicts expired
 * buckets at the cold end and, past `maxKeys`, the least recently used bucket (that key starts cold again —
 * fail-open for the oldest idle key rather than unbounded growth).
 */
export class RateLimiter {
  readonly #buckets = new Map<string, number[]>();
  readonly #maxKeys: number;
  #evictedLive = 0;

  constructor(options: RateLimiterOptions = {}) {
    this.#maxKeys = Math.max(1, options.maxKeys ?? 100_000);
  }

  /** Number of buckets currently held. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Buckets dropped while their window was still open (capacity pressure). */
  get evictedLive(): number {
    return this.#evictedLive;
  }

  /** Forgets every bucket (`POST /__mock/reset`). */
  clear(): void {
    this.#buckets.clear();
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
      const state = this.#buckets.get(c.bucket);
      if (state === undefined) {
        for (const w of c.windows) if (w.limit + extra <= 0) retryAfterMs = Math.max(retryAfterMs, w.ms);
        continue;
      }
      for (let i = 0; i < c.windows.length; i++) {
        const w = c.windows[i]!;
        const start = state[1 + 2 * i];
        const count = state[2 + 2 * i];
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
      let state = this.#buckets.get(c.bucket);
      if (state === undefined) {
        state = this.#insert(c.bucket, nowMs);
      } else {
        // LRU: move to the warm end.
        this.#buckets.delete(c.bucket);
        this.#buckets.set(c.bucket, state);
      }
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

  #insert(key: string, nowMs: number): number[] {
    // Drop a couple of expired buckets from the cold end (amortised O(1) cleanup of idle keys).
    for (let k = 0; k < 2; k++) {
      const first = this.#buckets.entries().next();
      if (first.done === true) break;
      const [oldKey, oldState] = first.value;
      if ((oldState[EXPIRES] ?? 0) > nowMs) break;
      this.#buckets.delete(oldKey);
    }
    while (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.entries().next();
      if (oldest.done === true) break;
      const [oldKey, oldState] = oldest.value;
      this.#buckets.delete(oldKey);
      if ((oldState[EXPIRES] ?? 0) > nowMs) this.#evictedLive++;
    }
    const state: number[] = [0];
    this.#buckets.set(key, state);
    return state;
  }
}
