/**
 * TOKEN-006 (TF-08: GitHub, npm, Stripe and Slack token formats): syntactically plausible tokens of other vendors —
 * ghp_/gho_ and npm_ (30 random base62 + a 6-character CRC32 checksum), github_pat_ (22 + '_' + 59), sk_live_/
 * sk_test_/rk_live_ (Stripe), xoxb-/xoxp- (Slack), sk- (OpenAI style) — generated at runtime, never committed, and
 * with a deliberately WRONG checksum so checksum-aware secret scanners ignore them.
 */
import fc from 'fast-check';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

let table: Uint32Array | undefined;
function crc32(text: string): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  while (v > 0) {
    out = BASE62[v % 62]! + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

/** The 6-character checksum GitHub/npm append, made wrong by rotating its last character. */
export function wrongChecksum(random: string): string {
  const right = base62(crc32(random), 6);
  const last = right[5]!;
  return right.slice(0, 5) + BASE62[(BASE62.indexOf(last) + 1 + (random.length % 61)) % 62]!;
}

const chars = (alphabet: string, min: number, max = min): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });

export function vendorToken(): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .tuple(fc.constantFrom('ghp_', 'gho_', 'ghs_', 'npm_'), chars(ALNUM, 30))
      .map(([p, r]) => p + r + wrongChecksum(r)),
    fc.tuple(chars(ALNUM, 22), chars(`${ALNUM}_`, 53)).map(([a, b]) => `github_pat_${a}_${b}${wrongChecksum(a + b)}`),
    fc
      .tuple(
        fc.constantFrom('sk_live_', 'sk_test_', 'rk_live_', 'pk_live_'),
        fc.oneof(chars(ALNUM, 24), chars(ALNUM, 99)),
      )
      .map(([p, r]) => p + r),
    fc
      .tuple(
        fc.constantFrom('xoxb-', 'xoxp-'),
        chars('0123456789', 10, 13),
        chars('0123456789', 10, 13),
        chars(ALNUM, 24),
      )
      .map(([p, a, b, c]) => `${p}${a}-${b}-${c}`),
    chars(ALNUM, 48).map((r) => `sk-${r}`),
  );
}
