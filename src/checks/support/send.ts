/**
 * Small building blocks the checks share: sending one request per operation concurrently and judging the status
 * and the documented error body of each answer.
 */
import type { HttpRequest, HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import { mapLimit } from '../../engine/runner.js';
import type { CheckContext } from '../../engine/types.js';

/** Concurrency of per-operation sweeps (the mock handles far more; live runs are sequential). */
export function concurrency(ctx: CheckContext): number {
  return ctx.config.target === 'mock' ? 16 : 1;
}

/** The documented error schema of a status under the active profile (401/403/404/400, 429 per profile). */
export function errorSchemaFor(ctx: CheckContext, status: number): string | undefined {
  if (status === 429) return ctx.spec.profile.tooManyRequests.schema;
  return ctx.spec.profile.errors[String(status)]?.schema;
}

/** Sends a request built for `op` with the given changes, from a rotating loopback address on the mock. */
export function sendFor(ctx: CheckContext, op: Operation, options: RequestOptions = {}): Promise<HttpResponse> {
  return ctx.client.send(ctx.requests.build(op, { localAddress: ctx.sourceAddress(), ...options }));
}

/** Sends a prepared request from a rotating loopback address. */
export function sendRequest(ctx: CheckContext, request: HttpRequest): Promise<HttpResponse> {
  return ctx.client.send({ localAddress: ctx.sourceAddress(), ...request });
}

/**
 * Sends one request per operation and expects `expected` statuses with the documented error body;
 * records pass/fail per operation.
 */
export async function expectStatusForEach(
  ctx: CheckContext,
  operations: Operation[],
  expected: number[],
  build: (op: Operation) => RequestOptions | undefined,
  what: string,
): Promise<void> {
  await mapLimit(operations, concurrency(ctx), async (op) => {
    const options = build(op);
    if (!options) return;
    const res = await sendFor(ctx, op, options);
    judgeStatus(ctx, op.key, res, expected, what);
  });
}

/** Records pass when the status is expected and, for error statuses, the body matches the documented schema. */
export function judgeStatus(ctx: CheckContext, subject: string, res: HttpResponse, expected: number[], what: string): boolean {
  if (!expected.includes(res.status)) {
    ctx.fail(subject, `${what}: expected ${expected.join(' or ')}, got ${res.status || `no response (${res.exchange.error ?? 'transport error'})`}`, res);
    return false;
  }
  const schema = res.status >= 400 ? errorSchemaFor(ctx, res.status) : undefined;
  if (schema) {
    const v = ctx.schemas.validate(schema, res.json);
    if (!v.valid) {
      ctx.fail(subject, `${what}: status ${res.status} is right but the body does not match ${schema.split('/').pop()}: ${v.errors.join('; ')}`, res);
      return false;
    }
  }
  ctx.pass(subject, res);
  return true;
}
