/** RATE-015: live rate probing is budgeted, sandbox-only, serial and honours Retry-After. */
import type { Check } from '../../engine/types.js';
import { mockControl } from '../support/send.js';
import { burstRefused } from '../../secrets/safety.js';
import { RateBudget, judgeThreshold, probeBurst, probeRecovery, type ProbePlan } from './budget.js';
import { LIVE_POLICY, etiquette, liveBody, probeIo, recover } from './live.js';
import { representative } from './policies.js';
import { addresses, admitted, limited, mustRequest, statusOf } from './requests.js';

/**
 * RATE-015 (conformance-rules RL-15; platform/rate-limits: use Retry-After): live rate probing is budgeted,
 * sandbox-only, serial and honours Retry-After. Live: the probe's own record. Mock: the gate refuses without
 * DYNAMIC_RATE_LIMIT_BUDGET and without a verified sandbox (sending no probe request), and the probe procedure run on
 * the mock stays within its budget, stops at a small one, calls a 429 before N inconclusive, and waits Retry-After.
 */
export const liveEtiquette: Check = {
  rule: 'RATE-015',
  needs: { mockControl: {} },
  live: liveBody(async (ctx, { label, r, plan, state }) => {
    await recover(ctx, state);
    etiquette(ctx, label, r, plan);
  }),
  async run(ctx) {
    const asLive = (
      rateLimitBudget: number | undefined,
      environmentId: string,
    ): Parameters<typeof burstRefused>[0] => ({
      config: { ...ctx.config, target: 'live', rateLimitBudget },
      credentials: { ...ctx.credentials, environmentId },
      client: ctx.client,
    });
    // Gate: no budget → refused before any request.
    const before = ctx.client.requestsSent;
    const noBudget = await burstRefused(asLive(undefined, ctx.credentials.environmentId));
    if (noBudget?.includes('DYNAMIC_RATE_LIMIT_BUDGET') && ctx.client.requestsSent === before)
      ctx.pass('gate: DYNAMIC_RATE_LIMIT_BUDGET not set');
    else
      ctx.fail(
        'gate: DYNAMIC_RATE_LIMIT_BUDGET not set',
        `expected a refusal naming DYNAMIC_RATE_LIMIT_BUDGET and no request; got ` +
          `${noBudget ?? 'no refusal'} after ${ctx.client.requestsSent - before} ` +
          `requests`,
      );
    // Gate: an environment that is not the verified sandbox → refused.
    if (ctx.credentials.otherEnvironmentId) {
      const notSandbox = await burstRefused(asLive(20, ctx.credentials.otherEnvironmentId));
      if (notSandbox) ctx.pass('gate: environment not verified as the sandbox');
      else
        ctx.fail(
          'gate: environment not verified as the sandbox',
          'the burst gate opened for the mock’s live environment',
        );
    } else
      ctx.skip(
        'gate: environment not verified as the sandbox',
        `no second environment: ${ctx.credentials.missing.otherEnvironmentId ?? 'not available'}`,
      );
    const policy = ctx.spec.profile.rateLimits[LIVE_POLICY];
    const op = representative(ctx, LIVE_POLICY);
    if (!policy?.windows?.length || !op)
      return ctx.skip('probe procedure', `${ctx.spec.profile.id} documents no numbers for ${LIVE_POLICY}`);
    const w = [...policy.windows].sort((a, b) => a.limit - b.limit)[0]!;
    const ip = addresses(ctx)?.(80);
    const plan = (budget: number, coolDownSeconds: number): ProbePlan => ({
      policy: LIVE_POLICY,
      limit: w.limit,
      windowSeconds: w.seconds,
      budget: new RateBudget(budget),
      coolDownSeconds,
      maxWaitSeconds: 10 * w.seconds,
      retryMarginSeconds: 0,
    });
    const label = `probe procedure on ${op.key}`;
    // The whole procedure with budget 2N+2: pass on the clean mock, within budget, serial, Retry-After honoured.
    await mockControl(ctx).reset();
    const full = plan(2 * w.limit + 2, w.seconds);
    const io = probeIo(ctx, op, ip);
    const r = await probeRecovery(io, full, await probeBurst(io, full));
    const j = judgeThreshold(r);
    if (j.status === 'pass' && r.spoofed && limited(r.spoofed) && r.recovery && admitted(r.recovery))
      ctx.pass(`${label}: threshold, spoofed header and recovery`, r.recovery);
    else
      ctx.fail(
        `${label}: threshold, spoofed header and recovery`,
        `${j.status}: ${j.reason}; spoofed ${statusOf(r.spoofed)}; recovery ` +
          `${statusOf(r.recovery)}` +
          (r.stopped.length ? `; ${r.stopped.join('; ')}` : ''),
        r.burst.at(-1),
      );
    etiquette(ctx, label, r, full);
    // A budget smaller than N+1 stops the probe exactly there, undecided.
    await mockControl(ctx).reset();
    const small = plan(Math.max(1, Math.floor(w.limit / 2)), 0);
    const s = await probeBurst(probeIo(ctx, op, ip), small);
    const sj = judgeThreshold(s);
    if (s.sent === small.budget.limit && sj.status === 'inconclusive' && s.stopped.some((x) => x.includes('budget')))
      ctx.pass(`${label}: stops at a budget of ${small.budget.limit}`);
    else
      ctx.fail(
        `${label}: stops at a budget of ${small.budget.limit}`,
        `sent ${s.sent}, judged ${sj.status} (${sj.reason})`,
      );
    // A key already warm (a shared egress address) gives a 429 before N: inconclusive, never pass or fail.
    await mockControl(ctx).reset();
    const warm = Math.max(1, Math.floor(w.limit / 2));
    for (let i = 0; i < warm; i++) await ctx.client.send(mustRequest(ctx, op, { ip }));
    const shared = await probeBurst(probeIo(ctx, op, ip), plan(2 * w.limit + 2, 0));
    const wj = judgeThreshold(shared);
    if (wj.status === 'inconclusive' && shared.firstLimitedAt !== undefined && shared.firstLimitedAt <= w.limit)
      ctx.pass(`${label}: a 429 before N is inconclusive`, shared.limited);
    else
      ctx.fail(
        `${label}: a 429 before N is inconclusive`,
        `with ${warm} requests already counted the first 429 came ` +
          `at ${shared.firstLimitedAt ?? 'never'}, judged ` +
          `${wj.status}`,
        shared.limited,
      );
  },
};
