/** Raw requests for checks (TOKEN-009/010, AUTH-015): built for an operation, sent over a fresh connection. */
import { headerValue, type HeaderValue, type HttpResponse } from '../../http/client.js';
import { rawRequestBytes } from '../../http/raw.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';

/** Concurrency of per-operation raw cases (each is a fresh TCP connection from 127.0.0.1). */
export const RAW_CONCURRENCY = 6;

/** The bytes of an HTTP/1.1 request for `op` with the given Authorization lines (UTF-8 encoded, sent verbatim). */
export function rawRequest(
  ctx: CheckContext,
  op: Operation,
  authorization: HeaderValue[],
  options: RequestOptions = {},
): Buffer {
  const req = ctx.requests.build(op, options);
  return rawRequestBytes(req, ctx.client.urlPath(req), new URL(ctx.config.apiUrl).host, authorization);
}

/** Sends raw bytes; on the mock a 429 (all raw requests share 127.0.0.1) advances the mock clock and retries. */
export async function sendRawRequest(ctx: CheckContext, bytes: Buffer, label: string): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt += 1) {
    const res = await ctx.client.sendRaw(bytes, label);
    if (res.status !== 429 || !ctx.mock || attempt >= 6) return res;
    const retryAfter = Number(headerValue(res.headers['retry-after']) ?? '1');
    await ctx.mock.advanceClock(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 1);
  }
}
