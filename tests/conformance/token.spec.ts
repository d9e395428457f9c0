import { test } from '../../src/engine/fixtures.js';
import { checksOf } from '../../src/checks/index.js';
import { ruleTitle } from '../../src/engine/titles.js';

test.describe('token format', () => {
  for (const check of checksOf('TOKEN'))
    test(ruleTitle(check.rule), ({ conformance }) => conformance.check(check).then(() => undefined));
});
