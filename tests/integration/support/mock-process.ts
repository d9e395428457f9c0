/**
 * Test harness for the mock's own tests: starts mock/server.ts as a child process on a free port and talks to it over
 * HTTP only (tests never import mock/). Shared by tests/integration/mock-*.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { freePorts } from '../../../scripts/free-ports.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}
export interface CallOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  localAddress?: string;
}
export interface Mock {
  url: string;
  stdout: string;
  call(method: string, path: string, options?: CallOptions): Promise<Res>;
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}
/** The parent environment without any mock setting (a developer's MOCK_* or docs profile never leaks in). */
function mockEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('MOCK_') && k !== 'DYNAMIC_DOCS_PROFILE') env[k] = v;
  return env;
}

/** A spawned mock process: the origins it listens on, its stdout so far, and how to stop it. */
export interface MockProcess {
  urls: string[];
  stdout: string;
  stop(): Promise<void>;
}

/**
 * Spawns mock/server.ts (the parent's MOCK_* settings removed, `settings` applied); resolves with the origins of its
 * first `listening` lines, rejects with stderr on exit. Both harnesses start their mocks this way (this file's
 * clients, suite-runs.ts for suite runs).
 */
export function spawnMock(settings: Record<string, string>, listening: number): Promise<MockProcess> {
  const child = spawn(process.execPath, ['mock/run.mjs', 'server.ts'], {
    cwd: ROOT,
    env: { ...mockEnv(), MOCK_PORT: '0', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  };
  return new Promise<MockProcess>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const urls = [...stdout.matchAll(/listening on (http:\/\/[\d.]+:\d+)/g)].map((m) => m[1]!);
      if (urls.length >= listening) resolve({ urls, stdout, stop });
    });
    child.once('exit', (code) => reject(new Error(`mock exited with ${String(code)}: ${stderr}`)));
  });
}

/** An HTTP client of one mock (undici pools per local address); `stop` ends the process behind it. */
function clientOf(url: string, started: MockProcess): Mock {
  const pools = new Map<string, Pool>();
  const pool = (localAddress = '127.0.0.1'): Pool => {
    let p = pools.get(localAddress);
    if (!p) pools.set(localAddress, (p = new Pool(url, { localAddress, connections: 8 })));
    return p;
  };
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Res> => {
    const r = await request(`${url}${path}`, {
      method: method as 'GET',
      headers: o.headers ?? {},
      body: o.body ?? null,
      dispatcher: pool(o.localAddress),
    });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  return {
    url,
    stdout: started.stdout,
    call,
    control: async (method, path, body) => {
      const r = await call(
        method,
        `/__mock${path}`,
        body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
      );
      assert.equal(r.status, 200, `control ${path}: ${r.text}`);
      return r.json();
    },
    stop: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
      await started.stop();
    },
  };
}

export async function startMock(settings: Record<string, string> = {}): Promise<Mock> {
  const started = await spawnMock(settings, 1);
  return clientOf(started.urls[0]!, started);
}

/**
 * `count` independent mocks (own state: clock, rate-limit buckets, store) served by one mock process
 * (`MOCK_INSTANCES`), so spec, schemas and keys load once. `settings` apply to every instance (e.g. MOCK_CLOCK). The
 * ports come from the OS; when another process takes one before the mock listens, it starts again on new ports.
 * Stopping any of them stops the process (all of them).
 */
export async function startMocks(count: number, settings: Record<string, string> = {}): Promise<Mock[]> {
  for (let attempt = 1; ; attempt += 1) {
    const ports = await freePorts(count);
    try {
      const started = await spawnMock(
        { ...settings, MOCK_PORT: '', MOCK_INSTANCES: ports.map((p) => `${p}:`).join(',') },
        count,
      );
      return started.urls.map((url) => clientOf(url, started));
    } catch (error) {
      if (attempt >= 3 || !/cannot listen/.test((error as Error).message)) throw error;
    }
  }
}
export interface Seed {
  profile: string;
  seed: number;
  now: number;
  environments: { id: string; name: string; kid: string; issuer: string }[];
  tokens: { value: string; environmentId: string; scopes: string[]; active: boolean; label: string }[];
  users: { id: string; environmentId: string; jwt: string }[];
  /** Seeded owned objects (OBJ rules). */
  objects: { family: string; id: string; organizationId: string; environmentId?: string; userId?: string }[];
}
export async function seedOf(mock: Mock): Promise<Seed> {
  return (await mock.control('GET', '/seed')) as unknown as Seed;
}
export function tokenOf(seed: Seed, env: string, label: string): string {
  return seed.tokens.find((t) => t.environmentId === env && t.label === label)!.value;
}

/** What a mock entry point printed and how it ended. */
export interface EntryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node mock/run.mjs <entry> [args]` in `cwd` (default ROOT) with this process's environment minus MOCK_* and
 * DYNAMIC_*, plus `env`; stops it once its stdout matches `untilLine` (or after 20 s).
 */
export function runMockEntry(
  entry: string,
  env: Record<string, string>,
  options: { args?: string[]; cwd?: string; untilLine?: RegExp } = {},
): Promise<EntryRun> {
  return new Promise((resolve) => {
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('MOCK_') && !k.startsWith('DYNAMIC_')) clean[k] = v;
    const child = spawn(process.execPath, ['mock/run.mjs', entry, ...(options.args ?? [])], {
      cwd: options.cwd ?? ROOT,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.untilLine?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
