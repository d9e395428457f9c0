/**
 * Error-code rules (specs/rules/errors.json).
 */
import type { Check } from './types.js';

/** Every ERR-* check, in rule order. */
export const ERR_CHECKS: Check[] = [];
