/**
 * Entry point of the embedded mock (`npm run mock`). The only modules of mock/ that read `process.env` are the two
 * entry points (this one and `mock/simulator.ts`): MOCK_PORT, MOCK_HOST, MOCK_SEED, MOCK_PROFILE /
 * DYNAMIC_DOCS_PROFILE, MOCK_FAULTS, MOCK_CONTROL, MOCK_TRUSTED_PROXY, MOCK_START_TIME, MOCK_CLOCK, MOCK_INSTANCES. Bad
 * settings print one readable line naming the variable and exit 2 (checked before the heavy modules load, so a typo
 * fails fast). The ports open next (mock/listen.ts; `--announce-ports` prints an "accepting connections" line for
 * each); requests wait until the mock is loaded, which the "listening" banner says.
 *
 * `--prepare` fills the caches a start needs (the precompiled validators, the signing keys of MOCK_SEED's environments)
 * and exits without serving: for a CI setup step, or before many mocks start at once (`npm run test:integration`).
 *
 * With `MOCK_INSTANCES` one process serves several independent mocks, one per port, each with its own faults (the
 * mutation harness runs every fault at once this way); spec, schemas and signing keys are loaded once and shared.
 */
import type { MockOptions, MockServer } from './app.js';
import { launchMock, listenFor, runEntryPoint } from './launch.js';
import type { EarlyServer } from './listen.js';
import { parseInstances, parseSettings } from './settings.js';
import { profileIds } from './spec.js';

function banner(mock: MockServer, ms: number): string {
  const s = mock.state;
  return (
    `Dynamic mock listening on ${mock.url}/api/v0 (profile ` +
    `${s.profile.id}, seed ${s.seed.seed}, clock ` +
    `${s.clock.mode}, ` +
    (`control ` +
      (s.control ? `${mock.url}/__mock/` : 'off') +
      (s.faults.none ? '' : `, faults ${s.faults.list().join(',')}`) +
      `; ready in ${ms} ms)`)
  );
}

runEntryPoint('mock', async () => {
  const started = performance.now();
  const options = parseSettings(process.env, profileIds());
  const instances = parseInstances(process.env);
  if (process.argv.includes('--prepare')) {
    // Fill the caches a start needs and exit: a mock on a loopback port of the OS's choosing, closed once its keys
    // are derived (the precompiled validators are written while it loads).
    const mock = await launchMock({ ...options, host: '127.0.0.1', port: 0 });
    await mock.state.keys.ready;
    await mock.close();
    const ms = Math.round(performance.now() - started);
    console.log(`Dynamic mock caches ready (validators, signing keys of seed ${mock.state.seed.seed}) in ${ms} ms`);
    return;
  }
  // Every port is opened first (a taken one fails before anything loads); requests wait until the mock behind it is
  // ready, which the "listening" banner below says. With --announce-ports each open port gets a line at once, for a
  // harness that can go on meanwhile (playwright.config.ts's webServer).
  const early: EarlyServer[] = [];
  try {
    if (instances === undefined) early.push(await listenFor(options));
    else for (const { port } of instances) early.push(await listenFor({ ...options, port }, 'MOCK_INSTANCES port'));
  } catch (err) {
    early.forEach((e) => e.server.close());
    throw err;
  }
  if (process.argv.includes('--announce-ports'))
    for (const e of early) console.log(`Dynamic mock accepting connections on ${e.url}/ (loading)`);
  const mocks: MockServer[] = [];
  if (instances === undefined) mocks.push(await launchMock(options, 'MOCK_PORT', early[0]));
  else {
    const [{ loadSpec }, { SchemaRegistry }] = await Promise.all([import('./spec.js'), import('./schemas.js')]);
    const shared: MockOptions = { ...options, spec: loadSpec(), registry: new SchemaRegistry() };
    for (const [i, instance] of instances.entries()) {
      mocks.push(
        await launchMock({ ...shared, port: instance.port, faults: instance.faults }, 'MOCK_INSTANCES port', early[i]),
      );
    }
  }
  const ms = Math.round(performance.now() - started);
  for (const mock of mocks) console.log(banner(mock, ms));
  const stop = (): void => {
    void Promise.all(mocks.map((m) => m.close())).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
