/**
 * Bodies built to break parsers rather than schemas (ERR-011): JSON nested deeper than 64 levels, numbers beyond
 * double range, invalid UTF-8 byte sequences, prototype-pollution keys, duplicate keys, lone surrogates, a BOM,
 * wide arrays, and non-object roots. A server may reject any of them, but only with a 4xx.
 */
import fc from 'fast-check';

export interface HostileBody {
  label: string;
  body: string | Buffer;
}

/** `{"a":{"a":…}}` or `[[…]]` nested `depth` levels deep. */
export function nestedJson(depth: number, shape: 'object' | 'array'): string {
  return shape === 'object'
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** Byte sequences that are not valid UTF-8 (overlong, lone continuation, truncated, surrogate, out of range). */
const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
];

export function hostileBody(sample: unknown): fc.Arbitrary<HostileBody> {
  const valid = JSON.stringify(sample ?? {});
  return fc.oneof(
    fc
      .tuple(fc.integer({ min: 65, max: 5000 }), fc.constantFrom<'object' | 'array'>('object', 'array'))
      .map(([d, s]): HostileBody => ({ label: `JSON nested ${d} levels (${s}s)`, body: nestedJson(d, s) })),
    fc
      .constantFrom(
        '1e999999',
        '-1e999999',
        '9'.repeat(400),
        '0.' + '0'.repeat(400) + '1',
        '1e-999999',
        '123456789012345678901234567890',
      )
      .map((n): HostileBody => ({
        label: `number ${n.slice(0, 20)}${n.length > 20 ? '…' : ''}`,
        body: `{"value":${n},"amount":${n}}`,
      })),
    fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.boolean()).map(([bytes, inString]): HostileBody => ({
      label: `invalid UTF-8 bytes ${bytes.map((b) => b.toString(16)).join(' ')}${inString ? ' in a string' : ''}`,
      body: Buffer.concat([
        Buffer.from(inString ? '{"name":"' : '{"'),
        Buffer.from(bytes),
        Buffer.from(inString ? '"}' : '":1}'),
      ]),
    })),
    fc.constantFrom(
      {
        label: 'prototype-pollution keys',
        body: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      },
      { label: 'duplicate keys', body: '{"a":1,"a":{"b":2},"a":[3]}' },
      { label: 'lone surrogate escapes', body: '{"name":"\\ud800","other":"\\udfff\\u0000"}' },
      { label: 'byte-order mark before the sample', body: `\ufeff${valid}` },
      { label: 'root null', body: 'null' },
      { label: 'root string', body: '"just a string"' },
      { label: 'root number', body: '0' },
      { label: 'wide array (20k items)', body: `[${'0,'.repeat(20_000)}0]` },
      { label: 'sample with control characters in strings', body: valid.replace(/"([^"]*)"/, '"\\u0000\\u001f$1"') },
    ),
  );
}
