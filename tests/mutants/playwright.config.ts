/**
 * Playwright configuration of the mutation run (`npm run mutants` only: it writes the plan and starts the one mock
 * process with every fault's instance). Every (instance × rule) test in one invocation, spread over the workers;
 * the rate-limit family of an instance runs in order in one worker.
 */
import { cpus } from 'node:os';
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: /mutants\.spec\.ts$/,
  fullyParallel: true,
  retries: 0,
  workers: Math.max(2, cpus().length),
  timeout: 180_000,
  reporter: [['dot']],
  outputDir: '../../mutants-report/test-results',
  use: { trace: 'off' },
});
