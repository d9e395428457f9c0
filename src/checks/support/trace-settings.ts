/**
 * SEC-005: the trace settings playwright.config.ts gives for a set of environment variables, read by evaluating the
 * config in a fresh process (the worker's own settings were fixed when it started).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../engine/config.js';
import { redact } from '../../secrets/redact.js';

/** Evaluates playwright.config.ts in a fresh process for a target and returns its trace settings. */
export function traceSettingsFor(env: NodeJS.ProcessEnv): Promise<{ trace: unknown; projects: unknown[] }> {
  const config = pathToFileURL(join(ROOT, 'playwright.config.ts')).href;
  const script =
    `const c = (await import(${JSON.stringify(config)})).default; ` +
    'process.stdout.write(JSON.stringify({ trace: c.use?.trace ?? null, ' +
    'projects: (c.projects ?? []).map((p) => p.use?.trace ?? null) }));';
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
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
