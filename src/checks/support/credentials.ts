/**
 * Credentials for checks: how a credential is rendered into a header at send time, the valid credential of an
 * operation, unknown well-formed tokens from the run's seed, a credential that is rejected, and THE one way to mint
 * a JWT on the mock.
 */
import fc from 'fast-check';
import { bearer, type HeaderValue, type SecretHeader } from '../../http/client.js';
import type { Secret } from '../../secrets/redact.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { workerSlot } from '../../engine/worker-state.js';
import { wellFormedToken } from '../../arbitraries/wellFormedToken.js';

/** A credential the check may send: a registered Secret (live or seeded) or a mock-minted dummy JWT string. */
export type Credential = Secret | string;

/**
 * An Authorization value built from a credential at send time (`render` gets the raw value, or the fingerprint in
 * reports).
 */
export function authWith(credential: Credential, render: (raw: string) => string): HeaderValue {
  return typeof credential === 'string' ? render(credential) : ({ secret: credential, render } satisfies SecretHeader);
}

/** `Bearer <credential>`. */
export function bearerOf(credential: Credential): HeaderValue {
  return typeof credential === 'string' ? `Bearer ${credential}` : bearer(credential);
}

/** The profile's token shape (prefix, alphabet, length). */
export function tokenShape(ctx: CheckContext): { prefix: string; alphabet: string; length: number } {
  const { prefix, alphabet, length } = ctx.spec.profile.token;
  return { prefix, alphabet, length };
}

/** `count` well-formed tokens nobody issued (dyn_ + profile length random alphanumerics), from the run's seed. */
export function unknownTokens(ctx: CheckContext, count: number): string[] {
  return count > 0 ? fc.sample(wellFormedToken(tokenShape(ctx)), { seed: ctx.fc.seed, numRuns: count }) : [];
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT-shaped credential that no environment signed (for "a credential was presented and rejected" cases). */
export function unsignedJwtShape(): string {
  const header = b64url({ alg: 'RS256', typ: 'JWT', kid: 'conformance-unknown' });
  const payload = b64url({ sub: 'conformance', scope: 'user:basic' });
  return `${header}.${payload}.${Buffer.from('not a signature').toString('base64url')}`;
}

/** What a minted JWT says beyond its environment. */
export interface MintOptions {
  userId?: string;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

/** Minted JWTs of this worker, by mock, purpose and environment. */
const MINTED = workerSlot('minted mock JWTs', () => new Map<string, Promise<string>>());

/**
 * THE way to mint a JWT on the mock (`POST /__mock/jwt`), cached per mock and purpose. These are dummy credentials of
 * the embedded mock, kept as plain strings on purpose: every JWT-shaped text is replaced by its fingerprint in every
 * output (src/secrets/redact.ts JWT pattern), while registering each as a Secret would add ~800 redaction windows
 * that every later redact() call scans (measured: 97 µs per call with 2 JWTs registered, 573 µs with 14).
 */
export function mintMockJwt(
  ctx: CheckContext,
  purpose: string,
  environmentId: string,
  options: MintOptions = {},
): Promise<string> {
  const mock = ctx.mock;
  if (!mock) return Promise.reject(new Error('minting needs the mock control API'));
  const mintCache = ctx.worker.get(MINTED);
  const key = `${mock.url}|${purpose}|${environmentId}`;
  let pending = mintCache.get(key);
  if (!pending) {
    pending = mock.mintJwt(environmentId, options);
    pending.catch(() => mintCache.delete(key));
    mintCache.set(key, pending);
  }
  return pending;
}

/** Far-future expiry for minted "valid" tokens, so mock clock moves (429 handling) never expire them mid-run. */
export const FAR_FUTURE_EXP = 4_102_444_800; // 2100-01-01

/**
 * A valid user JWT of the environment under test: on the mock a freshly minted one (far-future exp); on live
 * DYNAMIC_USER_JWT. Undefined (with the reason) when none is available.
 */
export async function validUserJwt(ctx: CheckContext): Promise<{ jwt: Credential } | { reason: string }> {
  if (ctx.mock) {
    try {
      const userId = ctx.credentials.userId ? { userId: ctx.credentials.userId } : {};
      const options = { ...userId, claims: { exp: FAR_FUTURE_EXP } };
      return { jwt: await mintMockJwt(ctx, 'valid', ctx.credentials.environmentId, options) };
    } catch (error) {
      if (ctx.credentials.userJwt) return { jwt: ctx.credentials.userJwt };
      return { reason: `could not mint a user JWT: ${(error as Error).message}` };
    }
  }
  if (ctx.credentials.userJwt) return { jwt: ctx.credentials.userJwt };
  return { reason: `no user JWT: ${ctx.credentials.missing.userJwt ?? 'DYNAMIC_USER_JWT is not set'}` };
}

/** The valid credential of an operation's auth class (undefined + reason when not available). */
export async function validCredentialFor(
  ctx: CheckContext,
  op: Operation,
): Promise<{ credential: Credential } | { reason: string }> {
  if (op.auth === 'api-token') return { credential: ctx.credentials.apiToken };
  const jwt = await validUserJwt(ctx);
  return 'jwt' in jwt ? { credential: jwt.jwt } : jwt;
}

/**
 * Valid credentials per operation: the API token, the minted user JWT on the mock or the configured one on live; a
 * string is the reason there is none.
 */
export type AuthFor = (op: Operation) => Pick<RequestOptions, 'authorization'> | string;

/** The valid Authorization of every operation of the check (on the mock a user JWT is minted when one is needed). */
export async function validAuth(ctx: CheckContext): Promise<AuthFor> {
  let jwt: Credential | undefined = ctx.credentials.userJwt;
  if (ctx.mock && ctx.operations.some((o) => o.auth === 'user-jwt')) {
    const minted = await validUserJwt(ctx);
    if ('jwt' in minted) jwt = minted.jwt;
  }
  const missing = ctx.credentials.missing.userJwt ?? 'not available';
  return (op) => {
    if (op.auth === 'none') return {};
    if (op.auth === 'api-token') return { authorization: bearer(ctx.credentials.apiToken) };
    return jwt ? { authorization: bearerOf(jwt) } : `no user JWT: ${missing}`;
  };
}

/**
 * AUTH-013, AUTH-014, AUTH-019: a credential that is presented and rejected on `op` (unknown API token / unsigned
 * JWT shape).
 */
export function rejectedCredential(op: Operation, unknown: string): { label: string; value: string } {
  return op.auth === 'api-token'
    ? { label: 'unknown token', value: `Bearer ${unknown}` }
    : { label: 'JWT nobody signed', value: `Bearer ${unsignedJwtShape()}` };
}
