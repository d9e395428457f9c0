import { test } from '../../src/engine/fixtures.js';
import { ruleIdsOf, ruleTitle } from '../../src/engine/titles.js';
import { runRule } from './run-rule.js';

test.describe('token format', () => {
  for (const id of ruleIdsOf('TOKEN')) test(ruleTitle(id), ({ conformance }) => runRule(conformance, id));
});
