/**
 * Shared by the mock's two entry points (`mock/server.ts`, `mock/simulator.ts`): start the server with a readable
 * error for a port that cannot be used, and the one-line error + exit 2 for every setting error.
 */
import type { MockOptions, MockServer } from './app.js';
import { listenEarly, type EarlyServer } from './listen.js';
import { DEFAULTS, SettingError } from './settings.js';

/** A port that cannot be used, as a setting error naming the variable that chose it. */
function portError(err: unknown, options: MockOptions, portVariable: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new SettingError(
      `cannot listen on ${options.host ?? DEFAULTS.host}:` +
        `${String(options.port)} (${code}); choose another ` +
        `${portVariable} / MOCK_HOST`,
    );
  }
  return err;
}

/** Opens the mock's port before the heavy modules load (mock/listen.ts); requests wait for `launchMock`. */
export async function listenFor(options: MockOptions, portVariable = 'MOCK_PORT'): Promise<EarlyServer> {
  try {
    return await listenEarly(options.host ?? DEFAULTS.host, options.port ?? DEFAULTS.port);
  } catch (err) {
    throw portError(err, options, portVariable);
  }
}

/**
 * Starts the mock (heavy modules load only now, after the settings were checked), on `early` when the entry point
 * opened its port already.
 */
export async function launchMock(
  options: MockOptions,
  portVariable = 'MOCK_PORT',
  early?: EarlyServer,
): Promise<MockServer> {
  const { createMockServer } = await import('./app.js');
  try {
    return await createMockServer(options, early);
  } catch (err) {
    throw portError(err, options, portVariable);
  }
}

/** Stops the server on SIGINT / SIGTERM. */
export function stopOnSignal(mock: MockServer): void {
  const stop = (): void => {
    void mock.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs an entry point: any error is one line on stderr (`<name>: <message>`) and exit code 2, never a stack trace. */
export function runEntryPoint(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const message = err instanceof SettingError ? err.message : err instanceof Error ? err.message : String(err);
    console.error(`${name}: ${message}`);
    process.exit(2);
  });
}
