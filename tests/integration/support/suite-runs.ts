/**
 * Test support: start a private mock (over its own entry point, never imported) and run the real conformance suite
 * in a child process with a fully specified environment, so neither the caller's shell nor a developer's .env can
 * leak into (or out of) a run. Every suite variable is set explicitly (empty = unset; dotenv never overrides).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../../../src/engine/config.js';
import type { MockSeed } from '../../../src/engine/credentials.js';
import { freePorts } from '../../../scripts/free-ports.js';
import { spawnMock } from './mock-process.js';

/** Every variable the suite reads (src/engine/config.ts); a run sets all of them. */
export const SUITE_VARIABLES = [
  'DYNAMIC_TARGET',
  'DYNAMIC_API_URL',
  'DYNAMIC_ENVIRONMENT_ID',
  'DYNAMIC_API_TOKEN',
  'DYNAMIC_PROJECT_ID',
  'DYNAMIC_OTHER_ENVIRONMENT_ID',
  'DYNAMIC_OTHER_ENVIRONMENT_TOKEN',
  'DYNAMIC_LIMITED_TOKEN',
  'DYNAMIC_INACTIVE_TOKEN',
  'DYNAMIC_USER_JWT',
  'DYNAMIC_OTHER_ENVIRONMENT_JWT',
  'DYNAMIC_OTHER_PROJECT_ID',
  'DYNAMIC_OTHER_ORGANIZATION_TOKEN',
  'DYNAMIC_OTHER_USER_JWT',
  'DYNAMIC_ALLOW_WRITES',
  'DYNAMIC_RATE_LIMIT_BUDGET',
  'DYNAMIC_REQUEST_BUDGET',
  'DYNAMIC_DOCS_PROFILE',
  'FC_SEED',
  'FC_PATH',
  'FC_RUNS',
  'CONFORMANCE_OUTPUT_DIR',
  'MOCK_PORT',
  'DYNAMIC_TIME_BUDGET_MINUTES',
  'DYNAMIC_RUN_NUMBER',
  'DYNAMIC_RUN_STATE_URL',
  'DYNAMIC_TRANSPORT_FAILURE_THRESHOLD',
  'CONFORMANCE_BASELINE',
  'CONFORMANCE_PREVIOUS',
  'CONFORMANCE_LEDGER',
  'CONFORMANCE_FAIL_ON',
  'CONFORMANCE_FAIL_ON_DRIFT',
  'CONFORMANCE_STALE_DAYS',
  'CONFORMANCE_TODAY',
  'GITHUB_STEP_SUMMARY',
] as const;

/** Values a run gets unless it says otherwise: no developer's baseline file leaks into a test run. */
const DEFAULTS: Partial<Record<(typeof SUITE_VARIABLES)[number], string>> = { CONFORMANCE_BASELINE: 'off' };

/** The parent environment without any suite, mock or Playwright variable. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(DYNAMIC_|FC_|MOCK_|PLAYWRIGHT_|CONFORMANCE_|SECRET_SCAN_|GITHUB_)/.test(k) && k !== 'FORCE_COLOR')
      env[k] = v;
  return env;
}

export interface Mock {
  port: number;
  apiUrl: string;
  seed(): Promise<MockSeed>;
  control(path: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** The ports these tests may use (4240–4249): several test files — and several `npm test` runs — share the range. */
export const PORTS = { from: 4240, to: 4249 } as const;

/**
 * Starts `mock/server.ts` on the first port of the range that is free, moving on when another run took it first.
 * `preferred` is tried first.
 */
export async function startMock(preferred: number, settings: { faults?: string[]; seed?: number } = {}): Promise<Mock> {
  const [mock] = await startMocks(preferred, [settings.faults ?? []], settings);
  return mock!;
}

/**
 * Starts ONE mock process serving several independent mocks (`MOCK_INSTANCES`), one per entry of `faults` (each its
 * own store, clock, buckets and faults; the seed is shared, so are the credentials), on free ports of the range
 * (`preferred` first), trying other ports when another run took one first. Stopping any of them stops the process.
 * Independent suite runs of one test file go on at once this way, each against its own mock.
 */
export async function startMocks(
  preferred: number,
  faults: readonly (readonly string[])[],
  settings: { seed?: number } = {},
): Promise<Mock[]> {
  const ports = [
    preferred,
    ...Array.from({ length: PORTS.to - PORTS.from + 1 }, (_, i) => PORTS.from + i).filter((p) => p !== preferred),
  ];
  const problems: string[] = [];
  const taken = new Set<number>();
  for (let attempt = 0; attempt < ports.length; attempt++) {
    const chosen: number[] = [];
    for (const port of ports) {
      if (chosen.length === faults.length) break;
      if (!taken.has(port) && (await portIsClosed(port))) chosen.push(port);
    }
    if (chosen.length < faults.length) break;
    try {
      return await startMocksOn(chosen, faults, settings);
    } catch (error) {
      problems.push((error as Error).message.split('\n')[0]!);
      if (!/cannot listen|EADDRINUSE/.test((error as Error).message)) throw error;
      const busy = /127\.0\.0\.1:(\d+)/.exec((error as Error).message);
      if (busy) taken.add(Number(busy[1]));
      else chosen.forEach((p) => taken.add(p));
    }
  }
  throw new Error(
    `no ${faults.length} free port(s) for a mock in ${PORTS.from}–${PORTS.to}: ${problems.join('; ') || 'all in use'}`,
  );
}

/** A port of the range that nothing listens on (for transport-error runs). */
export async function closedPort(preferred: number): Promise<number> {
  for (const port of [preferred, ...Array.from({ length: PORTS.to - PORTS.from + 1 }, (_, i) => PORTS.to - i)])
    if (await portIsClosed(port)) return port;
  throw new Error(`every port in ${PORTS.from}–${PORTS.to} is in use`);
}

async function startMocksOn(
  ports: number[],
  faults: readonly (readonly string[])[],
  settings: { seed?: number },
): Promise<Mock[]> {
  const one = ports.length === 1;
  const started = await spawnMock(
    {
      // One mock: MOCK_PORT and MOCK_FAULTS; several: MOCK_INSTANCES (which cannot be combined with them).
      ...(one
        ? { MOCK_PORT: String(ports[0]), MOCK_FAULTS: faults[0]!.join(',') }
        : { MOCK_PORT: '', MOCK_INSTANCES: ports.map((p, i) => `${p}:${faults[i]!.join('+')}`).join(',') }),
      MOCK_CONTROL: 'on',
      ...(settings.seed === undefined ? {} : { MOCK_SEED: String(settings.seed) }),
    },
    ports.length,
  );
  return ports.map((port) => {
    const origin = `http://127.0.0.1:${port}`;
    const control = async (path: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(
        `${origin}/__mock${path}`,
        body === undefined
          ? {}
          : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
      );
      if (!res.ok) throw new Error(`mock control ${path} answered ${res.status}`);
      return res.json();
    };
    return {
      port,
      apiUrl: `${origin}/api/v0`,
      seed: async () => (await control('/seed')) as MockSeed,
      control,
      stop: () => started.stop(),
    };
  });
}

/** True when nothing accepts connections on the loopback port. */
export function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

export interface SuiteRun {
  code: number;
  outDir: string;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `playwright test <args>` with exactly the given suite variables (the rest of SUITE_VARIABLES empty) and
 * CONFORMANCE_OUTPUT_DIR = outDir (wiped first). stdout and stderr are kept in outDir/console/ so they are scanned
 * like every other artifact.
 */
export function runSuite(
  outDir: string,
  args: string[],
  vars: Partial<Record<(typeof SUITE_VARIABLES)[number], string>>,
  extraEnv: NodeJS.ProcessEnv = {},
  timeoutMs = 300_000,
): Promise<SuiteRun> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'console'), { recursive: true });
  const env: NodeJS.ProcessEnv = { ...baseEnv(), PLAYWRIGHT_HTML_OPEN: 'never', ...extraEnv };
  for (const name of SUITE_VARIABLES) env[name] = vars[name] ?? extraEnv[name] ?? DEFAULTS[name] ?? '';
  env.CONFORMANCE_OUTPUT_DIR = outDir;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      writeFileSync(join(outDir, 'console', 'stdout.txt'), stdout);
      writeFileSync(join(outDir, 'console', 'stderr.txt'), stderr);
      resolve({ code: code ?? -1, outDir, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Runs `playwright test <args>` as `npm run conformance` does it: against the suite's embedded mock (both instances:
 * MOCK_PORT and the rate-limit project's MOCK_PORT + 1), on two free consecutive loopback ports outside the shared
 * range; when another process takes one before the mock listens, the run starts again on others.
 */
export async function runWithEmbeddedMock(
  outDir: string,
  args: string[],
  vars: Partial<Record<(typeof SUITE_VARIABLES)[number], string>>,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<SuiteRun> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePortPair();
    const run = await runSuite(outDir, args, { ...vars, DYNAMIC_TARGET: 'mock', MOCK_PORT: String(port) }, extraEnv);
    if (attempt >= 3 || !/is already used|cannot listen/.test(`${run.stdout}\n${run.stderr}`)) return run;
  }
}

/** A loopback port the OS hands out whose successor is free too. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const [port] = (await freePorts(1)) as [number];
    if (port < 65535 && (await portIsClosed(port + 1))) return port;
  }
}

/** The last lines of a run's console, for assertion messages (never the canary: callers pass redacted runs only). */
export function tail(run: SuiteRun, lines = 25): string {
  const last = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-lines).join('\n');
  return `exit ${run.code} after ${run.ms} ms\n${last}`;
}
