/**
 * Getting credentials (never applying them): from the mock's control API (`/__mock/seed`) or from the live
 * configuration. Every value is wrapped in a Secret at once. A credential that is not available carries the reason,
 * so checks that need it are skipped with that reason (never passed, never failed).
 */
import { request } from 'undici';
import type { SuiteConfig } from './config.js';
import { Secret } from '../secrets/redact.js';

export interface MockSeed {
  profile: string;
  seed: number;
  now: number;
  environments: {
    id: string;
    name: 'sandbox' | 'live';
    projectId?: string;
    organizationId?: string;
    issuer?: string;
    kid?: string;
  }[];
  tokens: { value: string; environmentId: string; scopes: string[]; active: boolean; label: string }[];
  users: { id: string; environmentId: string; jwt: string }[];
  /** Seeded owned objects per owner (OBJ rules); absent on mocks older than the OBJ family. */
  objects?: { family: string; id: string; organizationId: string; environmentId?: string; userId?: string }[];
  faults: string[];
}

/** The mock-only control API (`/__mock/`), reached over HTTP like any client would. */
export class MockControl {
  readonly url: string;

  constructor(apiUrl: string) {
    this.url = `${new URL(apiUrl).origin}/__mock`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    // undici's request, as the suite's client sends: Node's global fetch would load and compile a second HTTP stack
    // in every worker.
    const res = await request(`${this.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300)
      throw new Error(`mock control ${method} ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  seed(): Promise<MockSeed> {
    return this.call('GET', '/seed');
  }

  /**
   * Mints a JWT signed with the environment key; `claims`/`header` override defaults (null deletes a claim). The mock's
   * JWTs are dummies, returned as plain text (checks reach this through src/checks/support/credentials.ts, cached).
   */
  async mintJwt(
    environmentId: string,
    options: { userId?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const { jwt } = await this.call<{ jwt: string }>('POST', '/jwt', { environmentId, ...options });
    return jwt;
  }

  advanceClock(seconds: number): Promise<{ now: number }> {
    return this.call('POST', '/clock', { advanceSeconds: seconds });
  }

  reset(faults?: string[]): Promise<unknown> {
    return this.call('POST', '/reset', faults === undefined ? {} : { faults });
  }

  setFaults(faults: string[]): Promise<unknown> {
    return this.call('POST', '/faults', { faults });
  }
}

/** Every credential a check may use; absent ones carry the reason in `missing`. */
export interface Credentials {
  environmentId: string;
  otherEnvironmentId: string | undefined;
  projectId: string | undefined;
  apiToken: Secret;
  otherEnvironmentToken: Secret | undefined;
  /** A token lacking write scopes (mock: the read-only token; live: DYNAMIC_LIMITED_TOKEN). */
  limitedToken: Secret | undefined;
  limitedTokenScopes: string[] | undefined;
  /** A token without any scope (mock only). */
  noScopeToken: Secret | undefined;
  inactiveToken: Secret | undefined;
  userJwt: Secret | undefined;
  otherEnvironmentJwt: Secret | undefined;
  /** OBJ-002: the project of the other environment (live: DYNAMIC_OTHER_PROJECT_ID). */
  otherProjectId: string | undefined;
  /** OBJ-003: a full-scope token of an environment in another organization. */
  otherOrganizationToken: Secret | undefined;
  /** OBJ-004: a user JWT of another user of the environment under test. */
  otherUserJwt: Secret | undefined;
  /** Id of the other user (mock only; live JWTs are not decoded for it). */
  otherUserId: string | undefined;
  userId: string | undefined;
  /** Why a credential is not available (key = field name). */
  missing: Record<string, string>;
}

/** Reads the mock's seed: sandbox environment first, the live one as "other environment". */
export async function mockCredentials(control: MockControl): Promise<{ credentials: Credentials; seed: MockSeed }> {
  const seed = await control.seed();
  const sandbox = seed.environments.find((e) => e.name === 'sandbox') ?? seed.environments[0];
  const other = seed.environments.find((e) => e.id !== sandbox?.id);
  if (!sandbox) throw new Error('the mock seed has no environment');
  const token = (env: string | undefined, label: string): Secret | undefined => {
    const t = seed.tokens.find((x) => x.environmentId === env && x.label === label);
    return t ? new Secret(t.value, `MOCK_TOKEN_${label.toUpperCase().replace(/\W/g, '_')}`) : undefined;
  };
  const all = token(sandbox.id, 'all');
  if (!all) throw new Error('the mock seed has no full-scope token for the sandbox environment');
  const limited = seed.tokens.find((x) => x.environmentId === sandbox.id && x.label === 'read-only');
  const user = seed.users.find((u) => u.environmentId === sandbox.id);
  const secondUser = seed.users.find((u) => u.environmentId === sandbox.id && u.id !== user?.id);
  const otherUser = seed.users.find((u) => u.environmentId === other?.id);
  const otherOrganization = seed.environments.find(
    (e) => e.organizationId !== undefined && e.organizationId !== sandbox.organizationId,
  );
  return {
    seed,
    credentials: {
      environmentId: sandbox.id,
      otherEnvironmentId: other?.id,
      projectId: sandbox.projectId,
      apiToken: all,
      otherEnvironmentToken: token(other?.id, 'all'),
      limitedToken: token(sandbox.id, 'read-only'),
      limitedTokenScopes: limited?.scopes,
      noScopeToken: token(sandbox.id, 'none'),
      inactiveToken: token(sandbox.id, 'inactive'),
      userJwt: user ? new Secret(user.jwt, 'MOCK_USER_JWT') : undefined,
      otherEnvironmentJwt: otherUser ? new Secret(otherUser.jwt, 'MOCK_OTHER_ENVIRONMENT_JWT') : undefined,
      otherProjectId: other?.projectId,
      otherOrganizationToken: token(otherOrganization?.id, 'all'),
      otherUserJwt: secondUser ? new Secret(secondUser.jwt, 'MOCK_OTHER_USER_JWT') : undefined,
      otherUserId: secondUser?.id,
      userId: user?.id,
      missing: {
        ...(otherOrganization ? {} : { otherOrganizationToken: 'the mock seed has no second organization' }),
        ...(secondUser ? {} : { otherUserJwt: 'the mock seed has no second user in the sandbox environment' }),
      },
    },
  };
}

/** Live credentials from the configuration; optional ones that are unset become skip reasons. */
export function liveCredentials(config: SuiteConfig): Credentials {
  const live = config.live;
  if (!live) throw new Error('liveCredentials needs DYNAMIC_TARGET=live');
  const secret = (value: string | undefined, env: string): Secret | undefined =>
    value ? new Secret(value, env) : undefined;
  const missing: Record<string, string> = {};
  const need = (field: string, variable: string, value: string | undefined): void => {
    if (!value) missing[field] = `${variable} is not set`;
  };
  need('otherEnvironmentToken', 'DYNAMIC_OTHER_ENVIRONMENT_TOKEN', live.otherEnvironmentToken);
  need('otherEnvironmentId', 'DYNAMIC_OTHER_ENVIRONMENT_ID', live.otherEnvironmentId);
  need('limitedToken', 'DYNAMIC_LIMITED_TOKEN', live.limitedToken);
  need('inactiveToken', 'DYNAMIC_INACTIVE_TOKEN', live.inactiveToken);
  need('userJwt', 'DYNAMIC_USER_JWT', live.userJwt);
  need('otherEnvironmentJwt', 'DYNAMIC_OTHER_ENVIRONMENT_JWT', live.otherEnvironmentJwt);
  need('projectId', 'DYNAMIC_PROJECT_ID', live.projectId);
  need('otherProjectId', 'DYNAMIC_OTHER_PROJECT_ID', live.otherProjectId);
  need('otherOrganizationToken', 'DYNAMIC_OTHER_ORGANIZATION_TOKEN', live.otherOrganizationToken);
  need('otherUserJwt', 'DYNAMIC_OTHER_USER_JWT', live.otherUserJwt);
  missing.noScopeToken = 'a token without scopes is only seeded on the mock';
  return {
    environmentId: live.environmentId,
    otherEnvironmentId: live.otherEnvironmentId,
    projectId: live.projectId,
    apiToken: new Secret(live.apiToken, 'DYNAMIC_API_TOKEN'),
    otherEnvironmentToken: secret(live.otherEnvironmentToken, 'DYNAMIC_OTHER_ENVIRONMENT_TOKEN'),
    limitedToken: secret(live.limitedToken, 'DYNAMIC_LIMITED_TOKEN'),
    limitedTokenScopes: undefined,
    noScopeToken: undefined,
    inactiveToken: secret(live.inactiveToken, 'DYNAMIC_INACTIVE_TOKEN'),
    userJwt: secret(live.userJwt, 'DYNAMIC_USER_JWT'),
    otherEnvironmentJwt: secret(live.otherEnvironmentJwt, 'DYNAMIC_OTHER_ENVIRONMENT_JWT'),
    otherProjectId: live.otherProjectId,
    otherOrganizationToken: secret(live.otherOrganizationToken, 'DYNAMIC_OTHER_ORGANIZATION_TOKEN'),
    otherUserJwt: secret(live.otherUserJwt, 'DYNAMIC_OTHER_USER_JWT'),
    otherUserId: undefined,
    userId: undefined,
    missing,
  };
}
