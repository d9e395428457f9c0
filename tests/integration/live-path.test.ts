/**
 * The live code path on every commit: the real suite with DYNAMIC_TARGET=live semantics against private mocks. Two
 * suite runs at the same time, each with its own output folder, one worker and its own mock: two independent instances
 * (own clock, rate-limit buckets and store) of one sandbox-simulator process (MOCK_CLOCK=real, control API on, as by
 * default). A suite run's cost is mostly its fixed start-up, so each scenario that needs its own configuration is
 * one run, and every assertion is made on the run that has that configuration:
 *
 * - **the simulator run**: the sandbox simulator behind a loopback front that records every request, as a nightly job
 *   runs it: the environment id, project id and API token plus the optional other-environment, limited and inactive
 *   tokens (no DYNAMIC_USER_JWT), a request budget of 400 and a time budget. Asserted: the target is live in the
 *   matrix; no 429 at all (the pacer keeps every policy's windows; none is unplanned in the reports); the user JWT was
 *   obtained through the sandbox test account and /sdk user-JWT operations answered 2xx with it; not one request
 *   reached /__mock/ (the suite in live mode never calls the mock's control API, issue #13, item 1); the plan and the
 *   actual pacing figures are in both reports; the reports are complete (every rule of the selection in the matrix,
 *   none "not run" when the time budget was not hit); a check the catalogue skips on live is a skip with the reason;
 *   traces are off (no trace anywhere, SEC-005 passes); the sandbox verification (GET
 *   /projects/{projectId}/environments) succeeds for the seeded sandbox (SEC-003, nothing skipped); and no credential
 *   appears in any artifact. Bounded: < 2 minutes.
 * - **the no-optional-credentials run**: the other instance, with only the seeded sandbox token, environment and
 *   project and DYNAMIC_REQUEST_BUDGET=25. Asserted: checks whose credential is not configured are skipped with the
 *   reason naming the variable, never passed and never failed; the burst gate refuses without
 *   DYNAMIC_RATE_LIMIT_BUDGET; the budget stops a rule with a readable reason shown in the matrix (a skip, never a pass
 *   or a failure) and holds run-wide; traces are off; the token is in no artifact.
 *
 * For both: every test of the run is in the matrix and nothing is a pass without outcomes; every skip has a reason.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkFor } from '../../src/checks/index.js';
import { filesUnder, scanPaths } from '../../src/secrets/leaks.js';
import type { MatrixReport, RuleReport } from '../../src/report/matrix-reporter.js';
import { seedOf, startMocks, tokenOf, type Mock, type Seed } from './support/mock-process.js';
import { runSuite, tail, type SuiteRun } from './support/suite-runs.js';

/** One folder per test process: concurrent `npm test` runs on one machine must not share output. */
const OUT = `/tmp/helper-live-path-${process.pid}`;

/**
 * The simulator run: rules over api-token, user-jwt and public operations, the optional-credential checks, the JWT
 * rules, the error sweeps, the schema sweep and the suite properties (SEC-*). Ids followed by a space match only at
 * the start of a title. The simulator's clock is real, so the pacer's waits (Retry-After, windows) end.
 */
const SIMULATOR_GREP = '(AUTH-001|AUTH-00[5-8]|AUTH-012|JWT-00[1-3]|JWT-005|ERR-00[4-6]|SCHEMA-001|SEC-00[1-6]) ';
/** The rules the simulator run must list, whatever their verdict. */
const SIMULATOR_RULES = [
  ...['AUTH-001', 'AUTH-005', 'AUTH-006', 'AUTH-007', 'AUTH-008', 'AUTH-012'],
  ...['ERR-004', 'ERR-005', 'ERR-006', 'JWT-001', 'JWT-002', 'JWT-003', 'JWT-005', 'SCHEMA-001'],
  ...['SEC-001', 'SEC-002', 'SEC-003', 'SEC-004', 'SEC-005', 'SEC-006'],
];
/**
 * The no-optional-credentials run: the rules that need an optional credential (AUTH-007, AUTH-008), the burst gate
 * (RATE-015, rate-limit project) and one sweep with the configured token (AUTH-005) that the budget of 25 stops.
 */
const BARE_GREP = '(AUTH-005|AUTH-007|AUTH-008|RATE-015) ';
const BARE_BUDGET = 25;

interface Seen {
  method: string;
  path: string;
  /** 0 until the simulator answered. */
  status: number;
  bearerJwt: boolean;
}

/** A loopback front that forwards to the simulator and records every request (on arrival) and its status. */
async function recordingFront(target: string): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const entry: Seen = {
      method: req.method ?? '',
      path: req.url ?? '',
      status: 0,
      bearerJwt: /^Bearer eyJ/.test(req.headers.authorization ?? ''),
    };
    seen.push(entry);
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        entry.status = up.statusCode ?? 0;
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

let bareMock: Mock;
let simulator: Mock;
let front: Awaited<ReturnType<typeof recordingFront>>;
let bareToken: string;
/** Every credential the simulator run was given (scanned for in its artifacts). */
let simulatorCredentials: string[];
let sandboxId: string;

let bare: SuiteRun;
let sim: SuiteRun;
let bareReport: MatrixReport;
let simReport: MatrixReport;

function matrixOf(run: SuiteRun): MatrixReport {
  return JSON.parse(readFileSync(join(run.outDir, 'conformance-report', 'report.json'), 'utf8')) as MatrixReport;
}

function junitRules(run: SuiteRun): string[] {
  const xml = readFileSync(join(run.outDir, 'test-results', 'junit.xml'), 'utf8');
  return [...new Set([...xml.matchAll(/<testcase name="[^"]*?› ([A-Z]+-\d{3}) /g)].map((m) => m[1]!))].sort();
}

/** The seeded sandbox environment, with the project it belongs to. */
function sandboxOf(seed: Seed): { id: string; projectId: string } {
  const sandbox = seed.environments.find((e) => e.name === 'sandbox') as { id: string; projectId?: string } | undefined;
  assert.ok(sandbox?.projectId, 'the mock seeds a sandbox with its project');
  return { id: sandbox.id, projectId: sandbox.projectId };
}

async function runBare(): Promise<SuiteRun> {
  const seed = await seedOf(bareMock);
  const sandbox = sandboxOf(seed);
  bareToken = tokenOf(seed, sandbox.id, 'all');
  return runSuite(join(OUT, 'bare'), ['test', '--workers=1', '-g', BARE_GREP], {
    DYNAMIC_TARGET: 'live',
    DYNAMIC_API_URL: `${bareMock.url}/api/v0`,
    DYNAMIC_ENVIRONMENT_ID: sandbox.id,
    DYNAMIC_API_TOKEN: bareToken,
    DYNAMIC_PROJECT_ID: sandbox.projectId,
    DYNAMIC_REQUEST_BUDGET: String(BARE_BUDGET),
    FC_SEED: '11',
    FC_RUNS: '5',
  });
}

async function runSimulator(): Promise<SuiteRun> {
  const seed = await seedOf(simulator);
  const sandbox = sandboxOf(seed);
  const other = seed.environments.find((e) => e.name === 'live')!;
  sandboxId = sandbox.id;
  const credentials = {
    DYNAMIC_API_TOKEN: tokenOf(seed, sandbox.id, 'all'),
    DYNAMIC_OTHER_ENVIRONMENT_TOKEN: tokenOf(seed, other.id, 'all'),
    DYNAMIC_LIMITED_TOKEN: tokenOf(seed, sandbox.id, 'read-only'),
    DYNAMIC_INACTIVE_TOKEN: tokenOf(seed, sandbox.id, 'inactive'),
  };
  simulatorCredentials = Object.values(credentials);
  return runSuite(
    join(OUT, 'simulator'),
    ['test', '--workers=1', '-g', SIMULATOR_GREP],
    {
      DYNAMIC_TARGET: 'live',
      DYNAMIC_API_URL: `${front.url}/api/v0`,
      DYNAMIC_ENVIRONMENT_ID: sandbox.id,
      DYNAMIC_PROJECT_ID: sandbox.projectId,
      DYNAMIC_OTHER_ENVIRONMENT_ID: other.id,
      ...credentials,
      DYNAMIC_REQUEST_BUDGET: '400',
      DYNAMIC_TIME_BUDGET_MINUTES: '2',
      DYNAMIC_RUN_NUMBER: '7',
      FC_SEED: '13',
      FC_RUNS: '3',
    },
    {},
    140_000,
  );
}

before(
  async () => {
    // Two independent mocks (own clock, rate-limit buckets and store) of one simulator process: one start-up.
    [bareMock, simulator] = (await startMocks(2, { MOCK_CLOCK: 'real' })) as [Mock, Mock];
    front = await recordingFront(simulator.url);
    [bare, sim] = await Promise.all([runBare(), runSimulator()]);
    bareReport = matrixOf(bare);
    simReport = matrixOf(sim);
  },
  { timeout: 170_000 },
);

/** Tests that completed; the output folder is removed only when all of them did (kept for inspection otherwise). */
let passed = 0;
const TESTS = 13;
after(async () => {
  await front?.close();
  await simulator?.stop();
  await bareMock?.stop();
  if (passed === TESTS) rmSync(OUT, { recursive: true, force: true });
});

const ruleOf = (report: MatrixReport, id: string): RuleReport | undefined => report.rules.find((r) => r.id === id);
const reasonsOf = (report: MatrixReport, id: string): string => ruleOf(report, id)?.skipReasons.join(' | ') ?? '';

describe('both live runs', () => {
  test('the suite runs with live semantics and reports the live target', () => {
    for (const [run, report] of [
      [bare, bareReport],
      [sim, simReport],
    ] as const) {
      assert.equal(report.target, 'live', tail(run));
      assert.match(run.stdout, /Conformance matrix: \d+ rules/);
    }
    assert.equal(bare.code, 0, tail(bare));
    assert.ok(
      simReport.rules.length >= 6,
      `expected the SEC rules at least, got ${simReport.rules.map((r) => r.id).join(', ')}`,
    );
    passed += 1;
  });

  test('every test of the run is in the matrix, and nothing is a pass without outcomes', () => {
    for (const [run, report] of [
      [bare, bareReport],
      [sim, simReport],
    ] as const) {
      assert.deepEqual(
        report.rules.map((r) => r.id).sort(),
        junitRules(run),
        'the matrix and JUnit list the same rules',
      );
      for (const r of report.rules) {
        const total = r.counts.pass + r.counts.fail + r.counts.skip + r.counts.inconclusive;
        assert.ok(total > 0, `${r.id} is in the matrix without any outcome`);
        if (r.status === 'pass')
          assert.ok(
            r.counts.pass > 0 && r.counts.fail === 0 && r.counts.inconclusive === 0,
            `${r.id} is a pass without passing outcomes`,
          );
        if (r.status === 'skip')
          assert.ok(r.counts.pass === 0 && r.counts.fail === 0, `${r.id} skipped but has verdicts`);
      }
    }
    passed += 1;
  });

  test('every skip has a reason, and the user JWT is obtained through the sandbox test account', () => {
    for (const report of [bareReport, simReport])
      for (const r of report.rules)
        if (r.counts.skip > 0)
          assert.ok(
            r.skipReasons.length > 0 && r.skipReasons.every((s) => s.trim().length > 10),
            `${r.id} has skips without reasons`,
          );
    // Both sandboxes verify (DYNAMIC_PROJECT_ID), so each run signs in through the test account for its user JWT.
    for (const report of [bareReport, simReport])
      assert.equal(
        report.pacing?.jwt?.user.source,
        'test-account',
        'the user JWT is obtained through the sandbox test account',
      );
    passed += 1;
  });

  test('traces are off on the live target: no trace anywhere in the output, SEC-005 passes', () => {
    const traces = filesUnder([bare.outDir, sim.outDir]).files.filter(
      (f) => /trace\.zip$|\.trace$|[/\\]trace[/\\]/.test(f) && !/playwright-report[/\\]trace[/\\]/.test(f),
    );
    assert.deepEqual(traces, []);
    assert.equal(ruleOf(simReport, 'SEC-005')?.status, 'pass');
    passed += 1;
  });

  test('no live credential appears in any artifact of either run', () => {
    const hits = [
      ...scanPaths([bare.outDir], [bareToken], bare.outDir).hits,
      ...scanPaths([sim.outDir], simulatorCredentials, sim.outDir).hits,
    ];
    assert.deepEqual(
      hits.map((h) => `${h.location} (${h.encoding})`),
      [],
    );
    passed += 1;
  });
});

describe('without the optional credentials, DYNAMIC_REQUEST_BUDGET=25', () => {
  test('checks whose credential is not configured are skipped with the reason naming the variable', () => {
    const reasons = (id: string): string => reasonsOf(bareReport, id);
    for (const id of ['AUTH-007', 'AUTH-008']) {
      const r = ruleOf(bareReport, id);
      if (checkFor(id)) assert.ok(r, `${id} is in the matrix`);
      if (r) assert.ok(r.status === 'skip' && r.counts.pass === 0 && r.counts.fail === 0, `${id}: ${r.status}`);
    }
    if (checkFor('AUTH-007')) assert.match(reasons('AUTH-007'), /DYNAMIC_OTHER_ENVIRONMENT_(TOKEN|ID)/);
    if (checkFor('AUTH-008')) assert.match(reasons('AUTH-008'), /DYNAMIC_LIMITED_TOKEN/);
    passed += 1;
  });

  test('bursts are refused without DYNAMIC_RATE_LIMIT_BUDGET (skip with the reason, no probe)', () => {
    const rate = ruleOf(bareReport, 'RATE-015');
    assert.ok(rate, 'RATE-015 ran in the rate-limit project');
    assert.equal(rate.status, 'skip');
    assert.match(rate.skipReasons.join(' | '), /DYNAMIC_RATE_LIMIT_BUDGET/);
    passed += 1;
  });

  test(
    'DYNAMIC_REQUEST_BUDGET bounds the run and the matrix says why ' +
      '(a spent share is a skip with the reason, never a pass or a failure)',
    () => {
      const r = ruleOf(bareReport, 'AUTH-005');
      assert.ok(r, 'AUTH-005 is in the matrix');
      assert.notEqual(r.status, 'fail');
      assert.match(
        r.skipReasons.join(' '),
        new RegExp(`share of the request budget is spent \\(\\d+ of DYNAMIC_REQUEST_BUDGET=${BARE_BUDGET}`),
      );
      const requests = bareReport.pacing?.requests ?? 0;
      assert.ok(requests <= BARE_BUDGET, `the run-wide budget holds: ${requests}`);
      passed += 1;
    },
  );
});

describe('the sandbox simulator (MOCK_CLOCK=real) with every sandbox credential, budget 400', () => {
  test('the run is bounded in time and sends its requests through the front, not one to /__mock/', () => {
    const output = tail(sim, 40);
    assert.ok(sim.ms < 120_000, `bounded in time: ${sim.ms} ms\n${output}`);
    const requests = front.seen.length;
    assert.ok(requests >= 100, `the run went through the front: ${requests} requests\n${output}`);
    assert.deepEqual(
      front.seen.filter((s) => s.path.startsWith('/__mock')),
      [],
      `the suite in live mode never calls /__mock/\n${output}`,
    );
    console.log(
      `live-mode run: ${requests} requests through the front, 0 to /__mock/, ${simReport.rules.length} rules`,
    );
    passed += 1;
  });

  test('no 429 on the wire; a JWT from the test account answered 2xx on the /sdk user-JWT operations', () => {
    const output = tail(sim, 40);
    const tooMany = front.seen.filter((s) => s.status === 429);
    assert.deepEqual(tooMany, [], `429s on the wire:\n${output}`);
    const signin = front.seen.filter((s) => s.path.endsWith('/emailVerifications/signin'));
    assert.ok(
      signin.some((s) => s.status === 200),
      'signed in through emailVerifications/signin',
    );
    const sdkUserOps = front.seen.filter(
      (s) => s.path.startsWith(`/api/v0/sdk/${sandboxId}/`) && s.bearerJwt && s.status >= 200 && s.status < 300,
    );
    assert.ok(sdkUserOps.length > 0, `a user-jwt operation answered 2xx with the obtained JWT:\n${output}`);
    assert.doesNotMatch(
      reasonsOf(simReport, 'AUTH-012'),
      /DYNAMIC_USER_JWT/,
      'AUTH-012 has a user JWT for the user-jwt operations',
    );
    if (checkFor('JWT-005')) assert.doesNotMatch(reasonsOf(simReport, 'JWT-005'), /DYNAMIC_USER_JWT is not set/);
    assert.ok(
      !simReport.rules.some((r) => r.skipReasons.some((s) => /DYNAMIC_USER_JWT is not set/.test(s))),
      'no rule skipped for want of a JWT',
    );
    passed += 1;
  });

  test('both reports are complete and carry the plan and the pacing figures', () => {
    const { pacing, rotation } = simReport;
    assert.ok(pacing && rotation, 'report.json has the pacing and the rotation');
    assert.equal(pacing.unplanned429, 0);
    assert.equal(pacing.plan?.budget, 400);
    const requests = pacing.requests ?? 0;
    assert.ok(requests > 0 && requests <= 400, `requests within the run-wide budget: ${requests}`);
    assert.equal(rotation.rotation, 7);
    assert.ok(rotation.pairsCovered > 0 && rotation.nightsForFullRotation >= 1);
    assert.deepEqual(
      simReport.rules
        .map((r) => r.id)
        .filter((id) => SIMULATOR_RULES.includes(id))
        .sort(),
      SIMULATOR_RULES,
      'every selected rule is in the matrix',
    );
    assert.deepEqual(simReport.notRun, [], 'the time budget was not hit');
    const html = readFileSync(join(sim.outDir, 'conformance-report', 'index.html'), 'utf8');
    assert.match(html, /unplanned 429/);
    assert.match(html, /test account/);
    assert.match(sim.stdout, /Live pacing plan: request budget 400/);
    assert.match(sim.stdout, /unplanned 429s: 0/);
    const playwrightHtml = readFileSync(join(sim.outDir, 'playwright-report', 'index.html'), 'utf8');
    assert.ok(playwrightHtml.length > 1000, 'the Playwright report was written');
    passed += 1;
  });

  test('a check the catalogue skips on live is a skip with the reason (AUTH-006)', () => {
    const auth006 = ruleOf(simReport, 'AUTH-006');
    if (auth006) {
      assert.equal(auth006.status, 'skip', 'AUTH-006 is not asserted on live (catalogue: targets.live = skip)');
      assert.match(reasonsOf(simReport, 'AUTH-006'), /not asserted on the live target/);
    }
    passed += 1;
  });

  test(
    'the seeded sandbox is verified (GET /projects/{projectId}/environments serves the seed) ' +
      'and the write gate holds',
    () => {
      const sec003 = ruleOf(simReport, 'SEC-003');
      assert.ok(sec003);
      assert.deepEqual(
        sec003.failures.map((f) => `${f.subject}: ${f.reason}`),
        [],
        'SEC-003 has no failures',
      );
      // With DYNAMIC_PROJECT_ID set, nothing of SEC-003 may be skipped: a skip here means the sandbox did not verify.
      assert.deepEqual(sec003.skipReasons, [], 'the seeded sandbox verifies');
      assert.equal(sec003.status, 'pass');
      passed += 1;
    },
  );
});
