/**
 * Query values of the wrong type for a typed parameter (ERR-002): non-numbers for number parameters, non-booleans,
 * values outside the enum, strings breaking a kept pattern/format/length — invalid even under lenient parsing
 * (see isInvalidQueryValue).
 */
import fc from 'fast-check';
import { invalidQueryValues, isInvalidQueryValue, type QueryKind } from '../generators/negative.js';

// Built once (a stringMatching arbitrary costs milliseconds to build; arbitraries are stateless, so sharing one
// gives the same values for a seed).
let queryWord: fc.Arbitrary<string> | undefined;

export function invalidQueryValue(kind: QueryKind): fc.Arbitrary<string> {
  queryWord ??= fc.stringMatching(/^[A-Za-z!~*][A-Za-z0-9._~*!-]{0,15}$/);
  return fc
    .oneof(
      fc.constantFrom(...invalidQueryValues(kind)),
      queryWord,
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    )
    .filter((v) => isInvalidQueryValue(kind, v));
}
