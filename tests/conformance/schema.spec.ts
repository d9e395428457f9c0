import { test } from '../../src/engine/fixtures.js';
import { ruleIdsOf, ruleTitle } from '../../src/engine/titles.js';
import { runRule } from './run-rule.js';

test.describe('response schemas', () => {
  for (const id of ruleIdsOf('SCHEMA')) test(ruleTitle(id), ({ conformance }) => runRule(conformance, id));
});
