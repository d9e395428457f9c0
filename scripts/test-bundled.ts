/**
 * `tsx scripts/test-bundled.ts [node --test options] <file.test.ts …>` (npm run test:unit, test:integration): node's
 * test runner over esbuild bundles of the given test files (mock/bundle.mjs), one process per file as before. Under
 * `node --import tsx --test` every test process loaded each of its TypeScript files through tsx's loader thread,
 * ~0.5–1.6 CPU-s per file; a bundle loads as one module. Each file keeps its own `import.meta.url`, stack traces map
 * back to the .ts files (inline source maps, --enable-source-maps), and the bundles live in
 * node_modules/.cache/dynamic-conformance-tests/run-<pid>/ (removed afterwards). Arguments ending in `.ts` are the
 * files, started in the order given (each once; `node --test` itself sorts by name); the rest go to `node --test`
 * unchanged. One file by hand, from source: `node --import tsx --test tests/unit/<name>.test.ts`.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { bundle } from '../mock/bundle.mjs';
import { ROOT } from '../src/engine/config.js';

const args = process.argv.slice(2);
const files = [...new Set(args.filter((a) => a.endsWith('.ts')).map((a) => resolve(a)))];
const options = args.filter((a) => !a.endsWith('.ts'));
if (files.length === 0) {
  process.stderr.write('test-bundled: name the test files (tests/unit/*.test.ts)\n');
  process.exit(2);
}

const outdir = join(ROOT, 'node_modules', '.cache', 'dynamic-conformance-tests', `run-${process.pid}`);
// node --test runs its files in name order: a number in front keeps the order given (the longest files first).
const entryPoints = files.map((f, i) => ({ in: f, out: `${String(i).padStart(2, '0')}-${basename(f, '.ts')}` }));
const built = await bundle({ entryPoints, outdir, sourcemap: true });
if ('errors' in built) {
  for (const line of built.errors) process.stderr.write(`test-bundled: cannot bundle the tests: ${line}\n`);
  process.exit(2);
}
const bundles = entryPoints.map((e) => join(outdir, `${e.out}.mjs`));

const child = spawn(process.execPath, ['--enable-source-maps', '--test', ...options, ...bundles], {
  cwd: ROOT,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.once('exit', (code, signal) => {
  rmSync(outdir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
