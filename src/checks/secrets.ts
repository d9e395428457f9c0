/**
 * Secret-safety rules of the suite itself (specs/rules/secrets.json).
 */
import type { Check } from './types.js';

/** Every SEC-* check, in rule order. */
export const SEC_CHECKS: Check[] = [];
