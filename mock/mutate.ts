import type { JsonSchema } from './spec.js';

/**
 * Deliberately broken success bodies for the SCHEMA-001 faults (`drop-required-field`, `wrong-field-type`,
 * `extra-enum-value`). Each returns a mutated deep copy; the cached sample is never touched.
 */
export class BodyMutations {
  readonly #schemas: Readonly<Record<string, JsonSchema>>;

  constructor(document: JsonSchema) {
    const components = document['components'] as Record<string, Record<string, JsonSchema>> | undefined;
    this.#schemas = components?.['schemas'] ?? {};
  }

  /** Removes the first required property found (breadth-first from the top level). */
  dropRequired(value: unknown, schema: JsonSchema): unknown {
    const copy = structuredClone(value);
    const queue: [unknown, JsonSchema][] = [[copy, schema]];
    while (queue.length > 0) {
      const [v, s] = queue.shift()!;
      for (const part of this.#parts(s)) {
        if (isObj(v)) {
          const required = Array.isArray(part['required']) ? (part['required'] as unknown[]) : [];
          const first = required.find((r): r is string => typeof r === 'string' && r in v);
          if (first !== undefined) {
            delete v[first];
            return copy;
          }
        }
      }
      queue.push(...this.#children(v, s));
    }
    return copy;
  }

  /** Sends every string as a number (schema-agnostic). */
  wrongFieldType(value: unknown): unknown {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return v.length;
      if (Array.isArray(v)) return v.map(walk);
      if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value);
  }

  /** Puts an undocumented value into the first enum-typed field found (breadth-first). */
  extraEnum(value: unknown, schema: JsonSchema): unknown {
    const copy = structuredClone(value);
    const queue: [unknown, JsonSchema, (x: unknown) => void][] = [[copy, schema, () => undefined]];
    while (queue.length > 0) {
      const [v, s, setter] = queue.shift()!;
      if (this.#parts(s).some((p) => Array.isArray(p['enum'])) && (typeof v === 'string' || typeof v === 'number')) {
        setter('undocumented_enum_value');
        return copy;
      }
      if (isObj(v)) {
        for (const part of this.#parts(s)) {
          const props = isObj(part['properties']) ? (part['properties'] as Record<string, JsonSchema>) : {};
          for (const [k, ps] of Object.entries(props)) if (k in v) queue.push([v[k], ps, (x) => (v[k] = x)]);
        }
      } else if (Array.isArray(v)) {
        for (const part of this.#parts(s)) {
          if (isObj(part['items']))
            v.forEach((item, i) => queue.push([item, part['items'] as JsonSchema, (x) => (v[i] = x)]));
        }
      }
    }
    return copy;
  }

  #children(v: unknown, s: JsonSchema): [unknown, JsonSchema][] {
    const out: [unknown, JsonSchema][] = [];
    for (const part of this.#parts(s)) {
      if (isObj(v) && isObj(part['properties'])) {
        for (const [k, ps] of Object.entries(part['properties'] as Record<string, JsonSchema>))
          if (k in v) out.push([v[k], ps]);
      } else if (Array.isArray(v) && isObj(part['items'])) {
        for (const item of v) out.push([item, part['items']]);
      }
    }
    return out;
  }

  /** The schema and its allOf/anyOf/oneOf branches, with refs resolved. */
  #parts(s: JsonSchema, depth = 0): JsonSchema[] {
    if (depth > 16) return [];
    const ref = s['$ref'];
    if (typeof ref === 'string') {
      const target = this.#schemas[ref.replace('#/components/schemas/', '')];
      return target ? this.#parts(target, depth + 1) : [];
    }
    const out = [s];
    for (const k of ['allOf', 'anyOf', 'oneOf']) {
      const branches = s[k];
      if (Array.isArray(branches)) for (const b of branches) if (isObj(b)) out.push(...this.#parts(b, depth + 1));
    }
    return out;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
