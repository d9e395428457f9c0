/**
 * Pattern strings kept across processes (SCHEMA-001…005, ERR-002/003 build on them): fast-check's `stringMatching`
 * costs 25–300 ms to build per pattern, in every Playwright worker of every run, while the string it gives for a
 * pattern, bounds and seed is a pure function of those, of fast-check's version and of the code that asks. Values
 * are kept in one JSON file whose name hashes the versions and that code, so an edit or an upgrade never reads an
 * old value; a damaged file is ignored. Processes add what they computed when they exit (merged with what others
 * wrote meanwhile, written atomically); a lost race only costs the next process the computation.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A string per key (null: no string was found), read from `file` on first use and written back on exit. */
export class StringCache {
  #values: Map<string, string | null> | undefined;
  #added = 0;

  constructor(readonly file: string) {}

  /** The cached value of `key`, else `compute()`'s (kept for the next process). */
  get(key: string, compute: () => string | undefined): string | undefined {
    const values = this.#load();
    const known = values.get(key);
    if (known !== undefined) return known ?? undefined;
    const value = compute();
    values.set(key, value ?? null);
    if (this.#added++ === 0) process.once('exit', () => this.save());
    return value;
  }

  /** Writes what this process added since its last save, merged with the file as it is now. */
  save(): void {
    if (this.#added === 0 || !this.#values) return;
    try {
      const merged = { ...readEntries(this.file), ...Object.fromEntries(this.#values) };
      mkdirSync(dirname(this.file), { recursive: true });
      const partial = `${this.file}.${process.pid}.partial`;
      writeFileSync(partial, JSON.stringify(merged));
      renameSync(partial, this.file);
      // Saved: the exit hook has nothing left to write (and never re-creates a folder removed since).
      this.#added = 0;
    } catch {
      // A read-only node_modules only costs the next process the computation.
    }
  }

  #load(): Map<string, string | null> {
    this.#values ??= new Map(Object.entries(readEntries(this.file)));
    return this.#values;
  }
}

/** The file's entries when it is an object of strings and nulls; {} when missing or damaged. */
function readEntries(file: string): Record<string, string | null> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const entries = Object.entries(parsed as Record<string, unknown>);
    return entries.every(([, v]) => v === null || typeof v === 'string')
      ? (parsed as Record<string, string | null>)
      : {};
  } catch {
    return {};
  }
}

/** A cache file name under `dir` naming `parts` (versions, source texts) by their hash. */
export function cacheFileFor(dir: string, name: string, parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return join(dir, `${name}-${hash.digest('hex').slice(0, 24)}.json`);
}
