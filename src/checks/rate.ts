/**
 * Rate-limit rules (specs/rules/rate-limit.json).
 */
import type { Check } from './types.js';

/** Every RATE-* check, in rule order. */
export const RATE_CHECKS: Check[] = [];
