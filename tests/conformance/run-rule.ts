/**
 * What each conformance spec file runs for one rule: its check, found in the table (src/checks/index.ts) by the rule
 * id. The table (and with it the engine and the HTTP client) is imported only in the workers: the runner process loads
 * the spec files just to list their tests, titled from specs/rules alone.
 */
import type { Conformance } from '../../src/engine/fixtures.js';

// A worker starts loading the table when it loads its spec files, so the ~80 modules load while the worker's suite is
// being set up (the mock's credentials are fetched meanwhile), not in its first test.
const table = process.env.TEST_WORKER_INDEX === undefined ? undefined : import('../../src/checks/index.js');
// A table that fails to load fails each test that awaits it (below), not the worker as an unhandled rejection.
table?.catch(() => undefined);

/** Runs the check of rule `id` through the conformance fixture (which reports it and decides the verdict). */
export async function runRule(conformance: Conformance, id: string): Promise<void> {
  const { checkFor } = await (table ?? import('../../src/checks/index.js'));
  const check = checkFor(id);
  if (!check) throw new Error(`${id} has no check in src/checks/index.ts`);
  await conformance.check(check);
}
