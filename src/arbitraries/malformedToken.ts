/**
 * TOKEN-004 (TF-04; API reference: body of [A-Za-z0-9]): edits that put 1..3 characters outside the profile
 * alphabet into a valid token at random body positions — the legal b64token characters Dynamic's format excludes
 * (`_ - . ~ + / =`), other printable ASCII (`% : , ; …`) and printable Latin-1 — inserted (so a server that strips
 * them would recover the valid token) or replacing a character.
 */
import fc from 'fast-check';
import { alphabetChars, type TokenShape } from '../generators/token-classifier.js';
import { charLabel, splitToken, tokenEdit, type TokenEdit } from './edit.js';

/**
 * Printable ASCII and Latin-1 outside the alphabet; no whitespace (TOKEN-005) and no control characters (TOKEN-010).
 */
export function outsideAlphabet(shape: TokenShape): string[] {
  const inside = new Set(alphabetChars(shape));
  const out: string[] = [];
  for (let c = 0x21; c <= 0x7e; c += 1) if (!inside.has(String.fromCharCode(c))) out.push(String.fromCharCode(c));
  for (let c = 0xa1; c <= 0xff; c += 1)
    if (c !== 0xad && !inside.has(String.fromCharCode(c))) out.push(String.fromCharCode(c));
  return out;
}

export function malformedToken(shape: TokenShape): fc.Arbitrary<TokenEdit> {
  const forbidden = outsideAlphabet(shape);
  const b64token = ['_', '-', '.', '~', '+', '/', '='].filter((c) => forbidden.includes(c));
  const char = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...b64token) },
    { weight: 3, arbitrary: fc.constantFrom(...forbidden) },
  );
  const change = fc.record({
    insert: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 2, arbitrary: fc.constant(false) }),
    position: fc.nat({ max: shape.length }),
    char,
  });
  return fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) =>
    tokenEdit(
      changes
        .map((c) => `${c.insert ? 'insert' : 'replace with'} ${charLabel(c.char)} at body position ${c.position}`)
        .join(', '),
      (t) => {
        const { prefix, body } = splitToken(t, shape.prefix);
        let out = body;
        for (const c of changes) {
          const p = Math.min(c.position, c.insert ? out.length : Math.max(out.length - 1, 0));
          out = out.slice(0, p) + c.char + out.slice(c.insert ? p : p + 1);
        }
        return prefix + out;
      },
    ),
  );
}
