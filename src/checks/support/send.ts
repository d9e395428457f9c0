/**
 * Sending requests for checks: one request per operation from a rotating loopback address on the mock, and the
 * concurrency of per-operation sweeps.
 */
import type { HeaderValue, HttpRequest, HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { MockControl } from '../../engine/credentials.js';
import type { CheckContext } from '../../engine/types.js';

/** Concurrency of per-operation sweeps (the mock handles far more; live runs are sequential). */
export function concurrency(ctx: CheckContext): number {
  return ctx.config.target === 'mock' ? 16 : 1;
}

/** Sends a request built for `op` with the given changes, from a rotating loopback address on the mock. */
export function sendFor(ctx: CheckContext, op: Operation, options: RequestOptions = {}): Promise<HttpResponse> {
  return ctx.client.send(ctx.requests.build(op, { localAddress: ctx.sourceAddress(), ...options }));
}

/** Sends a prepared request from a rotating loopback address. */
export function sendRequest(ctx: CheckContext, request: HttpRequest): Promise<HttpResponse> {
  return ctx.client.send({ localAddress: ctx.sourceAddress(), ...request });
}

/** Sends a JSON text (or bytes) as the body of the operation with the given content type (null: no Content-Type). */
export function sendRawBody(
  ctx: CheckContext,
  op: Operation,
  auth: Pick<RequestOptions, 'authorization'>,
  body: string | Buffer,
  contentType: string | null = 'application/json',
): Promise<HttpResponse> {
  return sendFor(ctx, op, {
    ...auth,
    rawBody: body,
    headers: contentType === null ? [] : [['content-type', contentType]],
  });
}

/** True when the operation's request body is JSON. */
export function isJsonOp(op: Operation): boolean {
  return op.requestBody?.contentType === 'application/json';
}

/** The mock's control API of a check that declares `needs.mockControl` (the runner skipped it when there is none). */
export function mockControl(ctx: CheckContext): MockControl {
  if (!ctx.mock) throw new Error(`${ctx.rule.id} uses the mock control API without declaring needs.mockControl`);
  return ctx.mock;
}

/** ERR-006, ERR-007: sends `method path` with Accept: application/json and the given Authorization, nothing else. */
export function sendWithToken(
  ctx: CheckContext,
  method: string,
  path: string,
  authorization: HeaderValue,
): Promise<HttpResponse> {
  return sendRequest(ctx, {
    method,
    path,
    headers: [
      ['accept', 'application/json'],
      ['authorization', authorization],
    ],
  });
}
