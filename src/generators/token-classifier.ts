/**
 * TOKEN-001 (TF-01): the suite's ONE definition of a well-formed admin API token under a docs profile — the
 * profile's prefix, followed by exactly `length` characters of its alphabet (docs-2026: `dyn_` + 56 of [A-Za-z0-9];
 * docs-2025: `dyn_` + 36). It is written by hand from the profile's prefix/alphabet/length fields, independently of
 * the profile's JSON Schema (schemas/auth/api-token.<profile>.schema.json), so that tests/unit/token-classifier.test.ts
 * can prove the two agree on a million generated strings instead of comparing a regex with itself.
 */
import type { DocsProfile } from '../engine/spec.js';

/** Why a string is not a well-formed token (the first reason found, in this order). */
export type MalformedReason = 'prefix' | 'length' | 'alphabet';

export type TokenClass = { wellFormed: true } | { wellFormed: false; reason: MalformedReason };

/** The token facts of a profile the classifier needs. */
export type TokenShape = Pick<DocsProfile['token'], 'prefix' | 'alphabet' | 'length'>;

/** An alphabet as a set of UTF-16 code-unit ranges (inclusive). */
type Ranges = readonly (readonly [number, number])[];

const parsed = new Map<string, Ranges>();

/**
 * Parses a one-class alphabet such as `[A-Za-z0-9]` (ranges and single characters; no negation, no escapes but
 * `\-`, `\]`, `\\`). Anything else is a profile error, reported at once rather than classified wrongly.
 */
export function parseAlphabet(alphabet: string): Ranges {
  const cached = parsed.get(alphabet);
  if (cached) return cached;
  if (!alphabet.startsWith('[') || !alphabet.endsWith(']') || alphabet.startsWith('[^'))
    throw new Error(`unsupported token alphabet '${alphabet}' (expected a character class like [A-Za-z0-9])`);
  const body = alphabet.slice(1, -1);
  const chars: number[] = [];
  for (let i = 0; i < body.length; i += 1) {
    if (body[i] === '\\' && i + 1 < body.length) {
      i += 1;
    }
    chars.push(body.charCodeAt(i));
    // mark a range with -1 between its ends
    if (body[i + 1] === '-' && i + 2 < body.length) {
      chars.push(-1);
      i += 1;
    }
  }
  const ranges: [number, number][] = [];
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i]!;
    if (chars[i + 1] === -1) {
      const end = chars[i + 2];
      if (end === undefined || end < c) throw new Error(`bad range in token alphabet '${alphabet}'`);
      ranges.push([c, end]);
      i += 2;
    } else {
      ranges.push([c, c]);
    }
  }
  if (!ranges.length) throw new Error(`empty token alphabet '${alphabet}'`);
  parsed.set(alphabet, ranges);
  return ranges;
}

const tables = new Map<string, Uint8Array>();

/** The alphabet as a membership table over the 65,536 UTF-16 code units (1 = in the alphabet). */
function memberTable(alphabet: string): Uint8Array {
  let table = tables.get(alphabet);
  if (!table) {
    table = new Uint8Array(0x10000);
    for (const [lo, hi] of parseAlphabet(alphabet)) table.fill(1, lo, hi + 1);
    tables.set(alphabet, table);
  }
  return table;
}

/** Classifies a string as a well-formed admin token of the profile, or says why it is not. */
export function classifyToken(value: string, shape: TokenShape): TokenClass {
  if (!value.startsWith(shape.prefix)) return { wellFormed: false, reason: 'prefix' };
  const member = memberTable(shape.alphabet);
  // Count code points: an astral character (a surrogate pair) is one character (the schema's regex runs with the `u`
  // flag); it is never in a BMP alphabet, so the verdict does not depend on the counting anyway.
  let count = 0;
  let outside = false;
  for (let i = shape.prefix.length; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    count += 1;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
        outside = true;
        continue;
      }
    }
    if (member[code] !== 1) outside = true;
  }
  if (count !== shape.length) return { wellFormed: false, reason: 'length' };
  if (outside) return { wellFormed: false, reason: 'alphabet' };
  return { wellFormed: true };
}

/** True if `value` is a well-formed admin token of the profile (TOKEN-001). */
export function isWellFormedToken(value: string, shape: TokenShape): boolean {
  return classifyToken(value, shape).wellFormed;
}

/** The characters of the profile alphabet, in code order (for generators). */
export function alphabetChars(shape: TokenShape): string[] {
  const out: string[] = [];
  for (const [lo, hi] of parseAlphabet(shape.alphabet))
    for (let c = lo; c <= hi; c += 1) out.push(String.fromCharCode(c));
  return out;
}
