import { isIP } from 'node:net';
import type { MockOptions } from './options.js';
import { firstUnknownFault } from './faults.js';

/** Default settings (ARCHITECTURE.md "Settings"). */
export const DEFAULTS = {
  port: 4010,
  host: '127.0.0.1',
  seed: '1',
  profile: 'docs-2026',
  startTime: 1767225600,
} as const;

/** True for 127.0.0.0/8, ::1 and localhost: the mock only ever listens on loopback. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** A setting error: names the variable, says what is expected (printed as one line by mock/server.ts). */
export class SettingError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

function set(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** One server of a multi-instance mock (`MOCK_INSTANCES`): its port and the faults only it has. */
export interface MockInstance {
  readonly port: number;
  readonly faults: readonly string[];
}

/** At most this many servers in one mock process (every fault of specs/faults.json plus a clean one fits). */
export const MAX_INSTANCES = 200;

/**
 * `MOCK_INSTANCES=4600:,4601:accept-missing-token,4602:no-rate-limit+no-retry-after` — one process serving several
 * independent mocks (own store, clock, rate-limit buckets and faults; spec, schemas and keys shared), one per port;
 * faults of one entry are joined by `+`, an empty list is a clean mock. Undefined when the variable is unset. Every
 * other setting (seed, profile, control, trusted proxy, start time) applies to every instance; `MOCK_PORT` and
 * `MOCK_FAULTS` describe a single mock and cannot be combined with it.
 */
export function parseInstances(env: Env): MockInstance[] | undefined {
  const value = set(env, 'MOCK_INSTANCES');
  if (value === undefined) return undefined;
  for (const single of ['MOCK_PORT', 'MOCK_FAULTS']) {
    if (set(env, single) !== undefined)
      throw new SettingError(
        `MOCK_INSTANCES cannot be combined with ${single} (give each instance its port and faults in MOCK_INSTANCES)`,
      );
  }
  const entries = value
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (entries.length === 0) throw new SettingError('MOCK_INSTANCES must list at least one "port:faults" entry');
  if (entries.length > MAX_INSTANCES)
    throw new SettingError(`MOCK_INSTANCES lists ${entries.length} instances; at most ${MAX_INSTANCES}`);
  const seen = new Set<number>();
  return entries.map((entry) => {
    const m = /^(\d{1,5}):([^:]*)$/.exec(entry);
    if (!m)
      throw new SettingError(
        `MOCK_INSTANCES entry "${entry}" must be "port:fault+fault" (an empty fault list is a clean mock)`,
      );
    const port = Number(m[1]);
    if (port < 1 || port > 65535) throw new SettingError(`MOCK_INSTANCES entry "${entry}": the port must be 1-65535`);
    if (seen.has(port)) throw new SettingError(`MOCK_INSTANCES names port ${port} twice`);
    seen.add(port);
    const faults = m[2]!
      .split('+')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    const unknown = firstUnknownFault(faults);
    if (unknown !== undefined)
      throw new SettingError(
        `MOCK_INSTANCES entry "${entry}" names an unknown fault "${unknown}" (see specs/faults.json)`,
      );
    return { port, faults };
  });
}

/**
 * Maps `MOCK_*` / `DYNAMIC_DOCS_PROFILE` variables to {@link MockOptions} (ARCHITECTURE.md "Settings"), rejecting
 * bad values with a {@link SettingError} that names the variable. `knownProfiles` are the profile ids in specs/.
 */
export function parseSettings(env: Env, knownProfiles: readonly string[]): MockOptions {
  const port = set(env, 'MOCK_PORT');
  const host = set(env, 'MOCK_HOST');
  const seed = set(env, 'MOCK_SEED');
  const profileVar = set(env, 'MOCK_PROFILE') !== undefined ? 'MOCK_PROFILE' : 'DYNAMIC_DOCS_PROFILE';
  const profile = set(env, profileVar);
  const faults = set(env, 'MOCK_FAULTS');
  const control = set(env, 'MOCK_CONTROL');
  const proxy = set(env, 'MOCK_TRUSTED_PROXY');
  const start = set(env, 'MOCK_START_TIME');
  const clock = set(env, 'MOCK_CLOCK');
  const out: { -readonly [K in keyof MockOptions]: MockOptions[K] } = {};
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
      throw new SettingError(`MOCK_PORT must be an integer 0-65535 (got "${port}")`);
    out.port = Number(port);
  } else out.port = DEFAULTS.port;
  if (host !== undefined) {
    if (!isLoopback(host))
      throw new SettingError(`MOCK_HOST must be a loopback address such as 127.0.0.1 (got "${host}")`);
    out.host = host;
  }
  if (seed !== undefined) {
    if (!/^\d{1,15}$/.test(seed)) throw new SettingError(`MOCK_SEED must be a non-negative integer (got "${seed}")`);
    out.seed = seed;
  }
  if (profile !== undefined) {
    if (!knownProfiles.includes(profile))
      throw new SettingError(`${profileVar} must be one of ${knownProfiles.join(', ')} (got "${profile}")`);
    out.profile = profile;
  }
  if (faults !== undefined) {
    const ids = faults
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    const unknown = firstUnknownFault(ids);
    if (unknown !== undefined)
      throw new SettingError(`MOCK_FAULTS names an unknown fault "${unknown}" (see specs/faults.json)`);
    out.faults = ids;
  }
  if (control !== undefined) {
    if (control !== 'on' && control !== 'off')
      throw new SettingError(`MOCK_CONTROL must be "on" or "off" (got "${control}")`);
    out.control = control === 'on';
  }
  if (proxy !== undefined) {
    if (isIP(proxy) === 0) throw new SettingError(`MOCK_TRUSTED_PROXY must be an IP address (got "${proxy}")`);
    out.trustedProxy = proxy;
  }
  if (clock !== undefined) {
    if (clock !== 'frozen' && clock !== 'real') {
      throw new SettingError(
        `MOCK_CLOCK must be "frozen" (default: moves only via ` +
          `POST /__mock/clock) or "real" (wall time) (got "${clock}` +
          `")`,
      );
    }
    if (clock === 'real' && start !== undefined) {
      throw new SettingError(
        'MOCK_START_TIME applies only to MOCK_CLOCK=frozen (the real clock follows wall time); unset one of them',
      );
    }
    out.clock = clock;
  }
  if (start !== undefined) {
    if (!/^\d{1,12}$/.test(start))
      throw new SettingError(`MOCK_START_TIME must be epoch seconds, a non-negative integer (got "${start}")`);
    out.startTime = Number(start);
  }
  return out;
}
