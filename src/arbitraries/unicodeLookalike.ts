/**
 * TOKEN-009 (TF-05; RFC 9110 5.5: obs-text is opaque, no Unicode normalisation): edits that make a valid token look
 * the same to a human or to NFKC — a Latin letter replaced by its Cyrillic/Greek homoglyph, a digit or letter by its
 * fullwidth form (U+FF10…), ZWSP (U+200B), BOM (U+FEFF) or NBSP inserted, or the whole token in fullwidth form
 * (its NFKC equivalent). Sent as UTF-8 bytes over a raw socket (undici refuses header characters above U+00FF).
 */
import fc from 'fast-check';
import type { TokenShape } from '../generators/token-classifier.js';
import { charLabel, splitToken, tokenEdit, type TokenEdit } from './edit.js';

/** Latin letters and their Cyrillic (or Greek) lookalikes. */
export const HOMOGLYPHS: Readonly<Record<string, string>> = {
  a: '\u0430',
  c: '\u0441',
  e: '\u0435',
  o: '\u043e',
  p: '\u0440',
  x: '\u0445',
  y: '\u0443',
  i: '\u0456',
  j: '\u0458',
  s: '\u0455',
  A: '\u0410',
  B: '\u0412',
  C: '\u0421',
  E: '\u0415',
  H: '\u041d',
  K: '\u041a',
  M: '\u041c',
  O: '\u041e',
  P: '\u0420',
  T: '\u0422',
  X: '\u0425',
  Y: '\u03a5',
  Z: '\u0396',
  N: '\u039d',
  I: '\u0406',
};

/** The fullwidth form (U+FF01–FF5E) of printable ASCII; NFKC maps it back. */
export function fullwidth(text: string): string {
  return [...text]
    .map((ch) => {
      const c = ch.charCodeAt(0);
      return c >= 0x21 && c <= 0x7e ? String.fromCharCode(c - 0x21 + 0xff01) : ch;
    })
    .join('');
}

function replaceAt(body: string, index: number, pick: (ch: string) => string | undefined): string {
  const chars = [...body];
  const candidates = chars.map((ch, i) => (pick(ch) !== undefined ? i : -1)).filter((i) => i >= 0);
  if (!candidates.length) return `${fullwidth(body.slice(0, 1))}${body.slice(1)}`;
  const at = candidates[index % candidates.length]!;
  chars[at] = pick(chars[at]!)!;
  return chars.join('');
}

export function unicodeLookalike(shape: TokenShape): fc.Arbitrary<TokenEdit> {
  const pos = fc.nat({ max: shape.length - 1 });
  const withBody = (label: string, f: (body: string) => string): TokenEdit =>
    tokenEdit(label, (t) => {
      const { prefix, body } = splitToken(t, shape.prefix);
      return prefix + f(body);
    });
  return fc.oneof(
    pos.map((p) =>
      withBody(`a letter replaced by its Cyrillic/Greek homoglyph (letter ${p})`, (b) =>
        replaceAt(b, p, (ch) => HOMOGLYPHS[ch]),
      ),
    ),
    pos.map((p) =>
      withBody(`a digit or letter replaced by its fullwidth form (character ${p})`, (b) =>
        replaceAt(b, p, (ch) => (/[A-Za-z0-9]/.test(ch) ? fullwidth(ch) : undefined)),
      ),
    ),
    fc
      .tuple(fc.constantFrom('\u200b', '\ufeff', '\u00a0', '\u2060', '\u00ad'), pos)
      .map(([ch, p]) =>
        withBody(`${charLabel(ch)} inserted at body position ${p}`, (b) => b.slice(0, p) + ch + b.slice(p)),
      ),
    fc.constantFrom('\ufeff', '\u200b').map((ch) => tokenEdit(`${charLabel(ch)} before the token`, (t) => ch + t)),
    fc.constant(tokenEdit('the whole token in fullwidth form (its NFKC equivalent)', (t) => fullwidth(t))),
    fc.constant(withBody('the body in fullwidth form (NFKC equivalent of the body)', (b) => fullwidth(b))),
  );
}
