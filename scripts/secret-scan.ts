/**
 * Secret scan (SEC-001 gate): `npm run secrets:scan -- [options] <dir|file>…`
 *
 * Looks for credential values in every file under the given paths — recursively, inside zip and gzip archives and
 * inside base64-embedded data (the Playwright HTML report embeds its data as a base64 zip in index.html; blob reports
 * carry attachments base64 in zipped JSON lines) — in every encoding: raw, base64, base64url, URL-encoded,
 * JSON-escaped and 12-character windows. Exit 0: no hit; 1: hits (listed as file:offset, value label and encoding,
 * never the value); 2: usage error.
 *
 * Values come from (all are combined; empty ones are ignored):
 *   SECRET_SCAN_VALUES     environment variable, values separated by newlines or commas
 *   --values-file <path>   one value per line
 *   --from-env A,B,…       names of environment variables holding the values (unset ones are ignored)
 * `--github-masks` prints `::add-mask::` lines for every derived encoding (only inside GitHub Actions) and exits.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { needlesFor, scanPaths, MIN_VALUE_LENGTH } from '../src/secrets/leaks.js';

interface Options {
  paths: string[];
  values: { label: string; value: string }[];
  githubMasks: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Options {
  const paths: string[] = [];
  const values: { label: string; value: string }[] = [];
  let githubMasks = false;
  const add = (label: string, raw: string | undefined): void => {
    const value = raw?.trim();
    if (!value) return;
    if (value.length < MIN_VALUE_LENGTH)
      throw new UsageError(`${label} is shorter than ${MIN_VALUE_LENGTH} characters; refusing to scan for it`);
    if (!values.some((v) => v.value === value)) values.push({ label, value });
  };
  (env.SECRET_SCAN_VALUES ?? '').split(/[\n,]/).forEach((v, i) => add(`SECRET_SCAN_VALUES[${i + 1}]`, v));
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--values-file') {
      const file = argv[(i += 1)];
      if (!file) throw new UsageError('--values-file needs a path');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new UsageError(`--values-file ${file} cannot be read`);
      }
      text.split(/\r?\n/).forEach((v, n) => add(`${file}:${n + 1}`, v));
    } else if (arg === '--from-env') {
      const names = argv[(i += 1)];
      if (!names) throw new UsageError('--from-env needs a comma-separated list of variable names');
      for (const name of names
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean))
        add(name, env[name]);
    } else if (arg === '--github-masks') {
      githubMasks = true;
    } else if (arg === '--help' || arg === '-h') {
      throw new UsageError('usage: secret-scan [--values-file <path>] [--from-env A,B] [--github-masks] <dir|file>…');
    } else if (arg.startsWith('--')) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      paths.push(arg);
    }
  }
  return { paths, values, githubMasks };
}

export function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
  err: (line: string) => void,
): number {
  let options: Options;
  try {
    options = parseArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`secret-scan: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (options.githubMasks) {
    if (env.GITHUB_ACTIONS !== 'true') {
      err(
        'secret-scan: --github-masks prints derived secret forms for ' +
          'the Actions runner to mask; it runs only inside GitHub ' +
          'Actions',
      );
      return 2;
    }
    for (const [i, v] of options.values.entries())
      for (const n of needlesFor(v.value, i)) if (n.encoding !== 'raw') out(`::add-mask::${n.bytes.toString('utf8')}`);
    out(`::notice::masked derived forms of ${options.values.length} secret value(s)`);
    return 0;
  }
  if (!options.values.length) {
    err('secret-scan: no values to scan for (set SECRET_SCAN_VALUES, or pass --values-file or --from-env)');
    return 2;
  }
  if (!options.paths.length) {
    err('secret-scan: give at least one directory or file to scan');
    return 2;
  }
  const { hits, stats, missing } = scanPaths(
    options.paths.map((p) => resolve(p)),
    options.values.map((v) => v.value),
  );
  for (const m of missing) err(`secret-scan: warning: ${m} does not exist (nothing scanned there)`);
  const summary =
    `${stats.files} files, ${stats.nested} nested archives/base64 blobs, ` +
    `${(stats.bytes / 1e6).toFixed(1)} MB, ${options.values.length} ` +
    `value(s)`;
  if (!hits.length) {
    out(`secret-scan: no secret found (${summary})`);
    return 0;
  }
  for (const h of hits) err(`${h.location}  ${options.values[h.value]?.label ?? `#${h.value + 1}`} (${h.encoding})`);
  err(`secret-scan: ${hits.length} hit(s) of secret values in ${summary} — do not publish these artifacts`);
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(
    process.argv.slice(2),
    process.env,
    (l) => process.stdout.write(`${l}\n`),
    (l) => process.stderr.write(`${l}\n`),
  );
}
