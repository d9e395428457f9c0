// @ts-check
/**
 * `node mock/run.mjs <entry>.ts [args]` runs one of the mock's entry points (server.ts, simulator.ts, selfcheck.ts)
 * from one esbuild bundle of mock/*.ts (mock/bundle.mjs), kept in
 * node_modules/.cache/dynamic-conformance-mock/bundles/. Loading the TypeScript files one by one through tsx's loader
 * thread cost ~0.85 CPU-s per mock start; the bundle starts the same mock in about half the CPU. The bundle's name
 * hashes mock/'s path, every mock/*.ts file, this file, bundle.mjs and esbuild's version: an edit makes a new bundle.
 * `node --import tsx mock/<entry>.ts` runs the same code from source (stack traces into the .ts files).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundle } from './bundle.mjs';

const MOCK_DIR = fileURLToPath(new URL('.', import.meta.url));
/** The mock's cache directory (mock/cache-files.ts has the same one for the validators and keys). */
const BUNDLE_DIR = fileURLToPath(new URL('../node_modules/.cache/dynamic-conformance-mock/bundles/', import.meta.url));
const ENTRIES = ['server.ts', 'simulator.ts', 'selfcheck.ts'];

const entry = process.argv[2] ?? '';
if (!ENTRIES.includes(entry)) {
  process.stderr.write(`mock/run.mjs: the first argument names the entry point: one of ${ENTRIES.join(', ')}\n`);
  process.exit(2);
}
// The entry sees the arguments after its name, as under `node --import tsx mock/<entry>`.
process.argv.splice(1, 2, join(MOCK_DIR, entry));

const sources = readdirSync(MOCK_DIR)
  .filter((f) => f.endsWith('.ts'))
  .sort();
// The bundle holds each file's own URL, so where mock/ is counts too.
const hash = createHash('sha256').update(`${MOCK_DIR}\0`);
// esbuild's package.json names its version.
hash.update(readFileSync(fileURLToPath(new URL('../node_modules/esbuild/package.json', import.meta.url))));
hash.update(readFileSync(fileURLToPath(import.meta.url)));
hash.update(readFileSync(join(MOCK_DIR, 'bundle.mjs')));
for (const f of sources) hash.update(`${f}\0${readFileSync(join(MOCK_DIR, f), 'utf8')}\0`);
const bundleFile = join(BUNDLE_DIR, `${entry.replace(/\.ts$/, '')}-${hash.digest('hex').slice(0, 24)}.mjs`);

// Without a bundle on disk (a read-only node_modules), the entry runs from source through tsx.
const runnable = existsSync(bundleFile) || (await build()) ? bundleFile : await fromSource();
await import(pathToFileURL(runnable).href);

async function fromSource() {
  (await import('tsx/esm/api')).register();
  return join(MOCK_DIR, entry);
}

/**
 * Bundles the entry; true once the bundle is on disk (written atomically: mocks starting at once may race, the same
 * content wins either way).
 */
async function build() {
  const built = await bundle({ entryPoints: [join(MOCK_DIR, entry)] });
  if ('errors' in built) {
    for (const line of built.errors) process.stderr.write(`mock/run.mjs: cannot bundle mock/${entry}: ${line}\n`);
    process.exit(2);
  }
  try {
    mkdirSync(BUNDLE_DIR, { recursive: true });
    const partial = `${bundleFile}.${process.pid}.partial`;
    writeFileSync(partial, built.files[0]?.text ?? '');
    renameSync(partial, bundleFile);
    return true;
  } catch {
    return false;
  }
}
