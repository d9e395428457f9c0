/**
 * TOKEN-001 (TF-01): the suite's one token classifier (src/generators/token-classifier.ts, written from the profile's
 * prefix / alphabet / length) agrees with each profile's JSON Schema (schemas/auth/api-token.<profile>.schema.json,
 * through the engine's one ajv in src/engine/schemas.ts) on ONE MILLION generated strings per profile — near-valid
 * mutations of valid tokens, edits from the suite's own arbitraries, and random strings — plus the unit cases TF-01
 * names: valid, length ±1, a bad character, a Unicode variant.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { schemas } from '../../src/engine/schemas.js';
import { loadSpec, type DocsProfile } from '../../src/engine/spec.js';
import {
  alphabetChars,
  classifyToken,
  isWellFormedToken,
  parseAlphabet,
} from '../../src/generators/token-classifier.js';
import { tokenPrefixVariant } from '../../src/arbitraries/tokenPrefixVariant.js';
import { tokenLengthVariant } from '../../src/arbitraries/tokenLengthVariant.js';
import { malformedToken } from '../../src/arbitraries/malformedToken.js';
import { tokenWhitespaceVariant } from '../../src/arbitraries/tokenWhitespaceVariant.js';
import { tokenCaseFlip } from '../../src/arbitraries/tokenCaseFlip.js';
import { unicodeLookalike } from '../../src/arbitraries/unicodeLookalike.js';
import type { TokenEdit } from '../../src/arbitraries/edit.js';
import { wellFormedToken } from '../../src/arbitraries/wellFormedToken.js';

const registry = schemas();
const profiles: DocsProfile[] = loadSpec('docs-2026').profiles;
const SEED = Number(process.env.FC_SEED ?? 20260101);
/** Strings per profile: ONE MILLION against each profile's schema. */
const PER_PROFILE = 1_000_000;
const BATCH = 1_000;
/** Edits drawn from the suite's own arbitraries per batch (the rest of the batch is built by a seeded PRNG). */
const EDITS_PER_BATCH = 16;

/** xorshift32: a batch of strings is built from one generated seed, so a million strings stay fast. */
function prng(seed: number): (n: number) => number {
  let x = seed | 0 || 0x9e3779b9;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const ODD = [
  '_',
  '-',
  '.',
  '~',
  '+',
  '/',
  '=',
  '%',
  ':',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u00a0',
  'é',
  'ÿ',
  '\u0430',
  '\uff10',
  '\uff21',
  '\u200b',
  '\ufeff',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
];

/**
 * One batch of strings around the token shape, from a seed and a few edits of the suite's arbitraries: valid tokens,
 * valid tokens with 1–3 random insertions/deletions/replacements (alphabet, odd ASCII, Latin-1, Cyrillic, fullwidth,
 * invisible, astral and lone surrogates), prefix variants, prefix + near-length bodies, random printable strings and
 * random UTF-16 code-unit strings.
 */
function batchOf(p: DocsProfile, seed: number, edits: TokenEdit[]): string[] {
  const r = prng(seed);
  const { prefix, length } = p.token;
  const alnum = alphabetChars(p.token);
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)]!;
  const body = (n: number): string => {
    let out = '';
    for (let i = 0; i < n; i += 1) out += alnum[r(alnum.length)]!;
    return out;
  };
  const anyChar = (): string => (r(3) === 0 ? pick(ODD) : alnum[r(alnum.length)]!);
  const out: string[] = [];
  for (let i = 0; i < BATCH; i += 1) {
    const kind = i < edits.length ? -1 : r(8);
    let s: string;
    switch (kind) {
      case -1:
        s = edits[i]!.apply(prefix + body(length));
        break;
      case 0:
        s = prefix + body(length);
        break;
      case 1:
      case 2: {
        s = prefix + body(length);
        for (let k = 0, n = 1 + r(3); k < n; k += 1) {
          const at = r(s.length + 1);
          const op = r(3);
          s =
            op === 0
              ? s.slice(0, at) + anyChar() + s.slice(at)
              : op === 1
                ? s.slice(0, at) + s.slice(at + 1)
                : s.slice(0, at) + anyChar() + s.slice(at + 1);
        }
        break;
      }
      case 3:
        s =
          pick([prefix.toUpperCase(), 'Dyn_', 'dyn-', 'dyn', 'dyn__', '', prefix + prefix, ' dyn_', 'dyn_\n']) +
          body(length - 1 + r(3));
        break;
      case 4: {
        let b = '';
        for (let k = 0, n = length - 3 + r(7); k < n; k += 1) b += r(20) === 0 ? pick(ODD) : alnum[r(alnum.length)]!;
        s = prefix + b;
        break;
      }
      case 5: {
        s = '';
        for (let k = 0, n = r(90); k < n; k += 1) s += String.fromCharCode(0x20 + r(0x5f));
        break;
      }
      case 6: {
        s = '';
        for (let k = 0, n = r(70); k < n; k += 1) s += String.fromCharCode(r(0x10000));
        break;
      }
      default:
        s = (r(2) ? prefix : '') + body(r(length * 2));
    }
    out.push(s);
  }
  return out;
}

/** Per run: a seed for the batch and a few edits from the suite's own token arbitraries. */
function batchArbitrary(p: DocsProfile): fc.Arbitrary<{ seed: number; edits: TokenEdit[] }> {
  const shape = p.token;
  const edit = fc.oneof(
    tokenPrefixVariant(shape),
    tokenLengthVariant(shape),
    malformedToken(shape),
    tokenWhitespaceVariant(shape),
    tokenCaseFlip(shape),
    unicodeLookalike(shape),
  );
  return fc.record({
    seed: fc.integer(),
    edits: fc.array(edit, { minLength: EDITS_PER_BATCH, maxLength: EDITS_PER_BATCH }),
  });
}

for (const p of profiles) {
  describe(`token classifier vs ${p.token.schema.split('/').pop()} (${p.id})`, () => {
    const validate = registry.byId(p.token.schema);
    const shape = p.token;

    test(`agrees with the schema on ${PER_PROFILE.toLocaleString('en')} generated strings`, () => {
      let checked = 0;
      let wellFormed = 0;
      let disagreement: string | undefined;
      const out = fc.check(
        fc.property(batchArbitrary(p), ({ seed, edits }) => {
          for (const s of batchOf(p, seed, edits)) {
            const mine = isWellFormedToken(s, shape);
            if (mine !== (validate(s) === true)) {
              disagreement = `classifier ${mine ? 'accepts' : 'rejects'} ${JSON.stringify(s)}, the schema does not`;
              return false;
            }
            if (mine) wellFormed += 1;
          }
          checked += BATCH;
          return true;
        }),
        { seed: SEED, numRuns: PER_PROFILE / BATCH },
      );
      assert.equal(
        out.failed,
        false,
        `${disagreement ?? String(out.errorInstance)} (FC_SEED=${out.seed}, path ${out.counterexamplePath ?? '?'})`,
      );
      assert.equal(checked, PER_PROFILE);
      // The mix must exercise both verdicts substantially, or agreement would be cheap.
      assert.ok(wellFormed > PER_PROFILE * 0.1 && wellFormed < PER_PROFILE * 0.6, `well-formed share ${wellFormed}`);
    });

    const valid = fc.sample(wellFormedToken(shape), { seed: SEED, numRuns: 1 })[0]!;
    const cases: [string, string, boolean, string | undefined][] = [
      ['a valid token', valid, true, undefined],
      ['length −1', valid.slice(0, -1), false, 'length'],
      ['length +1', `${valid}a`, false, 'length'],
      ["a bad character ('-')", `${valid.slice(0, 9)}-${valid.slice(10)}`, false, 'alphabet'],
      ['a Unicode variant (Cyrillic а)', `${valid.slice(0, 9)}\u0430${valid.slice(10)}`, false, 'alphabet'],
      ['a Unicode variant (fullwidth 0)', `${valid.slice(0, 9)}\uff10${valid.slice(10)}`, false, 'alphabet'],
      [
        'an astral character (one code point, two code units)',
        `${valid.slice(0, 9)}\ud83d\ude00${valid.slice(10)}`,
        false,
        'alphabet',
      ],
      ['a trailing newline', `${valid}\n`, false, 'length'],
      ['DYN_ prefix', `DYN_${valid.slice(4)}`, false, 'prefix'],
      ['no prefix', valid.slice(4), false, 'prefix'],
    ];
    for (const [label, value, expected, reason] of cases) {
      test(`${label} → ${expected ? 'well-formed' : `malformed (${reason ?? ''})`}, like the schema`, () => {
        const c = classifyToken(value, shape);
        assert.equal(c.wellFormed, expected);
        if (!c.wellFormed) assert.equal(c.reason, reason);
        assert.equal(validate(value), expected);
      });
    }
  });
}

test('parseAlphabet reads ranges and single characters, rejects what it cannot classify', () => {
  assert.deepEqual(parseAlphabet('[A-Za-z0-9]'), [
    [65, 90],
    [97, 122],
    [48, 57],
  ]);
  assert.deepEqual(parseAlphabet('[a-c_-]'), [
    [97, 99],
    [95, 95],
    [45, 45],
  ]);
  assert.throws(() => parseAlphabet('[^a-z]'), /unsupported/);
  assert.throws(() => parseAlphabet('A-Z'), /unsupported/);
  assert.throws(() => parseAlphabet('[z-a]'), /bad range/);
});
