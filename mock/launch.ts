/**
 * Shared by the mock's two entry points (`mock/server.ts`, `mock/simulator.ts`): start the server with a readable
 * error for a port that cannot be used, and the one-line error + exit 2 for every setting error.
 */
import type { MockOptions, MockServer } from './app.js';
import { SettingError } from './settings.js';

/** Starts the mock (heavy modules load only now, after the settings were checked). */
export async function launchMock(options: MockOptions, portVariable = 'MOCK_PORT'): Promise<MockServer> {
  const { createMockServer } = await import('./app.js');
  try {
    return await createMockServer(options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new SettingError(
        `cannot listen on ${options.host ?? '127.0.0.1'}:` +
          `${String(options.port)} (${code}); choose another ` +
          `${portVariable} / MOCK_HOST`,
      );
    }
    throw err;
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
