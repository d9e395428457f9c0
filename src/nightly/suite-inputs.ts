/**
 * The nightly inputs of this process (baseline, previous report, ledger), loaded once from the configuration. The
 * main process validates them before any test starts (playwright.config.ts), so a bad file is one configuration
 * error line; workers and the matrix reporter read the same cached result.
 */
import { isAbsolute, relative } from 'node:path';
import { ConfigError, type SuiteConfig } from '../engine/config.js';
import type { Validate } from './baseline.js';
import { loadNightlyInputs, NightlyInputError, type NightlyInputs } from './inputs.js';

let cached: { key: string; inputs: NightlyInputs } | undefined;

/** Shows a path relative to the working directory when it lies below it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Loads (once per process and settings) the nightly inputs; problems become a ConfigError naming the variable. */
export function suiteNightlyInputs(config: SuiteConfig, validate: Validate, rules: ReadonlySet<string>): NightlyInputs {
  const key = JSON.stringify(config.nightly);
  if (cached?.key === key) return cached.inputs;
  try {
    const inputs = loadNightlyInputs(config.nightly, validate, rules, displayPath);
    cached = { key, inputs };
    return inputs;
  } catch (error) {
    if (error instanceof NightlyInputError) throw new ConfigError(error.message);
    throw error;
  }
}
