/**
 * Authentication rules (specs/rules/auth.json): who may call which operation with which credential — the auth
 * matrix over every operation (no / empty / other-scheme / case-variant / unknown / inactive / other-environment /
 * under-scoped / wrong-kind / query-string / duplicated credentials), the WWW-Authenticate challenge (RFC 9110
 * 11.6.1, RFC 6750 3) and the order "auth before validation". The shared building blocks of the TOKEN and JWT
 * families (per-operation cases, raw requests, the challenge parser, a fresh user JWT) live here too.
 */
import fc from 'fast-check';
import type { HeaderValue, HttpResponse, SecretHeader } from '../http/client.js';
import { bearer, headerValue } from '../http/client.js';
import type { Secret } from '../secrets/redact.js';
import type { RequestOptions } from '../http/requests.js';
import type { Operation } from '../engine/spec.js';
import { mapLimit } from '../engine/runner.js';
import { wellFormedToken } from '../arbitraries/wellFormedToken.js';
import { bearerSchemeCase } from '../arbitraries/bearerSchemeCase.js';
import { concurrency, errorSchemaFor, sendFor } from './support/send.js';
import type { Check, CheckContext } from '../engine/types.js';

// ---------------------------------------------------------------------------------------------------------------
// Shared building blocks (also used by src/checks/token.ts and src/checks/jwt.ts)
// ---------------------------------------------------------------------------------------------------------------

/** A credential the check may send: a registered Secret (live or seeded) or a mock-minted dummy JWT string. */
export type Credential = Secret | string;

/** An Authorization value built from a credential at send time (`render` gets the raw value, or the fingerprint in reports). */
export function authWith(credential: Credential, render: (raw: string) => string): HeaderValue {
  return typeof credential === 'string' ? render(credential) : ({ secret: credential, render } satisfies SecretHeader);
}

/** One request of a per-operation case list and the verdict on its answer (a failure reason, or undefined). */
export interface AuthCase {
  label: string;
  send(): Promise<HttpResponse>;
  judge(res: HttpResponse): string | undefined;
}

/** The statuses of a response rendered for a message (0 = transport error / closed connection). */
export function statusText(res: HttpResponse): string {
  return res.status ? String(res.status) : `no response (${res.exchange.error ?? 'connection closed'})`;
}

/** Expects one of `statuses`, and for an error status the documented error body of the profile. */
export function expectRejected(ctx: CheckContext, statuses: number[] = [401]): (res: HttpResponse) => string | undefined {
  return (res) => {
    if (!statuses.includes(res.status)) return `expected ${statuses.join(' or ')}, got ${statusText(res)}`;
    const schema = errorSchemaFor(ctx, res.status);
    if (!schema) return undefined;
    const v = ctx.schemas.validate(schema, res.json);
    return v.valid ? undefined : `status ${res.status} is right but the body does not match ${schema.split('/').pop() ?? schema}: ${v.errors.join('; ')}`;
  };
}

/** Expects the credential to be accepted: an answer that is neither 401 nor 403 (nor a transport error). */
export function expectAccepted(): (res: HttpResponse) => string | undefined {
  return (res) => (res.status === 0 ? `expected the credential to be accepted, got ${statusText(res)}` : res.status === 401 || res.status === 403 ? `expected the credential to be accepted (not 401/403), got ${res.status}` : undefined);
}

/** A case sent through the normal client for `op`. */
export function requestCase(ctx: CheckContext, op: Operation, label: string, options: RequestOptions, judge: (res: HttpResponse) => string | undefined): AuthCase {
  return { label, send: () => sendFor(ctx, op, options), judge };
}

/**
 * Runs a list of cases per operation (operations concurrently) and records ONE outcome per operation: pass when every
 * case passes, else fail naming each failing case. `casesFor` may return a string: the operation is skipped with it.
 */
export async function judgeOperations(ctx: CheckContext, operations: readonly Operation[], casesFor: (op: Operation, index: number) => AuthCase[] | string | undefined | Promise<AuthCase[] | string | undefined>, limit = concurrency(ctx)): Promise<void> {
  await mapLimit(operations, Math.min(limit, concurrency(ctx)), async (op, index) => {
    const notSampled = liveSdkSkipReason(ctx, op);
    if (notSampled) {
      ctx.skip(op.key, notSampled);
      return;
    }
    const cases = await casesFor(op, index);
    if (cases === undefined) return;
    if (typeof cases === 'string') {
      ctx.skip(op.key, cases);
      return;
    }
    if (!cases.length) return;
    const results = await mapLimit(cases, ctx.config.target === 'mock' ? cases.length : 1, async (c) => {
      const res = await c.send();
      return { c, res, why: c.judge(res) };
    });
    // A 429 that survived the client's retries was never judged by the auth step: inconclusive, not a violation.
    const limited = results.filter((r) => r.why !== undefined && r.res.status === 429);
    const failures = results.filter((r) => r.why !== undefined && r.res.status !== 429);
    if (failures.length) ctx.fail(op.key, failures.map((f) => `${f.c.label}: ${f.why ?? ''}`).join(' | '), failures.map((f) => f.res));
    else if (limited.length) ctx.inconclusive(op.key, `rate limited (429 after the client's retries) on: ${limited.map((l) => l.c.label).join(', ')}`, limited[0]!.res);
    else ctx.pass(op.key, results[0]!.res);
  });
}

/**
 * A small sample of operations spread across tags, rotated by the run's seed (the same seed picks the same sample, so
 * FC_SEED/FC_PATH replay hits the same operations). On live only read operations are sampled.
 */
export function sampleOperations(ctx: CheckContext, operations: readonly Operation[], count: number): Operation[] {
  const candidates = ctx.config.target === 'live' ? operations.filter((op) => op.method === 'GET') : [...operations];
  const byTag = new Map<string, Operation[]>();
  for (const op of candidates) byTag.set(op.tag, [...(byTag.get(op.tag) ?? []), op]);
  const tags = [...byTag.keys()].sort();
  if (!tags.length) return [];
  const seed = Math.abs(ctx.fc.seed);
  const stride = Math.max(1, Math.floor(tags.length / count));
  const out: Operation[] = [];
  for (let i = 0; out.length < Math.min(count, candidates.length) && i < count * 4; i += 1) {
    const group = byTag.get(tags[(seed + i * stride) % tags.length]!)!;
    const op = group[(seed + i) % group.length]!;
    if (!out.includes(op)) out.push(op);
  }
  return out;
}

/** How many user-jwt (SDK) operations a check covers on live: the SDK per-IP limit is 500 requests per 5 minutes. */
export const LIVE_SDK_OPERATIONS = 8;
const liveSdkSamples = new WeakMap<CheckContext['spec'], Set<string>>();

/**
 * On live, user-jwt operations are covered through a seed-rotated sample of LIVE_SDK_OPERATIONS read operations
 * (sequential requests at Dynamic's documented SDK limit of 60 / 10 s, 250 / min, 500 / 5 min per IP would otherwise
 * take far longer than a test); the reason for every other one, or undefined when the operation is covered.
 */
export function liveSdkSkipReason(ctx: CheckContext, op: Operation): string | undefined {
  if (ctx.config.target !== 'live' || op.auth !== 'user-jwt') return undefined;
  let sample = liveSdkSamples.get(ctx.spec);
  if (!sample) {
    sample = new Set(sampleOperations(ctx, ctx.spec.operations.filter((o) => o.auth === 'user-jwt'), LIVE_SDK_OPERATIONS).map((o) => o.key));
    liveSdkSamples.set(ctx.spec, sample);
  }
  return sample.has(op.key) ? undefined : `live: user-jwt operations are covered through a sample of ${LIVE_SDK_OPERATIONS} read operations (the SDK per-IP limit is 500 requests / 5 min); this one is not in this seed's sample`;
}

/** On the mock every variant is sent; on live one per operation, rotating, to keep the request count low. */
export function variantsFor<T>(ctx: CheckContext, variants: readonly T[], index: number): T[] {
  if (ctx.config.target === 'mock' || variants.length <= 1) return [...variants];
  return [variants[index % variants.length]!];
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Why a case that would be ACCEPTED may not run: live writes need DYNAMIC_ALLOW_WRITES=true. */
export function writeSkipReason(ctx: CheckContext, op: Operation): string | undefined {
  if (ctx.config.target !== 'live' || READ_METHODS.has(op.method) || ctx.config.allowWrites) return undefined;
  return `${op.method} with a credential that must be accepted would change live data; set DYNAMIC_ALLOW_WRITES=true to include write operations`;
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

/** A JWT-shaped credential that no environment signed (for "a credential was presented and rejected" cases). */
export function unsignedJwtShape(): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'RS256', typ: 'JWT', kid: 'conformance-unknown' })}.${enc({ sub: 'conformance', scope: 'user:basic' })}.${Buffer.from('not a signature').toString('base64url')}`;
}

const mintCache = new Map<string, Promise<string>>();

/**
 * A JWT signed by the mock (`POST /__mock/jwt`), cached per mock and purpose. These are dummy credentials of the
 * embedded mock, kept as plain strings on purpose: every JWT-shaped text is replaced by its fingerprint in every
 * output (src/secrets/redact.ts JWT pattern), while registering each as a Secret would add ~800 redaction windows that
 * every later redact() call scans (measured: 97 µs per call with 2 JWTs registered, 573 µs with 14).
 */
export function mintMockJwt(ctx: CheckContext, purpose: string, environmentId: string, options: { userId?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> } = {}): Promise<string> {
  const mock = ctx.mock;
  if (!mock) return Promise.reject(new Error('minting needs the mock control API'));
  const key = `${mock.url}|${purpose}|${environmentId}`;
  let pending = mintCache.get(key);
  if (!pending) {
    pending = (async () => {
      const res = await fetch(`${mock.url}/jwt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ environmentId, ...options }) });
      const text = await res.text();
      if (!res.ok) throw new Error(`POST /__mock/jwt answered ${res.status}`);
      return (JSON.parse(text) as { jwt: string }).jwt;
    })();
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
      return { jwt: await mintMockJwt(ctx, 'valid', ctx.credentials.environmentId, { ...(ctx.credentials.userId ? { userId: ctx.credentials.userId } : {}), claims: { exp: FAR_FUTURE_EXP } }) };
    } catch (error) {
      if (ctx.credentials.userJwt) return { jwt: ctx.credentials.userJwt };
      return { reason: `could not mint a user JWT: ${(error as Error).message}` };
    }
  }
  if (ctx.credentials.userJwt) return { jwt: ctx.credentials.userJwt };
  return { reason: `no user JWT: ${ctx.credentials.missing.userJwt ?? 'DYNAMIC_USER_JWT is not set'}` };
}

/** The valid credential of an operation's auth class (undefined + reason when not available). */
export async function validCredentialFor(ctx: CheckContext, op: Operation): Promise<{ credential: Credential } | { reason: string }> {
  if (op.auth === 'api-token') return { credential: ctx.credentials.apiToken };
  const jwt = await validUserJwt(ctx);
  return 'jwt' in jwt ? { credential: jwt.jwt } : jwt;
}

// ---- WWW-Authenticate (RFC 9110 11.6.1) ----------------------------------------------------------------------

export interface Challenge {
  scheme: string;
  /** auth-params in order, names as sent. */
  params: [string, string][];
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses a WWW-Authenticate field value into challenges (RFC 9110 11.6.1: `#challenge`, `challenge = auth-scheme
 * [ 1*SP ( token68 / #auth-param ) ]`, `auth-param = token BWS "=" BWS ( token / quoted-string )`). Returns the
 * challenges, or a message naming the first syntax error.
 */
export function parseChallenges(value: string): { challenges: Challenge[] } | { error: string } {
  const s = value;
  let i = 0;
  const ows = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i += 1;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i += 1;
    return s.slice(start, i);
  };
  const quoted = (): string | undefined => {
    if (s[i] !== '"') return undefined;
    i += 1;
    let out = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') i += 1;
      if (i < s.length) out += s[i];
      i += 1;
    }
    if (s[i] !== '"') return undefined;
    i += 1;
    return out;
  };
  /** Is an auth-param (token BWS "=" — but not a token68's trailing "=" padding) next? */
  const paramAhead = (): boolean => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=[ \t]*([^=]|$)/.exec(s.slice(i));
    if (!m) return false;
    // "abc=" followed by end/comma is a token68, not a param with an empty value.
    return !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+=*[ \t]*(,|$)/.test(s.slice(i)) || /=[ \t]*[^ \t,=]/.test(m[0]);
  };
  const challenges: Challenge[] = [];
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t' || s[i] === ',') i += 1;
    if (i >= s.length) break;
    const scheme = token();
    if (!scheme) return { error: `expected an auth-scheme at offset ${i} of ${JSON.stringify(value)}` };
    const challenge: Challenge = { scheme, params: [] };
    challenges.push(challenge);
    if (i >= s.length || s[i] === ',') continue;
    if (s[i] !== ' ') return { error: `expected SP after the auth-scheme '${scheme}' at offset ${i}` };
    while (s[i] === ' ') i += 1;
    if (i >= s.length || s[i] === ',') continue;
    if (!paramAhead()) {
      const m = TOKEN68.exec(s.slice(i));
      if (!m) return { error: `expected token68 or auth-param at offset ${i}` };
      challenge.token68 = m[0];
      i += m[0].length;
      ows();
      if (i < s.length && s[i] !== ',') return { error: `unexpected text after token68 at offset ${i}` };
      continue;
    }
    for (;;) {
      const name = token();
      ows();
      if (s[i] !== '=') return { error: `expected '=' after auth-param '${name}' at offset ${i}` };
      i += 1;
      ows();
      const v = s[i] === '"' ? quoted() : token();
      if (v === undefined) return { error: `unterminated quoted-string for auth-param '${name}'` };
      if (v === '' && s[i - 1] !== '"') return { error: `empty value for auth-param '${name}' at offset ${i}` };
      challenge.params.push([name, v]);
      ows();
      if (i >= s.length) break;
      if (s[i] !== ',') return { error: `expected ',' after auth-param '${name}' at offset ${i}` };
      while (s[i] === ',' || s[i] === ' ' || s[i] === '\t') i += 1;
      if (i >= s.length || !paramAhead()) break;
    }
  }
  return { challenges };
}

/**
 * The Bearer challenge of a response (RFC 9110 11.6.1 / RFC 6750 3): the scheme matched case-insensitively, and no
 * auth-param repeated. Returns the challenge or a failure reason.
 */
export function bearerChallenge(res: HttpResponse): { challenge: Challenge } | { reason: string } {
  const raw = res.headers['www-authenticate'];
  if (raw === undefined || (Array.isArray(raw) && !raw.length)) return { reason: 'no WWW-Authenticate header' };
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  const parsed = parseChallenges(value);
  if ('error' in parsed) return { reason: `WWW-Authenticate does not parse (RFC 9110 11.6.1): ${parsed.error}` };
  const bearerOnes = parsed.challenges.filter((c) => c.scheme.toLowerCase() === 'bearer');
  if (!bearerOnes.length) return { reason: `WWW-Authenticate has no Bearer challenge (schemes: ${parsed.challenges.map((c) => c.scheme).join(', ') || 'none'})` };
  if (bearerOnes.length > 1) return { reason: 'WWW-Authenticate repeats the Bearer challenge' };
  const challenge = bearerOnes[0]!;
  const seen = new Set<string>();
  for (const [name] of challenge.params) {
    const key = name.toLowerCase();
    if (seen.has(key)) return { reason: `the Bearer challenge repeats the auth-param '${name}' (RFC 6750 3: each at most once)` };
    seen.add(key);
  }
  return { challenge };
}

/** The value of an auth-param (case-insensitive name). */
export function challengeParam(challenge: Challenge, name: string): string | undefined {
  return challenge.params.find(([n]) => n.toLowerCase() === name)?.[1];
}

// ---- Raw requests (bytes undici refuses or normalises) ----------------------------------------------------------

/** The bytes of an HTTP/1.1 request for `op` with the given Authorization lines (UTF-8 encoded, sent verbatim). */
export function rawRequest(ctx: CheckContext, op: Operation, authorization: HeaderValue[], options: RequestOptions = {}): Buffer {
  const req = ctx.requests.build(op, options);
  const url = new URL(ctx.config.apiUrl);
  const lines: string[] = [`${req.method} ${ctx.client.urlPath(req)} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  const render = (v: HeaderValue): string => (typeof v === 'string' ? v : v.render(v.secret.reveal()));
  for (const [name, value] of req.headers ?? []) lines.push(`${name}: ${render(value)}`);
  for (const value of authorization) lines.push(`Authorization: ${render(value)}`);
  let body: Buffer | undefined;
  if (req.rawBody !== undefined) body = Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody);
  else if (req.body !== undefined) {
    body = Buffer.from(JSON.stringify(req.body));
    if (!(req.headers ?? []).some(([n]) => n.toLowerCase() === 'content-type')) lines.push('Content-Type: application/json');
  }
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return body === undefined ? head : Buffer.concat([head, body]);
}

/** Sends raw bytes; on the mock a 429 (all raw requests share 127.0.0.1) advances the mock clock and retries. */
export async function sendRawRequest(ctx: CheckContext, bytes: Buffer, label: string): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt += 1) {
    const res = await ctx.client.sendRaw(bytes, label);
    if (res.status !== 429 || !ctx.mock || attempt >= 6) return res;
    const retryAfter = Number(headerValue(res.headers['retry-after']) ?? '1');
    await ctx.mock.advanceClock(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 1);
  }
}

/** Concurrency of per-operation raw cases (each is a fresh TCP connection from 127.0.0.1). */
export const RAW_CONCURRENCY = 6;

// ---------------------------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------------------------

/** AUTH-001 (API reference; RFC 6750 3.1): a request without Authorization gets 401 with the Unauthorized body. */
export const rejectsMissingCredentials: Check = {
  rule: 'AUTH-001',
  run: (ctx) => judgeOperations(ctx, ctx.operations, (op) => [requestCase(ctx, op, 'no Authorization header', {}, expectRejected(ctx))]),
};

/** AUTH-002 (RFC 6750 2.1, 3.1): `Bearer`, `Bearer ` and an empty Authorization field never authenticate: 401. */
export const rejectsEmptyBearer: Check = {
  rule: 'AUTH-002',
  run: (ctx) => {
    const statuses = ctx.config.target === 'mock' ? [401] : [400, 401];
    return judgeOperations(ctx, ctx.operations, (op, i) => variantsFor(ctx, ['Bearer', 'Bearer ', ''], i).map((value) =>
      requestCase(ctx, op, `Authorization: ${JSON.stringify(value)}`, { authorization: value }, expectRejected(ctx, statuses))));
  },
};

/** AUTH-003 (API reference: Authorization: Bearer; RFC 6750 2.1): a valid token under another scheme or header is no credential: 401. */
export const rejectsOtherSchemes: Check = {
  rule: 'AUTH-003',
  run: (ctx) => {
    const token = ctx.credentials.apiToken;
    const variants: [string, RequestOptions][] = [
      ['Basic base64(token:)', { authorization: authWith(token, (raw) => `Basic ${Buffer.from(`${raw}:`).toString('base64')}`) }],
      ['Token <token>', { authorization: authWith(token, (raw) => `Token ${raw}`) }],
      ['bare token (no scheme)', { authorization: authWith(token, (raw) => raw) }],
      ['X-API-Key header only', { headers: [['x-api-key', authWith(token, (raw) => raw)]] }],
    ];
    return judgeOperations(ctx, ctx.operations, (op, i) => variantsFor(ctx, variants, i).map(([label, options]) => requestCase(ctx, op, label, options, expectRejected(ctx))));
  },
};

/** AUTH-004 (RFC 9110 11.1): the scheme name is case-insensitive — bearer / BEARER / bEaReR with a valid token are accepted. */
export const acceptsSchemeInAnyCase: Check = {
  rule: 'AUTH-004',
  run: (ctx) => {
    const random = fc.sample(bearerSchemeCase(), { seed: ctx.fc.seed, numRuns: 1 })[0] ?? 'bEaReR';
    const schemes = [...new Set(['bearer', 'BEARER', 'bEaReR', random])];
    ctx.log(`AUTH-004 schemes: ${schemes.join(', ')} (seed ${ctx.fc.seed})`);
    return judgeOperations(ctx, ctx.operations, (op, i) => writeSkipReason(ctx, op) ?? variantsFor(ctx, schemes, i).map((scheme) =>
      requestCase(ctx, op, `'${scheme} <valid token>'`, { authorization: authWith(ctx.credentials.apiToken, (raw) => `${scheme} ${raw}`) }, expectAccepted())));
  },
};

/** AUTH-005 (API reference; RFC 6750 3.1 invalid_token): a well-formed but unknown token (dyn_ + profile length) gets 401. */
export const rejectsUnknownToken: Check = {
  rule: 'AUTH-005',
  run: (ctx) => {
    const tokens = unknownTokens(ctx, ctx.operations.length);
    ctx.log(`AUTH-005 unknown tokens from seed ${ctx.fc.seed}`);
    return judgeOperations(ctx, ctx.operations, (op, i) => [requestCase(ctx, op, 'well-formed unknown token', { authorization: `Bearer ${tokens[i] ?? ''}` }, expectRejected(ctx))]);
  },
};

/** AUTH-006 (TokenWithRaw: "Only active tokens can be used"; RFC 6750 3.1): an inactive token gets 401 with the documented body. */
export const rejectsInactiveToken: Check = {
  rule: 'AUTH-006',
  run: (ctx) => {
    const inactive = ctx.credentials.inactiveToken;
    return judgeOperations(ctx, ctx.operations, (op) => (inactive
      ? [requestCase(ctx, op, 'inactive token', { authorization: bearer(inactive) }, expectRejected(ctx))]
      : `no inactive token: ${ctx.credentials.missing.inactiveToken ?? 'not available'}`));
  },
};

/** AUTH-007 (tokens-api-keys 403; quickstart "every request is scoped to an environment"): another environment's valid token gets 403. */
export const rejectsOtherEnvironmentToken: Check = {
  rule: 'AUTH-007',
  run: (ctx) => {
    const { otherEnvironmentToken, otherEnvironmentId, apiToken } = ctx.credentials;
    const scoped = ctx.operations.filter((op) => op.path.includes('{environmentId}'));
    return judgeOperations(ctx, scoped, (op) => {
      const cases: AuthCase[] = [];
      if (otherEnvironmentToken) cases.push(requestCase(ctx, op, "the other environment's token on this environment", { authorization: bearer(otherEnvironmentToken) }, expectRejected(ctx, [403])));
      if (otherEnvironmentId) cases.push(requestCase(ctx, op, "this environment's token on the other environment", { authorization: bearer(apiToken), pathParams: { environmentId: otherEnvironmentId } }, expectRejected(ctx, [403])));
      return cases.length ? cases : `no second environment: ${ctx.credentials.missing.otherEnvironmentToken ?? ctx.credentials.missing.otherEnvironmentId ?? 'not available'}`;
    });
  },
};

/** AUTH-008 (API token permissions page; RFC 6750 3.1 insufficient_scope): a token lacking the documented scope gets 403. */
export const rejectsMissingDocumentedScope: Check = {
  rule: 'AUTH-008',
  run: async (ctx) => {
    const scoped = ctx.operations.filter((op) => op.scopes.length);
    if (!scoped.length) {
      ctx.skip('(rule)', 'no api-token operation documents a scope (x-dynamic-scopes)');
      return;
    }
    const { noScopeToken, limitedToken, limitedTokenScopes } = ctx.credentials;
    await judgeOperations(ctx, scoped, (op) => {
      if (noScopeToken) return [requestCase(ctx, op, `token without scopes (needs ${op.scopes.join(', ')})`, { authorization: bearer(noScopeToken) }, expectRejected(ctx, [403]))];
      if (limitedToken && limitedTokenScopes) {
        const lacking = op.scopes.filter((s) => !limitedTokenScopes.includes(s));
        if (lacking.length) return [requestCase(ctx, op, `limited token lacking ${lacking.join(', ')}`, { authorization: bearer(limitedToken) }, expectRejected(ctx, [403]))];
        return `the limited token holds ${op.scopes.join(', ')}; no token lacking it is available`;
      }
      return limitedToken
        ? 'the limited token\'s scopes are not known (live tokens do not reveal them), so whether it lacks the documented scope cannot be decided'
        : `no under-scoped token: ${ctx.credentials.missing.limitedToken ?? ctx.credentials.missing.noScopeToken ?? 'not available'}`;
    });
  },
};

/**
 * AUTH-009 (RFC 6750 3.1; inferred scope map, specs/overlay/doc-facts.json): a token lacking the inferred resource
 * scope gets 403 — the no-scope token everywhere, the read-only token on operations needing a scope it lacks (*.write)
 * — while the read-only token is ACCEPTED where it holds every needed scope (reads).
 */
export const enforcesInferredScopes: Check = {
  rule: 'AUTH-009',
  run: async (ctx) => {
    const inferred = ctx.operations.filter((op) => op.inferredScopes.length);
    if (!inferred.length) {
      ctx.skip('(rule)', 'no operation has inferred scopes (x-dynamic-scopes-inferred)');
      return;
    }
    const { noScopeToken, limitedToken, limitedTokenScopes } = ctx.credentials;
    await judgeOperations(ctx, inferred, (op) => {
      const cases: AuthCase[] = [];
      if (noScopeToken) cases.push(requestCase(ctx, op, `token without scopes (needs ${op.inferredScopes.join(', ')})`, { authorization: bearer(noScopeToken) }, expectRejected(ctx, [403])));
      if (limitedToken && limitedTokenScopes) {
        const lacking = [...op.inferredScopes, ...op.scopes].filter((s) => !limitedTokenScopes.includes(s));
        if (lacking.length) cases.push(requestCase(ctx, op, `read-only token lacking ${lacking.join(', ')}`, { authorization: bearer(limitedToken) }, expectRejected(ctx, [403])));
        else if (!writeSkipReason(ctx, op)) cases.push(requestCase(ctx, op, `read-only token holding ${op.inferredScopes.join(', ')}`, { authorization: bearer(limitedToken) }, expectAccepted()));
      }
      if (cases.length) return cases;
      return limitedToken ? 'the limited token\'s scopes are not known and no token without scopes is available' : `no under-scoped token: ${ctx.credentials.missing.noScopeToken ?? ctx.credentials.missing.limitedToken ?? 'not available'}`;
    });
  },
};

/** AUTH-010 (API reference: two kinds of bearer token): a user JWT where an API token is required gets 401. */
export const rejectsJwtAsApiToken: Check = {
  rule: 'AUTH-010',
  run: async (ctx) => {
    const jwt = await validUserJwt(ctx);
    await judgeOperations(ctx, ctx.operations, (op) => ('jwt' in jwt
      ? [requestCase(ctx, op, "a valid user JWT of the token's environment", { authorization: authWith(jwt.jwt, (raw) => `Bearer ${raw}`) }, expectRejected(ctx))]
      : jwt.reason));
  },
};

/** AUTH-011 (RFC 6750 2.3, 5.3; RFC 9700 4.3.2): a valid token only in ?access_token= or ?token= is never accepted: 401 (mock only). */
export const rejectsQueryToken: Check = {
  rule: 'AUTH-011',
  run: (ctx) => {
    if (ctx.config.target !== 'mock') {
      for (const op of ctx.operations) ctx.skip(op.key, 'the suite never puts a live credential in a URL (SEC-002)');
      return Promise.resolve();
    }
    // Mock credentials are dummies: the only place a credential may be written into a URL (credentialInUrl).
    const raw = ctx.credentials.apiToken.reveal();
    return judgeOperations(ctx, ctx.operations, (op) => ['access_token', 'token'].map((param) => ({
      label: `token only in ?${param}=`,
      send: () => ctx.client.send({ ...ctx.requests.build(op, { localAddress: ctx.sourceAddress(), query: { [param]: raw } }), credentialInUrl: true }),
      judge: expectRejected(ctx),
    })));
  },
};

/** AUTH-012 (API reference, quickstart): valid, permitted credentials are never answered 401 or 403. */
export const acceptsValidCredentials: Check = {
  rule: 'AUTH-012',
  run: (ctx) => judgeOperations(ctx, ctx.operations, async (op) => {
    const skip = writeSkipReason(ctx, op);
    if (skip) return skip;
    if (op.auth === 'none') return [requestCase(ctx, op, 'no credentials (public operation)', {}, expectAccepted())];
    const valid = await validCredentialFor(ctx, op);
    if (!('credential' in valid)) return valid.reason;
    return [requestCase(ctx, op, op.auth === 'api-token' ? 'full-scope token' : 'valid user JWT', { authorization: authWith(valid.credential, (raw) => `Bearer ${raw}`) }, expectAccepted())];
  }),
};

/** A credential that is presented and rejected on `op` (unknown API token / unsigned JWT shape). */
function rejectedCredential(op: Operation, unknown: string): { label: string; value: string } {
  return op.auth === 'api-token' ? { label: 'unknown token', value: `Bearer ${unknown}` } : { label: 'JWT nobody signed', value: `Bearer ${unsignedJwtShape()}` };
}

/** AUTH-013 (RFC 9110 11.6.1, 15.5.2; RFC 6750 3): every 401 carries a parseable WWW-Authenticate with one Bearer challenge. */
export const challengesEvery401: Check = {
  rule: 'AUTH-013',
  run: (ctx) => {
    const tokens = unknownTokens(ctx, ctx.operations.length);
    const judge = (res: HttpResponse): string | undefined => {
      if (res.status !== 401) return `expected 401, got ${statusText(res)}`;
      const c = bearerChallenge(res);
      return 'reason' in c ? c.reason : undefined;
    };
    return judgeOperations(ctx, ctx.operations, (op, i) => {
      const rejected = rejectedCredential(op, tokens[i] ?? '');
      return [
        requestCase(ctx, op, 'no credentials', {}, judge),
        requestCase(ctx, op, rejected.label, { authorization: rejected.value }, judge),
      ];
    });
  },
};

/** AUTH-014 (RFC 6750 3.1, last paragraph): no credentials → challenge without `error`; a rejected credential → error="invalid_token". */
export const challengeErrorParam: Check = {
  rule: 'AUTH-014',
  run: (ctx) => {
    const tokens = unknownTokens(ctx, ctx.operations.length);
    const judge = (want: string | undefined) => (res: HttpResponse): string | undefined => {
      if (res.status !== 401) return `expected 401, got ${statusText(res)}`;
      const c = bearerChallenge(res);
      if ('reason' in c) return c.reason;
      const error = challengeParam(c.challenge, 'error');
      if (want === undefined) return error === undefined ? undefined : `a request without credentials got error="${error}" (RFC 6750 3.1: SHOULD NOT include an error code)`;
      return error === want ? undefined : `expected error="${want}", got ${error === undefined ? 'no error auth-param' : `error="${error}"`}`;
    };
    return judgeOperations(ctx, ctx.operations, (op, i) => {
      const rejected = rejectedCredential(op, tokens[i] ?? '');
      return [
        requestCase(ctx, op, 'no credentials', {}, judge(undefined)),
        requestCase(ctx, op, rejected.label, { authorization: rejected.value }, judge('invalid_token')),
      ];
    });
  },
};

/** AUTH-015 (RFC 6750 2, 3.1; RFC 9110 5.3): two Authorization lines (valid + invalid, both orders) are 400 invalid_request. */
export const rejectsDuplicateAuthorization: Check = {
  rule: 'AUTH-015',
  run: async (ctx) => {
    const tokens = unknownTokens(ctx, 1);
    const jwt = await validUserJwt(ctx);
    const judge = (res: HttpResponse): string | undefined => {
      const wrong = expectRejected(ctx, [400])(res);
      if (wrong) return wrong;
      if (res.headers['www-authenticate'] === undefined) return undefined;
      const c = bearerChallenge(res);
      if ('reason' in c) return c.reason;
      const error = challengeParam(c.challenge, 'error');
      return error === 'invalid_request' ? undefined : `the challenge names error=${error === undefined ? '(none)' : `"${error}"`}, expected "invalid_request"`;
    };
    await judgeOperations(ctx, ctx.operations, (op) => {
      let valid: HeaderValue;
      let invalid: string;
      if (op.auth === 'api-token') {
        valid = bearer(ctx.credentials.apiToken);
        invalid = `Bearer ${tokens[0] ?? ''}`;
      } else {
        if (!('jwt' in jwt)) return jwt.reason;
        valid = authWith(jwt.jwt, (raw) => `Bearer ${raw}`);
        invalid = `Bearer ${unsignedJwtShape()}`;
      }
      return ([['valid, then invalid', [valid, invalid]], ['invalid, then valid', [invalid, valid]]] as const).map(([label, lines]) => ({
        label: `two Authorization lines (${label})`,
        send: () => sendRawRequest(ctx, rawRequest(ctx, op, [...lines]), `${op.key} duplicate Authorization (${label})`),
        judge,
      }));
    }, RAW_CONCURRENCY);
  },
};

/** AUTH-016 (API reference: two kinds of bearer token): a valid API token where a user JWT is required gets 401. */
export const rejectsApiTokenAsJwt: Check = {
  rule: 'AUTH-016',
  run: (ctx) => judgeOperations(ctx, ctx.operations, (op) => [requestCase(ctx, op, "the environment's full-scope API token", { authorization: bearer(ctx.credentials.apiToken) }, expectRejected(ctx))]),
};

/** AUTH-017 (sdk-api-core SDKApi: no security declared): public operations answer without credentials, never 401/403. */
export const publicWithoutCredentials: Check = {
  rule: 'AUTH-017',
  run: (ctx) => judgeOperations(ctx, ctx.operations, (op) => writeSkipReason(ctx, op) ?? [requestCase(ctx, op, 'no credentials', {}, expectAccepted())]),
};

/**
 * AUTH-018 (RFC 9110 5.5, 11.4; RFC 6750 2.1): `Bearer 1*SP token` — several spaces after the scheme (and OWS around
 * the field) are accepted; a tab as separator or a trailing extra word is rejected.
 */
export const bearerWhitespaceGrammar: Check = {
  rule: 'AUTH-018',
  run: (ctx) => {
    const token = ctx.credentials.apiToken;
    const statuses = ctx.config.target === 'mock' ? [401] : [400, 401];
    const accepted: [string, (raw: string) => string][] = [["'Bearer' + 2 SP + token", (raw) => `Bearer  ${raw}`]];
    const rejected: [string, (raw: string) => string][] = [
      ["'Bearer' + HTAB + token", (raw) => `Bearer\t${raw}`],
      ["'Bearer' + SP + HTAB + token", (raw) => `Bearer \t${raw}`],
      ["'Bearer <token> extra' (trailing word)", (raw) => `Bearer ${raw} extra`],
    ];
    return judgeOperations(ctx, ctx.operations, (op, i) => {
      const cases = variantsFor(ctx, rejected, i).map(([label, render]) => requestCase(ctx, op, label, { authorization: authWith(token, render) }, expectRejected(ctx, statuses)));
      if (!writeSkipReason(ctx, op)) cases.push(...variantsFor(ctx, accepted, i).map(([label, render]) => requestCase(ctx, op, label, { authorization: authWith(token, render) }, expectAccepted())));
      return cases;
    });
  },
};

const NOT_A_UUID = 'not-a-uuid';

/** A value that violates a parameter's schema (enum, number, boolean), or undefined when any string is valid. */
function invalidValue(schema: Record<string, unknown>): string | undefined {
  if (Array.isArray(schema.enum) || (typeof schema.$ref === 'string' && /Enum\.schema\.json$/.test(schema.$ref))) return 'not-a-documented-value';
  if (schema.type === 'number' || schema.type === 'integer') return 'not-a-number';
  if (schema.type === 'boolean') return 'not-a-boolean';
  return undefined;
}

/**
 * Request changes that make the input of `op` invalid — non-UUID ids, path or query values outside their enum/type,
 * a malformed JSON body — or undefined if the operation takes no input that can be invalid.
 */
function invalidInput(op: Operation): { label: string; options: RequestOptions } | undefined {
  const ids = op.parameters.filter((p) => p.in === 'path' && p.schema.format === 'uuid');
  const typedPath = op.parameters.filter((p) => p.in === 'path' && p.schema.format !== 'uuid' && invalidValue(p.schema) !== undefined);
  const typedQuery = op.parameters.filter((p) => p.in === 'query' && invalidValue(p.schema) !== undefined);
  const json = op.requestBody !== undefined && op.requestBody.contentType.includes('json');
  const parts: string[] = [];
  const options: RequestOptions = {};
  if (ids.length || typedPath.length) {
    options.pathParams = Object.fromEntries([...ids.map((p): [string, string] => [p.name, NOT_A_UUID]), ...typedPath.map((p): [string, string] => [p.name, invalidValue(p.schema) ?? ''])]);
    if (ids.length) parts.push(`non-UUID ${ids.map((p) => p.name).join(', ')}`);
    if (typedPath.length) parts.push(`invalid ${typedPath.map((p) => p.name).join(', ')}`);
  }
  if (typedQuery.length) {
    options.query = Object.fromEntries(typedQuery.map((p): [string, string] => [p.name, invalidValue(p.schema) ?? '']));
    parts.push(`invalid query ${typedQuery.map((p) => p.name).join(', ')}`);
  }
  if (json) {
    options.rawBody = '{"malformed": ';
    options.headers = [['content-type', 'application/json']];
    parts.push('malformed JSON body');
  }
  return parts.length ? { label: parts.join(' + '), options } : undefined;
}

/** AUTH-019 (RFC 9110 15.5.2; RFC 6750 3.1): credentials are checked before input — no/invalid credentials with invalid input still get 401. */
export const authBeforeValidation: Check = {
  rule: 'AUTH-019',
  run: (ctx) => {
    const tokens = unknownTokens(ctx, ctx.operations.length);
    return judgeOperations(ctx, ctx.operations, (op, i) => {
      const bad = invalidInput(op);
      if (!bad) return 'the operation takes no input that can be invalid (no UUID or typed parameter, no JSON body)';
      const rejected = rejectedCredential(op, tokens[i] ?? '');
      return [
        requestCase(ctx, op, `no credentials + ${bad.label}`, bad.options, expectRejected(ctx)),
        requestCase(ctx, op, `${rejected.label} + ${bad.label}`, { ...bad.options, authorization: rejected.value }, expectRejected(ctx)),
      ];
    });
  },
};

/** Every AUTH-* check, in rule order. */
export const AUTH_CHECKS: Check[] = [
  rejectsMissingCredentials, rejectsEmptyBearer, rejectsOtherSchemes, acceptsSchemeInAnyCase, rejectsUnknownToken,
  rejectsInactiveToken, rejectsOtherEnvironmentToken, rejectsMissingDocumentedScope, enforcesInferredScopes,
  rejectsJwtAsApiToken, rejectsQueryToken, acceptsValidCredentials, challengesEvery401, challengeErrorParam,
  rejectsDuplicateAuthorization, rejectsApiTokenAsJwt, publicWithoutCredentials, bearerWhitespaceGrammar, authBeforeValidation,
];
