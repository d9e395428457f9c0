/**
 * npm run bench:mock — the embedded mock vs a bare node:http server on loopback (goal: mock ≥ 0.5× bare req/s),
 * plus mock start-up time and the rate limiter's memory with 1,000,000 distinct keys. Writes bench/mock-results.md.
 *
 * Both servers run as child processes (bare on 127.0.0.1:4190, mock on 127.0.0.1:4191) and are driven by undici
 * Pools (concurrency 32: 32 pools of one connection, each bound to its own source address 127.0.0.10…41, or one pool
 * of 32 connections for the 429 path) after a 4 s warm-up, for a fixed time per path:
 *   200  GET /api/v0/sdk/{env}/settings  (auth none; sdk-ip + sdk-environment policies) — the mock clock is advanced
 *        past every window every 50 ms through /__mock/clock, so no request is throttled (checked: non-200s counted);
 *   401  GET /api/v0/environments/{env} without Authorization (admin-ip + admin-environment; same clock loop);
 *   429  GET /api/v0/sdk/{env}/nonce from one exhausted source address (no clock loop).
 * The bare server answers every request with a small fixed JSON body.
 *
 *   npm run bench:mock              3 s per path
 *   npm run bench:mock -- --quick   1 s per path
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { RateLimiter } from '../mock/ratelimit.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BARE_PORT = 4190;
const MOCK_PORT = 4191;
const CONCURRENCY = 32;
const SECONDS = process.argv.includes('--quick') ? 1 : 3;
/** Bare and mock runs alternate in this many slices per path (median of slices), so load drift hits both alike. */
const ROUNDS = 3;

const BARE_SERVER =
  `\n` +
  `const http = require('node:http');\n` +
  `const body = '{"ok":true}';\n` +
  `http.createServer((req, res) => {\n` +
  `  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ` +
  `'x-content-type-options': 'nosniff', 'content-length': body.length });\n` +
  `  res.end(body);\n` +
  `}).listen(${BARE_PORT}, '127.0.0.1', () => console.log('listening'));\n`;

interface Started {
  child: ChildProcess;
  ms: number;
}

function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve({ child, ms: performance.now() - t0 });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${String(code)}`)));
  });
}

function stop(s: Started): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  latencies: number[];
}

/** Drives `origin + path` with CONCURRENCY workers for `seconds`; each worker has its own pool and source address. */
async function load(origin: string, path: string, addresses: readonly string[], seconds: number): Promise<Load> {
  const connections = Math.max(1, Math.floor(CONCURRENCY / addresses.length));
  const pools = addresses.map((localAddress) => new Pool(origin, { connections, localAddress }));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  // Warm-up (connections, JIT), not measured.
  await Promise.all(pools.map(async (p) => (await request(`${origin}${path}`, { dispatcher: p })).body.dump()));
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_x, i) => {
      const dispatcher = pools[i % pools.length]!;
      while (performance.now() < end) {
        const t = performance.now();
        const r = await request(`${origin}${path}`, { dispatcher });
        await r.body.dump();
        latencies.push(performance.now() - t);
        statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
        n++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(pools.map((p) => p.close()));
  return summarize([n / elapsed], [latencies], [statuses]);
}

function summarize(rates: number[], latencyRuns: number[][], statusRuns: Record<string, number>[]): Load {
  const latencies = latencyRuns.flat().sort((a, b) => a - b);
  const q = (f: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * f))] ?? 0;
  const sorted = [...rates].sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of statusRuns) for (const [k, v] of Object.entries(r)) statuses[k] = (statuses[k] ?? 0) + v;
  return { rps: sorted[Math.floor(sorted.length / 2)] ?? 0, p50: q(0.5), p99: q(0.99), statuses, latencies };
}

/** Alternates bare and mock slices ROUNDS times; medians of the slices' req/s, pooled latencies. */
async function compare(
  bareRun: (seconds: number) => Promise<Load>,
  mockRun: (seconds: number) => Promise<Load>,
): Promise<[Load, Load]> {
  const bare: Load[] = [];
  const mock: Load[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    bare.push(await bareRun(SECONDS / ROUNDS));
    mock.push(await mockRun(SECONDS / ROUNDS));
  }
  const merge = (runs: Load[]): Load =>
    summarize(
      runs.map((r) => r.rps),
      runs.map((r) => r.latencies),
      runs.map((r) => r.statuses),
    );
  return [merge(bare), merge(mock)];
}

/** Advances the mock clock past every window every 50 ms while `fn` runs (keeps the 200/401 paths unthrottled). */
async function withClockLoop<T>(origin: string, fn: () => Promise<T>): Promise<T> {
  let running = true;
  const pool = new Pool(origin, { connections: 1 });
  const loop = (async () => {
    while (running) {
      const r = await request(`${origin}/__mock/clock`, {
        method: 'POST',
        dispatcher: pool,
        headers: { 'content-type': 'application/json' },
        body: '{"advanceSeconds":301}',
      });
      await r.body.dump();
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  try {
    return await fn();
  } finally {
    running = false;
    await loop;
    await pool.close();
  }
}

async function mockControl(origin: string, path: string): Promise<void> {
  const r = await request(`${origin}/__mock${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  await r.body.dump();
}

/** RSS / heap growth of the rate limiter after 1,000,000 distinct keys (measured in a fresh child process). */
function memoryChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const measure = (maxKeys: number): Record<string, number> => {
    gc?.();
    const before = process.memoryUsage();
    const limiter = new RateLimiter({ maxKeys });
    const windows = [
      { limit: 60, ms: 10_000 },
      { limit: 250, ms: 60_000 },
      { limit: 500, ms: 300_000 },
    ];
    const t0 = performance.now();
    const now = 1_767_225_600_000;
    for (let i = 0; i < 1_000_000; i++) {
      const ip = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
      limiter.hit([{ bucket: `sdk-ip|${ip}`, windows }], now);
    }
    const ms = performance.now() - t0;
    gc?.();
    const after = process.memoryUsage();
    return {
      maxKeys,
      buckets: limiter.size,
      evictedLive: limiter.evictedLive,
      ms,
      rssMiB: after.rss / 2 ** 20,
      rssDeltaMiB: (after.rss - before.rss) / 2 ** 20,
      heapDeltaMiB: (after.heapUsed - before.heapUsed) / 2 ** 20,
    };
  };
  const bounded = measure(100_000);
  const unbounded = measure(Number.POSITIVE_INFINITY);
  process.stdout.write(`${JSON.stringify({ bounded, unbounded })}\n`);
}

async function memory(): Promise<{ bounded: Record<string, number>; unbounded: Record<string, number> }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/bench-mock.ts', '--memory-child'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as { bounded: Record<string, number>; unbounded: Record<string, number> };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const bare = await start(['-e', BARE_SERVER], {}, /listening/);
  const mock = await start(
    ['mock/run.mjs', 'server.ts'],
    { MOCK_PORT: String(MOCK_PORT), MOCK_HOST: '127.0.0.1', MOCK_SEED: '1' },
    /listening on/,
  );
  const bareOrigin = `http://127.0.0.1:${BARE_PORT}`;
  const mockOrigin = `http://127.0.0.1:${MOCK_PORT}`;
  try {
    const seed = (await (await request(`${mockOrigin}/__mock/seed`)).body.json()) as { environments: { id: string }[] };
    const env = seed.environments[0]!.id;
    const many = Array.from({ length: CONCURRENCY }, (_x, i) => `127.0.0.${10 + i}`);
    const paths = [
      { name: '200', path: `/api/v0/sdk/${env}/settings`, addresses: many, clock: true },
      { name: '401', path: `/api/v0/environments/${env}`, addresses: many, clock: true },
      { name: '429', path: `/api/v0/sdk/${env}/nonce`, addresses: ['127.0.0.2'], clock: false },
    ];
    // Warm-up (client and servers JIT, connection set-up), not measured: the first measured path would pay for it.
    for (let i = 0; i < 2; i++) {
      await load(bareOrigin, paths[0]!.path, many, 1);
      await withClockLoop(mockOrigin, () => load(mockOrigin, paths[0]!.path, many, 1));
    }
    await mockControl(mockOrigin, '/reset');
    const rows: string[] = [];
    const summary: string[] = [];
    for (const p of paths) {
      if (!p.clock) {
        // Exhaust the nonce budget of the one source address first.
        const pool = new Pool(mockOrigin, { connections: 1, localAddress: p.addresses[0]! });
        for (let i = 0; i < 12; i++) await (await request(`${mockOrigin}${p.path}`, { dispatcher: pool })).body.dump();
        await pool.close();
      }
      const [bareLoad, mockLoad] = await compare(
        (sec) => load(bareOrigin, p.path, p.addresses, sec),
        (sec) =>
          p.clock
            ? withClockLoop(mockOrigin, () => load(mockOrigin, p.path, p.addresses, sec))
            : load(mockOrigin, p.path, p.addresses, sec),
      );
      const ratio = mockLoad.rps / bareLoad.rps;
      const statuses = Object.entries(mockLoad.statuses)
        .map(([s, c]) => `${s}×${c}`)
        .join(' ');
      rows.push(
        `| ${p.name} | \`${p.path.replace(env, '{env}')}\` | ${bareLoad.rps.toFixed(0)} ` +
          `| ${bareLoad.p99.toFixed(2)} | ${mockLoad.rps.toFixed(0)} | ` +
          `${mockLoad.p50.toFixed(2)} | ${mockLoad.p99.toFixed(2)} | **${ratio.toFixed(2)}` +
          `×** | ${statuses} |`,
      );
      summary.push(
        `${p.name}: mock ${mockLoad.rps.toFixed(0)} req/s (p99 ` +
          `${mockLoad.p99.toFixed(1)} ms) vs bare ${bareLoad.rps.toFixed(0)} ` +
          `req/s (p99 ${bareLoad.p99.toFixed(1)} ms) = ${ratio.toFixed(2)}× [` +
          `${statuses}]`,
      );
    }
    const mem = await memory();
    const lines = [
      '# Mock benchmark',
      '',
      `Generated ${new Date().toISOString()} by \`npm run bench:mock\`` +
        (SECONDS === 1 ? ' -- --quick' : '') +
        `. Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}.`,
      '',
      '## Start-up',
      '',
      `\`node mock/run.mjs server.ts\` to the "listening" line: **${mock.ms.toFixed(0)} ms** (bare ` +
        `node:http: ${bare.ms.toFixed(0)} ms). Environment keys are derived in the background right after.`,
      '',
      '## Throughput (loopback, client and servers share the machine)',
      '',
      `${SECONDS} s per path and server in ${ROUNDS} alternating slices (bare, mock, bare, …; req/s = ` +
        `median of the slices), concurrency ${CONCURRENCY} (undici Pools, one connection each). Goal: mock ` +
        `≥ 0.5× bare node:http. Load average at start: ` +
        loadAtStart.map((x) => x.toFixed(1)).join(' / ') +
        `.`,
      '',
      '| path | request | bare req/s | bare p99 ms | mock req/s ' +
        '| mock p50 ms | mock p99 ms | mock / bare | mock statuses ' +
        '|',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      '## Rate-limiter memory with 1,000,000 distinct keys',
      '',
      'In-process (`mock/ratelimit.ts`), sdk-ip windows (60/10 s, 250/60 s, ' +
        '500/300 s), one million source addresses within one window, after GC.',
      '',
      '| bound | buckets kept | evicted while live | RSS after ' +
        '(MiB) | RSS growth (MiB) | heap growth (MiB) | time (ms) ' +
        '|',
      '|---|---|---|---|---|---|---|',
      ...[mem.bounded, mem.unbounded].map(
        (m) =>
          `| ` +
          (Number.isFinite(m['maxKeys'])
            ? `maxKeys ${m['maxKeys']!.toLocaleString('en')} (default)`
            : 'unbounded (comparison)') +
          ` | ${m['buckets']!.toLocaleString('en')} | ` +
          `${m['evictedLive']!.toLocaleString('en')} | ${m['rssMiB']!.toFixed(0)} | ` +
          `${m['rssDeltaMiB']!.toFixed(0)} | ${m['heapDeltaMiB']!.toFixed(0)} | ` +
          `${m['ms']!.toFixed(0)} |`,
      ),
      '',
    ];
    mkdirSync(join(ROOT, 'bench'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'mock-results.md'), `${lines.join('\n')}\n`);
    process.stdout.write(
      [
        `mock start-up: ${mock.ms.toFixed(0)} ms`,
        ...summary,
        `rate limiter, 1,000,000 keys: bounded → ${mem.bounded['buckets']!.toLocaleString('en')} ` +
          `buckets, heap +${mem.bounded['heapDeltaMiB']!.toFixed(0)} MiB, RSS ` +
          `${mem.bounded['rssMiB']!.toFixed(0)} MiB; unbounded would hold heap +` +
          `${mem.unbounded['heapDeltaMiB']!.toFixed(0)} MiB`,
        '→ bench/mock-results.md',
      ].join('\n') + '\n',
    );
  } finally {
    await Promise.all([stop(bare), stop(mock)]);
  }
}

if (process.argv.includes('--memory-child')) memoryChild();
else
  main().catch((err: unknown) => {
    process.stderr.write(`bench:mock: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
