/**
 * The value most token arbitraries generate: an edit of a credential, not a credential. The check applies it inside
 * the Authorization header's render function (src/http/client.ts SecretHeader), so the real token is read only where
 * the request is built, and a counterexample prints as the edit's label (fast-check's toStringMethod) — never as a
 * value. `apply` is total: on a fingerprint or a shell variable (what reports and curl lines render) it still returns
 * text.
 */
import fc from 'fast-check';

export interface TokenEdit {
  /** What the edit does, without any credential content (e.g. "insert '%' at body position 17"). */
  readonly label: string;
  apply(token: string): string;
}

/** Builds an edit whose counterexample print is its label. */
export function tokenEdit(label: string, apply: (token: string) => string): TokenEdit {
  return { label, apply, [fc.toStringMethod]: () => `<${label}>` } as TokenEdit;
}

/** Splits a token into prefix and body; a value without the prefix (a fingerprint, a variable name) is all body. */
export function splitToken(token: string, prefix: string): { prefix: string; body: string } {
  return token.startsWith(prefix) ? { prefix, body: token.slice(prefix.length) } : { prefix: '', body: token };
}

/** Printable character label: JSON escapes for whitespace and controls, U+XXXX beyond Latin-1. */
export function charLabel(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code > 0xff) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code < 0x21 || (code >= 0x7f && code <= 0xa0)) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `'${ch}'`;
}
