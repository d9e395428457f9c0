/**
 * Request bodies that violate the operation's request schema in exactly one place (ERR-003), drawn from the cases
 * src/generators/negative.ts derives from the schema; wrong-type cases vary the wrong value over every disallowed JSON
 * type.
 */
import fc from 'fast-check';
import { withValue, wrongTypeValues, type NegativeCase } from '../generators/negative.js';

export function invalidBody(cases: readonly NegativeCase[], sample: unknown): fc.Arbitrary<NegativeCase> {
  if (cases.length === 0) throw new Error('invalidBody needs at least one negative case');
  return fc.constantFrom(...cases).chain((c) => {
    const alternatives = c.types ? wrongTypeValues(c.types) : [];
    return alternatives.length > 1
      ? fc.constantFrom(...alternatives).map((v) => withValue(c, sample, v))
      : fc.constant(c);
  });
}
