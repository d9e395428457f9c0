/**
 * AUTH-004 (BA-06; RFC 9110 11.1: the auth-scheme is case-insensitive): spellings of `Bearer` in any letter case
 * other than the canonical one (bearer, BEARER, bEaReR, …).
 */
import fc from 'fast-check';

export function bearerSchemeCase(scheme = 'Bearer'): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: scheme.length, maxLength: scheme.length })
    .map((mask) => [...scheme].map((ch, i) => (mask[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''))
    .filter((s) => s !== scheme);
}
