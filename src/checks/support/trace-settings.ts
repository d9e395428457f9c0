/**
 * SEC-005: the trace settings playwright.config.ts gives for a set of environment variables, read by evaluating the
 * config in a fresh process (the worker's own settings were fixed when it started).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { CACHE_DIR, ROOT } from '../../engine/config.js';
import { redact } from '../../secrets/redact.js';

/** Each bundled .ts file keeps its own `import.meta.url`, so the config's paths (ROOT) are the same as from source. */
const ownImportMetaUrl: Plugin = {
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

let bundled: Promise<string> | undefined;

/**
 * playwright.config.ts and the modules it imports as one ESM file (esbuild, packages external), in the cache inside
 * the repository so that its packages resolve. A plain `node` evaluates it in ~0.1 s; through tsx's loader thread the
 * same evaluation took ~0.5 s, all of it on the conformance worker's path. Made once per worker, named by its content.
 */
function configBundle(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [join(ROOT, 'playwright.config.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      logLevel: 'silent',
      plugins: [ownImportMetaUrl],
    });
    const text = result.outputFiles[0]?.text ?? '';
    const file = join(CACHE_DIR, `sec-005-config-${createHash('sha256').update(text).digest('hex').slice(0, 24)}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(CACHE_DIR, { recursive: true });
      const partial = `${file}.${process.pid}.partial`;
      writeFileSync(partial, text);
      renameSync(partial, file);
    }
    return file;
  })();
  return bundled;
}

/** Evaluates playwright.config.ts in a fresh process for a target and returns its trace settings. */
export async function traceSettingsFor(env: NodeJS.ProcessEnv): Promise<{ trace: unknown; projects: unknown[] }> {
  let config: string;
  try {
    config = pathToFileURL(await configBundle()).href;
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new Error(`playwright.config.ts could not be bundled: ${redact(first ?? '')}`);
  }
  const script =
    `const c = (await import(${JSON.stringify(config)})).default; ` +
    'process.stdout.write(JSON.stringify({ trace: c.use?.trace ?? null, ' +
    'projects: (c.projects ?? []).map((p) => p.use?.trace ?? null) }));';
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: ROOT, env, timeout: 60_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const first = stderr.split('\n').find((l) => l.trim()) ?? error.message;
          reject(new Error(`playwright.config.ts could not be evaluated: ${redact(first)}`));
        } else resolve(JSON.parse(stdout) as { trace: unknown; projects: unknown[] });
      },
    );
  });
}
