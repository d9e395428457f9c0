// @ts-check
/**
 * esbuild bundles of this repository's TypeScript, for processes that would otherwise load every file through tsx's
 * loader thread (~0.6–0.9 CPU-s per process): the mock's entry points (mock/run.mjs) and the node:test files
 * (scripts/test-bundled.ts). Packages stay external, so a bundle must live inside the repository (under node_modules/)
 * to resolve them. Every file keeps its own `import.meta.url` (the .ts file's URL), so paths computed from it (specs/,
 * schemas/, caches, a file reading its own source) are the same as under tsx.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Bundles each entry point into `outdir` (as `<out>.mjs` for `{ in, out }` entries) or into memory (no outdir).
 * Resolves with the output files, or with one readable line per error (file:line: message).
 * @param {{ entryPoints: (string | { in: string, out: string })[], outdir?: string, sourcemap?: boolean }} options
 * @returns {Promise<{ files: { path: string, text: string }[] } | { errors: string[] }>}
 */
export async function bundle({ entryPoints, outdir, sourcemap = false }) {
  const esbuild = await import('esbuild');
  /** @type {import('esbuild').Plugin} */
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replaceAll(
          'import.meta.url',
          JSON.stringify(pathToFileURL(args.path).href),
        ),
        loader: 'ts',
      }));
    },
  };
  try {
    const result = await esbuild.build({
      entryPoints,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: outdir !== undefined,
      ...(outdir === undefined ? {} : { outdir, outExtension: { '.js': '.mjs' } }),
      ...(sourcemap ? { sourcemap: 'inline' } : {}),
      logLevel: 'silent',
      plugins: [ownUrl],
    });
    return { files: (result.outputFiles ?? []).map((f) => ({ path: f.path, text: f.text })) };
  } catch (error) {
    const failure = /** @type {Partial<import('esbuild').BuildFailure>} */ (error);
    const lines = failure.errors?.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ` : '') + m.text);
    return { errors: lines ?? [String(error)] };
  }
}
