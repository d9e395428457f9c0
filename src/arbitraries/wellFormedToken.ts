/**
 * AUTH-005 / TOKEN-007 (BA-03, TF-02; API reference "dyn_ followed by 56 alphanumeric characters"): a well-formed
 * token of the profile — prefix + exactly `length` alphabet characters — that the API has never issued (random).
 */
import fc from 'fast-check';
import { alphabetChars, type TokenShape } from '../generators/token-classifier.js';

export function wellFormedToken(shape: TokenShape): fc.Arbitrary<string> {
  return fc
    .string({ unit: fc.constantFrom(...alphabetChars(shape)), minLength: shape.length, maxLength: shape.length })
    .map((body) => shape.prefix + body);
}
