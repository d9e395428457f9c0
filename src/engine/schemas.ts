/**
 * The engine's ONE ajv instance (JSON Schema 2020-12, strict, formats). Every file under schemas/ is added and
 * compiled once: an unknown $id or an unresolved $ref fails at load, not at use. The compiled validators are kept as
 * ajv standalone code in node_modules/.cache/dynamic-conformance/, keyed by a hash of every schema file, ajv's and
 * ajv-formats' versions and the options: a process whose schemas/ are byte-identical to an already compiled set loads
 * that code (~0.2 s) instead of compiling ~730 schemas again (~2.5 s in every Playwright worker). Inline schemas
 * that are exactly one `$ref` use the precompiled validator; any other inline schema is compiled by the same ajv
 * instance, created (schemas added, not compiled) on first need.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv2020, ValidateFunction, ErrorObject } from 'ajv/dist/2020.js';
import { CACHE_DIR, packageVersion, ROOT } from './config.js';
import { SCHEMA_BASE, type JsonSchema } from './spec.js';

type StandaloneCode = (ajv: Ajv2020, refsOrFuncs: Record<string, string>) => string;

/**
 * ajv, its formats and its standalone code generator, loaded on the first compile: a process whose validators all
 * come from the precompiled cache (every worker of a warm run) never loads them (~60 ms of start-up).
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

const AJV_OPTIONS = { strict: true, allErrors: true, strictTuples: false, validateFormats: true } as const;

function schemaFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return schemaFiles(full);
      return name.endsWith('.schema.json') ? [full] : [];
    });
}

/** A schema validation result with ajv's errors rendered as short sentences. */
export interface Validation {
  valid: boolean;
  errors: string[];
}

export interface SchemaRegistryOptions {
  /** Use (and write) the precompiled-validator cache. Default true; false always compiles every schema afresh. */
  precompiled?: boolean;
  /**
   * Inline schemas (the operations' request, success and response bodies) to precompile with the files, so that a
   * worker neither builds its ajv instance nor compiles them while it sends requests.
   */
  inline?: Iterable<JsonSchema>;
}

/** The precompiled-cache key of an inline schema, from its JSON text (identical schemas share one validator). */
function inlineKey(text: string): string {
  return `inline:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

export class SchemaRegistry {
  #ajv: Ajv2020 | undefined;
  readonly #schemas: { $id: string }[] = [];
  readonly #precompiled: Record<string, ValidateFunction> | undefined;
  private readonly compiledAdhoc = new Map<string, ValidateFunction>();
  readonly ids: string[] = [];
  /** Where the validators came from: `compiled` (this process compiled every schema) or `cache` (standalone code). */
  readonly source: 'compiled' | 'cache';
  /** The precompiled-validator file for this exact set of schemas. */
  readonly cacheFile: string;

  constructor(dir = join(ROOT, 'schemas'), options: SchemaRegistryOptions = {}) {
    const hash = createHash('sha256').update(
      JSON.stringify({ ajv: packageVersion('ajv'), formats: packageVersion('ajv-formats'), options: AJV_OPTIONS }),
    );
    for (const file of schemaFiles(dir)) {
      const text = readFileSync(file, 'utf8');
      const schema = JSON.parse(text) as { $id?: string };
      if (!schema.$id) throw new Error(`schema without $id: ${file.slice(ROOT.length + 1)}`);
      hash.update(`\u0000${file.slice(dir.length)}\u0000${text}`);
      this.#schemas.push(schema as { $id: string });
      this.ids.push(schema.$id);
    }
    const inline = new Map<string, JsonSchema>();
    for (const schema of options.inline ?? []) {
      const text = JSON.stringify(schema);
      if (!isSingleRef(schema)) inline.set(inlineKey(text), schema);
    }
    const inlineKeys = [...inline.keys()].sort();
    for (const key of inlineKeys) hash.update(`\u0000${key}`);
    this.cacheFile = join(CACHE_DIR, `validators-${hash.digest('hex').slice(0, 24)}.cjs`);
    const usePrecompiled = options.precompiled !== false;
    const exported = [...this.ids, ...inlineKeys];
    let precompiled = usePrecompiled ? loadPrecompiled(this.cacheFile, exported) : undefined;
    // Not cached yet: one process compiles, the others starting at the same time wait for its file.
    const lock = usePrecompiled && !precompiled ? compileOnce(this.cacheFile, exported) : undefined;
    precompiled ??= lock?.precompiled;
    this.#precompiled = precompiled;
    this.source = precompiled ? 'cache' : 'compiled';
    if (precompiled) {
      // ajv's validators carry their schema (`validate.schema`, read by the negative-case generators); so do these.
      for (const schema of this.#schemas) (precompiled[schema.$id] as { schema: unknown }).schema = schema;
      return;
    }
    try {
      const ajv = this.ajv(usePrecompiled);
      for (const id of this.ids) this.byId(id);
      if (usePrecompiled) {
        for (const [key, schema] of inline) ajv.addSchema(schema, key);
        const code = ajvModules().standaloneCode(ajv, Object.fromEntries(exported.map((k) => [k, k])));
        writePrecompiled(this.cacheFile, code);
        for (const [key, schema] of inline) this.compiledAdhoc.set(JSON.stringify(schema), ajv.getSchema(key)!);
      }
    } finally {
      lock?.release();
    }
  }

  /** The one ajv instance, with every schema added (compiled on use); `source` keeps the code for the cache. */
  private ajv(source = false): Ajv2020 {
    if (!this.#ajv) {
      const { Ajv, addFormats } = ajvModules();
      this.#ajv = new Ajv({ ...AJV_OPTIONS, ...(source ? { code: { source: true } } : {}) });
      addFormats(this.#ajv);
      for (const schema of this.#schemas) this.#ajv.addSchema(schema);
    }
    return this.#ajv;
  }

  /** The compiled validator of a schema file, by $id; unknown ids throw. */
  byId(id: string): ValidateFunction {
    const validate = this.#precompiled ? this.#precompiled[id] : this.ajv().getSchema(id);
    if (!validate) throw new Error(`unknown schema id ${id}`);
    return validate;
  }

  /** Compiles (once, cached by content) an inline schema whose $refs point at registered ids. */
  compile(schema: JsonSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiledAdhoc.get(key);
    if (!validate) {
      const ref = isSingleRef(schema) ? (schema.$ref as string) : undefined;
      validate =
        (ref !== undefined ? this.#precompiled?.[ref] : this.#precompiled?.[inlineKey(key)]) ??
        this.ajv().compile(schema);
      this.compiledAdhoc.set(key, validate);
    }
    return validate;
  }

  /** A registered schema by a $ref resolved against the referring schema's $id (drift walks schemas this way). */
  resolveRef(ref: string, base: string | undefined): { schema: JsonSchema; id: string } | undefined {
    let id: string;
    try {
      id = new URL(ref, base ?? SCHEMA_BASE).toString();
    } catch {
      return undefined;
    }
    const schema = (this.#precompiled ? this.#precompiled[id] : this.ajv().getSchema(id))?.schema;
    return schema && typeof schema === 'object' ? { schema: schema, id } : undefined;
  }

  validate(schemaOrId: JsonSchema | string, value: unknown): Validation {
    const validate = typeof schemaOrId === 'string' ? this.byId(schemaOrId) : this.compile(schemaOrId);
    const valid = validate(value);
    return { valid, errors: valid ? [] : describe(validate.errors ?? []) };
  }
}

/** True for `{ $ref }` alone: the referenced file's precompiled validator serves it. */
function isSingleRef(schema: JsonSchema): boolean {
  return typeof schema.$ref === 'string' && Object.keys(schema).length === 1;
}

type PrecompiledSet = Record<string, ValidateFunction>;

/** The cached validators when the file exists and holds every id; undefined otherwise (then everything compiles). */
function loadPrecompiled(file: string, ids: readonly string[]): PrecompiledSet | undefined {
  let loaded: PrecompiledSet;
  try {
    loaded = createRequire(import.meta.url)(file) as PrecompiledSet;
  } catch {
    return undefined;
  }
  return ids.every((id) => typeof loaded[id] === 'function') ? loaded : undefined;
}

/** How long a process waits for another one's compile before it compiles itself (a live holder that hangs). */
const COMPILE_WAIT_MS = 120_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Lets one process compile a set of validators that is not cached yet: the first takes `<file>.lock` (holding its
 * pid) and compiles; the others wait until its file appears and load it, so the workers of a first run compile once
 * between them, not once each. A lock whose process is gone is taken over (removeStaleLock); a read-only cache
 * directory means no lock.
 * Returns the loaded validators (another process compiled them) or the lock to release after compiling.
 */
function compileOnce(file: string, ids: readonly string[]): { precompiled?: PrecompiledSet; release: () => void } {
  const lock = `${file}.lock`;
  const deadline = Date.now() + COMPILE_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      const release = (): void => rmSync(lock, { force: true });
      // The previous holder may have finished between this process's first look and taking the lock.
      const precompiled = loadPrecompiled(file, ids);
      if (precompiled) release();
      return precompiled ? { precompiled, release: () => {} } : { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) return { release: () => {} };
    }
    if (!holderAlive(lock)) {
      removeStaleLock(lock);
      continue;
    }
    Atomics.wait(sleeper, 0, 0, 50);
    const precompiled = loadPrecompiled(file, ids);
    if (precompiled) return { precompiled, release: () => {} };
  }
}

/**
 * Removes a lock whose process is gone, under a second lock: processes that saw the same dead holder take turns, and
 * each looks again first, so none removes a lock another one has just taken.
 */
function removeStaleLock(lock: string): void {
  const takeover = `${lock}.takeover`;
  try {
    writeFileSync(takeover, String(process.pid), { flag: 'wx' });
  } catch {
    Atomics.wait(sleeper, 0, 0, 20);
    return;
  }
  try {
    if (!holderAlive(lock)) rmSync(lock, { force: true });
  } finally {
    rmSync(takeover, { force: true });
  }
}

/** False when the lock's process has exited (a lock just created, its pid not written yet, counts as alive). */
function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes the standalone code atomically (concurrent workers may race; the same content wins either way). */
function writePrecompiled(file: string, code: string): void {
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  } catch {
    // A read-only node_modules only costs the next process a compile.
  }
}

function describe(errors: ErrorObject[]): string[] {
  return errors.slice(0, 5).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`);
}

let registry: SchemaRegistry | undefined;

/** The process-wide registry (built on first use, with `inline` precompiled alongside the schema files). */
export function schemas(inline?: Iterable<JsonSchema>): SchemaRegistry {
  registry ??= new SchemaRegistry(undefined, inline ? { inline } : {});
  return registry;
}
