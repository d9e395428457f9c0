/**
 * The error sweep (ERR-008, ERR-010, ERR-015): requests that provoke each documented error class an operation can
 * produce, sent per operation, whose error answers a check then judges (schema, leaks, content type).
 */
import { bearer, type HttpResponse } from '../../http/client.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { INVALID_UUIDS, type SchemaLookup } from '../../generators/negative.js';
import { liveWriteRisk } from '../../secrets/safety.js';
import { validAuth, type AuthFor } from './credentials.js';
import {
  coreResourceId,
  literalSegments,
  negativeCasesFor,
  replaceableIdParams,
  schemaLookup,
  typedQueryParams,
} from './operations.js';
import { forEachOperation } from './sample.js';
import { isJsonOp, sendFor, sendRawBody } from './send.js';

/** One request built to provoke an error on an operation. */
export interface ErrorProbe {
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
export function errorProbes(
  ctx: CheckContext,
  op: Operation,
  tools: SweepTools,
  kinds: ReadonlySet<number> = new Set([400, 401, 403, 404, 415]),
): ErrorProbe[] {
  const probes: ErrorProbe[] = [];
  const safe = liveWriteRisk(ctx.config, op) === undefined;
  const a = tools.auth(op);
  const cred = typeof a === 'string' ? undefined : a;
  const c = ctx.credentials;
  if (kinds.has(401) && op.auth !== 'none')
    probes.push({ label: 'no credentials', expect: [401], request: () => sendFor(ctx, op, {}) });
  if (kinds.has(403) && op.auth === 'api-token' && safe) {
    const hasEnv = op.parameters.some((p) => p.name === 'environmentId' && p.in === 'path');
    if (hasEnv && c.otherEnvironmentToken)
      probes.push({
        label: 'token of another environment',
        expect: [403],
        request: () => sendFor(ctx, op, { authorization: bearer(c.otherEnvironmentToken!) }),
      });
    else if (c.noScopeToken && (op.scopes.length || op.inferredScopes.length))
      probes.push({
        label: 'token without scopes',
        expect: [403],
        request: () => sendFor(ctx, op, { authorization: bearer(c.noScopeToken!) }),
      });
  }
  if (!cred) return probes;
  if (kinds.has(400)) {
    const ids = replaceableIdParams(op);
    if (ids.length)
      probes.push({
        label: 'non-UUID path id',
        expect: [400],
        request: () => sendFor(ctx, op, { ...cred, pathParams: { [ids[0]!.name]: INVALID_UUIDS[0]! } }),
      });
    if (isJsonOp(op)) {
      probes.push({
        label: 'malformed JSON',
        expect: [400],
        request: () => sendRawBody(ctx, op, cred, '{"malformed": '),
      });
      const prepared = safe ? negativeCasesFor(ctx, op, tools.lookup) : 'unsafe';
      if (typeof prepared !== 'string')
        probes.push({
          label: `invalid body (${prepared.cases[0]!.description})`,
          expect: [400],
          request: () => sendRawBody(ctx, op, cred, JSON.stringify(prepared.cases[0]!.body)),
        });
    }
    const typed = safe ? typedQueryParams(op, tools.lookup) : [];
    if (typed.length)
      probes.push({
        label: `invalid query ${typed[0]!.param.name}`,
        expect: [400],
        request: () =>
          sendFor(ctx, op, {
            ...cred,
            query: { ...ctx.requests.query(op), [typed[0]!.param.name]: 'not-a-valid-value' },
          }),
      });
  }
  const idParam = coreResourceId(op);
  if (kinds.has(404) && idParam && op.auth === 'api-token' && (safe || op.method === 'DELETE')) {
    probes.push({
      label: 'unknown id',
      expect: [404],
      request: () => sendFor(ctx, op, { ...cred, pathParams: { [idParam]: '00000000-0000-4000-8000-000000000000' } }),
    });
  }
  if (kinds.has(415) && isJsonOp(op) && safe)
    probes.push({
      label: 'text/plain body',
      expect: [415],
      request: () => sendRawBody(ctx, op, cred, JSON.stringify(ctx.requests.body(op)), 'text/plain'),
    });
  return probes;
}

/** Runs the probes of every operation and hands each operation's error responses to `judge`. */
export async function sweepErrors(
  ctx: CheckContext,
  kinds: ReadonlySet<number> | undefined,
  judge: (op: Operation, errors: { label: string; res: HttpResponse }[]) => void,
  options: { extra?: (op: Operation) => ErrorProbe[]; perOp?: number } = {},
): Promise<void> {
  const tools = await sweepTools(ctx);
  await forEachOperation(
    ctx,
    ctx.operations,
    (op) => {
      const probes = [...errorProbes(ctx, op, tools, kinds), ...(options.extra?.(op) ?? [])];
      return probes.length
        ? { probes }
        : `no probe can provoke an error here (` +
            (op.auth === 'none' ? 'no auth, ' : '') +
            `no replaceable id, JSON body or typed query` +
            (ctx.config.target === 'live' ? ' that is safe to send on live' : '') +
            `)`;
    },
    async (op, { probes: all }, index) => {
      // A subset per operation, rotating with its index, so the sweep still covers every probe kind across the API.
      const probes =
        options.perOp !== undefined && all.length > options.perOp
          ? Array.from({ length: options.perOp }, (_, k) => all[(index + k) % all.length]!)
          : all;
      const errors: { label: string; res: HttpResponse }[] = [];
      for (const p of probes) {
        const res = await p.request();
        if (res.status >= 400 || res.status === 0) errors.push({ label: p.label, res });
      }
      judge(op, errors);
    },
  );
}

/**
 * Requests that provoke a 429 on an operation with a low per-IP limit (the policy's smallest window + 1, from one
 * source address); empty for other operations and on live (rate limits are the rate-limit family's business there).
 */
export function rateLimitProbe(ctx: CheckContext, op: Operation, auth: AuthFor): ErrorProbe[] {
  if (ctx.config.target !== 'mock') return [];
  const small = op.policies
    .map((id) => ctx.spec.profile.rateLimits[id])
    .filter((p) => p && p.key.length === 1 && p.key[0] === 'ip' && p.windows?.length)
    .flatMap((p) => p!.windows!)
    .sort((x, y) => x.limit - y.limit)[0];
  if (!small || small.limit > 10) return [];
  const a = auth(op);
  if (typeof a === 'string') return [];
  return [
    {
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
    },
  ];
}
