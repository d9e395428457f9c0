/**
 * The mock's two clocks and the sandbox simulator (issue #13, item 1), over HTTP against child processes:
 * `MOCK_CLOCK=frozen` (default) never moves by itself; `MOCK_CLOCK=real` follows wall time — `Retry-After` counts
 * down, a JWT expires — and the control API still moves it for harnesses; bad values name the variable;
 * `npm run simulator` runs the real clock and prints the live-mode variables of its seeded sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runMockEntry, seedOf, startMock, tokenOf, type Mock, type Seed } from './support/mock-process.js';

let real: Mock;
let frozen: Mock;
let seed: Seed;
let sandbox: string;

before(async () => {
  [real, frozen] = await Promise.all([startMock({ MOCK_CLOCK: 'real' }), startMock({})]);
  seed = await seedOf(real);
  sandbox = seed.environments.find((e) => e.name === 'sandbox')!.id;
});

after(async () => {
  await Promise.all([real?.stop(), frozen?.stop()]);
});

const now = async (mock: Mock): Promise<number> => (await seedOf(mock)).now;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the startup line names the clock', () => {
  assert.match(real.stdout, /clock real/);
  assert.match(frozen.stdout, /clock frozen/);
});

test('frozen (default) stands still; real follows wall time', async () => {
  const [f0, r0] = await Promise.all([now(frozen), now(real)]);
  assert.equal(f0, 1767225600, 'the frozen clock starts at MOCK_START_TIME');
  assert.ok(Math.abs(r0 - Date.now() / 1000) < 5, `real clock ${r0} vs wall ${Date.now() / 1000}`);
  await sleep(1100);
  const [f1, r1] = await Promise.all([now(frozen), now(real)]);
  assert.equal(f1, f0);
  assert.ok(r1 - r0 >= 1 && r1 - r0 < 10, `real clock moved ${r1 - r0} s in 1.1 s`);
});

test('real clock: Retry-After counts down with wall time; control moves the clock, reset goes back', async () => {
  // sdk-ip (docs-2026): 60 requests per 10 s per IP; a private source address keeps other tests' buckets apart.
  const from = '127.0.0.77';
  const path = `/api/v0/sdk/${sandbox}/.well-known/jwks`;
  let first: number | undefined;
  for (let i = 0; i < 70 && first === undefined; i += 1) {
    const res = await real.call('GET', path, { localAddress: from });
    if (res.status === 429) first = Number(res.headers['retry-after']);
  }
  assert.ok(
    first !== undefined && first >= 1 && first <= 10,
    `a 429 with Retry-After within the 10 s window, got ${first}`,
  );
  await sleep(2100);
  const later = await real.call('GET', path, { localAddress: from });
  assert.equal(later.status, 429);
  assert.ok(
    Number(later.headers['retry-after']) <= first - 1,
    `Retry-After ${first} then ${String(later.headers['retry-after'])} 2.1 s later`,
  );
  const before = await now(real);
  await real.control('POST', '/clock', { advanceSeconds: 11 });
  assert.ok((await now(real)) - before >= 11);
  assert.equal((await real.call('GET', path, { localAddress: from })).status, 200, 'the window passed after advancing');
  await real.control('POST', '/reset', {});
  assert.ok(Math.abs((await now(real)) - Date.now() / 1000) < 5, 'reset returns to wall time');
});

test('real clock: a JWT expires by itself', async () => {
  const t = await now(real);
  const { jwt } = (await real.control('POST', '/jwt', {
    environmentId: sandbox,
    claims: { exp: Math.ceil(t) + 2 },
  })) as { jwt: string };
  const path = `/api/v0/sdk/${sandbox}/businessAccounts`;
  const headers = { authorization: `Bearer ${jwt}` };
  assert.equal((await real.call('GET', path, { headers, localAddress: '127.0.0.78' })).status, 200, 'valid before exp');
  await sleep(3100);
  const expired = await real.call('GET', path, { headers, localAddress: '127.0.0.78' });
  assert.equal(expired.status, 401, `expired after exp: ${expired.text}`);
  // the same token on the frozen clock would stay valid until told otherwise: that clock did not move
  assert.equal(await now(frozen), 1767225600);
});

test('bad clock settings get one line naming the variable, exit 2', async () => {
  const bad = await runMockEntry('server.ts', { MOCK_PORT: '0', MOCK_CLOCK: 'sometimes' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^mock: MOCK_CLOCK must be "frozen" .* or "real" .*\(got "sometimes"\)\n$/);
  const both = await runMockEntry('server.ts', { MOCK_PORT: '0', MOCK_CLOCK: 'real', MOCK_START_TIME: '100' });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /MOCK_START_TIME applies only to MOCK_CLOCK=frozen/);
  const sim = await runMockEntry('simulator.ts', { MOCK_PORT: '0', MOCK_CLOCK: 'frozen' });
  assert.equal(sim.code, 2);
  assert.match(sim.stderr, /^simulator: the simulator always runs MOCK_CLOCK=real/);
});

test('npm run simulator: real clock on loopback, prints the sandbox live-mode variables, simulator-only', async () => {
  const run = await runMockEntry('simulator.ts', { MOCK_PORT: '0' }, { untilLine: /npm run conformance/ });
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+\/api\/v0)/.exec(run.stdout)?.[1];
  assert.ok(url, run.stdout + run.stderr);
  assert.match(run.stdout, /clock real/);
  assert.match(run.stdout, /SIMULATOR-ONLY test credentials/);
  const vars = Object.fromEntries([...run.stdout.matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const env = seed.environments;
  assert.equal(vars['DYNAMIC_TARGET'], 'live');
  assert.equal(vars['DYNAMIC_API_URL'], url);
  assert.equal(vars['DYNAMIC_ENVIRONMENT_ID'], sandbox, 'the same seed (MOCK_SEED=1) gives the same sandbox');
  assert.equal(vars['DYNAMIC_PROJECT_ID'], (env.find((e) => e.name === 'sandbox') as { projectId?: string }).projectId);
  assert.equal(vars['DYNAMIC_API_TOKEN'], tokenOf(seed, sandbox, 'all'));
  assert.equal(vars['DYNAMIC_LIMITED_TOKEN'], tokenOf(seed, sandbox, 'read-only'));
  assert.equal(vars['DYNAMIC_INACTIVE_TOKEN'], tokenOf(seed, sandbox, 'inactive'));
  const other = env.find((e) => e.name === 'live')!.id;
  assert.equal(vars['DYNAMIC_OTHER_ENVIRONMENT_ID'], other);
  assert.equal(vars['DYNAMIC_OTHER_ENVIRONMENT_TOKEN'], tokenOf(seed, other, 'all'));
  assert.equal(vars['DYNAMIC_USER_JWT'], undefined, 'no static JWT: the suite obtains its own');
});
