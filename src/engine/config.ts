/**
 * The suite's configuration: the ONLY module that reads the environment (dotenv, then process.env; CI variables win
 * over .env because dotenv never overrides). Invalid or missing values fail at start-up with a message naming the
 * variable (SEC-003, SEC-004 depend on it).
 */
import { config as loadDotenv } from 'dotenv';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
  requestBudget: number;
  ci: boolean;
  /** Where test-results/, playwright-report/ and conformance-report/ go (CONFORMANCE_OUTPUT_DIR, default: the project root). */
  outputDir: string;
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
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (!loopback && url.protocol !== 'https:') throw new ConfigError(`${variable} must use https unless it points at loopback, got '${url.origin}'`);
  if (!loopback && !DYNAMIC_HOSTS.includes(url.hostname)) throw new ConfigError(`${variable} host must be one of ${DYNAMIC_HOSTS.join(', ')} or loopback, got '${url.hostname}'`);
  if (url.username || url.password || url.search || url.hash) throw new ConfigError(`${variable} must not carry credentials, a query or a fragment`);
  return url.toString().replace(/\/+$/, '');
}

/** Parses an environment (process.env merged with .env) into a validated configuration. */
export function parseConfig(env: NodeJS.ProcessEnv): SuiteConfig {
  const targetRaw = (env.DYNAMIC_TARGET ?? 'mock').trim() || 'mock';
  if (targetRaw !== 'mock' && targetRaw !== 'live') throw new ConfigError(`DYNAMIC_TARGET must be 'mock' or 'live', got '${targetRaw}'`);
  const target: Target = targetRaw;
  const mockPort = int(env, 'MOCK_PORT', 4010, 1, 65535);
  const given = optional(env, 'DYNAMIC_API_URL');
  const apiUrl = checkApiUrl(given ?? (target === 'live' ? 'https://app.dynamic.xyz/api/v0' : `http://127.0.0.1:${mockPort}/api/v0`), 'DYNAMIC_API_URL');
  const docsProfile = (env.DYNAMIC_DOCS_PROFILE ?? 'docs-2026').trim() || 'docs-2026';
  if (!/^docs-\d{4}$/.test(docsProfile)) throw new ConfigError(`DYNAMIC_DOCS_PROFILE must look like docs-2026, got '${docsProfile}'`);
  const ci = Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
  const seedFromEnv = optional(env, 'FC_SEED') !== undefined;
  const seed = int(env, 'FC_SEED', Date.now() % 2_147_483_647, -2_147_483_648, 2_147_483_647);
  const fcPath = optional(env, 'FC_PATH');
  if (fcPath && !/^\d+(:\d+)*$/.test(fcPath)) throw new ConfigError(`FC_PATH must look like 0:1:3 (from a failure report), got '${fcPath}'`);
  if (fcPath && !seedFromEnv) throw new ConfigError('FC_PATH needs FC_SEED: replay uses both values printed by the failing property');
  const runs = int(env, 'FC_RUNS', target === 'live' ? 20 : 100, 1, 1_000_000);
  let live: LiveCredentialsConfig | undefined;
  if (target === 'live') {
    const environmentId = optional(env, 'DYNAMIC_ENVIRONMENT_ID');
    const apiToken = optional(env, 'DYNAMIC_API_TOKEN');
    if (!environmentId) throw new ConfigError('DYNAMIC_ENVIRONMENT_ID is required when DYNAMIC_TARGET=live (copy .env.example to .env)');
    if (!UUID.test(environmentId)) throw new ConfigError('DYNAMIC_ENVIRONMENT_ID must be a lowercase UUID');
    if (!apiToken) throw new ConfigError('DYNAMIC_API_TOKEN is required when DYNAMIC_TARGET=live (a sandbox dyn_ token)');
    if (!apiToken.startsWith('dyn_')) throw new ConfigError('DYNAMIC_API_TOKEN must start with dyn_ (the value is not shown)');
    const otherEnvironmentId = optional(env, 'DYNAMIC_OTHER_ENVIRONMENT_ID');
    if (otherEnvironmentId && !UUID.test(otherEnvironmentId)) throw new ConfigError('DYNAMIC_OTHER_ENVIRONMENT_ID must be a lowercase UUID');
    const projectId = optional(env, 'DYNAMIC_PROJECT_ID');
    if (projectId && !UUID.test(projectId)) throw new ConfigError('DYNAMIC_PROJECT_ID must be a lowercase UUID');
    live = {
      environmentId, apiToken, projectId, otherEnvironmentId,
      otherEnvironmentToken: optional(env, 'DYNAMIC_OTHER_ENVIRONMENT_TOKEN'),
      limitedToken: optional(env, 'DYNAMIC_LIMITED_TOKEN'),
      inactiveToken: optional(env, 'DYNAMIC_INACTIVE_TOKEN'),
      userJwt: optional(env, 'DYNAMIC_USER_JWT'),
      otherEnvironmentJwt: optional(env, 'DYNAMIC_OTHER_ENVIRONMENT_JWT'),
    };
  }
  const budgetRaw = optional(env, 'DYNAMIC_RATE_LIMIT_BUDGET');
  return {
    target, apiUrl, startMock: target === 'mock' && !given, mockPort, docsProfile,
    fc: { seed, path: fcPath, runs, seedFromEnv },
    live,
    allowWrites: flag(env, 'DYNAMIC_ALLOW_WRITES'),
    rateLimitBudget: budgetRaw === undefined ? undefined : int(env, 'DYNAMIC_RATE_LIMIT_BUDGET', 0, 1, 1000),
    requestBudget: int(env, 'DYNAMIC_REQUEST_BUDGET', target === 'live' ? 5_000 : 10_000_000, 1, 100_000_000),
    ci,
    outputDir: optional(env, 'CONFORMANCE_OUTPUT_DIR') ?? ROOT,
  };
}

let cached: SuiteConfig | undefined;

/** Loads .env (quietly; never overriding variables already set) and returns the validated configuration, once per process. */
export function loadConfig(): SuiteConfig {
  if (cached) return cached;
  loadDotenv({ path: join(ROOT, '.env'), quiet: true });
  cached = parseConfig(process.env);
  // Workers must replay the same property seed as the runner printed.
  process.env.FC_SEED = String(cached.fc.seed);
  return cached;
}
