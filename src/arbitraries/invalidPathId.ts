/**
 * Path ids that are not lowercase UUIDs (ERR-001): upper-case, truncated, extended, hyphen-less, braced and
 * mutated UUIDs, plain words, numbers, path-traversal-ish strings and arbitrary Unicode. Values equal to a literal
 * path segment of the spec (they would route to another operation) and '.'/'..' (normalised away) are excluded.
 */
import fc from 'fast-check';
import { INVALID_UUIDS, UUID_PATTERN } from '../generators/negative.js';

const TRAVERSAL = ['../', '..\\', '..%2f', '%2e%2e', '....//', '..;', '%00', '/..'];

// Built once (a stringMatching arbitrary costs milliseconds to build; arbitraries are stateless, so sharing one
// gives the same values for a seed).
let words: { word: fc.Arbitrary<string>; suffix: fc.Arbitrary<string> } | undefined;

export function invalidPathId(reserved: ReadonlySet<string> = new Set()): fc.Arbitrary<string> {
  words ??= { word: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_~-]{0,24}$/), suffix: fc.stringMatching(/^[0-9a-z]{1,4}$/) };
  const { word, suffix } = words;
  return fc
    .oneof(
      fc.constantFrom(...INVALID_UUIDS),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.tuple(fc.uuid(), fc.integer({ min: 1, max: 35 })).map(([u, n]) => u.slice(0, n)),
      fc.tuple(fc.uuid(), suffix).map(([u, s]) => `${u}${s}`),
      fc.uuid().map((u) => u.replace(/-/g, '')),
      fc
        .tuple(fc.uuid(), fc.integer({ min: 0, max: 35 }), fc.constantFrom('g', 'z', 'G', '_', '!', '~', ' ', 'é'))
        .map(([u, i, c]) => `${u.slice(0, i)}${c}${u.slice(i + 1)}`),
      word,
      fc.nat().map(String),
      fc.tuple(fc.constantFrom(...TRAVERSAL), word).map(([t, w]) => `${t}${w}`),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    )
    .filter((s) => s.length > 0 && s !== '.' && s !== '..' && !UUID_PATTERN.test(s) && !reserved.has(s));
}
