/**
 * The suite's generators and the auth helpers they feed (no network): every token edit changes a valid token and is
 * classified as its rule promises; vendor fakes carry a wrong checksum; every JWT mutation of a genuinely signed
 * RS256 token fails jose verification; the WWW-Authenticate parser follows RFC 9110 11.6.1.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, exportJWK, importJWK, jwtVerify } from 'jose';
import { loadSpec } from '../../src/engine/spec.js';
import { isWellFormedToken } from '../../src/generators/token-classifier.js';
import { tokenPrefixVariant } from '../../src/arbitraries/tokenPrefixVariant.js';
import { tokenLengthVariant } from '../../src/arbitraries/tokenLengthVariant.js';
import { malformedToken } from '../../src/arbitraries/malformedToken.js';
import { tokenWhitespaceVariant } from '../../src/arbitraries/tokenWhitespaceVariant.js';
import { tokenCaseFlip } from '../../src/arbitraries/tokenCaseFlip.js';
import { unicodeLookalike, fullwidth } from '../../src/arbitraries/unicodeLookalike.js';
import { vendorToken, wrongChecksum } from '../../src/arbitraries/vendorToken.js';
import { wellFormedToken } from '../../src/arbitraries/wellFormedToken.js';
import { bearerSchemeCase } from '../../src/arbitraries/bearerSchemeCase.js';
import { jwtMutation } from '../../src/arbitraries/jwtMutation.js';
import type { TokenEdit } from '../../src/arbitraries/edit.js';
import { applyJwtMutation, prepareForgeMaterial, type JwtMutation } from '../../src/generators/jwt-tools.js';
import { parseChallenges } from '../../src/checks/support/challenge.js';

const SEED = Number(process.env.FC_SEED ?? 4242);
const shape = loadSpec('docs-2026').profile.token;

describe('token edits', () => {
  const malformedEdits: [string, fc.Arbitrary<TokenEdit>][] = [
    ['tokenPrefixVariant', tokenPrefixVariant(shape)],
    ['tokenLengthVariant', tokenLengthVariant(shape)],
    ['malformedToken', malformedToken(shape)],
    ['tokenWhitespaceVariant', tokenWhitespaceVariant(shape)],
    ['unicodeLookalike', unicodeLookalike(shape)],
  ];
  for (const [name, arb] of malformedEdits) {
    test(`${name}: always changes a valid token into a malformed one`, () => {
      fc.assert(
        fc.property(wellFormedToken(shape), arb, (token, edit) => {
          const out = edit.apply(token);
          return out !== token && !isWellFormedToken(out, shape);
        }),
        { seed: SEED, numRuns: 2000 },
      );
    });
  }

  test('tokenCaseFlip: a different, still well-formed token that equals the valid one case-insensitively', () => {
    fc.assert(
      fc.property(wellFormedToken(shape), tokenCaseFlip(shape), (token, edit) => {
        const out = edit.apply(token);
        return out !== token && out.toLowerCase() === token.toLowerCase() && isWellFormedToken(out, shape);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('an edit is total and prints as its label (no token in a counterexample)', () => {
    const [edit] = fc.sample(malformedToken(shape), { seed: SEED, numRuns: 1 });
    assert.equal(typeof edit!.apply('[dyn_…#abcdef12]'), 'string');
    assert.equal(fc.stringify(edit), `<${edit!.label}>`);
  });

  test('the NFKC equivalent of a token normalises back to it', () => {
    fc.assert(
      fc.property(wellFormedToken(shape), (t) => fullwidth(t) !== t && fullwidth(t).normalize('NFKC') === t),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('other generators', () => {
  test('vendorToken: never a dyn_ token; GitHub/npm fakes carry a wrong CRC32 checksum', () => {
    fc.assert(
      fc.property(vendorToken(), (v) => {
        if (v.startsWith('dyn_') || isWellFormedToken(v, shape)) return false;
        const m = /^(?:ghp_|gho_|ghs_|npm_)([A-Za-z0-9]{30})([A-Za-z0-9]{6})$/.exec(v);
        return !m || m[2] === wrongChecksum(m[1]!);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('bearerSchemeCase: never the canonical spelling, always bearer case-insensitively', () => {
    fc.assert(
      fc.property(bearerSchemeCase(), (s) => s !== 'Bearer' && s.toLowerCase() === 'bearer'),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('JWT mutations (src/generators/jwt-tools.ts)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sign = (claims: Record<string, unknown>): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  const verifies = async (token: string): Promise<boolean> => {
    try {
      await jwtVerify(token, publicKey, { algorithms: ['RS256'] });
      return true;
    } catch {
      return false;
    }
  };

  test('every generated mutation of a valid RS256 token fails verification', async () => {
    const token = await sign({ sub: 'u1', environment_id: 'e1', scope: 'user:basic' });
    assert.equal(await verifies(token), true);
    await fc.assert(
      fc.asyncProperty(jwtMutation(), async (m) => {
        const out = applyJwtMutation(token, m);
        return out !== token && !(await verifies(out));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test(
    'forgeries with key material: alg none, HS256 with the ' +
      'public key, attacker keys — all fail RS256 ' +
      'verification',
    async () => {
      const token = await sign({ sub: 'u1' });
      const material = await prepareForgeMaterial(
        { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] },
        'k1',
      );
      assert.match(material.pem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----$/);
      const forgeries: JwtMutation[] = [
        { kind: 'alg-none', alg: 'nOnE', signature: 'empty' },
        ...(['pem', 'pem-no-newline', 'der', 'jwk-json', 'modulus'] as const).map(
          (encoding) => ({ kind: 'hs256-public-key', encoding }) as const,
        ),
        ...(['jwk', 'jku', 'x5u', 'kid-only'] as const).map((via) => ({ kind: 'attacker-key', via }) as const),
      ];
      for (const m of forgeries) {
        const out = applyJwtMutation(token, m, material);
        assert.notEqual(out, token);
        assert.equal(await verifies(out), false, m.kind);
      }
      // The attacker token really is valid under the embedded key: a server trusting it would accept it.
      const embedded = applyJwtMutation(token, { kind: 'attacker-key', via: 'jwk' }, material);
      await jwtVerify(embedded, await importJWK(material.attacker.jwk, 'RS256'), { algorithms: ['RS256'] });
      const header = JSON.parse(Buffer.from(embedded.split('.')[0]!, 'base64url').toString()) as {
        jwk?: { n?: string };
      };
      assert.equal(header.jwk?.n, material.attacker.jwk.n);
    },
  );

  test('applyJwtMutation is total on values that are not JWTs', () => {
    assert.equal(
      applyJwtMutation('[jwt…#12345678]', { kind: 'signature-empty' }),
      '[jwt…#12345678]~{signature segment empty}',
    );
  });
});

describe('WWW-Authenticate parser (RFC 9110 11.6.1)', () => {
  const ok = (value: string): ReturnType<typeof parseChallenges> & { challenges: unknown[] } => {
    const r = parseChallenges(value);
    assert.ok('challenges' in r, JSON.stringify(r));
    return r;
  };
  test('parses Bearer with quoted and token params', () => {
    assert.deepEqual(ok('Bearer realm="dynamic", error="invalid_token"').challenges, [
      {
        scheme: 'Bearer',
        params: [
          ['realm', 'dynamic'],
          ['error', 'invalid_token'],
        ],
      },
    ]);
    assert.deepEqual(ok('bearer error=invalid_token').challenges, [
      { scheme: 'bearer', params: [['error', 'invalid_token']] },
    ]);
  });
  test('parses several challenges, token68 and escapes', () => {
    assert.deepEqual(ok('Basic realm="a\\"b", Bearer realm="x", scope="a b"').challenges, [
      { scheme: 'Basic', params: [['realm', 'a"b']] },
      {
        scheme: 'Bearer',
        params: [
          ['realm', 'x'],
          ['scope', 'a b'],
        ],
      },
    ]);
    assert.deepEqual(ok('Negotiate abc123==, Bearer').challenges, [
      { scheme: 'Negotiate', params: [], token68: 'abc123==' },
      { scheme: 'Bearer', params: [] },
    ]);
    assert.deepEqual(ok('Bearer realm=').challenges, [{ scheme: 'Bearer', params: [], token68: 'realm=' }]);
    assert.deepEqual(ok('Bearer realm = "x" ,  error="y"').challenges, [
      {
        scheme: 'Bearer',
        params: [
          ['realm', 'x'],
          ['error', 'y'],
        ],
      },
    ]);
  });
  test('rejects broken syntax', () => {
    for (const bad of [
      'Bearer realm="unterminated',
      'Bearer realm="x", error=',
      '="x"',
      'Bearer\trealm="x"',
      'Bearer realm="x" error="y"',
    ]) {
      assert.ok('error' in parseChallenges(bad), bad);
    }
  });
});
