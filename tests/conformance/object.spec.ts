import { test } from '../../src/engine/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/engine/titles.js';

test.describe('object-level authorization', () => {
  for (const check of checksOf('OBJ'))
    test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
