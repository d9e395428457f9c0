/**
 * npm run bench — writes bench/results.md. Everything is measured in the same run on this machine, so the ratios hold
 * on a noisy machine: the whole conformance run against the mock (both projects: wall time, generated requests/s),
 * side by side with the same run of a pinned baseline commit (alternating, same FC_SEED, same ports; the baseline is
 * checked out with `git archive` into a temporary folder with its own `npm ci`, reused by later benches), the
 * suite's HTTP client vs Playwright's request API against the same bare node:http server, the mock vs bare node:http
 * (via scripts/bench-mock.ts), and the fast mutation run. Medians over repeated runs, min–max shown.
 *
 *   npm run bench                       3 repetitions
 *   npm run bench -- --quick            1 repetition, shorter client runs
 *   npm run bench -- --baseline <rev>   the commit to compare with (default e52de2c)
 *   npm run bench -- --port <n>         MOCK_PORT of the conformance runs (default 4410; the run also uses n+1)
 *   npm run bench -- --no-mutants       skip the fast mutation runs (e.g. while a full mutation run uses
 *                                       mutants-report/)
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as playwrightRequest } from '@playwright/test';
import { HttpClient } from '../src/http/client.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const REPEATS = quick ? 1 : 3;
const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const BASELINE = flag('--baseline', 'e52de2c');
const PORT = flag('--port', '4410');
if (!/^[0-9a-f]{7,40}$/.test(BASELINE)) throw new Error(`--baseline must be a commit hash (got "${BASELINE}")`);
if (!/^\d{4,5}$/.test(PORT)) throw new Error(`--port must be a port number (got "${PORT}")`);
/** Same seed on both sides, so both generate the same cases. */
const FC_SEED = '20261201';

interface Stat {
  median: number;
  min: number;
  max: number;
}
function stat(values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}
const fmt = (s: Stat, digits = 0): string =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
): Promise<{ code: number; stdout: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', () => undefined);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, seconds: (performance.now() - t0) / 1000 }));
  });
}

interface ConformanceRun {
  seconds: number;
  requests: number;
  rules: number;
  code: number;
  counts: Record<string, string>;
}

/** `npx playwright test` in `dir` — both projects (conformance, rate-limit), as `npm run conformance` runs them. */
async function conformanceRun(dir: string, label: string, i: number): Promise<ConformanceRun> {
  const out = join(tmpdir(), `bench-conformance-${process.pid}-${label}-${i}`);
  const r = await run(
    'npx',
    ['playwright', 'test', '--reporter=./src/report/matrix-reporter.ts'],
    { CONFORMANCE_OUTPUT_DIR: out, MOCK_PORT: PORT, FC_SEED, CI: '' },
    dir,
  );
  const report = JSON.parse(readFileSync(join(out, 'conformance-report', 'report.json'), 'utf8')) as {
    counts: { requests: number };
    rules: { id: string; status: string; counts: Record<string, number> }[];
  };
  rmSync(out, { recursive: true, force: true });
  const counts = Object.fromEntries(report.rules.map((x) => [x.id, `${x.status} ${JSON.stringify(x.counts)}`]));
  return { seconds: r.seconds, requests: report.counts.requests, rules: report.rules.length, code: r.code, counts };
}

/** The baseline commit checked out with its own node_modules (made once, then reused). */
function baselineTree(commit: string): string {
  const dir = join(tmpdir(), `dynamic-conformance-baseline-${commit}`);
  if (existsSync(join(dir, 'node_modules', '.package-lock.json'))) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  process.stdout.write(`bench: checking out ${commit} into ${dir} (git archive + npm ci)…\n`);
  const archive = execFileSync('git', ['archive', '--format=tar', commit], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', partial], { input: archive });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: partial, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return dir;
}

/** One scripts/bench-mock.ts run: start-up ms and, per path, mock req/s, bare req/s and their ratio. */
async function mockRun(): Promise<{
  startupMs: number;
  paths: Map<string, { mock: number; bare: number; ratio: number }>;
  stdout: string;
  code: number;
}> {
  const r = await run(process.execPath, ['--import', 'tsx', 'scripts/bench-mock.ts']);
  const paths = new Map<string, { mock: number; bare: number; ratio: number }>();
  for (const m of r.stdout.matchAll(/^(\d{3}): mock (\d+) req\/s .* vs bare (\d+) req\/s .* = ([\d.]+)×/gm))
    paths.set(m[1]!, { mock: Number(m[2]), bare: Number(m[3]), ratio: Number(m[4]) });
  const startupMs = Number(/mock start-up: (\d+) ms/.exec(r.stdout)?.[1] ?? NaN);
  return { startupMs, paths, stdout: r.stdout, code: r.code };
}

/** Requests per second of one client against the same server for a fixed time. */
async function clients(seconds: number): Promise<{ suite: number; playwright: number; playwrightParallel: number }> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const measure = async (send: () => Promise<void>, concurrency: number): Promise<number> => {
    let n = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          await send();
          n += 1;
        }
      }),
    );
    return n / seconds;
  };
  const client = new HttpClient(
    {
      baseUrl: `${base}/api/v0`,
      requestBudget: Number.MAX_SAFE_INTEGER,
      rateLimited: { kind: 'none' },
      allowCredentialInUrl: false,
    },
    10,
  );
  const suite = await measure(async () => {
    await client.send({ method: 'GET', path: '/x', headers: [['authorization', 'Bearer x']] });
  }, 16);
  await client.close();
  const ctx = await playwrightRequest.newContext({ baseURL: base });
  const pwSend = async (): Promise<void> => {
    const res = await ctx.get('/api/v0/x', { headers: { authorization: 'Bearer x' } });
    await res.body();
    await res.dispose();
  };
  const playwright = await measure(pwSend, 1);
  const playwrightParallel = await measure(pwSend, 16);
  await ctx.dispose();
  await new Promise<void>((r) => server.close(() => r()));
  return { suite, playwright, playwrightParallel };
}

async function main(): Promise<void> {
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  const lines: string[] = [];
  const node = process.version;
  lines.push(
    '# Benchmark results',
    '',
    `Generated ${new Date().toISOString()} by \`npm run bench\`${quick ? ' --quick' : ''}.`,
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${node}. Each figure is the median of ${REPEATS} ` +
      `run(s), min–max in brackets; all measured in this one run. Load average (1/5/15 min) at the start: ` +
      loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ') +
      ` (other work on the machine slows both sides of a ratio alike).`,
    '',
  );

  process.stdout.write('bench: HTTP clients…\n');
  const c = [];
  for (let i = 0; i < REPEATS; i += 1) c.push(await clients(quick ? 2 : 3));
  const suite = stat(c.map((x) => x.suite));
  const pw = stat(c.map((x) => x.playwright));
  const pwPar = stat(c.map((x) => x.playwrightParallel));
  lines.push(
    '## Suite client vs Playwright request API',
    '',
    'Same bare node:http server on loopback, GET with an Authorization header.',
    '',
    '| client | req/s |',
    '|---|---|',
    `| suite client (undici pool, concurrency 16) | ${fmt(suite)} |`,
    `| Playwright request, sequential (as in a test) | ${fmt(pw)} |`,
    `| Playwright request, concurrency 16 | ${fmt(pwPar)} |`,
    '',
    `Ratio suite / Playwright sequential: **${(suite.median / pw.median).toFixed(1)}×** ` +
      `(goal ≥ 5×); vs Playwright concurrent: ${(suite.median / pwPar.median).toFixed(1)}` +
      `×.`,
    '',
  );

  process.stdout.write(`bench: full conformance runs, side by side with ${BASELINE}…\n`);
  const base = baselineTree(BASELINE);
  const runs: ConformanceRun[] = [];
  const baseRuns: ConformanceRun[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    baseRuns.push(await conformanceRun(base, 'baseline', i));
    runs.push(await conformanceRun(ROOT, 'current', i));
  }
  const wall = stat(runs.map((r) => r.seconds));
  const baseWall = stat(baseRuns.map((r) => r.seconds));
  const reqs = stat(runs.map((r) => r.requests));
  const baseReqs = stat(baseRuns.map((r) => r.requests));
  const rps = stat(runs.map((r) => r.requests / r.seconds));
  const pairRatios = stat(runs.map((r, i) => baseRuns[i]!.seconds / r.seconds));
  const ratio = baseWall.median / wall.median;
  // Verdicts (pass/fail/skip per rule) must match on the rules both trees have; outcome counts are shown, not
  // required to match (rules have gained cases since the baseline).
  const verdictOf = (r: ConformanceRun, id: string): string | undefined => r.counts[id]?.split(' ')[0];
  const shared = Object.keys(runs[0]!.counts).filter((id) => id in baseRuns[0]!.counts);
  const onlyHere = Object.keys(runs[0]!.counts).filter((id) => !(id in baseRuns[0]!.counts));
  const differing = shared.filter((id) => runs.some((r, i) => verdictOf(r, id) !== verdictOf(baseRuns[i]!, id)));
  const countsDiffer = shared.filter((id) => runs.some((r, i) => r.counts[id] !== baseRuns[i]!.counts[id]));
  lines.push(
    '## Whole conformance run against the mock, side by side with the baseline',
    '',
    `\`npx playwright test\` — both projects (\`conformance\` and the serial ` +
      `\`rate-limit\` on its own mock), every operation, every rule; Playwright start-up and ` +
      `the mocks' start included. Baseline: commit \`${BASELINE}\` (own checkout and \`npm ` +
      `ci\`), run alternately with this tree on the same ports with the same \`FC_SEED=` +
      `${FC_SEED}\`; warm caches on both sides (Playwright's transform cache; here also the ` +
      `precompiled schema validators).`,
    '',
    '| measure | this tree | baseline | baseline / this |',
    '|---|---|---|---|',
    `| wall time (s) | ${fmt(wall, 1)} | ${fmt(baseWall, 1)} | ` +
      `**${ratio.toFixed(2)}×** (per pair ${fmt(pairRatios, 2)}) ` +
      `|`,
    `| generated requests | ${fmt(reqs)} | ${fmt(baseReqs)} | ${(reqs.median / baseReqs.median).toFixed(3)} |`,
    `| requests/s over the wall time | ${fmt(rps)} | ${fmt(stat(baseRuns.map((r) => r.requests / r.seconds)))} | |`,
    `| rules reported | ${runs.map((r) => r.rules).join(', ')} | ${baseRuns.map((r) => r.rules).join(', ')} | |`,
    `| exit codes | ${runs.map((r) => r.code).join(', ')} | ${baseRuns.map((r) => r.code).join(', ')} | |`,
    '',
    `Same verdict as the baseline on each of the ${shared.length} rules both have, in every pair: ` +
      (differing.length ? `**no** — ${differing.join(', ')}` : '**yes**') +
      `. Rules only in this tree: ${onlyHere.join(', ') || 'none'}. Outcome counts differ on ${countsDiffer.length} ` +
      `shared rule(s) (their checks have more cases than at the baseline).`,
    `Goal ≥ 2× faster than ${BASELINE} with at least as many requests — ` +
      (ratio >= 2 && reqs.median >= baseReqs.median && !differing.length && runs.every((r) => r.code === 0)
        ? '**met**'
        : '**not met**') +
      `.`,
    '',
  );

  process.stdout.write('bench: mock vs bare node:http…\n');
  const mocks: Awaited<ReturnType<typeof mockRun>>[] = [];
  for (let i = 0; i < REPEATS; i += 1) mocks.push(await mockRun());
  const pathRows = ['200', '401', '429'].map((path) => {
    const seen = mocks.map((m) => m.paths.get(path)).filter((x) => x !== undefined);
    if (seen.length !== mocks.length)
      return `| ${path} | not measured (bench-mock exit codes ${mocks.map((m) => m.code).join(', ')}) | | | |`;
    const ratio = stat(seen.map((x) => x.ratio));
    return (
      `| ${path} | ${fmt(stat(seen.map((x) => x.mock)))} | ` +
      `${fmt(stat(seen.map((x) => x.bare)))} | **${fmt(ratio, 2)}×** | ` +
      (ratio.min >= 0.5 ? 'met' : 'not met') +
      ` |`
    );
  });
  lines.push(
    '## Mock vs bare node:http',
    '',
    `\`scripts/bench-mock.ts\` ${REPEATS}× (each: 3 s per path and server in ` +
      `alternating slices, concurrency 32). Goal: mock ≥ 0.5× bare node:http.`,
    '',
    '| path | mock req/s | bare req/s | mock / bare | goal (every run) |',
    '|---|---|---|---|---|',
    ...pathRows,
    '',
    `Mock start-up: ${fmt(stat(mocks.map((m) => m.startupMs)))} ms. Last run in full:`,
    '',
    '```',
    mocks[mocks.length - 1]!.stdout.trim(),
    '```',
    '',
  );

  if (process.argv.includes('--no-mutants'))
    lines.push('## Mutation run (fast set)', '', 'Not measured in this run (`--no-mutants`).', '');
  else {
    process.stdout.write('bench: fast mutation runs…\n');
    const mutantRuns = [];
    for (let i = 0; i < REPEATS; i += 1)
      mutantRuns.push(await run(process.execPath, ['--import', 'tsx', 'scripts/mutants.ts', '--fast']));
    const scores = mutantRuns.map((m) => /mutation score: (\d+\/\d+)/.exec(m.stdout)?.[1] ?? 'n/a');
    lines.push(
      '## Mutation run (fast set)',
      '',
      `\`npm run mutants:fast\` ${REPEATS}×: ${fmt(stat(mutantRuns.map((m) => m.seconds)), 1)} s wall; ` +
        `scores ${scores.join(', ')}; exit codes ` +
        mutantRuns.map((m) => m.code).join(', ') +
        `. The full harness (\`npm run mutants\`, every fault against its rule family) runs nightly; it is ` +
        `too long to repeat here.`,
      '',
    );
  }
  lines.push(
    `Load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')}.`,
    '',
  );
  writeFileSync(join(ROOT, 'bench', 'results.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n→ bench/results.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(2);
});
