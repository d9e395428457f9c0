/**
 * RATE-001 … RATE-006: the threshold and the 429 contract, per policy. On the mock each judges the shared probe of
 * every enforced policy (./probe.ts); on live the budgeted probe of the nonce endpoint (./live.ts).
 */
import type { Check } from '../../engine/types.js';
import { judgeThreshold, parseRetryAfter } from './budget.js';
import { cacheProblem, res429NotJson, retryAfterProblem } from './contract.js';
import { liveBody, mockOnlyLive, recover } from './live.js';
import { judgeProbes, without429 } from './probe.js';
import { admitted, histogram, limited, retryAfterHeader, statusOf } from './requests.js';

/**
 * RATE-001 (docs overview/rate-limits and platform/rate-limits): from a cold key exactly N requests pass and request
 * N+1 gets 429.
 */
export const exactThreshold: Check = {
  rule: 'RATE-001',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: liveBody((ctx, { label, r }) => {
    const j = judgeThreshold(r);
    if (j.status === 'pass') ctx.pass(label, r.limited);
    else if (j.status === 'fail') ctx.fail(label, j.reason, r.burst.at(-1));
    else ctx.inconclusive(label, j.reason, r.limited ?? r.burst.at(-1));
  }),
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      const { target, n, fill } = probe;
      const passed = fill.filter(admitted).length;
      ctx.log(
        `${target.label} via ${target.op.key}: first ${n} answered ` +
          `${histogram(fill)}; request ${n + 1} answered ` +
          `${statusOf(probe.over[0])}`,
      );
      if (passed !== n) {
        const refused = fill.filter((r) => !admitted(r));
        ctx.fail(
          target.label,
          `only ${passed} of the first ${n} requests from a cold key were admitted (` +
            `${histogram(fill)}); the documented limit is ${n} per ` +
            `${target.binding.seconds}s`,
          refused.slice(0, 3),
        );
        return;
      }
      const over = probe.over[0];
      if (over && limited(over)) ctx.pass(target.label, over);
      else {
        const at = probe.first429
          ? `the first 429 came at request ${n + probe.over.length}`
          : `no 429 up to request ${n + probe.over.length}`;
        const reason =
          `request ${n + 1} was answered ${statusOf(over)} instead of 429 (` +
          `${at}); the documented limit is ${n} per ${target.binding.seconds}` +
          `s`;
        ctx.fail(target.label, { reason, expected: `429 at request ${n + 1}`, received: statusOf(over) }, probe.over);
      }
    }),
};

/**
 * RATE-002 (platform/rate-limits {error}; overview/rate-limits {message, code}): every 429 body matches the active
 * profile.
 */
export const tooManyRequestsBody: Check = {
  rule: 'RATE-002',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: liveBody((ctx, { label, r, no429 }) => {
    if (!r.limited) return no429();
    const v = ctx.schemas.validate(ctx.spec.profile.tooManyRequests.schema, r.limited.json);
    if (v.valid) return ctx.pass(label, r.limited);
    const accepts = ctx.spec.profile.tooManyRequests.liveAccepts ?? '';
    const why = v.errors.join('; ') || 'not JSON';
    const reading = ctx.spec.profile.tooManyRequests.reading;
    // docs-2026 reads the body as "usually {error}, not guaranteed" (reading.live = report): a deviation is shown,
    // and RATE-002 is report-only on live (specs/rules/rate.json), never a failure of the run.
    const note =
      reading && !reading.guaranteed
        ? `; ${ctx.spec.profile.id} reads this body as usual, not guaranteed (` +
          `${reading.source}): ` +
          (reading.live === 'report' ? 'report-only' : 'enforced') +
          ` on live`
        : '';
    ctx.fail(label, `the 429 body does not match ${ctx.spec.profile.id} (${why}); ${accepts}${note}`, r.limited);
  }),
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe)) return;
      const schema = ctx.spec.profile.tooManyRequests.schema;
      const bad = probe.all429
        .map((res) => ({ res, v: ctx.schemas.validate(schema, res.json) }))
        .filter((x) => res429NotJson(x.res) || !x.v.valid);
      if (bad.length === 0) return ctx.pass(probe.target.label, probe.first429);
      const first = bad[0]!;
      ctx.fail(
        probe.target.label,
        `${bad.length} of ${probe.all429.length} 429 bodies do not match ` +
          `${schema.split('/').pop() ?? schema} (${ctx.spec.profile.id}): ` +
          (res429NotJson(first.res) ? 'not JSON' : first.v.errors.join('; ')) +
          `; body ${first.res.text.slice(0, 120)}`,
        bad.map((x) => x.res).slice(0, 3),
      );
    }),
};

/**
 * RATE-003 (platform/rate-limits; RFC 9110 10.2.3): a 429 carries Retry-After as delay-seconds or HTTP-date, within the
 * window.
 */
export const retryAfterWellFormed: Check = {
  rule: 'RATE-003',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: liveBody((ctx, { label, r, plan, no429 }) => {
    if (!r.limited) return no429();
    const problem = retryAfterProblem(ctx, r.limited, plan.windowSeconds);
    if (problem) ctx.fail(label, problem, r.limited);
    else ctx.pass(label, r.limited);
  }),
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe)) return;
      const problems = probe.all429
        .map((res) => ({ res, problem: retryAfterProblem(ctx, res, probe.refusingSeconds) }))
        .filter((x) => x.problem !== undefined);
      if (problems.length === 0) {
        const raw = retryAfterHeader(probe.first429!);
        if (raw === undefined)
          ctx.log(`${probe.target.label}: no Retry-After (not required by ${ctx.spec.profile.id})`);
        return ctx.pass(probe.target.label, probe.first429);
      }
      ctx.fail(
        probe.target.label,
        `${problems.length} of ${probe.all429.length} 429s: ${problems[0]!.problem!}`,
        problems.map((x) => x.res).slice(0, 3),
      );
    }),
};

/**
 * RATE-004 (RFC 9110 10.2.3): one second before Retry-After elapses the request is still refused; when it has elapsed,
 * it passes.
 */
export const retryAfterAccurate: Check = {
  rule: 'RATE-004',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: liveBody(async (ctx, { label, r, plan, state, no429 }) => {
    if (!r.limited) return no429();
    await recover(ctx, state);
    const stopped = r.stopped.length ? ` (${r.stopped.join('; ')})` : '';
    if (!r.recovery) return ctx.inconclusive(label, `no recovery request was sent${stopped}`, r.limited);
    if (r.retryAfter === undefined) {
      const waited = `the window (${plan.windowSeconds} s + ${plan.retryMarginSeconds} s) was waited instead`;
      const reason =
        `no usable Retry-After on the 429 (see RATE-003): ` +
        `${waited} and the request was answered ` +
        `${statusOf(r.recovery)}`;
      return ctx.inconclusive(label, reason, r.recovery);
    }
    if (admitted(r.recovery)) return ctx.pass(label, r.recovery);
    const waited =
      `after waiting ${Math.round(r.waitedBeforeRecovery ?? 0)} s ` +
      `(Retry-After ${r.retryAfter ?? 'absent'} + ` +
      `${plan.retryMarginSeconds} s)`;
    ctx.fail(label, `${waited} the request was still answered ${statusOf(r.recovery)}`, [r.limited, r.recovery]);
  }),
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe, true)) return;
      const raw = retryAfterHeader(probe.first429!);
      const ra = parseRetryAfter(raw)?.seconds;
      if (ra === undefined)
        return ctx.inconclusive(
          probe.target.label,
          `no usable Retry-After on the 429 (${raw === undefined ? 'absent' : `'${raw.slice(0, 40)}'`}); see RATE-003`,
          probe.first429,
        );
      if (ra > 10 * probe.refusingSeconds)
        return ctx.fail(
          probe.target.label,
          `Retry-After ${ra} s is far beyond the ${probe.refusingSeconds} s window; not followed`,
          probe.first429,
        );
      const before = probe.timeline.find((s) => s.at === probe.offset + ra - 1);
      const after = probe.timeline.find((s) => s.at === probe.offset + ra);
      const expected =
        probe.expectedRetryAfter === undefined ? '' : ` (the window ends in ${probe.expectedRetryAfter} s)`;
      if (before && !limited(before.res))
        return ctx.fail(
          probe.target.label,
          `Retry-After was ${ra} s${expected}, but after ${ra - 1} ` +
            `s the request was already answered ` +
            `${statusOf(before.res)}`,
          [probe.first429!, before.res],
        );
      if (!after || !admitted(after.res))
        return ctx.fail(
          probe.target.label,
          `Retry-After was ${ra} s${expected}, but after waiting ` +
            `${ra} s the request was still answered ` +
            `${statusOf(after?.res)}`,
          after ? [probe.first429!, after.res] : probe.first429,
        );
      ctx.pass(probe.target.label, after.res);
    }),
};

/** RATE-005 (RFC 6585 4): a 429 is not cacheable — Cache-Control: no-store on every 429. */
export const tooManyRequestsNotCacheable: Check = {
  rule: 'RATE-005',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: liveBody((ctx, { label, r, no429 }) => {
    if (!r.limited) return no429();
    const problem = cacheProblem(ctx, r.limited);
    if (problem) ctx.fail(label, problem, r.limited);
    else ctx.pass(label, r.limited);
  }),
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe)) return;
      const bad = probe.all429.filter((res) => cacheProblem(ctx, res) !== undefined);
      if (bad.length === 0) return ctx.pass(probe.target.label, probe.first429);
      ctx.fail(
        probe.target.label,
        `${bad.length} of ${probe.all429.length} 429s: ${cacheProblem(ctx, bad[0]!)!}`,
        bad.slice(0, 3),
      );
    }),
};

/**
 * RATE-006 (docs rate-limit pages: per minute / per 10 s): the window has the documented length — capacity returns at
 * its edge, not a second before.
 */
export const windowLength: Check = {
  rule: 'RATE-006',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: mockOnlyLive,
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe, true)) return;
      const before = probe.timeline.find((s) => s.at === probe.edge - 1);
      const at = probe.timeline.find((s) => s.at === probe.edge);
      const w = `the window started at the first request (t=0) and is documented as ${probe.refusingSeconds} s`;
      if (before && !limited(before.res))
        return ctx.fail(
          probe.target.label,
          `${w}, but at t=${probe.edge - 1} s the request was ` +
            `answered ${statusOf(before.res)} (capacity returned ` +
            `early)`,
          before.res,
        );
      if (!at || !admitted(at.res))
        return ctx.fail(
          probe.target.label,
          `${w}, but at t=${probe.edge} s the request was still ` +
            `answered ${statusOf(at?.res)} (the window is longer than ` +
            `documented)`,
          at?.res,
        );
      ctx.pass(probe.target.label, at.res);
    }),
};
