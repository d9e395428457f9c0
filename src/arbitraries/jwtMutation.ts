/**
 * JWT-003 / JWT-004 (JW-03; RFC 7515 5.2, RFC 7519 7.2): structural and signature mutations of a valid user JWT —
 * a changed signature character, a truncated or empty signature, 1/2/4/5 segments, a duplicated payload segment,
 * a non-base64url segment, a tampered claim or a re-encoded payload with the signature kept. Each mutation makes
 * the token invalid; none needs key material (see src/generators/jwt-tools.ts for the forgeries that do).
 */
import fc from 'fast-check';
import { describeJwtMutation, type JwtMutation } from '../generators/jwt-tools.js';

/** A JwtMutation whose counterexample print is its description. */
export function printable(m: JwtMutation): JwtMutation {
  return Object.assign(m, { [fc.toStringMethod]: () => `<${describeJwtMutation(m)}>` });
}

export function jwtMutation(): fc.Arbitrary<JwtMutation> {
  const garbage = fc.string({
    unit: fc.constantFrom('!', '*', '%', '$', '@', ' ', '+', '/', '=', '{', '}', '"'),
    minLength: 1,
    maxLength: 12,
  });
  const arbs: fc.Arbitrary<JwtMutation>[] = [
    fc.nat({ max: 400 }).map((position) => ({ kind: 'signature-flip', position }) as const),
    fc.integer({ min: 1, max: 200 }).map((drop) => ({ kind: 'signature-truncate', drop }) as const),
    fc.constant({ kind: 'signature-empty' } as const),
    fc
      .constantFrom('two', 'four', 'one', 'five', 'duplicate-payload')
      .map((shape) => ({ kind: 'segments', shape }) as const),
    fc
      .tuple(fc.constantFrom(0 as const, 1 as const, 2 as const), garbage)
      .map(([segment, text]) => ({ kind: 'garbage-segment', segment, text }) as const),
    fc.constant({ kind: 'reencoded-payload' } as const),
    fc
      .uuid({ version: 4 })
      .map((sub) => ({ kind: 'claims', claims: { sub }, label: 'sub replaced by another user id' }) as const),
    fc
      .integer({ min: 1, max: 10 * 365 * 86400 })
      .map(
        (more) =>
          ({ kind: 'claims', claims: { exp: 4_102_444_800 + more }, label: 'exp pushed into the far future' }) as const,
      ),
    fc
      .constantFrom('user:basic admin', 'user:basic environment.settings.write')
      .map((scope) => ({ kind: 'claims', claims: { scope }, label: `scope widened to "${scope}"` }) as const),
  ];
  return fc.oneof(...arbs).map(printable);
}
