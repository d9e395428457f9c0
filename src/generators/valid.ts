/**
 * Valid values for the constraints the spec keeps from Dynamic's official document (patterns, formats, lengths,
 * integer bounds) that openapi-sampler ignores: the suite's well-formed requests (SCHEMA-001…005) and the samples
 * the negative cases start from (ERR-002, ERR-003) must satisfy them, or a 400 could not be attributed. Strings come
 * from fast-check's `stringMatching` with a seed derived from a label, so every run builds the same request.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CACHE_DIR, packageVersion } from '../engine/config.js';
import type { JsonSchema } from '../engine/spec.js';
import { resolveSchema, type SchemaLookup } from './negative.js';
import { StringCache, cacheFileFor } from './string-cache.js';

/**
 * Lookaround groups (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`) removed: fast-check's stringMatching cannot generate
 * them.
 */
export function withoutLookarounds(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (/^\(\?<?[=!]/.test(pattern.slice(i))) {
      let depth = 0;
      let inClass = false;
      for (; i < pattern.length; i++) {
        const ch = pattern[i];
        if (ch === '\\') {
          i++;
          continue;
        }
        if (inClass) {
          if (ch === ']') inClass = false;
          continue;
        }
        if (ch === '[') inClass = true;
        else if (ch === '(') depth++;
        else if (ch === ')' && --depth === 0) break;
      }
      continue;
    }
    out += pattern[i];
  }
  return out;
}

const FALLBACK_STRINGS = ['', 'example', 'Example name', 'https://example.com', 'user@example.com', 'example.com', 'a'];

function seedOf(label: string): number {
  return createHash('sha256').update(label).digest().readInt32BE(0);
}

function formatValue(format: string, label: string): string | undefined {
  switch (format) {
    case 'uuid': {
      const h = createHash('sha256').update(label).digest('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    }
    case 'date-time':
      return '2026-01-01T00:00:00.000Z';
    case 'date':
      return '2026-01-01';
    case 'email':
      return 'user@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/';
    case 'hostname':
      return 'example.com';
    default:
      return undefined;
  }
}

/** True when a string satisfies a schema's pattern and length bounds (formats are left to the caller's ajv). */
function fits(schema: JsonSchema, value: string): boolean {
  const length = [...value].length;
  if (typeof schema.minLength === 'number' && length < schema.minLength) return false;
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) return false;
  return typeof schema.pattern !== 'string' || new RegExp(schema.pattern, 'u').test(value);
}

const matchingArbitraries = new Map<string, fc.Arbitrary<string>>();

/**
 * fast-check's arbitrary of strings matching `source` within the schema's lengths, built once per pattern and bounds
 * (building one costs milliseconds; arbitraries are stateless, so a shared one gives the same value for a seed).
 */
function matching(source: string, schema: JsonSchema): fc.Arbitrary<string> {
  const key = [source, schema.minLength, schema.maxLength, schema.pattern].map(String).join('\u0000');
  let arbitrary = matchingArbitraries.get(key);
  if (!arbitrary) {
    arbitrary = fc.stringMatching(new RegExp(source, 'u')).filter((s) => fits(schema, s));
    matchingArbitraries.set(key, arbitrary);
  }
  return arbitrary;
}

let patternStrings: StringCache | undefined;

/**
 * The pattern strings of earlier processes (src/generators/string-cache.ts), in a file named by fast-check's version
 * and this file's source.
 */
function patternStringCache(): StringCache {
  if (!patternStrings) {
    patternStrings = new StringCache(
      cacheFileFor(CACHE_DIR, 'pattern-strings', [
        packageVersion('fast-check'),
        readFileSync(fileURLToPath(import.meta.url)),
      ]),
    );
  }
  return patternStrings;
}

/** A string matching the schema's pattern within its lengths for `label`'s seed (fast-check), else a fallback. */
function patternString(schema: JsonSchema & { pattern: string }, label: string): string | undefined {
  for (const source of [schema.pattern, withoutLookarounds(schema.pattern)]) {
    try {
      const [v] = fc.sample(matching(source, schema), { seed: seedOf(label), numRuns: 1 });
      if (v !== undefined) return v;
    } catch {
      // syntax fast-check does not generate, or nothing within its skip budget: next way
    }
  }
  return FALLBACK_STRINGS.find((s) => fits(schema, s));
}

/** A string satisfying the schema's format, pattern and lengths, or undefined when none is found. */
export function validString(schema: JsonSchema, label: string): string | undefined {
  const format = typeof schema.format === 'string' ? schema.format : undefined;
  const formatted = format ? formatValue(format, label) : undefined;
  if (formatted !== undefined && fits(schema, formatted)) return formatted;
  const pattern = schema.pattern;
  if (typeof pattern === 'string') {
    const key = JSON.stringify([pattern, schema.minLength ?? null, schema.maxLength ?? null, label]);
    return patternStringCache().get(key, () => patternString({ ...schema, pattern }, label));
  }
  if (format !== undefined) return undefined;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Math.max(min, 7);
  return 'x'.repeat(Math.min(Math.max(min, 7), max));
}

function stringAllowed(schema: JsonSchema): boolean {
  return schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string'));
}

/**
 * A copy of `value` (a sample of `schema`) whose strings satisfy their schema's pattern, format and lengths and
 * whose numbers satisfy integer and bound constraints. Objects and arrays are followed; anyOf/oneOf are left alone.
 */
export function conform(schema: JsonSchema, value: unknown, lookup: SchemaLookup, label: string, depth = 0): unknown {
  if (depth > 12) return value;
  const s = resolveSchema(schema, lookup);
  if (typeof value === 'string' && stringAllowed(s) && !Array.isArray(s.enum)) {
    const needsFormat =
      typeof s.format === 'string' &&
      formatValue(s.format, label) !== undefined &&
      s.format !== 'date-time' &&
      s.format !== 'uri' &&
      s.format !== 'url';
    if (
      fits(s, value) &&
      !(needsFormat && s.format === 'uuid' && !/^[0-9a-f-]{36}$/i.test(value)) &&
      !(s.format === 'email' && !value.includes('@'))
    )
      return value;
    return validString(s, label) ?? value;
  }
  if (typeof value === 'number' && (s.type === 'integer' || s.type === 'number')) {
    let n = s.type === 'integer' ? Math.round(value) : value;
    if (typeof s.minimum === 'number' && n < s.minimum) n = s.minimum;
    if (typeof s.maximum === 'number' && n > s.maximum) n = s.maximum;
    return n;
  }
  if (Array.isArray(value)) {
    const items = s.items && typeof s.items === 'object' ? (s.items as JsonSchema) : undefined;
    return items ? value.map((v, i) => conform(items, v, lookup, `${label}/${i}`, depth + 1)) : value;
  }
  if (value !== null && typeof value === 'object') {
    const props = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = props[k] ? conform(props[k], v, lookup, `${label}/${k}`, depth + 1) : v;
    return out;
  }
  return value;
}
