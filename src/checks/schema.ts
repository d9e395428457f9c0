/**
 * Response-schema rules (specs/rules/schema.json).
 */
import type { Check } from './types.js';

/** Every SCHEMA-* check, in rule order. */
export const SCHEMA_CHECKS: Check[] = [];
