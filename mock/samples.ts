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
 * Deterministic schema-valid sample bodies (SCHEMA-001): openapi-sampler output (deterministic by itself), with
 * every UUID replaced by one derived from `MOCK_SEED` + the operationId, validated against the response schema with
 * the mock's ajv. If the full sample is invalid, the required-only sample is used. Cached per operation.
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
      let valid = validate(value);
      if (!valid) {
        value = this.#generate(schema, op.operationId, true);
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
      this.#byModel.set(key, v);
    }
    return structuredClone(v);
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
