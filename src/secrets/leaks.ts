/**
 * Leak detection (SEC-001): the encodings under which a credential could surface in an artifact, and a scanner that
 * looks for them in files, inside zip/gzip archives and inside base64-embedded data (the Playwright HTML report keeps
 * its data as a base64 zip inside index.html; blob reports keep attachments base64 inside zipped JSON lines).
 * Hits name a location and an encoding, never the value. Used by scripts/secret-scan.ts and the SEC-001 check.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync, unzipSync } from 'fflate';

/** One byte sequence to look for, derived from a value. */
export interface Needle {
  /** Index of the value (0-based) in the list given to needlesFor/scanPaths. */
  value: number;
  encoding: string;
  bytes: Buffer;
}

export interface Hit {
  /** file:offset, with '→ …' steps for content found inside archives or base64 data. */
  location: string;
  value: number;
  encoding: string;
}

/** Minimum length of a value and of any needle: shorter strings match by chance. */
export const MIN_VALUE_LENGTH = 8;
/** A leaked fragment this long is treated as the credential (a mutated or truncated token is still a token). */
export const WINDOW = 12;

/**
 * The stable middle of base64(prefix + value) for prefixes of 0, 1 and 2 bytes: whatever precedes the value in a
 * base64 stream, one of these three strings appears in it.
 */
function base64Alignments(value: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), value]).toString('base64');
    const skip = shift === 0 ? 0 : shift === 1 ? 2 : 3;
    const end = Math.floor((shift + value.length) / 3) * 4;
    out.push(encoded.slice(skip, end));
  }
  return out;
}

/** The part of a value whose fragments identify it: a JWT's signature (header and claims are shared by many JWTs). */
function identifyingPart(value: string): string {
  const parts = value.split('.');
  if (parts.length === 3 && value.startsWith('eyJ') && (parts[2]?.length ?? 0) >= WINDOW) return parts[2]!;
  return value;
}

/**
 * Every needle of one value: raw, base64 and base64url (three alignments each), URL-encoded, JSON-escaped, 12-char
 * windows.
 */
export function needlesFor(value: string, index: number): Needle[] {
  if (value.length < MIN_VALUE_LENGTH)
    throw new Error(
      `secret value #${index + 1} is shorter than ${MIN_VALUE_LENGTH} characters; refusing to scan for it`,
    );
  const seen = new Set<string>();
  const out: Needle[] = [];
  const add = (encoding: string, text: string): void => {
    if (text.length < MIN_VALUE_LENGTH || seen.has(text)) return;
    seen.add(text);
    out.push({ value: index, encoding, bytes: Buffer.from(text, 'utf8') });
  };
  add('raw', value);
  const bytes = Buffer.from(value, 'utf8');
  for (const b64 of base64Alignments(bytes)) {
    add('base64', b64);
    add('base64url', b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  add('url-encoded', encodeURIComponent(value));
  add('json-escaped', JSON.stringify(value).slice(1, -1));
  const core = identifyingPart(value);
  if (core !== value) add('jwt-signature', core);
  if (core.length > WINDOW)
    for (let i = 0; i + WINDOW <= core.length; i += 1) add(`${WINDOW}-char window`, core.slice(i, i + WINDOW));
  return out;
}

/** Needles of several values. */
export function needlesOf(values: readonly string[]): Needle[] {
  return values.flatMap((v, i) => needlesFor(v, i));
}

/** Finds needles in a string (for in-process checks); returns the encodings found, never the values. */
export function findInText(text: string, needles: readonly Needle[]): { value: number; encoding: string }[] {
  const found = new Map<string, { value: number; encoding: string }>();
  for (const { needle: n } of occurrences(Buffer.from(text, 'utf8'), needleIndex(needles)))
    found.set(`${n.value}:${n.encoding}`, { value: n.value, encoding: n.encoding });
  return [...found.values()];
}

/**
 * Needles grouped by their first four bytes (every needle has at least MIN_VALUE_LENGTH), for one pass per buffer;
 * `maybe` marks the 16-bit folds of those heads, so most positions are passed over without a map lookup.
 */
interface NeedleIndex {
  byHead: Map<number, Needle[]>;
  maybe: Uint8Array;
}

const indexes = new WeakMap<readonly Needle[], NeedleIndex>();

function headOf(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function needleIndex(needles: readonly Needle[]): NeedleIndex {
  let index = indexes.get(needles);
  if (index) return index;
  index = { byHead: new Map(), maybe: new Uint8Array(0x10000) };
  for (const n of needles) {
    const head = headOf(n.bytes, 0);
    const group = index.byHead.get(head);
    if (group) group.push(n);
    else index.byHead.set(head, [n]);
    index.maybe[(head ^ (head >>> 16)) & 0xffff] = 1;
  }
  indexes.set(needles, index);
  return index;
}

/**
 * Every occurrence of every needle, overlapping ones included (what one `indexOf` loop per needle finds), in one pass
 * over the buffer: hundreds of needles (a dozen values × ~50 encodings and windows) cost one read of the bytes, not
 * hundreds.
 */
function occurrences(buf: Buffer, index: NeedleIndex): { offset: number; needle: Needle }[] {
  const out: { offset: number; needle: Needle }[] = [];
  if (buf.length < MIN_VALUE_LENGTH || index.byHead.size === 0) return out;
  let head = headOf(buf, 0);
  for (let at = 0; at + MIN_VALUE_LENGTH <= buf.length; at += 1) {
    if (at > 0) head = ((head >>> 8) | (buf[at + 3]! << 24)) >>> 0;
    if (index.maybe[(head ^ (head >>> 16)) & 0xffff] === 0) continue;
    const group = index.byHead.get(head);
    if (group === undefined) continue;
    for (const needle of group) {
      const end = at + needle.bytes.length;
      if (end <= buf.length && buf.compare(needle.bytes, 0, needle.bytes.length, at, end) === 0)
        out.push({ offset: at, needle });
    }
  }
  return out;
}

const MAX_DEPTH = 6;
const BASE64_RUN = /[A-Za-z0-9+/_-]{40,}={0,2}/g;

function isZip(b: Uint8Array): boolean {
  return b.length > 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

function isGzip(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0x1f && b[1] === 0x8b;
}

/** True when decoded bytes are worth scanning further: an archive, or mostly printable text. */
function meaningful(b: Buffer): boolean {
  if (isZip(b) || isGzip(b)) return true;
  const sample = b.subarray(0, 1024);
  if (sample.length < 16) return false;
  let printable = 0;
  for (const c of sample) if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127)) printable += 1;
  return printable / sample.length >= 0.9;
}

export interface ScanStats {
  files: number;
  nested: number;
  bytes: number;
}

/** Scans one buffer (and whatever archives or base64 data it contains) for the needles. */
export function scanBuffer(
  buf: Buffer,
  where: string,
  needles: readonly Needle[],
  hits: Hit[],
  stats: ScanStats,
  depth = 0,
): void {
  stats.bytes += buf.length;
  const local = occurrences(buf, needleIndex(needles));
  // Overlapping windows and encodings of one occurrence are reported once (the first, longest-lived form).
  local.sort((a, b) => a.offset - b.offset || b.needle.bytes.length - a.needle.bytes.length);
  const lastEnd = new Map<number, number>();
  for (const { offset, needle } of local) {
    if ((lastEnd.get(needle.value) ?? -1) > offset) continue;
    lastEnd.set(needle.value, offset + needle.bytes.length);
    hits.push({ location: `${where}:${offset}`, value: needle.value, encoding: needle.encoding });
  }
  if (depth >= MAX_DEPTH) return;
  if (isZip(buf)) {
    try {
      const entries = unzipSync(buf);
      for (const [name, data] of Object.entries(entries)) {
        stats.nested += 1;
        scanBuffer(Buffer.from(data), `${where} → zip:${name}`, needles, hits, stats, depth + 1);
      }
      return;
    } catch {
      // not a readable zip: scan it as plain bytes (done above)
    }
  }
  if (isGzip(buf)) {
    try {
      stats.nested += 1;
      scanBuffer(Buffer.from(gunzipSync(buf)), `${where} → gunzip`, needles, hits, stats, depth + 1);
      return;
    } catch {
      // not gzip after all
    }
  }
  const text = buf.toString('latin1');
  for (const match of text.matchAll(BASE64_RUN)) {
    const run = match[0];
    for (let shift = 0; shift < 4 && shift < run.length - 32; shift += 1) {
      const decoded = Buffer.from(run.slice(shift), run.includes('-') || run.includes('_') ? 'base64url' : 'base64');
      if (!meaningful(decoded)) continue;
      stats.nested += 1;
      scanBuffer(decoded, `${where}:${match.index + shift} → base64`, needles, hits, stats, depth + 1);
      break;
    }
  }
}

/** Every regular file under the given paths (directories recursively; symbolic links are not followed). */
export function filesUnder(paths: readonly string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      missing.push(p);
      return;
    }
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) for (const name of readdirSync(p).sort()) walk(join(p, name));
    else if (st.isFile()) files.push(p);
  };
  for (const p of paths) walk(p);
  return { files, missing };
}

/** Scans files and directories (recursively, archives and base64 data included) for the values' needles. */
export function scanPaths(
  paths: readonly string[],
  values: readonly string[],
  base = process.cwd(),
): { hits: Hit[]; stats: ScanStats; missing: string[] } {
  const needles = needlesOf(values);
  const hits: Hit[] = [];
  const stats: ScanStats = { files: 0, nested: 0, bytes: 0 };
  const { files, missing } = filesUnder(paths);
  for (const file of files) {
    stats.files += 1;
    const shown = relative(base, file) || file;
    scanBuffer(
      Buffer.from(shown, 'utf8'),
      `${shown} (file name)`,
      needles,
      hits,
      { files: 0, nested: 0, bytes: 0 },
      MAX_DEPTH,
    );
    scanBuffer(readFileSync(file), shown, needles, hits, stats);
  }
  return { hits, stats, missing };
}
