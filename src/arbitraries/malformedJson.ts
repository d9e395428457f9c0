/**
 * Texts that are not JSON (ERR-004): classic syntax errors, truncated and over-closed documents (also derived from
 * the operation's valid sample body) and lone fragments. Every value fails JSON.parse and is not blank.
 */
import fc from 'fast-check';

const CLASSIC = [
  '{',
  '}',
  '[1,2',
  '{"a":1,}',
  "{'a':1}",
  '{a:1}',
  'nul',
  'tru',
  '{"a":}',
  'NaN',
  'undefined',
  '{"a":1}}',
  '{"a" 1}',
  '{"a":01}',
  '"unterminated',
  ',',
  '{"a":"\\x41"}',
  '<json/>',
  '{"a":1 "b":2}',
  '[,]',
];

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function malformedJson(sample: unknown): fc.Arbitrary<string> {
  const valid = JSON.stringify(sample ?? {});
  return fc
    .oneof(
      fc.constantFrom(...CLASSIC),
      fc.integer({ min: 1, max: Math.max(1, valid.length - 1) }).map((n) => valid.slice(0, n)),
      fc.constantFrom('}', ',', ']', '"', ':', 'x').map((junk) => `${valid}${junk}`),
      fc
        .json()
        .chain((t) =>
          fc.integer({ min: 0, max: Math.max(0, t.length - 1) }).map((n) => t.slice(0, n) + (t.length > 1 ? '' : '{')),
        ),
    )
    .filter((t) => t.trim().length > 0 && !parses(t));
}
