/**
 * npm run mutants — the suite's mutation kill score. Every named fault of the mock (specs/faults.json) gets its own
 * mock instance — all of them served by ONE mock process (`MOCK_INSTANCES`, one port per fault, plus clean ones) —
 * and ONE Playwright invocation (tests/mutants/) runs each fault's whole rule family against its instance, and the
 * same rules against the clean instances, all in parallel. A fault is killed when its own rule fails on its instance.
 * Writes mutants-report/report.json and prints fault → expected rule → killed? → by which rules.
 * Exits non-zero if a fault survives, if a fault is killed only by unrelated rules, or if the clean mock fails any
 * rule.
 *
 *   npm run mutants                 all faults, each against its whole rule family
 *   npm run mutants -- --fast       the faults marked fast, own rule only (npm test runs these)
 *   npm run mutants -- --only a,b   the named faults
 *   npm run mutants -- --per-rule   every fault, but only its own rule's test (faster; cannot see unrelated-only kills)
 *   npm run mutants -- --workers N  Playwright workers (default: the number of CPUs, at least 2)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MUTANTS_OUT as OUT,
  PLAN_FILE,
  ROOT,
  VERDICT_ANNOTATION,
  type MutantVerdict,
  type MutantsPlan,
  type PlanRun,
} from './mutants/plan.js';
import { freePorts } from './free-ports.js';

const FAMILIES = ['AUTH', 'TOKEN', 'JWT', 'ERR', 'SCHEMA', 'RATE', 'OBJ'];
const RATE = 'RATE';

interface Fault {
  id: string;
  rule: string;
  description: string;
  fast?: boolean;
}
interface Rule {
  id: string;
}
interface Row {
  fault: string;
  expected: string;
  killed: boolean;
  by: string[];
  verdict: 'killed' | 'survived' | 'unrelated-only' | 'error';
  seconds: number;
  note?: string;
}

function fail(message: string): never {
  process.stderr.write(`mutants: ${message}\n`);
  process.exit(2);
}

function parseArgs(): { fast: boolean; perRule: boolean; only: string[] | undefined; workers: number } {
  const args = process.argv.slice(2);
  const fast = args.includes('--fast');
  const perRule = fast || args.includes('--per-rule');
  const i = args.indexOf('--only');
  const only =
    i >= 0
      ? (args[i + 1] ?? fail('--only needs a comma-separated list of fault ids')).split(',').filter(Boolean)
      : undefined;
  const w = args.indexOf('--workers');
  const workersArg = w >= 0 ? (args[w + 1] ?? fail('--workers needs a number')) : undefined;
  if (workersArg !== undefined && !/^[1-9]\d?$/.test(workersArg))
    fail(`--workers must be a whole number 1-99 (got "${workersArg}")`);
  const known = new Set([
    '--fast',
    '--per-rule',
    '--only',
    '--workers',
    ...(i >= 0 ? [args[i + 1]] : []),
    ...(w >= 0 ? [args[w + 1]] : []),
  ]);
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length)
    fail(`unknown argument(s): ${unknown.join(' ')} (use --fast, --per-rule, --only <ids> or --workers <n>)`);
  return { fast, perRule, only, workers: workersArg !== undefined ? Number(workersArg) : Math.max(2, cpus().length) };
}

/** Starts the one mock process serving every instance; resolves when each port printed its listening line. */
function startMock(instances: { port: number; faults: string[] }[]): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MOCK_')) env[k] = v;
  const child = spawn(process.execPath, ['mock/run.mjs', 'server.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      MOCK_INSTANCES: instances.map((i) => `${i.port}:${i.faults.join('+')}`).join(','),
      MOCK_CONTROL: 'on',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`the mock did not start ${instances.length} instances within 60 s: ${stderr.slice(0, 500)}`)),
      60_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if ((stdout.match(/listening on /g) ?? []).length >= instances.length) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the mock exited with code ${String(code)}: ${stderr.slice(0, 500)}`));
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** Each instance must answer with exactly the faults the plan says it has (a wrong port would fake kills). */
async function verifyInstances(runs: PlanRun[]): Promise<void> {
  await Promise.all(
    runs.map(async (run) => {
      const origin = new URL(run.apiUrl).origin;
      const res = await fetch(`${origin}/__mock/faults`);
      const faults = ((await res.json()) as { faults: string[] }).faults;
      if (JSON.stringify([...faults].sort()) !== JSON.stringify([...run.faults].sort()))
        throw new Error(
          `the instance at ${origin} has faults [${faults.join(', ')}], expected [${run.faults.join(', ')}]`,
        );
    }),
  );
}

interface PwTest {
  annotations?: { type: string; description?: string }[];
  results: { status: string; duration: number; error?: { message?: string } }[];
}
interface PwSuite {
  title: string;
  suites?: PwSuite[];
  specs?: { title: string; tests: PwTest[] }[];
}

/** The verdict of every (run, rule) test in Playwright's JSON report; a test that errored counts as a failed rule. */
function verdicts(file: string): { verdicts: MutantVerdict[]; seconds: Map<string, number> } {
  if (!existsSync(file)) throw new Error(`Playwright wrote no JSON report at ${file}`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as { suites: PwSuite[]; errors?: { message?: string }[] };
  if (report.errors?.length)
    throw new Error(
      `the mutation run could not start: ${report.errors
        .map((e) => e.message ?? '')
        .join('; ')
        .slice(0, 1000)}`,
    );
  const out: MutantVerdict[] = [];
  const seconds = new Map<string, number>();
  const walk = (suite: PwSuite): void => {
    for (const s of suite.suites ?? []) walk(s);
    for (const spec of suite.specs ?? []) {
      const m = /^(.+) › ([A-Z]+-\d+)$/.exec(spec.title);
      if (!m) continue;
      for (const t of spec.tests) {
        const result = t.results[t.results.length - 1];
        const seen = t.annotations?.find((a) => a.type === VERDICT_ANNOTATION);
        seconds.set(m[1]!, (seconds.get(m[1]!) ?? 0) + (result?.duration ?? 0) / 1000);
        if (seen?.description) out.push(JSON.parse(seen.description) as MutantVerdict);
        else
          out.push({
            run: m[1]!,
            rule: m[2]!,
            status: 'fail',
            note:
              `the test ${result?.status ?? 'did not run'} before it recorded a verdict` +
              (result?.error?.message ? `: ${result.error.message.split('\n')[0]}` : ''),
          });
      }
    }
  };
  for (const s of report.suites) walk(s);
  return { verdicts: out, seconds };
}

function runPlaywright(workers: number, cleanUrl: string, jsonFile: string): Promise<number> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(DYNAMIC_|MOCK_|PLAYWRIGHT_)/.test(k)) env[k] = v;
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js'),
      'test',
      '--config',
      'tests/mutants/playwright.config.ts',
      '--reporter=dot,json',
      `--workers=${workers}`,
    ],
    {
      cwd: ROOT,
      env: {
        ...env,
        DYNAMIC_TARGET: 'mock',
        DYNAMIC_API_URL: cleanUrl,
        CONFORMANCE_OUTPUT_DIR: join(OUT, 'run'),
        FC_RUNS: process.env.FC_RUNS ?? '60',
        PLAYWRIGHT_JSON_OUTPUT_NAME: jsonFile,
        PLAYWRIGHT_FORCE_TTY: '0',
        FORCE_COLOR: '0',
        // Every failure counts, whatever a developer's shell says: no baseline, no previous run, no step summary.
        CONFORMANCE_BASELINE: 'off',
        CONFORMANCE_PREVIOUS: '',
        CONFORMANCE_LEDGER: '',
        CONFORMANCE_FAIL_ON: 'any',
        CONFORMANCE_FAIL_ON_DRIFT: 'false',
        GITHUB_STEP_SUMMARY: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const keep = (d: Buffer): void => {
    log += d.toString();
    process.stdout.write(d.toString().replace(/[^·×°\n]/g, ''));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      writeFileSync(join(OUT, 'playwright.log'), log);
      process.stdout.write('\n');
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  const { fast, perRule, only, workers } = parseArgs();
  const all = (JSON.parse(readFileSync(join(ROOT, 'specs', 'faults.json'), 'utf8')) as { faults: Fault[] }).faults;
  const unknown = (only ?? []).filter((id) => !all.some((f) => f.id === id));
  if (unknown.length) fail(`unknown fault id(s): ${unknown.join(', ')}`);
  const faults = all.filter((f) => (only ? only.includes(f.id) : fast ? f.fast === true : true));
  const ruleIds = readdirRules();
  const family = (rule: string): string => rule.split('-')[0]!;
  const rulesOf = (f: Fault): string[] => (perRule ? [f.rule] : ruleIds.filter((id) => family(id) === family(f.rule)));
  const outside = faults.filter((f) => !FAMILIES.includes(family(f.rule)));
  if (outside.length) fail(`fault(s) of no mutated family: ${outside.map((f) => f.id).join(', ')}`);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();

  // The clean instances run every rule any fault is judged by (the rate family on its own instance, as in
  // playwright.config.ts: it moves the clock); one instance per fault runs that fault's rules.
  const underTest = [...new Set(faults.flatMap(rulesOf))].sort();
  const cleanRules = underTest.filter((id) => family(id) !== RATE);
  const cleanRateRules = underTest.filter((id) => family(id) === RATE);
  const wanted: Omit<PlanRun, 'apiUrl'>[] = [
    ...(cleanRules.length ? [{ id: 'clean', faults: [], rules: cleanRules, serial: false }] : []),
    ...(cleanRateRules.length ? [{ id: 'clean-rate', faults: [], rules: cleanRateRules, serial: true }] : []),
    ...faults.map((f) => ({ id: f.id, faults: [f.id], rules: rulesOf(f), serial: family(f.rule) === RATE })),
  ];
  // The serial groups are the longest units: dispatched first, they do not end up alone at the tail.
  wanted.sort((a, b) => Number(b.serial) - Number(a.serial));
  const ports = await freePorts(wanted.length);
  const plan: MutantsPlan = {
    runs: wanted.map((run, i) => ({ ...run, apiUrl: `http://127.0.0.1:${ports[i]!}/api/v0` })),
  };
  writeFileSync(PLAN_FILE, `${JSON.stringify(plan, null, 2)}\n`);
  const tests = plan.runs.reduce((n, r) => n + r.rules.length, 0);
  process.stdout.write(
    `mutants: ${faults.length} fault(s) + clean, ${tests} (instance × rule) tests, ` +
      (perRule ? 'own rule only' : 'whole family') +
      `, ${workers} workers, one mock process…\n`,
  );

  let mock: ChildProcess | undefined;
  let code: number;
  let mockDied = false;
  try {
    mock = await startMock(plan.runs.map((r, i) => ({ port: ports[i]!, faults: r.faults })));
    await verifyInstances(plan.runs);
    code = await runPlaywright(
      workers,
      plan.runs.find((r) => r.id === 'clean' || r.id === 'clean-rate')!.apiUrl,
      join(OUT, 'results.json'),
    );
    mockDied = mock.exitCode !== null || mock.signalCode !== null;
  } finally {
    await stop(mock);
  }
  if (mockDied)
    fail(
      'the mock process exited during the run: every verdict after that is void (see mutants-report/playwright.log)',
    );
  const { verdicts: found, seconds } = verdicts(join(OUT, 'results.json'));
  const failing = (run: string): string[] =>
    found
      .filter((v) => v.run === run && v.status === 'fail')
      .map((v) => v.rule)
      .sort();
  const cleanFailures = [...failing('clean'), ...failing('clean-rate')];

  const rows: Row[] = faults.map((fault) => {
    const ran = found.filter((v) => v.run === fault.id);
    const secs = Math.round((seconds.get(fault.id) ?? 0) * 10) / 10;
    if (ran.length !== rulesOf(fault).length)
      return {
        fault: fault.id,
        expected: fault.rule,
        killed: false,
        by: [],
        verdict: 'error',
        seconds: secs,
        note: `${ran.length} of ${rulesOf(fault).length} rules ran (Playwright exit ${code})`,
      };
    const by = failing(fault.id).filter((id) => !cleanFailures.includes(id));
    const killed = by.includes(fault.rule);
    return {
      fault: fault.id,
      expected: fault.rule,
      killed,
      by,
      verdict: killed ? 'killed' : by.length ? 'unrelated-only' : 'survived',
      seconds: secs,
    };
  });
  for (const row of rows)
    process.stdout.write(
      `  ` +
        (row.verdict === 'killed' ? '✓' : '✗') +
        ` ${row.fault.padEnd(34)} ${row.expected.padEnd(11)} ` +
        `${row.verdict.padEnd(15)} ${row.by.join(',') || '-'} (` +
        `${row.seconds.toFixed(1)} s)${row.note ? ` ${row.note}` : ''}\n`,
    );
  const killed = rows.filter((r) => r.verdict === 'killed').length;
  const report = {
    generatedAt: new Date().toISOString(),
    seconds: (Date.now() - started) / 1000,
    selection: only ? 'only' : fast ? 'fast' : 'all',
    scope: perRule ? 'own rule only' : 'whole family',
    workers,
    clean: { failures: cleanFailures },
    score: {
      faults: rows.length,
      killed,
      survived: rows.filter((r) => r.verdict === 'survived').length,
      unrelatedOnly: rows.filter((r) => r.verdict === 'unrelated-only').length,
      errors: rows.filter((r) => r.verdict === 'error').length,
    },
    rows,
    verdicts: found,
  };
  writeFileSync(join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `\nfault                              expected    killed?  by rules\n` +
      rows
        .map(
          (r) =>
            `${r.fault.padEnd(34)} ${r.expected.padEnd(11)} ` +
            `${(r.killed ? 'yes' : 'NO').padEnd(8)} ` +
            `${r.by.join(', ') || '-'}`,
        )
        .join('\n') +
      `\n`,
  );
  process.stdout.write(
    `\nmutation score: ${killed}/${rows.length} killed in ${report.seconds.toFixed(0)} s; clean mock ` +
      `failures: ` +
      (cleanFailures.length ? cleanFailures.join(', ') : 'none') +
      ` → mutants-report/report.json\n`,
  );
  process.stdout.write(`${killed} passed, ${rows.length - killed + (cleanFailures.length ? 1 : 0)} failed\n`);
  if (killed !== rows.length || cleanFailures.length) process.exit(1);
}

/** Every rule id of specs/rules, sorted. */
function readdirRules(): string[] {
  const dir = join(ROOT, 'specs', 'rules');
  const ids = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { rules: Rule[] }).rules.map((r) => r.id));
  return ids.sort();
}

main().catch((error: unknown) => fail((error as Error).message));
