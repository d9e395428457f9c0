/**
 * Test titles: '<id> <title> <tags>' (e.g. 'AUTH-001 … @auth') so `-g AUTH-001` or `--grep @auth` selects a rule or a
 * family.
 */
import { loadConfig } from './config.js';
import { loadSpec } from './spec.js';

export function ruleTitle(ruleId: string): string {
  const rule = loadSpec(loadConfig().docsProfile).rulesById.get(ruleId);
  if (!rule) throw new Error(`no rule ${ruleId} in specs/rules`);
  return `${rule.id} ${rule.title} ${rule.tags.join(' ')}`;
}
