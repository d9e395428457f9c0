/**
 * Builds specs/dynamic-api.openapi.json (OpenAPI 3.1) and schemas/models/*.schema.json from the two
 * published clients (or from Dynamic's official OpenAPI YAML) plus the doc-facts overlay.
 */
import type { ClientOperation, ClientPackage, ClientParam } from './clients.js';
import type { JsonSchema } from './types.js';

export type AuthClass = 'api-token' | 'user-jwt' | 'none';

export interface Overlay {
  info: Record<string, unknown>;
  servers: { url: string; description: string }[];
  securitySchemes: Record<string, unknown>;
  authRule: { source: string; text: string };
  authCorrections: { source: string; evidence: Record<string, string>; operations: { method: string; path: string; operationId: string; tag: string }[] };
  uuidPathParams: { documented: string[]; documentedSource: string; inferred: string[]; inferredBasis: string; pattern: string };
  scopes: { documented: { method: string; path: string; scopes: string[]; source: string }[]; inferred: { path?: string; pathPrefix?: string; read: string; write: string }[]; inferredBasis: string };
  rateLimitPolicies: { policy: string; methods?: string[]; paths?: string[]; pathPrefix?: string; surface?: 'admin' | 'sdk'; source: string }[];
  errorResponses: Record<string, { model: string; description: string; authOnly?: boolean }>;
}

export interface DerivedSpec {
  document: Record<string, unknown>;
  models: Map<string, JsonSchema>;
  summary: { operations: number; admin: number; sdk: number; auth: Record<AuthClass, number>; corrected: number; models: number; sources: string[] };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'trace'] as const;

function surfaceOf(path: string): 'sdk' | 'admin' {
  return path.startsWith('/sdk/') ? 'sdk' : 'admin';
}

function authOf(op: { method: string; path: string; declaresBearer: boolean }, overlay: Overlay): { auth: AuthClass; source: string } {
  if (surfaceOf(op.path) === 'sdk') return { auth: op.declaresBearer ? 'user-jwt' : 'none', source: op.declaresBearer ? overlay.authRule.source : 'declared no security' };
  if (op.declaresBearer) return { auth: 'api-token', source: overlay.authRule.source };
  const corrected = overlay.authCorrections.operations.find((c) => c.method === op.method && c.path === op.path);
  if (!corrected) throw new Error(`admin operation ${op.method} ${op.path} declares no security and has no reviewed entry in specs/overlay/doc-facts.json authCorrections`);
  return { auth: 'api-token', source: overlay.authCorrections.evidence[corrected.tag] ?? overlay.authCorrections.source };
}

function paramSchema(param: ClientParam, where: 'path' | 'query' | 'header', overlay: Overlay): JsonSchema {
  if (where === 'path' && (overlay.uuidPathParams.documented.includes(param.name) || overlay.uuidPathParams.inferred.includes(param.name))) {
    return { type: 'string', format: 'uuid', pattern: overlay.uuidPathParams.pattern, minLength: 36, maxLength: 36 };
  }
  return param.schema;
}

function modelRef(model: string): JsonSchema {
  const array = /^Array<(\w+)>$/.exec(model);
  if (array) return { type: 'array', items: { $ref: `#/components/schemas/${array[1]!}` } };
  return { $ref: `#/components/schemas/${model}` };
}

function matchesPolicy(rule: Overlay['rateLimitPolicies'][number], method: string, path: string): boolean {
  if (rule.methods && !rule.methods.includes(method)) return false;
  if (rule.surface) return surfaceOf(path) === rule.surface;
  if (rule.paths) return rule.paths.includes(path);
  if (rule.pathPrefix) return path.startsWith(rule.pathPrefix);
  return false;
}

function scopesFor(method: string, path: string, overlay: Overlay): { documented?: string[]; inferred?: string[] } {
  const documented = overlay.scopes.documented.find((s) => s.method === method && s.path === path);
  if (documented) return { documented: documented.scopes };
  const inferred =
    overlay.scopes.inferred.find((s) => s.path === path) ??
    overlay.scopes.inferred
      .filter((s) => s.pathPrefix !== undefined && (path === s.pathPrefix || path.startsWith(`${s.pathPrefix}/`)))
      .sort((a, b) => (b.pathPrefix ?? '').length - (a.pathPrefix ?? '').length)[0];
  if (!inferred) return {};
  return { inferred: [method === 'GET' ? inferred.read : inferred.write] };
}

/** One OpenAPI operation object, with the x-dynamic-* extensions every later layer reads. */
function isObjectSchema(schema: JsonSchema, models: Map<string, JsonSchema>): boolean {
  const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop() : undefined;
  const resolved = ref ? models.get(ref) : schema;
  return resolved?.type === 'object';
}

function buildOperation(op: ClientOperation, overlay: Overlay, models: Map<string, JsonSchema>): Record<string, unknown> {
  const { auth, source } = authOf(op, overlay);
  const parameters = [
    ...op.pathParams.map((p) => ({ name: p.name, in: 'path', required: true, schema: paramSchema(p, 'path', overlay) })),
    ...op.queryParams.map((p) => ({ name: p.name, in: 'query', required: p.required, schema: paramSchema(p, 'query', overlay), ...(isObjectSchema(p.schema, models) ? { style: 'deepObject', explode: true } : {}) })),
    ...op.headerParams.map((p) => ({ name: p.name, in: 'header', required: p.required, schema: p.schema })),
  ];
  let requestBody: Record<string, unknown> | undefined;
  if (op.requestBody && 'model' in op.requestBody) {
    requestBody = { required: op.requestBody.required, content: { [op.requestBody.contentType]: { schema: modelRef(op.requestBody.model) } } };
  } else if (op.requestBody) {
    const properties = Object.fromEntries(op.requestBody.form.map((f) => [f.name, f.schema]));
    const required = op.requestBody.form.filter((f) => f.required).map((f) => f.name);
    requestBody = { required: op.requestBody.required, content: { [op.requestBody.contentType]: { schema: { type: 'object', properties, ...(required.length ? { required } : {}) } } } };
  }
  const responses: Record<string, unknown> = {};
  if (op.response.kind === 'json') {
    responses['200'] = { description: 'Success', content: { 'application/json': { schema: op.response.model ? modelRef(op.response.model) : {} } } };
  } else if (op.response.kind === 'text') {
    responses['200'] = { description: 'Success', content: { 'text/plain': { schema: { type: 'string' } } } };
  } else {
    responses['204'] = { description: 'Success, no content' };
  }
  for (const [status, def] of Object.entries(overlay.errorResponses)) {
    if (def.authOnly && auth === 'none') continue;
    responses[status] = { $ref: `#/components/responses/${def.model}` };
  }
  const scopes = auth === 'api-token' ? scopesFor(op.method, op.path, overlay) : {};
  const policies = overlay.rateLimitPolicies.filter((r) => matchesPolicy(r, op.method, op.path)).map((r) => r.policy);
  return {
    operationId: op.operationId,
    tags: [op.apiClass.replace(/Api$/, '')],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    security: auth === 'api-token' ? [{ apiToken: [] }] : auth === 'user-jwt' ? [{ userJwt: [] }] : [],
    'x-dynamic-auth': auth,
    'x-dynamic-auth-source': source,
    'x-dynamic-surface': surfaceOf(op.path),
    ...(scopes.documented ? { 'x-dynamic-scopes': scopes.documented } : {}),
    ...(scopes.inferred ? { 'x-dynamic-scopes-inferred': scopes.inferred } : {}),
    'x-dynamic-rate-limit': policies,
    'x-dynamic-declared-security': op.declaresBearer ? 'bearerAuth' : 'none',
    'x-dynamic-source': op.source,
  };
}

/** Collects every model reachable from the operations (transitively). */
function reachableModels(ops: Record<string, unknown>[], models: Map<string, JsonSchema>, extra: string[]): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  const queue: string[] = [...extra];
  const scan = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(scan);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) queue.push(v.slice('#/components/schemas/'.length));
        else scan(v);
      }
    }
  };
  ops.forEach(scan);
  while (queue.length) {
    const name = queue.pop()!;
    if (out.has(name)) continue;
    const model = models.get(name);
    if (!model) throw new Error(`model ${name} is referenced but not defined by the source (clients or --from document)`);
    out.set(name, model);
    scan(model);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Merges both client packages: the union of method+path pairs without OPTIONS; sdk-api-core wins for /sdk paths. */
export function deriveFromClients(admin: ClientPackage, core: ClientPackage, overlay: Overlay): DerivedSpec {
  const byKey = new Map<string, ClientOperation>();
  for (const op of [...admin.operations, ...core.operations]) {
    if (op.method === 'OPTIONS') continue;
    const key = `${op.method} ${op.path}`;
    const existing = byKey.get(key);
    if (!existing || (surfaceOf(op.path) === 'sdk' && op.source.startsWith(core.name))) byKey.set(key, op);
  }
  const models = new Map([...core.models, ...admin.models]);
  return assemble([...byKey.values()], models, overlay, [`${admin.name}@${admin.version}`, `${core.name}@${core.version}`]);
}

export function assemble(ops: ClientOperation[], models: Map<string, JsonSchema>, overlay: Overlay, sources: string[]): DerivedSpec {
  const sorted = [...ops].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  const seenIds = new Set<string>();
  const paths: Record<string, Record<string, unknown>> = {};
  const built: Record<string, unknown>[] = [];
  for (const op of sorted) {
    let operationId = op.operationId;
    if (seenIds.has(operationId)) operationId = `${operationId}${op.method.charAt(0)}${op.method.slice(1).toLowerCase()}`;
    seenIds.add(operationId);
    const item = buildOperation({ ...op, operationId }, overlay, models);
    built.push(item);
    (paths[op.path] ??= {})[op.method.toLowerCase()] = item;
  }
  const errorModels = Object.values(overlay.errorResponses).map((e) => e.model);
  const components = reachableModels(built, models, errorModels);
  const responses = Object.fromEntries(
    Object.values(overlay.errorResponses).map((e) => [e.model, { description: e.description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${e.model}` } } } }]),
  );
  const auth: Record<AuthClass, number> = { 'api-token': 0, 'user-jwt': 0, none: 0 };
  for (const op of built) auth[op['x-dynamic-auth'] as AuthClass] += 1;
  const document = {
    openapi: '3.1.0',
    info: overlay.info,
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: overlay.servers,
    security: [],
    paths,
    components: { schemas: Object.fromEntries(components), responses, securitySchemes: overlay.securitySchemes },
    'x-dynamic-derived-from': sources,
  };
  return {
    document,
    models: components,
    summary: {
      operations: built.length,
      admin: built.filter((o) => o['x-dynamic-surface'] === 'admin').length,
      sdk: built.filter((o) => o['x-dynamic-surface'] === 'sdk').length,
      auth,
      corrected: built.filter((o) => o['x-dynamic-surface'] === 'admin' && o['x-dynamic-declared-security'] === 'none').length,
      models: components.size,
      sources,
    },
  };
}

/** Converts an OpenAPI 3.0 schema (from the official YAML) to 3.1 / JSON Schema 2020-12. */
export function schema30to31(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(schema30to31);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const src = schema as Record<string, unknown>;
  for (const [k, v] of Object.entries(src)) {
    if (k === 'nullable') continue;
    if (k === 'example') { out.examples = [v]; continue; }
    if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'boolean') {
      const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (v && typeof src[bound] === 'number') out[k] = src[bound];
      continue;
    }
    out[k] = schema30to31(v);
  }
  if (src.exclusiveMinimum === true) delete out.minimum;
  if (src.exclusiveMaximum === true) delete out.maximum;
  if (src.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** Reads operations out of an official OpenAPI 3.0 document so the same overlay and builder apply. */
export function operationsFromOpenApi(doc: Record<string, unknown>, source: string): { ops: ClientOperation[]; models: Map<string, JsonSchema> } {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const ops: ClientOperation[] = [];
  const inline = new Map<string, JsonSchema>();
  const nameInline = (schema: Record<string, unknown> | undefined, name: string): string | null => {
    if (!schema) return null;
    if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop()!;
    if (schema.type === 'array' && typeof (schema.items as Record<string, unknown> | undefined)?.$ref === 'string') return `Array<${String((schema.items as Record<string, string>).$ref).split('/').pop()!}>`;
    inline.set(name, toSchema(schema));
    return name;
  };
  const toSchema = (s: unknown): JsonSchema => schema30to31(s ?? {}) as JsonSchema;
  for (const [path, item] of Object.entries(paths)) {
    const shared = (item.parameters ?? []) as unknown as Record<string, unknown>[];
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = [...shared, ...((op.parameters ?? []) as Record<string, unknown>[])].map((p) => resolveRef(doc, p));
      const pick = (where: string): ClientParam[] => params.filter((p) => p.in === where).map((p) => ({ name: String(p.name), tsName: String(p.name), required: p.required === true, schema: toSchema(p.schema) }));
      const body = op.requestBody ? resolveRef(doc, op.requestBody as Record<string, unknown>) : undefined;
      const content = (body?.content ?? {}) as Record<string, { schema?: Record<string, unknown> }>;
      const [contentType, media] = Object.entries(content)[0] ?? [];
      const opName = typeof op.operationId === 'string' ? op.operationId : `${method}${path.replace(/\W+/g, '_')}`;
      const bodyModel = nameInline(media?.schema, `${opName}RequestBody`);
      const ok = Object.entries((op.responses ?? {}) as Record<string, Record<string, unknown>>).find(([s]) => s.startsWith('2'));
      const okContent = (ok?.[1]?.content ?? {}) as Record<string, { schema?: Record<string, unknown> }>;
      const okJson = okContent['application/json']?.schema;
      const okRef = nameInline(okJson, `${opName}Response`);
      const security = (op.security ?? doc.security ?? []) as Record<string, unknown>[];
      ops.push({
        operationId: opName,
        apiClass: `${String(((op.tags ?? ['Untagged']) as string[])[0]).replace(/\s+/g, '')}Api`,
        method: method.toUpperCase(),
        path,
        summary: typeof op.summary === 'string' ? op.summary : '',
        description: typeof op.description === 'string' ? op.description : '',
        declaresBearer: security.some((s) => Object.keys(s).length > 0),
        pathParams: pick('path'),
        queryParams: pick('query'),
        headerParams: pick('header'),
        requestBody: contentType && bodyModel ? { model: bodyModel, contentType, required: body?.required === true } : null,
        response: okJson ? { kind: 'json', model: okRef } : ok && Object.keys(okContent).length ? { kind: 'text' } : { kind: 'void' },
        source,
      });
    }
  }
  const schemas = ((doc.components as Record<string, unknown> | undefined)?.schemas ?? {}) as Record<string, unknown>;
  return { ops, models: new Map([...Object.entries(schemas).map(([k, v]) => [k, toSchema(v)] as const), ...inline]) };
}

function resolveRef(doc: Record<string, unknown>, value: Record<string, unknown>): Record<string, unknown> {
  const ref = value.$ref;
  if (typeof ref !== 'string') return value;
  let node: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[part];
  return (node ?? {}) as Record<string, unknown>;
}
