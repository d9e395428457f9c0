/**
 * Shared building blocks of the object-level authorization checks (OBJ rules, specs/rules/object.json): the ownership
 * catalogue (specs/objects.json), which object an operation names, where another owner's object ids come from (the
 * mock's seed, or discovery through list operations with the other owner's credential on live), and the one verdict
 * on a refusal (403/404, the documented error body, nothing of the object in it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../engine/config.js';
import type { HeaderValue, HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { LoadedSpec, Operation } from '../../engine/spec.js';
import { mapLimit } from '../../engine/runner.js';
import type { CheckContext } from '../../engine/types.js';
import { sendFor } from './send.js';
import { judgeStatus } from './status.js';

/** Who owns the objects of a family. */
export type OwnerKind = 'environment' | 'organization' | 'user';

/** One owned object family of specs/objects.json. */
export interface ObjectFamily {
  family: string;
  params: string[];
  /** operationId -> body member naming the object. */
  body?: Record<string, string>;
  surface?: 'admin' | 'sdk';
  pathPrefix?: string;
  owner: OwnerKind;
  stored?: boolean;
  discover?: { operationId: string; ids: string; with?: Record<string, string> };
}

/** specs/objects.json. */
export interface ObjectCatalogue {
  families: ObjectFamily[];
  unowned: Record<string, string>;
}

/** Where an operation names an owned object. */
export interface ObjectRef {
  family: ObjectFamily;
  in: 'path' | 'body';
  name: string;
}

let catalogue: ObjectCatalogue | undefined;

/** The ownership catalogue (read once). */
export function objectCatalogue(): ObjectCatalogue {
  catalogue ??= JSON.parse(readFileSync(join(ROOT, 'specs', 'objects.json'), 'utf8')) as ObjectCatalogue;
  return catalogue;
}

/** The objects an operation names, in path order, then body members (the same reading as mock/ownership.ts). */
export function objectRefs(op: Operation, families: readonly ObjectFamily[] = objectCatalogue().families): ObjectRef[] {
  const sdk = op.path.startsWith('/sdk/');
  const refs: ObjectRef[] = [];
  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    const family = families.find(
      (f) =>
        f.params.includes(p.name) &&
        (f.surface === undefined || f.surface === (sdk ? 'sdk' : 'admin')) &&
        (f.pathPrefix === undefined || op.path.startsWith(f.pathPrefix)),
    );
    if (family) refs.push({ family, in: 'path', name: p.name });
  }
  for (const family of families) {
    const member = family.body?.[op.operationId];
    if (member !== undefined) refs.push({ family, in: 'body', name: member });
  }
  return refs;
}

/** The api-token operations that address an object by id alone: a path id parameter and no {environmentId} (69). */
export function idOnlyOperations(spec: LoadedSpec): Operation[] {
  return spec.operations.filter(
    (op) =>
      op.auth === 'api-token' && !op.path.includes('{environmentId}') && op.parameters.some((p) => p.in === 'path'),
  );
}

/** The /sdk user-JWT operations on one of the user's own objects (a path parameter or body member of a family). */
export function userObjectOperations(spec: LoadedSpec): Operation[] {
  return spec.operations.filter(
    (op) => op.auth === 'user-jwt' && objectRefs(op).some((r) => r.family.owner === 'user'),
  );
}

/** Why an id-only operation names no owned object (its path parameters are reference data), from specs/objects.json. */
export function unownedReason(op: Operation): string {
  const { unowned } = objectCatalogue();
  const names = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  return names.map((n) => `{${n}} is ${unowned[n] ?? 'not classified in specs/objects.json'}`).join('; ');
}

/** A seeded owned object of the mock (`GET /__mock/seed` objects). */
export interface SeededObject {
  family: string;
  id: string;
  organizationId: string;
  environmentId?: string;
  userId?: string;
}

const seeded = new WeakMap<object, Promise<SeededObject[]>>();

/** The mock's seeded owned objects (cached per control client); empty on live. */
export function mockObjects(ctx: CheckContext): Promise<SeededObject[]> {
  const mock = ctx.mock;
  if (!mock) return Promise.resolve([]);
  let pending = seeded.get(mock);
  if (!pending) {
    pending = mock.seed().then((s) => s.objects ?? []);
    seeded.set(mock, pending);
  }
  return pending;
}

/** The mock seed's environments (organization of each), cached with the objects. */
export async function mockEnvironments(
  ctx: CheckContext,
): Promise<{ id: string; organizationId?: string; projectId?: string; name: string }[]> {
  return ctx.mock ? (await ctx.mock.seed()).environments : [];
}

/** Reads the ids at `path` of a JSON answer: members separated by '/', '*' = every item of an array. */
export function idsAt(value: unknown, path: string): string[] {
  let current: unknown[] = [value];
  for (const part of path.split('/')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (part === '*') {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
      } else if (typeof v === 'object' && v !== null && !Array.isArray(v))
        next.push((v as Record<string, unknown>)[part]);
    }
    current = next;
  }
  return current.filter((v): v is string => typeof v === 'string' && v !== '');
}

/** A credential of one side of a cross-owner check and the environment it belongs to. */
export interface Side {
  label: string;
  authorization: HeaderValue;
  environmentId: string | undefined;
}

/** Ids discovered per family, or why none could be. */
export type Discovered = Map<string, { ids: string[] } | { reason: string }>;

/**
 * Discovers object ids through the families' list operations (specs/objects.json `discover`) with one side's
 * credential — read-only GETs, one per family. `with` parameters take the first id discovered for another family
 * (e.g. an allowlist's entries). Ids `exclude` names (the main credential's own objects) are dropped.
 */
export async function discoverIds(
  ctx: CheckContext,
  side: Side,
  families: readonly ObjectFamily[],
  exclude: ReadonlySet<string> = new Set(),
): Promise<Discovered> {
  const out: Discovered = new Map();
  const ordered = [...families].sort((a, b) => Number(Boolean(a.discover?.with)) - Number(Boolean(b.discover?.with)));
  for (const family of ordered) {
    const d = family.discover;
    if (!d) {
      out.set(family.family, {
        reason: `no list operation reveals ${family.family} ids (specs/objects.json has no discover entry)`,
      });
      continue;
    }
    const op = ctx.spec.byId.get(d.operationId);
    if (!op) {
      out.set(family.family, { reason: `the list operation ${d.operationId} is not in the spec` });
      continue;
    }
    const pathParams: Record<string, string> = {};
    if (op.path.includes('{environmentId}')) {
      if (!side.environmentId) {
        out.set(family.family, { reason: `${side.label}: its environment id is not known` });
        continue;
      }
      pathParams.environmentId = side.environmentId;
    }
    let missing: string | undefined;
    for (const [param, from] of Object.entries(d.with ?? {})) {
      const got = out.get(from);
      if (got && 'ids' in got && got.ids[0]) pathParams[param] = got.ids[0];
      else missing = `needs an id of a ${from} first (${got && 'reason' in got ? got.reason : 'none discovered'})`;
    }
    if (missing) {
      out.set(family.family, { reason: missing });
      continue;
    }
    const res = await sendFor(ctx, op, { authorization: side.authorization, pathParams });
    if (res.status !== 200) {
      out.set(family.family, {
        reason: `${op.key} with ${side.label} answered ${res.status || res.exchange.error || 'no response'}`,
      });
      continue;
    }
    const ids = [...new Set(idsAt(res.json, d.ids))].filter((id) => !exclude.has(id));
    out.set(
      family.family,
      ids.length
        ? { ids }
        : { reason: `${op.key} with ${side.label} lists no ${family.family} (create one to cover these operations)` },
    );
  }
  return out;
}

/**
 * Ids of the other side's objects that the main side does not list itself (live discovery): both sides' list
 * operations are read and ids the main credential also lists (shared or its own objects) are dropped, so an id the
 * main credential may legitimately reach never becomes a false alarm.
 */
export async function discoverForeign(
  ctx: CheckContext,
  other: Side,
  main: Side,
  families: readonly ObjectFamily[],
): Promise<Discovered> {
  const own = await discoverIds(ctx, main, families);
  const exclude = new Set([...own.values()].flatMap((v) => ('ids' in v ? v.ids : [])));
  return discoverIds(ctx, other, families, exclude);
}

/** A request for `op` naming object `id` where the operation names its first owned object. */
export function withObject(
  ctx: CheckContext,
  op: Operation,
  ref: ObjectRef,
  id: string,
  options: RequestOptions,
): RequestOptions {
  if (ref.in === 'path') return { ...options, pathParams: { ...(options.pathParams ?? {}), [ref.name]: id } };
  const body = (options.body ?? ctx.requests.body(op) ?? {}) as Record<string, unknown>;
  return { ...options, body: { ...body, [ref.name]: id } };
}

/** String values (6+ characters) of an object as its owner reads it: what a refusal must not contain. */
export function distinctiveValues(value: unknown, skip: ReadonlySet<string> = new Set()): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 6) return;
    if (typeof v === 'string') {
      if (v.length >= 6 && !skip.has(v) && v !== 'string') out.add(v);
    } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(value, 0);
  return [...out];
}

/** Statuses that refuse another owner's object: 403 (documented, tokens-api-keys) or 404 (existence hidden). */
export const REFUSAL_STATUSES = [403, 404];

/**
 * The verdict on the answer to a request for another owner's object (undefined = refused correctly): 403 or 404, the
 * documented error body of that status (profile errors), and none of the object's values in the body.
 */
export function refusalProblem(
  ctx: CheckContext,
  res: HttpResponse,
  leaks: readonly string[] = [],
): string | undefined {
  const mismatch = judgeStatus(ctx, res, REFUSAL_STATUSES);
  if (mismatch)
    return res.status >= 200 && res.status < 300
      ? `${mismatch.reason} — another owner's object was served`
      : mismatch.reason;
  const leaked = leaks.filter((s) => res.text.includes(s));
  if (leaked.length) return `the refusal carries ${leaked.length} value(s) of the other owner's object`;
  return undefined;
}

/** The outcome of one operation: pass, fail (reason), skip (reason) or inconclusive (rate limited). */
export type OperationVerdict =
  | { status: 'pass'; response?: HttpResponse }
  | { status: 'fail'; reason: string; responses: HttpResponse[] }
  | { status: 'skip'; reason: string }
  | { status: 'inconclusive'; reason: string; response?: HttpResponse };

/**
 * Runs `judge` per operation (8 at a time on the mock, one at a time on live) and records one outcome per operation.
 */
export async function perOperation(
  ctx: CheckContext,
  operations: readonly Operation[],
  judge: (op: Operation) => Promise<OperationVerdict>,
): Promise<void> {
  await mapLimit(operations, ctx.config.target === 'mock' ? 8 : 1, async (op) => {
    const v = await judge(op);
    if (v.status === 'pass') ctx.pass(op.key, v.response);
    else if (v.status === 'fail') ctx.fail(op.key, v.reason, v.responses);
    else if (v.status === 'skip') ctx.skip(op.key, v.reason);
    else ctx.inconclusive(op.key, v.reason, v.response);
  });
}

/** Turns a refusal verdict into an operation verdict (a 429 that survived the client's retries is inconclusive). */
export function refusalVerdict(
  ctx: CheckContext,
  res: HttpResponse,
  leaks: readonly string[],
  what: string,
): OperationVerdict {
  if (res.status === 429)
    return { status: 'inconclusive', reason: `${what}: rate limited (429 after the client's retries)`, response: res };
  const problem = refusalProblem(ctx, res, leaks);
  return problem
    ? { status: 'fail', reason: `${what}: ${problem}`, responses: [res] }
    : { status: 'pass', response: res };
}
