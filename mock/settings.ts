import { isIP } from 'node:net';
import type { MockOptions } from './options.js';
import { firstUnknownFault } from './faults.js';

/** Default settings (ARCHITECTURE.md "Settings"). */
export const DEFAULTS = { port: 4010, host: '127.0.0.1', seed: '1', profile: 'docs-2026', startTime: 1767225600 } as const;

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
  const out: { -readonly [K in keyof MockOptions]: MockOptions[K] } = {};
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new SettingError(`MOCK_PORT must be an integer 0-65535 (got "${port}")`);
    out.port = Number(port);
  } else out.port = DEFAULTS.port;
  if (host !== undefined) {
    if (!isLoopback(host)) throw new SettingError(`MOCK_HOST must be a loopback address such as 127.0.0.1 (got "${host}")`);
    out.host = host;
  }
  if (seed !== undefined) {
    if (!/^\d{1,15}$/.test(seed)) throw new SettingError(`MOCK_SEED must be a non-negative integer (got "${seed}")`);
    out.seed = seed;
  }
  if (profile !== undefined) {
    if (!knownProfiles.includes(profile)) throw new SettingError(`${profileVar} must be one of ${knownProfiles.join(', ')} (got "${profile}")`);
    out.profile = profile;
  }
  if (faults !== undefined) {
    const ids = faults.split(',').map((x) => x.trim()).filter((x) => x !== '');
    const unknown = firstUnknownFault(ids);
    if (unknown !== undefined) throw new SettingError(`MOCK_FAULTS names an unknown fault "${unknown}" (see specs/faults.json)`);
    out.faults = ids;
  }
  if (control !== undefined) {
    if (control !== 'on' && control !== 'off') throw new SettingError(`MOCK_CONTROL must be "on" or "off" (got "${control}")`);
    out.control = control === 'on';
  }
  if (proxy !== undefined) {
    if (isIP(proxy) === 0) throw new SettingError(`MOCK_TRUSTED_PROXY must be an IP address (got "${proxy}")`);
    out.trustedProxy = proxy;
  }
  if (start !== undefined) {
    if (!/^\d{1,12}$/.test(start)) throw new SettingError(`MOCK_START_TIME must be epoch seconds, a non-negative integer (got "${start}")`);
    out.startTime = Number(start);
  }
  return out;
}
