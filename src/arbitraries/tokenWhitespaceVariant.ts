/**
 * TOKEN-005 (TF-05; RFC 9110 5.5, RFC 6750 2.1): edits that glue whitespace to a valid token or put it inside —
 * SP, HTAB or NBSP (U+00A0, sent as the Latin-1 byte 0xA0) inside the token; HTAB or NBSP right before it (after the
 * single SP of `Bearer `); NBSP right after it. Trailing SP/HTAB are not generated: they are OWS around the field
 * value, which HTTP removes before the credential is read (RFC 9110 5.5), so the token would rightly still be valid.
 */
import fc from 'fast-check';
import type { TokenShape } from '../generators/token-classifier.js';
import { charLabel, tokenEdit, type TokenEdit } from './edit.js';

export function tokenWhitespaceVariant(shape: TokenShape): fc.Arbitrary<TokenEdit> {
  const total = shape.prefix.length + shape.length;
  const inside = fc
    .tuple(
      fc.constantFrom(' ', '\t', '\u00a0'),
      fc.integer({ min: 1, max: Math.max(total - 1, 1) }),
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([ch, p, n]) =>
      tokenEdit(`${n}× ${charLabel(ch)} inside the token at position ${p}`, (t) => {
        const at = Math.min(p, Math.max(t.length - 1, 1));
        return t.slice(0, at) + ch.repeat(n) + t.slice(at);
      }),
    );
  const before = fc
    .tuple(fc.constantFrom('\t', '\u00a0'), fc.integer({ min: 1, max: 3 }))
    .map(([ch, n]) => tokenEdit(`${n}× ${charLabel(ch)} glued before the token`, (t) => ch.repeat(n) + t));
  const after = fc
    .integer({ min: 1, max: 3 })
    .map((n) => tokenEdit(`${n}× ${charLabel('\u00a0')} glued after the token`, (t) => t + '\u00a0'.repeat(n)));
  return fc.oneof({ weight: 3, arbitrary: inside }, { weight: 1, arbitrary: before }, { weight: 1, arbitrary: after });
}
