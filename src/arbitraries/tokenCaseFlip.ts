/**
 * TOKEN-008 (BA-07; RFC 6749 1.4, RFC 6750 2.1): edits that flip the letter case of 1..4 letters of a valid token's
 * body (positions counted among its letters), so the value differs only by case — an opaque token compared octet
 * for octet must then be rejected.
 */
import fc from 'fast-check';
import type { TokenShape } from '../generators/token-classifier.js';
import { splitToken, tokenEdit, type TokenEdit } from './edit.js';

const isLetter = (ch: string): boolean => ch.toLowerCase() !== ch.toUpperCase();
const flip = (ch: string): string => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());

export function tokenCaseFlip(shape: TokenShape): fc.Arbitrary<TokenEdit> {
  return fc.uniqueArray(fc.nat({ max: shape.length - 1 }), { minLength: 1, maxLength: 4 }).map((positions) =>
    tokenEdit(`case of ${positions.length} letter(s) flipped (letter indexes ${positions.join(', ')})`, (t) => {
      const { prefix, body } = splitToken(t, shape.prefix);
      const chars = [...body];
      const letters = chars.map((ch, i) => (isLetter(ch) ? i : -1)).filter((i) => i >= 0);
      if (!letters.length)
        return prefix.toUpperCase() === prefix ? prefix.toLowerCase() + body : prefix.toUpperCase() + body;
      const chosen = new Set(positions.map((p) => letters[p % letters.length]!));
      return prefix + chars.map((ch, i) => (chosen.has(i) ? flip(ch) : ch)).join('');
    }),
  );
}
