/**
 * The live path end to end against the sandbox simulator (the mock with MOCK_CLOCK=real), as a nightly job runs it:
 * DYNAMIC_TARGET=live with only the environment id, project id and API token (plus the optional other-environment,
 * limited and inactive tokens) at a small request budget and a time budget, behind a loopback front that records every
 * request. Asserted: no 429 at all (the pacer keeps every policy's windows; none is unplanned in the reports), the
 * user JWT was obtained through the sandbox test account and /sdk user-JWT operations answered 2xx with it, no request
 * reached /__mock/, the plan and the actual pacing figures are in both reports, and the reports are complete (every
 * rule of the selection in the matrix, none "not run" when the time budget was not hit). Bounded: < 2 minutes.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startMock, seedOf, tokenOf, type Mock, type Seed } from './support/mock-process.js';
import { runSuite, tail } from './support/suite-runs.js';

const OUT = `/tmp/helper-live-simulator-${process.pid}`;
/** Rules over api-token, user-jwt and public operations, a JWT rule, the schema sweep and the suite's hygiene. */
const GREP = '(AUTH-001|AUTH-005|AUTH-007|AUTH-012|JWT-001|JWT-003|SCHEMA-001|SEC-001) ';

interface Seen {
  method: string;
  path: string;
  status: number;
  bearerJwt: boolean;
}

/** A loopback front that forwards to the simulator and records every request (path and status). */
async function recordingFront(target: string): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        seen.push({
          method: req.method ?? '',
          path: req.url ?? '',
          status: up.statusCode ?? 0,
          bearerJwt: /^Bearer eyJ/.test(req.headers.authorization ?? ''),
        });
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let simulator: Mock;
let seed: Seed;
let front: Awaited<ReturnType<typeof recordingFront>>;

before(async () => {
  simulator = await startMock({ MOCK_CLOCK: 'real' });
  seed = await seedOf(simulator);
  front = await recordingFront(simulator.url);
});

after(async () => {
  await front?.close();
  await simulator?.stop();
});

test(
  'a paced live run against the simulator: no 429, a JWT from the test account, no /__mock/, complete reports',
  { timeout: 150_000 },
  async () => {
    const sandbox = seed.environments.find((e) => e.name === 'sandbox')!;
    const other = seed.environments.find((e) => e.name === 'live')!;
    const projectId = ((await simulator.control('GET', '/seed')) as { environments: { projectId?: string }[] })
      .environments[0]!.projectId!;
    const run = await runSuite(
      OUT,
      ['test', '-g', GREP],
      {
        DYNAMIC_TARGET: 'live',
        DYNAMIC_API_URL: `${front.url}/api/v0`,
        DYNAMIC_ENVIRONMENT_ID: sandbox.id,
        DYNAMIC_PROJECT_ID: projectId,
        DYNAMIC_API_TOKEN: tokenOf(seed, sandbox.id, 'all'),
        DYNAMIC_OTHER_ENVIRONMENT_ID: other.id,
        DYNAMIC_OTHER_ENVIRONMENT_TOKEN: tokenOf(seed, other.id, 'all'),
        DYNAMIC_LIMITED_TOKEN: tokenOf(seed, sandbox.id, 'read-only'),
        DYNAMIC_INACTIVE_TOKEN: tokenOf(seed, sandbox.id, 'inactive'),
        DYNAMIC_REQUEST_BUDGET: '400',
        DYNAMIC_TIME_BUDGET_MINUTES: '2',
        DYNAMIC_RUN_NUMBER: '7',
        FC_SEED: '13',
        FC_RUNS: '3',
      },
      {},
      140_000,
    );
    const output = tail(run, 40);
    assert.ok(run.ms < 120_000, `bounded in time: ${run.ms} ms\n${output}`);

    // Not a single 429 on the wire, and no request to the control API.
    const tooMany = front.seen.filter((s) => s.status === 429);
    assert.deepEqual(tooMany, [], `429s on the wire:\n${output}`);
    assert.deepEqual(
      front.seen.filter((s) => s.path.startsWith('/__mock')),
      [],
      'the suite in live mode never calls /__mock/',
    );
    assert.ok(front.seen.length > 50, `the run sent requests (${front.seen.length})`);

    // The JWT came from the test account flow and the /sdk user-JWT operations answered 2xx with it.
    const signin = front.seen.filter((s) => s.path.endsWith('/emailVerifications/signin'));
    assert.ok(
      signin.some((s) => s.status === 200),
      'signed in through emailVerifications/signin',
    );
    const sdkUserOps = front.seen.filter(
      (s) => s.path.startsWith(`/api/v0/sdk/${sandbox.id}/`) && s.bearerJwt && s.status >= 200 && s.status < 300,
    );
    assert.ok(sdkUserOps.length > 0, `a user-jwt operation answered 2xx with the obtained JWT:\n${output}`);

    // Both reports are complete and carry the pacing figures.
    const report = JSON.parse(readFileSync(join(OUT, 'conformance-report', 'report.json'), 'utf8')) as {
      runStatus: string;
      rules: { id: string; status: string; skipReasons: string[] }[];
      pacing: {
        unplanned429: number;
        plan: { budget: number; minimumMs: number };
        requests: number;
        minimumMs: number;
        jwt: { user: { source: string } };
      };
      rotation: { pairsCovered: number; nightsForFullRotation: number; rotation: number };
      notRun: unknown[];
    };
    assert.equal(report.pacing.unplanned429, 0);
    assert.equal(report.pacing.jwt.user.source, 'test-account');
    assert.equal(report.pacing.plan.budget, 400);
    assert.ok(
      report.pacing.requests > 0 && report.pacing.requests <= 400,
      `requests within the run-wide budget: ${report.pacing.requests}`,
    );
    assert.equal(report.rotation.rotation, 7);
    assert.ok(report.rotation.pairsCovered > 0 && report.rotation.nightsForFullRotation >= 1);
    const ids = ['AUTH-001', 'AUTH-005', 'AUTH-007', 'AUTH-012', 'JWT-001', 'JWT-003', 'SCHEMA-001', 'SEC-001'];
    assert.deepEqual(
      report.rules
        .map((r) => r.id)
        .filter((id) => ids.includes(id))
        .sort(),
      ids,
      'every selected rule is in the matrix',
    );
    assert.deepEqual(report.notRun, [], 'the time budget was not hit');
    assert.ok(
      !report.rules.some((r) => r.skipReasons.some((s) => /DYNAMIC_USER_JWT is not set/.test(s))),
      'no rule skipped for want of a JWT',
    );
    const html = readFileSync(join(OUT, 'conformance-report', 'index.html'), 'utf8');
    assert.match(html, /unplanned 429/);
    assert.match(html, /test account/);
    assert.match(run.stdout, /Live pacing plan: request budget 400/);
    assert.match(run.stdout, /unplanned 429s: 0/);
    const playwrightHtml = readFileSync(join(OUT, 'playwright-report', 'index.html'), 'utf8');
    assert.ok(playwrightHtml.length > 1000, 'the Playwright report was written');
  },
);
