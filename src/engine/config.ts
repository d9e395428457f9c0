/**
 * The suite's configuration: the ONLY module that reads the environment (dotenv, then process.env; CI variables win
 * over .env because dotenv never overrides). Invalid or missing values fail at start-up with a message naming the
 * variable (SEC-003, SEC-004 depend on it).
 */
import { config as loadDotenv } from 'dotenv';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultLedgerFile, previousReportFile, type NightlySettings } from '../nightly/inputs.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The engine's caches (precompiled validators, pattern strings): under node_modules, so the validators'
 * `require("ajv/…")` lines resolve; every file's name hashes what its content depends on.
 */
export const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'dynamic-conformance');

/** The installed version of a package (the caches' keys name it), 'unknown' when it cannot be read. */
export function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** A configuration problem the user must fix; its message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Target = 'mock' | 'live';

/** Credentials for the live target; every value stays inside a Secret once loaded (see src/secrets/redact.ts). */
export interface LiveCredentialsConfig {
  environmentId: string;
  apiToken: string;
  projectId: string | undefined;
  otherEnvironmentId: string | undefined;
  otherEnvironmentToken: string | undefined;
  limitedToken: string | undefined;
  inactiveToken: string | undefined;
  userJwt: string | undefined;
  otherEnvironmentJwt: string | undefined;
  /**
   * OBJ-002: the project of DYNAMIC_OTHER_ENVIRONMENT_ID, to verify that side as a sandbox before cross-environment
   * writes.
   */
  otherProjectId: string | undefined;
  /** OBJ-003: a token of an environment in another organization. */
  otherOrganizationToken: string | undefined;
  /** OBJ-004: a user JWT of another user of DYNAMIC_ENVIRONMENT_ID. */
  otherUserJwt: string | undefined;
}

export interface SuiteConfig {
  target: Target;
  /** Base URL including /api/v0, without trailing slash. */
  apiUrl: string;
  /** For the mock target: the suite starts the embedded mock itself (no DYNAMIC_API_URL given). */
  startMock: boolean;
  mockPort: number;
  docsProfile: string;
  fc: { seed: number; path: string | undefined; runs: number; seedFromEnv: boolean };
  live: LiveCredentialsConfig | undefined;
  allowWrites: boolean;
  rateLimitBudget: number | undefined;
  /** Live: one budget for the whole run, shared by all workers through the run's pacer; mock: per worker. */
  requestBudget: number;
  /** DYNAMIC_TIME_BUDGET_MINUTES: Playwright's globalTimeout; undefined = no time budget. */
  timeBudgetMinutes: number | undefined;
  /** The live sample's rotation number (DYNAMIC_RUN_NUMBER, else the UTC day number). */
  rotation: number;
  /** Where the run's shared state (pacer, JWTs) listens: set by globalSetup for the workers (DYNAMIC_RUN_STATE_URL). */
  runState: string | undefined;
  /**
   * Percent of the run's requests that may end without an answer after retries before transport trouble fails the
   * run (`DYNAMIC_TRANSPORT_FAILURE_THRESHOLD`, default 2; issue #13: transport faults are never conformance failures).
   */
  transportFailureThreshold: number;
  ci: boolean;
  /**
   * Where test-results/, playwright-report/ and conformance-report/ go (CONFORMANCE_OUTPUT_DIR, default: the project
   * root).
   */
  outputDir: string;
  /** Known deviations, previous run, ledger, what fails the run (README "Running it nightly"). */
  nightly: NightlyConfig;
}

/** The nightly settings plus where the CI surfaces go. */
export interface NightlyConfig extends NightlySettings {
  /** The run's date (UTC, YYYY-MM-DD): deviation expiry and ledger dates; CONFORMANCE_TODAY overrides it (tests). */
  today: string;
  /** $GITHUB_STEP_SUMMARY: the Markdown summary is appended there when set. */
  stepSummaryFile: string | undefined;
  /** The CI run's URL (GitHub Actions), shown as where the artifacts are. */
  runUrl: string | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DYNAMIC_HOSTS = ['app.dynamicauth.com', 'app.dynamic.xyz'];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got '${raw}'`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A percentage 0-100 (decimals allowed, an optional trailing %). */
function percent(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(raw);
  if (!m || Number(m[1]) > 100)
    throw new ConfigError(`${name} must be a percentage from 0 to 100 (e.g. 2 or 0.5%), got '${raw}'`);
  return Number(m[1]);
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(`${name} must be true or false, got '${env[name] ?? ''}'`);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** Checks SEC-004: credentials only over https to Dynamic's hosts, or to a loopback address. */
export function checkApiUrl(raw: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${variable} is not a URL: '${raw}'`);
  }
  const loopback =
    url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (!loopback && url.protocol !== 'https:')
    throw new ConfigError(`${variable} must use https unless it points at loopback, got '${url.origin}'`);
  if (!loopback && !DYNAMIC_HOSTS.includes(url.hostname))
    throw new ConfigError(
      `${variable} host must be one of ${DYNAMIC_HOSTS.join(', ')} or loopback, got '${url.hostname}'`,
    );
  if (url.username || url.password || url.search || url.hash)
    throw new ConfigError(`${variable} must not carry credentials, a query or a fragment`);
  return url.toString().replace(/\/+$/, '');
}

/** Parses an environment (process.env merged with .env) into a validated configuration. */
export function parseConfig(env: NodeJS.ProcessEnv): SuiteConfig {
  const targetRaw = (env.DYNAMIC_TARGET ?? 'mock').trim() || 'mock';
  if (targetRaw !== 'mock' && targetRaw !== 'live')
    throw new ConfigError(`DYNAMIC_TARGET must be 'mock' or 'live', got '${targetRaw}'`);
  const target: Target = targetRaw;
  const mockPort = int(env, 'MOCK_PORT', 4010, 1, 65535);
  const given = optional(env, 'DYNAMIC_API_URL');
  const apiUrl = checkApiUrl(
    given ?? (target === 'live' ? 'https://app.dynamic.xyz/api/v0' : `http://127.0.0.1:${mockPort}/api/v0`),
    'DYNAMIC_API_URL',
  );
  const docsProfile = (env.DYNAMIC_DOCS_PROFILE ?? 'docs-2026').trim() || 'docs-2026';
  if (!/^docs-\d{4}$/.test(docsProfile))
    throw new ConfigError(`DYNAMIC_DOCS_PROFILE must look like docs-2026, got '${docsProfile}'`);
  const known = docsProfileIds();
  if (!known.includes(docsProfile))
    throw new ConfigError(`DYNAMIC_DOCS_PROFILE '${docsProfile}' is not one of ${known.join(', ')}`);
  const ci = Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
  const seedFromEnv = optional(env, 'FC_SEED') !== undefined;
  const seed = int(env, 'FC_SEED', Date.now() % 2_147_483_647, -2_147_483_648, 2_147_483_647);
  const fcPath = optional(env, 'FC_PATH');
  if (fcPath && !/^\d+(:\d+)*$/.test(fcPath))
    throw new ConfigError(`FC_PATH must look like 0:1:3 (from a failure report), got '${fcPath}'`);
  if (fcPath && !seedFromEnv)
    throw new ConfigError('FC_PATH needs FC_SEED: replay uses both values printed by the failing property');
  const runs = int(env, 'FC_RUNS', target === 'live' ? 20 : 100, 1, 1_000_000);
  let live: LiveCredentialsConfig | undefined;
  if (target === 'live') {
    const environmentId = optional(env, 'DYNAMIC_ENVIRONMENT_ID');
    const apiToken = optional(env, 'DYNAMIC_API_TOKEN');
    if (!environmentId)
      throw new ConfigError('DYNAMIC_ENVIRONMENT_ID is required when DYNAMIC_TARGET=live (copy .env.example to .env)');
    if (!UUID.test(environmentId)) throw new ConfigError('DYNAMIC_ENVIRONMENT_ID must be a lowercase UUID');
    if (!apiToken)
      throw new ConfigError('DYNAMIC_API_TOKEN is required when DYNAMIC_TARGET=live (a sandbox dyn_ token)');
    if (!apiToken.startsWith('dyn_'))
      throw new ConfigError('DYNAMIC_API_TOKEN must start with dyn_ (the value is not shown)');
    const otherEnvironmentId = optional(env, 'DYNAMIC_OTHER_ENVIRONMENT_ID');
    if (otherEnvironmentId && !UUID.test(otherEnvironmentId))
      throw new ConfigError('DYNAMIC_OTHER_ENVIRONMENT_ID must be a lowercase UUID');
    const projectId = optional(env, 'DYNAMIC_PROJECT_ID');
    if (projectId && !UUID.test(projectId)) throw new ConfigError('DYNAMIC_PROJECT_ID must be a lowercase UUID');
    const otherProjectId = optional(env, 'DYNAMIC_OTHER_PROJECT_ID');
    if (otherProjectId && !UUID.test(otherProjectId))
      throw new ConfigError('DYNAMIC_OTHER_PROJECT_ID must be a lowercase UUID');
    const otherOrganizationToken = optional(env, 'DYNAMIC_OTHER_ORGANIZATION_TOKEN');
    if (otherOrganizationToken && !otherOrganizationToken.startsWith('dyn_'))
      throw new ConfigError('DYNAMIC_OTHER_ORGANIZATION_TOKEN must start with dyn_ (the value is not shown)');
    live = {
      environmentId,
      apiToken,
      projectId,
      otherEnvironmentId,
      otherEnvironmentToken: optional(env, 'DYNAMIC_OTHER_ENVIRONMENT_TOKEN'),
      limitedToken: optional(env, 'DYNAMIC_LIMITED_TOKEN'),
      inactiveToken: optional(env, 'DYNAMIC_INACTIVE_TOKEN'),
      userJwt: optional(env, 'DYNAMIC_USER_JWT'),
      otherEnvironmentJwt: optional(env, 'DYNAMIC_OTHER_ENVIRONMENT_JWT'),
      otherProjectId,
      otherOrganizationToken,
      otherUserJwt: optional(env, 'DYNAMIC_OTHER_USER_JWT'),
    };
  }
  const budgetRaw = optional(env, 'DYNAMIC_RATE_LIMIT_BUDGET');
  const nightly = parseNightly(env);
  return {
    target,
    apiUrl,
    startMock: target === 'mock' && !given,
    mockPort,
    docsProfile,
    fc: { seed, path: fcPath, runs, seedFromEnv },
    live,
    allowWrites: flag(env, 'DYNAMIC_ALLOW_WRITES'),
    rateLimitBudget: budgetRaw === undefined ? undefined : int(env, 'DYNAMIC_RATE_LIMIT_BUDGET', 0, 1, 1000),
    requestBudget: int(env, 'DYNAMIC_REQUEST_BUDGET', target === 'live' ? 5_000 : 10_000_000, 1, 100_000_000),
    timeBudgetMinutes:
      optional(env, 'DYNAMIC_TIME_BUDGET_MINUTES') === undefined
        ? undefined
        : int(env, 'DYNAMIC_TIME_BUDGET_MINUTES', 0, 1, 24 * 60),
    rotation: int(env, 'DYNAMIC_RUN_NUMBER', Math.floor(Date.now() / 86_400_000), 0, 2_147_483_647),
    runState: runStateLocator(optional(env, 'DYNAMIC_RUN_STATE_URL')),
    transportFailureThreshold: percent(env, 'DYNAMIC_TRANSPORT_FAILURE_THRESHOLD', 2),
    ci,
    outputDir: optional(env, 'CONFORMANCE_OUTPUT_DIR') ?? ROOT,
    nightly,
  };
}

/** The default known-deviations file, read when present and CONFORMANCE_BASELINE is not set. */
export const DEFAULT_BASELINE = join(ROOT, 'conformance.baseline.json');

/**
 * CONFORMANCE_BASELINE / _PREVIOUS / _LEDGER / _FAIL_ON / _FAIL_ON_DRIFT / _STALE_DAYS / _TODAY, GITHUB_STEP_SUMMARY.
 */
export function parseNightly(env: NodeJS.ProcessEnv): NightlyConfig {
  const baselineRaw = optional(env, 'CONFORMANCE_BASELINE');
  let baselineFile: string | undefined;
  if (baselineRaw === undefined) baselineFile = existsSync(DEFAULT_BASELINE) ? DEFAULT_BASELINE : undefined;
  else if (!/^(off|none|false)$/i.test(baselineRaw)) {
    baselineFile = resolve(baselineRaw);
    if (!existsSync(baselineFile))
      throw new ConfigError(`CONFORMANCE_BASELINE: no such file ${baselineRaw} (unset it, or 'off' for none)`);
  }
  const previousRaw = optional(env, 'CONFORMANCE_PREVIOUS');
  let previousFile: string | undefined;
  if (previousRaw !== undefined) {
    previousFile = previousReportFile(resolve(previousRaw));
    if (!existsSync(previousFile))
      throw new ConfigError(
        `CONFORMANCE_PREVIOUS: no report.json at ${previousRaw} (a ` +
          `previous run's report.json or its conformance-report ` +
          `folder)`,
      );
  }
  const ledgerRaw = optional(env, 'CONFORMANCE_LEDGER');
  let ledgerFile = defaultLedgerFile(previousFile);
  if (ledgerRaw !== undefined) {
    ledgerFile = resolve(ledgerRaw);
    if (!existsSync(ledgerFile)) throw new ConfigError(`CONFORMANCE_LEDGER: no such file ${ledgerRaw}`);
  }
  const failOnRaw = optional(env, 'CONFORMANCE_FAIL_ON')?.toLowerCase();
  if (failOnRaw !== undefined && failOnRaw !== 'new' && failOnRaw !== 'any')
    throw new ConfigError(`CONFORMANCE_FAIL_ON must be 'new' or 'any', got '${env.CONFORMANCE_FAIL_ON ?? ''}'`);
  const today = optional(env, 'CONFORMANCE_TODAY') ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(Date.parse(`${today}T00:00:00Z`)))
    throw new ConfigError(`CONFORMANCE_TODAY must be a date like 2026-12-01, got '${today}'`);
  const server = optional(env, 'GITHUB_SERVER_URL');
  const repository = optional(env, 'GITHUB_REPOSITORY');
  const runId = optional(env, 'GITHUB_RUN_ID');
  return {
    baselineFile,
    previousFile,
    ledgerFile,
    // A plain local run fails on every failure, as before; with a previous run, only on new ones (the nightly default).
    failOn: failOnRaw ?? (previousFile ? 'new' : 'any'),
    failOnDrift: flag(env, 'CONFORMANCE_FAIL_ON_DRIFT'),
    staleAfterDays: int(env, 'CONFORMANCE_STALE_DAYS', 14, 1, 3650),
    today,
    stepSummaryFile: optional(env, 'GITHUB_STEP_SUMMARY'),
    runUrl:
      server && repository && runId && /^https:\/\//.test(server)
        ? `${server}/${repository}/actions/runs/${runId}`
        : undefined,
  };
}

/**
 * DYNAMIC_RUN_STATE_URL is the suite's own hand-over to its workers: loopback only, `http://127.0.0.1:<port>#<key>`.
 */
function runStateLocator(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^http:\/\/127\.0\.0\.1:\d{1,5}#[A-Za-z0-9_-]{16,}$/.test(raw)) {
    throw new ConfigError(
      'DYNAMIC_RUN_STATE_URL is set by the suite for its workers; ' +
        'leave it unset (it must look like ' +
        'http://127.0.0.1:<port>#<key>)',
    );
  }
  return raw;
}

let cached: SuiteConfig | undefined;

/** The docs profiles specs/profiles/ holds (docs-2025, docs-2026): the file names are the profile ids. */
function docsProfileIds(): string[] {
  return readdirSync(join(ROOT, 'specs', 'profiles'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * Loads .env (quietly; never overriding variables already set) and returns the validated configuration, once per
 * process.
 */
export function loadConfig(): SuiteConfig {
  if (cached) return cached;
  loadDotenv({ path: join(ROOT, '.env'), quiet: true });
  cached = parseConfig(process.env);
  // Workers must replay the same property seed as the runner printed, sample the same rotation (a run that crosses
  // midnight UTC keeps the day it started on) and judge baseline expiry on the same date.
  process.env.FC_SEED = String(cached.fc.seed);
  process.env.DYNAMIC_RUN_NUMBER = String(cached.rotation);
  process.env.CONFORMANCE_TODAY = cached.nightly.today;
  return cached;
}

/**
 * The run's child processes (Playwright's workers and the embedded mock inherit the runner's environment) start with
 * one V8 helper thread, unless NODE_OPTIONS already sets a size: the run has one process per core, and more helper
 * threads cost more CPU in parallel GC and compile jobs (measured side by side per whole run: 17.5 against 18.1 CPU-s
 * with V8's default of four, 16.5 against 16.9 with two).
 */
export function exportChildNodeOptions(): void {
  const current = process.env.NODE_OPTIONS ?? '';
  if (!/--v8-pool-size\b/.test(current)) process.env.NODE_OPTIONS = `${current} --v8-pool-size=1`.trim();
}

/** globalSetup hands the run's shared state to the workers (they inherit the runner's environment). */
export function exportRunStateLocator(locator: string): void {
  process.env.DYNAMIC_RUN_STATE_URL = locator;
  if (cached) cached = { ...cached, runState: locator };
}
