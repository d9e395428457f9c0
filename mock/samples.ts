import { createHash } from 'node:crypto';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { sample } from 'openapi-sampler';
import type { SchemaRegistry } from './schemas.js';
import { derivedUuid } from './seed.js';
import type { JsonSchema, OperationInfo } from './spec.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cached success body: the value (never mutated) and its serialisation. */
export interface CachedSample {
  readonly value: unknown;
  readonly text: string;
  readonly valid: boolean;
}

/**
 * Lookaround groups (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`), which fast-check's stringMatching cannot generate.
 */
function withoutLookarounds(pattern: string): string {
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

/** Strings tried when a pattern is beyond fast-check's regex support (checked against the real pattern). */
const FALLBACK_STRINGS = [
  '',
  'example',
  'Example name',
  'https://example.com',
  'user@example.com',
  'example.com',
  '0x0',
  'a',
];

/** A 32-bit seed from a label (fast-check wants a number). */
function seedOf(label: string): number {
  return createHash('sha256').update(label).digest().readInt32BE(0);
}

/** Format-valid strings for the formats the spec uses (ajv-formats semantics). */
function formatSample(format: string, uuid: () => string): string | undefined {
  switch (format) {
    case 'uuid':
      return uuid();
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
    case 'ipv4':
      return '192.0.2.1';
    default:
      return undefined;
  }
}

const matchingArbitraries = new Map<string, fc.Arbitrary<string>>();

/**
 * fast-check's arbitrary of strings matching `source` within the lengths and `pattern`, built once per key (building
 * one costs milliseconds; arbitraries are stateless, so a shared one gives the same value for a seed).
 */
function matching(source: string, min: number, max: number, pattern: RegExp): fc.Arbitrary<string> {
  const key = `${source}\u0000${min}\u0000${max}\u0000${pattern.source}`;
  let arbitrary = matchingArbitraries.get(key);
  if (!arbitrary) {
    arbitrary = fc
      .stringMatching(new RegExp(source, 'u'))
      .filter((v) => [...v].length >= min && [...v].length <= max && pattern.test(v));
    matchingArbitraries.set(key, arbitrary);
  }
  return arbitrary;
}

/**
 * A string satisfying a schema's pattern, format and length bounds: fast-check's `stringMatching` (seeded, so the
 * mock stays deterministic), lookarounds removed for generation and the full pattern checked on the result; a
 * format-valid value when the schema has a format; undefined when nothing fits.
 */
export function stringFor(schema: JsonSchema, label: string, uuid: () => string): string | undefined {
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
  const pattern = typeof schema['pattern'] === 'string' ? new RegExp(schema['pattern'], 'u') : undefined;
  const format = typeof schema['format'] === 'string' ? schema['format'] : undefined;
  const fits = (v: string): boolean =>
    [...v].length >= min && [...v].length <= max && (pattern === undefined || pattern.test(v));
  const formatted = format !== undefined ? formatSample(format, uuid) : undefined;
  if (formatted !== undefined && fits(formatted)) return formatted;
  if (pattern !== undefined && format === undefined) {
    for (const source of [pattern.source, withoutLookarounds(pattern.source)]) {
      try {
        const [v] = fc.sample(matching(source, min, max, pattern), { seed: seedOf(label), numRuns: 1 });
        if (v !== undefined) return v;
      } catch {
        // unsupported syntax or nothing found within fast-check's skip budget: try the next way
      }
    }
    return FALLBACK_STRINGS.find(fits);
  }
  if (pattern === undefined && format === undefined)
    return 'x'.repeat(Math.max(min, Math.min(max, 7))).slice(0, max === Infinity ? undefined : max) || undefined;
  return undefined;
}

function decodePointer(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Deterministic schema-valid sample bodies (SCHEMA-001): openapi-sampler builds the structure, every UUID is one
 * derived from `MOCK_SEED` + the operationId, and every string or number the response schema rejects (a
 * `pattern`, `format`, length or integer constraint the sampler ignores) is regenerated for exactly that
 * subschema — strings by fast-check's `stringMatching` with a fixed seed. Validated with the mock's ajv; if the full
 * sample cannot be made valid, the required-only sample is tried. Cached per operation.
 */
export class Samples {
  readonly #document: JsonSchema;
  readonly #registry: SchemaRegistry;
  readonly #seed: string;
  readonly #byOp = new Map<string, CachedSample>();
  readonly #byModel = new Map<string, unknown>();

  constructor(document: JsonSchema, registry: SchemaRegistry, seed: string) {
    this.#document = document;
    this.#registry = registry;
    this.#seed = seed;
  }

  /** The success body of a JSON or text operation. */
  forOperation(op: OperationInfo): CachedSample {
    const hit = this.#byOp.get(op.operationId);
    if (hit !== undefined) return hit;
    const schema = op.success.schema ?? {};
    let made: CachedSample;
    if (op.success.kind === 'text') {
      const value = this.#generate(schema, op.operationId, false);
      const text = typeof value === 'string' ? value : 'ok';
      made = { value: text, text, valid: true };
    } else {
      const validate = this.#registry.compile(schema);
      let value = this.#generate(schema, op.operationId, false);
      // An untyped schema ({}) samples as null; an empty object is the more useful JSON answer.
      if (value === null && Object.keys(schema).length === 0) value = {};
      value = this.#repair(value, validate, op.operationId);
      let valid = validate(value);
      if (!valid) {
        value = this.#repair(this.#generate(schema, op.operationId, true), validate, op.operationId);
        valid = validate(value);
      }
      made = { value, text: JSON.stringify(value), valid };
    }
    this.#byOp.set(op.operationId, made);
    return made;
  }

  /** A fresh deep copy of a model's sample (used to build stateful records). */
  forModel(name: string, skipNonRequired = false): unknown {
    const key = `${name}:${String(skipNonRequired)}`;
    let v = this.#byModel.get(key);
    if (v === undefined) {
      v = this.#generate({ $ref: `#/components/schemas/${name}` }, `model:${name}`, skipNonRequired);
      v = this.#repair(v, this.#registry.model(name), `model:${name}`);
      this.#byModel.set(key, v);
    }
    return structuredClone(v);
  }

  /** Regenerates every value the validator rejects for a string/number constraint (a few rounds; deterministic). */
  #repair(value: unknown, validate: ValidateFunction, salt: string): unknown {
    let current = value;
    for (let round = 0; round < 6 && !validate(current); round++) {
      let changed = false;
      for (const e of validate.errors ?? []) {
        const fixed = this.#fix(current, e, salt);
        if (fixed.changed) {
          current = fixed.value;
          changed = true;
        }
      }
      if (!changed) break;
    }
    return current;
  }

  #fix(root: unknown, e: ErrorObject, salt: string): { value: unknown; changed: boolean } {
    const parent: JsonSchema | undefined = e.parentSchema;
    if (parent === undefined) return { value: root, changed: false };
    const path = decodePointer(e.instancePath);
    const label = `${this.#seed}:${salt}:${e.instancePath}`;
    let replacement: unknown;
    if (
      ['pattern', 'format', 'minLength', 'maxLength'].includes(e.keyword) ||
      (e.keyword === 'type' && parent['type'] === 'string')
    ) {
      replacement = stringFor(parent, label, () => derivedUuid(this.#seed, salt, e.instancePath));
    } else if (
      ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'].includes(e.keyword) ||
      (e.keyword === 'type' && (parent['type'] === 'integer' || parent['type'] === 'number'))
    ) {
      const lo =
        typeof parent['minimum'] === 'number'
          ? parent['minimum']
          : typeof parent['exclusiveMinimum'] === 'number'
            ? parent['exclusiveMinimum'] + 1
            : 0;
      const hi =
        typeof parent['maximum'] === 'number'
          ? parent['maximum']
          : typeof parent['exclusiveMaximum'] === 'number'
            ? parent['exclusiveMaximum'] - 1
            : lo + 1;
      replacement = Math.ceil(Math.min(Math.max(lo, 1), hi));
    }
    if (replacement === undefined) return { value: root, changed: false };
    if (path.length === 0) return { value: replacement, changed: replacement !== root };
    let node: unknown = root;
    for (const part of path.slice(0, -1)) node = (node as Record<string, unknown> | undefined)?.[part];
    if (typeof node !== 'object' || node === null) return { value: root, changed: false };
    const last = path.at(-1)!;
    const holder = node as Record<string, unknown>;
    if (holder[last] === replacement) return { value: root, changed: false };
    holder[last] = replacement;
    return { value: root, changed: true };
  }

  #generate(schema: JsonSchema, salt: string, skipNonRequired: boolean): unknown {
    const raw = sample(schema, { skipNonRequired, quiet: true }, this.#document);
    return this.#reseed(raw, salt);
  }

  #reseed(v: unknown, salt: string): unknown {
    if (typeof v === 'string') return UUID.test(v) ? derivedUuid(this.#seed, salt, v) : v;
    if (Array.isArray(v)) return v.map((x) => this.#reseed(x, salt));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.#reseed(x, salt);
      return out;
    }
    return v;
  }
}
