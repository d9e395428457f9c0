import { verify as cryptoVerify } from 'node:crypto';
import type { FaultSet } from './faults.js';
import type { EnvironmentKey } from './keys.js';
import { decodeJwt, importEmbeddedJwk, verifyHs256 } from './jwt.js';
import type { DecodedJwt, JsonObject } from './jwt.js';
import { issuerFor } from './seed.js';
import type * as JoseModule from 'jose';
import type { DocsProfile, OperationInfo } from './spec.js';
import type { Store, TokenRecord } from './store.js';

/** `WWW-Authenticate` challenges (AUTH-013, AUTH-014, AUTH-015; RFC 6750 3). */
export const CHALLENGE = {
  missing: 'Bearer realm="dynamic"',
  invalidToken: 'Bearer realm="dynamic", error="invalid_token"',
  insufficientScope: 'Bearer realm="dynamic", error="insufficient_scope"',
  invalidRequest: 'Bearer realm="dynamic", error="invalid_request"',
} as const;

/** Error messages of the auth step (one body per failure class: TOKEN-007, JWT-011). */
export const AUTH_MESSAGES = {
  missing: 'No jwt provided!',
  invalidToken: 'Invalid authentication credentials',
  invalidJwt: 'Invalid jwt',
  forbidden: 'Forbidden',
  duplicate: 'Duplicate Authorization header',
  malformed: 'malformed token',
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TCHAR_SCHEME = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)([\s\S]*)$/;
const VENDOR = /^(?:ghp_|github_pat_|sk_live_|xoxb-|npm_)/;
const JWT_SHAPE = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** Who a request is authenticated as. */
export type Principal =
  | {
      readonly kind: 'api-token';
      readonly environmentId: string | undefined;
      readonly scopes: readonly string[];
      readonly tokenId: string | undefined;
    }
  | { readonly kind: 'user-jwt'; readonly environmentId: string; readonly sub: string }
  | { readonly kind: 'public' };

/** The auth step's verdict. */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 403;
      readonly error: string;
      readonly challenge: string;
      readonly credentialPresented: boolean;
    };

/** A parsed `Authorization` field (AUTH-002..AUTH-004, AUTH-018). */
export type Credential =
  | { readonly kind: 'absent' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'other-scheme'; readonly rest: string; readonly scheme: string }
  | { readonly kind: 'bearer'; readonly value: string; readonly wellFormed: boolean };

/** All `Authorization` field values of a request, read from `rawHeaders` so duplicates are visible (AUTH-015). */
export function authorizationValues(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') out.push(rawHeaders[i + 1] ?? '');
  }
  return out;
}

/**
 * Parses one `Authorization` value: OWS around the field is ignored; the scheme is case-insensitive `Bearer`
 * (AUTH-004) followed by 1*SP (AUTH-018) and one credential. `Bearer\t<tok>` or `Bearer <tok> x` are presented but
 * malformed credentials; another scheme counts as no credential (AUTH-003).
 */
export function parseAuthorization(raw: string, faults: FaultSet): Credential {
  const v = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (v === '') return { kind: 'empty' };
  const m = TCHAR_SCHEME.exec(v);
  if (!m) return { kind: 'other-scheme', rest: v, scheme: '' };
  const scheme = m[1]!;
  const rest = m[2]!;
  const isBearer = faults.on('scheme-case-sensitive')
    ? scheme === 'Bearer'
    : scheme.length === 6 && scheme.toLowerCase() === 'bearer';
  if (!isBearer) return { kind: 'other-scheme', rest, scheme };
  if (rest === '' || /^[ \t]*$/.test(rest)) return { kind: 'empty' };
  if (rest.charCodeAt(0) === 32 /* SP */) {
    const cred = rest.replace(/^ +/, '');
    const wellFormed = !/[ \t]/.test(cred);
    if (!wellFormed && faults.on('accept-tab-separator'))
      return { kind: 'bearer', value: cred.split(/[ \t]/)[0] ?? '', wellFormed: true };
    return { kind: 'bearer', value: cred, wellFormed };
  }
  // A tab (or other character) right after the scheme.
  if (faults.on('accept-tab-separator'))
    return { kind: 'bearer', value: rest.replace(/^[ \t]+/, '').split(/[ \t]/)[0] ?? '', wellFormed: true };
  return { kind: 'bearer', value: rest, wellFormed: false };
}

/** Dependencies of the auth step. */
export interface AuthDeps {
  readonly profile: DocsProfile;
  readonly faults: FaultSet;
  readonly store: Store;
  readonly allScopes: readonly string[];
  readonly key: (environmentId: string) => EnvironmentKey | undefined;
  readonly nowMs: () => number;
  readonly defaultEnvironmentId: string;
}

/** Per-request inputs of the auth step. */
export interface AuthRequest {
  readonly op: OperationInfo;
  readonly pathEnvironmentId: string | undefined;
  readonly authorization: readonly string[];
  readonly query: URLSearchParams | undefined;
}

function fail(status: 400 | 401 | 403, error: string, challenge: string, credentialPresented: boolean): AuthResult {
  return { ok: false, status, error, challenge, credentialPresented };
}

type Jose = typeof JoseModule;
let josePromise: Promise<Jose> | undefined;
/** jose is loaded on first JWT verification, or by {@link preloadJose} after startup (keeps startup fast). */
function jose(): Promise<Jose> {
  josePromise ??= import('jose');
  return josePromise;
}

/** Starts loading jose in the background (called once the server listens). */
export function preloadJose(): void {
  jose().catch(() => undefined);
}

/** Verified-JWT answers kept per key; past this many, the map starts again (a run repeats ~130 tokens ~10k times). */
const VERIFIED_CACHE_LIMIT = 4096;

/**
 * The auth step (ARCHITECTURE.md step 3; AUTH-001..AUTH-019, TOKEN-002..TOKEN-010, JWT-001..JWT-012), with every
 * auth-related fault of specs/faults.json as an explicit, named deviation.
 */
export class Authenticator {
  readonly #d: AuthDeps;
  /**
   * jose's answer (the claims, or undefined) per environment key, by token, clock second and the faults that change
   * it: the same inputs give the same answer, so a repeated token costs a map lookup, not an RSA verification.
   */
  readonly #verified = new WeakMap<object, Map<string, JsonObject | undefined>>();
  readonly #shape: RegExp;

  constructor(deps: AuthDeps) {
    this.#d = deps;
    this.#shape = new RegExp(deps.profile.token.pattern);
  }

  /** Authenticates a request for `req.op` (sync for api-token and none ops; JWT verification is async). */
  authenticate(req: AuthRequest): AuthResult | Promise<AuthResult> {
    const { op } = req;
    const f = this.#d.faults;
    if (op.auth === 'none') {
      if (f.on('require-auth-on-public') && req.authorization.length === 0)
        return fail(401, AUTH_MESSAGES.missing, CHALLENGE.missing, false);
      return { ok: true, principal: { kind: 'public' } };
    }
    if (req.authorization.length > 1) {
      if (!f.on('accept-duplicate-authorization'))
        return fail(400, AUTH_MESSAGES.duplicate, CHALLENGE.invalidRequest, true);
      return this.#firstValid(req);
    }
    const cred =
      req.authorization.length === 0 ? ({ kind: 'absent' } as const) : parseAuthorization(req.authorization[0]!, f);
    return this.#withCredential(req, cred);
  }

  async #firstValid(req: AuthRequest): Promise<AuthResult> {
    let last: AuthResult = fail(401, AUTH_MESSAGES.missing, CHALLENGE.missing, false);
    for (const line of req.authorization) {
      const r = await this.#withCredential({ ...req, authorization: [line] }, parseAuthorization(line, this.#d.faults));
      if (r.ok) return r;
      last = r;
    }
    return last;
  }

  #withCredential(req: AuthRequest, cred: Credential): AuthResult | Promise<AuthResult> {
    const f = this.#d.faults;
    let value: string | undefined;
    let wellFormed = true;
    if (cred.kind === 'bearer') {
      value = cred.value;
      wellFormed = cred.wellFormed;
    } else if (cred.kind === 'other-scheme' && f.on('accept-any-scheme')) {
      const rest = cred.rest.replace(/^[ \t]+/, '');
      value = rest === '' ? cred.scheme : rest;
    }
    if (value === undefined && f.on('accept-query-token') && req.query) {
      value = req.query.get('access_token') ?? req.query.get('token') ?? undefined;
    }
    if (value === undefined || value === '') {
      if (cred.kind === 'absent' && f.on('accept-missing-token')) return this.#fullScope(req);
      if (cred.kind === 'empty' && f.on('accept-empty-bearer')) return this.#fullScope(req);
      const challenge = f.on('error-param-without-credentials') ? CHALLENGE.invalidToken : CHALLENGE.missing;
      return fail(401, AUTH_MESSAGES.missing, challenge, false);
    }
    return req.op.auth === 'api-token' ? this.#apiToken(req, value, wellFormed) : this.#userJwt(req, value, wellFormed);
  }

  #fullScope(req: AuthRequest): AuthResult {
    const env =
      req.pathEnvironmentId !== undefined && UUID.test(req.pathEnvironmentId)
        ? req.pathEnvironmentId
        : this.#d.defaultEnvironmentId;
    if (req.op.auth === 'user-jwt') return { ok: true, principal: { kind: 'user-jwt', environmentId: env, sub: '' } };
    return {
      ok: true,
      principal: { kind: 'api-token', environmentId: env, scopes: this.#d.allScopes, tokenId: undefined },
    };
  }

  // ---- API tokens ---------------------------------------------------------------------------------------------

  #apiToken(req: AuthRequest, presented: string, wellFormed: boolean): AuthResult | Promise<AuthResult> {
    const f = this.#d.faults;
    const invalid = (): AuthResult => fail(401, AUTH_MESSAGES.invalidToken, CHALLENGE.invalidToken, true);
    let value = presented;
    if (!f.none) {
      if (f.on('nfkc-normalize-token')) value = Buffer.from(value, 'latin1').toString('utf8').normalize('NFKC');
      if (f.on('trim-token-whitespace')) value = value.replace(/[\s\u00a0\u00c2]+/g, '');
      if (f.on('accept-uppercase-prefix') && /^dyn_/i.test(value)) value = `dyn_${value.slice(4)}`;
      if (f.on('strip-non-alphanumerics') && /^dyn_/.test(value))
        value = `dyn_${value.slice(4).replace(/[^A-Za-z0-9]/g, '')}`;
      if (f.on('accept-vendor-tokens') && VENDOR.test(value)) return this.#fullScope(req);
      if (f.on('accept-jwt-as-api-token') && JWT_SHAPE.test(value)) return this.#jwtAsApiToken(req, value);
    }
    let token: TokenRecord | undefined;
    const shapeOk = wellFormed && this.#shape.test(value);
    if (shapeOk) token = this.#d.store.findToken(value);
    if (token === undefined && !f.none) {
      if (f.on('case-insensitive-token'))
        token = this.#d.store.allTokens().find((t) => t.value.toLowerCase() === value.toLowerCase());
      if (token === undefined && f.on('accept-prefix-match'))
        token = this.#d.store
          .allTokens()
          .find((t) => value.length > 4 && (t.value.startsWith(value) || value.startsWith(t.value)));
      if (token === undefined && shapeOk && f.on('accept-unknown-token')) return this.#fullScope(req);
      if (token === undefined && !shapeOk && f.on('distinct-malformed-answer'))
        return fail(401, AUTH_MESSAGES.malformed, CHALLENGE.invalidToken, true);
    }
    if (token === undefined) return invalid();
    if (!token.active && !f.on('accept-inactive-token')) return invalid();
    return this.#authorize(req, token.environmentId, token.scopes, token.id);
  }

  /** Environment and scope checks for an authenticated API token (AUTH-007..AUTH-009, AUTH-012). */
  #authorize(req: AuthRequest, tokenEnv: string, scopes: readonly string[], tokenId: string | undefined): AuthResult {
    const f = this.#d.faults;
    const forbidden = (): AuthResult => fail(403, AUTH_MESSAGES.forbidden, CHALLENGE.insufficientScope, true);
    const pathEnv = req.pathEnvironmentId;
    // A malformed {environmentId} cannot name another environment: validation answers it (ERR-001).
    if (pathEnv !== undefined && UUID.test(pathEnv) && pathEnv !== tokenEnv && !f.on('ignore-token-environment'))
      return forbidden();
    if (!f.on('ignore-documented-scopes') && !req.op.scopes.every((s) => scopes.includes(s))) return forbidden();
    if (!f.on('ignore-inferred-scopes') && !req.op.inferredScopes.every((s) => scopes.includes(s))) return forbidden();
    if (f.on('deny-valid-analytics') && req.op.tags.includes('Analytics')) return forbidden();
    return { ok: true, principal: { kind: 'api-token', environmentId: tokenEnv, scopes, tokenId } };
  }

  async #jwtAsApiToken(req: AuthRequest, value: string): Promise<AuthResult> {
    const claimedEnv = decodeJwt(value)?.payload['environment_id'];
    const env =
      req.pathEnvironmentId !== undefined && UUID.test(req.pathEnvironmentId)
        ? req.pathEnvironmentId
        : typeof claimedEnv === 'string'
          ? claimedEnv
          : '';
    const claims = await this.#verifyJwt(value, env);
    if (claims === undefined) return fail(401, AUTH_MESSAGES.invalidToken, CHALLENGE.invalidToken, true);
    return {
      ok: true,
      principal: { kind: 'api-token', environmentId: env, scopes: this.#d.allScopes, tokenId: undefined },
    };
  }

  // ---- User JWTs ----------------------------------------------------------------------------------------------

  async #userJwt(req: AuthRequest, value: string, wellFormed: boolean): Promise<AuthResult> {
    const f = this.#d.faults;
    const decoded = decodeJwt(value);
    const failJwt = (): AuthResult => {
      let message: string = AUTH_MESSAGES.invalidJwt;
      if (f.on('jwt-error-echoes-claims') && decoded && typeof decoded.payload['sub'] === 'string')
        message = `Invalid jwt for user ${decoded.payload['sub']}`;
      return fail(401, message, CHALLENGE.invalidToken, true);
    };
    if (!wellFormed) return failJwt();
    let env = req.pathEnvironmentId ?? '';
    if (!UUID.test(env)) {
      // Malformed {environmentId}: verify against the environment the token claims; validation then answers 400.
      const claimed = decoded?.payload['environment_id'];
      env = typeof claimed === 'string' ? claimed : '';
    }
    if (f.on('accept-api-token-as-jwt')) {
      const t = this.#d.store.findToken(value);
      if (t !== undefined && t.active && t.environmentId === env)
        return { ok: true, principal: { kind: 'user-jwt', environmentId: env, sub: '' } };
    }
    const claims = await this.#verifyJwt(value, env, decoded);
    if (claims === undefined) return failJwt();
    return {
      ok: true,
      principal: { kind: 'user-jwt', environmentId: env, sub: typeof claims['sub'] === 'string' ? claims['sub'] : '' },
    };
  }

  /**
   * Verifies a user JWT for environment `env` (JWT-001..JWT-009, JWT-012): jose `jwtVerify` with
   * `algorithms: ['RS256']`, the key chosen by `kid` from the environment JWKS only, `iss` =
   * `app.dynamic.xyz/<env>`, `exp`/`nbf` against the mock clock with leeway 0; then `environment_id` = env and a
   * `scope` containing `user:basic`. Returns the claims, or undefined on any failure.
   */
  async #verifyJwt(token: string, env: string, decodedIn?: DecodedJwt): Promise<JsonObject | undefined> {
    const f = this.#d.faults;
    const decoded = decodedIn ?? decodeJwt(token);
    let keyEnv = env;
    if (f.on('accept-other-environment-jwt') && decoded) {
      const claimed = decoded.payload['environment_id'];
      if (typeof claimed === 'string' && this.#d.key(claimed)) keyEnv = claimed;
    }
    const key = this.#d.key(keyEnv);
    if (key === undefined) return undefined;
    const nowMs = this.#d.nowMs();
    const checks = {
      env: keyEnv,
      ignoreExp: f.on('ignore-exp'),
      ignoreNbf: f.on('ignore-nbf'),
      ignoreScope: f.on('ignore-user-basic-scope'),
    };
    if (!f.none && decoded) {
      const alg = typeof decoded.header['alg'] === 'string' ? decoded.header['alg'] : '';
      if (f.on('accept-alg-none') && alg.toLowerCase() === 'none') return claimsOk(decoded.payload, nowMs, checks);
      if (f.on('accept-hs256-public-key') && alg === 'HS256') {
        return verifyHs256(decoded, key.pem) || verifyHs256(decoded, key.pem.trim())
          ? claimsOk(decoded.payload, nowMs, checks)
          : undefined;
      }
      if (f.on('trust-embedded-jwk') && decoded.header['jwk'] !== undefined) {
        const embedded = importEmbeddedJwk(decoded.header['jwk']);
        if (!embedded) return undefined;
        const good = cryptoVerify(
          'sha256',
          Buffer.from(decoded.signingInput),
          embedded,
          Buffer.from(decoded.signature, 'base64url'),
        );
        return good ? claimsOk(decoded.payload, nowMs, checks) : undefined;
      }
      if (f.on('skip-signature-verification')) return claimsOk(decoded.payload, nowMs, checks);
      if (f.on('accept-empty-signature') && decoded.signature.length < 342)
        return claimsOk(decoded.payload, nowMs, checks);
    }
    const acceptUnknownKid = f.on('accept-unknown-kid');
    let verified = this.#verified.get(key);
    if (verified === undefined || verified.size >= VERIFIED_CACHE_LIMIT) {
      verified = new Map();
      this.#verified.set(key, verified);
    }
    const cacheKey =
      `${keyEnv} ${Math.floor(nowMs / 1000)} ${+checks.ignoreExp}${+checks.ignoreNbf}${+checks.ignoreScope}` +
      `${+acceptUnknownKid} ${token}`;
    if (verified.has(cacheKey)) return verified.get(cacheKey);
    const claims = await this.#joseVerify(token, key, nowMs, checks, acceptUnknownKid);
    verified.set(cacheKey, claims);
    return claims;
  }

  /** The signature (RS256, the key of `kid`) via jose, then the claims (see {@link claimsOk}). */
  async #joseVerify(
    token: string,
    key: NonNullable<ReturnType<AuthDeps['key']>>,
    nowMs: number,
    checks: { env: string; ignoreExp: boolean; ignoreNbf: boolean; ignoreScope: boolean },
    acceptUnknownKid: boolean,
  ): Promise<JsonObject | undefined> {
    const { jwtVerify, compactVerify } = await jose();
    const getKey = (header: { kid?: string | undefined }): typeof key.publicKey => {
      if (header.kid !== key.kid && !acceptUnknownKid) throw new Error('unknown kid');
      return key.publicKey;
    };
    try {
      if (checks.ignoreExp || checks.ignoreNbf) {
        // Time checks are deliberately relaxed (faults ignore-exp / ignore-nbf): signature via jose, claims here.
        const { payload } = await compactVerify(token, getKey, { algorithms: ['RS256'] });
        const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
        return typeof claims === 'object' && claims !== null
          ? claimsOk(claims as JsonObject, nowMs, checks)
          : undefined;
      }
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: ['RS256'],
        issuer: issuerFor(checks.env),
        currentDate: new Date(nowMs),
        clockTolerance: 0,
      });
      return claimsOk(payload, nowMs, checks);
    } catch {
      return undefined;
    }
  }
}

/** Claim checks shared by every path: iss, environment_id, user:basic scope, exp and nbf (leeway 0). */
function claimsOk(
  claims: JsonObject,
  nowMs: number,
  c: { env: string; ignoreExp: boolean; ignoreNbf: boolean; ignoreScope: boolean },
): JsonObject | undefined {
  const now = Math.floor(nowMs / 1000);
  if (claims['iss'] !== issuerFor(c.env)) return undefined;
  if (claims['environment_id'] !== c.env) return undefined;
  const scope = claims['scope'];
  if (!c.ignoreScope && (typeof scope !== 'string' || !scope.split(' ').includes('user:basic'))) return undefined;
  const exp = claims['exp'];
  if (exp !== undefined && (typeof exp !== 'number' || (!c.ignoreExp && exp <= now))) return undefined;
  const nbf = claims['nbf'];
  if (nbf !== undefined && (typeof nbf !== 'number' || (!c.ignoreNbf && nbf > now))) return undefined;
  return claims;
}
