/** Requests of the rate family: source addresses, valid (or deliberately invalid) credentials, 429s returned. */
import { randomInt } from 'node:crypto';
import { bearer, headerValue, type HeaderValue, type HttpRequest, type HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { mockControl } from '../support/send.js';
import type { ModelRequest, RateLimitModel } from './model.js';

/** Source address i of a rate scenario (127.50.x.y), or undefined when the target is not a loopback mock. */
export type Addresses = ((i: number) => string) | undefined;

export function addresses(ctx: CheckContext): Addresses {
  if (ctx.sourceAddress() === undefined) return undefined;
  return (i) => `127.50.${Math.floor(i / 250) % 250}.${(i % 250) + 2}`;
}

export const NO_ADDRESSES = 'distinct source addresses need the mock on 127.0.0.1 (loopback aliases 127.50.x.y)';

export interface Send {
  ip?: string | undefined;
  env?: 'main' | 'other';
  credential?: 'valid' | 'invalid';
  headers?: [string, HeaderValue][];
  body?: unknown;
}

/** A request for `op` with valid credentials (or a deliberately invalid one), returning 429s to the caller. */
export function rateRequest(ctx: CheckContext, op: Operation, s: Send = {}): HttpRequest | { skip: string } {
  const c = ctx.credentials;
  const other = s.env === 'other';
  if (other && !op.path.includes('{environmentId}')) return { skip: `${op.key} has no {environmentId}` };
  if (other && !c.otherEnvironmentId)
    return { skip: `no second environment: ${c.missing.otherEnvironmentId ?? 'not available'}` };
  let authorization: HeaderValue | undefined;
  if (s.credential === 'invalid') authorization = 'Bearer rate-limit-check-invalid-credential';
  else if (op.auth === 'api-token') {
    const token = other ? c.otherEnvironmentToken : c.apiToken;
    if (!token)
      return { skip: `no API token of the other environment: ${c.missing.otherEnvironmentToken ?? 'not available'}` };
    authorization = bearer(token);
  } else if (op.auth === 'user-jwt') {
    const jwt = other ? c.otherEnvironmentJwt : c.userJwt;
    if (!jwt)
      return { skip: `no user JWT: ${(other ? c.missing.otherEnvironmentJwt : c.missing.userJwt) ?? 'not available'}` };
    authorization = bearer(jwt);
  }
  // On live the only rate requests are the budgeted probe's (DYNAMIC_RATE_LIMIT_BUDGET): the pacer lets them through.
  const options: RequestOptions = {
    authorization,
    headers: s.headers,
    localAddress: s.ip,
    on429: 'return',
    rateProbe: ctx.config.target === 'live',
  };
  if (s.body !== undefined) options.body = s.body;
  if (other && c.otherEnvironmentId) options.pathParams = { environmentId: c.otherEnvironmentId };
  return ctx.requests.build(op, options);
}

export function isRequest(r: HttpRequest | { skip: string }): r is HttpRequest {
  return !('skip' in r);
}

/** A request that must be buildable (valid credentials for the main environment always exist). */
export function mustRequest(ctx: CheckContext, op: Operation, s: Send = {}): HttpRequest {
  const r = rateRequest(ctx, op, s);
  if (!isRequest(r)) throw new Error(`cannot build a request for ${op.key}: ${r.skip}`);
  return r;
}

export const limited = (res: HttpResponse): boolean => res.status === 429;
export const admitted = (res: HttpResponse): boolean => res.status !== 429 && res.status !== 0;

export function statusOf(res: HttpResponse | undefined): string {
  if (!res) return 'nothing';
  return res.status === 0 ? `no response (${res.exchange.error ?? 'transport error'})` : String(res.status);
}

export function histogram(responses: readonly HttpResponse[]): string {
  const counts = new Map<number, number>();
  for (const r of responses) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${n}×${s}`)
    .join(', ');
}

export function modelRequest(
  ctx: CheckContext,
  op: Operation,
  ip: string,
  env: 'main' | 'other' = 'main',
): ModelRequest {
  const environment = op.path.includes('{environmentId}')
    ? env === 'other'
      ? ctx.credentials.otherEnvironmentId
      : ctx.credentials.environmentId
    : undefined;
  return { policies: op.policies, ip, environment };
}

/** The mock clock and the model clock, moved together. */
export async function advance(ctx: CheckContext, model: RateLimitModel, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  await mockControl(ctx).advanceClock(seconds);
  model.advance(seconds);
}
export function spoofedAddress(): string {
  return `198.51.100.${randomInt(1, 255)}`;
}
export function retryAfterHeader(res: HttpResponse): string | undefined {
  return headerValue(res.headers['retry-after']);
}
