/**
 * Reads Dynamic's official OpenAPI document ("Dashboard API", https://app.dynamic.xyz/api-docs/public-api.yaml) into
 * a normalised form the merge (merge.ts) can use: operations with their parameters, bodies, per-status responses and
 * declared security, and the component schemas as JSON Schema 2020-12.
 *
 * Two dialects are accepted and give the same result: the published OpenAPI 3.0.1 (`nullable: true`, `example`,
 * boolean `exclusiveMinimum`) and the archive's relabelled 3.2 files with 3.1-style `type: [X, 'null']`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { cached, keyOf } from './cache.js';
import type { JsonSchema } from './types.js';

const YAML_VERSION = readFileSync(createRequire(import.meta.url).resolve('yaml/package.json'), 'utf8');

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'trace'] as const;

/** One declared parameter, its schema normalised. */
export interface OfficialParam {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

/** One documented response: the status, the named component response it pointed at (if any) and its media types. */
export interface OfficialResponse {
  status: string;
  description: string;
  /** `#/components/responses/<name>` it referenced, e.g. ForbiddenWithErrorAndPayload. */
  component: string | undefined;
  /** Media type → normalised schema (an empty map when the response has no body). */
  content: Record<string, JsonSchema>;
}

/** One operation of the official document. */
export interface OfficialOperation {
  key: string;
  method: string;
  path: string;
  operationId: string | undefined;
  tags: string[];
  summary: string;
  description: string;
  /** Security scheme names the operation declares ([] = none declared, `security` absent or empty). */
  security: string[];
  parameters: OfficialParam[];
  requestBody: { required: boolean; content: Record<string, JsonSchema> } | undefined;
  responses: OfficialResponse[];
}

/** The whole document, normalised. */
export interface OfficialDocument {
  /** What the document says it is (`openapi` field and info.title). */
  label: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  securitySchemes: string[];
  /** Mistakes of the document repaired while reading it (each named, for provenance). */
  repairs: string[];
  operations: OfficialOperation[];
  schemas: Map<string, JsonSchema>;
}

/** Keywords of OpenAPI schema objects that JSON Schema 2020-12 (strict ajv) does not know; dropped. */
const DROPPED_KEYWORDS = new Set(['nullable', 'discriminator', 'xml', 'externalDocs', 'example']);

/**
 * One OpenAPI 3.0/3.1 schema as JSON Schema 2020-12 that strict ajv compiles: `nullable` → a `null` type (or
 * anyOf with null), `example` → `examples`, boolean exclusive bounds → numeric ones, `x-*` and OpenAPI-only
 * keywords dropped, union types of more than one non-null type → anyOf, `type` added where applicator keywords need
 * it.
 */
export function normaliseSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(normaliseSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const src = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-') || DROPPED_KEYWORDS.has(k)) continue;
    if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'boolean') {
      const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (v && typeof src[bound] === 'number') out[k] = src[bound];
      continue;
    }
    if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') {
      out[k] = Object.fromEntries(
        Object.entries((v ?? {}) as Record<string, unknown>).map(([name, s]) => [name, normaliseSchema(s)]),
      );
      continue;
    }
    out[k] =
      k === 'enum' || k === 'const' || k === 'default' || k === 'examples' || k === 'required' ? v : normaliseSchema(v);
  }
  if (src.example !== undefined && out.examples === undefined) out.examples = [src.example];
  if (src.exclusiveMinimum === true) delete out.minimum;
  if (src.exclusiveMaximum === true) delete out.maximum;
  if (out.type === undefined) {
    if (out.properties !== undefined || out.required !== undefined || out.additionalProperties !== undefined)
      out.type = 'object';
    else if (out.items !== undefined) out.type = 'array';
  }
  if (Array.isArray(out.type)) {
    const types = out.type as string[];
    const nonNull = types.filter((t) => t !== 'null');
    if (nonNull.length > 1) {
      const rest = { ...out };
      delete rest.type;
      const branches: JsonSchema[] = nonNull.map((t) => ({ type: t }));
      if (types.includes('null')) branches.push({ type: 'null' });
      return { anyOf: branches, ...rest };
    }
    if (nonNull.length === 1 && types.length === 1) out.type = nonNull[0];
    else if (types.includes('null') && Array.isArray(out.enum) && !out.enum.includes(null))
      out.enum = [...(out.enum as unknown[]), null];
  }
  if (src.nullable === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
    } else if (Array.isArray(out.type)) {
      if (!(out.type as string[]).includes('null')) out.type = [...(out.type as string[]), 'null'];
    } else {
      return { anyOf: [out, { type: 'null' }] };
    }
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolves a local `$ref` (`#/components/...`) of the document; the value itself when it is no ref. */
function resolve(doc: Record<string, unknown>, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) return {};
  const ref = value.$ref;
  if (typeof ref !== 'string') return value;
  let node: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) node = isRecord(node) ? node[part] : undefined;
  if (!isRecord(node)) throw new Error(`unresolvable $ref ${ref}`);
  return node;
}

function mediaSchemas(content: unknown): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [type, media] of Object.entries(isRecord(content) ? content : {})) {
    out[type] = normaliseSchema(isRecord(media) && media.schema !== undefined ? media.schema : {}) as JsonSchema;
  }
  return out;
}

/**
 * The document sometimes points a `schema` at a response (`schema: {$ref: '#/components/responses/NotFound'}`);
 * such a ref is replaced by that response's JSON schema. Returns one line per kind of repair.
 */
function repairResponseRefsInSchemas(root: Record<string, unknown>): string[] {
  const responses = isRecord(root.components) && isRecord(root.components.responses) ? root.components.responses : {};
  const counts = new Map<string, number>();
  const visit = (node: unknown, inSchema: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, inSchema));
    if (!isRecord(node)) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'schema' && isRecord(v) && typeof v.$ref === 'string' && v.$ref.startsWith('#/components/responses/')) {
        const name = v.$ref.slice('#/components/responses/'.length);
        const target = responses[name];
        const media = isRecord(target) && isRecord(target.content) ? target.content['application/json'] : undefined;
        const schema = isRecord(media) ? media.schema : undefined;
        if (isRecord(schema)) {
          node[k] = structuredClone(schema);
          counts.set(name, (counts.get(name) ?? 0) + 1);
          continue;
        }
      }
      visit(v, inSchema || k === 'schema');
    }
  };
  visit(root.paths, false);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${n} schema(s) pointing at #/components/responses/${name} read as its JSON schema`);
}

/** Parses the text of an official document (YAML or JSON). Throws a readable Error for anything else. */
export function parseOfficial(text: string, where: string): OfficialDocument {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new Error(`${where} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc) || typeof doc.openapi !== 'string' || !isRecord(doc.paths))
    throw new Error(`${where} is not an OpenAPI document (no 'openapi' and 'paths')`);
  if (!/^3\./.test(doc.openapi)) throw new Error(`${where} is OpenAPI ${doc.openapi}; only 3.x documents are read`);
  const root = doc;
  const repairs = repairResponseRefsInSchemas(root);
  const topSecurity = Array.isArray(root.security) ? root.security : [];
  const operations: OfficialOperation[] = [];
  for (const [path, rawItem] of Object.entries(root.paths as Record<string, unknown>)) {
    const item = resolve(root, rawItem);
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isRecord(op)) continue;
      const own: unknown[] = Array.isArray(op.parameters) ? op.parameters : [];
      const params = [...(shared as unknown[]), ...own].map((p) => resolve(root, p));
      const parameters: OfficialParam[] = [];
      for (const p of params) {
        if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') continue;
        const existing = parameters.findIndex((x) => x.name === p.name && x.in === p.in);
        const param: OfficialParam = {
          name: String(p.name),
          in: p.in,
          required: p.required === true || p.in === 'path',
          schema: normaliseSchema(p.schema ?? {}) as JsonSchema,
        };
        if (existing >= 0) parameters[existing] = param;
        else parameters.push(param);
      }
      const body = op.requestBody === undefined ? undefined : resolve(root, op.requestBody);
      const responses: OfficialResponse[] = Object.entries(isRecord(op.responses) ? op.responses : {}).map(
        ([status, raw]) => {
          const ref = isRecord(raw) && typeof raw.$ref === 'string' ? raw.$ref : undefined;
          const r = resolve(root, raw);
          return {
            status,
            description: typeof r.description === 'string' ? r.description : '',
            component: ref?.startsWith('#/components/responses/')
              ? ref.slice('#/components/responses/'.length)
              : undefined,
            content: mediaSchemas(r.content),
          };
        },
      );
      const security = (Array.isArray(op.security) ? op.security : topSecurity).flatMap((s) =>
        isRecord(s) ? Object.keys(s) : [],
      );
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
        tags: Array.isArray(op.tags) ? op.tags.map(String) : [],
        summary: typeof op.summary === 'string' ? op.summary : '',
        description: typeof op.description === 'string' ? op.description : '',
        security: [...new Set(security)].sort(),
        parameters,
        requestBody: body ? { required: body.required === true, content: mediaSchemas(body.content) } : undefined,
        responses,
      });
    }
  }
  const components = isRecord(root.components) ? root.components : {};
  const schemas = new Map<string, JsonSchema>();
  for (const [name, s] of Object.entries(isRecord(components.schemas) ? components.schemas : {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    schemas.set(name, normaliseSchema(s) as JsonSchema);
  }
  const info = isRecord(root.info) ? root.info : {};
  return {
    label: `${typeof info.title === 'string' ? info.title : 'untitled'} (openapi ${String(root.openapi)})`,
    sha256: createHash('sha256').update(text).digest('hex'),
    repairs,
    securitySchemes: Object.keys(isRecord(components.securitySchemes) ? components.securitySchemes : {}).sort(),
    operations: operations.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method)),
    schemas,
  };
}

/** Reads an official document from a file. */
export function loadOfficial(file: string): OfficialDocument {
  const text = readFileSync(file, 'utf8');
  const key = keyOf([readFileSync(fileURLToPath(import.meta.url)), YAML_VERSION, file, text]);
  return cached('official', key, () => parseOfficial(text, file));
}
