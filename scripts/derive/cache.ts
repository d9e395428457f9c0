/**
 * A read-through cache for what the derivation reads from its sources (the clients' TypeScript, the official YAML):
 * node_modules/.cache/dynamic-conformance-derive/<name>-<key>.v8. The key is a hash of everything the result
 * depends on (the source bytes and the reader's own code), so an edit to either reads afresh; specs:check still
 * compares a full derivation with the committed files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/dynamic-conformance-derive/', import.meta.url));

/** A sha256 over the parts, each length-prefixed. */
export function keyOf(parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`\u0000${part.length}\u0000`).update(part);
  return hash.digest('hex').slice(0, 24);
}

/**
 * The cached value of `name` under `key`, or `compute()`'s, written for next time. Stored with v8.serialize: Maps,
 * undefined-valued keys and every other structured-clone type come back exactly as computed.
 */
export function cached<T>(name: string, key: string, compute: () => T): T {
  const file = join(CACHE_DIR, `${name}-${key}.v8`);
  if (existsSync(file)) {
    try {
      return deserialize(readFileSync(file)) as T;
    } catch {
      // unreadable (a torn write from another process, another node version): computed afresh below
    }
  }
  const value = compute();
  mkdirSync(CACHE_DIR, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, serialize(value));
  renameSync(partial, file);
  return value;
}
