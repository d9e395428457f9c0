/** Judges of the 429 contract, shared by the mock and the live bodies (RATE-002, 003, 005, 014). */
import { headerValue, type HttpResponse } from '../../http/client.js';
import type { CheckContext } from '../../engine/types.js';
import { parseRetryAfter } from './budget.js';
import type { ModelVerdict } from './model.js';
import { limited, retryAfterHeader } from './requests.js';

export function res429NotJson(res: HttpResponse): boolean {
  return res.json === undefined;
}

/** Why a Retry-After value is not acceptable (undefined when it is), bounded by the refusing window. */
export function retryAfterProblem(ctx: CheckContext, res: HttpResponse, windowSeconds: number): string | undefined {
  const raw = retryAfterHeader(res);
  if (raw === undefined)
    return ctx.spec.profile.retryAfter.required
      ? `no Retry-After header (${ctx.spec.profile.id} documents one: ${ctx.spec.profile.retryAfter.source})`
      : undefined;
  const parsed = parseRetryAfter(raw, headerValue(res.headers.date));
  if (!parsed) return `Retry-After '${raw.slice(0, 40)}' is neither delay-seconds (1*DIGIT) nor an HTTP-date`;
  if (parsed.seconds > windowSeconds)
    return `Retry-After ${raw} (${parsed.seconds} s) exceeds the refusing window of ${windowSeconds} s`;
  if (ctx.config.target === 'mock' && parsed.seconds < 1)
    return `Retry-After ${raw} is below the mock contract's minimum of 1 s`;
  return undefined;
}
/**
 * Mock: Cache-Control must contain no-store. Live: the 429 must not be made storable (public, max-age/s-maxage > 0).
 */
export function cacheProblem(ctx: CheckContext, res: HttpResponse): string | undefined {
  const raw = res.headers['cache-control'];
  const value = (Array.isArray(raw) ? raw.join(', ') : (raw ?? '')).toLowerCase();
  const directives = value.split(',').map((d) => d.trim());
  if (ctx.config.target === 'mock')
    return directives.includes('no-store') ? undefined : `Cache-Control is '${value || '(absent)'}', not no-store`;
  const storable = directives.some((d) => d === 'public' || /^(s-)?max-age=([1-9]\d*)$/.test(d));
  return storable ? `Cache-Control '${value}' lets caches store the 429` : undefined;
}
export function disagreement(ctx: CheckContext, expected: ModelVerdict, res: HttpResponse): string | undefined {
  if (res.status === 0) return `no response (${res.exchange.error ?? 'transport error'})`;
  if (!expected.limited)
    return limited(res)
      ? `the model admits it (all windows have room) but the mock ` +
          `answered 429 with Retry-After ` +
          `${retryAfterHeader(res) ?? 'absent'}`
      : undefined;
  if (!limited(res))
    return (
      `the model refuses it (` +
      expected.refusedBy.map((w) => `${w.policy} ${w.window.limit}/${w.window.seconds}s`).join(', ') +
      `; Retry-After ${expected.retryAfter}) but the mock answered ${res.status}`
    );
  const raw = retryAfterHeader(res);
  if (raw === undefined)
    return ctx.spec.profile.retryAfter.required ? `429 without Retry-After (model: ${expected.retryAfter})` : undefined;
  const ra = parseRetryAfter(raw)?.seconds;
  return ra === expected.retryAfter
    ? undefined
    : `429 with Retry-After ${raw}, the model expects ${expected.retryAfter}`;
}
