/**
 * Playwright configuration: one `conformance` project (all rule families but rate limits) and a serial `rate-limit`
 * project with its own mock instance, so its exact counts and clock moves never disturb the other checks.
 */
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { ConfigError, loadConfig, type SuiteConfig } from './src/engine/config.js';

let config: SuiteConfig;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

const ratePort = config.mockPort + 1;
const rateApiUrl = config.startMock ? `http://127.0.0.1:${ratePort}/api/v0` : config.apiUrl;
const mockServer = (port: number) => ({
  command: 'node --import tsx mock/server.ts',
  url: `http://127.0.0.1:${port}/__mock/health`,
  reuseExistingServer: false,
  timeout: 30_000,
  stdout: 'ignore' as const,
  stderr: 'pipe' as const,
  env: { MOCK_PORT: String(port), DYNAMIC_DOCS_PROFILE: config.docsProfile, MOCK_CONTROL: 'on' },
});

export default defineConfig<object, { apiUrlOverride: string | undefined }>({
  testDir: './tests/conformance',
  fullyParallel: true,
  forbidOnly: config.ci,
  retries: 0,
  workers: 2,
  timeout: 120_000,
  outputDir: join(config.outputDir, 'test-results'),
  reporter: [
    ['list'],
    ['junit', { outputFile: join(config.outputDir, 'test-results', 'junit.xml') }],
    ['html', { outputFolder: join(config.outputDir, 'playwright-report'), open: 'never' }],
    ['./src/report/matrix-reporter.ts', { outputFolder: join(config.outputDir, 'conformance-report') }],
  ],
  use: {
    // SEC-005: no traces whenever real credentials are in use; the suite's client is not traced anyway.
    trace: config.target === 'live' ? 'off' : 'retain-on-failure',
  },
  projects: [
    { name: 'conformance', testIgnore: /rate\.spec\.ts/ },
    // The project keeps its published name (`--project=rate-limit`); its family is `rate` (rate.json, checks/rate/, @rate).
    { name: 'rate-limit', testMatch: /rate\.spec\.ts/, fullyParallel: false, workers: 1, use: { apiUrlOverride: rateApiUrl } },
  ],
  ...(config.startMock ? { webServer: [mockServer(config.mockPort), mockServer(ratePort)] } : {}),
});
