/**
 * Playwright configuration: one `conformance` project (all rule families but rate limits) and a serial `rate-limit`
 * project with its own mock instance, so its exact counts and clock moves never disturb the other checks. Both run
 * at once, one worker per core in all: the rate-limit project has its own worker from the start (listed first, at
 * most one worker, at a lower CPU priority), the conformance project the others. Both mocks are instances of one mock
 * process.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PlaywrightTestConfig } from '@playwright/test';
import { ConfigError, exportChildNodeOptions, loadConfig, ROOT, type SuiteConfig } from './src/engine/config.js';
import type { SuiteOptions } from './src/engine/fixtures.js';

let config: SuiteConfig;
try {
  config = loadConfig();
  if (process.env.TEST_WORKER_INDEX === undefined) exportChildNodeOptions();
  // The known-deviations file, the previous report and the ledger are checked once, before any test starts (the
  // runner process; workers read them again). schemas/meta only: this process's one ajv instance. Imported only then:
  // every worker loads this file too.
  if (
    process.env.TEST_WORKER_INDEX === undefined &&
    (config.nightly.baselineFile || config.nightly.previousFile || config.nightly.ledgerFile)
  ) {
    const [{ SchemaRegistry }, { loadRules }, { suiteNightlyInputs }] = await Promise.all([
      import('./src/engine/schemas.js'),
      import('./src/engine/spec.js'),
      import('./src/nightly/suite-inputs.js'),
    ]);
    const registry = new SchemaRegistry(join(ROOT, 'schemas', 'meta'));
    suiteNightlyInputs(config, (id, v) => registry.validate(id, v), new Set(loadRules().map((r) => r.id)));
  }
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

// One worker per core in all: the rate-limit project's one and the conformance project's others (at least one).
const conformanceWorkers = Math.max(1, availableParallelism() - 1);
const ratePort = config.mockPort + 1;
const rateApiUrl = config.startMock ? `http://127.0.0.1:${ratePort}/api/v0` : config.apiUrl;
// Both mocks (the conformance project's and the rate-limit project's) in one process (MOCK_INSTANCES): spec, schemas
// and keys load once. The run goes on the moment the second port is open (--announce-ports: "accepting connections",
// before the mock loads): Playwright loads the tests and starts its workers meanwhile; their first requests wait.
const mockServer = {
  command: 'node mock/run.mjs server.ts --announce-ports',
  url: `http://127.0.0.1:${config.mockPort}/__mock/health`,
  wait: { stdout: new RegExp(`accepting connections on http://127\\.0\\.0\\.1:${ratePort}/`) },
  reuseExistingServer: false,
  timeout: 30_000,
  stdout: 'ignore' as const,
  stderr: 'pipe' as const,
  env: {
    // The user's MOCK_PORT / MOCK_FAULTS name the suite's port and no faults here: MOCK_INSTANCES says both.
    MOCK_PORT: '',
    MOCK_FAULTS: '',
    MOCK_INSTANCES: `${config.mockPort}:,${ratePort}:`,
    DYNAMIC_DOCS_PROFILE: config.docsProfile,
    MOCK_CONTROL: 'on',
  },
};

// A plain object, not `defineConfig(...)` (the identity for one config): the file imports nothing of Playwright at
// run time, so evaluating it in a fresh process (SEC-005's check) does not load Playwright (~0.35 CPU-s).
const suiteConfig: PlaywrightTestConfig<object, SuiteOptions> = {
  testDir: './tests/conformance',
  fullyParallel: true,
  forbidOnly: config.ci,
  retries: 0,
  // Both projects at once, one worker per core: the serial rate-limit project (its own mock) holds one, the
  // conformance project the others. Not more: the run is CPU-bound, and every worker pays its own start-up and JIT
  // warm-up. On 2 cores a second conformance worker cost ~3 CPU-s and made the whole run slower (measured side by
  // side: 10.3 s with three workers, 10.0 s with two). The rate-limit worker runs at a lower CPU priority (niceness
  // 19): it finishes well before the conformance worker, which is the critical path.
  workers: conformanceWorkers + 1,
  // Live: a rule's requests wait for the pacer's slots (the /sdk per-IP limit is 500 per 5 minutes), so a test may
  // take minutes; the run as a whole is bounded by DYNAMIC_TIME_BUDGET_MINUTES (and DYNAMIC_REQUEST_BUDGET).
  timeout: config.target === 'live' ? 30 * 60_000 : 120_000,
  // The live run's shared state (one pacer for all workers, the run-wide budget, the user JWT):
  // src/engine/global-setup.ts.
  globalSetup: './src/engine/global-setup.ts',
  ...(config.timeBudgetMinutes !== undefined ? { globalTimeout: config.timeBudgetMinutes * 60_000 } : {}),
  outputDir: join(config.outputDir, 'test-results'),
  reporter: [
    ['list'],
    ['junit', { outputFile: join(config.outputDir, 'test-results', 'junit.xml') }],
    ['html', { outputFolder: join(config.outputDir, 'playwright-report'), open: 'never' }],
    ['./src/report/matrix-reporter.ts', { outputFolder: join(config.outputDir, 'conformance-report') }],
  ],
  use: {
    // SEC-005: no traces whenever real credentials are in use. The tests build on Playwright's base test, which has no
    // trace-recording fixture (src/engine/fixtures.ts), and the suite's client is never traced: off on every target.
    trace: 'off',
  },
  projects: [
    // The project keeps its published name (`--project=rate-limit`); its family is `rate` (rate.json, checks/rate/,
    // @rate).
    {
      name: 'rate-limit',
      testMatch: /rate\.spec\.ts/,
      fullyParallel: false,
      workers: 1,
      use: { apiUrlOverride: rateApiUrl, workerNiceness: 19 },
    },
    { name: 'conformance', testIgnore: /rate\.spec\.ts/, workers: conformanceWorkers },
  ],
  ...(config.startMock ? { webServer: mockServer } : {}),
};

export default suiteConfig;
