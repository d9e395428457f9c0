/**
 * Authentication rules (specs/rules/auth.json): who may call which operation with which credential — the auth
 * matrix over every operation (no / empty / other-scheme / case-variant / unknown / inactive / other-environment /
 * under-scoped / wrong-kind / query-string / duplicated credentials), the WWW-Authenticate challenge (RFC 9110
 * 11.6.1, RFC 6750 3) and the order "auth before validation". Shared building blocks live in
 * ./support/ (cases, challenge parser, raw requests, credentials).
 */
import fc from 'fast-check';
import type { HeaderValue, HttpResponse } from '../http/client.js';
import { bearer } from '../http/client.js';
import type { RequestOptions } from '../http/requests.js';
import type { Operation } from '../engine/spec.js';
import type { Check, CheckContext } from '../engine/types.js';
import { liveWriteRisk } from '../secrets/safety.js';
import { bearerSchemeCase } from '../arbitraries/bearerSchemeCase.js';
import { type AuthCase, judgeOperations, requestCase } from './support/cases.js';
import { bearerChallenge, challengeParam } from './support/challenge.js';
import {
  authWith,
  rejectedCredential,
  unknownTokens,
  unsignedJwtShape,
  validCredentialFor,
  validUserJwt,
} from './support/credentials.js';
import { invalidInput } from './support/operations.js';
import { RAW_CONCURRENCY, rawRequest, sendRawRequest } from './support/raw.js';
import { variantsFor } from './support/sample.js';
import { expectAccepted, expectRejected, statusText } from './support/status.js';

/** Why a case that must be ACCEPTED may not run on live (the one live write guard). */
const writeSkip = (ctx: CheckContext, op: Operation): string | undefined =>
  liveWriteRisk(ctx.config, op, 'a credential that must be accepted');

/** AUTH-001 (API reference; RFC 6750 3.1): a request without Authorization gets 401 with the Unauthorized body. */
export const rejectsMissingCredentials: Check = {
  rule: 'AUTH-001',
  run: (ctx) =>
    judgeOperations(ctx, ctx.operations, (op) => [
      requestCase(ctx, op, 'no Authorization header', {}, expectRejected(ctx)),
    ]),
};

/** AUTH-002 (RFC 6750 2.1, 3.1): `Bearer`, `Bearer ` and an empty Authorization field never authenticate: 401. */
export const rejectsEmptyBearer: Check = {
  rule: 'AUTH-002',
  run: (ctx) => {
    const statuses = ctx.config.target === 'mock' ? [401] : [400, 401];
    return judgeOperations(ctx, ctx.operations, (op, i) =>
      variantsFor(ctx, ['Bearer', 'Bearer ', ''], i).map((value) =>
        requestCase(
          ctx,
          op,
          `Authorization: ${JSON.stringify(value)}`,
          { authorization: value },
          expectRejected(ctx, statuses),
        ),
      ),
    );
  },
};

/**
 * AUTH-003 (API reference: Authorization: Bearer; RFC 6750 2.1): a valid token under another scheme or header is no
 * credential: 401.
 */
export const rejectsOtherSchemes: Check = {
  rule: 'AUTH-003',
  run: (ctx) => {
    const token = ctx.credentials.apiToken;
    const variants: [string, RequestOptions][] = [
      [
        'Basic base64(token:)',
        { authorization: authWith(token, (raw) => `Basic ${Buffer.from(`${raw}:`).toString('base64')}`) },
      ],
      ['Token <token>', { authorization: authWith(token, (raw) => `Token ${raw}`) }],
      ['bare token (no scheme)', { authorization: authWith(token, (raw) => raw) }],
      ['X-API-Key header only', { headers: [['x-api-key', authWith(token, (raw) => raw)]] }],
    ];
    return judgeOperations(ctx, ctx.operations, (op, i) =>
      variantsFor(ctx, variants, i).map(([label, options]) =>
        requestCase(ctx, op, label, options, expectRejected(ctx)),
      ),
    );
  },
};

/**
 * AUTH-004 (RFC 9110 11.1): the scheme name is case-insensitive — bearer / BEARER / bEaReR with a valid token are
 * accepted.
 */
export const acceptsSchemeInAnyCase: Check = {
  rule: 'AUTH-004',
  run: (ctx) => {
    const random = fc.sample(bearerSchemeCase(), { seed: ctx.fc.seed, numRuns: 1 })[0] ?? 'bEaReR';
    const schemes = [...new Set(['bearer', 'BEARER', 'bEaReR', random])];
    ctx.log(`AUTH-004 schemes: ${schemes.join(', ')} (seed ${ctx.fc.seed})`);
    return judgeOperations(
      ctx,
      ctx.operations,
      (op, i) =>
        writeSkip(ctx, op) ??
        variantsFor(ctx, schemes, i).map((scheme) =>
          requestCase(
            ctx,
            op,
            `'${scheme} <valid token>'`,
            { authorization: authWith(ctx.credentials.apiToken, (raw) => `${scheme} ${raw}`) },
            expectAccepted(),
          ),
        ),
    );
  },
};

/**
 * AUTH-005 (API reference; RFC 6750 3.1 invalid_token): a well-formed but unknown token (dyn_ + profile length) gets
 * 401.
 */
export const rejectsUnknownToken: Check = {
  rule: 'AUTH-005',
  run: (ctx) => {
    const tokens = unknownTokens(ctx, ctx.operations.length);
    ctx.log(`AUTH-005 unknown tokens from seed ${ctx.fc.seed}`);
    return judgeOperations(ctx, ctx.operations, (op, i) => [
      requestCase(
        ctx,
        op,
        'well-formed unknown token',
        { authorization: `Bearer ${tokens[i] ?? ''}` },
        expectRejected(ctx),
      ),
    ]);
  },
};

/**
 * AUTH-006 (TokenWithRaw: "Only active tokens can be used"; RFC 6750 3.1): an inactive token gets 401 with the
 * documented body.
 */
export const rejectsInactiveToken: Check = {
  rule: 'AUTH-006',
  needs: { credentials: ['inactiveToken'] },
  run: (ctx) => {
    const inactive = ctx.credentials.inactiveToken!;
    const judge = expectRejected(ctx);
    return judgeOperations(ctx, ctx.operations, (op) => [
      requestCase(ctx, op, 'inactive token', { authorization: bearer(inactive) }, judge),
    ]);
  },
};

/**
 * AUTH-007 (tokens-api-keys 403; quickstart "every request is scoped to an environment"): another environment's valid
 * token gets 403.
 */
export const rejectsOtherEnvironmentToken: Check = {
  rule: 'AUTH-007',
  run: (ctx) => {
    const { otherEnvironmentToken, otherEnvironmentId, apiToken } = ctx.credentials;
    const scoped = ctx.operations.filter((op) => op.path.includes('{environmentId}'));
    return judgeOperations(ctx, scoped, (op) => {
      const cases: AuthCase[] = [];
      if (otherEnvironmentToken)
        cases.push(
          requestCase(
            ctx,
            op,
            "the other environment's token on this environment",
            { authorization: bearer(otherEnvironmentToken) },
            expectRejected(ctx, [403], op),
          ),
        );
      if (otherEnvironmentId)
        cases.push(
          requestCase(
            ctx,
            op,
            "this environment's token on the other environment",
            { authorization: bearer(apiToken), pathParams: { environmentId: otherEnvironmentId } },
            expectRejected(ctx, [403], op),
          ),
        );
      return cases.length
        ? cases
        : 'no second environment: ' +
            (ctx.credentials.missing.otherEnvironmentToken ??
              ctx.credentials.missing.otherEnvironmentId ??
              'not available');
    });
  },
};

/**
 * AUTH-008 (API token permissions page; RFC 6750 3.1 insufficient_scope): a token lacking the documented scope gets
 * 403.
 */
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
      if (noScopeToken)
        return [
          requestCase(
            ctx,
            op,
            `token without scopes (needs ${op.scopes.join(', ')})`,
            { authorization: bearer(noScopeToken) },
            expectRejected(ctx, [403], op),
          ),
        ];
      if (limitedToken && limitedTokenScopes) {
        const lacking = op.scopes.filter((s) => !limitedTokenScopes.includes(s));
        if (lacking.length)
          return [
            requestCase(
              ctx,
              op,
              `limited token lacking ${lacking.join(', ')}`,
              { authorization: bearer(limitedToken) },
              expectRejected(ctx, [403], op),
            ),
          ];
        return `the limited token holds ${op.scopes.join(', ')}; no token lacking it is available`;
      }
      return limitedToken
        ? "the limited token's scopes are not known (live tokens do not " +
            'reveal them), so whether it lacks the documented scope cannot be ' +
            'decided'
        : `no under-scoped token: ` +
            `${ctx.credentials.missing.limitedToken ?? ctx.credentials.missing.noScopeToken ?? 'not available'}`;
    });
  },
};

/**
 * AUTH-009 (RFC 6750 3.1; inferred scope map, specs/overlay/doc-facts.json): a token lacking the inferred resource
 * scope gets 403 — the no-scope token everywhere, the read-only token on operations needing a scope it lacks
 * (*.write) — while the read-only token is ACCEPTED where it holds every needed scope (reads).
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
      if (noScopeToken)
        cases.push(
          requestCase(
            ctx,
            op,
            `token without scopes (needs ${op.inferredScopes.join(', ')})`,
            { authorization: bearer(noScopeToken) },
            expectRejected(ctx, [403], op),
          ),
        );
      if (limitedToken && limitedTokenScopes) {
        const lacking = [...op.inferredScopes, ...op.scopes].filter((s) => !limitedTokenScopes.includes(s));
        if (lacking.length)
          cases.push(
            requestCase(
              ctx,
              op,
              `read-only token lacking ${lacking.join(', ')}`,
              { authorization: bearer(limitedToken) },
              expectRejected(ctx, [403], op),
            ),
          );
        else if (!writeSkip(ctx, op))
          cases.push(
            requestCase(
              ctx,
              op,
              `read-only token holding ${op.inferredScopes.join(', ')}`,
              { authorization: bearer(limitedToken) },
              expectAccepted(),
            ),
          );
      }
      if (cases.length) return cases;
      return limitedToken
        ? "the limited token's scopes are not known and no token without scopes is available"
        : `no under-scoped token: ` +
            `${ctx.credentials.missing.noScopeToken ?? ctx.credentials.missing.limitedToken ?? 'not available'}`;
    });
  },
};

/** AUTH-010 (API reference: two kinds of bearer token): a user JWT where an API token is required gets 401. */
export const rejectsJwtAsApiToken: Check = {
  rule: 'AUTH-010',
  run: async (ctx) => {
    const jwt = await validUserJwt(ctx);
    await judgeOperations(ctx, ctx.operations, (op) =>
      'jwt' in jwt
        ? [
            requestCase(
              ctx,
              op,
              "a valid user JWT of the token's environment",
              { authorization: authWith(jwt.jwt, (raw) => `Bearer ${raw}`) },
              expectRejected(ctx),
            ),
          ]
        : jwt.reason,
    );
  },
};

/**
 * AUTH-011 (RFC 6750 2.3, 5.3; RFC 9700 4.3.2): a valid token only in ?access_token= or ?token= is never accepted: 401
 * (mock only).
 */
export const rejectsQueryToken: Check = {
  rule: 'AUTH-011',
  needs: { target: { only: 'mock', why: 'the suite never puts a live credential in a URL (SEC-002)' } },
  run: (ctx) => {
    // Mock credentials are dummies: the only place a credential may be written into a URL (credentialInUrl).
    const raw = ctx.credentials.apiToken.reveal();
    return judgeOperations(ctx, ctx.operations, (op) =>
      ['access_token', 'token'].map((param) => ({
        label: `token only in ?${param}=`,
        send: () =>
          ctx.client.send({
            ...ctx.requests.build(op, { localAddress: ctx.sourceAddress(), query: { [param]: raw } }),
            credentialInUrl: true,
          }),
        judge: expectRejected(ctx),
      })),
    );
  },
};

/** AUTH-012 (API reference, quickstart): valid, permitted credentials are never answered 401 or 403. */
export const acceptsValidCredentials: Check = {
  rule: 'AUTH-012',
  run: (ctx) =>
    judgeOperations(ctx, ctx.operations, async (op) => {
      const skip = writeSkip(ctx, op);
      if (skip) return skip;
      if (op.auth === 'none') return [requestCase(ctx, op, 'no credentials (public operation)', {}, expectAccepted())];
      const valid = await validCredentialFor(ctx, op);
      if (!('credential' in valid)) return valid.reason;
      return [
        requestCase(
          ctx,
          op,
          op.auth === 'api-token' ? 'full-scope token' : 'valid user JWT',
          { authorization: authWith(valid.credential, (raw) => `Bearer ${raw}`) },
          expectAccepted(),
        ),
      ];
    }),
};

/**
 * AUTH-013 (RFC 9110 11.6.1, 15.5.2; RFC 6750 3): every 401 carries a parseable WWW-Authenticate with one Bearer
 * challenge.
 */
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

/**
 * AUTH-014 (RFC 6750 3.1, last paragraph): no credentials → challenge without `error`; a rejected credential →
 * error="invalid_token".
 */
export const challengeErrorParam: Check = {
  rule: 'AUTH-014',
  run: (ctx) => {
    const tokens = unknownTokens(ctx, ctx.operations.length);
    const judge =
      (want: string | undefined) =>
      (res: HttpResponse): string | undefined => {
        if (res.status !== 401) return `expected 401, got ${statusText(res)}`;
        const c = bearerChallenge(res);
        if ('reason' in c) return c.reason;
        const error = challengeParam(c.challenge, 'error');
        if (want === undefined)
          return error === undefined
            ? undefined
            : `a request without credentials got error="${error}" (RFC 6750 3.1: SHOULD NOT include an error code)`;
        return error === want
          ? undefined
          : `expected error="${want}", got ${error === undefined ? 'no error auth-param' : `error="${error}"`}`;
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

/**
 * AUTH-015 (RFC 6750 2, 3.1; RFC 9110 5.3): two Authorization lines (valid + invalid, both orders) are 400
 * invalid_request.
 */
export const rejectsDuplicateAuthorization: Check = {
  rule: 'AUTH-015',
  run: async (ctx) => {
    const tokens = unknownTokens(ctx, 1);
    const jwt = await validUserJwt(ctx);
    const judge = (res: HttpResponse): string | undefined => {
      const wrong = expectRejected(ctx, [400])(res);
      if (wrong) return wrong.reason;
      if (res.headers['www-authenticate'] === undefined) return undefined;
      const c = bearerChallenge(res);
      if ('reason' in c) return c.reason;
      const error = challengeParam(c.challenge, 'error');
      return error === 'invalid_request'
        ? undefined
        : `the challenge names error=${error === undefined ? '(none)' : `"${error}"`}, expected "invalid_request"`;
    };
    await judgeOperations(
      ctx,
      ctx.operations,
      (op) => {
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
        return (
          [
            ['valid, then invalid', [valid, invalid]],
            ['invalid, then valid', [invalid, valid]],
          ] as const
        ).map(([label, lines]) => ({
          label: `two Authorization lines (${label})`,
          send: () =>
            sendRawRequest(ctx, rawRequest(ctx, op, [...lines]), `${op.key} duplicate Authorization (${label})`),
          judge,
        }));
      },
      RAW_CONCURRENCY,
    );
  },
};

/** AUTH-016 (API reference: two kinds of bearer token): a valid API token where a user JWT is required gets 401. */
export const rejectsApiTokenAsJwt: Check = {
  rule: 'AUTH-016',
  run: (ctx) =>
    judgeOperations(ctx, ctx.operations, (op) => [
      requestCase(
        ctx,
        op,
        "the environment's full-scope API token",
        { authorization: bearer(ctx.credentials.apiToken) },
        expectRejected(ctx),
      ),
    ]),
};

/**
 * AUTH-017 (sdk-api-core SDKApi: no security declared): public operations answer without credentials, never 401/403.
 */
export const publicWithoutCredentials: Check = {
  rule: 'AUTH-017',
  run: (ctx) =>
    judgeOperations(
      ctx,
      ctx.operations,
      (op) => writeSkip(ctx, op) ?? [requestCase(ctx, op, 'no credentials', {}, expectAccepted())],
    ),
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
      const cases = variantsFor(ctx, rejected, i).map(([label, render]) =>
        requestCase(ctx, op, label, { authorization: authWith(token, render) }, expectRejected(ctx, statuses)),
      );
      if (!writeSkip(ctx, op))
        cases.push(
          ...variantsFor(ctx, accepted, i).map(([label, render]) =>
            requestCase(ctx, op, label, { authorization: authWith(token, render) }, expectAccepted()),
          ),
        );
      return cases;
    });
  },
};

/**
 * AUTH-019 (RFC 9110 15.5.2; RFC 6750 3.1): credentials are checked before input — no/invalid credentials with
 * invalid input still get 401.
 */
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
        requestCase(
          ctx,
          op,
          `${rejected.label} + ${bad.label}`,
          { ...bad.options, authorization: rejected.value },
          expectRejected(ctx),
        ),
      ];
    });
  },
};

/** Every AUTH-* check, in rule order. */
export const AUTH_CHECKS: Check[] = [
  rejectsMissingCredentials,
  rejectsEmptyBearer,
  rejectsOtherSchemes,
  acceptsSchemeInAnyCase,
  rejectsUnknownToken,
  rejectsInactiveToken,
  rejectsOtherEnvironmentToken,
  rejectsMissingDocumentedScope,
  enforcesInferredScopes,
  rejectsJwtAsApiToken,
  rejectsQueryToken,
  acceptsValidCredentials,
  challengesEvery401,
  challengeErrorParam,
  rejectsDuplicateAuthorization,
  rejectsApiTokenAsJwt,
  publicWithoutCredentials,
  bearerWhitespaceGrammar,
  authBeforeValidation,
];
