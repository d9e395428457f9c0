import { test } from '../../src/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/titles.js';

test.describe('response schemas', () => {
  for (const check of checksOf('SCHEMA')) test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
