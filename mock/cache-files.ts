/**
 * The mock's caches under node_modules/.cache/dynamic-conformance-mock/ (under node_modules, so the precompiled
 * validators' `require("ajv/…")` lines resolve): precompiled validators (schemas.ts) and derived signing keys
 * (keys.ts). Each file's name hashes everything its content depends on, so a stale file is never read.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MOCK_CACHE_DIR = fileURLToPath(
  new URL('../node_modules/.cache/dynamic-conformance-mock/', import.meta.url),
);

/**
 * Writes a cache file atomically (mocks starting at once may race; the same content wins either way). A read-only
 * node_modules only costs the next mock the work again.
 */
export function writeCacheFile(file: string, content: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, content);
    renameSync(partial, file);
  } catch {
    // see above
  }
}
