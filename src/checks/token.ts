/**
 * API-token format rules (specs/rules/token.json).
 */
import type { Check } from './types.js';

/** Every TOKEN-* check, in rule order. */
export const TOKEN_CHECKS: Check[] = [];
