import { test } from '../../src/engine/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/engine/titles.js';

test.describe('error codes', () => {
  for (const check of checksOf('ERR'))
    test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
