import { test } from '../../src/engine/fixtures.js';
import { ruleIdsOf, ruleTitle } from '../../src/engine/titles.js';
import { runRule } from './run-rule.js';

test.describe('object-level authorization', () => {
  for (const id of ruleIdsOf('OBJ')) test(ruleTitle(id), ({ conformance }) => runRule(conformance, id));
});
