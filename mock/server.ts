/**
 * Entry point of the embedded mock (`npm run mock`). The only modules of mock/ that read `process.env` are the two
 * entry points (this one and `mock/simulator.ts`): MOCK_PORT, MOCK_HOST, MOCK_SEED, MOCK_PROFILE / DYNAMIC_DOCS_PROFILE,
 * MOCK_FAULTS, MOCK_CONTROL, MOCK_TRUSTED_PROXY, MOCK_START_TIME, MOCK_CLOCK. Bad settings print one readable line
 * naming the variable and exit 2 (checked before the heavy modules load, so a typo fails fast).
 */
import { launchMock, runEntryPoint, stopOnSignal } from './launch.js';
import { parseSettings } from './settings.js';
import { profileIds } from './spec.js';

runEntryPoint('mock', async () => {
  const started = performance.now();
  const options = parseSettings(process.env, profileIds());
  const mock = await launchMock(options);
  const s = mock.state;
  const ms = Math.round(performance.now() - started);
  console.log(
    `Dynamic mock listening on ${mock.url}/api/v0 (profile ${s.profile.id}, seed ${s.seed.seed}, clock ${s.clock.mode}, ` +
      `control ${s.control ? `${mock.url}/__mock/` : 'off'}${s.faults.none ? '' : `, faults ${s.faults.list().join(',')}`}; ready in ${ms} ms)`,
  );
  stopOnSignal(mock);
});
