import { defaultClaims, defaultHeader, signJwt } from './jwt.js';
import type { EnvironmentKey } from './keys.js';
import type { Json, EnvironmentState, Store } from './store.js';
import type { OperationInfo } from './spec.js';

/** What a handler answers; `undefined` means "answer the operation's deterministic sample". */
export type Reply =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'empty'; readonly status: 204 }
  /** A documented error answer of the handler itself (e.g. 422 UnprocessableEntity of a wrong OTP). */
  | { readonly kind: 'error'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'not-found' };

/** Inputs of a handler (after routing, rate limiting, auth and validation). */
export interface HandlerInput {
  readonly op: OperationInfo;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly store: Store;
  readonly key: (environmentId: string) => EnvironmentKey | undefined;
  /** Fault `delete-keeps-resource`: DELETE answers success but keeps the resource. */
  readonly keepOnDelete: boolean;
}

type Handler = (input: HandlerInput, env: EnvironmentState | undefined) => Reply | undefined;

const NOT_FOUND: Reply = { kind: 'not-found' };
const NO_CONTENT: Reply = { kind: 'empty', status: 204 };

function ok(body: unknown): Reply {
  return { kind: 'json', status: 200, body };
}

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

function scopesOf(body: Json, all: readonly string[]): readonly string[] {
  const s = body['scopes'];
  return Array.isArray(s) ? s.filter((x): x is string => typeof x === 'string') : all;
}

function del<K>(map: Map<K, Json>, id: K, keep: boolean): Reply {
  if (!map.has(id)) return NOT_FOUND;
  if (!keep) map.delete(id);
  return NO_CONTENT;
}

function allowlistOf(input: HandlerInput): [EnvironmentState, Json] | undefined {
  const id = input.params['allowlistId'] ?? '';
  const env = input.store.allowlistOwner(id);
  const rec = env?.allowlists.get(id);
  return env && rec ? [env, rec] : undefined;
}

/** Handlers of the stateful core resources, by operationId (SCHEMA-004, ERR-005, JWT-010). */
function makeHandlers(allScopes: readonly string[]): ReadonlyMap<string, Handler> {
  const h = new Map<string, Handler>();
  // Environments
  h.set('getEnvironmentById', (_i, env) => (env ? ok(env.environment) : NOT_FOUND));
  h.set('updateProjectSettings', (i, env) => {
    if (!env) return NOT_FOUND;
    const settings = obj(i.body);
    env.environment = { ...env.environment, settings, updatedAt: i.store.nowIso() };
    return ok(settings);
  });
  h.set('getEnvironmentSettings', (_i, env) => (env ? ok(env.environment['settings']) : NOT_FOUND));
  h.set('getKeysForEnvironment', (i, env) => {
    const key = env ? i.key(env.seed.id) : undefined;
    return key ? ok({ key: { id: key.kid, publicKey: Buffer.from(key.pem).toString('base64') } }) : NOT_FOUND;
  });
  const jwks: Handler = (i, env) => {
    const key = env ? i.key(env.seed.id) : undefined;
    return key ? ok({ keys: [key.jwk] }) : NOT_FOUND;
  };
  h.set('getJwksByEnvironmentId', jwks);
  h.set('getJwksJsonByEnvironmentId', jwks);
  h.set('getEnvironmentsByProjectId', (i) => {
    const envs = i.store.projectEnvironments(i.params['projectId'] ?? '');
    if (!envs.length) return NOT_FOUND;
    const byName = new Map(envs.map((e) => [e.seed.name, e.environment]));
    return ok({ environments: { sandbox: byName.get('sandbox'), live: byName.get('live') } });
  });
  // API tokens
  h.set('getTokens', (i, env) =>
    env ? ok({ tokens: [...env.tokens.values()].map((t) => i.store.tokenJson(t)) }) : NOT_FOUND,
  );
  h.set('postToken', (i, env) => {
    if (!env) return NOT_FOUND;
    const body = obj(i.body);
    const rec = i.store.createToken(env.seed.id, str(body['note'], ''), scopesOf(body, allScopes));
    return ok({ token: i.store.tokenWithRawJson(rec) });
  });
  h.set('deleteTokenById', (i, env) => {
    const id = i.params['tokenId'] ?? '';
    if (!env?.tokens.has(id)) return NOT_FOUND;
    if (!i.keepOnDelete) i.store.deleteToken(env.seed.id, id);
    return NO_CONTENT;
  });
  // Users
  h.set('getEnvironmentUsers', (_i, env) =>
    env ? ok({ count: env.users.size, users: [...env.users.values()] }) : NOT_FOUND,
  );
  h.set('createUser', (i, env) => {
    if (!env) return NOT_FOUND;
    const id = i.store.newId();
    const now = i.store.nowIso();
    const patch = { ...obj(i.body) };
    delete patch['id'];
    const user = i.store.mergeValid(
      { id, projectEnvironmentId: env.seed.id, newUser: true, createdAt: now, updatedAt: now },
      patch,
      'User',
    );
    env.users.set(id, user);
    return ok({ user });
  });
  h.set('getUser', (i, env) => {
    const u = env?.users.get(i.params['userId'] ?? '');
    return u ? ok({ user: u }) : NOT_FOUND;
  });
  h.set('updateUser', (i, env) => {
    const id = i.params['userId'] ?? '';
    const u = env?.users.get(id);
    if (!env || !u) return NOT_FOUND;
    const user = i.store.mergeValid({ ...u, updatedAt: i.store.nowIso() }, obj(i.body), 'User');
    env.users.set(id, user);
    return ok({ user });
  });
  h.set('deleteUser', (i, env) => (env ? del(env.users, i.params['userId'] ?? '', i.keepOnDelete) : NOT_FOUND));
  // Webhooks
  h.set('getWebhooks', (_i, env) => (env ? ok({ data: [...env.webhooks.values()] }) : NOT_FOUND));
  h.set('createWebhook', (i, env) => {
    if (!env) return NOT_FOUND;
    const b = obj(i.body);
    const now = i.store.nowIso();
    const webhookId = i.store.newId();
    const rec: Json = {
      environmentId: env.seed.id,
      webhookId,
      url: str(b['url'], ''),
      secret: `whsec_${webhookId.replace(/-/g, '')}`,
      version: 'v2',
      events: Array.isArray(b['events']) ? b['events'] : [],
      isEnabled: b['isEnabled'] === true,
      ...(b['isEnabled'] === true ? { enabledAt: now } : {}),
      createdAt: now,
      updatedAt: now,
    };
    env.webhooks.set(webhookId, rec);
    return ok(rec);
  });
  h.set('getWebhook', (i, env) => {
    const w = env?.webhooks.get(i.params['webhookId'] ?? '');
    return w ? ok(w) : NOT_FOUND;
  });
  h.set('updateWebhookById', (i, env) => {
    const id = i.params['webhookId'] ?? '';
    const w = env?.webhooks.get(id);
    if (!env || !w) return NOT_FOUND;
    const b = obj(i.body);
    const now = i.store.nowIso();
    const rec: Json = {
      ...w,
      url: str(b['url'], str(w['url'], '')),
      events: Array.isArray(b['events']) ? b['events'] : w['events'],
      isEnabled: b['isEnabled'] === true,
      updatedAt: now,
    };
    if (rec['isEnabled'] === true && w['isEnabled'] !== true) rec['enabledAt'] = now;
    env.webhooks.set(id, rec);
    return ok(rec);
  });
  h.set('deleteWebhookById', (i, env) =>
    env ? del(env.webhooks, i.params['webhookId'] ?? '', i.keepOnDelete) : NOT_FOUND,
  );
  // Allowlists
  h.set('getAllowlistsByEnvironmentId', (_i, env) => (env ? ok([...env.allowlists.values()]) : NOT_FOUND));
  h.set('createAllowlistByEnvironmentId', (i, env) => {
    if (!env) return NOT_FOUND;
    const b = obj(i.body);
    const id = i.store.newId();
    const rec = i.store.mergeValid(
      {
        id,
        name: str(b['name'], 'allowlist'),
        projectEnvironmentId: env.seed.id,
        enabledAt: null,
        outcome: 'siteAccess',
      },
      { scope: b['scope'], outcome: b['outcome'] },
      'Allowlist',
    );
    env.allowlists.set(id, rec);
    return ok(rec);
  });
  h.set('getAllowlistsById', (i) => {
    const found = allowlistOf(i);
    return found ? ok(found[1]) : NOT_FOUND;
  });
  h.set('updateAllowlistById', (i) => {
    const found = allowlistOf(i);
    if (!found) return NOT_FOUND;
    const [env, rec] = found;
    const b = obj(i.body);
    const next = i.store.mergeValid(rec, { name: b['name'], scope: b['scope'], outcome: b['outcome'] }, 'Allowlist');
    env.allowlists.set(String(rec['id']), next);
    return ok(next);
  });
  const toggle =
    (enabled: boolean): Handler =>
    (i) => {
      const found = allowlistOf(i);
      if (!found) return NOT_FOUND;
      const [env, rec] = found;
      const next = { ...rec, enabledAt: enabled ? i.store.nowIso() : null };
      env.allowlists.set(String(rec['id']), next);
      return ok(next);
    };
  h.set('enableAllowlistById', toggle(true));
  h.set('disableAllowlistById', toggle(false));
  h.set('deleteAllowlistById', (i) => {
    const found = allowlistOf(i);
    if (!found) return NOT_FOUND;
    const [env, rec] = found;
    if (!i.keepOnDelete) {
      env.allowlists.delete(String(rec['id']));
      for (const [eid, e] of env.allowlistEntries) if (e['allowListId'] === rec['id']) env.allowlistEntries.delete(eid);
    }
    return NO_CONTENT;
  });
  h.set('getEntriesByAllowlistId', (i) => {
    const found = allowlistOf(i);
    if (!found) return NOT_FOUND;
    const entries = [...found[0].allowlistEntries.values()].filter((e) => e['allowListId'] === found[1]['id']);
    return ok({ count: entries.length, entries });
  });
  h.set('postEntryByAllowlistId', (i) => {
    const found = allowlistOf(i);
    if (!found) return NOT_FOUND;
    const id = i.store.newId();
    const rec = i.store.mergeValid({ id, allowListId: found[1]['id'] }, obj(i.body), 'AllowlistEntry');
    found[0].allowlistEntries.set(id, rec);
    return ok(rec);
  });
  h.set('deleteAllowlistEntryById', (i) => {
    const id = i.params['allowlistEntryId'] ?? '';
    const env = i.store.entryOwner(id);
    return env ? del(env.allowlistEntries, id, i.keepOnDelete) : NOT_FOUND;
  });
  // Test accounts and the email OTP sign-in (nightly-operations.md §6): a fresh user JWT from the API token alone
  h.set('getTestAccount', (i, env) => {
    const account = env ? i.store.testAccounts.get(env.seed.id) : undefined;
    return account ? ok({ ...account }) : NOT_FOUND;
  });
  h.set('createTestAccount', (i, env) => (env ? ok({ ...i.store.testAccounts.create(env.seed.id) }) : NOT_FOUND));
  h.set('deleteTestAccount', (i, env) =>
    env && i.store.testAccounts.delete(env.seed.id, i.keepOnDelete) ? NO_CONTENT : NOT_FOUND,
  );
  h.set('createEmailVerification', (i, env) => {
    if (!env) return NOT_FOUND;
    const email = str(obj(i.body)['email'], '');
    return ok({ verificationUUID: i.store.testAccounts.createVerification(env.seed.id, email), email });
  });
  h.set('signInWithEmailVerification', (i, env) => {
    const key = env ? i.key(env.seed.id) : undefined;
    if (!env || !key) return NOT_FOUND;
    const b = obj(i.body);
    const outcome = i.store.testAccounts.signIn(
      env.seed.id,
      str(b['verificationUUID'], ''),
      str(b['verificationToken'], ''),
    );
    if ('error' in outcome) return { kind: 'error', status: 422, body: { error: outcome.error, code: outcome.code } };
    const user = i.store.signInUser(env.seed.id, outcome.email);
    if (!user) return NOT_FOUND;
    const userId = String(user['id']);
    const ids = { sid: i.store.newId(), credentialId: i.store.newId() };
    const claims: Record<string, unknown> = {
      ...defaultClaims(key, userId, i.store.nowSeconds(), ids),
      email: outcome.email,
    };
    const jwt = signJwt(key, defaultHeader(key), claims);
    return ok({ user, jwt, minifiedJwt: jwt, expiresAt: claims['exp'] });
  });
  // Origins
  h.set('getOrigins', (_i, env) => (env ? ok({ origins: [...env.origins.values()] }) : NOT_FOUND));
  h.set('addOrigin', (i, env) => {
    if (!env) return NOT_FOUND;
    const id = i.store.newId();
    const rec: Json = {
      id,
      origin: str(obj(i.body)['origin'], ''),
      createdAt: i.store.nowIso(),
      projectEnvironmentId: env.seed.id,
    };
    env.origins.set(id, rec);
    return ok({ origin: rec });
  });
  h.set('deleteOriginById', (i) => {
    const id = i.params['originId'] ?? '';
    const env = i.store.originOwner(id);
    return env ? del(env.origins, id, i.keepOnDelete) : NOT_FOUND;
  });
  return h;
}

/** Parent resources that must exist for sample-answered sub-operations (e.g. a user's wallets). */
function parentMissing(input: HandlerInput, env: EnvironmentState | undefined): boolean {
  const p = input.op.path;
  if (!env) return false;
  if (p.startsWith('/environments/{environmentId}/users/{userId}')) return !env.users.has(input.params['userId'] ?? '');
  if (p.startsWith('/environments/{environmentId}/webhooks/{webhookId}'))
    return !env.webhooks.has(input.params['webhookId'] ?? '');
  return false;
}

/**
 * Dispatches an operation to its stateful handler. Operations with an `{environmentId}` that is not seeded answer
 * 404 NotFound; sub-operations of a missing user or webhook answer 404; everything else is `undefined` (sample).
 */
export class Handlers {
  readonly #table: ReadonlyMap<string, Handler>;

  constructor(allScopes: readonly string[]) {
    this.#table = makeHandlers(allScopes);
  }

  /** True if the operation has a stateful handler. */
  has(operationId: string): boolean {
    return this.#table.has(operationId);
  }

  /** Runs the handler (or the generic existence checks). */
  run(input: HandlerInput): Reply | undefined {
    let env: EnvironmentState | undefined;
    if (input.op.hasEnvironmentParam) {
      env = input.store.env(input.params['environmentId'] ?? '');
      if (!env) return NOT_FOUND;
    }
    const handler = this.#table.get(input.op.operationId);
    if (handler) return handler(input, env);
    return parentMissing(input, env) ? NOT_FOUND : undefined;
  }
}
