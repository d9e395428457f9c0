import { test } from '../../src/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/titles.js';

test.describe('token format', () => {
  for (const check of checksOf('TOKEN')) test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
