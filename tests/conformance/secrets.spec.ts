import { test } from '../../src/engine/fixtures.js';
import { ruleIdsOf, ruleTitle } from '../../src/engine/titles.js';
import { runRule } from './run-rule.js';

test.describe('secret safety', () => {
  for (const id of ruleIdsOf('SEC')) test(ruleTitle(id), ({ conformance }) => runRule(conformance, id));
});
