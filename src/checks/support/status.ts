/**
 * The one status judge of the checks: is the status one of the expected ones, and does an error answer carry the
 * documented error body? Every family judges statuses through it (AUTH, TOKEN, JWT: the profile's error schema of
 * the status; ERR, SCHEMA: the documented or generic error body with a non-empty message).
 */
import { headerValue, type HttpResponse } from '../../http/client.js';
import { SCHEMA_BASE, type JsonSchema, type Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';

/** The generic `{"error": "<message>"}` schema for statuses the profile does not model (405, 413, 415, 431, 5xx). */
export const ERROR_BODY_SCHEMA = `${SCHEMA_BASE}errors/error-body.schema.json`;

/** A judged answer that is not what the rule expects: the sentence, and what was expected and received. */
export interface Mismatch {
  reason: string;
  expected: string;
  received: string;
}

/** A judgement: undefined = as expected. */
export type Judgement = Mismatch | undefined;

/** A verdict on one answer for property runs: ok, or the mismatch and the response that shows it. */
export type Verdict =
  | { ok: true; res: HttpResponse }
  | { ok: false; res: HttpResponse | undefined; reason: string; expected?: string; received?: string };

/** The status of a response rendered for a message (0 = transport error / closed connection). */
export function statusText(res: HttpResponse | undefined): string {
  if (!res) return 'nothing';
  return res.status ? String(res.status) : `no response (${res.exchange.error ?? 'transport error'})`;
}

/** The documented error schema of a status under the active profile (401/403/404/400, 429 per profile). */
export function errorSchemaFor(ctx: CheckContext, status: number): string | undefined {
  if (status === 429) return ctx.spec.profile.tooManyRequests.schema;
  return ctx.spec.profile.errors[String(status)]?.schema;
}

/**
 * The error body the official document gives this operation for this status (e.g. ForbiddenWithErrorAndPayload
 * on 36 `/sdk` operations, BadRequest for six sign-ins' 429), when it documents one.
 */
export function documentedErrorSchema(op: Operation | undefined, status: number): JsonSchema | undefined {
  const r = op?.responses[String(status)];
  return r?.layer === 'documented' && r.schema && Object.keys(r.schema).length ? r.schema : undefined;
}

/**
 * The schema an error body of `status` must match: the operation's documented one, the profile's model, else the
 * generic error body.
 */
export function errorBodySchema(ctx: CheckContext, status: number, op?: Operation): JsonSchema | string {
  return documentedErrorSchema(op, status) ?? errorSchemaFor(ctx, status) ?? ERROR_BODY_SCHEMA;
}

function schemaName(schema: JsonSchema | string): string {
  if (typeof schema === 'string') return schema.split('/').pop() ?? schema;
  return typeof schema.$ref === 'string'
    ? (schema.$ref.split('/').pop() ?? 'the documented schema')
    : 'the documented schema';
}

/**
 * The human-readable message of an error body: `error` as a string, `error.message` (ForbiddenWithErrorAndPayload)
 * or a top-level `message` (WaasVerifyApiKeyErrorResponse, InviteConflictResponse).
 */
function messageOf(json: unknown): unknown {
  const body = json as { error?: unknown; message?: unknown } | undefined;
  const error = body?.error;
  if (error !== null && typeof error === 'object') return (error as { message?: unknown }).message;
  return error ?? body?.message;
}

/** Why an error body does not match its documented schema (or has no message), undefined when it does. */
export function errorBodyProblem(ctx: CheckContext, res: HttpResponse, op?: Operation): string | undefined {
  const schema = errorBodySchema(ctx, res.status, op);
  if (res.json === undefined) {
    const type = headerValue(res.headers['content-type']) ?? 'none';
    return `the body is not JSON (${res.text.length} bytes, content-type ${type})`;
  }
  const v = ctx.schemas.validate(schema, res.json);
  if (!v.valid) return `the body does not match ${schemaName(schema)}: ${v.errors.join('; ')}`;
  const message = messageOf(res.json);
  if (typeof message !== 'string' || message.trim() === '') {
    return (
      'the body has no error message (error must be a non-empty string, or ' +
      'error.message where the operation documents {error: {code, message}})'
    );
  }
  return undefined;
}

/**
 * How the body of an expected error status is judged: 'profile' = against the profile's schema of that status when it
 * models one; 'error-body' = the documented or generic error body, which must be JSON with a non-empty message.
 */
export type BodyRule = 'profile' | 'error-body';

/**
 * THE status judge: the status must be one of `expected`; an error status must carry the documented body (`body`).
 * Returns undefined when the answer is right, else the mismatch (`what` prefixes the sentence).
 */
export function judgeStatus(
  ctx: CheckContext,
  res: HttpResponse,
  expected: readonly number[],
  options: { body?: BodyRule; what?: string; op?: Operation } = {},
): Judgement {
  const prefix = options.what ? `${options.what}: ` : '';
  const want = expected.join(' or ');
  if (!expected.includes(res.status)) {
    return { reason: `${prefix}expected ${want}, got ${statusText(res)}`, expected: want, received: statusText(res) };
  }
  if (res.status < 400) return undefined;
  const received = `${res.status} with a body that does not match`;
  if ((options.body ?? 'profile') === 'error-body') {
    const problem = errorBodyProblem(ctx, res, options.op);
    if (!problem) return undefined;
    return {
      reason: `${prefix}status ${res.status} is right but ${problem}`,
      expected: `${res.status} + error body`,
      received,
    };
  }
  const schema = documentedErrorSchema(options.op, res.status) ?? errorSchemaFor(ctx, res.status);
  if (!schema) return undefined;
  const v = ctx.schemas.validate(schema, res.json);
  if (v.valid) return undefined;
  const name = schemaName(schema);
  return {
    reason: `${prefix}status ${res.status} is right but the body does not match ${name}: ${v.errors.join('; ')}`,
    expected: `${res.status} + ${name}`,
    received,
  };
}

/** A judge of `statuses` with the profile's error body (AUTH, TOKEN, JWT rejections). */
export function expectRejected(
  ctx: CheckContext,
  statuses: readonly number[] = [401],
  op?: Operation,
): (res: HttpResponse) => Judgement {
  return (res) => judgeStatus(ctx, res, statuses, op ? { op } : {});
}

/** Expects the credential to be accepted: an answer that is neither 401 nor 403 (nor a transport error). */
export function expectAccepted(): (res: HttpResponse) => Judgement {
  return (res) => {
    if (res.status === 0) {
      return {
        reason: `expected the credential to be accepted, got ${statusText(res)}`,
        expected: 'not 401/403',
        received: statusText(res),
      };
    }
    if (res.status === 401 || res.status === 403) {
      const reason = `expected the credential to be accepted (not 401/403), got ${res.status}`;
      return { reason, expected: 'not 401/403', received: String(res.status) };
    }
    return undefined;
  };
}

/** Status and error body of an error answer (ERR, SCHEMA) as a property verdict. */
export function expectError(
  ctx: CheckContext,
  res: HttpResponse,
  expected: readonly number[],
  what: string,
  op?: Operation,
): Verdict {
  const m = judgeStatus(ctx, res, expected, { body: 'error-body', what, ...(op ? { op } : {}) });
  return m ? { ok: false, res, ...m } : { ok: true, res };
}

/** True for application/json and +json media types. */
export function isJsonMediaType(header: string | string[] | undefined): boolean {
  const media = (headerValue(header) ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[\w.+-]+\+json$/.test(media);
}

/**
 * One subject's outcome from its problems: a failure listing them (joined by '; '), else a pass on the first answer.
 */
export function passOrFail(ctx: CheckContext, subject: string, problems: string[], responses: HttpResponse[]): void {
  if (problems.length) ctx.fail(subject, problems.join('; '), responses);
  else ctx.pass(subject, responses[0]);
}
