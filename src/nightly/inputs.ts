/**
 * Reads the carried nightly state named by the configuration: the known-deviations file (CONFORMANCE_BASELINE), the
 * previous report (CONFORMANCE_PREVIOUS: a report.json or the folder holding it) and the coverage ledger
 * (CONFORMANCE_LEDGER, default: ledger.json beside the previous report). Every problem is a NightlyInputError whose
 * message names the variable, the file and what is wrong — the suite prints it as one line, never a stack trace.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BaselineError, parseBaseline, type Baseline, type Validate } from './baseline.js';
import { indexPrevious, type PreviousIndex } from './change.js';
import { LedgerError, parseLedger, type Ledger } from './ledger.js';
import type { FailOn, ReportLike } from './types.js';

/** The nightly settings the configuration module parses from the environment. */
export interface NightlySettings {
  /** Absolute path of the baseline file, or undefined (none given and no conformance.baseline.json). */
  baselineFile: string | undefined;
  /** Absolute path of the previous report.json (a folder was resolved to its report.json already). */
  previousFile: string | undefined;
  /** Absolute path of the ledger to read, or undefined. */
  ledgerFile: string | undefined;
  failOn: FailOn;
  failOnDrift: boolean;
  /** A pair not verified for more than this many days is listed as not recently verified. */
  staleAfterDays: number;
}

export class NightlyInputError extends Error {
  override name = 'NightlyInputError';
}

/** `CONFORMANCE_PREVIOUS` names a report.json or the folder holding it; this is the file. */
export function previousReportFile(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, 'report.json') : path;
}

/** The ledger read by default: the one beside the previous report, when it exists. */
export function defaultLedgerFile(previousFile: string | undefined): string | undefined {
  if (!previousFile) return undefined;
  const candidate = join(dirname(previousFile), 'ledger.json');
  return existsSync(candidate) ? candidate : undefined;
}

function read(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NightlyInputError(
      `${variable}: cannot read ${file}${code === 'ENOENT' ? ' (no such file)' : code ? ` (${code})` : ''}`,
    );
  }
}

/** Parses a previous report.json, checking it is one of this suite's reports. */
export function parsePrevious(file: string, text: string): ReportLike {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new NightlyInputError(`CONFORMANCE_PREVIOUS: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const r = value as Partial<ReportLike> | null;
  if (
    !r ||
    typeof r !== 'object' ||
    r.tool !== 'dynamic-api-conformance' ||
    !Array.isArray(r.rules) ||
    !Array.isArray(r.operations) ||
    typeof r.startedAt !== 'string'
  ) {
    throw new NightlyInputError(
      `CONFORMANCE_PREVIOUS: ${file} is not a report.json of this suite ` +
        `(expected tool "dynamic-api-conformance", rules[], operations[], ` +
        `startedAt)`,
    );
  }
  for (const [i, rule] of r.rules.entries()) {
    if (!rule || typeof rule.id !== 'string' || typeof rule.status !== 'string' || !Array.isArray(rule.failures)) {
      throw new NightlyInputError(`CONFORMANCE_PREVIOUS: ${file} rules[${i}] lacks id, status or failures[]`);
    }
  }
  return r as ReportLike;
}

export interface NightlyInputs {
  settings: NightlySettings;
  baseline: Baseline | undefined;
  previous: { file: string; report: ReportLike; index: PreviousIndex } | undefined;
  ledger: Ledger | undefined;
}

/**
 * Loads every input the settings name. `validate` is the engine's schema registry; `rules` the catalogue's rule ids;
 * `displayPath` shortens absolute paths in messages (e.g. relative to the project root).
 */
export function loadNightlyInputs(
  settings: NightlySettings,
  validate: Validate,
  rules: ReadonlySet<string>,
  displayPath: (p: string) => string = (p) => p,
): NightlyInputs {
  let baseline: Baseline | undefined;
  if (settings.baselineFile) {
    try {
      baseline = parseBaseline(
        displayPath(settings.baselineFile),
        read('CONFORMANCE_BASELINE', settings.baselineFile),
        validate,
        rules,
      );
    } catch (error) {
      if (error instanceof BaselineError) throw new NightlyInputError(`CONFORMANCE_BASELINE: ${error.message}`);
      throw error;
    }
  }
  let previous: NightlyInputs['previous'];
  if (settings.previousFile) {
    const report = parsePrevious(
      displayPath(settings.previousFile),
      read('CONFORMANCE_PREVIOUS', settings.previousFile),
    );
    previous = { file: settings.previousFile, report, index: indexPrevious(report) };
  }
  let ledger: Ledger | undefined;
  if (settings.ledgerFile) {
    try {
      ledger = parseLedger(displayPath(settings.ledgerFile), read('CONFORMANCE_LEDGER', settings.ledgerFile), validate);
    } catch (error) {
      if (error instanceof LedgerError) throw new NightlyInputError(`CONFORMANCE_LEDGER: ${error.message}`);
      throw error;
    }
  }
  return { settings, baseline, previous, ledger };
}
