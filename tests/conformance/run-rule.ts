/**
 * What each conformance spec file runs for one rule: its check, found in the table (src/checks/index.ts) by the rule
 * id. The table (and with it the engine and the HTTP client) is imported inside the test, so only the workers load
 * it: the runner process loads the spec files just to list their tests, titled from specs/rules alone.
 */
import type { Conformance } from '../../src/engine/fixtures.js';

/** Runs the check of rule `id` through the conformance fixture (which reports it and decides the verdict). */
export async function runRule(conformance: Conformance, id: string): Promise<void> {
  const { checkFor } = await import('../../src/checks/index.js');
  const check = checkFor(id);
  if (!check) throw new Error(`${id} has no check in src/checks/index.ts`);
  await conformance.check(check);
}
