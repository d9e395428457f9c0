/**
 * The one table of checks: every rule id of specs/rules has exactly one check here (tests/unit/checks.test.ts
 * proves the table and the catalogue agree). The conformance fixture (by rule id), the matrix and the mutation harness
 * read it.
 */
import type { Check } from '../engine/types.js';
import { AUTH_CHECKS } from './auth.js';
import { TOKEN_CHECKS } from './token.js';
import { JWT_CHECKS } from './jwt.js';
import { ERR_CHECKS } from './errors.js';
import { SCHEMA_CHECKS } from './schema.js';
import { RATE_CHECKS } from './rate/index.js';
import { SEC_CHECKS } from './secrets.js';
import { OBJ_CHECKS } from './object.js';

export const CHECKS: readonly Check[] = [
  ...AUTH_CHECKS,
  ...TOKEN_CHECKS,
  ...JWT_CHECKS,
  ...ERR_CHECKS,
  ...SCHEMA_CHECKS,
  ...RATE_CHECKS,
  ...SEC_CHECKS,
  ...OBJ_CHECKS,
];

/** The registered check of a rule id. */
export function checkFor(ruleId: string): Check | undefined {
  return CHECKS.find((c) => c.rule === ruleId);
}
