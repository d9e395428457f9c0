/**
 * Error-code rules (specs/rules/errors.json): what the API answers to bad input, unknown ids, unknown paths and
 * methods, oversized or mistyped requests, and what an error answer may (not) contain. Negative inputs are
 * generated from the spec and its schemas (src/generators/negative.ts, src/arbitraries/) with fast-check; every request
 * that is meant to fail validation carries VALID credentials, so the 4xx comes from validation and not from auth (ES-02
 * evaluation order: rate limit, auth, validation, handler).
 */
import fc from 'fast-check';
import { bearer, headerValue, type HttpResponse } from '../http/client.js';
import { liveWriteRisk } from '../secrets/safety.js';
import { fillPath, type Operation } from '../engine/spec.js';
import type { Check } from '../engine/types.js';
import { mapLimit } from '../engine/runner.js';
import { INVALID_UUIDS } from '../generators/negative.js';
import { invalidPathId } from '../arbitraries/invalidPathId.js';
import { invalidQueryValue } from '../arbitraries/invalidQueryValue.js';
import { invalidBody } from '../arbitraries/invalidBody.js';
import { malformedJson } from '../arbitraries/malformedJson.js';
import { templateMatcher, unknownPath } from '../arbitraries/unknownPath.js';
import { allowProblem, METHODS, undeclaredMethods } from './support/allow-header.js';
import {
  encodingProbes,
  hostileBodyFailure,
  NON_JSON_TYPES,
  oversizedBodyCases,
  paddedJson,
  serverError,
} from './support/bad-requests.js';
import { seededCanaries } from './support/canaries.js';
import { validAuth } from './support/credentials.js';
import { echoProblems, leaksOf, otherEnvironmentProbe, sendEchoProbes } from './support/error-disclosure.js';
import { rateLimitProbe, sweepErrors } from './support/error-sweep.js';
import {
  coreResourceId,
  literalSegments,
  negativeCasesFor,
  plainGetPerCredential,
  replaceableIdParams,
  schemaLookup,
  typedQueryParams,
  uuidParams,
} from './support/operations.js';
import { propertyOutcome, runsPerOp } from './support/property.js';
import { forEachOperation, samplePaths } from './support/sample.js';
import { concurrency, isJsonOp, sendFor, sendRawBody, sendRequest, sendWithToken } from './support/send.js';
import { errorBodyProblem, expectError, isJsonMediaType, passOrFail } from './support/status.js';

/**
 * ERR-001 (docs: uuid path pattern; tokens-api-keys 400): a path id that is not a lowercase UUID gets 400 with the
 * BadRequest body.
 */
export const rejectsNonUuidPathIds: Check = {
  rule: 'ERR-001',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const reserved = literalSegments(ctx.spec);
    const arbId = invalidPathId(reserved);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        if (uuidParams(op).length === 0) return 'no UUID path parameter';
        const params = replaceableIdParams(op);
        if (params.length === 0)
          return (
            'the only UUID path parameter is {environmentId}, which authentication reads first (the ' +
            'credential is bound to its environment), so a non-UUID value is an auth answer there (ES-02 ' +
            'order)'
          );
        const a = auth(op);
        return typeof a === 'string' ? a : { a, params };
      },
      async (op, { a, params }) => {
        const arb = fc.tuple(
          fc.constantFrom(...params.map((p) => p.name)),
          fc.oneof(arbId, fc.constantFrom(...INVALID_UUIDS)),
        );
        await propertyOutcome(ctx, op.key, arb, runsPerOp(ctx, 3), async ([name, value]) => {
          const res = await sendFor(ctx, op, { ...a, pathParams: { [name]: value } });
          return expectError(ctx, res, [400], `non-UUID {${name}}`, op);
        });
      },
    );
  },
};

/**
 * ERR-002 (tokens-api-keys: 400 for query parameters): a query value of the wrong type, outside the enum, or breaking a
 * pattern/format/length the official document keeps gets 400.
 */
export const rejectsInvalidQueryValues: Check = {
  rule: 'ERR-002',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const lookup = schemaLookup(ctx);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        const typed = typedQueryParams(op, lookup);
        if (typed.length === 0) return 'no typed query parameter (number, boolean, enum or constrained string)';
        const risk = liveWriteRisk(ctx.config, op, 'an otherwise valid request with one bad query value');
        if (risk) return risk;
        const a = auth(op);
        return typeof a === 'string' ? a : { a, typed };
      },
      async (op, { a, typed }) => {
        const arb = fc
          .constantFrom(...typed)
          .chain(({ param, kind }) =>
            invalidQueryValue(kind).map((value) => ({ name: param.name, kind: kind.kind, value })),
          );
        await propertyOutcome(ctx, op.key, arb, runsPerOp(ctx, 4), async ({ name, kind, value }) => {
          const res = await sendFor(ctx, op, { ...a, query: { ...ctx.requests.query(op), [name]: value } });
          return expectError(ctx, res, [400], `query ${name} (${kind}) = ${JSON.stringify(value)}`, op);
        });
      },
    );
  },
};

/**
 * ERR-003 (tokens-api-keys: 400 for the request's body): a JSON body violating the request schema gets 400 with a
 * message.
 */
export const rejectsSchemaViolatingBodies: Check = {
  rule: 'ERR-003',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const lookup = schemaLookup(ctx);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        const prepared = negativeCasesFor(ctx, op, lookup);
        if (typeof prepared === 'string') return prepared;
        const risk = liveWriteRisk(ctx.config, op, 'a body with one schema violation');
        if (risk) return risk;
        const a = auth(op);
        return typeof a === 'string' ? a : { a, prepared };
      },
      async (op, { a, prepared }) => {
        const schema = op.requestBody!.schema;
        await propertyOutcome(
          ctx,
          op.key,
          invalidBody(prepared.cases, prepared.sample),
          runsPerOp(ctx, 4),
          async (c) => {
            fc.pre(!ctx.schemas.validate(schema, c.body).valid);
            const res = await sendRawBody(ctx, op, a, JSON.stringify(c.body));
            return expectError(ctx, res, [400], `body ${c.kind} at ${c.description}`, op);
          },
        );
      },
    );
  },
};

/** ERR-004 (RFC 9110 15.5.1): malformed JSON gets 400 (BadRequest body), never 5xx. */
export const rejectsMalformedJson: Check = {
  rule: 'ERR-004',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        if (!op.requestBody) return 'no request body';
        if (!isJsonOp(op)) return `request body is ${op.requestBody.contentType}, not JSON`;
        const a = auth(op);
        return typeof a === 'string' ? a : { a };
      },
      async (op, { a }) => {
        await propertyOutcome(ctx, op.key, malformedJson(ctx.requests.body(op)), runsPerOp(ctx, 3), async (text) => {
          const res = await sendRawBody(ctx, op, a, text);
          return expectError(ctx, res, [400], 'malformed JSON body', op);
        });
      },
    );
  },
};

/**
 * ERR-005 (sdk-api NotFound; tokens-api-keys 404): an unknown id of a stateful resource gets 404 with {error, code}.
 */
export const unknownIdsAreNotFound: Check = {
  rule: 'ERR-005',
  async run(ctx) {
    const auth = await validAuth(ctx);
    const known = new Set([ctx.credentials.userId, ctx.credentials.projectId, ctx.credentials.environmentId]);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        const idParam = coreResourceId(op);
        if (!idParam)
          return (
            'not an item of a stateful core resource (tokens, ' +
            'users, webhooks, allowlists, origins): nothing to ' +
            'look up'
          );
        if (ctx.config.target === 'live' && op.method !== 'GET' && op.method !== 'DELETE' && !ctx.config.allowWrites) {
          return liveWriteRisk(ctx.config, op, 'a write to an unknown id') ?? 'write';
        }
        const a = auth(op);
        return typeof a === 'string' ? a : { a, idParam };
      },
      async (op, { a, idParam }) => {
        await propertyOutcome(
          ctx,
          op.key,
          fc.uuid({ version: 4 }).filter((u) => !known.has(u)),
          runsPerOp(ctx, 3),
          async (id) => {
            const res = await sendFor(ctx, op, { ...a, pathParams: { [idParam]: id } });
            return expectError(ctx, res, [404], `unknown {${idParam}}`, op);
          },
        );
      },
    );
  },
};

/** ERR-006 (tokens-api-keys: 404 path not found): an unknown path gets 404 with the NotFound body (error and code). */
export const unknownPathsAreNotFound: Check = {
  rule: 'ERR-006',
  async run(ctx) {
    const isKnown = templateMatcher(ctx.spec.operations.map((o) => o.path));
    const filled = [...new Set(ctx.spec.operations.map((o) => fillPath(o.path, ctx.requests.pathParams(o))))];
    const kinds = ['top-level', 'sub-resource', 'random'] as const;
    const methods =
      ctx.config.target === 'live' && !ctx.config.allowWrites ? ['GET'] : ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const authorization = bearer(ctx.credentials.apiToken);
    await mapLimit(kinds, concurrency(ctx), async (kind) => {
      const arb = fc.tuple(
        unknownPath(filled, isKnown).filter((p) => p.kind === kind),
        fc.constantFrom(...methods),
      );
      await propertyOutcome(ctx, `unknown ${kind} path`, arb, runsPerOp(ctx, 25), async ([p, method]) => {
        const res = await sendWithToken(ctx, method, p.path, authorization);
        return expectError(ctx, res, [404], `${method} ${p.path}`);
      });
    });
  },
};

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
    const paths = samplePaths(ctx, [...byPath.entries()]);
    await mapLimit(paths, concurrency(ctx), async ([path, ops], index) => {
      const declared = new Set(ops.map((o) => o.method));
      const readOnly = ctx.config.target === 'live' && !ctx.config.allowWrites;
      const undeclared = undeclaredMethods(declared, readOnly, index);
      if (undeclared.length === 0) {
        return ctx.skip(
          path,
          declared.size === METHODS.length
            ? 'every method is declared'
            : 'on live only an undeclared GET is sent without DYNAMIC_ALLOW_WRITES, and GET is declared',
        );
      }
      const filled = fillPath(path, ctx.requests.pathParams(ops[0]!));
      const problems: string[] = [];
      const responses: HttpResponse[] = [];
      for (const method of undeclared) {
        const res = await sendWithToken(ctx, method, filled, authorization);
        responses.push(res);
        const v = expectError(ctx, res, [405], method);
        if (!v.ok) {
          problems.push(v.reason);
          continue;
        }
        const problem = allowProblem(method, res.headers.allow, declared);
        if (problem) problems.push(problem);
      }
      passOrFail(ctx, path, problems, responses);
    });
  },
};

/**
 * ERR-008 (the official document's per-operation error bodies, e.g. ForbiddenWithErrorAndPayload; else the profile's
 * BadRequest, Unauthorized, Forbidden, NotFound, TooManyRequests): every error body validates against its documented
 * schema.
 */
export const errorBodiesMatchSchemas: Check = {
  rule: 'ERR-008',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await sweepErrors(
      ctx,
      undefined,
      (op, errors) => {
        if (errors.length === 0) return ctx.skip(op.key, 'no probe provoked an error on this operation');
        const problems = errors.flatMap(({ label, res }) => {
          if (res.status === 0) return [`${label}: no response (${res.exchange.error ?? 'transport error'})`];
          const p = errorBodyProblem(ctx, res, op);
          return p ? [`${label} → ${res.status}: ${p}`] : [];
        });
        const statuses = [...new Set(errors.map((e) => e.res.status))].sort().join(', ');
        if (problems.length)
          ctx.fail(
            op.key,
            `${problems.join('; ')} (statuses seen: ${statuses})`,
            errors.map((e) => e.res),
          );
        else ctx.pass(op.key, errors[0]!.res);
      },
      { extra: (op) => rateLimitProbe(ctx, op, auth) },
    );
  },
};

/**
 * ERR-009 (OWASP API8:2023; CWE-209): no error body or header echoes a credential (a registered canary, scanned in
 * 8-character pieces).
 */
export const errorsNeverEchoCredentials: Check = {
  rule: 'ERR-009',
  async run(ctx) {
    const canary = seededCanaries(ctx);
    const other = otherEnvironmentProbe(ctx.credentials.otherEnvironmentToken);
    await forEachOperation(
      ctx,
      ctx.operations,
      () => ({}),
      async (op) => {
        const sent = await sendEchoProbes(ctx, op, canary, other);
        passOrFail(
          ctx,
          op.key,
          echoProblems(sent),
          sent.map((s) => s.res),
        );
      },
    );
  },
};

/** ERR-010 (OWASP API8:2023; CWE-209): error bodies carry no stack trace, file path or internals (ES-08 patterns). */
export const errorsLeakNoInternals: Check = {
  rule: 'ERR-010',
  async run(ctx) {
    await sweepErrors(
      ctx,
      undefined,
      (op, errors) => {
        if (errors.length === 0) return ctx.skip(op.key, 'no probe provoked an error on this operation');
        const problems = errors.flatMap(({ label, res }) => {
          const leaks = leaksOf(res);
          return leaks.length ? [`${label} → ${res.status}: ${leaks.join(', ')}`] : [];
        });
        passOrFail(
          ctx,
          op.key,
          problems,
          errors.map((e) => e.res),
        );
      },
      { perOp: 2 },
    );
  },
};

/**
 * ERR-011 (tokens-api-keys; RFC 9110 15.5): client errors never produce a 5xx — broken percent-encoding, oversized
 * query values, deeply nested JSON, numbers beyond double range, invalid UTF-8, empty required bodies.
 */
export const clientErrorsNeverServerErrors: Check = {
  rule: 'ERR-011',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        const a = auth(op);
        return { cred: typeof a === 'string' ? {} : a };
      },
      async (op, { cred }, index) => {
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
        const bodyRisk = liveWriteRisk(ctx.config, op, 'a hostile body');
        if (isJsonOp(op) && !bodyRisk) {
          if (op.requestBody!.required) {
            const v = serverError(await sendRawBody(ctx, op, cred, ''), 'empty body on a required-body operation');
            if (!v.ok) {
              problems.push(v.reason);
              if (v.res) failed.push(v.res);
            }
          }
          const failure = await hostileBodyFailure(ctx, op, cred, (res) => (last = res));
          if (failure) {
            problems.push(failure.reason);
            if (failure.res) failed.push(failure.res);
          }
        }
        if (problems.length) ctx.fail(op.key, problems.join('; '), failed);
        else if (last) ctx.pass(op.key, last);
        else ctx.skip(op.key, bodyRisk ?? 'no probe could be sent');
      },
    );
  },
};

/**
 * ERR-012 (RFC 9110 15.5.14; OWASP API4:2023): a body over the 1 MiB limit gets 413 (≈ 2 MB once on a few operations,
 * and 1 MiB + 1 byte).
 */
export const oversizedBodiesAre413: Check = {
  rule: 'ERR-012',
  async run(ctx) {
    const auth = await validAuth(ctx);
    for (const { op, bytes, label } of oversizedBodyCases(ctx.spec.operations)) {
      const risk = liveWriteRisk(ctx.config, op, 'an oversized body');
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
      const v = expectError(ctx, res, [413], `${bytes} byte body`, op);
      if (v.ok) ctx.pass(label, res);
      else {
        const reason = `${v.reason} after ${Math.round(performance.now() - started)} ms`;
        ctx.fail(label, { reason, expected: v.expected, received: v.received }, res);
      }
    }
  },
};

/** ERR-013 (RFC 9110 15.5.16): a JSON operation given a non-JSON Content-Type (or none) gets 415. */
export const nonJsonContentTypesAre415: Check = {
  rule: 'ERR-013',
  async run(ctx) {
    const auth = await validAuth(ctx);
    await forEachOperation(
      ctx,
      ctx.operations,
      (op) => {
        if (!op.requestBody) return 'no request body';
        if (!isJsonOp(op)) return `request body is ${op.requestBody.contentType}, not JSON`;
        const risk = liveWriteRisk(ctx.config, op, 'a valid JSON body under another Content-Type');
        if (risk) return risk;
        const a = auth(op);
        return typeof a === 'string' ? a : { a };
      },
      async (op, { a }) => {
        const body = JSON.stringify(ctx.requests.body(op));
        await propertyOutcome(ctx, op.key, fc.constantFrom(...NON_JSON_TYPES), runsPerOp(ctx, 2), async (type) => {
          const res = await sendRawBody(ctx, op, a, body, type === '(none)' ? null : type);
          return expectError(ctx, res, [415], `valid JSON sent as ${type}`, op);
        });
      },
    );
  },
};

/**
 * ERR-014 (RFC 6585 5; conformance-rules ES-11): an oversized Authorization header never gets a 5xx or a hang. 64 KB is
 * past every common header limit → 431 or 400; 10 KB fits under some (node's default is 16 KB), where the server may
 * also read it as an invalid credential → any 4xx (ES-11: "a 10 KB token … → 4xx within the client timeout").
 */
export const oversizedAuthorizationHeaders: Check = {
  rule: 'ERR-014',
  async run(ctx) {
    for (const op of plainGetPerCredential(ctx.spec.operations)) {
      for (const kb of [10, 64]) {
        const subject = `${op.key} (Authorization ${kb} KB)`;
        const value = `Bearer ${ctx.spec.profile.token.prefix}${'A'.repeat(kb * 1024)}`;
        const started = performance.now();
        const res = await sendFor(ctx, op, { authorization: value, on429: 'return' });
        const ms = Math.round(performance.now() - started);
        if (res.status === 429) ctx.inconclusive(subject, 'rate limited (429) before the header could be judged', res);
        else if (ms > 10_000)
          ctx.fail(subject, `answered after ${ms} ms (a hang for a header the server should refuse at once)`, res);
        else if (res.status === 0)
          ctx.fail(
            subject,
            `no HTTP answer within ${ms} ms (${res.exchange.error ?? 'connection closed'}); expected 431 or 400`,
            res,
          );
        else if (kb >= 64 ? res.status !== 431 && res.status !== 400 : res.status < 400 || res.status >= 500)
          ctx.fail(subject, `expected ${kb >= 64 ? '431 or 400' : 'a 4xx'}, got ${res.status} (${ms} ms)`, res);
        else ctx.pass(subject, res);
      }
    }
  },
};

/** ERR-015 (RFC 9110 8.3; OWASP REST): error responses are JSON (Content-Type application/json). */
export const errorsAreJson: Check = {
  rule: 'ERR-015',
  async run(ctx) {
    await sweepErrors(
      ctx,
      new Set([400, 401, 403, 404, 415]),
      (op, errors) => {
        if (errors.length === 0) return ctx.skip(op.key, 'no probe provoked an error on this operation');
        const problems = errors
          .filter(({ res }) => res.status === 0 || !isJsonMediaType(res.headers['content-type']))
          .map(
            ({ label, res }) =>
              `${label} → ${res.status}: Content-Type ${headerValue(res.headers['content-type']) ?? 'missing'}`,
          );
        passOrFail(
          ctx,
          op.key,
          problems,
          errors.map((e) => e.res),
        );
      },
      { perOp: 1 },
    );
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
