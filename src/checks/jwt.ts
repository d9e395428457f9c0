/**
 * User JWT rules (specs/rules/jwt.json).
 */
import type { Check } from './types.js';

/** Every JWT-* check, in rule order. */
export const JWT_CHECKS: Check[] = [];
