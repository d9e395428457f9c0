/**
 * User JWT rules (specs/rules/jwt.json), over every user-jwt operation. Forgeries that need no signing key are made
 * client-side from the valid user JWT (src/generators/jwt-tools.ts: alg none, HS256 with the JWKS public key, tampered
 * payload or signature, wrong segment counts, attacker-signed tokens with header-supplied keys) and work on live too.
 * Cases that need the environment's private key (expired, future nbf, unknown kid, another environment, missing
 * user:basic) are minted by the mock (`POST /__mock/jwt`) and skipped on live with the reason.
 */
import type { HeaderValue, HttpResponse } from '../http/client.js';
import { bearer } from '../http/client.js';
import { uuidFrom } from '../http/requests.js';
import { mapLimit } from '../engine/runner.js';
import { workerSlot } from '../engine/worker-state.js';
import {
  applyJwtMutation,
  describeJwtMutation,
  parseJwt,
  prepareForgeMaterial,
  type ForgeMaterial,
  type JwtMutation,
} from '../generators/jwt-tools.js';
import { jwtMutation } from '../arbitraries/jwtMutation.js';
import { judgeOperations, requestCase } from './support/cases.js';
import { type Credential, FAR_FUTURE_EXP, authWith, mintMockJwt, validUserJwt } from './support/credentials.js';
import { propertyOperations, runProperty } from './support/property.js';
import { liveSdkSkipReason, variantsFor } from './support/sample.js';
import { concurrency, mockControl, sendFor } from './support/send.js';
import { expectAccepted, expectRejected, statusText } from './support/status.js';
import type { Check, CheckContext, Needs } from '../engine/types.js';

/** A credential to send on a user-jwt operation, with what it is. */
interface JwtVariant {
  label: string;
  authorization: HeaderValue;
}

/** A variant made by mutating the valid JWT at send time (the real value is read only where the request is built). */
function mutated(base: Credential, m: JwtMutation, material?: ForgeMaterial): JwtVariant {
  return {
    label: describeJwtMutation(m),
    authorization: authWith(base, (raw) => `Bearer ${applyJwtMutation(raw, m, material)}`),
  };
}

/** A variant that is a complete token (minted by the mock, or a configured live credential). */
function whole(label: string, token: Credential): JwtVariant {
  return { label, authorization: authWith(token, (raw) => `Bearer ${raw}`) };
}

/**
 * Runs a JWT check: needs a valid user JWT (else every operation is skipped with the reason) that is itself accepted
 * on a control operation (else every operation is inconclusive: a rejected forgery would prove nothing).
 */
async function withValidJwt(ctx: CheckContext, body: (base: Credential) => Promise<void>): Promise<void> {
  const valid = await validUserJwt(ctx);
  if (!('jwt' in valid)) {
    for (const op of ctx.operations) ctx.skip(op.key, valid.reason);
    return;
  }
  const control = ctx.operations.find((op) => op.method === 'GET' && !liveSdkSkipReason(ctx, op)) ?? ctx.operations[0];
  if (!control) return;
  const res = await sendFor(ctx, control, { authorization: authWith(valid.jwt, (raw) => `Bearer ${raw}`) });
  const why = expectAccepted()(res)?.reason;
  if (why) {
    for (const op of ctx.operations)
      ctx.inconclusive(
        op.key,
        `control: the valid user JWT is not accepted on ` +
          `${control.key} (${why}); rejections of its variants would ` +
          `prove nothing`,
        res,
      );
    return;
  }
  await body(valid.jwt);
}

/**
 * Sends every variant (mock) or one rotating variant (live) to every operation; each must get `statuses` + the
 * documented body.
 */
function rejectEverywhere(ctx: CheckContext, variants: JwtVariant[], statuses: number[] = [401]): Promise<void> {
  return judgeOperations(ctx, ctx.operations, (op, i) =>
    variantsFor(ctx, variants, i).map((v) =>
      requestCase(ctx, op, v.label, { authorization: v.authorization }, expectRejected(ctx, statuses)),
    ),
  );
}

/** Records a skip on every operation (mint-based cases on live). */
function skipAll(ctx: CheckContext, reason: string): Promise<void> {
  for (const op of ctx.operations) ctx.skip(op.key, reason);
  return Promise.resolve();
}

const NEEDS_MINTING =
  "needs a JWT signed with the environment's private key; on " +
  'live only mutations of DYNAMIC_USER_JWT are possible (no ' +
  'minting)';

/** The need of the checks whose JWTs are minted by the mock (declared; the runner skips them without it). */
const MINTING: Needs = { mockControl: { why: 'JWTs are minted by POST /__mock/jwt', onLive: NEEDS_MINTING } };

/** The mock's current time (seconds), for minting relative to it. */
async function mockNow(ctx: CheckContext): Promise<number> {
  return (await mockControl(ctx).seed()).now;
}

/** Mints a variant of the valid user JWT on the mock (far-future exp unless overridden). */
function mintVariant(
  ctx: CheckContext,
  purpose: string,
  options: { environmentId?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> },
): Promise<string> {
  const env = options.environmentId ?? ctx.credentials.environmentId;
  const userId = env === ctx.credentials.environmentId ? ctx.credentials.userId : undefined;
  return mintMockJwt(ctx, purpose, env, {
    ...(userId ? { userId } : {}),
    claims: { exp: FAR_FUTURE_EXP, ...options.claims },
    ...(options.header ? { header: options.header } : {}),
  });
}

/** This worker's forge material, by API and environment. */
const MATERIAL = workerSlot('JWT forge material', () => new Map<string, Promise<ForgeMaterial>>());

/**
 * The environment's JWKS key material (fetched through the client from the documented JWKS path) and an attacker key
 * pair.
 */
async function forgeMaterial(ctx: CheckContext): Promise<ForgeMaterial | { reason: string }> {
  const op =
    ctx.spec.byKey.get('GET /sdk/{environmentId}/.well-known/jwks') ??
    ctx.spec.byKey.get('GET /sdk/{environmentId}/.well-known/jwks.json');
  if (!op) return { reason: 'the spec has no JWKS operation' };
  const materialCache = ctx.worker.get(MATERIAL);
  const key = `${ctx.config.apiUrl}|${ctx.credentials.environmentId}`;
  let pending = materialCache.get(key);
  if (!pending) {
    pending = (async () => {
      const res = await sendFor(ctx, op, {});
      if (res.status !== 200) throw new Error(`${op.key} answered ${statusText(res)}`);
      return prepareForgeMaterial(res.json);
    })();
    pending.catch(() => materialCache.delete(key));
    materialCache.set(key, pending);
  }
  try {
    return await pending;
  } catch (error) {
    return { reason: `no environment key material: ${(error as Error).message}` };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------------------------

const ALG_NONE: JwtMutation[] = [
  { kind: 'alg-none', alg: 'none', signature: 'empty' },
  { kind: 'alg-none', alg: 'None', signature: 'empty' },
  { kind: 'alg-none', alg: 'NONE', signature: 'empty' },
  { kind: 'alg-none', alg: 'nOnE', signature: 'empty' },
  { kind: 'alg-none', alg: 'none', signature: 'kept' },
];

/** JWT-001 (RFC 8725 2.1, 3.2; RFC 7519 6): alg "none" in any letter case (signature stripped or kept) gets 401. */
export const rejectsAlgNone: Check = {
  rule: 'JWT-001',
  run: (ctx) =>
    withValidJwt(ctx, (base) =>
      rejectEverywhere(
        ctx,
        ALG_NONE.map((m) => mutated(base, m)),
      ),
    ),
};

/**
 * JWT-002 (RFC 8725 3.1; Dynamic tokens: RS256): HS256 signed with the environment PUBLIC key (PEM, DER, JWK, modulus)
 * gets 401.
 */
export const rejectsAlgorithmConfusion: Check = {
  rule: 'JWT-002',
  run: (ctx) =>
    withValidJwt(ctx, async (base) => {
      const material = await forgeMaterial(ctx);
      if ('reason' in material) return skipAll(ctx, material.reason);
      const encodings = ['pem', 'pem-no-newline', 'der', 'jwk-json', 'modulus'] as const;
      return rejectEverywhere(
        ctx,
        encodings.map((encoding) => mutated(base, { kind: 'hs256-public-key', encoding }, material)),
      );
    }),
};

/** JWT-003 (RFC 7519 7.2; RFC 7515 5.2): a payload with changed claims (signature kept) gets 401. */
export const rejectsTamperedPayload: Check = {
  rule: 'JWT-003',
  run: (ctx) =>
    withValidJwt(ctx, (base) => {
      const other = ctx.credentials.otherEnvironmentId ?? uuidFrom('conformance-other-environment');
      const tampers: JwtMutation[] = [
        { kind: 'claims', claims: { sub: uuidFrom('conformance-other-user') }, label: 'sub = another user id' },
        {
          kind: 'claims',
          claims: { environment_id: other, iss: `app.dynamic.xyz/${other}` },
          label: 'environment_id and iss = another environment',
        },
        { kind: 'claims', claims: { exp: FAR_FUTURE_EXP + 86_400 }, label: 'exp extended' },
        { kind: 'claims', claims: { scope: 'user:basic admin' }, label: 'scope widened' },
        { kind: 'reencoded-payload' },
      ];
      return rejectEverywhere(
        ctx,
        tampers.map((m) => mutated(base, m)),
      );
    }),
};

const STRUCTURE: JwtMutation[] = [
  { kind: 'signature-flip', position: 17 },
  { kind: 'signature-truncate', drop: 1 },
  { kind: 'signature-truncate', drop: 100 },
  { kind: 'signature-empty' },
  { kind: 'segments', shape: 'two' },
  { kind: 'segments', shape: 'four' },
  { kind: 'garbage-segment', segment: 2, text: 'not*base64url' },
];

/**
 * JWT-004 (RFC 7515 5.2): a tampered, truncated or empty signature, or 2/4 segments, gets 401 on every operation;
 * plus a fast-check property of random mutations (jwtMutation) over a seed-rotated sample of operations.
 */
export const rejectsBrokenSignatureOrStructure: Check = {
  rule: 'JWT-004',
  run: (ctx) =>
    withValidJwt(ctx, async (base) => {
      const statuses = ctx.config.target === 'live' ? [400, 401] : [401];
      await rejectEverywhere(
        ctx,
        STRUCTURE.map((m) => mutated(base, m)),
        statuses,
      );
      const judge = expectRejected(ctx, statuses);
      await runProperty(ctx, {
        name: 'random JWT mutations',
        arbitrary: jwtMutation(),
        operations: propertyOperations(ctx, ctx.operations),
        subject: (op) => `${op.key} (property)`,
        probe: async (m, op) => {
          const res = await sendFor(ctx, op, { authorization: mutated(base, m).authorization });
          return { why: judge(res), responses: [res] };
        },
      });
    }),
};

/** JWT-005 (RFC 7519 4.1.4): an expired JWT (exp a day / ten minutes in the past) gets 401. */
export const rejectsExpired: Check = {
  rule: 'JWT-005',
  needs: MINTING,
  run: (ctx) => {
    return withValidJwt(ctx, async () => {
      const now = await mockNow(ctx);
      const variants = [
        whole(
          'exp one day in the past',
          await mintVariant(ctx, 'expired-day', { claims: { iat: now - 90_000, exp: now - 86_400 } }),
        ),
        whole(
          'exp ten minutes in the past',
          await mintVariant(ctx, 'expired-10min', { claims: { iat: now - 4_200, exp: now - 600 } }),
        ),
      ];
      return rejectEverywhere(ctx, variants);
    });
  },
};

/** JWT-006 (RFC 7519 4.1.5): a JWT whose nbf is in the future gets 401. */
export const rejectsFutureNbf: Check = {
  rule: 'JWT-006',
  needs: MINTING,
  run: (ctx) => {
    return withValidJwt(ctx, async () => {
      const now = await mockNow(ctx);
      return rejectEverywhere(ctx, [
        whole(
          'nbf thirty days in the future',
          await mintVariant(ctx, 'nbf-month', { claims: { nbf: now + 30 * 86_400 } }),
        ),
        whole(
          'nbf one year in the future',
          await mintVariant(ctx, 'nbf-year', { claims: { nbf: now + 365 * 86_400 } }),
        ),
      ]);
    });
  },
};

/**
 * JWT-007 (RFC 8725 3.10; RFC 7515 4.1.4): a kid that is not in the environment JWKS (signed with the right key) gets
 * 401.
 */
export const rejectsUnknownKid: Check = {
  rule: 'JWT-007',
  needs: MINTING,
  run: (ctx) => {
    return withValidJwt(ctx, async () => {
      const seed = await mockControl(ctx).seed();
      const otherKid = seed.environments.find((e) => e.id !== ctx.credentials.environmentId)?.kid;
      const kids: [string, string][] = [
        ['random unknown kid', `conformance-${Math.abs(ctx.fc.seed).toString(36)}`],
        ['path-traversal kid', '../../../../dev/null'],
        ['SQL-injection kid', "' OR '1'='1' --"],
        ...(otherKid ? [["the other environment's kid", otherKid] as [string, string]] : []),
      ];
      const variants = await Promise.all(
        kids.map(async ([label, kid]) => whole(label, await mintVariant(ctx, `kid:${label}`, { header: { kid } }))),
      );
      return rejectEverywhere(ctx, variants);
    });
  },
};

/**
 * JWT-008 (Dynamic tokens: key unique per environment; iss = host + environment id): another environment's JWT gets
 * 401.
 */
export const rejectsOtherEnvironmentJwt: Check = {
  rule: 'JWT-008',
  run: (ctx) =>
    withValidJwt(ctx, async () => {
      const { otherEnvironmentId, otherEnvironmentJwt, environmentId } = ctx.credentials;
      if (ctx.mock) {
        if (!otherEnvironmentId) return skipAll(ctx, 'the mock seed has no second environment');
        return rejectEverywhere(ctx, [
          whole(
            "the other environment's JWT (its key, iss, environment_id)",
            await mintVariant(ctx, 'other-env', { environmentId: otherEnvironmentId }),
          ),
          whole(
            "the other environment's key with this environment's iss and environment_id",
            await mintVariant(ctx, 'other-env-claims-here', {
              environmentId: otherEnvironmentId,
              claims: { iss: `app.dynamic.xyz/${environmentId}`, environment_id: environmentId },
            }),
          ),
        ]);
      }
      if (!otherEnvironmentJwt)
        return skipAll(
          ctx,
          `no other environment's JWT: ` +
            `${ctx.credentials.missing.otherEnvironmentJwt ?? 'DYNAMIC_OTHER_ENVIRONMENT_JWT is not set'}`,
        );
      return rejectEverywhere(ctx, [
        { label: "the other environment's JWT", authorization: bearer(otherEnvironmentJwt) },
      ]);
    }),
};

/**
 * JWT-009 (Dynamic "protect servers": the scope list must include user:basic): an access token without user:basic gets
 * 401.
 */
export const rejectsMissingUserBasicScope: Check = {
  rule: 'JWT-009',
  needs: MINTING,
  run: (ctx) => {
    return withValidJwt(ctx, async () =>
      rejectEverywhere(ctx, [
        whole('no scope claim', await mintVariant(ctx, 'scope-none', { claims: { scope: null } })),
        whole('empty scope', await mintVariant(ctx, 'scope-empty', { claims: { scope: '' } })),
        whole(
          'scope without user:basic',
          await mintVariant(ctx, 'scope-other', { claims: { scope: 'user:mfa user:basic-pending' } }),
        ),
      ]),
    );
  },
};

const JWKS_PATHS = ['GET /sdk/{environmentId}/.well-known/jwks', 'GET /sdk/{environmentId}/.well-known/jwks.json'];

/**
 * JWT-010 (sdk "get JWKS for the environment (JSON format)"): the JWKS is served at both documented paths with RS256
 * keys (JwksResponse).
 */
export const servesJwks: Check = {
  rule: 'JWT-010',
  run: async (ctx) => {
    const valid = await validUserJwt(ctx);
    // The kid of the valid user JWT, read from its protected header (not secret) when one is available.
    const kid =
      'jwt' in valid ? parseJwt(typeof valid.jwt === 'string' ? valid.jwt : valid.jwt.reveal())?.header.kid : undefined;
    const kidSets: string[][] = [];
    for (const key of JWKS_PATHS) {
      const op = ctx.spec.byKey.get(key);
      if (!op) {
        ctx.fail(key, 'the documented JWKS operation is missing from the spec');
        continue;
      }
      const res = await sendFor(ctx, op, {});
      const problems: string[] = [];
      if (res.status !== 200) problems.push(`expected 200, got ${statusText(res)}`);
      else {
        const v = ctx.schemas.validate(
          op.success.schema ?? 'https://schemas.dynamic-conformance.invalid/models/JwksResponse.schema.json',
          res.json,
        );
        if (!v.valid) problems.push(`the body does not match JwksResponse: ${v.errors.join('; ')}`);
        const keys = ((res.json as { keys?: unknown[] } | undefined)?.keys ?? []) as Record<string, unknown>[];
        if (!keys.length) problems.push('the key set is empty');
        keys.forEach((k, i) => {
          if (k.kty !== 'RSA') problems.push(`key ${i} has kty ${JSON.stringify(k.kty)}, expected "RSA"`);
          if (k.alg !== undefined && k.alg !== 'RS256')
            problems.push(`key ${i} has alg ${JSON.stringify(k.alg)}, expected "RS256"`);
          if (typeof k.n !== 'string' || typeof k.e !== 'string')
            problems.push(`key ${i} lacks the RSA members n and e`);
          if (k.use !== undefined && k.use !== 'sig')
            problems.push(`key ${i} has use ${JSON.stringify(k.use)}, expected "sig"`);
        });
        const kids = keys.map((k) => String(k.kid));
        kidSets.push(kids);
        if (typeof kid === 'string' && !kids.includes(kid))
          problems.push(`the kid of the environment's user JWT is not in the key set`);
      }
      if (res.status === 429) ctx.inconclusive(key, "rate limited (429 after the client's retries)", res);
      else if (problems.length) ctx.fail(key, problems.join('; '), res);
      else ctx.pass(key, res);
    }
    if (kidSets.length === 2 && JSON.stringify([...kidSets[0]!].sort()) !== JSON.stringify([...kidSets[1]!].sort()))
      ctx.fail(
        'both JWKS paths',
        `the two documented paths serve different key sets (${kidSets[0]!.join(',')} vs ${kidSets[1]!.join(',')})`,
      );
    else if (kidSets.length === 2) ctx.pass('both JWKS paths');
  },
};

/** Text pieces a rejection body must never contain: the tokens, their segments, their claim values. */
function echoNeedles(tokens: string[]): string[] {
  const out = new Set<string>();
  for (const t of tokens) {
    if (t.length >= 8) out.add(t);
    for (const seg of t.split('.')) if (seg.length >= 8) out.add(seg);
    const claims = parseJwt(t)?.payload ?? {};
    for (const [name, value] of Object.entries(claims)) {
      // the path names the environment; aud is an origin
      if (name === 'environment_id' || name === 'iss' || name === 'aud') continue;
      if (typeof value === 'string' && value.length >= 6) out.add(value);
    }
  }
  return [...out];
}

/**
 * JWT-011 (RFC 6750 3.1; CWE-209): every JWT rejection on an operation — alg none, tampered payload, wrong
 * structure, an API token, and on the mock expired / other-environment / no-scope tokens — is 401 with ONE body
 * (same JSON) that contains neither the token nor any of its claims.
 */
export const uniformJwtRejection: Check = {
  rule: 'JWT-011',
  run: (ctx) =>
    withValidJwt(ctx, async (base) => {
      const variants: JwtVariant[] = [
        mutated(base, { kind: 'alg-none', alg: 'none', signature: 'empty' }),
        mutated(base, {
          kind: 'claims',
          claims: { sub: uuidFrom('conformance-jwt-011') },
          label: 'sub = another user id',
        }),
        mutated(base, { kind: 'segments', shape: 'two' }),
        { label: "the environment's API token", authorization: bearer(ctx.credentials.apiToken) },
      ];
      const minted: string[] = [];
      if (ctx.mock) {
        const now = await mockNow(ctx);
        const extra: [string, Promise<string>][] = [
          ['expired', mintVariant(ctx, 'expired-day', { claims: { iat: now - 90_000, exp: now - 86_400 } })],
          ['no user:basic scope', mintVariant(ctx, 'scope-none', { claims: { scope: null } })],
          ...(ctx.credentials.otherEnvironmentId
            ? [
                [
                  "another environment's JWT",
                  mintVariant(ctx, 'other-env', { environmentId: ctx.credentials.otherEnvironmentId }),
                ] as [string, Promise<string>],
              ]
            : []),
        ];
        for (const [label, pending] of extra) {
          const token = await pending;
          minted.push(token);
          variants.push(whole(label, token));
        }
      }
      // Read once, only to search the answers for echoes; never written anywhere.
      const needles = echoNeedles([
        typeof base === 'string' ? base : base.reveal(),
        ctx.credentials.apiToken.reveal(),
        ...minted,
      ]);
      const judge = expectRejected(ctx);
      await mapLimit(ctx.operations, concurrency(ctx), async (op, i) => {
        const notSampled = liveSdkSkipReason(ctx, op);
        if (notSampled) {
          ctx.skip(op.key, notSampled);
          return;
        }
        const chosen =
          ctx.config.target === 'mock'
            ? variants
            : [variants[i % variants.length]!, variants[(i + 1) % variants.length]!];
        const answers = await mapLimit(chosen, ctx.config.target === 'mock' ? chosen.length : 1, (v) =>
          sendFor(ctx, op, { authorization: v.authorization }),
        );
        const problems: string[] = [];
        const bad: HttpResponse[] = [];
        const limited = answers.filter((res) => res.status === 429);
        if (limited.length) {
          ctx.inconclusive(
            op.key,
            `rate limited (429 after the client's retries) on ` +
              `${limited.length} of ${answers.length} rejection(s); bodies ` +
              `cannot be compared`,
            limited[0],
          );
          return;
        }
        answers.forEach((res, j) => {
          const why =
            judge(res)?.reason ??
            (needles.some((n) => res.text.includes(n)) ? 'the body echoes the token or one of its claims' : undefined);
          if (why) {
            problems.push(`${chosen[j]!.label}: ${why}`);
            bad.push(res);
          }
        });
        const bodies = new Map<string, string>();
        answers.forEach((res, j) => {
          const key = res.json !== undefined ? JSON.stringify(res.json) : res.text;
          if (!bodies.has(key)) bodies.set(key, chosen[j]!.label);
        });
        if (bodies.size > 1) {
          problems.push(
            `${bodies.size} different rejection bodies: ` +
              [...bodies].map(([body, label]) => `${label} → ${body.slice(0, 80)}`).join(' / '),
          );
          bad.push(...answers);
        }
        if (problems.length) ctx.fail(op.key, problems.join(' | '), [...new Set(bad)]);
        else ctx.pass(op.key, answers[0]);
      });
    }),
};

/**
 * JWT-012 (RFC 8725 3.10; RFC 7515 4.1.2-4.1.5): keys supplied in the header (embedded jwk, jku, x5u) are never
 * trusted: 401.
 */
export const rejectsHeaderSuppliedKeys: Check = {
  rule: 'JWT-012',
  run: (ctx) =>
    withValidJwt(ctx, async (base) => {
      const material = await forgeMaterial(ctx);
      if ('reason' in material) return skipAll(ctx, material.reason);
      return rejectEverywhere(
        ctx,
        (['jwk', 'jku', 'x5u'] as const).map((via) => mutated(base, { kind: 'attacker-key', via }, material)),
      );
    }),
};

/** Every JWT-* check, in rule order. */
export const JWT_CHECKS: Check[] = [
  rejectsAlgNone,
  rejectsAlgorithmConfusion,
  rejectsTamperedPayload,
  rejectsBrokenSignatureOrStructure,
  rejectsExpired,
  rejectsFutureNbf,
  rejectsUnknownKid,
  rejectsOtherEnvironmentJwt,
  rejectsMissingUserBasicScope,
  servesJwks,
  uniformJwtRejection,
  rejectsHeaderSuppliedKeys,
];
