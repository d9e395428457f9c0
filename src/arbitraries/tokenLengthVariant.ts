/**
 * TOKEN-003 (TF-03; API reference "56 alphanumeric characters"): edits that change a valid token's length by
 * 1..8 characters while staying inside the alphabet — truncate, extend, delete or insert at a position — so only
 * the length is wrong (no truncation or prefix matching may authenticate it). Weighted towards ±1.
 */
import fc from 'fast-check';
import { alphabetChars, type TokenShape } from '../generators/token-classifier.js';
import { splitToken, tokenEdit, type TokenEdit } from './edit.js';

export function tokenLengthVariant(shape: TokenShape): fc.Arbitrary<TokenEdit> {
  const chars = alphabetChars(shape);
  const delta = fc.oneof(
    { weight: 3, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 8 }) },
  );
  const text = (n: number): fc.Arbitrary<string> =>
    fc.string({ unit: fc.constantFrom(...chars), minLength: n, maxLength: n });
  const position = fc.nat({ max: Math.max(shape.length - 1, 0) });
  const { prefix } = shape;
  return fc.oneof(
    delta.map((k) =>
      tokenEdit(`last ${k} character(s) dropped`, (t) => t.slice(0, Math.max(prefix.length, t.length - k))),
    ),
    delta.chain((k) => text(k)).map((s) => tokenEdit(`${s.length} character(s) appended`, (t) => t + s)),
    fc.tuple(delta, position).map(([k, p]) =>
      tokenEdit(`${k} character(s) deleted at body position ${p}`, (t) => {
        const { prefix: pre, body } = splitToken(t, prefix);
        const at = Math.min(p, Math.max(body.length - k, 0));
        return pre + body.slice(0, at) + body.slice(at + k);
      }),
    ),
    fc
      .tuple(
        delta.chain((k) => text(k)),
        position,
      )
      .map(([s, p]) =>
        tokenEdit(`${s.length} character(s) inserted at body position ${p}`, (t) => {
          const { prefix: pre, body } = splitToken(t, prefix);
          return pre + body.slice(0, p) + s + body.slice(p);
        }),
      ),
  );
}
