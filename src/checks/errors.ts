/**
 * Error-code rules (specs/rules/errors.json): what the API answers to bad input, unknown ids, unknown paths and
 * methods, oversized or mistyped requests, and what an error answer may (not) contain. Negative inputs are
 * generated from the spec and its schemas (src/generators/negative.ts, src/arbitraries/) with fast-check; every request that
 * is meant to fail validation carries VALID credentials, so the 4xx comes from validation and not from auth
 * (ES-02 evaluation order: rate limit, auth, validation, handler).
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { bearer, headerValue, type HeaderValue, type HttpRequest, type HttpResponse } from '../http/client.js';
import { Secret } from '../secrets/redact.js';
import type { RequestOptions } from '../http/requests.js';
import { fillPath, SCHEMA_BASE, type JsonSchema, type LoadedSpec, type Operation, type Parameter } from '../engine/spec.js';
import { mapLimit } from '../engine/runner.js';
import { INVALID_UUIDS, lookupFrom, negativeBodies, queryKind, type NegativeCase, type QueryKind, type SchemaLookup } from '../generators/negative.js';
import { invalidPathId } from '../arbitraries/invalidPathId.js';
import { invalidQueryValue } from '../arbitraries/invalidQueryValue.js';
import { invalidBody } from '../arbitraries/invalidBody.js';
import { malformedJson } from '../arbitraries/malformedJson.js';
import { templateMatcher, unknownPath } from '../arbitraries/unknownPath.js';
import { hostileBody } from '../arbitraries/hostileBody.js';
import { concurrency, errorSchemaFor, sendFor, sendRequest } from './support/send.js';
import type { Check, CheckContext } from '../engine/types.js';

// ---- shared building blocks (also used by src/checks/schema.ts) -------------------------------------------------

/** The generic `{"error": "<message>"}` schema for statuses the profile does not model (405, 413, 415, 431, 5xx). */
export const ERROR_BODY_SCHEMA = `${SCHEMA_BASE}errors/error-body.schema.json`;

/** The schema an error body of `status` must match: the profile's model, else the generic error body. */
export function errorBodySchema(ctx: CheckContext, status: number): string {
  return errorSchemaFor(ctx, status) ?? ERROR_BODY_SCHEMA;
}

/** Valid credentials per operation: the API token, a JWT minted on the mock (long-lived, so clock moves of other checks
 * never expire it) or the configured one on live; a string is the reason there is none. */
export type AuthFor = (op: Operation) => Pick<RequestOptions, 'authorization'> | string;

export async function validAuth(ctx: CheckContext): Promise<AuthFor> {
  let jwt: Secret | undefined = ctx.credentials.userJwt;
  if (ctx.mock && ctx.operations.some((o) => o.auth === 'user-jwt')) {
    jwt = await ctx.mock.mintJwt(ctx.credentials.environmentId, {
      ...(ctx.credentials.userId ? { userId: ctx.credentials.userId } : {}),
      claims: { exp: 4_102_444_800 },
    });
  }
  const missing = ctx.credentials.missing.userJwt ?? 'not available';
  return (op) => {
    if (op.auth === 'none') return {};
    if (op.auth === 'api-token') return { authorization: bearer(ctx.credentials.apiToken) };
    return jwt ? { authorization: bearer(jwt) } : `no user JWT: ${missing}`;
  };
}

/** On live without DYNAMIC_ALLOW_WRITES: the reason a non-GET request must not be sent (a lenient API could execute it). */
export function liveWriteRisk(ctx: CheckContext, op: Operation, what = 'this request'): string | undefined {
  if (ctx.config.target !== 'live' || op.method === 'GET' || ctx.config.allowWrites) return undefined;
  return `${op.method} on live: ${what} could execute a write if the API does not reject it; set DYNAMIC_ALLOW_WRITES=true for a disposable sandbox`;
}

/** Resolves `$ref`s of the spec's schemas through the engine's registry. */
export function schemaLookup(ctx: CheckContext): SchemaLookup {
  return lookupFrom((id) => {
    try {
      return ctx.schemas.byId(id).schema as JsonSchema;
    } catch {
      return undefined;
    }
  });
}

/** Runs per operation, scaled by FC_RUNS (default 100 on the mock → `base`; live 20 → a fifth, at least 1). */
export function runsPerOp(ctx: CheckContext, base: number): number {
  return Math.max(1, Math.round((base * ctx.fc.runs) / 100));
}

/** A 32-bit seed for one subject, derived from the run's seed (replay with the printed FC_SEED reproduces it). */
function seedFor(ctx: CheckContext, subject: string): number {
  return createHash('sha256').update(`${ctx.fc.seed}:${ctx.rule.id}:${subject}`).digest().readInt32BE(0);
}

export type Verdict = { ok: true; res: HttpResponse } | { ok: false; reason: string; res: HttpResponse | undefined };

function describeValue(value: unknown): string {
  const text = Buffer.isBuffer(value) ? `<${value.length} bytes>` : JSON.stringify(value, (_k, v: unknown) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v));
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Runs one fast-check property for a subject and records one outcome: pass, or fail with the (shrunk)
 * counterexample, the reason of its last failing request and the replay line. Seeds differ per subject.
 */
export async function propertyOutcome<T>(ctx: CheckContext, subject: string, arb: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<Verdict>): Promise<void> {
  let lastFail: { reason: string; res: HttpResponse | undefined } | undefined;
  let lastOk: HttpResponse | undefined;
  const seed = seedFor(ctx, subject);
  const details = await fc.check(
    fc.asyncProperty(arb, async (value) => {
      const verdict = await predicate(value);
      if (verdict.ok) {
        lastOk = verdict.res;
        return true;
      }
      lastFail = { reason: verdict.reason, res: verdict.res };
      return false;
    }),
    { ...ctx.fc.parameters<[T]>({ numRuns }), seed },
  );
  if (!details.failed) {
    if (lastOk) ctx.pass(subject, lastOk);
    else ctx.skip(subject, `no generated case could be sent (${details.numSkips} skipped by preconditions)`);
    return;
  }
  if (!lastFail) {
    if (details.interrupted) return ctx.inconclusive(subject, `interrupted after ${details.numRuns} runs (time limit) without a failure`);
    throw details.errorInstance instanceof Error ? details.errorInstance : new Error(`property for ${subject} failed without a verdict: ${String(details.errorInstance)}`);
  }
  const path = details.counterexamplePath ?? undefined;
  ctx.fail(subject, `${lastFail.reason}; counterexample ${describeValue(details.counterexample?.[0])} (after ${details.numRuns} runs, ${details.numShrinks} shrinks); replay: ${ctx.fc.replayLine(path)}`, lastFail.res);
}

/** Status and body of an error answer: status in `expected`, body valid against its documented schema, non-empty message. */
export function expectError(ctx: CheckContext, res: HttpResponse, expected: number[], what: string): Verdict {
  if (!expected.includes(res.status)) {
    return { ok: false, reason: `${what}: expected ${expected.join(' or ')}, got ${res.status || `no response (${res.exchange.error ?? 'transport error'})`}`, res };
  }
  const bodyProblem = errorBodyProblem(ctx, res);
  if (bodyProblem) return { ok: false, reason: `${what}: status ${res.status} is right but ${bodyProblem}`, res };
  return { ok: true, res };
}

/** Why an error body does not match its documented schema (or has no message), undefined when it does. */
export function errorBodyProblem(ctx: CheckContext, res: HttpResponse): string | undefined {
  const schema = errorBodySchema(ctx, res.status);
  if (res.json === undefined) return `the body is not JSON (${res.text.length} bytes, content-type ${headerValue(res.headers['content-type']) ?? 'none'})`;
  const v = ctx.schemas.validate(schema, res.json);
  if (!v.valid) return `the body does not match ${schema.split('/').pop()}: ${v.errors.join('; ')}`;
  const message = (res.json as { error?: unknown }).error;
  if (typeof message !== 'string' || message.trim() === '') return 'the body has no error message (error must be a non-empty string)';
  return undefined;
}

/** How many operations (or paths) a per-operation rule samples on live; the mock covers every one. */
export const LIVE_SAMPLE = 12;

/** A deterministic, seed-rotated subset of `count` items (the same FC_SEED picks the same items). */
export function seededSubset<T>(ctx: CheckContext, items: readonly T[], count: number, keyOf: (item: T) => string): T[] {
  if (items.length <= count) return [...items];
  const rank = (item: T): string => createHash('sha256').update(`${ctx.fc.seed}:${keyOf(item)}`).digest('hex');
  return [...items].sort((x, y) => rank(x).localeCompare(rank(y))).slice(0, count);
}

/**
 * Runs a per-operation check: `prepare` says why an operation cannot be tested (a skip) or returns what the test
 * needs; on live only a seed-rotated sample of the testable operations is sent (request budget, rate limits), the
 * rest are skipped with that reason; `run` records the outcome of each sent operation.
 */
export async function forEachOperation<T extends object>(
  ctx: CheckContext,
  operations: readonly Operation[],
  prepare: (op: Operation) => T | string,
  run: (op: Operation, prepared: T, index: number) => Promise<void>,
  liveCount = LIVE_SAMPLE,
): Promise<void> {
  const ready: [Operation, T][] = [];
  for (const op of operations) {
    const prepared = prepare(op);
    if (typeof prepared === 'string') ctx.skip(op.key, prepared);
    else ready.push([op, prepared]);
  }
  const chosen = ctx.config.target === 'live' ? seededSubset(ctx, ready, liveCount, ([op]) => op.key) : ready;
  if (chosen.length < ready.length) {
    const sent = new Set(chosen.map(([op]) => op.key));
    for (const [op] of ready) if (!sent.has(op.key)) ctx.skip(op.key, `live: not in this run's sample of ${chosen.length} of ${ready.length} testable operations (rotated by FC_SEED; the mock target covers all)`);
  }
  await mapLimit(chosen, concurrency(ctx), ([op, prepared], index) => run(op, prepared, index));
}

/** Path parameters with `format: uuid`. */
export function uuidParams(op: Operation): Parameter[] {
  return op.parameters.filter((p) => p.in === 'path' && p.schema.format === 'uuid');
}

/**
 * UUID path parameters a check can replace with valid credentials still applying: {environmentId} decides which
 * credential is valid on authenticated operations (api-token: the token's environment; user-jwt: the verifying key),
 * so it is only replaceable on operations without auth.
 */
export function replaceableIdParams(op: Operation): Parameter[] {
  return uuidParams(op).filter((p) => op.auth === 'none' || p.name !== 'environmentId');
}

/** Every literal path segment of the spec (an invalid id equal to one would route to another operation). */
export function literalSegments(spec: LoadedSpec): Set<string> {
  return new Set(spec.operations.flatMap((o) => o.path.split('/').filter((s) => s && !s.startsWith('{'))));
}

/** The core resources the API keeps state for (ARCHITECTURE.md step 5; sdk-api TokensApi, UsersApi, WebhooksApi, AllowlistsApi, OriginsApi). */
const CORE_ITEM = /^(?:\/environments\/\{environmentId\}\/(?:tokens|users|webhooks)|\/(?:allowlists|allowlistEntries|origins))\/\{(\w+)\}/;

/** The id parameter of a core resource addressed by the operation (the item or one of its sub-resources), if any. */
export function coreResourceId(op: Operation): string | undefined {
  return CORE_ITEM.exec(op.path)?.[1];
}

/** Typed query parameters (number, boolean, enum) with their kind. */
function typedQueryParams(op: Operation, lookup: SchemaLookup): { param: Parameter; kind: QueryKind }[] {
  return op.parameters.filter((p) => p.in === 'query').flatMap((param) => {
    const kind = queryKind(param.schema, lookup);
    return kind ? [{ param, kind }] : [];
  });
}

/** Sends a JSON text (or bytes) as the body of the operation with the given content type. */
function sendRawBody(ctx: CheckContext, op: Operation, auth: Pick<RequestOptions, 'authorization'>, body: string | Buffer, contentType: string | null = 'application/json'): Promise<HttpResponse> {
  return sendFor(ctx, op, { ...auth, rawBody: body, headers: contentType === null ? [] : [['content-type', contentType]] });
}

function isJsonOp(op: Operation): boolean {
  return op.requestBody?.contentType === 'application/json';
}

// ---- ERR-001 ------------------------------------------------------------------------------------------------------

/** ERR-001 (docs: uuid path pattern; tokens-api-keys 400): a path id that is not a lowercase UUID gets 400 with the BadRequest body. */
export const rejectsNonUuidPathIds: Check = {
  rule: 'ERR-001',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const reserved = literalSegments(ctx.spec);
    const arbId = invalidPathId(reserved);
    await forEachOperation(ctx, ctx.operations, (op) => {
      if (uuidParams(op).length === 0) return 'no UUID path parameter';
      const params = replaceableIdParams(op);
      if (params.length === 0) return 'the only UUID path parameter is {environmentId}, which authentication reads first (the credential is bound to its environment), so a non-UUID value is an auth answer there (ES-02 order)';
      const a = auth(op);
      return typeof a === 'string' ? a : { a, params };
    }, async (op, { a, params }) => {
      const arb = fc.tuple(fc.constantFrom(...params.map((p) => p.name)), fc.oneof(arbId, fc.constantFrom(...INVALID_UUIDS)));
      await propertyOutcome(ctx, op.key, arb, runsPerOp(ctx, 3), async ([name, value]) => {
        const res = await sendFor(ctx, op, { ...a, pathParams: { [name]: value } });
        return expectError(ctx, res, [400], `non-UUID {${name}}`);
      });
    });
  },
};

// ---- ERR-002 ------------------------------------------------------------------------------------------------------

/** ERR-002 (tokens-api-keys: 400 for query parameters): a query value of the wrong type or outside the enum gets 400. */
export const rejectsInvalidQueryValues: Check = {
  rule: 'ERR-002',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const lookup = schemaLookup(ctx);
    await forEachOperation(ctx, ctx.operations, (op) => {
      const typed = typedQueryParams(op, lookup);
      if (typed.length === 0) return 'no typed query parameter (number, boolean or enum)';
      const risk = liveWriteRisk(ctx, op, 'an otherwise valid request with one bad query value');
      if (risk) return risk;
      const a = auth(op);
      return typeof a === 'string' ? a : { a, typed };
    }, async (op, { a, typed }) => {
      const arb = fc.constantFrom(...typed).chain(({ param, kind }) => invalidQueryValue(kind).map((value) => ({ name: param.name, kind: kind.kind, value })));
      await propertyOutcome(ctx, op.key, arb, runsPerOp(ctx, 4), async ({ name, kind, value }) => {
        const res = await sendFor(ctx, op, { ...a, query: { ...ctx.requests.query(op), [name]: value } });
        return expectError(ctx, res, [400], `query ${name} (${kind}) = ${JSON.stringify(value)}`);
      });
    });
  },
};

// ---- ERR-003 ------------------------------------------------------------------------------------------------------

/** The sample body and its negative cases (each confirmed invalid by the engine's ajv), or the reason there are none. */
function negativeCasesFor(ctx: CheckContext, op: Operation, lookup: SchemaLookup): { sample: unknown; cases: NegativeCase[] } | string {
  if (!op.requestBody) return 'no request body';
  if (!isJsonOp(op)) return `request body is ${op.requestBody.contentType}, not JSON`;
  const sample = ctx.requests.body(op);
  const v = ctx.schemas.validate(op.requestBody.schema, sample);
  if (!v.valid) return `the suite's sample body does not validate (${v.errors.join('; ')}), so a 400 could not be attributed`;
  const cases = negativeBodies(op.requestBody.schema, sample, lookup).filter((c) => !ctx.schemas.validate(op.requestBody!.schema, c.body).valid);
  if (cases.length === 0) return 'the request schema has no constraint a single change can violate';
  return { sample, cases };
}

/** ERR-003 (tokens-api-keys: 400 for the request's body): a JSON body violating the request schema gets 400 with a message. */
export const rejectsSchemaViolatingBodies: Check = {
  rule: 'ERR-003',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const lookup = schemaLookup(ctx);
    await forEachOperation(ctx, ctx.operations, (op) => {
      const prepared = negativeCasesFor(ctx, op, lookup);
      if (typeof prepared === 'string') return prepared;
      const risk = liveWriteRisk(ctx, op, 'a body with one schema violation');
      if (risk) return risk;
      const a = auth(op);
      return typeof a === 'string' ? a : { a, prepared };
    }, async (op, { a, prepared }) => {
      const schema = op.requestBody!.schema;
      await propertyOutcome(ctx, op.key, invalidBody(prepared.cases, prepared.sample), runsPerOp(ctx, 4), async (c) => {
        fc.pre(!ctx.schemas.validate(schema, c.body).valid);
        const res = await sendRawBody(ctx, op, a, JSON.stringify(c.body));
        return expectError(ctx, res, [400], `body ${c.kind} at ${c.description}`);
      });
    });
  },
};

// ---- ERR-004 ------------------------------------------------------------------------------------------------------

/** ERR-004 (RFC 9110 15.5.1): malformed JSON gets 400 (BadRequest body), never 5xx. */
export const rejectsMalformedJson: Check = {
  rule: 'ERR-004',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await forEachOperation(ctx, ctx.operations, (op) => {
      if (!op.requestBody) return 'no request body';
      if (!isJsonOp(op)) return `request body is ${op.requestBody.contentType}, not JSON`;
      const a = auth(op);
      return typeof a === 'string' ? a : { a };
    }, async (op, { a }) => {
      await propertyOutcome(ctx, op.key, malformedJson(ctx.requests.body(op)), runsPerOp(ctx, 3), async (text) => {
        const res = await sendRawBody(ctx, op, a, text);
        return expectError(ctx, res, [400], 'malformed JSON body');
      });
    });
  },
};

// ---- ERR-005 ------------------------------------------------------------------------------------------------------

/** ERR-005 (sdk-api NotFound; tokens-api-keys 404): an unknown id of a stateful resource gets 404 with {error, code}. */
export const unknownIdsAreNotFound: Check = {
  rule: 'ERR-005',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const known = new Set([ctx.credentials.userId, ctx.credentials.projectId, ctx.credentials.environmentId]);
    await forEachOperation(ctx, ctx.operations, (op) => {
      const idParam = coreResourceId(op);
      if (!idParam) return 'not an item of a stateful core resource (tokens, users, webhooks, allowlists, origins): nothing to look up';
      if (ctx.config.target === 'live' && op.method !== 'GET' && op.method !== 'DELETE' && !ctx.config.allowWrites) {
        return liveWriteRisk(ctx, op, 'a write to an unknown id') ?? 'write';
      }
      const a = auth(op);
      return typeof a === 'string' ? a : { a, idParam };
    }, async (op, { a, idParam }) => {
      await propertyOutcome(ctx, op.key, fc.uuid({ version: 4 }).filter((u) => !known.has(u)), runsPerOp(ctx, 3), async (id) => {
        const res = await sendFor(ctx, op, { ...a, pathParams: { [idParam]: id } });
        return expectError(ctx, res, [404], `unknown {${idParam}}`);
      });
    });
  },
};

// ---- ERR-006 ------------------------------------------------------------------------------------------------------

/** ERR-006 (tokens-api-keys: 404 path not found): an unknown path gets 404 with the NotFound body (error and code). */
export const unknownPathsAreNotFound: Check = {
  rule: 'ERR-006',
  async run(ctx) {
    const isKnown = templateMatcher(ctx.spec.operations.map((o) => o.path));
    const filled = [...new Set(ctx.spec.operations.map((o) => fillPath(o.path, ctx.requests.pathParams(o))))];
    const kinds = ['top-level', 'sub-resource', 'random'] as const;
    const methods = ctx.config.target === 'live' && !ctx.config.allowWrites ? ['GET'] : ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const authorization = bearer(ctx.credentials.apiToken);
    await mapLimit(kinds, concurrency(ctx), async (kind) => {
      const arb = fc.tuple(unknownPath(filled, isKnown).filter((p) => p.kind === kind), fc.constantFrom(...methods));
      await propertyOutcome(ctx, `unknown ${kind} path`, arb, runsPerOp(ctx, 25), async ([p, method]) => {
        const res = await sendRequest(ctx, { method, path: p.path, headers: [['accept', 'application/json'], ['authorization', authorization]] });
        return expectError(ctx, res, [404], `${method} ${p.path}`);
      });
    });
  },
};

// ---- ERR-007 ------------------------------------------------------------------------------------------------------

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The methods of an Allow header (upper case). */
function allowed(header: string | string[] | undefined): Set<string> {
  return new Set((Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean));
}

/**
 * ERR-007 (RFC 9110 15.5.6): an undeclared method on a known path gets 405 with an Allow header listing exactly the
 * declared methods (HEAD next to GET and OPTIONS are tolerated: servers add them implicitly).
 */
export const undeclaredMethodsAre405: Check = {
  rule: 'ERR-007',
  async run(ctx) {
    const byPath = new Map<string, Operation[]>();
    for (const op of ctx.spec.operations) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op]);
    const authorization = bearer(ctx.credentials.apiToken);
    let paths = [...byPath.entries()];
    if (ctx.config.target === 'live') {
      const chosen = new Set(seededSubset(ctx, paths, LIVE_SAMPLE, ([path]) => path).map(([path]) => path));
      for (const [path] of paths) if (!chosen.has(path)) ctx.skip(path, `live: not in this run's sample of ${chosen.size} of ${paths.length} paths (rotated by FC_SEED; the mock target covers all)`);
      paths = paths.filter(([path]) => chosen.has(path));
    }
    await mapLimit(paths, concurrency(ctx), async ([path, ops], index) => {
      const declared = new Set(ops.map((o) => o.method));
      let undeclared = METHODS.filter((m) => !declared.has(m));
      if (ctx.config.target === 'live' && !ctx.config.allowWrites) undeclared = undeclared.filter((m) => m === 'GET');
      // Two undeclared methods per path, rotating, so every method is tried across the API at about half the requests.
      if (undeclared.length > 2) undeclared = [0, 1].map((k) => undeclared[(index + k) % undeclared.length]!);
      if (undeclared.length === 0) {
        return ctx.skip(path, declared.size === METHODS.length ? 'every method is declared' : 'on live only an undeclared GET is sent without DYNAMIC_ALLOW_WRITES, and GET is declared');
      }
      const filled = fillPath(path, ctx.requests.pathParams(ops[0]!));
      const problems: string[] = [];
      const responses: HttpResponse[] = [];
      for (const method of undeclared) {
        const res = await sendRequest(ctx, { method, path: filled, headers: [['accept', 'application/json'], ['authorization', authorization]] });
        responses.push(res);
        const v = expectError(ctx, res, [405], method);
        if (!v.ok) {
          problems.push(v.reason);
          continue;
        }
        const got = allowed(res.headers.allow);
        if (got.size === 0) {
          problems.push(`${method}: 405 without an Allow header`);
          continue;
        }
        const tolerated = new Set(['OPTIONS', ...(declared.has('GET') ? ['HEAD'] : [])]);
        const missing = [...declared].filter((m) => !got.has(m));
        const extra = [...got].filter((m) => !declared.has(m) && !tolerated.has(m));
        if (missing.length || extra.length) problems.push(`${method}: Allow '${headerValue(res.headers.allow) ?? ''}' ${missing.length ? `lacks ${missing.join(', ')}` : ''}${missing.length && extra.length ? ' and ' : ''}${extra.length ? `lists undeclared ${extra.join(', ')}` : ''} (declared: ${[...declared].sort().join(', ')})`);
      }
      if (problems.length) ctx.fail(path, problems.join('; '), responses);
      else ctx.pass(path, responses[0]);
    });
  },
};

// ---- error sweep (ERR-008, ERR-010, ERR-015) ----------------------------------------------------------------------

/** One request built to provoke an error on an operation. */
interface Probe {
  label: string;
  /** Statuses the probe is built to provoke. */
  expect: number[];
  request: () => Promise<HttpResponse>;
}

interface SweepTools {
  auth: AuthFor;
  lookup: SchemaLookup;
  reserved: Set<string>;
}

async function sweepTools(ctx: CheckContext): Promise<SweepTools> {
  return { auth: await validAuth(ctx), lookup: schemaLookup(ctx), reserved: literalSegments(ctx.spec) };
}

/**
 * Requests that provoke each documented error class an operation can produce: 401 (no credentials), 403 (a token of
 * another environment, or one without scopes), 400 (non-UUID id, malformed JSON, schema-violating body, bad query),
 * 404 (unknown id of a stateful resource), 415 (text/plain body). On live, probes that a lenient API could execute
 * as a write are left out unless DYNAMIC_ALLOW_WRITES.
 */
function errorProbes(ctx: CheckContext, op: Operation, tools: SweepTools, kinds: ReadonlySet<number> = new Set([400, 401, 403, 404, 415])): Probe[] {
  const probes: Probe[] = [];
  const safe = liveWriteRisk(ctx, op) === undefined;
  const a = tools.auth(op);
  const cred = typeof a === 'string' ? undefined : a;
  const c = ctx.credentials;
  if (kinds.has(401) && op.auth !== 'none') probes.push({ label: 'no credentials', expect: [401], request: () => sendFor(ctx, op, {}) });
  if (kinds.has(403) && op.auth === 'api-token' && safe) {
    const hasEnv = op.parameters.some((p) => p.name === 'environmentId' && p.in === 'path');
    if (hasEnv && c.otherEnvironmentToken) probes.push({ label: 'token of another environment', expect: [403], request: () => sendFor(ctx, op, { authorization: bearer(c.otherEnvironmentToken!) }) });
    else if (c.noScopeToken && (op.scopes.length || op.inferredScopes.length)) probes.push({ label: 'token without scopes', expect: [403], request: () => sendFor(ctx, op, { authorization: bearer(c.noScopeToken!) }) });
  }
  if (!cred) return probes;
  if (kinds.has(400)) {
    const ids = replaceableIdParams(op);
    if (ids.length) probes.push({ label: 'non-UUID path id', expect: [400], request: () => sendFor(ctx, op, { ...cred, pathParams: { [ids[0]!.name]: INVALID_UUIDS[0]! } }) });
    if (isJsonOp(op)) {
      probes.push({ label: 'malformed JSON', expect: [400], request: () => sendRawBody(ctx, op, cred, '{"malformed": ') });
      const prepared = safe ? negativeCasesFor(ctx, op, tools.lookup) : 'unsafe';
      if (typeof prepared !== 'string') probes.push({ label: `invalid body (${prepared.cases[0]!.description})`, expect: [400], request: () => sendRawBody(ctx, op, cred, JSON.stringify(prepared.cases[0]!.body)) });
    }
    const typed = safe ? typedQueryParams(op, tools.lookup) : [];
    if (typed.length) probes.push({ label: `invalid query ${typed[0]!.param.name}`, expect: [400], request: () => sendFor(ctx, op, { ...cred, query: { ...ctx.requests.query(op), [typed[0]!.param.name]: 'not-a-valid-value' } }) });
  }
  const idParam = coreResourceId(op);
  if (kinds.has(404) && idParam && op.auth === 'api-token' && (safe || op.method === 'DELETE')) {
    probes.push({ label: 'unknown id', expect: [404], request: () => sendFor(ctx, op, { ...cred, pathParams: { [idParam]: '00000000-0000-4000-8000-000000000000' } }) });
  }
  if (kinds.has(415) && isJsonOp(op) && safe) probes.push({ label: 'text/plain body', expect: [415], request: () => sendRawBody(ctx, op, cred, JSON.stringify(ctx.requests.body(op)), 'text/plain') });
  return probes;
}

/** Runs the probes of every operation and hands each operation's error responses to `judge`. */
async function sweepErrors(
  ctx: CheckContext,
  kinds: ReadonlySet<number> | undefined,
  judge: (op: Operation, errors: { label: string; res: HttpResponse }[]) => void,
  options: { extra?: (op: Operation) => Probe[]; perOp?: number } = {},
): Promise<void> {
  const tools = await sweepTools(ctx);
  await forEachOperation(ctx, ctx.operations, (op) => {
    const probes = [...errorProbes(ctx, op, tools, kinds), ...(options.extra?.(op) ?? [])];
    return probes.length ? { probes } : `no probe can provoke an error here (${op.auth === 'none' ? 'no auth, ' : ''}no replaceable id, JSON body or typed query${ctx.config.target === 'live' ? ' that is safe to send on live' : ''})`;
  }, async (op, { probes: all }, index) => {
    // A subset per operation, rotating with its index, so the sweep still covers every probe kind across the API.
    const probes = options.perOp !== undefined && all.length > options.perOp ? Array.from({ length: options.perOp }, (_, k) => all[(index + k) % all.length]!) : all;
    const errors: { label: string; res: HttpResponse }[] = [];
    for (const p of probes) {
      const res = await p.request();
      if (res.status >= 400 || res.status === 0) errors.push({ label: p.label, res });
    }
    judge(op, errors);
  });
}

// ---- ERR-008 ------------------------------------------------------------------------------------------------------

/**
 * Requests that provoke a 429 on an operation with a low per-IP limit (the policy's smallest window + 1, from one
 * source address); empty for other operations and on live (rate limits are the rate-limit family's business there).
 */
function rateLimitProbe(ctx: CheckContext, op: Operation, auth: AuthFor): Probe[] {
  if (ctx.config.target !== 'mock') return [];
  const small = op.policies.map((id) => ctx.spec.profile.rateLimits[id]).filter((p) => p && p.key.length === 1 && p.key[0] === 'ip' && p.windows?.length)
    .flatMap((p) => p!.windows!).sort((x, y) => x.limit - y.limit)[0];
  if (!small || small.limit > 10) return [];
  const a = auth(op);
  if (typeof a === 'string') return [];
  return [{
    label: `burst of ${small.limit + 1} (rate limit ${small.limit}/${small.seconds}s)`,
    expect: [429],
    async request() {
      const from = ctx.sourceAddress();
      let last: HttpResponse | undefined;
      for (let i = 0; i <= small.limit; i += 1) {
        last = await ctx.client.send(ctx.requests.build(op, { ...a, localAddress: from, on429: 'return' }));
        if (last.status === 429) break;
      }
      return last!;
    },
  }];
}

/** ERR-008 (sdk-api models BadRequest, Unauthorized, Forbidden, NotFound, TooManyRequests): every error body validates against its documented schema. */
export const errorBodiesMatchSchemas: Check = {
  rule: 'ERR-008',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await sweepErrors(ctx, undefined, (op, errors) => {
      if (errors.length === 0) return ctx.skip(op.key, 'no probe provoked an error on this operation');
      const problems = errors.flatMap(({ label, res }) => {
        if (res.status === 0) return [`${label}: no response (${res.exchange.error ?? 'transport error'})`];
        const p = errorBodyProblem(ctx, res);
        return p ? [`${label} → ${res.status}: ${p}`] : [];
      });
      const statuses = [...new Set(errors.map((e) => e.res.status))].sort().join(', ');
      if (problems.length) ctx.fail(op.key, `${problems.join('; ')} (statuses seen: ${statuses})`, errors.map((e) => e.res));
      else ctx.pass(op.key, errors[0]!.res);
    }, { extra: (op) => rateLimitProbe(ctx, op, auth) });
  },
};

// ---- ERR-009 ------------------------------------------------------------------------------------------------------

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Deterministic alphanumerics from a label (the run's seed makes canaries differ between runs). */
function alnum(label: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i += 1) {
    for (const byte of createHash('sha256').update(`${label}:${i}`).digest()) if (out.length < length) out += ALNUM[byte % ALNUM.length];
  }
  return out;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Canary credentials of both kinds, registered for redaction; `windows` are the 8-character pieces that must never come back. */
function canaries(ctx: CheckContext): { token: Secret; jwt: Secret; windows: Map<Secret, string[]> } {
  const tag = `${ctx.fc.seed}`;
  const { prefix, length } = ctx.spec.profile.token;
  const token = new Secret(`${prefix}${`CANARY${alnum(`token:${tag}`, length)}`.slice(0, length)}`, 'CANARY_API_TOKEN');
  const payload = b64url({ sub: `canary-${alnum(`sub:${tag}`, 16)}`, environment_id: ctx.credentials.environmentId, scope: 'user:basic', exp: 4_102_444_800 });
  const signature = alnum(`sig:${tag}`, 43);
  const jwt = new Secret(`${b64url({ alg: 'RS256', typ: 'JWT', kid: 'canary' })}.${payload}.${signature}`, 'CANARY_USER_JWT');
  const piecesOf = (distinctive: string): string[] => Array.from({ length: Math.max(0, distinctive.length - 7) }, (_, i) => distinctive.slice(i, i + 8));
  // The JWT's header is the same for every RS256 JWT: only its payload and signature are distinctive.
  return { token, jwt, windows: new Map([[token, piecesOf(token.reveal())], [jwt, piecesOf(`${payload}.${signature}`)]]) };
}

/** Where a response echoes a piece of the credential (a description without the value), or undefined. */
function echoOf(res: HttpResponse, pieces: string[]): string | undefined {
  const places: [string, string][] = [['body', res.text], ...Object.entries(res.headers).map(([k, v]): [string, string] => [`header ${k}`, Array.isArray(v) ? v.join(', ') : v ?? ''])];
  for (const [where, text] of places) {
    const hits = pieces.filter((p) => text.includes(p));
    if (hits.length) return `the ${where} echoes ${hits.length + 7} characters of the credential`;
  }
  return undefined;
}

/** ERR-009 (OWASP API8:2023; CWE-209): no error body or header echoes a credential (a registered canary, scanned in 8-character pieces). */
export const errorsNeverEchoCredentials: Check = {
  rule: 'ERR-009',
  async run(ctx) {
    const canary = canaries(ctx);
    const other = ctx.credentials.otherEnvironmentToken;
    const otherPieces = other ? Array.from({ length: other.reveal().length - 7 }, (_, i) => other.reveal().slice(i, i + 8)) : [];
    await forEachOperation(ctx, ctx.operations, () => ({}), async (op) => {
      const secret = op.auth === 'user-jwt' ? canary.jwt : canary.token;
      const header: HeaderValue = bearer(secret);
      const sent: { label: string; res: HttpResponse; pieces: string[] }[] = [];
      if (op.auth !== 'none') {
        sent.push({ label: `${secret.envName} (${op.auth === 'user-jwt' ? '401 invalid JWT' : '401 unknown token'})`, res: await sendFor(ctx, op, { authorization: header }), pieces: canary.windows.get(secret)! });
      } else {
        // No auth: the canary rides along on a request that fails validation.
        const ids = replaceableIdParams(op);
        const options: RequestOptions = ids.length ? { pathParams: { [ids[0]!.name]: 'not-a-uuid' } } : isJsonOp(op) ? { rawBody: '{"malformed": ', headers: [['content-type', 'application/json']] } : {};
        sent.push({ label: `${secret.envName} on an invalid request`, res: await sendFor(ctx, op, { ...options, authorization: header }), pieces: canary.windows.get(secret)! });
      }
      const hasEnv = op.parameters.some((p) => p.name === 'environmentId' && p.in === 'path');
      if (op.auth === 'api-token' && hasEnv && other && liveWriteRisk(ctx, op) === undefined) {
        sent.push({ label: 'token of another environment (403)', res: await sendFor(ctx, op, { authorization: bearer(other) }), pieces: otherPieces });
      }
      const problems = sent.flatMap(({ label, res, pieces }) => {
        if (res.status === 0) return [`${label}: no response (${res.exchange.error ?? 'transport error'})`];
        const echo = echoOf(res, pieces);
        return echo ? [`${label} → ${res.status}: ${echo}`] : [];
      });
      if (problems.length) ctx.fail(op.key, problems.join('; '), sent.map((s) => s.res));
      else ctx.pass(op.key, sent[0]!.res);
    });
  },
};

// ---- ERR-010 ------------------------------------------------------------------------------------------------------

/** Internals an error must not show (conformance-rules.md ES-08). */
const LEAKS: [string, RegExp][] = [
  ['a stack frame', /\bat (?:async )?\S+ \(.*:\d+:\d+\)|^\s*at \S+:\d+:\d+\s*$/m],
  ['a Python traceback', /Traceback \(most recent call last\)|\bTraceback\b/],
  ['node_modules', /node_modules/],
  ['an SQL state', /SQLSTATE/],
  ['an SQL statement', /\bSELECT\s+[\w*"`]|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b/],
  ['a file path', /(?:^|[\s"'(=])\/(?:home|usr|var|opt|srv|app|tmp|Users|root|workspace|src)\/[\w.@-]+|\b[A-Za-z]:\\[\w\\.-]+|\b[\w-]+\.(?:ts|js|mjs|cjs|py|rb|java|go|php):\d+/],
  ['an internal IP address', /\b(?:10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|127\.\d{1,3}\.\d{1,3}\.\d{1,3})\b/],
  ['an exception class with a stack', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|Error): [^\n]*\n\s+at /],
];

/** What an error response leaks, or undefined. */
function leaksOf(res: HttpResponse): string[] {
  const found = LEAKS.filter(([, re]) => re.test(res.text)).map(([what]) => `the body shows ${what}`);
  if (res.headers['x-powered-by'] !== undefined) found.push('an X-Powered-By header');
  if (res.headers['x-aspnet-version'] !== undefined) found.push('an X-AspNet-Version header');
  const server = headerValue(res.headers.server);
  if (server && /\/\d+(?:\.\d+)+/.test(server)) found.push('a Server header with a version');
  return found;
}

/** ERR-010 (OWASP API8:2023; CWE-209): error bodies carry no stack trace, file path or internals (ES-08 patterns). */
export const errorsLeakNoInternals: Check = {
  rule: 'ERR-010',
  async run(ctx) {
    await sweepErrors(ctx, undefined, (op, errors) => {
      if (errors.length === 0) return ctx.skip(op.key, 'no probe provoked an error on this operation');
      const problems = errors.flatMap(({ label, res }) => {
        const leaks = leaksOf(res);
        return leaks.length ? [`${label} → ${res.status}: ${leaks.join(', ')}`] : [];
      });
      if (problems.length) ctx.fail(op.key, problems.join('; '), errors.map((e) => e.res));
      else ctx.pass(op.key, errors[0]!.res);
    }, { perOp: 2 });
  },
};

// ---- ERR-011 ------------------------------------------------------------------------------------------------------

const PLACEHOLDER = 'zzplaceholderzz';

const BAD_ENCODINGS = ['%zz', '%E0%A4%A', '%C0%AF', '%00'];

/**
 * Requests with broken percent-encoding in a path parameter and an oversized / out-of-range / repeated query value;
 * the variant rotates with the operation's index so the sweep covers every variant at one request each.
 */
function encodingProbes(ctx: CheckContext, op: Operation, cred: Pick<RequestOptions, 'authorization'>, index: number): { label: string; request: HttpRequest }[] {
  const out: { label: string; request: HttpRequest }[] = [];
  const pathParam = op.parameters.find((p) => p.in === 'path' && !(op.auth !== 'none' && p.name === 'environmentId'));
  if (pathParam) {
    const bad = BAD_ENCODINGS[index % BAD_ENCODINGS.length]!;
    const base = ctx.requests.build(op, { ...cred, pathParams: { [pathParam.name]: PLACEHOLDER } });
    out.push({ label: `path {${pathParam.name}} = ${bad}`, request: { ...base, path: base.path.replace(PLACEHOLDER, bad) } });
  }
  const query = op.parameters.find((p) => p.in === 'query');
  const base = ctx.requests.build(op, cred);
  const name = query?.name ?? 'unexpected';
  const variants: [string, string | string[]][] = [['8 KB value', 'x'.repeat(8192)], ['1e999999', '1e999999'], ['repeated 50 times', Array.from({ length: 50 }, (_, i) => String(i))]];
  const [label, value] = variants[index % variants.length]!;
  out.push({ label: `query ${name} = ${label}`, request: { ...base, query: { ...(base.query ?? {}), [name]: value } } });
  return out;
}

function serverError(res: HttpResponse, label: string): Verdict {
  if (res.status === 0) return { ok: false, reason: `${label}: no response (${res.exchange.error ?? 'transport error'})`, res };
  if (res.status >= 500) return { ok: false, reason: `${label}: ${res.status}`, res };
  return { ok: true, res };
}

/**
 * ERR-011 (tokens-api-keys; RFC 9110 15.5): client errors never produce a 5xx — broken percent-encoding, oversized
 * query values, deeply nested JSON, numbers beyond double range, invalid UTF-8, empty required bodies.
 */
export const clientErrorsNeverServerErrors: Check = {
  rule: 'ERR-011',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await forEachOperation(ctx, ctx.operations, (op) => {
      const a = auth(op);
      return { cred: typeof a === 'string' ? {} : a };
    }, async (op, { cred }, index) => {
      const problems: string[] = [];
      const failed: HttpResponse[] = [];
      let last: HttpResponse | undefined;
      for (const probe of encodingProbes(ctx, op, cred, index)) {
        const v = serverError(await sendRequest(ctx, probe.request), probe.label);
        last = v.res ?? last;
        if (!v.ok) {
          problems.push(v.reason);
          if (v.res) failed.push(v.res);
        }
      }
      const bodyRisk = liveWriteRisk(ctx, op, 'a hostile body');
      if (isJsonOp(op) && !bodyRisk) {
        if (op.requestBody!.required) {
          const v = serverError(await sendRawBody(ctx, op, cred, ''), 'empty body on a required-body operation');
          if (!v.ok) {
            problems.push(v.reason);
            if (v.res) failed.push(v.res);
          }
        }
        const subject = `${op.key} (hostile bodies)`;
        let bodyFail: Verdict | undefined;
        const details = await fc.check(
          fc.asyncProperty(hostileBody(ctx.requests.body(op)), async (h) => {
            const v = serverError(await sendRawBody(ctx, op, cred, h.body), h.label);
            if (!v.ok) bodyFail = v;
            else last = v.res;
            return v.ok;
          }),
          { ...ctx.fc.parameters({ numRuns: runsPerOp(ctx, 3) }), seed: seedFor(ctx, subject) },
        );
        if (details.failed && bodyFail && !bodyFail.ok) {
          problems.push(`${bodyFail.reason} (replay: ${ctx.fc.replayLine(details.counterexamplePath ?? undefined)})`);
          if (bodyFail.res) failed.push(bodyFail.res);
        } else if (details.failed && !details.interrupted) throw details.errorInstance instanceof Error ? details.errorInstance : new Error(`${subject}: property failed without a verdict`);
      }
      if (problems.length) ctx.fail(op.key, problems.join('; '), failed);
      else if (last) ctx.pass(op.key, last);
      else ctx.skip(op.key, bodyRisk ?? 'no probe could be sent');
    });
  },
};

// ---- ERR-012 ------------------------------------------------------------------------------------------------------

const MIB = 1024 * 1024;

/** A JSON text of exactly `bytes` bytes. */
function paddedJson(bytes: number): string {
  const head = '{"padding":"';
  const tail = '"}';
  return `${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`;
}

/** ERR-012 (RFC 9110 15.5.14; OWASP API4:2023): a body over the 1 MiB limit gets 413 (≈ 2 MB once on a few operations, and 1 MiB + 1 byte). */
export const oversizedBodiesAre413: Check = {
  rule: 'ERR-012',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const picks = (['api-token', 'user-jwt', 'none'] as const).map((kind) => ctx.spec.operations.find((o) => o.auth === kind && o.method === 'POST' && isJsonOp(o))).filter((o): o is Operation => o !== undefined);
    const cases = [...picks.map((op) => ({ op, bytes: 2 * MIB, label: `${op.key} (2 MiB body)` })), ...picks.slice(0, 1).map((op) => ({ op, bytes: MIB + 1, label: `${op.key} (1 MiB + 1 byte)` }))];
    for (const { op, bytes, label } of cases) {
      const risk = liveWriteRisk(ctx, op, 'an oversized body');
      if (risk) {
        ctx.skip(label, risk);
        continue;
      }
      const a = auth(op);
      if (typeof a === 'string') {
        ctx.skip(label, a);
        continue;
      }
      const started = performance.now();
      const res = await sendRawBody(ctx, op, a, paddedJson(bytes));
      const v = expectError(ctx, res, [413], `${bytes} byte body`);
      if (v.ok) ctx.pass(label, res);
      else ctx.fail(label, `${v.reason} after ${Math.round(performance.now() - started)} ms`, res);
    }
  },
};

// ---- ERR-013 ------------------------------------------------------------------------------------------------------

const NON_JSON_TYPES = ['text/plain', 'application/xml', 'text/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=conformance', 'text/html', 'application/octet-stream', '(none)'];

/** ERR-013 (RFC 9110 15.5.16): a JSON operation given a non-JSON Content-Type (or none) gets 415. */
export const nonJsonContentTypesAre415: Check = {
  rule: 'ERR-013',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await forEachOperation(ctx, ctx.operations, (op) => {
      if (!op.requestBody) return 'no request body';
      if (!isJsonOp(op)) return `request body is ${op.requestBody.contentType}, not JSON`;
      const risk = liveWriteRisk(ctx, op, 'a valid JSON body under another Content-Type');
      if (risk) return risk;
      const a = auth(op);
      return typeof a === 'string' ? a : { a };
    }, async (op, { a }) => {
      const body = JSON.stringify(ctx.requests.body(op));
      await propertyOutcome(ctx, op.key, fc.constantFrom(...NON_JSON_TYPES), runsPerOp(ctx, 2), async (type) => {
        const res = await sendRawBody(ctx, op, a, body, type === '(none)' ? null : type);
        return expectError(ctx, res, [415], `valid JSON sent as ${type}`);
      });
    });
  },
};

// ---- ERR-014 ------------------------------------------------------------------------------------------------------

/**
 * ERR-014 (RFC 6585 5; conformance-rules ES-11): an oversized Authorization header never gets a 5xx or a hang. 64 KB is
 * past every common header limit → 431 or 400; 10 KB fits under some (node's default is 16 KB), where the server may
 * also read it as an invalid credential → any 4xx (ES-11: "a 10 KB token … → 4xx within the client timeout").
 */
export const oversizedAuthorizationHeaders: Check = {
  rule: 'ERR-014',
  async run(ctx) {
    const ops = (['api-token', 'user-jwt'] as const).map((kind) => ctx.spec.operations.find((o) => o.auth === kind && o.method === 'GET' && replaceableIdParams(o).length === 0 && !o.parameters.some((p) => p.in === 'query' && p.required))).filter((o): o is Operation => o !== undefined);
    for (const op of ops) {
      for (const kb of [10, 64]) {
        const subject = `${op.key} (Authorization ${kb} KB)`;
        const value = `Bearer ${ctx.spec.profile.token.prefix}${'A'.repeat(kb * 1024)}`;
        const started = performance.now();
        const res = await sendFor(ctx, op, { authorization: value, on429: 'return' });
        const ms = Math.round(performance.now() - started);
        if (res.status === 429) ctx.inconclusive(subject, 'rate limited (429) before the header could be judged', res);
        else if (ms > 10_000) ctx.fail(subject, `answered after ${ms} ms (a hang for a header the server should refuse at once)`, res);
        else if (res.status === 0) ctx.fail(subject, `no HTTP answer within ${ms} ms (${res.exchange.error ?? 'connection closed'}); expected 431 or 400`, res);
        else if (kb >= 64 ? res.status !== 431 && res.status !== 400 : res.status < 400 || res.status >= 500) ctx.fail(subject, `expected ${kb >= 64 ? '431 or 400' : 'a 4xx'}, got ${res.status} (${ms} ms)`, res);
        else ctx.pass(subject, res);
      }
    }
  },
};

// ---- ERR-015 ------------------------------------------------------------------------------------------------------

/** True for application/json and +json media types. */
export function isJsonMediaType(header: string | string[] | undefined): boolean {
  const media = (headerValue(header) ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[\w.+-]+\+json$/.test(media);
}

/** ERR-015 (RFC 9110 8.3; OWASP REST): error responses are JSON (Content-Type application/json). */
export const errorsAreJson: Check = {
  rule: 'ERR-015',
  async run(ctx) {
    await sweepErrors(ctx, new Set([400, 401, 403, 404, 415]), (op, errors) => {
      if (errors.length === 0) return ctx.skip(op.key, 'no probe provoked an error on this operation');
      const problems = errors.filter(({ res }) => res.status === 0 || !isJsonMediaType(res.headers['content-type']))
        .map(({ label, res }) => `${label} → ${res.status}: Content-Type ${headerValue(res.headers['content-type']) ?? 'missing'}`);
      if (problems.length) ctx.fail(op.key, problems.join('; '), errors.map((e) => e.res));
      else ctx.pass(op.key, errors[0]!.res);
    }, { perOp: 1 });
  },
};

/** Every ERR-* check, in rule order. */
export const ERR_CHECKS: Check[] = [
  rejectsNonUuidPathIds,
  rejectsInvalidQueryValues,
  rejectsSchemaViolatingBodies,
  rejectsMalformedJson,
  unknownIdsAreNotFound,
  unknownPathsAreNotFound,
  undeclaredMethodsAre405,
  errorBodiesMatchSchemas,
  errorsNeverEchoCredentials,
  errorsLeakNoInternals,
  clientErrorsNeverServerErrors,
  oversizedBodiesAre413,
  nonJsonContentTypesAre415,
  oversizedAuthorizationHeaders,
  errorsAreJson,
];
