/**
 * The test front (tests/integration/support/front.ts) against a small loopback upstream: it passes bytes through
 * unchanged (raw requests included) from the client's own address, counts requests and /__mock/ requests, closes idle
 * connections after the idle timeout, and drops a seeded share of requests by resetting before any response byte.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { startFront, type Front } from './support/front.js';

let upstream: Server;
let upstreamPort = 0;
const seenFrom: string[] = [];

before(async () => {
  upstream = createServer((req, res) => {
    seenFrom.push(req.socket.remoteAddress ?? '');
    const body = JSON.stringify({
      method: req.method,
      url: req.url,
      auth: req.headers.authorization ?? null,
      raw: req.rawHeaders.length,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  upstream.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const a = upstream.address();
  upstreamPort = typeof a === 'object' && a !== null ? a.port : 0;
});

after(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

async function withFront<T>(
  options: { idleTimeoutMs?: number; dropRate?: number; seed?: number },
  fn: (front: Front) => Promise<T>,
): Promise<T> {
  const front = await startFront({ upstream: { host: '127.0.0.1', port: upstreamPort }, ...options });
  try {
    return await fn(front);
  } finally {
    await front.close();
  }
}

/** Sequential GETs over one keep-alive pool; returns 'ok' or the error code of each. */
async function sequence(url: string, n: number, localAddress?: string): Promise<string[]> {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000, ...(localAddress ? { localAddress } : {}) });
  const out: string[] = [];
  try {
    for (let i = 0; i < n; i += 1) {
      try {
        const res = await request(`${url}/api/v0/item/${i}`, { dispatcher: agent });
        await res.body.text();
        out.push(res.statusCode === 200 ? 'ok' : String(res.statusCode));
      } catch (error) {
        out.push(String((error as { code?: string }).code ?? 'error'));
      }
    }
  } finally {
    await agent.close();
  }
  return out;
}

/** Raw bytes over a fresh connection; resolves with everything the server sent before closing. */
function raw(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

test('passes requests through from the client address, counts them (/__mock/ apart); none dropped at 0', async () => {
  await withFront({ dropRate: 0 }, async (front) => {
    seenFrom.length = 0;
    assert.deepEqual(await sequence(front.url, 5, '127.0.0.9'), ['ok', 'ok', 'ok', 'ok', 'ok']);
    const res = await request(`${front.url}/__mock/health`);
    assert.equal((JSON.parse(await res.body.text()) as { url: string }).url, '/__mock/health');
    const s = front.stats();
    assert.equal(s.requests, 6);
    assert.equal(s.controlRequests, 1);
    assert.equal(s.dropped, 0);
    assert.ok(
      seenFrom.slice(0, 5).every((a) => a.endsWith('127.0.0.9')),
      `upstream saw ${seenFrom.join(', ')}`,
    );
  });
});

test('raw request bytes pass unchanged (duplicate Authorization lines) and the answer comes back whole', async () => {
  await withFront({ dropRate: 0 }, async (front) => {
    const answer = await raw(
      front.port,
      Buffer.from(
        'GET /api/v0/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer a\r\n' +
          'Authorization: Bearer b\r\nConnection: close\r\n\r\n',
        'latin1',
      ),
    );
    const text = answer.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(
      (JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { raw: number }).raw,
      8,
      'four header lines reached the upstream',
    );
  });
});

test('an idle keep-alive connection is closed after the idle timeout', async () => {
  await withFront({ dropRate: 0, idleTimeoutMs: 200 }, async (front) => {
    const socket = connect({ host: '127.0.0.1', port: front.port });
    const closedAfter = await new Promise<number>((resolve) => {
      const t0 = performance.now();
      socket.on('close', () => resolve(performance.now() - t0));
      socket.on('error', () => undefined);
    });
    assert.ok(closedAfter >= 150 && closedAfter < 2000, `closed after ${closedAfter} ms`);
    assert.equal(front.stats().idleCloses, 1);
  });
});

test('drops a seeded share of requests: reset before any response byte, same sequence for a seed', async () => {
  const runs = await Promise.all(
    [1, 2].map(() =>
      withFront({ dropRate: 0.3, seed: 42 }, async (front) => ({
        results: await sequence(front.url, 40),
        stats: front.stats(),
      })),
    ),
  );
  const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
  assert.deepEqual(a.results, b.results, 'same seed, same drops');
  const failed = a.results.filter((r) => r !== 'ok');
  assert.equal(failed.length, a.stats.dropped);
  assert.ok(a.stats.dropped >= 4 && a.stats.dropped <= 20, `dropped ${a.stats.dropped} of 40 at 30 %`);
  assert.ok(
    failed.every((code) => code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'),
    failed.join(', '),
  );
  assert.equal(a.stats.droppedRequests.length, a.stats.dropped);
  assert.match(a.stats.droppedRequests[0]!, /^GET \/api\/v0\/item\/\d+$/);
  const other = await withFront({ dropRate: 0.3, seed: 43 }, async (front) => sequence(front.url, 40));
  assert.notDeepEqual(other, a.results, 'another seed, other drops');
});

test('the default rate drops about 1 % of requests and never a /__mock/ request', async () => {
  await withFront({}, async (front) => {
    const results = await sequence(front.url, 400);
    const control = await Promise.all(
      Array.from({ length: 50 }, () =>
        request(`${front.url}/__mock/seed`).then(async (r) => (await r.body.text(), r.statusCode)),
      ),
    );
    const s = front.stats();
    assert.ok(control.every((status) => status === 200));
    assert.equal(s.controlRequests, 50);
    assert.equal(results.filter((r) => r !== 'ok').length, s.dropped);
    assert.ok(s.dropped >= 1 && s.dropped <= 10, `dropped ${s.dropped} of 400`);
  });
});
