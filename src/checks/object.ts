/**
 * Object-level authorization (specs/rules/object.json; tokens-api-keys 403 "The token authorized for the HTTP call
 * does not have access to the resource defined by the endpoint (eg. the specific environment, allowlist, user, etc.)";
 * OWASP API1:2023 Broken Object Level Authorization, API5:2023 Broken Function Level Authorization): a credential
 * reaches only its own environment's, its own organization's and its own user's objects. One outcome per operation:
 * every api-token operation that addresses an object by id alone (no {environmentId} in its path) and every /sdk
 * operation on a user's own object, sent with the main credential and ANOTHER owner's object id.
 *
 * Ids of the other owner's objects come from the mock's seed, or on live from the other owner's list operations
 * (read-only discovery). Writes and deletes on live are sent only with DYNAMIC_ALLOW_WRITES=true on verified sandboxes
 * on both sides, and only to objects the check created in the other environment (deleted at the end).
 */
import { randomBytes } from 'node:crypto';
import { bearer, type HeaderValue, type HttpResponse } from '../http/client.js';
import type { RequestOptions } from '../http/requests.js';
import type { LoadedSpec, Operation } from '../engine/spec.js';
import { CleanupRegistry, writesRefused } from '../secrets/safety.js';
import type { Check, CheckContext } from '../engine/types.js';
import { bearerOf, FAR_FUTURE_EXP, mintMockJwt, type Credential } from './support/credentials.js';
import { sendFor } from './support/send.js';
import {
  discoverForeign,
  distinctiveValues,
  idOnlyOperations,
  mockEnvironments,
  mockObjects,
  objectRefs,
  perOperation,
  refusalVerdict,
  unownedReason,
  userObjectOperations,
  withObject,
  type Discovered,
  type ObjectFamily,
  type ObjectRef,
  type OperationVerdict,
  type Side,
} from './support/objects.js';

/** The first owned object an operation names (the object a cross-owner request substitutes). */
function primaryRef(op: Operation): ObjectRef | undefined {
  return objectRefs(op)[0];
}

/** The id-only api-token operations whose object belongs to an environment (directly or through its user). */
function environmentOperations(spec: LoadedSpec, reads: boolean): Operation[] {
  return idOnlyOperations(spec).filter(
    (op) =>
      (op.method === 'GET') === reads &&
      primaryRef(op)?.family.owner !== 'organization' &&
      (primaryRef(op) !== undefined || reads),
  );
}

/** The id-only api-token operations whose object belongs to an organization. */
function organizationOperations(spec: LoadedSpec): Operation[] {
  return idOnlyOperations(spec).filter((op) => primaryRef(op)?.family.owner === 'organization');
}

function familiesOf(ops: readonly Operation[]): ObjectFamily[] {
  const byName = new Map<string, ObjectFamily>();
  for (const op of ops) for (const r of objectRefs(op)) byName.set(r.family.family, r.family);
  return [...byName.values()];
}

function asDiscovered(
  objects: { family: string; id: string }[],
  families: readonly ObjectFamily[],
  reason: string,
): Discovered {
  const out: Discovered = new Map();
  for (const f of families) {
    const ids = objects.filter((o) => o.family === f.family).map((o) => o.id);
    out.set(f.family, ids.length ? { ids } : { reason });
  }
  return out;
}

/** The other environment's credential, or why the cross-environment rules cannot run. */
function otherEnvironmentSide(ctx: CheckContext): Side | { reason: string } {
  const { otherEnvironmentToken, otherEnvironmentId } = ctx.credentials;
  if (!otherEnvironmentToken || !otherEnvironmentId) {
    return {
      reason:
        'no second environment: ' +
        (ctx.credentials.missing.otherEnvironmentToken ??
          ctx.credentials.missing.otherEnvironmentId ??
          'not available'),
    };
  }
  return {
    label: "the other environment's token",
    authorization: bearer(otherEnvironmentToken),
    environmentId: otherEnvironmentId,
  };
}

/** The other environment's side and the ids of its objects, or why the cross-environment rules cannot run. */
async function otherEnvironmentObjects(
  ctx: CheckContext,
  families: ObjectFamily[],
): Promise<{ side: Side; ids: Discovered } | { reason: string }> {
  const side = otherEnvironmentSide(ctx);
  if ('reason' in side) return side;
  const { otherEnvironmentId } = ctx.credentials;
  if (ctx.mock) {
    const objects = (await mockObjects(ctx)).filter((o) => o.environmentId === otherEnvironmentId);
    return {
      side,
      ids: asDiscovered(objects, families, 'the mock seed has no object of this family in the other environment'),
    };
  }
  const main: Side = {
    label: 'the main token',
    authorization: bearer(ctx.credentials.apiToken),
    environmentId: ctx.credentials.environmentId,
  };
  return { side, ids: await discoverForeign(ctx, side, main, families) };
}

function idFor(ids: Discovered, ref: ObjectRef): { id: string } | { reason: string } {
  const got = ids.get(ref.family.family);
  if (got && 'ids' in got && got.ids[0]) return { id: got.ids[0] };
  return { reason: got && 'reason' in got ? got.reason : `no ${ref.family.family} id of the other owner` };
}

/** The owner's read of the object (a GET of the same path), when the spec has one. */
function ownerReadOf(ctx: CheckContext, op: Operation): Operation | undefined {
  if (op.method === 'GET') return op;
  return ctx.spec.byKey.get(`GET ${op.path}`);
}

/** What a refusal must not contain: the values of the owner's own read of the object (the id itself excluded). */
async function ownerLeaks(
  ctx: CheckContext,
  op: Operation | undefined,
  ref: ObjectRef,
  id: string,
  owner: HeaderValue,
): Promise<{ leaks: string[]; snapshot: string | undefined }> {
  if (!op) return { leaks: [], snapshot: undefined };
  const res = await sendFor(ctx, op, withObject(ctx, op, ref, id, { authorization: owner }));
  if (res.status !== 200) return { leaks: [], snapshot: `${res.status}` };
  return { leaks: distinctiveValues(res.json, new Set([id])), snapshot: `200 ${res.text}` };
}

/** A request for another owner's object must be refused; the owner's read is used to spot leaked values. */
async function refusedRead(
  ctx: CheckContext,
  op: Operation,
  ref: ObjectRef,
  id: string,
  main: HeaderValue,
  owner: HeaderValue | undefined,
  what: string,
): Promise<OperationVerdict> {
  const { leaks } = owner ? await ownerLeaks(ctx, op, ref, id, owner) : { leaks: [] };
  const res = await sendFor(ctx, op, withObject(ctx, op, ref, id, { authorization: main }));
  return refusalVerdict(ctx, res, leaks, what);
}

// ---- OBJ-001 ------------------------------------------------------------------------------------------------------

/**
 * OBJ-001 (tokens-api-keys 403; OWASP API1:2023): this environment's token reading another environment's object by
 * id (allowlists and entries, custom fields, exchanges, providers, legacy users, wallets, sessions…) is refused: 403
 * (or 404), the documented error body, nothing of the object. On live the ids come from the other environment's lists.
 */
export const refusesOtherEnvironmentReads: Check = {
  rule: 'OBJ-001',
  needs: { credentials: ['otherEnvironmentToken', 'otherEnvironmentId'] },
  async run(ctx) {
    const ops = environmentOperations(ctx.spec, true);
    const other = await otherEnvironmentObjects(ctx, familiesOf(ops));
    const main = bearer(ctx.credentials.apiToken);
    await perOperation(ctx, ops, async (op) => {
      const ref = primaryRef(op);
      if (!ref) return { status: 'skip', reason: `names no owned object: ${unownedReason(op)}` };
      if ('reason' in other) return { status: 'skip', reason: other.reason };
      const id = idFor(other.ids, ref);
      if ('reason' in id) return { status: 'skip', reason: id.reason };
      return refusedRead(
        ctx,
        op,
        ref,
        id.id,
        main,
        other.side.authorization,
        `this environment's token on the other environment's ${ref.family.family}`,
      );
    });
  },
};

// ---- OBJ-002 ------------------------------------------------------------------------------------------------------

/** A stored object created in the other environment for one write (live: only with the write opt-in). */
interface Created {
  id: string;
  /** The owner's view of the object: compared before and after the other environment's write. */
  snapshot(): Promise<string>;
  leaks: string[];
}

function marker(): string {
  return `conformance-obj-${randomBytes(4).toString('hex')}`;
}

async function json(ctx: CheckContext, opId: string, options: RequestOptions): Promise<HttpResponse> {
  const op = ctx.spec.byId.get(opId);
  if (!op) throw new Error(`${opId} is not in the spec`);
  return sendFor(ctx, op, options);
}

/**
 * Creates a stored object of `family` in the other environment with its own token and registers its deletion; the
 * snapshot is what the owner reads of it (item and entries, or its place in the origins list).
 */
async function createInOtherEnvironment(
  ctx: CheckContext,
  side: Side,
  family: string,
  cleanup: CleanupRegistry,
): Promise<Created | string> {
  const env = side.environmentId ?? '';
  const auth = side.authorization;
  const deleteAs = (opId: string, pathParams: Record<string, string>): void => {
    const op = ctx.spec.byId.get(opId)!;
    cleanup.registerDeletion(
      ctx,
      `${op.key} ${Object.values(pathParams).join(' ')}`,
      ctx.requests.build(op, { authorization: auth, pathParams }),
    );
  };
  const allowlist = async (): Promise<{ id: string; name: string } | string> => {
    const name = marker();
    const res = await json(ctx, 'createAllowlistByEnvironmentId', {
      authorization: auth,
      pathParams: { environmentId: env },
      body: { name },
    });
    const id = (res.json as { id?: unknown } | undefined)?.id;
    if (res.status !== 200 || typeof id !== 'string')
      return (
        `could not create an allowlist in the other environment ` +
        `(${res.status || res.exchange.error || 'no response'})`
      );
    deleteAs('deleteAllowlistById', { allowlistId: id });
    return { id, name };
  };
  const readAllowlist = async (id: string): Promise<string> => {
    const item = await json(ctx, 'getAllowlistsById', { authorization: auth, pathParams: { allowlistId: id } });
    const entries = await json(ctx, 'getEntriesByAllowlistId', {
      authorization: auth,
      pathParams: { allowlistId: id },
    });
    return `allowlist ${item.status} ${item.text} entries ${entries.status} ${entries.text}`;
  };
  if (family === 'allowlist') {
    const a = await allowlist();
    if (typeof a === 'string') return a;
    return { id: a.id, snapshot: () => readAllowlist(a.id), leaks: [a.name] };
  }
  if (family === 'allowlistEntry') {
    const a = await allowlist();
    if (typeof a === 'string') return a;
    const alias = marker();
    const res = await json(ctx, 'postEntryByAllowlistId', {
      authorization: auth,
      pathParams: { allowlistId: a.id },
      body: { alias },
    });
    const id = (res.json as { id?: unknown } | undefined)?.id;
    if (res.status !== 200 || typeof id !== 'string')
      return `could not add an allowlist entry in the other environment (${res.status || 'no response'})`;
    deleteAs('deleteAllowlistEntryById', { allowlistEntryId: id });
    return { id, snapshot: () => readAllowlist(a.id), leaks: [a.name, alias] };
  }
  if (family === 'origin') {
    const origin = `https://${marker()}.example.invalid`;
    const res = await json(ctx, 'addOrigin', {
      authorization: auth,
      pathParams: { environmentId: env },
      body: { origin },
    });
    const id = (res.json as { origin?: { id?: unknown } } | undefined)?.origin?.id;
    if (res.status !== 200 || typeof id !== 'string')
      return `could not add an origin in the other environment (${res.status || 'no response'})`;
    deleteAs('deleteOriginById', { originId: id });
    const snapshot = async (): Promise<string> => {
      const list = await json(ctx, 'getOrigins', { authorization: auth, pathParams: { environmentId: env } });
      const mine = ((list.json as { origins?: { id?: unknown }[] } | undefined)?.origins ?? []).find(
        (o) => o.id === id,
      );
      return `origins ${list.status} ${JSON.stringify(mine ?? null)}`;
    };
    return { id, snapshot, leaks: [origin] };
  }
  return `the suite cannot create a ${family} for the test`;
}

/** Bodies that would visibly change a stored object if the write were served (rename, new entry). */
function changingBody(ctx: CheckContext, op: Operation): RequestOptions {
  if (op.operationId === 'updateAllowlistById') return { body: { ...(ctx.requests.body(op) ?? {}), name: marker() } };
  if (op.operationId === 'postEntryByAllowlistId') return { body: { alias: marker() } };
  return {};
}

/** Live cross-environment writes need the opt-in and both environments verified as sandboxes. */
async function liveWritesRefused(ctx: CheckContext, side: Side): Promise<string | undefined> {
  if (ctx.config.target === 'mock') return undefined;
  const mine = await writesRefused(ctx);
  if (mine) return mine;
  const { otherProjectId, otherEnvironmentId } = ctx.credentials;
  if (!otherProjectId)
    return (
      `refusing to write: ${ctx.credentials.missing.otherProjectId ?? 'DYNAMIC_OTHER_PROJECT_ID is not set'}` +
      `, so the other environment cannot be verified as a sandbox`
    );
  const res = await ctx.client.send({
    method: 'GET',
    path: `/projects/${encodeURIComponent(otherProjectId)}/environments`,
    headers: [
      ['accept', 'application/json'],
      ['authorization', side.authorization],
    ],
  });
  const sandboxId = (res.json as { environments?: { sandbox?: { id?: unknown } } } | undefined)?.environments?.sandbox
    ?.id;
  if (res.status !== 200)
    return (
      `refusing to write: GET /projects/{DYNAMIC_OTHER_PROJECT_ID}/environments ` +
      `with the other environment's token answered ${res.status || 'no response'}`
    );
  if (sandboxId !== otherEnvironmentId)
    return 'refusing to write: DYNAMIC_OTHER_ENVIRONMENT_ID is not the sandbox of DYNAMIC_OTHER_PROJECT_ID';
  return undefined;
}

/**
 * OBJ-002 (OWASP API1:2023, API5:2023): this environment's token changing or deleting another environment's object
 * by id is refused (403 or 404, nothing of the object) and has no effect: the owner reads the object unchanged and
 * still there afterwards. Stored objects (allowlists, entries, origins) are created in the other environment for the
 * test, one per operation, and deleted at the end; the other families use the mock's seeded ids (never live objects).
 */
export const refusesOtherEnvironmentWrites: Check = {
  rule: 'OBJ-002',
  needs: {
    credentials: ['otherEnvironmentToken', 'otherEnvironmentId'],
    writes: {
      why:
        'creates allowlists, entries and origins in the other ' +
        "environment and sends this environment's writes and deletes " +
        'to them',
    },
  },
  async run(ctx) {
    const ops = environmentOperations(ctx.spec, false);
    const side = otherEnvironmentSide(ctx);
    // The write gate first: a refused run sends no discovery request either.
    const gate = 'reason' in side ? side.reason : await liveWritesRefused(ctx, side);
    const other = gate
      ? { reason: gate }
      : ctx.mock
        ? await otherEnvironmentObjects(ctx, familiesOf(ops))
        : { side: side as Side, ids: new Map() as Discovered };
    const main = bearer(ctx.credentials.apiToken);
    const cleanup = new CleanupRegistry();
    try {
      await perOperation(ctx, ops, async (op) => {
        const ref = primaryRef(op)!;
        if ('reason' in other) return { status: 'skip', reason: other.reason };
        const what = `this environment's token ${op.method} on the other environment's ${ref.family.family}`;
        if (ref.family.stored) {
          const created = await createInOtherEnvironment(ctx, other.side, ref.family.family, cleanup);
          if (typeof created === 'string') return { status: 'skip', reason: created };
          const before = await created.snapshot();
          const res = await sendFor(
            ctx,
            op,
            withObject(ctx, op, ref, created.id, { authorization: main, ...changingBody(ctx, op) }),
          );
          const verdict = refusalVerdict(ctx, res, created.leaks, what);
          const after = await created.snapshot();
          if (after === before) return verdict;
          const effect =
            `the owner's object ` +
            (/^allowlist 404|origins 200 null/.test(after) ? 'is gone' : 'changed') +
            ` (before: ${before.slice(0, 240)} | after: ${after.slice(0, 240)})`;
          if (verdict.status === 'fail') return { ...verdict, reason: `${verdict.reason}; ${effect}` };
          return { status: 'fail', reason: `${what}: answered ${res.status} but ${effect}`, responses: [res] };
        }
        if (ctx.config.target !== 'mock')
          return {
            status: 'skip',
            reason:
              `live: writes go only to objects the suite created for ` +
              `the test, and it cannot create a ${ref.family.family}`,
          };
        const id = idFor(other.ids, ref);
        if ('reason' in id) return { status: 'skip', reason: id.reason };
        const read = ownerReadOf(ctx, op);
        const before = await ownerLeaks(ctx, read, ref, id.id, other.side.authorization);
        const res = await sendFor(ctx, op, withObject(ctx, op, ref, id.id, { authorization: main }));
        const verdict = refusalVerdict(ctx, res, before.leaks, what);
        if (verdict.status !== 'pass' || !read) return verdict;
        const after = await ownerLeaks(ctx, read, ref, id.id, other.side.authorization);
        if (after.snapshot !== before.snapshot)
          return {
            status: 'fail',
            reason:
              `${what}: answered ${res.status} but the owner's read changed (` +
              `${before.snapshot?.slice(0, 200) ?? ''} → ` +
              `${after.snapshot?.slice(0, 200) ?? ''})`,
            responses: [res],
          };
        return verdict;
      });
    } finally {
      for (const problem of await cleanup.runAll()) ctx.log(problem);
    }
  },
};

// ---- OBJ-003 ------------------------------------------------------------------------------------------------------

/**
 * OBJ-003 (tokens-api-keys 403; OWASP API1:2023, API5:2023): this environment's token on another organization's
 * organization-owned objects (the organization, its projects, members, invites, custom networks, SSO provider, user
 * tokens) is refused: 403 or 404, nothing of the object. On live: reads only, ids discovered with
 * DYNAMIC_OTHER_ORGANIZATION_TOKEN (minus anything the main token also lists).
 */
export const refusesOtherOrganization: Check = {
  rule: 'OBJ-003',
  needs: { credentials: ['otherOrganizationToken'] },
  async run(ctx) {
    const ops = organizationOperations(ctx.spec);
    const families = familiesOf(ops);
    const main = bearer(ctx.credentials.apiToken);
    const token = ctx.credentials.otherOrganizationToken;
    const side: Side | undefined = token
      ? { label: "the other organization's token", authorization: bearer(token), environmentId: undefined }
      : undefined;
    let ids: Discovered | string;
    if (ctx.mock) {
      const mine = (await mockEnvironments(ctx)).find((e) => e.id === ctx.credentials.environmentId)?.organizationId;
      const objects = (await mockObjects(ctx)).filter(
        (o) => o.environmentId === undefined && o.organizationId !== mine,
      );
      ids = mine
        ? asDiscovered(objects, families, 'the mock seed has no object of this family in another organization')
        : 'the mock seed does not say which organization owns the environment';
    } else if (!side) {
      ids =
        `no token of another organization: ` +
        `${ctx.credentials.missing.otherOrganizationToken ?? 'DYNAMIC_OTHER_ORGANIZATION_TOKEN is not set'}`;
    } else {
      ids = await discoverForeign(
        ctx,
        side,
        { label: 'the main token', authorization: main, environmentId: ctx.credentials.environmentId },
        families,
      );
    }
    await perOperation(ctx, ops, async (op) => {
      const ref = primaryRef(op)!;
      if (typeof ids === 'string') return { status: 'skip', reason: ids };
      if (ctx.config.target !== 'mock' && op.method !== 'GET')
        return {
          status: 'skip',
          reason:
            "live: never writes to another organization's objects (the " +
            'suite cannot create organization-level objects for the ' +
            'test)',
        };
      const id = idFor(ids, ref);
      if ('reason' in id) return { status: 'skip', reason: id.reason };
      const owner = op.method === 'GET' ? side?.authorization : undefined;
      return refusedRead(
        ctx,
        op,
        ref,
        id.id,
        main,
        owner,
        `this environment's token ${op.method} on another organization's ${ref.family.family}`,
      );
    });
  },
};

// ---- OBJ-004 ------------------------------------------------------------------------------------------------------

function mockUserJwt(ctx: CheckContext, userId: string): Promise<string> {
  return mintMockJwt(ctx, `OBJ-004 user ${userId}`, ctx.credentials.environmentId, {
    userId,
    claims: { exp: FAR_FUTURE_EXP },
  });
}

/** The main user's and another user's JWT of the environment under test, or why they are not available. */
async function twoUsers(
  ctx: CheckContext,
): Promise<{ main: Credential; other: Credential; otherUserId: string | undefined } | { reason: string }> {
  const { userJwt, otherUserJwt, userId, otherUserId } = ctx.credentials;
  if (ctx.mock && userId && otherUserId)
    return { main: await mockUserJwt(ctx, userId), other: await mockUserJwt(ctx, otherUserId), otherUserId };
  if (!userJwt) return { reason: `no user JWT: ${ctx.credentials.missing.userJwt ?? 'DYNAMIC_USER_JWT is not set'}` };
  if (!otherUserJwt)
    return {
      reason:
        `no JWT of another user of the environment: ` +
        `${ctx.credentials.missing.otherUserJwt ?? 'DYNAMIC_OTHER_USER_JWT is not set'}`,
    };
  return { main: userJwt, other: otherUserJwt, otherUserId };
}

/**
 * OBJ-004 (OWASP API1:2023): a user's JWT on another user's /sdk objects of the same environment (wallets, passkeys,
 * MFA devices, device registrations, business accounts, exchange accounts, global wallet connections) is refused:
 * 403 or 404, nothing of the object. On live: reads only, the other user's ids from their own lists
 * (DYNAMIC_OTHER_USER_JWT).
 */
export const refusesOtherUserObjects: Check = {
  rule: 'OBJ-004',
  needs: { credentials: ['userJwt', 'otherUserJwt'] },
  async run(ctx) {
    const ops = userObjectOperations(ctx.spec);
    const families = familiesOf(ops).filter((f) => f.owner === 'user');
    const users = await twoUsers(ctx);
    let ids: Discovered | string;
    if ('reason' in users) ids = users.reason;
    else if (ctx.mock)
      ids = asDiscovered(
        (await mockObjects(ctx)).filter((o) => o.userId !== undefined && o.userId === users.otherUserId),
        families,
        'the mock seed has no object of this family for the other user',
      );
    else {
      const environmentId = ctx.credentials.environmentId;
      ids = await discoverForeign(
        ctx,
        { label: "the other user's JWT", authorization: bearerOf(users.other), environmentId },
        { label: "the main user's JWT", authorization: bearerOf(users.main), environmentId },
        families,
      );
    }
    await perOperation(ctx, ops, async (op) => {
      if (typeof ids === 'string' || 'reason' in users)
        return { status: 'skip', reason: typeof ids === 'string' ? ids : 'no users' };
      const ref = objectRefs(op).find((r) => r.family.owner === 'user')!;
      if (ctx.config.target !== 'mock' && op.method !== 'GET')
        return {
          status: 'skip',
          reason: "live: never writes to another user's objects (the suite cannot create them for the test)",
        };
      const id = idFor(ids, ref);
      if ('reason' in id) return { status: 'skip', reason: id.reason };
      const owner = op.method === 'GET' ? bearerOf(users.other) : undefined;
      return refusedRead(
        ctx,
        op,
        ref,
        id.id,
        bearerOf(users.main),
        owner,
        `a user's JWT ${op.method} on another user's ${ref.family.family}`,
      );
    });
  },
};

/** Every OBJ-* check, in rule order. */
export const OBJ_CHECKS: Check[] = [
  refusesOtherEnvironmentReads,
  refusesOtherEnvironmentWrites,
  refusesOtherOrganization,
  refusesOtherUserObjects,
];

/** How the object checks split the id-only api-token operations (for the README and the unit tests). */
export function objectCoverage(spec: LoadedSpec): Record<'reads' | 'writes' | 'organization' | 'user', string[]> {
  return {
    reads: environmentOperations(spec, true).map((o) => o.key),
    writes: environmentOperations(spec, false).map((o) => o.key),
    organization: organizationOperations(spec).map((o) => o.key),
    user: userObjectOperations(spec).map((o) => o.key),
  };
}
