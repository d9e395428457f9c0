/**
 * API-token format rules (specs/rules/token.json). TOKEN-001 proves the suite's one token classifier agrees with the
 * profile's schema on the suite's own fixtures and generators (the million-string proof is
 * tests/unit/token-classifier.test.ts). TOKEN-002..008 are fast-check properties over token-shaped values derived
 * from the valid token, sent to a small seed-rotated sample of api-token operations: every one must get the same
 * documented 401, and unknown and malformed tokens must be indistinguishable. TOKEN-009/010 send bytes undici
 * refuses (non-Latin-1 lookalikes, CR/LF/NUL) over a raw socket.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { HttpResponse } from '../http/client.js';
import { bearer } from '../http/client.js';
import type { Check, CheckContext } from '../engine/types.js';
import { mapLimit } from '../engine/runner.js';
import { classifyToken, isWellFormedToken } from '../generators/token-classifier.js';
import type { TokenEdit } from '../arbitraries/edit.js';
import { tokenPrefixVariant } from '../arbitraries/tokenPrefixVariant.js';
import { tokenLengthVariant } from '../arbitraries/tokenLengthVariant.js';
import { malformedToken } from '../arbitraries/malformedToken.js';
import { tokenWhitespaceVariant } from '../arbitraries/tokenWhitespaceVariant.js';
import { vendorToken } from '../arbitraries/vendorToken.js';
import { tokenCaseFlip } from '../arbitraries/tokenCaseFlip.js';
import { wellFormedToken } from '../arbitraries/wellFormedToken.js';
import { unicodeLookalike, fullwidth, HOMOGLYPHS } from '../arbitraries/unicodeLookalike.js';
import { tokenEdit } from '../arbitraries/edit.js';
import { type AuthCase, type Judge, judgeOperations } from './support/cases.js';
import { authWith, tokenShape, unknownTokens } from './support/credentials.js';
import { acceptedControl, propertyOperations, runProperty } from './support/property.js';
import { RAW_CONCURRENCY, rawRequest, sendRawRequest } from './support/raw.js';
import { variantsFor } from './support/sample.js';
import { concurrency, sendFor } from './support/send.js';
import { expectRejected, statusText } from './support/status.js';

/** The documented rejection: 401 on the mock; on live also 400 where the rule allows it (characters, whitespace). */
function rejectionStatuses(ctx: CheckContext, allow400: boolean): number[] {
  return ctx.config.target === 'live' && allow400 ? [400, 401] : [401];
}

/** A property over edits of the valid token: every edited token gets the documented 401. */
async function editProperty(
  ctx: CheckContext,
  name: string,
  arbitrary: fc.Arbitrary<TokenEdit>,
  allow400 = false,
): Promise<void> {
  const token = ctx.credentials.apiToken;
  const ops = await acceptedControl(ctx, propertyOperations(ctx, ctx.operations), token);
  const judge = expectRejected(ctx, rejectionStatuses(ctx, allow400));
  await runProperty(ctx, {
    name,
    arbitrary,
    operations: ops,
    probe: async (edit, op) => {
      const res = await sendFor(ctx, op, { authorization: authWith(token, (raw) => `Bearer ${edit.apply(raw)}`) });
      return { why: judge(res), responses: [res] };
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------------------------

/**
 * TOKEN-001 (API reference "dyn_ followed by 56 alphanumeric characters"; TokenWithRaw): the classifier
 * (src/generators/token-classifier.ts) agrees with the profile's schema on the suite's fixtures — the configured
 * token, its length ±1, a bad character, a Unicode variant, prefix variants — and on samples of every token
 * arbitrary, which it classifies as each arbitrary promises.
 */
export const classifierAgreesWithSchema: Check = {
  rule: 'TOKEN-001',
  run: (ctx) => {
    const shape = tokenShape(ctx);
    const schema = ctx.spec.profile.token.schema;
    const profile = ctx.spec.profile.id;
    const agree = (value: string): string | undefined => {
      const mine = isWellFormedToken(value, shape);
      const theirs = ctx.schemas.validate(schema, value).valid;
      return mine === theirs
        ? undefined
        : `classifier says ` +
            (mine ? 'well-formed' : `malformed (${(classifyToken(value, shape) as { reason: string }).reason})`) +
            `, ${schema.split('/').pop() ?? schema} says ${theirs ? 'valid' : 'invalid'}`;
    };
    // The configured token is read here only to classify it; no output contains it.
    const raw = ctx.credentials.apiToken.reveal();
    const valid = isWellFormedToken(raw, shape);
    const configured = `configured token (${ctx.credentials.apiToken.envName})`;
    const why = agree(raw);
    if (why) ctx.fail(configured, why);
    else if (valid) ctx.pass(configured);
    else if (ctx.config.target === 'mock')
      ctx.fail(
        configured,
        `the mock's seeded token is not well-formed under ${profile} (length ` +
          `${raw.length - shape.prefix.length} after the prefix; the profile says ` +
          `${shape.length})`,
      );
    else
      ctx.inconclusive(
        configured,
        `the configured token is not well-formed under ${profile} (body length ` +
          `${raw.length - shape.prefix.length}, the profile says ${shape.length}); another ` +
          `DYNAMIC_DOCS_PROFILE may describe it`,
      );
    const fixtures: [string, string, boolean][] = [
      ['length −1', raw.slice(0, -1), false],
      ['length +1', `${raw}A`, false],
      ['last character replaced by another alphanumeric', raw.slice(0, -1) + (raw.endsWith('A') ? 'B' : 'A'), valid],
      ["a '-' in the body", `${raw.slice(0, 10)}-${raw.slice(11)}`, false],
      ["a '_' in the body", `${raw.slice(0, 10)}_${raw.slice(11)}`, false],
      ['a Cyrillic а in the body', `${raw.slice(0, 10)}\u0430${raw.slice(11)}`, false],
      ['the fullwidth (NFKC-equivalent) body', shape.prefix + fullwidth(raw.slice(shape.prefix.length)), false],
      ['a trailing newline', `${raw}\n`, false],
      ['DYN_ prefix', `DYN_${raw.slice(shape.prefix.length)}`, false],
      ['no prefix', raw.slice(shape.prefix.length), false],
      ['empty string', '', false],
    ];
    for (const [label, value, expected] of fixtures) {
      const disagree = agree(value);
      if (disagree) ctx.fail(`fixture: ${label}`, disagree);
      else if (isWellFormedToken(value, shape) !== expected)
        ctx.fail(`fixture: ${label}`, `classified ${expected ? 'malformed' : 'well-formed'}, expected the opposite`);
      else ctx.pass(`fixture: ${label}`);
    }
    const base = valid ? raw : shape.prefix + 'A'.repeat(shape.length);
    const generators: [string, fc.Arbitrary<string>, boolean][] = [
      ['tokenPrefixVariant', tokenPrefixVariant(shape).map((e) => e.apply(base)), false],
      ['tokenLengthVariant', tokenLengthVariant(shape).map((e) => e.apply(base)), false],
      ['malformedToken', malformedToken(shape).map((e) => e.apply(base)), false],
      ['tokenWhitespaceVariant', tokenWhitespaceVariant(shape).map((e) => e.apply(base)), false],
      ['unicodeLookalike', unicodeLookalike(shape).map((e) => e.apply(base)), false],
      ['vendorToken', vendorToken(), false],
      ['tokenCaseFlip', tokenCaseFlip(shape).map((e) => e.apply(base)), true],
      ['wellFormedToken', wellFormedToken(shape), true],
    ];
    for (const [name, arb, expected] of generators) {
      const bad = fc
        .sample(arb, { seed: ctx.fc.seed, numRuns: 500 })
        .find((v) => agree(v) !== undefined || isWellFormedToken(v, shape) !== expected || v === raw);
      if (bad === undefined) ctx.pass(`generator: ${name}`);
      else
        ctx.fail(
          `generator: ${name}`,
          (agree(bad) ??
            (bad === raw
              ? 'generated the valid token itself'
              : `generated a ${expected ? 'malformed' : 'well-formed'} value`)) + ` (seed ${ctx.fc.seed})`,
        );
    }
    ctx.log(
      `TOKEN-001: profile ${profile}, ${shape.prefix} + ${shape.length} ` +
        `of ${shape.alphabet}; generator samples from seed ${ctx.fc.seed}`,
    );
    return Promise.resolve();
  },
};

/** TOKEN-002 (API reference: prefix dyn_): prefix variants (DYN_, Dyn_, dyn-, dyn, doubled, missing) get 401. */
export const rejectsPrefixVariants: Check = {
  rule: 'TOKEN-002',
  run: (ctx) => editProperty(ctx, 'prefix variants', tokenPrefixVariant(tokenShape(ctx))),
};

/** TOKEN-003 (API reference: 56 alphanumeric characters): tokens shorter or longer than a valid one get 401. */
export const rejectsWrongLength: Check = {
  rule: 'TOKEN-003',
  run: (ctx) => editProperty(ctx, 'length variants', tokenLengthVariant(tokenShape(ctx))),
};

/** TOKEN-004 (API reference; RFC 6750 2.1): characters outside [A-Za-z0-9] in the body get 401. */
export const rejectsCharactersOutsideAlphabet: Check = {
  rule: 'TOKEN-004',
  run: (ctx) => editProperty(ctx, 'characters outside the alphabet', malformedToken(tokenShape(ctx)), true),
};

/**
 * TOKEN-005 (RFC 9110 5.5; RFC 6750 2.1): whitespace glued to or inside the token (SP, HTAB, NBSP) never authenticates.
 */
export const rejectsWhitespaceInToken: Check = {
  rule: 'TOKEN-005',
  run: (ctx) => editProperty(ctx, 'whitespace in or glued to the token', tokenWhitespaceVariant(tokenShape(ctx)), true),
};

/** TOKEN-006 (GitHub, Stripe, Slack, npm token formats): other vendors' token shapes get the normal 401. */
export const rejectsVendorTokens: Check = {
  rule: 'TOKEN-006',
  run: async (ctx) => {
    const judge = expectRejected(ctx);
    await runProperty(ctx, {
      name: "other vendors' token shapes",
      arbitrary: vendorToken(),
      operations: propertyOperations(ctx, ctx.operations),
      probe: async (value, op) => {
        const res = await sendFor(ctx, op, { authorization: `Bearer ${value}` });
        return { why: judge(res), responses: [res] };
      },
    });
  },
};

/** Same status and same body (JSON compared structurally, else text). */
function sameAnswer(a: HttpResponse, b: HttpResponse): boolean {
  return (
    a.status === b.status &&
    (a.json !== undefined || b.json !== undefined ? isDeepStrictEqual(a.json, b.json) : a.text === b.text)
  );
}

function bodyText(res: HttpResponse): string {
  return res.text.length > 120 ? `${res.text.slice(0, 120)}…` : res.text;
}

/**
 * TOKEN-007 (RFC 6750 3.1; CWE-204): an unknown well-formed token and a malformed one (prefix, length, alphabet,
 * whitespace, another vendor's shape) get the same status and the same body; so does an inactive token.
 */
export const unknownAndMalformedIndistinguishable: Check = {
  rule: 'TOKEN-007',
  run: async (ctx) => {
    const shape = tokenShape(ctx);
    const token = ctx.credentials.apiToken;
    const ops = propertyOperations(ctx, ctx.operations);
    const inactive = ctx.credentials.inactiveToken;
    const [reference] = unknownTokens(ctx, 1);
    if (inactive && reference) {
      await mapLimit(ops, concurrency(ctx), async (op) => {
        const [u, i] = [
          await sendFor(ctx, op, { authorization: `Bearer ${reference}` }),
          await sendFor(ctx, op, { authorization: bearer(inactive) }),
        ];
        if (!sameAnswer(u, i))
          ctx.fail(
            `${op.key} (inactive vs unknown)`,
            `an inactive token got ${statusText(i)} ${bodyText(i)}, an unknown one ${statusText(u)} ${bodyText(u)}`,
            [u, i],
          );
        else ctx.pass(`${op.key} (inactive vs unknown)`, i);
      });
    }
    const malformed: fc.Arbitrary<{ label: string; header: (raw: string) => string } | string> = fc
      .oneof(
        tokenPrefixVariant(shape),
        tokenLengthVariant(shape),
        malformedToken(shape),
        tokenWhitespaceVariant(shape),
        vendorToken(),
      )
      .map((v) =>
        typeof v === 'string'
          ? v
          : {
              label: v.label,
              header: (raw: string) => `Bearer ${v.apply(raw)}`,
              [fc.toStringMethod]: () => `<${v.label}>`,
            },
      );
    const judge = expectRejected(ctx);
    await runProperty(ctx, {
      name: 'unknown vs malformed',
      operations: ops,
      arbitrary: fc.tuple(wellFormedToken(shape), malformed),
      probe: async ([unknown, bad], op) => {
        const u = await sendFor(ctx, op, { authorization: `Bearer ${unknown}` });
        const m = await sendFor(ctx, op, {
          authorization: typeof bad === 'string' ? `Bearer ${bad}` : authWith(token, bad.header),
        });
        const why =
          judge(u) ??
          judge(m) ??
          (sameAnswer(u, m)
            ? undefined
            : `the unknown token got ${statusText(u)} ` +
              `${bodyText(u)}, the malformed one ${statusText(m)} ` +
              `${bodyText(m)}`);
        return { why, responses: [u, m] };
      },
    });
  },
};

/** TOKEN-008 (RFC 6749 1.4; RFC 6750 2.1): the token is compared exactly — a case-flipped character gets 401. */
export const comparesTokenExactly: Check = {
  rule: 'TOKEN-008',
  run: (ctx) => editProperty(ctx, 'case-flipped letters', tokenCaseFlip(tokenShape(ctx))),
};

/** The fixed lookalike edits every sampled operation gets (one of each kind the rule names). */
function lookalikeEdits(prefix: string): TokenEdit[] {
  const body = (label: string, f: (b: string) => string): TokenEdit =>
    tokenEdit(label, (t) => (t.startsWith(prefix) ? prefix + f(t.slice(prefix.length)) : f(t)));
  const firstLetter = (b: string): number => [...b].findIndex((ch) => HOMOGLYPHS[ch] !== undefined);
  return [
    body('Cyrillic/Greek homoglyph for one letter', (b) => {
      const i = firstLetter(b);
      return i < 0 ? `\u0430${b.slice(1)}` : b.slice(0, i) + HOMOGLYPHS[b[i]!]! + b.slice(i + 1);
    }),
    body('one character in fullwidth form', (b) => fullwidth(b.slice(0, 1)) + b.slice(1)),
    body('ZWSP (U+200B) inside', (b) => `${b.slice(0, 8)}\u200b${b.slice(8)}`),
    body('NBSP as UTF-8 (C2 A0) inside', (b) => `${b.slice(0, 8)}\u00a0${b.slice(8)}`),
    tokenEdit('BOM (U+FEFF) before the token', (t) => `\ufeff${t}`),
    tokenEdit('the NFKC equivalent of the valid token (all fullwidth)', (t) => fullwidth(t)),
    body('the body in fullwidth form', (b) => fullwidth(b)),
  ];
}

/**
 * TOKEN-009 (RFC 9110 5.5: obs-text is opaque): non-ASCII lookalikes of the valid token (Cyrillic а, fullwidth
 * forms, ZWSP, NBSP, BOM, the NFKC equivalent), sent as UTF-8 bytes over a raw socket, never authenticate (401/400)
 * and never cause 5xx.
 */
export const rejectsUnicodeLookalikes: Check = {
  rule: 'TOKEN-009',
  run: async (ctx) => {
    const shape = tokenShape(ctx);
    const token = ctx.credentials.apiToken;
    const ops = propertyOperations(ctx, ctx.operations);
    const generated = fc.sample(unicodeLookalike(shape), { seed: ctx.fc.seed, numRuns: ops.length * 2 });
    const judge = expectRejected(ctx, [400, 401]);
    ctx.log(`TOKEN-009: ${ops.length} operation(s), generated lookalikes from seed ${ctx.fc.seed}`);
    await judgeOperations(
      ctx,
      ops,
      (op, i) =>
        [...variantsFor(ctx, lookalikeEdits(shape.prefix), i), generated[2 * i]!, generated[2 * i + 1]!].map(
          (edit): AuthCase => ({
            label: edit.label,
            send: () =>
              sendRawRequest(
                ctx,
                rawRequest(ctx, op, [authWith(token, (raw) => `Bearer ${edit.apply(raw)}`)]),
                `${op.key} ${edit.label}`,
              ),
            judge,
          }),
        ),
      RAW_CONCURRENCY,
    );
  },
};

/**
 * TOKEN-010 (RFC 9110 5.5): CR, LF or NUL in the Authorization field: the message is rejected (400 or a closed
 * connection) or the credential is (401) — never 2xx, never 5xx, and an injected header is never echoed.
 */
export const controlCharactersNeverInject: Check = {
  rule: 'TOKEN-010',
  run: async (ctx) => {
    const token = ctx.credentials.apiToken;
    const [unknown] = unknownTokens(ctx, 1);
    const ops = propertyOperations(ctx, ctx.operations);
    const split =
      (sep: string) =>
      (raw: string): string =>
        `Bearer ${raw.slice(0, 12)}${sep}${raw.slice(12)}`;
    const cases: [string, (raw: string) => string][] = [
      ['CRLF splitting the token', split('\r\n')],
      ['bare CR inside the token', split('\r')],
      ['bare LF inside the token', split('\n')],
      ['NUL inside the token', split('\u0000')],
      ['NUL after the token', (raw) => `Bearer ${raw}\u0000`],
      ['CRLF + injected header after an unknown token', () => `Bearer ${unknown ?? 'dyn_unknown'}\r\nX-Injected: 1`],
      ['CRLF + SP (obs-fold) + injected text after the token', (raw) => `Bearer ${raw}\r\n X-Injected: 1`],
      ['bare LF + injected header after a split token', (raw) => `Bearer ${raw.slice(0, 12)}\nX-Injected: 1`],
    ];
    const judge: Judge = (res) => {
      const injected =
        Object.keys(res.headers).some((h) => h.toLowerCase() === 'x-injected') || /x-injected/i.test(res.text);
      if (injected) return 'the injected header is echoed in the response';
      if (res.status === 0 || res.status === 400) return undefined;
      return expectRejected(ctx, [400, 401])(res);
    };
    await judgeOperations(
      ctx,
      ops,
      (op, i) =>
        variantsFor(ctx, cases, i).map(([label, render]): AuthCase => ({
          label,
          send: () => sendRawRequest(ctx, rawRequest(ctx, op, [authWith(token, render)]), `${op.key} ${label}`),
          judge,
        })),
      RAW_CONCURRENCY,
    );
  },
};

/** Every TOKEN-* check, in rule order. */
export const TOKEN_CHECKS: Check[] = [
  classifierAgreesWithSchema,
  rejectsPrefixVariants,
  rejectsWrongLength,
  rejectsCharactersOutsideAlphabet,
  rejectsWhitespaceInToken,
  rejectsVendorTokens,
  unknownAndMalformedIndistinguishable,
  comparesTokenExactly,
  rejectsUnicodeLookalikes,
  controlCharactersNeverInject,
];
