/**
 * Entry point of the embedded mock (`npm run mock`). The only module of mock/ that reads `process.env`
 * (MOCK_PORT, MOCK_HOST, MOCK_SEED, MOCK_PROFILE / DYNAMIC_DOCS_PROFILE, MOCK_FAULTS, MOCK_CONTROL,
 * MOCK_TRUSTED_PROXY, MOCK_START_TIME). Bad settings print one readable line naming the variable and exit 2
 * (checked before the heavy modules load, so a typo fails fast).
 */
import { SettingError, parseSettings } from './settings.js';
import { profileIds } from './spec.js';

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseSettings(process.env, profileIds());
  const { createMockServer } = await import('./app.js');
  let mock;
  try {
    mock = await createMockServer(options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new SettingError(`cannot listen on ${options.host ?? '127.0.0.1'}:${String(options.port)} (${code}); choose another MOCK_PORT / MOCK_HOST`);
    }
    throw err;
  }
  const s = mock.state;
  const ms = Math.round(performance.now() - started);
  console.log(
    `Dynamic mock listening on ${mock.url}/api/v0 (profile ${s.profile.id}, seed ${s.seed.seed}, control ${s.control ? `${mock.url}/__mock/` : 'off'}` +
      `${s.faults.none ? '' : `, faults ${s.faults.list().join(',')}`}; ready in ${ms} ms)`,
  );
  const stop = (): void => {
    void mock.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const message = err instanceof SettingError ? err.message : err instanceof Error ? err.message : String(err);
  console.error(`mock: ${message}`);
  process.exit(2);
});
