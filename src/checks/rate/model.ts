/**
 * A small reference model of the documented rate-limit contract (RATE-014), written from the docs profile and
 * docs/ARCHITECTURE.md step 2 — not from the mock's code. It answers, for a sequence of "send from IP x to an
 * endpoint with policies P at clock t", which request is admitted and which gets 429 with which Retry-After.
 *
 * The contract it encodes:
 * - a policy has one or more fixed windows {limit, seconds}; its bucket key is the policy id plus the request's
 *   values of the policy's key dimensions (ip, environment, wallet); a request without a value for a dimension is
 *   not subject to that policy; policies without windows (documented but unenforced) are ignored;
 * - each window of a bucket starts at the first request that finds it cold (never used, or at/after its end
 *   `start + seconds`) and admits `limit` requests until its end;
 * - a request is admitted only if every window of every applicable policy has room; then it is charged to all of
 *   them at once (requests later rejected by auth or validation still count: they were admitted here);
 * - a request answered 429 is charged to nothing (the rejection is the limiter's own answer);
 * - a 429's Retry-After is the whole seconds until the end of the latest-ending window that refused it, at least 1.
 *
 * Time is in seconds on the model's own clock (the mock clock moves only when told, so tests advance both).
 */

export type RateKeyDimension = 'ip' | 'environment' | 'wallet';

export interface ModelWindow {
  readonly limit: number;
  readonly seconds: number;
}

export interface ModelPolicy {
  readonly key: readonly RateKeyDimension[];
  /** null: documented without numbers, not enforced. */
  readonly windows: readonly ModelWindow[] | null;
}

/** One request as the limiter sees it: the endpoint's policy ids and the key values it carries. */
export interface ModelRequest {
  readonly policies: readonly string[];
  readonly ip: string;
  readonly environment?: string | undefined;
  readonly wallet?: string | undefined;
}

/** A window that refused a request. */
export interface RefusingWindow {
  readonly policy: string;
  readonly window: ModelWindow;
  /** Model time at which the window ends. */
  readonly end: number;
}

/** A running window as the model sees it. */
export interface RunningWindow {
  readonly policy: string;
  readonly key: Partial<Record<RateKeyDimension, string>>;
  readonly window: ModelWindow;
  readonly count: number;
  /** Model time at which it ends. */
  readonly end: number;
}

export type ModelVerdict =
  | { readonly limited: false }
  | { readonly limited: true; readonly retryAfter: number; readonly refusedBy: readonly RefusingWindow[] };

interface WindowState {
  start: number;
  count: number;
  /** The window's length (its id names it too; kept here so a lookup needs no parsing). */
  seconds: number;
}

interface Slot {
  id: string;
  policy: string;
  window: ModelWindow;
}

/** Fixed windows per (policy, key) on an explicit clock. */
export class RateLimitModel {
  readonly #policies: Readonly<Record<string, ModelPolicy>>;
  readonly #windows = new Map<string, WindowState>();
  #now: number;

  constructor(policies: Readonly<Record<string, ModelPolicy>>, startSeconds = 0) {
    this.#policies = policies;
    this.#now = startSeconds;
  }

  /** Model time in seconds. */
  get now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `seconds` (≥ 0). */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new Error(`the model clock only moves forward (got ${seconds})`);
    this.#now += seconds;
  }

  /** Forgets every window and sets the clock (the mock's reset). */
  reset(startSeconds = 0): void {
    this.#windows.clear();
    this.#now = startSeconds;
  }

  /** The verdict for `request` now, without charging anything. */
  predict(request: ModelRequest): ModelVerdict {
    return this.#verdict(this.#slots(request));
  }

  /** Sends `request` now: the verdict, and the charge when admitted. */
  send(request: ModelRequest): ModelVerdict {
    const slots = this.#slots(request);
    const verdict = this.#verdict(slots);
    if (verdict.limited) return verdict;
    for (const slot of slots) {
      const state = this.#live(slot.id);
      if (state) state.count += 1;
      else this.#windows.set(slot.id, { start: this.#now, count: 1, seconds: slot.window.seconds });
    }
    return verdict;
  }

  /** How many more requests like `request` would be admitted now (the smallest room of its windows). */
  room(request: ModelRequest): number {
    let room = Number.POSITIVE_INFINITY;
    for (const slot of this.#slots(request))
      room = Math.min(room, slot.window.limit - (this.#live(slot.id)?.count ?? 0));
    return Math.max(0, room);
  }

  /** Ends (model time, ascending, unique) of the windows that are still running. */
  windowEnds(): number[] {
    const ends = new Set<number>();
    for (const state of this.#windows.values()) {
      const end = state.start + state.seconds;
      if (end > this.#now) ends.add(end);
    }
    return [...ends].sort((a, b) => a - b);
  }

  /** The running windows (now < end), ordered by end: whose they are, how full, and when they end. */
  windows(): RunningWindow[] {
    const out: RunningWindow[] = [];
    for (const [id, state] of this.#windows) {
      const [policy = '', joined = '', index = '0'] = id.split('\u0000');
      const p = this.#policies[policy];
      const window = p?.windows?.[Number(index)];
      if (!p || !window || this.#now >= state.start + window.seconds) continue;
      const values = joined.split('\u0001');
      const key: Partial<Record<RateKeyDimension, string>> = {};
      p.key.forEach((dim, i) => (key[dim] = values[i] ?? ''));
      out.push({ policy, key, window, count: state.count, end: state.start + window.seconds });
    }
    return out.sort((a, b) => a.end - b.end || a.policy.localeCompare(b.policy));
  }

  /** Requests counted in the running window `index` of `policy` for a key (for tests and reports). */
  count(policy: string, key: Partial<Record<RateKeyDimension, string>>, index = 0): number {
    const p = this.#policies[policy];
    if (!p?.windows) return 0;
    const id = slotId(
      policy,
      p.key.map((d) => key[d] ?? ''),
      index,
    );
    return this.#live(id)?.count ?? 0;
  }

  #verdict(slots: readonly Slot[]): ModelVerdict {
    const refusedBy: RefusingWindow[] = [];
    for (const slot of slots) {
      const state = this.#live(slot.id);
      if ((state?.count ?? 0) + 1 > slot.window.limit) {
        refusedBy.push({
          policy: slot.policy,
          window: slot.window,
          end: state ? state.start + slot.window.seconds : this.#now + slot.window.seconds,
        });
      }
    }
    if (refusedBy.length === 0) return { limited: false };
    const latest = Math.max(...refusedBy.map((w) => w.end));
    return { limited: true, retryAfter: Math.max(1, Math.ceil(latest - this.#now)), refusedBy };
  }

  #slots(request: ModelRequest): Slot[] {
    const out: Slot[] = [];
    for (const policy of new Set(request.policies)) {
      const p = this.#policies[policy];
      if (!p?.windows) continue;
      const values: string[] = [];
      let applicable = true;
      for (const dim of p.key) {
        const v = dim === 'ip' ? request.ip : dim === 'environment' ? request.environment : request.wallet;
        if (v === undefined) applicable = false;
        values.push(v ?? '');
      }
      if (!applicable) continue;
      p.windows.forEach((window, index) => out.push({ id: slotId(policy, values, index), policy, window }));
    }
    return out;
  }

  /** The state of a window if it is still running (now < start + seconds). */
  #live(id: string): WindowState | undefined {
    const state = this.#windows.get(id);
    if (!state) return undefined;
    return this.#now < state.start + state.seconds ? state : undefined;
  }
}

function slotId(policy: string, values: readonly string[], index: number): string {
  return `${policy}\u0000${values.join('\u0001')}\u0000${index}`;
}
