import { test } from '../../src/engine/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/engine/titles.js';

test.describe('authentication', () => {
  for (const check of checksOf('AUTH'))
    test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
