/**
 * The engine's ONE ajv instance (JSON Schema 2020-12, strict, formats). Every file under schemas/ is added and
 * compiled once at load: an unknown $id or an unresolved $ref fails here, not at use.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ROOT } from './config.js';
import type { JsonSchema } from './spec.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return schemaFiles(full);
    return name.endsWith('.schema.json') ? [full] : [];
  });
}

/** A schema validation result with ajv's errors rendered as short sentences. */
export interface Validation { valid: boolean; errors: string[] }

export class SchemaRegistry {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true, strictTuples: false, validateFormats: true });
  private readonly compiledAdhoc = new Map<string, ValidateFunction>();
  readonly ids: string[] = [];

  constructor(dir = join(ROOT, 'schemas')) {
    addFormats(this.ajv);
    for (const file of schemaFiles(dir)) {
      const schema = JSON.parse(readFileSync(file, 'utf8')) as { $id?: string };
      if (!schema.$id) throw new Error(`schema without $id: ${file.slice(ROOT.length + 1)}`);
      this.ajv.addSchema(schema);
      this.ids.push(schema.$id);
    }
    for (const id of this.ids) this.byId(id);
  }

  /** The compiled validator of a schema file, by $id; unknown ids throw. */
  byId(id: string): ValidateFunction {
    const validate = this.ajv.getSchema(id);
    if (!validate) throw new Error(`unknown schema id ${id}`);
    return validate;
  }

  /** Compiles (once, cached by content) an inline schema whose $refs point at registered ids. */
  compile(schema: JsonSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiledAdhoc.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiledAdhoc.set(key, validate);
    }
    return validate;
  }

  validate(schemaOrId: JsonSchema | string, value: unknown): Validation {
    const validate = typeof schemaOrId === 'string' ? this.byId(schemaOrId) : this.compile(schemaOrId);
    const valid = validate(value);
    return { valid, errors: valid ? [] : describe(validate.errors ?? []) };
  }
}

function describe(errors: ErrorObject[]): string[] {
  return errors.slice(0, 5).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`);
}

let registry: SchemaRegistry | undefined;

/** The process-wide registry (built on first use). */
export function schemas(): SchemaRegistry {
  registry ??= new SchemaRegistry();
  return registry;
}
