/** SEC-001's leak scanner: its one pass over all needles finds exactly what one indexOf loop per needle finds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findInText, needlesOf, scanBuffer, type Hit } from '../../src/secrets/leaks.js';

const SEED = Number(process.env.FC_SEED ?? 11);

/** The reference: every occurrence of every needle by indexOf, reduced like scanBuffer (one hit per occurrence). */
function naiveOffsets(buf: Buffer, needles: ReturnType<typeof needlesOf>): string[] {
  const all: { offset: number; len: number; value: number; encoding: string }[] = [];
  for (const n of needles)
    for (let at = buf.indexOf(n.bytes); at !== -1; at = buf.indexOf(n.bytes, at + 1))
      all.push({ offset: at, len: n.bytes.length, value: n.value, encoding: n.encoding });
  all.sort((a, b) => a.offset - b.offset || b.len - a.len);
  const lastEnd = new Map<number, number>();
  const out: string[] = [];
  for (const o of all) {
    if ((lastEnd.get(o.value) ?? -1) > o.offset) continue;
    lastEnd.set(o.value, o.offset + o.len);
    out.push(`f:${o.offset} ${o.value} ${o.encoding}`);
  }
  return out;
}

test('scanBuffer and findInText agree with one indexOf loop per needle (raw, base64, fragments, noise)', () => {
  const values = [
    'dyn_Q7xQ7xQ7xQ7xQ7xQ7xQ7xQ7xQ7xab12',
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
  ];
  const needles = needlesOf(values);
  const piece = fc.oneof(
    fc.constantFrom(...values),
    fc.constantFrom(...values).map((v) => Buffer.from(`x${v}`).toString('base64')),
    fc.tuple(fc.constantFrom(...values), fc.nat(20)).map(([v, i]) => v.slice(i, i + 14)),
    fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
      const text = pieces.join('');
      const buf = Buffer.from(text, 'latin1');
      const hits: Hit[] = [];
      // Depth 6: the raw bytes only (no base64 decoding), like the reference.
      scanBuffer(buf, 'f', needles, hits, { files: 0, nested: 0, bytes: 0 }, 6);
      assert.deepEqual(
        hits.map((h) => `${h.location} ${h.value} ${h.encoding}`),
        naiveOffsets(buf, needles),
      );
      const utf8 = Buffer.from(text, 'utf8');
      const expected = new Set(needles.filter((n) => utf8.includes(n.bytes)).map((n) => `${n.value}:${n.encoding}`));
      assert.deepEqual(new Set(findInText(text, needles).map((f) => `${f.value}:${f.encoding}`)), expected);
    }),
    { seed: SEED, numRuns: 300 },
  );
});
