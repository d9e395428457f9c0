// @ts-check
/**
 * `node mock/run.mjs <entry>.ts [args]` runs one of the mock's entry points (server.ts, simulator.ts, selfcheck.ts)
 * from one esbuild bundle of mock/*.ts, kept in node_modules/.cache/dynamic-conformance-mock/bundles/. Loading the
 * TypeScript files one by one through tsx's loader thread cost ~0.85 CPU-s per mock start; the bundle starts the same
 * mock in about half the CPU. Packages stay external (resolved from node_modules as before) and every file's
 * `import.meta.url` is its own source file's, so the mock finds specs/, schemas/ and its caches exactly as under tsx.
 * The bundle's name hashes mock/'s path, every mock/*.ts file, this file and esbuild's version: an edit makes a new
 * bundle. `node --import tsx mock/<entry>.ts` runs the same code from source (stack traces into the .ts files).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
for (const f of sources) hash.update(`${f}\0${readFileSync(join(MOCK_DIR, f), 'utf8')}\0`);
const bundle = join(BUNDLE_DIR, `${entry.replace(/\.ts$/, '')}-${hash.digest('hex').slice(0, 24)}.mjs`);

// Without a bundle on disk (a read-only node_modules), the entry runs from source through tsx.
const runnable = existsSync(bundle) || (await build()) ? bundle : await fromSource();
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
  const esbuild = await import('esbuild');
  /** @type {import('esbuild').Plugin} */
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replaceAll(
          'import.meta.url',
          JSON.stringify(pathToFileURL(args.path).href),
        ),
        loader: 'ts',
      }));
    },
  };
  let output;
  try {
    const result = await esbuild.build({
      entryPoints: [join(MOCK_DIR, entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      logLevel: 'silent',
      plugins: [ownUrl],
    });
    output = result.outputFiles[0]?.text ?? '';
  } catch (error) {
    const failure = /** @type {Partial<import('esbuild').BuildFailure>} */ (error);
    const lines = failure.errors?.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ` : '') + m.text);
    for (const line of lines ?? [String(error)])
      process.stderr.write(`mock/run.mjs: cannot bundle mock/${entry}: ${line}\n`);
    process.exit(2);
  }
  try {
    mkdirSync(BUNDLE_DIR, { recursive: true });
    const partial = `${bundle}.${process.pid}.partial`;
    writeFileSync(partial, output);
    renameSync(partial, bundle);
    return true;
  } catch {
    return false;
  }
}
