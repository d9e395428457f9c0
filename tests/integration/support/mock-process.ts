/**
 * Test harness for the mock's own tests: starts mock/server.ts as a child process on a free port and talks to it over
 * HTTP only (tests never import mock/). Shared by tests/integration/mock-*.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';

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
export async function startMock(settings: Record<string, string> = {}): Promise<Mock> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('MOCK_') && k !== 'DYNAMIC_DOCS_PROFILE') env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'mock/server.ts'], {
    cwd: ROOT,
    env: { ...env, MOCK_PORT: '0', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`mock exited with ${String(code)}: ${stderr}`)));
  });
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
    stdout,
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
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
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
