/**
 * One mock process serving several independent mocks (`MOCK_INSTANCES=port:fault+fault,…`), as the mutation harness
 * runs every fault at once: each port answers with its own faults and only those, and keeps its own state (clock,
 * rate-limit buckets, store); bad values get one readable line and exit code 2. Over HTTP only (never imports mock/).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './support/mock-process.js';
import { freePorts } from '../../scripts/free-ports.js';

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('MOCK_') && k !== 'DYNAMIC_DOCS_PROFILE') env[k] = v;
  return env;
}

interface Started {
  stdout: string;
  stop(): Promise<void>;
}

/** Starts mock/server.ts with `settings`; resolves when `listening` lines were printed, rejects with stderr on exit. */
function start(settings: Record<string, string>, listening: number): Promise<Started> {
  const child = spawn(process.execPath, ['mock/run.mjs', 'server.ts'], {
    cwd: ROOT,
    env: { ...baseEnv(), ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if ((stdout.match(/listening on /g) ?? []).length >= listening) {
        resolve({
          stdout,
          stop: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`mock exited with ${String(code)}: ${stderr}`)));
  });
}

async function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function post(port: number, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as Record<string, unknown>;
}

describe('MOCK_INSTANCES: several independent mocks in one process', () => {
  let mock: Started;
  let clean: number;
  let noAuth: number;
  let noLimit: number;
  let envId: string;

  before(async () => {
    [clean, noAuth, noLimit] = (await freePorts(3)) as [number, number, number];
    mock = await start(
      {
        MOCK_INSTANCES: `${clean}:,${noAuth}:accept-missing-token,${noLimit}:no-rate-limit+no-retry-after`,
        MOCK_CONTROL: 'on',
      },
      3,
    );
    const seed = (await get(clean, '/__mock/seed')).json as { environments: { id: string }[] };
    envId = seed.environments[0]!.id;
  });
  after(async () => {
    await mock?.stop();
  });

  it('prints one listening line per instance, naming its faults', () => {
    const lines = mock.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(
      lines[0]!,
      new RegExp(
        `listening on http://127\\.0\\.0\\.1:${clean}/api/v0 \\(profile docs-2026, seed 1, clock frozen, control [^,]*; ready in \\d+ ms\\)$`,
      ),
    );
    assert.match(lines[1]!, new RegExp(`:${noAuth}/api/v0 .*, faults accept-missing-token;`));
    assert.match(lines[2]!, new RegExp(`:${noLimit}/api/v0 .*, faults no-rate-limit,no-retry-after;`));
  });

  it('each port reports and applies its own faults only', async () => {
    assert.deepEqual((await get(clean, '/__mock/faults')).json.faults, []);
    assert.deepEqual((await get(noAuth, '/__mock/faults')).json.faults, ['accept-missing-token']);
    assert.deepEqual((await get(noLimit, '/__mock/faults')).json.faults, ['no-rate-limit', 'no-retry-after']);
    const path = `/api/v0/environments/${envId}`;
    assert.equal((await get(clean, path)).status, 401, 'the clean instance refuses a request without credentials');
    assert.equal((await get(noLimit, path)).status, 401, 'so does an instance with other faults');
    assert.notEqual((await get(noAuth, path)).status, 401, 'only the accept-missing-token instance lets it through');
  });

  it('each instance keeps its own clock and rate-limit buckets', async () => {
    const before = [(await get(clean, '/__mock/seed')).json.now, (await get(noAuth, '/__mock/seed')).json.now];
    await post(noAuth, '/__mock/clock', { advanceSeconds: 3600 });
    assert.equal((await get(clean, '/__mock/seed')).json.now, before[0], 'advancing one clock leaves the others');
    assert.equal((await get(noAuth, '/__mock/seed')).json.now, Number(before[1]) + 3600);
    // The nonce policy admits a handful per IP per window on the clean mock: exhaust it there, then the other
    // instances (same client address) are untouched, and the no-rate-limit one never refuses.
    const nonce = `/api/v0/sdk/${envId}/nonce`;
    let refusedAt = 0;
    for (let i = 1; i <= 40 && refusedAt === 0; i += 1) if ((await get(clean, nonce)).status === 429) refusedAt = i;
    assert.ok(refusedAt > 1, 'the clean instance rate-limits the nonce endpoint');
    assert.notEqual((await get(noAuth, nonce)).status, 429, 'another instance has its own buckets');
    for (let i = 0; i < refusedAt; i += 1)
      assert.notEqual((await get(noLimit, nonce)).status, 429, 'no-rate-limit never answers 429');
  });
});

describe('--announce-ports: the ports open before the mock loads', () => {
  it('one "accepting connections" line per port first; a request sent then is answered once it is ready', async () => {
    const [a, b] = (await freePorts(2)) as [number, number];
    const child = spawn(process.execPath, ['mock/run.mjs', 'server.ts', '--announce-ports'], {
      cwd: ROOT,
      env: { ...baseEnv(), MOCK_INSTANCES: `${a}:,${b}:`, MOCK_CONTROL: 'on' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => {
          if (new RegExp(`accepting connections on http://127\\.0\\.0\\.1:${b}/`).test(stdout)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`mock exited with ${String(code)}`)));
      });
      // Sent before the mock is ready: it waits, and the mock (not a placeholder) answers it.
      assert.doesNotMatch(stdout, /listening on /, 'the port was announced before the mock was ready');
      const [health, route] = await Promise.all([get(b, '/__mock/health'), get(a, '/api/v0/no/such/route')]);
      assert.equal(health.status, 200);
      assert.equal(route.status, 404);
      assert.equal(route.json.code, 'route_not_found');
      while ((stdout.match(/listening on /g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 20));
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 4, stdout);
      assert.match(
        lines[0]!,
        new RegExp(`^Dynamic mock accepting connections on http://127\\.0\\.0\\.1:${a}/ \\(loading\\)$`),
      );
      assert.match(lines[1]!, new RegExp(`accepting connections on http://127\\.0\\.0\\.1:${b}/ `));
      assert.match(lines[2]!, new RegExp(`^Dynamic mock listening on http://127\\.0\\.0\\.1:${a}/api/v0 `));
      assert.match(lines[3]!, new RegExp(`^Dynamic mock listening on http://127\\.0\\.0\\.1:${b}/api/v0 `));
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});

describe('MOCK_INSTANCES: bad values', () => {
  for (const [settings, pattern] of [
    [
      { MOCK_INSTANCES: '4601:bogus-fault' },
      /^mock: MOCK_INSTANCES entry "4601:bogus-fault" names an unknown fault "bogus-fault"/,
    ],
    [{ MOCK_INSTANCES: '4601' }, /^mock: MOCK_INSTANCES entry "4601" must be "port:fault\+fault"/],
    [{ MOCK_INSTANCES: '4601:,4601:no-rate-limit' }, /^mock: MOCK_INSTANCES names port 4601 twice/],
    [{ MOCK_INSTANCES: '0:' }, /^mock: MOCK_INSTANCES entry "0:": the port must be 1-65535/],
    [{ MOCK_INSTANCES: '4601:', MOCK_PORT: '4602' }, /^mock: MOCK_INSTANCES cannot be combined with MOCK_PORT/],
    [
      { MOCK_INSTANCES: '4601:', MOCK_FAULTS: 'no-rate-limit' },
      /^mock: MOCK_INSTANCES cannot be combined with MOCK_FAULTS/,
    ],
  ] as const) {
    it(`rejects ${JSON.stringify(settings)} with one readable line and exit code 2`, async () => {
      const err = await start(settings, 1).then(
        async (m) => {
          await m.stop();
          return new Error('started');
        },
        (e: unknown) => e as Error,
      );
      const m = /mock exited with (\d+): ([\s\S]*)$/.exec(err.message);
      assert.ok(m, err.message);
      assert.equal(m[1], '2');
      assert.match(m[2]!, pattern);
      assert.doesNotMatch(m[2]!, /\n\s+at /, 'no stack trace');
    });
  }

  it('a taken port stops the whole process with the port named', async () => {
    const [freePort] = await freePorts(1);
    const holder = await start({ MOCK_PORT: String(freePort), MOCK_CONTROL: 'on' }, 1);
    try {
      const err = await start({ MOCK_INSTANCES: `${(await freePorts(1))[0]}:,${freePort}:no-rate-limit` }, 2).then(
        async (m) => {
          await m.stop();
          return new Error('started');
        },
        (e: unknown) => e as Error,
      );
      assert.match(
        err.message,
        new RegExp(
          `mock exited with 2: mock: cannot listen on 127\\.0\\.0\\.1:${freePort} \\(EADDRINUSE\\); ` +
            'choose another MOCK_INSTANCES port',
        ),
      );
    } finally {
      await holder.stop();
    }
  });
});
