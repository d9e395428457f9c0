/**
 * RATE-007 … RATE-013: multi-window policies, the independence of buckets (address, environment, endpoint), the
 * client address (X-Forwarded-For), what counts (rejected attempts) and counting under concurrency. Mock only, except
 * the live bodies of RATE-008, 009 and 011 (./live.ts).
 */
import type { HttpResponse } from '../../http/client.js';
import type { Operation, RateWindow } from '../../engine/spec.js';
import type { Check, CheckContext } from '../../engine/types.js';
import { mockControl } from '../support/send.js';
import { mapLimit } from '../../engine/runner.js';
import { parseRetryAfter } from './budget.js';
import { liveBody, mockOnlyLive } from './live.js';
import { RateLimitModel } from './model.js';
import {
  FILL_CONCURRENCY,
  endpointPolicies,
  enforcedTargets,
  modelPolicies,
  perAddressQuota,
  policyTargets,
  rulePolicies,
  type Target,
} from './policies.js';
import { judgeProbes, policyProbes, without429 } from './probe.js';
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
  retryAfterHeader,
  spoofedAddress,
  statusOf,
  type Send,
} from './requests.js';

/**
 * RATE-007 (platform/rate-limits: 60 per 10 s, 250 per minute, 500 per 5 minutes, whichever is hit first): each
 * window of a multi-window policy binds at its own count. To reach a longer window's limit the check spreads requests
 * over the shorter windows, keeping each one below its own limit, so the 429 can only come from the window under test.
 */
export const multiWindow: Check = {
  rule: 'RATE-007',
  needs: {
    target: {
      only: 'mock',
      why:
        'multi-window counts (500+ requests) are asserted on the ' +
        'mock only (RL-15: never burst the /sdk per-IP limit live)',
    },
    mockControl: {},
  },
  async run(ctx) {
    const targets = enforcedTargets(ctx).filter((t) => t.windows.length > 1);
    if (targets.length === 0)
      return ctx.skip(
        '(rule)',
        `${ctx.spec.profile.id} documents a single window for ` +
          `${rulePolicies(ctx).join(', ')}; no multi-window policy to ` +
          `check`,
      );
    const ip = addresses(ctx)?.(5) ?? undefined;
    for (const t of targets) {
      if (!t.ipKeyed) {
        ctx.skip(t.label, 'multi-window check implemented for ip-keyed policies only');
        continue;
      }
      const order = t.windows.map((w, i) => ({ w, i })).sort((a, b) => a.w.seconds - b.w.seconds);
      for (const { w, i } of order)
        await bindWindow(
          ctx,
          t,
          i,
          w,
          order.filter((o) => o.w.seconds < w.seconds).map((o) => o.i),
          ip,
        );
    }
  },
};

async function bindWindow(
  ctx: CheckContext,
  t: Target,
  index: number,
  w: RateWindow,
  shorter: number[],
  ip: string | undefined,
): Promise<void> {
  const subject = `${t.label}: window ${w.limit}/${w.seconds}s`;
  const model = new RateLimitModel(modelPolicies(ctx));
  const address = ip ?? '127.0.0.1';
  await mockControl(ctx).reset();
  const mr = modelRequest(ctx, t.op, address);
  let sent = 0;
  const counts = (): number[] => t.windows.map((_, k) => model.count(t.id, { ip: address }, k));
  // Fill window `index` up to its limit; shorter windows stay one below theirs (moving the clock to their edge).
  for (let guard = 0; sent < w.limit && guard < 10_000; guard++) {
    const roomTarget = w.limit - (counts()[index] ?? 0);
    const roomShorter = Math.min(
      Number.POSITIVE_INFINITY,
      ...shorter.map((k) => t.windows[k]!.limit - 1 - (counts()[k] ?? 0)),
    );
    const batch = Math.min(roomTarget, roomShorter, model.room(mr));
    if (batch <= 0) {
      const ends = model.windowEnds();
      if (ends.length === 0) throw new Error(`RATE-007 schedule stuck for ${subject}`);
      await advance(ctx, model, ends[0]! - model.now);
      continue;
    }
    const responses = await mapLimit(
      Array.from({ length: batch }, (_, k) => k),
      FILL_CONCURRENCY,
      () => ctx.client.send(mustRequest(ctx, t.op, { ip })),
    );
    for (let k = 0; k < batch; k++) model.send(mr);
    sent += batch;
    const refused = responses.filter((r) => !admitted(r));
    if (refused.length) {
      ctx.fail(
        subject,
        `while filling the ${w.seconds}s window (${sent} requests so far, at t=${model.now}` +
          ` s, window counts ${counts().join('/')} of ` +
          t.windows.map((x) => x.limit).join('/') +
          `), ${refused.length} were answered ${histogram(refused)}: a window bound too early`,
        refused.slice(0, 3),
      );
      return;
    }
  }
  const verdict = model.predict(mr);
  const res = await ctx.client.send(mustRequest(ctx, t.op, { ip }));
  const detail =
    `after ${w.limit} requests in the ${w.seconds}s window (t=${model.now} s; shorter ` +
    `windows at ${shorter.map((k) => `${counts()[k]}/${t.windows[k]!.limit}`).join(', ') || 'none'}` +
    `)`;
  if (!limited(res))
    return ctx.fail(subject, `${detail} request ${w.limit + 1} was answered ${statusOf(res)} instead of 429`, res);
  const ra = parseRetryAfter(retryAfterHeader(res))?.seconds;
  if (verdict.limited)
    ctx.log(
      `${subject}: 429 at t=${model.now} s with Retry-After ${ra ?? 'absent'} (window ends in ${verdict.retryAfter} s)`,
    );
  ctx.pass(subject, res);
}

/**
 * RATE-008 (docs: limited by IP address): exhausting a per-IP policy from one address does not limit another address.
 */
export const perAddressBuckets: Check = {
  rule: 'RATE-008',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: mockOnlyLive,
  run: (ctx) =>
    judgeProbes(
      ctx,
      (probe) => {
        if (!addresses(ctx)) return ctx.skip(probe.target.label, NO_ADDRESSES);
        if (without429(ctx, probe, true)) return;
        const other = probe.otherAddress;
        if (other && admitted(other)) return ctx.pass(probe.target.label, other);
        ctx.fail(
          probe.target.label,
          `with 127.50.0.2 exhausted, a first request from 127.50.0.3 was ` +
            `answered ${statusOf(other)}: the address is not part of the bucket ` +
            `key`,
          other,
        );
      },
      (t) => t.ipKeyed,
    ),
};

/**
 * RATE-009 (platform/rate-limits: per project environment): exhausting an environment's limit does not limit another
 * environment.
 */
export const perEnvironmentBuckets: Check = {
  rule: 'RATE-009',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: mockOnlyLive,
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe, true)) return;
      const other = probe.otherEnvironment;
      if (other === undefined || typeof other === 'string')
        return ctx.skip(probe.target.label, other ?? 'no request to another environment');
      if (admitted(other)) return ctx.pass(probe.target.label, other);
      ctx.fail(
        probe.target.label,
        `with the sandbox environment exhausted (${probe.n} requests), a ` +
          `first request for the other environment was answered ` +
          `${statusOf(other)}`,
        other,
      );
    }),
};

/**
 * RATE-010 (overview/rate-limits endpoint table; platform/rate-limits: all /sdk endpoints share the SDK limit):
 * per-endpoint limits are independent of each other (exhaust A from an address, then B from it passes), and requests
 * to a per-endpoint policy still count toward the global per-IP limit of their surface. Both from the shared probes.
 */
export const perEndpointBuckets: Check = {
  rule: 'RATE-010',
  needs: { target: { only: 'mock', why: 'asserted on the mock only' }, mockControl: {}, sourceAddresses: true },
  async run(ctx) {
    const split = endpointPolicies(ctx, policyTargets(ctx).targets);
    const endpoint = split.endpoint.map((t) => t.id);
    const global = split.global.map((t) => t.id);
    if (endpoint.length === 0) return ctx.skip('(rule)', `${ctx.spec.profile.id} documents no per-endpoint policy`);
    // Independence: with A exhausted from an address, a first request to every other endpoint policy B from it passes.
    const probes = await policyProbes(ctx);
    for (const probe of probes) {
      const a = probe.target;
      if (!endpoint.includes(a.id)) continue;
      for (const b of split.endpoint) {
        if (b.id === a.id) continue;
        const subject = `${a.id} exhausted → ${b.id} (${b.op.key})`;
        if (probe.skipped) {
          ctx.skip(subject, probe.skipped);
          continue;
        }
        const seen = probe.neighbours.find((x) => x.target.id === b.id);
        if (!probe.first429 || !seen || probe.fill.some((r) => !admitted(r))) {
          ctx.inconclusive(
            subject,
            `${a.id} was not exhausted as documented (first ${probe.n}: ` +
              `${histogram(probe.fill)}; then ${histogram(probe.over)}); see ` +
              `RATE-001`,
            probe.over.at(-1),
          );
          continue;
        }
        if (admitted(seen.res)) ctx.pass(subject, seen.res);
        else
          ctx.fail(
            subject,
            `after ${a.id} was exhausted from 127.50.0.2 (${probe.n} ` +
              `requests, then 429), a first ${b.id} request from the same ` +
              `address was answered ${statusOf(seen.res)}: the endpoint ` +
              `policies share a bucket`,
            [probe.first429, seen.res],
          );
      }
    }
    // Addition: requests to a per-endpoint policy count toward the global per-IP policy of their surface (the
    // global policy's probe started its fill with them).
    for (const probe of probes) {
      const lead = probe.lead;
      if (!lead || !global.includes(probe.target.id)) continue;
      const subject = `${lead.target.id} + ${probe.target.op.key} add up to ${probe.target.id}`;
      if (probe.skipped) {
        ctx.skip(subject, probe.skipped);
        continue;
      }
      const n = probe.n;
      const firstAt = probe.first429 ? n + probe.over.length : undefined;
      const how =
        `${lead.count} ${lead.target.op.key} + ${n - lead.count} ` +
        `${probe.target.op.key} requests from one address (= ${n}, the ` +
        `${probe.target.binding.limit}/${probe.target.binding.seconds}s limit ` +
        `of ${probe.target.id})`;
      if (probe.fill.some((r) => !admitted(r)))
        ctx.inconclusive(
          subject,
          `${how} were not all admitted (${histogram(probe.fill)}); see RATE-001`,
          probe.fill.find((r) => !admitted(r)),
        );
      else if (firstAt === n + 1) ctx.pass(subject, probe.first429);
      else if (firstAt === n + lead.count + 1)
        ctx.fail(
          subject,
          `${how}, then requests were admitted until request ${firstAt}: the ` +
            `${lead.count} ${lead.target.id} requests did not count toward ` +
            `${probe.target.id}`,
          probe.over.slice(0, 3),
        );
      else
        ctx.inconclusive(
          subject,
          `${how}, then the first 429 came at request ` +
            `${firstAt ?? `> ${n + probe.over.length}`}: the threshold ` +
            `itself is off; see RATE-001`,
          probe.over.at(-1),
        );
    }
  },
};

/** Explicit fill with a fresh spoofed X-Forwarded-For on every request is done for policies up to this limit. */
const XFF_FILL_LIMIT = 100;

/**
 * RATE-011 (OWASP WSTG IP-based bypass): a client-chosen X-Forwarded-For never resets a per-IP limit. Every
 * ip-keyed policy: spoofed requests after the 429 (shared probe); policies up to 100/window: a whole fill where
 * every request carries a fresh random X-Forwarded-For must still end in 429 at N+1.
 */
export const spoofedForwardedFor: Check = {
  rule: 'RATE-011',
  needs: { mockControl: { why: 'exact rate-limit checks need its clock' } },
  live: liveBody((ctx, { label, r, stopped, no429 }) => {
    if (!r.limited) return no429();
    if (!r.spoofed) return ctx.inconclusive(label, `no spoofed request was sent${stopped}`, r.limited);
    if (limited(r.spoofed)) return ctx.pass(label, r.spoofed);
    const reason =
      `right after the 429, a request with a fresh X-Forwarded-For was ` +
      `answered ${statusOf(r.spoofed)}: the header reset the per-IP ` +
      `limit`;
    ctx.fail(label, reason, [r.limited, r.spoofed]);
  }),
  async run(ctx) {
    const fills: Target[] = [];
    await judgeProbes(
      ctx,
      (probe) => {
        if (!without429(ctx, probe, true)) {
          const subject = `${probe.target.label}: after the 429`;
          const through = probe.spoofed.filter((r) => !limited(r));
          if (through.length === 0) ctx.pass(subject, probe.spoofed[0]);
          else
            ctx.fail(
              subject,
              `with the address exhausted, ${through.length} of ${probe.spoofed.length} requests with ` +
                `a fresh X-Forwarded-For were answered ${histogram(through)}: the header reset the limit`,
              through,
            );
        }
        if (probe.target.binding.limit <= XFF_FILL_LIMIT) fills.push(probe.target);
      },
      (t) => t.ipKeyed,
    );
    const mock = ctx.mock!;
    const addr = addresses(ctx);
    for (const t of fills) {
      const subject = `${t.label}: fresh X-Forwarded-For on every request`;
      await mock.reset();
      const ip = addr?.(30);
      const n = t.binding.limit;
      const fill = await mapLimit(
        Array.from({ length: n }, (_, k) => k),
        FILL_CONCURRENCY,
        () => ctx.client.send(mustRequest(ctx, t.op, { ip, headers: [['x-forwarded-for', spoofedAddress()]] })),
      );
      const over = await ctx.client.send(
        mustRequest(ctx, t.op, { ip, headers: [['x-forwarded-for', spoofedAddress()]] }),
      );
      if (fill.some((r) => !admitted(r)))
        ctx.inconclusive(
          subject,
          `the fill was refused early (${histogram(fill)}); see RATE-001`,
          fill.find((r) => !admitted(r)),
        );
      else if (limited(over)) ctx.pass(subject, over);
      else
        ctx.fail(
          subject,
          `${n} requests from one address, each with a different X-Forwarded-For, then request ` +
            `${n + 1} was answered ${statusOf(over)} instead of 429: the limit is keyed by the ` +
            `spoofable header`,
          over,
        );
    }
  },
};

/**
 * RATE-012 (OWASP API2:2023; CWE-307): attempts rejected with 400 (invalid body) or 401 (bad credential) count
 * toward the sign-in and OTP limits: after N rejected attempts, a valid request gets 429.
 */
export const rejectedAttemptsCount: Check = {
  rule: 'RATE-012',
  needs: {
    target: {
      only: 'mock',
      why:
        'live rate probing is limited to the nonce endpoint: sign-in ' +
        'and OTP are never burst live (real messages, real cost; ' +
        'RL-15)',
    },
    mockControl: {},
  },
  async run(ctx) {
    const addr = addresses(ctx);
    let next = 40;
    for (const t of enforcedTargets(ctx)) {
      const variants: { what: string; op: Operation; send: Send; expect: number[] }[] = [];
      if (t.op.requestBody)
        variants.push({ what: 'invalid body → 400', op: t.op, send: { body: {} }, expect: [400, 422] });
      const authOp = ctx.spec.operations.find((o) => o.policies.includes(t.id) && o.auth !== 'none');
      if (authOp)
        variants.push({
          what: `bad credential → 401 (${authOp.key})`,
          op: authOp,
          send: { credential: 'invalid' },
          expect: [401],
        });
      if (variants.length === 0)
        ctx.skip(t.label, 'no way to make a request of this policy fail validation or authentication');
      for (const v of variants) {
        const subject = `${t.label}: ${t.binding.limit} × ${v.what}, then a valid request`;
        const valid = rateRequest(ctx, v.op, {});
        if (!isRequest(valid)) {
          ctx.skip(subject, valid.skip);
          continue;
        }
        await mockControl(ctx).reset();
        const ip = addr?.(next++);
        const rejected: HttpResponse[] = [];
        for (let i = 0; i < t.binding.limit; i++)
          rejected.push(await ctx.client.send(mustRequest(ctx, v.op, { ...v.send, ip })));
        const wrong = rejected.filter((r) => !v.expect.includes(r.status));
        if (wrong.length) {
          ctx.inconclusive(
            subject,
            `the attempts were meant to be rejected with ` +
              `${v.expect.join('/')} but were answered ` +
              `${histogram(rejected)}`,
            wrong[0],
          );
          continue;
        }
        const res = await ctx.client.send({ ...valid, localAddress: ip });
        if (limited(res)) ctx.pass(subject, res);
        else
          ctx.fail(
            subject,
            `${t.binding.limit} attempts answered ${histogram(rejected)}, then a valid request from ` +
              `the same address was answered ${statusOf(res)} instead of 429: rejected attempts do not ` +
              `count`,
            [rejected.at(-1)!, res],
          );
      }
    }
  },
};

/** Largest burst RATE-013 sends; bigger policies' exact counts are RATE-001's (filled once, 48 in flight). */
const BURST_MAX = 105;

/**
 * RATE-013 (RFC 6585 4; Stripe rate limiters): N+5 requests sent at once (Promise.all; one undici pool of 32
 * connections per address) on a cold key admit exactly N. Policies whose burst would exceed 105 requests (bulk users,
 * embedded wallets, admin per IP and the per-environment ones) are skipped with that reason: their exact counts are
 * RATE-001's, concurrent counting is proven on the policies up to 100 (sdk-ip, nonce, connect, signin, otp, invites),
 * and repeating 15,000 requests would break the project's time budget.
 */
export const concurrentBursts: Check = {
  rule: 'RATE-013',
  needs: {
    target: { only: 'mock', why: 'live probing is serial (RL-15); concurrent bursts are asserted on the mock only' },
    mockControl: {},
  },
  async run(ctx) {
    const addr = addresses(ctx);
    for (const t of enforcedTargets(ctx)) {
      const n = t.binding.limit;
      if (n + 5 > BURST_MAX) {
        ctx.skip(
          t.label,
          `a burst of ${n + 5} exceeds ${BURST_MAX} requests; the exact count of this ` +
            `policy is asserted by RATE-001 and concurrent counting by the smaller policies ` +
            `here`,
        );
        continue;
      }
      const quota = t.ipKeyed ? Number.POSITIVE_INFINITY : perAddressQuota(ctx, t.op, t.id);
      if (!t.ipKeyed && !addr) {
        ctx.skip(t.label, NO_ADDRESSES);
        continue;
      }
      await mockControl(ctx).reset();
      const spread = t.ipKeyed ? 1 : Math.ceil((n + 5) / quota);
      const ip = (k: number): string | undefined => (t.ipKeyed ? addr?.(50) : addr!(60 + (k % spread)));
      const requests = Array.from({ length: n + 5 }, (_, k) => mustRequest(ctx, t.op, { ip: ip(k) }));
      const started = performance.now();
      const responses = await Promise.all(requests.map((r) => ctx.client.send(r)));
      const ms = Math.round(performance.now() - started);
      const passed = responses.filter(admitted).length;
      const refused = responses.filter(limited).length;
      ctx.log(`${t.label}: burst of ${n + 5} in ${ms} ms → ${histogram(responses)}`);
      if (passed === n && refused === 5) ctx.pass(t.label, responses.find(limited));
      else
        ctx.fail(
          t.label,
          `a concurrent burst of ${n + 5} on a cold key admitted ${passed} and ` +
            `refused ${refused} (${histogram(responses)}); exactly ${n} should ` +
            `pass`,
          responses.filter((r) => (passed > n ? admitted(r) : !limited(r))).slice(0, 3),
        );
    }
  },
};
