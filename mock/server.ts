/**
 * Entry point of the embedded mock (`npm run mock`). The only module of mock/ that reads `process.env`
 * (MOCK_PORT, MOCK_HOST, MOCK_SEED, MOCK_PROFILE / DYNAMIC_DOCS_PROFILE, MOCK_FAULTS, MOCK_CONTROL,
 * MOCK_TRUSTED_PROXY, MOCK_START_TIME, MOCK_INSTANCES). Bad settings print one readable line naming the variable and
 * exit 2 (checked before the heavy modules load, so a typo fails fast).
 *
 * With `MOCK_INSTANCES` one process serves several independent mocks, one per port, each with its own faults (the
 * mutation harness runs every fault at once this way); spec, schemas and signing keys are loaded once and shared.
 */
import type { MockOptions, MockServer } from './app.js';
import { SettingError, parseInstances, parseSettings } from './settings.js';
import { profileIds } from './spec.js';

function listenError(err: unknown, host: string | undefined, port: number | undefined, variable: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new SettingError(`cannot listen on ${host ?? '127.0.0.1'}:${String(port)} (${code}); choose another ${variable} / MOCK_HOST`);
  }
  return err;
}

function banner(mock: MockServer, ms: number): string {
  const s = mock.state;
  return (
    `Dynamic mock listening on ${mock.url}/api/v0 (profile ${s.profile.id}, seed ${s.seed.seed}, control ${s.control ? `${mock.url}/__mock/` : 'off'}` +
    `${s.faults.none ? '' : `, faults ${s.faults.list().join(',')}`}; ready in ${ms} ms)`
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseSettings(process.env, profileIds());
  const instances = parseInstances(process.env);
  const { createMockServer } = await import('./app.js');
  const mocks: MockServer[] = [];
  const stop = (): void => {
    void Promise.all(mocks.map((m) => m.close())).then(() => process.exit(0));
  };
  if (instances === undefined) {
    try {
      mocks.push(await createMockServer(options));
    } catch (err) {
      throw listenError(err, options.host, options.port, 'MOCK_PORT');
    }
  } else {
    const [{ loadSpec }, { SchemaRegistry }] = await Promise.all([import('./spec.js'), import('./schemas.js')]);
    const shared: MockOptions = { ...options, spec: loadSpec(), registry: new SchemaRegistry() };
    for (const instance of instances) {
      try {
        mocks.push(await createMockServer({ ...shared, port: instance.port, faults: instance.faults }));
      } catch (err) {
        await Promise.all(mocks.map((m) => m.close()));
        throw listenError(err, options.host, instance.port, 'MOCK_INSTANCES port');
      }
    }
  }
  const ms = Math.round(performance.now() - started);
  for (const mock of mocks) console.log(banner(mock, ms));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const message = err instanceof SettingError ? err.message : err instanceof Error ? err.message : String(err);
  console.error(`mock: ${message}`);
  process.exit(2);
});
