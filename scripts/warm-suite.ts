/**
 * `tsx scripts/warm-suite.ts` (npm run test:integration runs it first): fills Playwright's transform cache — its babel
 * output for every TypeScript file a runner or a worker loads, kept in $TMPDIR/playwright-transform-cache-<uid> — with
 * one small suite run against the embedded mock (one rule, SEC-002; both projects' files load). Without it, on a fresh
 * machine the integration tests' first nine suite runs all start at once and each transforms the same ~100 files: a
 * run's runner then takes ~4.5 CPU-s instead of ~1.8 and its first worker ~9 instead of ~2.7 (the integration phase
 * took 181 s with a cold cache, 154 s with this warm-up and 130 s warm). Skipped when the cache folder exists and a
 * marker says this script already warmed these sources (a hash of the TypeScript files the suite loads and
 * Playwright's version). A failed warm-up run is reported and ignored: it only saves time, the integration tests judge
 * the suite. On a fresh machine its mock fills the mock's caches too (test:prepare runs `--prepare` after it), while
 * the runner and the worker transform the files: both at once instead of one after the other.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR, packageVersion, ROOT } from '../src/engine/config.js';
import { runWithEmbeddedMock, tail } from '../tests/integration/support/suite-runs.js';

/** Where Playwright keeps its transform cache (the suite runs of the tests get no PLAYWRIGHT_* variable). */
const transformCache = join(tmpdir(), `playwright-transform-cache-${process.geteuid?.() ?? ''}`);

/** The TypeScript files a suite run loads, with their contents, and Playwright's version: one hash. */
function sourcesHash(): string {
  const hash = createHash('sha256').update(packageVersion('playwright'));
  const files = ['playwright.config.ts'];
  for (const dir of ['src', join('tests', 'conformance')])
    for (const f of readdirSync(join(ROOT, dir), { recursive: true }))
      if (String(f).endsWith('.ts')) files.push(join(dir, String(f)));
  for (const f of files.sort())
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(join(ROOT, f)));
  return hash.digest('hex').slice(0, 24);
}

const marker = join(CACHE_DIR, `transform-warm-${sourcesHash()}`);
if (existsSync(marker) && existsSync(transformCache)) process.exit(0);

const started = Date.now();
const outDir = join(ROOT, 'node_modules', '.cache', `dynamic-conformance-warm-${process.pid}`);
const run = await runWithEmbeddedMock(outDir, ['test', '--workers=1', '-g', 'SEC-002 '], {
  FC_SEED: '1',
});
rmSync(outDir, { recursive: true, force: true });
if (run.code === 0) {
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  process.stdout.write(`Playwright's transform cache warm (one suite run, ${Date.now() - started} ms)\n`);
} else {
  process.stdout.write(`warm-suite: the warm-up run failed (the integration tests will say why):\n${tail(run, 10)}\n`);
}
