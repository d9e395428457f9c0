/**
 * `npm run baseline:write -- [report.json | folder] [--out conformance.baseline.json] [--days 90] [--force]`
 * Writes today's failures of a report.json (default conformance-report/report.json) as a starting known-deviations
 * file: one entry per failing rule with its failing operations, the first failure's reason, owner "unassigned" and
 * an expiry 90 days ahead — set the owner, the link and the date before committing it. The file is validated
 * against schemas/meta/baseline.schema.json before it is written. Exit 0 written, 1 nothing to write, 2 usage error.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ROOT } from '../src/engine/config.js';
import { SchemaRegistry } from '../src/engine/schemas.js';
import { baselineFromReport, parseBaseline } from '../src/nightly/baseline.js';
import { NightlyInputError, parsePrevious, previousReportFile } from '../src/nightly/inputs.js';

class UsageError extends Error {}

function main(argv: string[]): number {
  let input = 'conformance-report/report.json';
  let out = 'conformance.baseline.json';
  let days = 90;
  let force = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--out') out = argv[(i += 1)] ?? '';
    else if (arg === '--days') days = Number(argv[(i += 1)]);
    else if (arg === '--force') force = true;
    else if (arg === '--help' || arg === '-h')
      throw new UsageError('usage: baseline:write [report.json | folder] [--out file] [--days N] [--force]');
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else input = arg;
  }
  if (!out) throw new UsageError('--out needs a file name');
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new UsageError('--days must be a whole number of days between 1 and 3650');
  const file = previousReportFile(resolve(input));
  if (!existsSync(file))
    throw new UsageError(`no report at ${file}: run the suite first (npm run conformance) or name a report.json`);
  const report = parsePrevious(relative(process.cwd(), file) || file, readFileSync(file, 'utf8'));
  const today = new Date().toISOString().slice(0, 10);
  const baseline = baselineFromReport(report, today, days);
  if (!baseline.deviations.length) {
    process.stdout.write(`${file}: no failing rule — nothing to write\n`);
    return 1;
  }
  const target = resolve(out);
  if (existsSync(target) && !force)
    throw new UsageError(`${out} exists; pass --force to overwrite it (or --out another file)`);
  const text = `${JSON.stringify({ $schema: './schemas/meta/baseline.schema.json', ...baseline }, null, 2)}\n`;
  // The same validation the suite applies when it reads the file (schemas/meta only: a small registry, one ajv).
  const registry = new SchemaRegistry(join(ROOT, 'schemas', 'meta'));
  parseBaseline(out, text, (id, v) => registry.validate(id, v));
  writeFileSync(target, text);
  process.stdout.write(
    `wrote ${out}: ${baseline.deviations.length} known deviation(s) (` +
      baseline.deviations.map((d) => d.rule).join(', ') +
      `), expiring ${baseline.deviations[0]!.expires}\n` +
      ('Set owner, link and expires for each entry, then commit it; ' +
        'CONFORMANCE_BASELINE (default conformance.baseline.json) reads ' +
        'it.\n'),
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof NightlyInputError || (error as Error).name === 'BaselineError') {
    process.stderr.write(`baseline:write: ${(error as Error).message}\n`);
    process.exitCode = 2;
  } else throw error;
}
