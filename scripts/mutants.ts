/**
 * npm run mutants — the suite's mutation kill score. For each named fault of the mock (specs/faults.json): start the
 * mock with that fault, run the rule family the fault targets against it, and record which rule ids failed.
 * Writes mutants-report/report.json and prints fault → expected rule → killed? → by which rules.
 * Exits non-zero if a fault survives, if a fault is killed only by unrelated rules, or if the clean mock fails any rule.
 *
 *   npm run mutants                 all faults
 *   npm run mutants -- --fast       the faults marked fast (npm test runs these)
 *   npm run mutants -- --only a,b   the named faults
 *   npm run mutants -- --per-rule   every fault, but only its own rule's test (faster; cannot see unrelated-only kills)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'mutants-report');
const FAMILY_TAG: Record<string, string> = { AUTH: '@auth', TOKEN: '@token', JWT: '@jwt', ERR: '@errors', SCHEMA: '@schema', RATE: '@rate', OBJ: '@object' };

interface Fault { id: string; rule: string; description: string; fast?: boolean }
interface RuleResult { id: string; status: string; reportOnly: boolean }
interface Row { fault: string; expected: string; killed: boolean; by: string[]; verdict: 'killed' | 'survived' | 'unrelated-only' | 'error'; seconds: number; note?: string }

function fail(message: string): never {
  process.stderr.write(`mutants: ${message}\n`);
  process.exit(2);
}

function parseArgs(): { fast: boolean; perRule: boolean; only: string[] | undefined } {
  const args = process.argv.slice(2);
  const fast = args.includes('--fast');
  const perRule = fast || args.includes('--per-rule');
  const i = args.indexOf('--only');
  const only = i >= 0 ? (args[i + 1] ?? fail('--only needs a comma-separated list of fault ids')).split(',').filter(Boolean) : undefined;
  const known = new Set(['--fast', '--per-rule', '--only', ...(i >= 0 ? [args[i + 1]] : [])]);
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length) fail(`unknown argument(s): ${unknown.join(' ')} (use --fast, --per-rule or --only <ids>)`);
  return { fast, perRule, only };
}

/** A free loopback port, so concurrent runs (a developer's and CI's) never collide. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the mock exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the mock did not answer ${url} within 15 s`);
}

async function startMock(port: number, faults: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'mock/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, MOCK_PORT: String(port), MOCK_FAULTS: faults.join(','), MOCK_CONTROL: 'on' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await waitHealthy(`http://127.0.0.1:${port}/__mock/health`, child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

function runSuite(port: number, grep: string | undefined, outDir: string): Promise<number> {
  const args = ['playwright', 'test', '--reporter=./src/report/matrix-reporter.ts', ...(grep ? ['--grep', grep] : [])];
  return new Promise((resolve) => {
    const child = spawn('npx', args, {
      cwd: ROOT,
      env: { ...process.env, DYNAMIC_TARGET: 'mock', DYNAMIC_API_URL: `http://127.0.0.1:${port}/api/v0`, CONFORMANCE_OUTPUT_DIR: outDir, FC_RUNS: process.env.FC_RUNS ?? '60' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

function failedRules(outDir: string): RuleResult[] {
  const file = join(outDir, 'conformance-report', 'report.json');
  if (!existsSync(file)) throw new Error(`no matrix at ${file}`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as { rules: RuleResult[] };
  return report.rules.filter((r) => r.status === 'fail');
}

async function main(): Promise<void> {
  const { fast, perRule, only } = parseArgs();
  const port = await freePort();
  const all = (JSON.parse(readFileSync(join(ROOT, 'specs', 'faults.json'), 'utf8')) as { faults: Fault[] }).faults;
  const unknown = (only ?? []).filter((id) => !all.some((f) => f.id === id));
  if (unknown.length) fail(`unknown fault id(s): ${unknown.join(', ')}`);
  const faults = all.filter((f) => (only ? only.includes(f.id) : fast ? f.fast === true : true));
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  const families = [...new Set(faults.map((f) => f.rule.split('-')[0]!))].filter((f) => FAMILY_TAG[f]);
  // The full set runs each fault's whole family (so a kill by unrelated rules shows); --fast runs only the rules under
  // test, which keeps npm test short while still proving each fast fault is caught by its own rule.
  const ruleGrep = (ids: string[]): string => ids.map((id) => `${id} `).join('|');
  const grep = perRule ? ruleGrep([...new Set(faults.map((f) => f.rule))]) : families.map((f) => FAMILY_TAG[f]!).join('|');

  // 1. The clean mock must keep every rule of the families under test.
  process.stdout.write(`mutants: clean run (${grep})…\n`);
  let mock = await startMock(port, []);
  const cleanDir = join(OUT, 'runs', 'clean');
  await runSuite(port, grep, cleanDir);
  await stop(mock);
  const cleanFailures = failedRules(cleanDir).map((r) => r.id);

  // 2. One run per fault, its family only.
  const rows: Row[] = [];
  for (const fault of faults) {
    const family = fault.rule.split('-')[0]!;
    const t0 = Date.now();
    const dir = join(OUT, 'runs', fault.id);
    let row: Row;
    try {
      mock = await startMock(port, [fault.id]);
      await runSuite(port, perRule ? ruleGrep([fault.rule]) : FAMILY_TAG[family], dir);
      await stop(mock);
      const by = failedRules(dir).map((r) => r.id).filter((id) => !cleanFailures.includes(id));
      const killed = by.includes(fault.rule);
      row = { fault: fault.id, expected: fault.rule, killed, by, verdict: killed ? 'killed' : by.length ? 'unrelated-only' : 'survived', seconds: (Date.now() - t0) / 1000 };
    } catch (error) {
      await stop(mock);
      row = { fault: fault.id, expected: fault.rule, killed: false, by: [], verdict: 'error', seconds: (Date.now() - t0) / 1000, note: (error as Error).message };
    }
    rows.push(row);
    process.stdout.write(`  ${row.verdict === 'killed' ? '✓' : '✗'} ${row.fault.padEnd(34)} ${row.expected.padEnd(11)} ${row.verdict.padEnd(15)} ${row.by.join(',') || '-'} (${row.seconds.toFixed(1)} s)${row.note ? ` ${row.note}` : ''}\n`);
  }
  const killed = rows.filter((r) => r.verdict === 'killed').length;
  const report = {
    generatedAt: new Date().toISOString(),
    seconds: (Date.now() - started) / 1000,
    selection: only ? 'only' : fast ? 'fast' : 'all',
    scope: perRule ? 'own rule only' : 'whole family',
    clean: { failures: cleanFailures },
    score: { faults: rows.length, killed, survived: rows.filter((r) => r.verdict === 'survived').length, unrelatedOnly: rows.filter((r) => r.verdict === 'unrelated-only').length, errors: rows.filter((r) => r.verdict === 'error').length },
    rows,
  };
  writeFileSync(join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nfault                              expected    killed?  by rules\n${rows.map((r) => `${r.fault.padEnd(34)} ${r.expected.padEnd(11)} ${(r.killed ? 'yes' : 'NO').padEnd(8)} ${r.by.join(', ') || '-'}`).join('\n')}\n`);
  process.stdout.write(`\nmutation score: ${killed}/${rows.length} killed in ${report.seconds.toFixed(0)} s; clean mock failures: ${cleanFailures.length ? cleanFailures.join(', ') : 'none'} → mutants-report/report.json\n`);
  process.stdout.write(`${killed} passed, ${rows.length - killed + (cleanFailures.length ? 1 : 0)} failed\n`);
  if (killed !== rows.length || cleanFailures.length) process.exit(1);
}

main().catch((error: unknown) => fail((error as Error).message));
