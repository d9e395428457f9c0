/**
 * Test titles: '<id> <title> <tags>' (e.g. 'AUTH-001 … @auth') so `-g AUTH-001` or `--grep @auth` selects a rule or a
 * family.
 */
import { loadRules } from './spec.js';

/** The test title of a rule (its id, title and tags; the rules alone are read, not the OpenAPI document). */
export function ruleTitle(ruleId: string): string {
  const rule = loadRules().find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId} in specs/rules`);
  return `${rule.id} ${rule.title} ${rule.tags.join(' ')}`;
}

/** The rule ids of a family (AUTH, TOKEN, JWT, ERR, SCHEMA, RATE, SEC, OBJ) in id order, from specs/rules alone. */
export function ruleIdsOf(family: string): string[] {
  return loadRules()
    .map((r) => r.id)
    .filter((id) => id.startsWith(`${family}-`))
    .sort((a, b) => a.localeCompare(b));
}
