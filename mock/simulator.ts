/**
 * The sandbox simulator (`npm run simulator`): the embedded mock with the real clock (`MOCK_CLOCK=real`), so
 * rate-limit windows, `Retry-After` and JWT expiry follow wall time as on a real Dynamic sandbox. It listens on
 * loopback (`MOCK_PORT`, default 4020) and prints the `DYNAMIC_TARGET=live` variables that point the suite at it: the
 * simulator's sandbox environment id, project id and tokens. Those are test credentials seeded by the mock
 * (`MOCK_SEED`), valid only against this simulator, so they may be printed; they are labelled as such.
 *
 * `--write-env <path>` also writes the variables to a new file (never overwriting one) for `set -a; . <path>`.
 * The control API (`/__mock/`) stays on for test harnesses; the suite in live mode never calls it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { SeedData } from './seed.js';
import { launchMock, runEntryPoint, stopOnSignal } from './launch.js';
import { SettingError, parseSettings } from './settings.js';
import { profileIds } from './spec.js';

/** The simulator's default port (the mock's is 4010, so both can run side by side). */
const SIMULATOR_PORT = '4020';

/** The `DYNAMIC_*` variables of a live-mode run against the simulator, in the order they are printed. */
export function simulatorVariables(seed: SeedData, apiUrl: string, profile: string): [string, string][] {
  const sandbox = seed.environments.find((e) => e.name === 'sandbox');
  const other = seed.environments.find((e) => e.name === 'live');
  const token = (env: string | undefined, label: string): string | undefined =>
    seed.tokens.find((t) => t.environmentId === env && t.label === label)?.value;
  const all = token(sandbox?.id, 'all');
  if (!sandbox || !other || !all) throw new Error('the seed has no sandbox environment with a full-scope token');
  const vars: [string, string | undefined][] = [
    ['DYNAMIC_TARGET', 'live'],
    ['DYNAMIC_API_URL', apiUrl],
    ['DYNAMIC_ENVIRONMENT_ID', sandbox.id],
    ['DYNAMIC_PROJECT_ID', sandbox.projectId],
    ['DYNAMIC_API_TOKEN', all],
    ['DYNAMIC_OTHER_ENVIRONMENT_ID', other.id],
    ['DYNAMIC_OTHER_ENVIRONMENT_TOKEN', token(other.id, 'all')],
    ['DYNAMIC_LIMITED_TOKEN', token(sandbox.id, 'read-only')],
    ['DYNAMIC_INACTIVE_TOKEN', token(sandbox.id, 'inactive')],
    ['DYNAMIC_DOCS_PROFILE', profile],
  ];
  return vars.filter((v): v is [string, string] => v[1] !== undefined);
}

function envFileArgument(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--write-env');
  if (i < 0) return undefined;
  const path = argv[i + 1];
  if (path === undefined || path.startsWith('--'))
    throw new SettingError('--write-env needs a path (e.g. --write-env /tmp/simulator.env)');
  if (existsSync(path))
    throw new SettingError(
      `--write-env ${path} exists; the simulator never overwrites a file (remove it or choose another path)`,
    );
  return path;
}

runEntryPoint('simulator', async () => {
  const env = process.env;
  const clock = env['MOCK_CLOCK']?.trim();
  if (clock !== undefined && clock !== '' && clock !== 'real') {
    throw new SettingError(
      `the simulator always runs MOCK_CLOCK=real (got "${clock}"); use npm run mock for the frozen clock`,
    );
  }
  const envFile = envFileArgument(process.argv.slice(2));
  const options = parseSettings(
    { ...env, MOCK_CLOCK: 'real', MOCK_PORT: env['MOCK_PORT']?.trim() || SIMULATOR_PORT },
    profileIds(),
  );
  const mock = await launchMock({ ...options, control: options.control ?? true });
  const s = mock.state;
  const apiUrl = `${mock.url}/api/v0`;
  const vars = simulatorVariables(s.seed, apiUrl, s.profile.id);
  const lines = [
    `Dynamic sandbox simulator listening on ${apiUrl} (clock ` +
      `real: wall time; profile ${s.profile.id}, seed ` +
      `${s.seed.seed}; ` +
      `control API ${s.control ? `${mock.url}/__mock/ for test harnesses` : 'off'}). Ctrl-C stops it.`,
    '',
    'Point the suite at it (a live-mode run, as against your sandbox) with these variables.',
    `SIMULATOR-ONLY test credentials: seeded by the mock ` +
      `(MOCK_SEED=${s.seed.seed}), valid only against this ` +
      `simulator,`,
    'not secrets of any real environment. Never put them in a real .env or CI secret.',
    '',
    ...vars.map(([k, v]) => `  export ${k}=${v}`),
    '  npm run conformance    # optional: DYNAMIC_REQUEST_BUDGET=1200 FC_RUNS=20 for a nightly-sized run',
    '',
  ];
  console.log(lines.join('\n'));
  if (envFile !== undefined) {
    const header =
      '# SIMULATOR-ONLY test credentials (npm run simulator): valid only against the simulator, not secrets.\n';
    writeFileSync(envFile, `${header}${vars.map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { flag: 'wx' });
    console.log(`Wrote the variables to ${envFile} (load them with: set -a; . ${envFile}; set +a)`);
  }
  stopOnSignal(mock);
});
