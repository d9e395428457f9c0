import { test } from '../../src/engine/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/engine/titles.js';

test.describe('user JWT', () => {
  for (const check of checksOf('JWT'))
    test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
