import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from './spec.js';

/** `$id` base of the model schemas (schemas/models/<Name>.schema.json). */
export const MODEL_ID_BASE = 'https://schemas.dynamic-conformance.invalid/models/';
const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));
const SCHEMA_DIRS = ['models', 'auth', 'errors', 'meta'] as const;
const COMPONENT_REF = '#/components/schemas/';

/** Rewrites the spec's `#/components/schemas/X` refs to the model `$id`s (the two are identical by construction). */
export function toModelRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toModelRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith(COMPONENT_REF)
        ? `${MODEL_ID_BASE}${v.slice(COMPONENT_REF.length)}.schema.json`
        : toModelRefs(v);
  }
  return out;
}

/**
 * The mock's one ajv instance (ARCHITECTURE.md boundaries): JSON Schema 2020-12, strict, allErrors, formats;
 * verbose, so that an error carries the subschema it failed (the sample repair in samples.ts regenerates from it).
 * Every schema under schemas/ is added at construction; validators are compiled lazily on first use and cached.
 * `compileAll()` compiles every schema (unknown `$id` / unresolvable `$ref` detection, run by a unit test).
 */
export class SchemaRegistry {
  readonly ajv: Ajv2020;
  readonly ids: readonly string[];
  readonly #byObject = new WeakMap<object, ValidateFunction>();

  constructor(schemasDir: string = SCHEMAS_DIR) {
    this.ajv = new Ajv2020({
      strict: true,
      allErrors: true,
      strictTuples: false,
      allowUnionTypes: true,
      verbose: true,
    });
    addFormatsModule.default(this.ajv);
    const ids: string[] = [];
    for (const dir of SCHEMA_DIRS) {
      for (const file of readdirSync(`${schemasDir}/${dir}`)
        .filter((f) => f.endsWith('.json'))
        .sort()) {
        const schema = JSON.parse(readFileSync(`${schemasDir}/${dir}/${file}`, 'utf8')) as JsonSchema;
        const id = schema['$id'];
        if (typeof id !== 'string') throw new Error(`schemas/${dir}/${file} has no $id`);
        // Meta-schema validation happens in compileAll() (unit test); skipping it here keeps startup fast.
        this.ajv.addSchema(schema, undefined, undefined, false);
        ids.push(id);
      }
    }
    this.ids = ids;
  }

  /** Validator of a model by name (`User` → models/User.schema.json). */
  model(name: string): ValidateFunction {
    return this.byId(`${MODEL_ID_BASE}${name}.schema.json`);
  }

  /** Validator of a registered schema by `$id`; throws if the id is unknown. */
  byId(id: string): ValidateFunction {
    const v = this.ajv.getSchema(id);
    if (v === undefined) throw new Error(`unknown schema $id ${id}`);
    return v;
  }

  /** Validator of a schema taken from the spec (its component refs are mapped to model ids). Cached per object. */
  compile(schema: JsonSchema): ValidateFunction {
    const hit = this.#byObject.get(schema);
    if (hit !== undefined) return hit;
    const v = this.ajv.compile(toModelRefs(schema) as JsonSchema);
    this.#byObject.set(schema, v);
    return v;
  }

  /** Strictly compiles every registered schema, validating each against its meta-schema. Returns the count. */
  compileAll(): number {
    for (const id of this.ids) {
      const v = this.byId(id);
      if (!this.ajv.validateSchema(v.schema)) throw new Error(`${id}: ${this.ajv.errorsText(this.ajv.errors)}`);
    }
    return this.ids.length;
  }
}

/** Picks the most useful ajv error for a one-line message: a `format` error first, else the first one. */
export function primaryError(errors: readonly ErrorObject[] | null | undefined): ErrorObject | undefined {
  if (!errors || errors.length === 0) return undefined;
  return errors.find((e) => e.keyword === 'format') ?? errors.find((e) => e.keyword !== 'if') ?? errors[0];
}
