/**
 * TOKEN-002 (TF-07; API reference "prefix dyn_"): edits of a valid token's prefix — letter-case variants
 * (DYN_, Dyn_, dYn_ …), another separator (dyn-, dyn., dyn), the prefix missing (body alone), doubled (dyn_dyn_…),
 * or the scheme repeated inside the credential (Bearer Bearer dyn_…). Every edit changes the token.
 */
import fc from 'fast-check';
import type { TokenShape } from '../generators/token-classifier.js';
import { splitToken, tokenEdit, type TokenEdit } from './edit.js';

function caseVariant(prefix: string, mask: boolean[]): string {
  let i = 0;
  return [...prefix]
    .map((ch) => {
      if (ch.toLowerCase() === ch.toUpperCase()) return ch;
      const flip = mask[i++ % mask.length] === true;
      return flip ? (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) : ch;
    })
    .join('');
}

export function tokenPrefixVariant(shape: Pick<TokenShape, 'prefix'>): fc.Arbitrary<TokenEdit> {
  const { prefix } = shape;
  const letters = [...prefix].filter((ch) => ch.toLowerCase() !== ch.toUpperCase()).length;
  const stem = prefix.replace(/[^A-Za-z0-9]+$/, '');
  const separator = prefix.slice(stem.length);
  const cases = fc
    .array(fc.boolean(), { minLength: Math.max(letters, 1), maxLength: Math.max(letters, 1) })
    .filter((mask) => mask.some(Boolean))
    .map((mask) => {
      const variant = caseVariant(prefix, mask);
      return tokenEdit(`prefix case variant ${variant}`, (t) => variant + splitToken(t, prefix).body);
    });
  const separators = fc
    .constantFrom('-', '.', '', '__', ':', '=')
    .filter((s) => s !== separator)
    .map((s) =>
      tokenEdit(
        `prefix separator ${JSON.stringify(s)} instead of ${JSON.stringify(separator)}`,
        (t) => stem + s + splitToken(t, prefix).body,
      ),
    );
  const structural = fc.constantFrom(
    tokenEdit('prefix missing (body alone)', (t) => splitToken(t, prefix).body),
    tokenEdit('prefix doubled', (t) => prefix + t),
    tokenEdit('scheme repeated inside the credential (Bearer Bearer …)', (t) => `Bearer ${t}`),
    tokenEdit('prefix moved to the end', (t) => splitToken(t, prefix).body + prefix),
  );
  return fc.oneof(cases, separators, structural);
}
