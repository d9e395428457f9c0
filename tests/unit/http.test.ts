/**
 * The suite's HTTP client: redacted exchanges, replay lines without values, guards (SEC-002, SEC-004), budget, 429
 * policy.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { BudgetExceededError, HttpClient, bearer } from '../../src/http/client.js';
import { Secret } from '../../src/secrets/redact.js';

let server: Server;
let base: string;
let seenAuthorization: string[] = [];
let limited = 0;

before(async () => {
  server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (auth) seenAuthorization.push(auth);
    if (req.url?.startsWith('/api/v0/redirect')) {
      res.writeHead(302, { location: `${base}/api/v0/landing` }).end();
      return;
    }
    if (req.url?.startsWith('/api/v0/limited') && limited++ < 1) {
      res.writeHead(429, { 'retry-after': '1' }).end('{"error":"Too many requests"}');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ echo: auth ?? null, raw: req.rawHeaders.filter((_, i) => i % 2 === 0) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const token = new Secret(`dyn_${'Zz9'.repeat(18)}xy`, 'DYNAMIC_API_TOKEN');
const client = (budget = 100): HttpClient =>
  new HttpClient({
    baseUrl: `${base}/api/v0`,
    requestBudget: budget,
    rateLimited: { kind: 'wait', maxWaitSeconds: 2, maxRetries: 1 },
    allowCredentialInUrl: false,
  });

/** A client of `baseUrl` with a small budget and no 429 policy (`ca`: the TLS test server's certificate). */
const unlimitedClient = (baseUrl: string, ca?: string): HttpClient =>
  new HttpClient({
    baseUrl,
    requestBudget: 10,
    rateLimited: { kind: 'none' },
    allowCredentialInUrl: false,
    ...(ca === undefined ? {} : { ca }),
  });

test('exchanges and curl lines never carry the credential, even when the server echoes it', async () => {
  const c = client();
  const res = await c.send({ method: 'GET', path: '/x', headers: [['authorization', bearer(token)]] });
  assert.equal(res.status, 200);
  const recorded = JSON.stringify(c.takeExchanges());
  assert.ok(!recorded.includes(token.reveal()), 'exchange is redacted');
  assert.match(res.exchange.curl, /authorization: Bearer \$DYNAMIC_API_TOKEN/i);
  assert.ok(!res.exchange.curl.includes(token.reveal()));
  await c.close();
});

test('after an interim 103, in chunks with a byte order mark: the final head and the whole text', async () => {
  const hinted = createServer((_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload' });
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
    res.write(Buffer.from([0xef, 0xbb, 0xbf]));
    res.write('{"name":"caf');
    setTimeout(() => res.end('é"}'), 5);
  });
  await new Promise<void>((r) => hinted.listen(0, '127.0.0.1', r));
  const c = unlimitedClient(`http://127.0.0.1:${(hinted.address() as AddressInfo).port}/api/v0`);
  try {
    const res = await c.send({ method: 'GET', path: '/x' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '{"name":"café"}');
    assert.deepEqual(res.json, { name: 'café' });
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(res.headers.link, undefined, 'the interim head is not the answer');
  } finally {
    await c.close();
    await new Promise<void>((r) => hinted.close(() => r()));
  }
});

test('repeated header names are sent as repeated lines', async () => {
  const c = client();
  const res = await c.send({
    method: 'GET',
    path: '/x',
    headers: [
      ['authorization', 'Bearer a'],
      ['authorization', 'Bearer b'],
    ],
  });
  assert.deepEqual((res.json as { raw: string[] }).raw.filter((h) => h.toLowerCase() === 'authorization').length, 2);
  await c.close();
});

test('SEC-002: a credential-shaped value in the URL is refused before sending', async () => {
  const c = client();
  await assert.rejects(
    c.send({ method: 'GET', path: '/x', query: { token: token.reveal() } }),
    /refusing to send a credential-shaped value in a URL/,
  );
  await assert.rejects(
    c.send({ method: 'GET', path: '/x', query: { access_token: token.reveal() }, credentialInUrl: true }),
    /refusing/,
    'only allowed when the client allows it (mock target)',
  );
  await c.close();
});

test('SEC-004: redirects are not followed, so Authorization never travels to a second location', async () => {
  seenAuthorization = [];
  const c = client();
  const res = await c.send({ method: 'GET', path: '/redirect', headers: [['authorization', bearer(token)]] });
  assert.equal(res.status, 302);
  assert.equal(seenAuthorization.length, 1);
  await c.close();
});

test('the request budget stops the run with a readable error', async () => {
  const c = client(1);
  await c.send({ method: 'GET', path: '/x' });
  await assert.rejects(
    c.send({ method: 'GET', path: '/x' }),
    (e: unknown) => e instanceof BudgetExceededError && /DYNAMIC_REQUEST_BUDGET/.test(e.message),
  );
  await c.close();
});

test('live policy: a 429 is retried after Retry-After (waits at least that long)', async () => {
  limited = 0;
  const c = client();
  const t0 = Date.now();
  const res = await c.send({ method: 'GET', path: '/limited' });
  assert.equal(res.status, 200);
  assert.ok(Date.now() - t0 >= 1000, 'waited Retry-After');
  limited = 0;
  const seen = await c.send({ method: 'GET', path: '/limited', on429: 'return' });
  assert.equal(seen.status, 429, 'rate-limit checks see the 429 itself');
  await c.close();
});

test('a transport error is an exchange with status 0 and a redacted message', async () => {
  const c = unlimitedClient('http://127.0.0.1:9/api/v0');
  const res = await c.send({ method: 'GET', path: '/x', headers: [['authorization', bearer(token)]] });
  assert.equal(res.status, 0);
  assert.ok(res.exchange.error);
  assert.ok(!JSON.stringify(res.exchange).includes(token.reveal()));
  await c.close();
});

test('live policy: a refused connection is not retried (nothing listens; a retry cannot help)', async () => {
  const c = new HttpClient({
    baseUrl: 'http://127.0.0.1:9/api/v0',
    requestBudget: 10,
    rateLimited: { kind: 'wait', maxWaitSeconds: 2, maxRetries: 1 },
    allowCredentialInUrl: false,
  });
  const res = await c.send({ method: 'GET', path: '/x' });
  assert.equal(res.status, 0);
  assert.match(res.exchange.error ?? '', /ECONNREFUSED/);
  assert.equal(c.requestsSent, 1, 'one attempt');
  await c.close();
});

test(
  'live policy: a reset is retried twice, and after 5 ' +
    'transport errors in a row the target counts as down (no ' +
    'retries)',
  async () => {
    let accepted = 0;
    const resetting = createTcpServer((socket) => {
      accepted += 1;
      socket.resetAndDestroy();
    });
    await new Promise<void>((r) => resetting.listen(0, '127.0.0.1', r));
    const c = new HttpClient({
      baseUrl: `http://127.0.0.1:${(resetting.address() as AddressInfo).port}/api/v0`,
      requestBudget: 50,
      rateLimited: { kind: 'wait', maxWaitSeconds: 2, maxRetries: 1 },
      allowCredentialInUrl: false,
    });
    const first = await c.send({ method: 'GET', path: '/x' });
    assert.equal(first.status, 0);
    assert.equal(c.requestsSent, 3, 'the first request: one attempt and two retries');
    await c.send({ method: 'GET', path: '/x' });
    assert.equal(c.requestsSent, 5, 'the second: the 4th and 5th failure in a row, the breaker opens');
    await c.send({ method: 'GET', path: '/x' });
    assert.equal(c.requestsSent, 6, 'the third: one attempt, no retry');
    assert.equal(accepted, 6);
    await c.close();
    await new Promise<void>((r) => resetting.close(() => r()));
  },
);

test('sendRaw speaks TLS to an https target and parses the answer', async () => {
  const dir = new URL('./fixtures/tls/', import.meta.url);
  const cert = readFileSync(new URL('localhost.cert.pem', dir), 'utf8');
  let received = '';
  const tls = createTlsServer({ key: readFileSync(new URL('localhost.key.pem', dir)), cert }, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n'))
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\r\n{"error":"Unauthorized"}');
    });
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  const c = unlimitedClient(`https://127.0.0.1:${(tls.address() as AddressInfo).port}/api/v0`, cert);
  const res = await c.sendRaw(
    Buffer.from('GET /api/v0/x HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer a\u0000b\r\n\r\n', 'latin1'),
    'NUL in a token',
  );
  assert.equal(res.status, 401);
  assert.deepEqual(res.json, { error: 'Unauthorized' });
  assert.match(
    received,
    /^GET \/api\/v0\/x HTTP\/1\.1\r\n/,
    'the server read the request in the clear, after the handshake',
  );
  const untrusted = unlimitedClient(`https://127.0.0.1:${(tls.address() as AddressInfo).port}/api/v0`);
  const refused = await untrusted.sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'untrusted');
  assert.equal(refused.status, 0, 'an untrusted certificate is no answer');
  assert.deepEqual(
    [refused.transport?.kind, refused.transport?.phase, untrusted.requestsSent],
    ['tls', 'connect', 1],
    'a retry cannot cure it',
  );
  await c.close();
  await untrusted.close();
  await new Promise<void>((r) => tls.close(() => r()));
});

test('sendRaw to a closed port: a connect-phase transport fault (never read as "rejected"), not retried', async () => {
  const c = unlimitedClient('http://127.0.0.1:9/api/v0');
  const res = await c.sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'probe');
  assert.equal(res.status, 0);
  assert.deepEqual(
    [res.transport?.kind, res.transport?.phase, res.transport?.code],
    ['refused', 'connect', 'ECONNREFUSED'],
  );
  assert.match(res.exchange.error ?? '', /ECONNREFUSED/);
  assert.equal(c.requestsSent, 1);
  assert.deepEqual(c.transport, { failedAttempts: 1, retried: 0, recovered: 0, unanswered: 1 });
  await c.close();
});
