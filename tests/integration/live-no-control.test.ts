/**
 * The suite in live mode never calls the mock's control API (issue #13, item 1): a live-mode run against the sandbox
 * simulator's clock (`MOCK_CLOCK=real`), through the test front that counts every request by path, sends its requests
 * to /api/v0 and not one to /__mock/. The run's own report must agree on the target.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MatrixReport } from '../../src/report/matrix-reporter.js';
import { seedOf, startMock, tokenOf, type Mock } from './support/mock-process.js';
import { runSuite, tail } from './support/suite-runs.js';
import { startFront, type Front } from './support/front.js';

const OUT = `/tmp/live-no-control-${process.pid}`;
/** Sweeps over admin operations, the optional-credential checks and the suite properties; no /sdk sweep (unpaced). */
const GREP = '(AUTH-00[5-8]|JWT-00[1-3]|ERR-00[4-6]|SEC-00[1-6]) ';

let mock: Mock;
let front: Front;

before(async () => {
  mock = await startMock({ MOCK_CLOCK: 'real' });
  const { port } = new URL(mock.url);
  front = await startFront({ upstream: { host: '127.0.0.1', port: Number(port) }, dropRate: 0 });
});

after(async () => {
  await front?.close();
  await mock?.stop();
});

test('a live-mode run sends no request to /__mock/', { timeout: 240_000 }, async () => {
  const seed = await seedOf(mock);
  const sandbox = seed.environments.find((e) => e.name === 'sandbox')! as { id: string; projectId?: string };
  const other = seed.environments.find((e) => e.name === 'live')!.id;
  const before = front.stats();
  const run = await runSuite(
    OUT,
    ['test', '-g', GREP],
    {
      DYNAMIC_TARGET: 'live',
      DYNAMIC_API_URL: `${front.url}/api/v0`,
      DYNAMIC_ENVIRONMENT_ID: sandbox.id,
      DYNAMIC_PROJECT_ID: sandbox.projectId ?? '',
      DYNAMIC_API_TOKEN: tokenOf(seed, sandbox.id, 'all'),
      DYNAMIC_OTHER_ENVIRONMENT_ID: other,
      DYNAMIC_OTHER_ENVIRONMENT_TOKEN: tokenOf(seed, other, 'all'),
      DYNAMIC_LIMITED_TOKEN: tokenOf(seed, sandbox.id, 'read-only'),
      DYNAMIC_INACTIVE_TOKEN: tokenOf(seed, sandbox.id, 'inactive'),
      FC_SEED: '13',
      FC_RUNS: '3',
    },
    {},
    220_000,
  );
  const stats = front.stats();
  const report = JSON.parse(
    readFileSync(join(run.outDir, 'conformance-report', 'report.json'), 'utf8'),
  ) as MatrixReport;
  assert.equal(report.target, 'live', tail(run));
  const requests = stats.requests - before.requests;
  assert.ok(requests >= 100, `the run went through the front: ${requests} requests\n${tail(run)}`);
  assert.equal(
    stats.controlRequests - before.controlRequests,
    0,
    `requests to /__mock/ during a live-mode run\n${tail(run)}`,
  );
  console.log(
    `live-mode run: ${requests} requests through the front, 0 to /__mock/, ${report.rules.length} rules, exit ${run.code}`,
  );
  rmSync(OUT, { recursive: true, force: true });
});
