import { test } from '../../src/engine/fixtures.js';
import { ruleIdsOf, ruleTitle } from '../../src/engine/titles.js';
import { runRule } from './run-rule.js';

test.describe('authentication', () => {
  for (const id of ruleIdsOf('AUTH')) test(ruleTitle(id), ({ conformance }) => runRule(conformance, id));
});
