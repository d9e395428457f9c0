/**
 * The live rate probe (RATE-001..005, 011, 015): the budgeted, sandbox-only, serial probe of the nonce endpoint
 * (./budget.ts) behind the gate of src/secrets/safety.ts, run once per run; each rule's live body judges what it saw.
 */
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { burstRefused, requireBurst } from '../../secrets/safety.js';
import { workerSlot } from '../../engine/worker-state.js';
import { RateBudget, probeBurst, probeRecovery, type ProbeIo, type ProbePlan, type ProbeResult } from './budget.js';
import { policyLabel, representative } from './policies.js';
import { mustRequest, spoofedAddress } from './requests.js';
import { loadRun, restored, saveRun, stored, type StoredResponse } from './store.js';

/** The policy probed live: cheap and side-effect free. Never OTP, SMS, email, MFA or the /sdk per-IP limit. */
export const LIVE_POLICY = 'nonce';
/** Longest single wait, and the time one check may spend in total (a Playwright test has 120 s). */
const LIVE_MAX_WAIT_SECONDS = 90;
const LIVE_CHECK_SECONDS = 105;

export interface LiveState {
  refusal: string | undefined;
  plan: ProbePlan | undefined;
  io: ProbeIo | undefined;
  result: ProbeResult | undefined;
  label: string;
}

/** This worker's live probe (phase 1 runs once per worker; the per-run store carries it across workers). */
const LIVE_PROBE = workerSlot('live rate probe', () => ({ state: undefined as Promise<LiveState> | undefined }));

/** A ProbeIo over the suite's client: real waiting on live, the mock clock on the mock. */
export function probeIo(ctx: CheckContext, op: Operation, ip: string | undefined): ProbeIo {
  let mockNow = 0;
  return {
    send: (headers) => ctx.client.send(mustRequest(ctx, op, { ip, headers: headers ?? [] })),
    wait: async (seconds) => {
      if (ctx.mock) {
        await ctx.mock.advanceClock(seconds);
        mockNow += seconds;
      } else await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    },
    now: () => (ctx.mock ? mockNow : Date.now() / 1000),
    spoofedAddress,
  };
}

interface StoredLive {
  plan: Omit<ProbePlan, 'budget'>;
  budgetLimit: number;
  budgetUsed: number;
  result: Omit<ProbeResult, 'burst' | 'limited' | 'spoofed' | 'recovery'> & {
    burst: StoredResponse[];
    limited?: StoredResponse;
    spoofed?: StoredResponse;
    recovery?: StoredResponse;
  };
}

function liveKey(ctx: CheckContext): string {
  return `${ctx.config.apiUrl} ${ctx.credentials.environmentId} ${ctx.spec.profile.id}`;
}

/** Saves the live probe so a worker that replaces a failed one continues it instead of probing again. */
function saveLive(ctx: CheckContext, plan: ProbePlan, r: ProbeResult): void {
  const { burst, limited: l, spoofed, recovery, ...rest } = r;
  saveRun('live', liveKey(ctx), {
    plan: r.plan,
    budgetLimit: plan.budget.limit,
    budgetUsed: plan.budget.used,
    result: {
      ...rest,
      burst: burst.map(stored),
      ...(l ? { limited: stored(l) } : {}),
      ...(spoofed ? { spoofed: stored(spoofed) } : {}),
      ...(recovery ? { recovery: stored(recovery) } : {}),
    },
  } satisfies StoredLive);
}

function restoreLive(s: StoredLive): { plan: ProbePlan; result: ProbeResult } {
  const { burst, limited: l, spoofed, recovery, ...rest } = s.result;
  return {
    plan: { ...s.plan, budget: new RateBudget(s.budgetLimit, s.budgetUsed) },
    result: {
      ...rest,
      burst: burst.map(restored),
      limited: l ? restored(l) : undefined,
      spoofed: spoofed ? restored(spoofed) : undefined,
      recovery: recovery ? restored(recovery) : undefined,
    },
  };
}

/** Phase 1 of the live probe, once per run: gate, cool-down, burst, spoofed request. */
export function liveState(ctx: CheckContext): Promise<LiveState> {
  const slot = ctx.worker.get(LIVE_PROBE);
  let state = slot.state;
  if (!state) {
    state = (async (): Promise<LiveState> => {
      const policy = ctx.spec.profile.rateLimits[LIVE_POLICY];
      const label = policy ? `${policyLabel(LIVE_POLICY, policy)} live` : `policy ${LIVE_POLICY} live`;
      const none = { plan: undefined, io: undefined, result: undefined, label };
      const refusal = await burstRefused(ctx);
      if (refusal) return { refusal, ...none };
      if (!policy?.windows?.length)
        return {
          refusal:
            `${ctx.spec.profile.id} documents no numbers for ` +
            `${LIVE_POLICY}: ${policy?.unenforcedReason ?? 'absent'}`,
          ...none,
        };
      const op = representative(ctx, LIVE_POLICY);
      if (!op) return { refusal: `no operation carries ${LIVE_POLICY}`, ...none };
      const window = [...policy.windows].sort((a, b) => a.limit - b.limit)[0]!;
      const io = probeIo(ctx, op, undefined);
      const saved = loadRun<StoredLive>('live', liveKey(ctx));
      if (saved) {
        ctx.log(
          `live rate probe: continuing the probe of an earlier worker of ` +
            `this run (${saved.budgetUsed} of ${saved.budgetLimit} requests ` +
            `spent)`,
        );
        return { refusal: undefined, io, label, ...restoreLive(saved) };
      }
      const plan: ProbePlan = {
        policy: LIVE_POLICY,
        limit: window.limit,
        windowSeconds: window.seconds,
        budget: new RateBudget(await requireBurst(ctx)),
        coolDownSeconds: window.seconds,
        maxWaitSeconds: LIVE_MAX_WAIT_SECONDS,
        retryMarginSeconds: 1,
      };
      ctx.log(
        `live rate probe: ${LIVE_POLICY} via ${op.key}, budget ` +
          `${plan.budget.limit} requests, cool-down ` +
          `${plan.coolDownSeconds} s`,
      );
      const result = await probeBurst(io, plan);
      saveLive(ctx, plan, result);
      return { refusal: undefined, plan, io, result, label };
    })();
    slot.state = state;
  }
  return state;
}

/** Phase 2 of the live probe (once): wait Retry-After, one request; saved for a replacing worker. */
export async function recover(ctx: CheckContext, state: LiveState): Promise<void> {
  if (!state.io || !state.plan || !state.result || state.result.recovery) return;
  await probeRecovery(state.io, state.plan, state.result);
  saveLive(ctx, state.plan, state.result);
}

/** RATE-015's assertions on one probe: budget, serial, Retry-After honoured. */
export function etiquette(ctx: CheckContext, label: string, r: ProbeResult, plan: ProbePlan): void {
  if (r.sent <= plan.budget.limit && r.sent <= 2 * plan.limit + 2)
    ctx.pass(`${label}: within budget (${r.sent} of ${plan.budget.limit} requests; ≤ 2N+2)`);
  else
    ctx.fail(
      `${label}: within budget`,
      `${r.sent} requests sent with a budget of ${plan.budget.limit} and 2N+2 = ${2 * plan.limit + 2}`,
    );
  if (r.maxInFlight <= 1) ctx.pass(`${label}: serial`);
  else ctx.fail(`${label}: serial`, `${r.maxInFlight} requests were in flight at once`);
  const subject = `${label}: honours Retry-After`;
  if (!r.recovery || r.waitedBeforeRecovery === undefined)
    ctx.inconclusive(subject, `no recovery request was sent${r.stopped.length ? ` (${r.stopped.join('; ')})` : ''}`);
  else if (r.waitedBeforeRecovery + 1e-6 >= (r.retryAfter ?? plan.windowSeconds)) ctx.pass(subject, r.recovery);
  else
    ctx.fail(
      subject,
      `the recovery request was sent ${r.waitedBeforeRecovery} s after ` +
        `the 429, before Retry-After ${r.retryAfter ?? plan.windowSeconds} ` +
        `s`,
      r.recovery,
    );
}

/** What a live body judges: the label, the probe's plan and result, and the shared "no 429" verdict. */
export interface LiveRun {
  label: string;
  state: LiveState & { plan: ProbePlan; io: ProbeIo; result: ProbeResult };
  r: ProbeResult;
  plan: ProbePlan;
  /** ` (why the probe stopped)` or ''. */
  stopped: string;
  /** Records "no 429 was received" (inconclusive). */
  no429: () => void;
}

/**
 * A check's live body over the live probe: runs (or joins) phase 1 once per run, skips with the gate's refusal, and
 * hands the rule's own judgement what the probe saw (declared per check as `live: liveBody(...)`).
 */
export function liveBody(
  judge: (ctx: CheckContext, run: LiveRun) => void | Promise<void>,
): (ctx: CheckContext) => Promise<void> {
  return async (ctx) => {
    const checkStarted = Date.now();
    const state = await liveState(ctx);
    const { label } = state;
    if (state.refusal || !state.result || !state.plan || !state.io)
      return ctx.skip(label, state.refusal ?? 'no live probe');
    const r = state.result;
    const stopped = r.stopped.length ? ` (${r.stopped.join('; ')})` : '';
    const no429 = (): void => ctx.inconclusive(label, `no 429 was received${stopped}`, r.burst.at(-1));
    // The recovery wait must fit in what is left of this check (phase 1 may have run in it, with its cool-down).
    const left = LIVE_CHECK_SECONDS - (Date.now() - checkStarted) / 1000;
    state.plan.maxWaitSeconds = Math.max(0, Math.min(LIVE_MAX_WAIT_SECONDS, left));
    const ready = { ...state, plan: state.plan, io: state.io, result: r };
    await judge(ctx, { label, state: ready, r, plan: state.plan, stopped, no429 });
  };
}

/** The live body of a rule the live probe does not answer: skipped with the reason after the gate. */
export const mockOnlyLive = liveBody((ctx, { label }) => ctx.skip(label, 'asserted on the mock only'));
