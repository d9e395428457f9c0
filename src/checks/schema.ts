/**
 * Response-schema rules (specs/rules/schema.json): what the API answers to VALID requests — bodies that match the
 * operation's success schema, JSON content types, documented status codes, the stateful round trips of the core
 * resources, and the security headers of credentialed answers. Every operation gets one well-formed request with
 * valid credentials (API token for api-token operations, a JWT minted on the mock for user-jwt ones); operations
 * that address a stateful resource get one created for them first, DELETEs run last.
 */
import { bearer, headerValue, type HttpResponse } from '../http/client.js';
import type { RequestOptions } from '../http/requests.js';
import type { Operation } from '../engine/spec.js';
import { mapLimit } from '../engine/runner.js';
import { concurrency, sendFor } from './support/send.js';
import type { Check, CheckContext } from '../engine/types.js';
import { liveWriteRisk } from '../secrets/safety.js';
import { validAuth, type AuthFor } from './support/credentials.js';
import { coreResourceId, replaceableIdParams } from './support/operations.js';
import { forEachOperation } from './support/sample.js';
import { errorBodyProblem, isJsonMediaType } from './support/status.js';
import { observeResponse } from '../nightly/drift.js';

// ---- stateful core resources ---------------------------------------------------------------------------------------

/** A core resource by its id parameter: the sdk-api operations that create, list, get and delete it. */
interface CoreResource {
  name: string;
  idParam: string;
  create: string;
  list: string;
  get?: string;
  remove: string;
  /** A resource created below another one (allowlist entries below an allowlist). */
  parent?: string;
}

/** sdk-api TokensApi, UsersApi, WebhooksApi, AllowlistsApi, OriginsApi (operation ids of the spec). */
const CORE_RESOURCES: CoreResource[] = [
  { name: 'API token', idParam: 'tokenId', create: 'postToken', list: 'getTokens', remove: 'deleteTokenById' },
  {
    name: 'user',
    idParam: 'userId',
    create: 'createUser',
    list: 'getEnvironmentUsers',
    get: 'getUser',
    remove: 'deleteUser',
  },
  {
    name: 'webhook',
    idParam: 'webhookId',
    create: 'createWebhook',
    list: 'getWebhooks',
    get: 'getWebhook',
    remove: 'deleteWebhookById',
  },
  {
    name: 'allowlist',
    idParam: 'allowlistId',
    create: 'createAllowlistByEnvironmentId',
    list: 'getAllowlistsByEnvironmentId',
    get: 'getAllowlistsById',
    remove: 'deleteAllowlistById',
  },
  {
    name: 'allowlist entry',
    idParam: 'allowlistEntryId',
    create: 'postEntryByAllowlistId',
    list: 'getEntriesByAllowlistId',
    remove: 'deleteAllowlistEntryById',
    parent: 'allowlistId',
  },
  { name: 'origin', idParam: 'originId', create: 'addOrigin', list: 'getOrigins', remove: 'deleteOriginById' },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id of a created resource in a response: a value under the id parameter's own name, else the shallowest `id`. */
export function findId(json: unknown, idParam: string): string | undefined {
  let level: unknown[] = [json];
  let fallback: string | undefined;
  for (let depth = 0; depth < 4 && level.length; depth += 1) {
    const next: unknown[] = [];
    for (const node of level) {
      if (node === null || typeof node !== 'object' || Array.isArray(node)) continue;
      const obj = node as Record<string, unknown>;
      const own = obj[idParam];
      if (typeof own === 'string' && UUID.test(own)) return own;
      if (fallback === undefined && typeof obj.id === 'string' && UUID.test(obj.id)) fallback = obj.id;
      next.push(...Object.values(obj));
    }
    if (fallback !== undefined) return fallback;
    level = next;
  }
  return fallback;
}

/** True when a list answer mentions the id anywhere (lists are shaped differently per resource). */
function listContains(json: unknown, id: string): boolean {
  return JSON.stringify(json ?? null).includes(`"${id}"`);
}

/** Creates core resources on demand: one shared per kind for reads and updates, a fresh one for every DELETE. */
class Provisioner {
  private readonly shared = new Map<string, Promise<string | { error: string }>>();
  private readonly created: { resource: CoreResource; id: string; parentId: string | undefined }[] = [];

  constructor(
    private readonly ctx: CheckContext,
    private readonly auth: AuthFor,
  ) {}

  private resource(idParam: string): CoreResource | undefined {
    return CORE_RESOURCES.find((r) => r.idParam === idParam);
  }

  /** Creates one resource; the id, or the reason it could not be created. */
  async create(
    resource: CoreResource,
  ): Promise<{ id: string; parentId: string | undefined; res: HttpResponse } | { error: string; res?: HttpResponse }> {
    const op = this.ctx.spec.byId.get(resource.create);
    if (!op) return { error: `the spec has no ${resource.create}` };
    const risk = liveWriteRisk(this.ctx.config, op, `creating a ${resource.name} to address`);
    if (risk) return { error: risk };
    let parentId: string | undefined;
    if (resource.parent) {
      const parent = await this.sharedId(resource.parent);
      if (typeof parent !== 'string') return parent;
      parentId = parent;
    }
    const a = this.auth(op);
    if (typeof a === 'string') return { error: a };
    const res = await sendFor(this.ctx, op, {
      ...a,
      ...(resource.parent && parentId ? { pathParams: { [resource.parent]: parentId } } : {}),
    });
    const id = res.status >= 200 && res.status < 300 ? findId(res.json, resource.idParam) : undefined;
    if (!id)
      return {
        error:
          `creating a ${resource.name} (${op.key}) answered ` +
          `${res.status}` +
          (id === undefined && res.status < 300 ? ' without an id' : ''),
        res,
      };
    this.created.push({ resource, id, parentId });
    return { id, parentId, res };
  }

  private sharedId(idParam: string): Promise<string | { error: string }> {
    let p = this.shared.get(idParam);
    if (!p) {
      const resource = this.resource(idParam);
      p = resource
        ? this.create(resource).then((r) => ('id' in r ? r.id : { error: r.error }))
        : Promise.resolve({ error: `no core resource ${idParam}` });
      this.shared.set(idParam, p);
    }
    return p;
  }

  /** Path parameters for an operation on a core resource (fresh for DELETE), {} for other operations, or why none. */
  async pathParamsFor(op: Operation): Promise<Record<string, string> | string> {
    const idParam = coreResourceId(op);
    if (!idParam) return {};
    const resource = this.resource(idParam);
    if (!resource) return {};
    if (op.method === 'DELETE' && op.operationId === resource.remove) {
      const r = await this.create(resource);
      if ('error' in r) return r.error;
      return { [idParam]: r.id, ...(resource.parent && r.parentId ? { [resource.parent]: r.parentId } : {}) };
    }
    const id = await this.sharedId(idParam);
    return typeof id === 'string' ? { [idParam]: id } : id.error;
  }

  /** Deletes what was created and still exists (best effort; on the mock this only keeps the store small). */
  async cleanUp(): Promise<void> {
    for (const { resource, id, parentId } of this.created.reverse()) {
      const op = this.ctx.spec.byId.get(resource.remove);
      const a = op ? this.auth(op) : 'no delete operation';
      if (!op || typeof a === 'string') continue;
      await sendFor(this.ctx, op, {
        ...a,
        pathParams: { [resource.idParam]: id, ...(resource.parent && parentId ? { [resource.parent]: parentId } : {}) },
      });
    }
  }
}

// ---- the valid-request sweep ---------------------------------------------------------------------------------------

/** Operations the valid-request sweep samples on live (GETs only; the mock target covers every operation). */
const LIVE_SWEEP_SAMPLE = 24;

/** Why an operation is not sent a valid request on this target, if it is not. */
function sweepRisk(ctx: CheckContext, op: Operation): string | undefined {
  if (ctx.config.target === 'live' && op.method !== 'GET') {
    return (
      `${op.method} on live: the valid-request sweep sends only GETs there (writes are ` +
      `exercised by SCHEMA-004's round trips on disposable resources, with ` +
      `DYNAMIC_ALLOW_WRITES)`
    );
  }
  return liveWriteRisk(ctx.config, op, 'a valid request');
}

/**
 * Sends one valid, credentialed request to every operation of the rule (reads and updates first, then DELETEs, each
 * on a resource of its own) and hands the answer to `judge`; records a skip where no request can be sent.
 */
async function validSweep(
  ctx: CheckContext,
  judge: (op: Operation, res: HttpResponse, auth: Pick<RequestOptions, 'authorization'>) => Promise<void> | void,
): Promise<void> {
  const auth = await validAuth(ctx);
  const provisioner = new Provisioner(ctx, auth);
  const phases = [
    ctx.operations.filter((o) => o.method !== 'DELETE'),
    ctx.operations.filter((o) => o.method === 'DELETE'),
  ];
  for (const phase of phases) {
    await forEachOperation(
      ctx,
      phase,
      (op) => {
        const a = auth(op);
        const resource = CORE_RESOURCES.find((r) => r.idParam === coreResourceId(op));
        const needsWrite =
          resource && ctx.config.target === 'live' && !ctx.config.allowWrites
            ? `live: addresses ` +
              (/^[aeiou]/.test(resource.name) ? 'an' : 'a') +
              ` ${resource.name}, which the suite would have to create first; set ` +
              `DYNAMIC_ALLOW_WRITES=true for a disposable sandbox`
            : undefined;
        return sweepRisk(ctx, op) ?? needsWrite ?? (typeof a === 'string' ? a : { a });
      },
      async (op, { a }) => {
        const pathParams = await provisioner.pathParamsFor(op);
        if (typeof pathParams === 'string') return ctx.skip(op.key, `no resource to address: ${pathParams}`);
        const body = op.operationId === 'signInWithEmailVerification' ? await signInBody(ctx) : undefined;
        if (typeof body === 'string') return ctx.skip(op.key, `no verification to sign in with: ${body}`);
        const res = await sendSweepRequest(ctx, op, { ...a, pathParams, ...(body ? { body } : {}) });
        await judge(op, res, a);
      },
      LIVE_SWEEP_SAMPLE,
    );
  }
  await provisioner.cleanUp();
}

/** The environment's one test account, read and deleted by every sweep (SCHEMA-001/002/003/005 run at once). */
const TEST_ACCOUNT_USES = new Set(['getTestAccount', 'deleteTestAccount']);

/**
 * Sends the sweep's valid request. The test account is one per environment, shared by the sweeps of the rules that
 * run at once in other workers: a read or delete that finds it gone (another sweep's DELETE) re-creates it, where the
 * sweep may write, and asks once more — so that a skip never depends on which worker got there first.
 */
async function sendSweepRequest(ctx: CheckContext, op: Operation, options: RequestOptions): Promise<HttpResponse> {
  const res = await sendFor(ctx, op, options);
  if (res.status !== 404 || !TEST_ACCOUNT_USES.has(op.operationId)) return res;
  const createOp = ctx.spec.byId.get('createTestAccount');
  if (!createOp || liveWriteRisk(ctx.config, createOp, 'creating the test account')) return res;
  await sendFor(ctx, createOp, { authorization: bearer(ctx.credentials.apiToken) });
  return sendFor(ctx, op, options);
}

/**
 * A valid sign-in needs a verification first (stateful, like the core resources): the sandbox test account's email
 * verification and its static code (nightly-operations.md §6). Only reached where POSTs are sent (the mock; live
 * sends GETs only in this sweep). The body, or why there is none.
 */
async function signInBody(
  ctx: CheckContext,
): Promise<{ verificationUUID: string; verificationToken: string } | string> {
  const accountOp = ctx.spec.byId.get('getTestAccount');
  const createOp = ctx.spec.byId.get('createTestAccount');
  const verifyOp = ctx.spec.byId.get('createEmailVerification');
  if (!accountOp || !createOp || !verifyOp) return 'the spec has no test-account operations';
  const authorization = bearer(ctx.credentials.apiToken);
  let account = await sendFor(ctx, accountOp, { authorization });
  if (account.status === 404) account = await sendFor(ctx, createOp, { authorization });
  const { code, email } = (account.json ?? {}) as { code?: unknown; email?: unknown };
  // 200 from the read, 201 from the create (the account was gone: another sweep deleted it).
  if (account.status < 200 || account.status >= 300 || typeof code !== 'string' || typeof email !== 'string')
    return `the test account answered ${account.status}`;
  const created = await sendFor(ctx, verifyOp, { body: { email } });
  const verificationUUID = (created.json as { verificationUUID?: unknown } | undefined)?.verificationUUID;
  if (typeof verificationUUID !== 'string') return `emailVerifications/create answered ${created.status}`;
  return { verificationUUID, verificationToken: code };
}

/** The reason an answer to the suite's valid request is not a 2xx, for a skip (or undefined for a 2xx). */
function not2xx(res: HttpResponse): string | undefined {
  if (res.status >= 200 && res.status < 300) return undefined;
  const message =
    typeof (res.json as { error?: unknown } | undefined)?.error === 'string'
      ? `: ${(res.json as { error: string }).error}`
      : '';
  return (
    `the suite's sample request got ` +
    `${res.status || `no response (${res.exchange.error ?? 'transport error'})`}` +
    `${message.slice(0, 160)} — no 2xx body to check`
  );
}

// ---- SCHEMA-001 ----------------------------------------------------------------------------------------------------

/**
 * SCHEMA-001 (specs/dynamic-api.openapi.json, from Dynamic's published clients): every 2xx body validates against the
 * operation's success schema.
 */
export const successBodiesMatchSchemas: Check = {
  rule: 'SCHEMA-001',
  async run(ctx) {
    await validSweep(ctx, (op, res) => {
      const why = not2xx(res);
      if (why)
        return res.status >= 500 || res.status === 0 ? ctx.inconclusive(op.key, why, res) : ctx.skip(op.key, why);
      if (op.success.status === 204 || !op.success.contentType) {
        if (res.text.length)
          return ctx.fail(
            op.key,
            `a no-content operation answered ${res.status} with a ${res.text.length}-byte body`,
            res,
          );
        return ctx.pass(op.key, res);
      }
      const isJson = op.success.contentType === 'application/json';
      const value = isJson ? res.json : res.text;
      if (isJson && res.json === undefined)
        return ctx.fail(op.key, `${res.status} body is not JSON (${res.text.length} bytes)`, res);
      const schema = op.success.schema;
      if (!schema || (typeof schema === 'object' && Object.keys(schema).length === 0)) {
        // Five operations: the published clients type the body as `any`/`object`, so the spec has nothing to hold it
        // to.
        return ctx.skip(
          op.key,
          `no body schema documented (the published clients type it as ` +
            `any): only its being ${isJson ? 'JSON' : 'present'} was ` +
            `checked`,
        );
      }
      const v = ctx.schemas.validate(schema, value);
      // Drift (recorded, never asserted): what this validated answer carries that the spec does not document.
      observeResponse(
        ctx.drift,
        op.key,
        { status: res.status, headers: res.headers, body: value, schema, documentedStatuses: op.documentedStatuses },
        (ref, base) => ctx.schemas.resolveRef(ref, base),
      );
      if (v.valid) ctx.pass(op.key, res);
      else ctx.fail(op.key, `${res.status} body does not match the success schema: ${v.errors.join('; ')}`, res);
    });
  },
};

// ---- SCHEMA-002 ----------------------------------------------------------------------------------------------------

/** SCHEMA-002 (spec responses.content): 2xx answers of JSON operations have Content-Type application/json. */
export const successIsJson: Check = {
  rule: 'SCHEMA-002',
  async run(ctx) {
    await validSweep(ctx, (op, res) => {
      if (op.success.contentType !== 'application/json')
        return ctx.skip(
          op.key,
          op.success.contentType
            ? `not a JSON operation (${op.success.contentType})`
            : `not a JSON operation (${op.success.status}, no content)`,
        );
      const why = not2xx(res);
      if (why)
        return res.status >= 500 || res.status === 0 ? ctx.inconclusive(op.key, why, res) : ctx.skip(op.key, why);
      if (res.status === 204 && !res.text) return ctx.skip(op.key, 'answered 204 without content');
      const type = headerValue(res.headers['content-type']);
      if (isJsonMediaType(type)) ctx.pass(op.key, res);
      else ctx.fail(op.key, `${res.status} of a JSON operation has Content-Type ${type ?? 'missing'}`, res);
    });
  },
};

// ---- SCHEMA-003 ----------------------------------------------------------------------------------------------------

/**
 * SCHEMA-003 (spec responses): every status received is documented for the operation — a valid request, no
 * credentials, a non-UUID id.
 */
export const statusesAreDocumented: Check = {
  rule: 'SCHEMA-003',
  async run(ctx) {
    await validSweep(ctx, async (op, res, auth) => {
      const seen: { what: string; res: HttpResponse }[] = [{ what: 'valid request', res }];
      if (op.auth !== 'none') seen.push({ what: 'no credentials', res: await sendFor(ctx, op, {}) });
      const ids = replaceableIdParams(op);
      if (ids.length)
        seen.push({
          what: 'non-UUID path id',
          res: await sendFor(ctx, op, { ...auth, pathParams: { [ids[0]!.name]: 'not-a-uuid' } }),
        });
      const documented = new Set(op.documentedStatuses);
      // Drift: undocumented statuses and header names of every answer seen here (bodies are SCHEMA-001's).
      for (const { res: r } of seen)
        observeResponse(
          ctx.drift,
          op.key,
          {
            status: r.status,
            headers: r.headers,
            body: undefined,
            schema: undefined,
            documentedStatuses: op.documentedStatuses,
          },
          () => undefined,
        );
      const bad = seen.filter(({ res: r }) => r.status !== 0 && !documented.has(r.status));
      if (bad.length)
        ctx.fail(
          op.key,
          `undocumented status ` +
            bad.map((b) => `${b.res.status} (${b.what})`).join(', ') +
            `; documented: ` +
            op.documentedStatuses.join(', '),
          bad.map((b) => b.res),
        );
      else if (seen.every((s) => s.res.status === 0))
        ctx.inconclusive(op.key, `no response: ${res.exchange.error ?? 'transport error'}`, res);
      else ctx.pass(op.key, res);
    });
  },
};

// ---- SCHEMA-004 ----------------------------------------------------------------------------------------------------

/**
 * SCHEMA-004 (sdk-api TokensApi, WebhooksApi, AllowlistsApi, OriginsApi, UsersApi): create → get → list contains
 * → delete → get 404 (and list no longer contains, delete again 404).
 */
export const coreResourcesRoundTrip: Check = {
  rule: 'SCHEMA-004',
  needs: {
    writes: {
      why:
        'round trips create and delete resources: on live only ' +
        'with DYNAMIC_ALLOW_WRITES=true (a disposable sandbox)',
    },
  },
  async run(ctx) {
    const auth = await validAuth(ctx);
    const provisioner = new Provisioner(ctx, auth);
    const byId = (id: string): Operation => {
      const op = ctx.spec.byId.get(id);
      if (!op) throw new Error(`SCHEMA-004: the spec has no operation ${id}`);
      return op;
    };
    await mapLimit(CORE_RESOURCES, concurrency(ctx), async (resource) => {
      const subject =
        `${resource.name} (${resource.create} → ` + `${resource.get ?? resource.list} → ` + `${resource.remove})`;
      const created = await provisioner.create(resource);
      if ('error' in created) return ctx.fail(subject, created.error, created.res);
      const params = {
        [resource.idParam]: created.id,
        ...(resource.parent && created.parentId ? { [resource.parent]: created.parentId } : {}),
      };
      const send = (id: string): Promise<HttpResponse> => {
        const op = byId(id);
        const a = auth(op);
        return sendFor(ctx, op, { ...(typeof a === 'string' ? {} : a), pathParams: params });
      };
      const steps: HttpResponse[] = [created.res];
      const fail = (reason: string): void => ctx.fail(subject, reason, steps);
      const schemaProblem = (id: string, res: HttpResponse): string | undefined => {
        const schema = byId(id).success.schema;
        const v = schema ? ctx.schemas.validate(schema, res.json) : { valid: true, errors: [] };
        return v.valid ? undefined : `${id} body does not match its schema: ${v.errors.join('; ')}`;
      };
      const createProblem = schemaProblem(resource.create, created.res);
      if (createProblem) return fail(createProblem);
      if (resource.get) {
        const got = await send(resource.get);
        steps.push(got);
        if (got.status !== 200)
          return fail(`${resource.get} of the created ${resource.name} answered ${got.status}, expected 200`);
        if (findId(got.json, resource.idParam) !== created.id && !listContains(got.json, created.id))
          return fail(`${resource.get} answered another ${resource.name} than the created one`);
        const p = schemaProblem(resource.get, got);
        if (p) return fail(p);
      }
      const listed = await send(resource.list);
      steps.push(listed);
      if (listed.status !== 200) return fail(`${resource.list} answered ${listed.status}, expected 200`);
      if (!listContains(listed.json, created.id))
        return fail(`${resource.list} does not contain the created ${resource.name}`);
      const removed = await send(resource.remove);
      steps.push(removed);
      if (removed.status < 200 || removed.status >= 300)
        return fail(`${resource.remove} answered ${removed.status}, expected 2xx`);
      if (resource.get) {
        const gone = await send(resource.get);
        steps.push(gone);
        if (gone.status !== 404)
          return fail(`${resource.get} after ${resource.remove} answered ${gone.status}, expected 404`);
        const bodyProblem = errorBodyProblem(ctx, gone, byId(resource.get));
        if (bodyProblem) return fail(`${resource.get} after delete: 404 but ${bodyProblem}`);
      }
      const relisted = await send(resource.list);
      steps.push(relisted);
      if (listContains(relisted.json, created.id))
        return fail(`${resource.list} still contains the ${resource.name} after ${resource.remove}`);
      const again = await send(resource.remove);
      steps.push(again);
      if (again.status !== 404)
        return fail(`${resource.remove} of the deleted ${resource.name} answered ${again.status}, expected 404`);
      ctx.pass(subject, created.res);
    });
  },
};

// ---- SCHEMA-005 ----------------------------------------------------------------------------------------------------

/** Missing security headers of a credentialed answer (empty when both are right). */
function securityHeaderProblems(res: HttpResponse): string[] {
  const problems: string[] = [];
  const cc = (headerValue(res.headers['cache-control']) ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (!cc.includes('no-store'))
    problems.push(`Cache-Control is ${headerValue(res.headers['cache-control']) ?? 'missing'} (no-store required)`);
  const xcto = headerValue(res.headers['x-content-type-options']);
  if ((xcto ?? '').trim().toLowerCase() !== 'nosniff')
    problems.push(`X-Content-Type-Options is ${xcto ?? 'missing'} (nosniff required)`);
  return problems;
}

/**
 * SCHEMA-005 (OWASP REST Security Cheat Sheet, Security Headers): credentialed answers — success and error — carry
 * Cache-Control: no-store and X-Content-Type-Options: nosniff.
 */
export const credentialedResponsesAreNotCached: Check = {
  rule: 'SCHEMA-005',
  async run(ctx) {
    await validSweep(ctx, async (op, res, auth) => {
      const seen: { what: string; res: HttpResponse }[] = [{ what: `valid request (${res.status})`, res }];
      const ids = replaceableIdParams(op);
      if (ids.length) {
        const bad = await sendFor(ctx, op, { ...auth, pathParams: { [ids[0]!.name]: 'not-a-uuid' } });
        seen.push({ what: `credentialed error (${bad.status})`, res: bad });
      }
      const answered = seen.filter((s) => s.res.status !== 0);
      if (answered.length === 0)
        return ctx.inconclusive(op.key, `no response: ${res.exchange.error ?? 'transport error'}`, res);
      const problems = answered.flatMap((s) => securityHeaderProblems(s.res).map((p) => `${s.what}: ${p}`));
      if (problems.length)
        ctx.fail(
          op.key,
          problems.join('; '),
          answered.map((s) => s.res),
        );
      else ctx.pass(op.key, res);
    });
  },
};

/** Every SCHEMA-* check, in rule order. */
export const SCHEMA_CHECKS: Check[] = [
  successBodiesMatchSchemas,
  successIsJson,
  statusesAreDocumented,
  coreResourcesRoundTrip,
  credentialedResponsesAreNotCached,
];
