import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { MOCK_CACHE_DIR, writeCacheFile } from './cache-files.js';
import type { JsonSchema, SpecBundle } from './spec.js';

type StandaloneCode = (ajv: Ajv2020, refsOrFuncs: Record<string, string>) => string;

/**
 * ajv, its formats and its standalone code generator, loaded on the first compile: a mock whose validators come from
 * the precompiled cache never loads them, and opens its ports ~60 ms sooner.
 */
function ajvModules(): {
  Ajv: typeof Ajv2020;
  addFormats: (ajv: Ajv2020) => void;
  standaloneCode: StandaloneCode;
} {
  const load = createRequire(import.meta.url);
  const standalone = load('ajv/dist/standalone/index.js') as { default?: StandaloneCode } & StandaloneCode;
  const formats = load('ajv-formats') as { default?: (ajv: Ajv2020) => void } & ((ajv: Ajv2020) => void);
  return {
    Ajv: (load('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 }).Ajv2020,
    addFormats: formats.default ?? formats,
    standaloneCode: standalone.default ?? standalone,
  };
}

/** `$id` base of the model schemas (schemas/models/<Name>.schema.json). */
export const MODEL_ID_BASE = 'https://schemas.dynamic-conformance.invalid/models/';
const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));
const AJV_OPTIONS = { strict: true, allErrors: true, strictTuples: false, allowUnionTypes: true, verbose: true };
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
 * Every schema under schemas/ is read at construction. A mock state calls `precompile` (standalone code from the
 * cache, or everything compiled once); a registry without it compiles lazily on first use and caches. `compileAll()`
 * compiles every schema (unknown `$id` / unresolvable `$ref` detection, run by the self-check).
 */
export class SchemaRegistry {
  readonly ids: readonly string[];
  readonly #schemas: JsonSchema[] = [];
  readonly #files: string[] = [];
  readonly #byObject = new WeakMap<object, ValidateFunction>();
  #ajv: Ajv2020 | undefined;
  /** Standalone validators by `$id` or inline-schema key (see {@link precompile}); empty until then. */
  #precompiled: Record<string, ValidateFunction> = {};
  /** Where the validators came from: `lazy` (compiled on first use), `cache` (standalone code) or `compiled`. */
  source: 'lazy' | 'cache' | 'compiled' = 'lazy';
  /** The standalone-code file {@link precompile} loaded or wrote (undefined before). */
  cacheFile: string | undefined;

  constructor(schemasDir: string = SCHEMAS_DIR) {
    const ids: string[] = [];
    for (const dir of SCHEMA_DIRS) {
      for (const file of readdirSync(`${schemasDir}/${dir}`)
        .filter((f) => f.endsWith('.json'))
        .sort()) {
        const text = readFileSync(`${schemasDir}/${dir}/${file}`, 'utf8');
        const schema = JSON.parse(text) as JsonSchema;
        const id = schema['$id'];
        if (typeof id !== 'string') throw new Error(`schemas/${dir}/${file} has no $id`);
        this.#schemas.push(schema);
        this.#files.push(`${dir}/${file}\u0000${text}`);
        ids.push(id);
      }
    }
    this.ids = ids;
  }

  /** The one ajv instance, every schema under schemas/ added (not compiled); `source` keeps code for the cache. */
  get ajv(): Ajv2020 {
    return this.#instance(false);
  }

  #instance(source: boolean): Ajv2020 {
    if (!this.#ajv) {
      const { Ajv, addFormats } = ajvModules();
      this.#ajv = new Ajv({ ...AJV_OPTIONS, ...(source ? { code: { source: true } } : {}) });
      addFormats(this.#ajv);
      // Meta-schema validation happens in compileAll() (unit test); skipping it here keeps startup fast.
      for (const schema of this.#schemas) this.#ajv.addSchema(schema, undefined, undefined, false);
    }
    return this.#ajv;
  }

  /**
   * Loads ajv standalone code for every registered schema and every inline schema of the spec's operations (bodies,
   * parameters, success and error bodies) from node_modules/.cache/dynamic-conformance-mock/, keyed by a hash of
   * those schemas, the schema files, ajv's versions and options; on a miss compiles them all once and writes it. A
   * mock process then loads ~0.2 s of code instead of compiling ~1,700 schemas (~3 s) while it answers requests.
   * Call before any validation; a later call, or one after lazy compiles, changes nothing.
   */
  precompile(spec: SpecBundle): void {
    if (this.source !== 'lazy' || this.#ajv) return;
    const inline = new Map<string, JsonSchema>();
    for (const schema of inlineSchemas(spec)) inline.set(inlineKey(schema), schema);
    const keys = [...inline.keys()].sort();
    const hash = createHash('sha256').update(JSON.stringify({ versions: VERSIONS, options: AJV_OPTIONS }));
    for (const file of this.#files) hash.update(`\u0000${file}`);
    for (const key of keys) hash.update(`\u0000${key}`);
    const file = `${MOCK_CACHE_DIR}validators-${hash.digest('hex').slice(0, 24)}.cjs`;
    this.cacheFile = file;
    const exported = [...this.ids, ...keys];
    const loaded = loadCache(file, exported);
    if (loaded) {
      this.#precompiled = loaded;
      this.source = 'cache';
      return;
    }
    const ajv = this.#instance(true);
    for (const [key, schema] of inline) ajv.addSchema(toModelRefs(schema) as JsonSchema, key, undefined, false);
    writeCacheFile(file, ajvModules().standaloneCode(ajv, Object.fromEntries(exported.map((k) => [k, k]))));
    for (const key of exported) this.#precompiled[key] = ajv.getSchema(key)!;
    this.source = 'compiled';
  }

  /** Validator of a model by name (`User` → models/User.schema.json). */
  model(name: string): ValidateFunction {
    return this.byId(`${MODEL_ID_BASE}${name}.schema.json`);
  }

  /** Validator of a registered schema by `$id`; throws if the id is unknown. */
  byId(id: string): ValidateFunction {
    const v = this.#precompiled[id] ?? this.ajv.getSchema(id);
    if (v === undefined) throw new Error(`unknown schema $id ${id}`);
    return v;
  }

  /** Validator of a schema taken from the spec (its component refs are mapped to model ids). Cached per object. */
  compile(schema: JsonSchema): ValidateFunction {
    const hit = this.#byObject.get(schema);
    if (hit !== undefined) return hit;
    const v =
      (this.source === 'lazy' ? undefined : this.#precompiled[inlineKey(schema)]) ??
      this.ajv.compile(toModelRefs(schema) as JsonSchema);
    this.#byObject.set(schema, v);
    return v;
  }

  /**
   * The self-check's reference for the precompiled code: what this registry's own ajv compiles from the schema source
   * (a `$id`, or an inline schema of the spec), never the precompiled validator.
   */
  compiledFromSource(schema: string | JsonSchema): ValidateFunction {
    if (typeof schema !== 'string') return this.ajv.compile(toModelRefs(schema) as JsonSchema);
    const validate = this.ajv.getSchema(schema);
    if (validate === undefined) throw new Error(`unknown schema $id ${schema}`);
    return validate;
  }

  /** Strictly compiles every registered schema, validating each against its meta-schema. Returns the count. */
  compileAll(): number {
    for (const id of this.ids) {
      const v = this.ajv.getSchema(id);
      if (v === undefined) throw new Error(`unknown schema $id ${id}`);
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

const VERSIONS = Object.fromEntries(
  ['ajv', 'ajv-formats'].map((name) => {
    try {
      const file = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
      return [name, (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version];
    } catch {
      return [name, 'unknown'];
    }
  }),
);

/** Every inline schema the mock validates with: request bodies, parameters, success and documented error bodies. */
function* inlineSchemas(spec: SpecBundle): Generator<JsonSchema> {
  for (const op of spec.operations) {
    if (op.body) yield op.body.schema;
    for (const p of op.params) yield p.schema;
    yield op.success.schema ?? {};
    yield* Object.values(op.errorSchemas);
  }
}

/** The cache key of an inline schema: a hash of its content (identical schemas share one validator). */
export function inlineKey(schema: JsonSchema): string {
  return `inline:${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32)}`;
}

/** The cached validators when the file exists and exports every key; undefined otherwise. */
function loadCache(file: string, keys: readonly string[]): Record<string, ValidateFunction> | undefined {
  try {
    const loaded = createRequire(import.meta.url)(file) as Record<string, ValidateFunction>;
    return keys.every((k) => typeof loaded[k] === 'function') ? loaded : undefined;
  } catch {
    return undefined;
  }
}
