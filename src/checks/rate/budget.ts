/**
 * The live rate-limit probe (RATE-015; conformance-rules RL-01..RL-06, RL-13, RL-15): budgeted, serial, and
 * honouring Retry-After. It only ever sends the one cheap, side-effect-free request it is given (the nonce
 * endpoint); the caller decides that and opens the gate (src/secrets/safety.ts: DYNAMIC_RATE_LIMIT_BUDGET set and the
 * environment verified to be a sandbox). Waiting is injected: real time on the live target, the mock clock when the
 * same procedure is proven on the mock. What it measures holds for any algorithm (fixed or sliding window, token
 * bucket, GCRA): after a cool-down the first request passes, a 429 arrives within 2N, and after Retry-After the
 * endpoint answers again. A 429 before N is undecidable from outside (a shared egress IP) and is reported so.
 */
import { headerValue, type HttpResponse } from '../../http/client.js';

/** A hard cap on the requests one live probe may send (DYNAMIC_RATE_LIMIT_BUDGET). */
export class RateBudget {
  #used: number;

  /** @param used requests already spent (a budget restored after a worker restart). */
  constructor(
    readonly limit: number,
    used = 0,
  ) {
    if (!(limit >= 0)) throw new Error(`a rate-limit budget must be ≥ 0 (got ${limit})`);
    this.#used = Math.max(0, used);
  }

  get used(): number {
    return this.#used;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.#used);
  }

  /** Takes one request from the budget; false (and nothing taken) when it is exhausted — the caller stops. */
  take(): boolean {
    if (this.#used >= this.limit) return false;
    this.#used += 1;
    return true;
  }
}

/** How the probe reaches the world. */
export interface ProbeIo {
  /** Sends one request to the probed endpoint; `headers` are extra header lines (the spoofed X-Forwarded-For). */
  send(headers?: [string, string][]): Promise<HttpResponse>;
  /** Waits `seconds` (live: real time; mock: advances the mock clock). */
  wait(seconds: number): Promise<void>;
  /** Current time in seconds on the clock `wait` moves. */
  now(): number;
  /** A fresh spoofed client address for X-Forwarded-For. */
  spoofedAddress(): string;
}

export interface ProbePlan {
  /** Policy id and its documented numbers (the smallest window binds first). */
  policy: string;
  limit: number;
  windowSeconds: number;
  budget: RateBudget;
  /** Cool-down before the first request (≥ the window on live; 0 on a freshly reset mock). */
  coolDownSeconds: number;
  /** Longest single wait the probe accepts (it must fit in the test's timeout). */
  maxWaitSeconds: number;
  /** Extra seconds added to Retry-After before the recovery request (RL-04: +1 s on live, 0 on the mock clock). */
  retryMarginSeconds: number;
}

/** What one probe saw. */
export interface ProbeResult {
  plan: Omit<ProbePlan, 'budget'>;
  /** The burst, in order (stops at the first 429, at 2N, or when the budget runs out). */
  burst: HttpResponse[];
  /** 1-based position of the first 429 in the burst. */
  firstLimitedAt: number | undefined;
  limited: HttpResponse | undefined;
  /** Retry-After of the 429 in seconds (delay-seconds or HTTP-date), undefined when absent or malformed. */
  retryAfter: number | undefined;
  /** The request sent right after the 429 with a fresh spoofed X-Forwarded-For. */
  spoofed: HttpResponse | undefined;
  /** The request sent after waiting Retry-After. */
  recovery: HttpResponse | undefined;
  /** Seconds between the 429 and the recovery request. */
  waitedBeforeRecovery: number | undefined;
  /** Every wait, in seconds, in order. */
  waits: number[];
  /** Why the probe stopped before completing a phase, if it did. */
  stopped: string[];
  /** Requests sent; the most that were ever in flight at once (the probe is serial: 1). */
  sent: number;
  maxInFlight: number;
  /** Time (on the io clock) of the 429. */
  limitedAt: number | undefined;
}

const DELAY_SECONDS = /^\d+$/;

/**
 * Parses Retry-After (RFC 9110 10.2.3): delay-seconds (1*DIGIT) or an HTTP-date (relative to `date`, the response's
 * Date header, or `nowMs`). Returns undefined for anything else ('1.5', '-1', 'soon', empty).
 */
export function parseRetryAfter(
  value: string | undefined,
  date?: string,
  nowMs = Date.now(),
): { seconds: number; form: 'delay-seconds' | 'http-date' } | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (DELAY_SECONDS.test(v)) return { seconds: Number(v), form: 'delay-seconds' };
  // IMF-fixdate, obsolete RFC 850 and asctime all start with a day name; Date.parse understands them.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  const base = date !== undefined && !Number.isNaN(Date.parse(date)) ? Date.parse(date) : nowMs;
  return { seconds: Math.max(0, Math.ceil((at - base) / 1000)), form: 'http-date' };
}

/** Retry-After of a response in seconds, or undefined. */
export function retryAfterOf(res: HttpResponse): number | undefined {
  return parseRetryAfter(headerValue(res.headers['retry-after']), headerValue(res.headers.date))?.seconds;
}

function newResult(plan: ProbePlan): ProbeResult {
  const shown: Omit<ProbePlan, 'budget'> = {
    policy: plan.policy,
    limit: plan.limit,
    windowSeconds: plan.windowSeconds,
    coolDownSeconds: plan.coolDownSeconds,
    maxWaitSeconds: plan.maxWaitSeconds,
    retryMarginSeconds: plan.retryMarginSeconds,
  };
  return {
    plan: shown,
    burst: [],
    firstLimitedAt: undefined,
    limited: undefined,
    retryAfter: undefined,
    spoofed: undefined,
    recovery: undefined,
    waitedBeforeRecovery: undefined,
    waits: [],
    stopped: [],
    sent: 0,
    maxInFlight: 0,
    limitedAt: undefined,
  };
}

/** A serial, budgeted sender over `io` that records what it did into `result`. */
function serial(
  io: ProbeIo,
  plan: ProbePlan,
  result: ProbeResult,
): {
  send(headers?: [string, string][]): Promise<HttpResponse | undefined>;
  wait(seconds: number, what: string): Promise<boolean>;
} {
  let inFlight = 0;
  return {
    async send(headers) {
      if (!plan.budget.take()) {
        result.stopped.push(
          `budget of ${plan.budget.limit} requests (DYNAMIC_RATE_LIMIT_BUDGET) exhausted after ${result.sent}`,
        );
        return undefined;
      }
      inFlight += 1;
      result.maxInFlight = Math.max(result.maxInFlight, inFlight);
      try {
        result.sent += 1;
        return await io.send(headers);
      } finally {
        inFlight -= 1;
      }
    },
    async wait(seconds, what) {
      if (seconds <= 0) return true;
      if (seconds > plan.maxWaitSeconds) {
        result.stopped.push(`${what}: waiting ${seconds} s exceeds the ${plan.maxWaitSeconds} s limit of one check`);
        return false;
      }
      result.waits.push(seconds);
      await io.wait(seconds);
      return true;
    },
  };
}

/**
 * Phase 1: cool down, then send one request after another until the first 429 or 2N requests (or the budget ends);
 * after a 429, one request with a fresh spoofed X-Forwarded-For (it must still be 429).
 */
export async function probeBurst(io: ProbeIo, plan: ProbePlan): Promise<ProbeResult> {
  const result = newResult(plan);
  const s = serial(io, plan, result);
  if (!(await s.wait(plan.coolDownSeconds, 'cool-down'))) return result;
  for (let i = 0; i < 2 * plan.limit; i++) {
    const res = await s.send();
    if (!res) return result;
    result.burst.push(res);
    if (res.status === 429) {
      result.firstLimitedAt = i + 1;
      result.limited = res;
      result.limitedAt = io.now();
      result.retryAfter = retryAfterOf(res);
      break;
    }
    if (res.status === 0) {
      result.stopped.push(`transport error after ${result.sent} requests (${res.exchange.error ?? 'no response'})`);
      return result;
    }
  }
  if (result.limited) {
    const spoofed = await s.send([['x-forwarded-for', io.spoofedAddress()]]);
    if (spoofed) result.spoofed = spoofed;
  }
  return result;
}

/**
 * Phase 2: wait until Retry-After (plus the margin) has passed since the 429, then send one request: it must not be
 * refused any more. Without a usable Retry-After the window length is waited instead.
 */
export async function probeRecovery(io: ProbeIo, plan: ProbePlan, result: ProbeResult): Promise<ProbeResult> {
  if (!result.limited || result.limitedAt === undefined || result.recovery) return result;
  const s = serial(io, plan, result);
  const delay = (result.retryAfter ?? plan.windowSeconds) + plan.retryMarginSeconds;
  const remaining = Math.max(0, Math.ceil(result.limitedAt + delay - io.now()));
  if (!(await s.wait(remaining, 'Retry-After'))) return result;
  const waited = io.now() - result.limitedAt;
  const res = await s.send();
  if (!res) return result;
  result.recovery = res;
  result.waitedBeforeRecovery = waited;
  return result;
}

export interface Judgement {
  status: 'pass' | 'fail' | 'inconclusive';
  reason: string;
}

/**
 * The threshold verdict that holds for any algorithm (RL-06, RL-07): the first 429 must come after N and by 2N.
 * A 429 at or before N is inconclusive (the key was warm: a shared egress address, another run), never a failure;
 * a probe stopped by its budget or a transport error before deciding is inconclusive too.
 */
export function judgeThreshold(result: ProbeResult): Judgement {
  const n = result.plan.limit;
  const k = result.firstLimitedAt;
  if (k !== undefined && k <= n)
    return {
      status: 'inconclusive',
      reason:
        `the first 429 came at request ${k}, not after ${n}: the key was already warm ` +
        `(shared egress address or an earlier run), which cannot be told apart from a lower ` +
        `limit`,
    };
  if (k !== undefined)
    return { status: 'pass', reason: `the first 429 came at request ${k} (N = ${n}, within 2N = ${2 * n})` };
  if (result.burst.length >= 2 * n)
    return {
      status: 'fail',
      reason: `no 429 within 2N = ${2 * n} requests (documented: ${n} per ${result.plan.windowSeconds} s)`,
    };
  return {
    status: 'inconclusive',
    reason: `undecided after ${result.burst.length} requests: ${result.stopped.join('; ') || 'the probe stopped'}`,
  };
}
