/**
 * Builds specs/dynamic-api.openapi.json (OpenAPI 3.1) and schemas/models/*.schema.json from TWO sources plus the
 * doc-facts overlay, with provenance on every fact:
 *
 * - Dynamic's official OpenAPI document (specs/sources/official/public-api.yaml, or `--from <file>`): where it
 *   covers an operation it is the source of the operation's shape — parameters, body, per-status responses (201,
 *   202, 302, 405, 409, 410 …, the ForbiddenWithErrorAndPayload 403) — and its models win (uuid, patterns, lengths,
 *   formats, enums).
 * - The published clients (@dynamic-labs/sdk-api, sdk-api-core): the operations the document lacks, their models,
 *   the tag (client class) of every operation, and the success response where the document lists none.
 * - The overlay (specs/overlay/doc-facts.json): reviewed auth classes (each contradiction with a source is recorded
 *   in `x-dynamic-auth-conflict`), scopes, rate-limit policies, and the uniform `standard` error layer added only for
 *   statuses the document does not list.
 *
 * The merge is deterministic: operations sorted by path then method, models by name, responses by status.
 */
import type { ClientOperation, ClientPackage, ClientParam } from './clients.js';
import type { OfficialDocument, OfficialOperation, OfficialParam } from './official.js';
import type { JsonSchema } from './types.js';

export type AuthClass = 'api-token' | 'user-jwt' | 'none';
export type LiveMode = 'enforce' | 'report';

/** A reviewed auth decision for one operation whose sources disagree (overlay `authReview`). */
export interface AuthReview {
  method: string;
  path: string;
  operationId: string;
  auth: AuthClass;
  live: LiveMode;
  reason: string;
}

export interface Overlay {
  info: Record<string, unknown>;
  servers: { url: string; description: string }[];
  securitySchemes: Record<string, unknown>;
  authRule: { source: string; text: string };
  authCorrections: {
    source: string;
    live: LiveMode;
    liveReason: string;
    evidence: Record<string, string>;
    operations: { method: string; path: string; operationId: string; tag: string }[];
  };
  authReview: { source: string; operations: AuthReview[] };
  uuidPathParams: {
    documented: string[];
    documentedSource: string;
    inferred: string[];
    inferredBasis: string;
    pattern: string;
  };
  scopes: {
    documented: { method: string; path: string; scopes: string[]; source: string }[];
    inferred: { path?: string; pathPrefix?: string; read: string; write: string }[];
    inferredBasis: string;
  };
  rateLimitPolicies: {
    policy: string;
    methods?: string[];
    paths?: string[];
    pathPrefix?: string;
    surface?: 'admin' | 'sdk';
    source: string;
  }[];
  standardLayer: { source: string; note: string };
  errorResponses: Record<string, { model: string; description: string; authOnly?: boolean; source: string }>;
}

/** The official document and how to name it in provenance. */
export interface OfficialInput {
  doc: OfficialDocument;
  /** Short name for provenance, e.g. `public-api.yaml@3f2a…` (file name + sha256 prefix). */
  name: string;
}

export interface DerivedSpec {
  document: Record<string, unknown>;
  models: Map<string, JsonSchema>;
  summary: {
    operations: number;
    admin: number;
    sdk: number;
    auth: Record<AuthClass, number>;
    corrected: number;
    conflicts: number;
    models: number;
    sources: string[];
    official:
      | { operations: number; merged: number; shared: number; officialOnly: number; clientsOnly: number }
      | undefined;
  };
}

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const REF = '#/components/schemas/';

function surfaceOf(path: string): 'sdk' | 'admin' {
  return path.startsWith('/sdk/') ? 'sdk' : 'admin';
}

function refName(schema: unknown): string | undefined {
  const ref = (schema as JsonSchema | undefined)?.$ref;
  return typeof ref === 'string' && ref.startsWith(REF) ? ref.slice(REF.length) : undefined;
}

function modelRef(model: string): JsonSchema {
  const array = /^Array<(\w+)>$/.exec(model);
  if (array) return { type: 'array', items: { $ref: `${REF}${array[1]!}` } };
  return { $ref: `${REF}${model}` };
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

function isObjectSchema(schema: JsonSchema, models: Map<string, JsonSchema>): boolean {
  const ref = refName(schema);
  const resolved = ref ? models.get(ref) : schema;
  return resolved?.type === 'object';
}

// ---- auth ------------------------------------------------------------------------------------------------------

interface AuthDecision {
  auth: AuthClass;
  source: string;
  conflict?: string;
  conflictLive?: LiveMode;
}

function clientsSay(client: ClientOperation | undefined): string {
  if (!client) return 'the published clients do not have this operation';
  return client.declaresBearer
    ? `the published clients (${client.source}) send the bearer token`
    : `the published clients (${client.source}) declare no security`;
}

function officialSays(official: OfficialOperation | undefined, name: string): string {
  if (!official) return `the official document (${name}) does not have this operation`;
  const lists401 = official.responses.some((r) => r.status === '401');
  if (official.security.length === 0)
    return `the official document (${name}) declares no security${lists401 ? ' but lists a 401 response' : ''}`;
  return `the official document (${name}) declares security ${official.security.join(', ')}`;
}

/**
 * The auth class of an operation from both sources and the overlay. A disagreement between them that the overlay
 * has not reviewed stops the derivation (so a new one cannot slip in unclassified).
 */
function decideAuth(
  key: string,
  client: ClientOperation | undefined,
  official: OfficialOperation | undefined,
  officialName: string,
  overlay: Overlay,
): AuthDecision {
  const [method, path] = key.split(' ') as [string, string];
  const surface = surfaceOf(path);
  const officialSecured = official ? official.security.length > 0 : undefined;
  const officialKnownScheme = official ? official.security.every((s) => s === 'bearerAuth') : true;
  const clientSecured = client?.declaresBearer;
  const review = overlay.authReview.operations.find((r) => r.method === method && r.path === path);
  const both = `${officialSays(official, officialName)}; ${clientsSay(client)}`;
  if (review) {
    return {
      auth: review.auth,
      source: overlay.authReview.source,
      conflict: `${upperFirst(both)}. Classed ${review.auth}: ${review.reason}`,
      conflictLive: review.live,
    };
  }
  if (surface === 'sdk') {
    const lists401 = official?.responses.some((r) => r.status === '401') ?? false;
    const secured = officialSecured ?? clientSecured ?? false;
    const disagree =
      (officialSecured !== undefined && clientSecured !== undefined && officialSecured !== clientSecured) ||
      !officialKnownScheme ||
      (official !== undefined && !officialSecured && lists401);
    if (disagree)
      throw new Error(`/sdk operation ${key}: ${both} — review it into specs/overlay/doc-facts.json authReview`);
    return {
      auth: secured ? 'user-jwt' : 'none',
      source: secured
        ? overlay.authRule.source
        : `declared no security (${official ? officialName : (client?.source ?? '')})`,
    };
  }
  if (officialSecured ?? clientSecured) {
    if (officialSecured === false || clientSecured === false) {
      const correction = overlay.authCorrections.operations.find((c) => c.method === method && c.path === path);
      if (!correction)
        throw new Error(
          `admin operation ${key}: ${both} — review it into specs/overlay/doc-facts.json authCorrections`,
        );
    } else {
      return { auth: 'api-token', source: overlay.authRule.source };
    }
  }
  const corrected = overlay.authCorrections.operations.find((c) => c.method === method && c.path === path);
  if (!corrected)
    throw new Error(
      `admin operation ${key} declares no security (${both}) and has ` +
        `no reviewed entry in specs/overlay/doc-facts.json ` +
        `authCorrections`,
    );
  const evidence = overlay.authCorrections.evidence[corrected.tag] ?? overlay.authCorrections.source;
  return {
    auth: 'api-token',
    source: evidence,
    conflict:
      `${upperFirst(both)}; the API reference says every admin endpoint takes "Authorization: ` +
      `Bearer <dyn_ API token>" (${evidence}). Classed api-token: ` +
      `${overlay.authCorrections.liveReason}`,
    conflictLive: overlay.authCorrections.live,
  };
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- parameters ------------------------------------------------------------------------------------------------

function uuidSchema(pattern: string): JsonSchema {
  return { type: 'string', format: 'uuid', pattern, minLength: 36, maxLength: 36 };
}

/**
 * A parameter schema with primitive component refs inlined (so every reader sees `format`, `pattern` and lengths
 * without resolving), `format: uuid` added where the official pattern is the UUID pattern.
 */
function inlineParamSchema(schema: JsonSchema, models: Map<string, JsonSchema>): JsonSchema {
  let out = schema;
  const name = refName(schema);
  const target = name ? models.get(name) : undefined;
  if (
    target &&
    target.enum === undefined &&
    typeof target.type === 'string' &&
    ['string', 'number', 'integer', 'boolean'].includes(target.type) &&
    target.properties === undefined
  ) {
    out = Object.fromEntries(
      Object.entries(target).filter(([k]) => k !== 'examples' && k !== 'description' && k !== '$comment'),
    );
  }
  if (out.type === 'string' && out.pattern === UUID_PATTERN && out.format === undefined)
    out = { ...out, format: 'uuid' };
  return out;
}

function clientParamSchema(param: ClientParam, where: 'path' | 'query' | 'header', overlay: Overlay): JsonSchema {
  if (
    where === 'path' &&
    (overlay.uuidPathParams.documented.includes(param.name) || overlay.uuidPathParams.inferred.includes(param.name))
  )
    return uuidSchema(overlay.uuidPathParams.pattern);
  return param.schema;
}

function describeSchema(schema: JsonSchema | undefined): string {
  if (!schema || Object.keys(schema).length === 0) return 'untyped';
  const name = refName(schema);
  if (name) return name;
  if (schema.type === 'array') return `array of ${describeSchema(schema.items as JsonSchema | undefined)}`;
  const keys = ['type', 'format', 'pattern', 'minLength', 'maxLength']
    .filter((k) => schema[k] !== undefined)
    .map((k) => `${k} ${JSON.stringify(schema[k])}`);
  return keys.length ? keys.join(', ') : 'inline schema';
}

// ---- responses -------------------------------------------------------------------------------------------------

function errorResponse(status: string, overlay: Overlay): Record<string, unknown> {
  const def = overlay.errorResponses[status]!;
  return {
    description: def.description,
    content: { 'application/json': { schema: { $ref: `${REF}${def.model}` } } },
    'x-dynamic-layer': 'standard',
    'x-dynamic-source': def.source,
  };
}

/** The clients' success response (200 JSON / 200 text / 204). */
function clientSuccess(op: ClientOperation): [string, Record<string, unknown>] {
  const base = { 'x-dynamic-layer': 'clients', 'x-dynamic-source': op.source };
  if (op.response.kind === 'json')
    return [
      '200',
      {
        description: 'Success',
        content: { 'application/json': { schema: op.response.model ? modelRef(op.response.model) : {} } },
        ...base,
      },
    ];
  if (op.response.kind === 'text')
    return ['200', { description: 'Success', content: { 'text/plain': { schema: { type: 'string' } } }, ...base }];
  return ['204', { description: 'Success, no content', ...base }];
}

function sortedStatuses(responses: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

function addStandardLayer(responses: Record<string, unknown>, auth: AuthClass, overlay: Overlay): string[] {
  const added: string[] = [];
  for (const [status, def] of Object.entries(overlay.errorResponses)) {
    if (def.authOnly && auth === 'none') continue;
    if (responses[status] !== undefined) continue;
    responses[status] = errorResponse(status, overlay);
    added.push(status);
  }
  return added;
}

// ---- operations ------------------------------------------------------------------------------------------------

interface BuildContext {
  overlay: Overlay;
  models: Map<string, JsonSchema>;
  official: OfficialInput | undefined;
}

function commonExtensions(
  method: string,
  path: string,
  decision: AuthDecision,
  overlay: Overlay,
): Record<string, unknown> {
  const scopes = decision.auth === 'api-token' ? scopesFor(method, path, overlay) : {};
  return {
    security:
      decision.auth === 'api-token' ? [{ apiToken: [] }] : decision.auth === 'user-jwt' ? [{ userJwt: [] }] : [],
    'x-dynamic-auth': decision.auth,
    'x-dynamic-auth-source': decision.source,
    ...(decision.conflict
      ? { 'x-dynamic-auth-conflict': decision.conflict, 'x-dynamic-auth-conflict-live': decision.conflictLive }
      : {}),
    'x-dynamic-surface': surfaceOf(path),
    ...(scopes.documented ? { 'x-dynamic-scopes': scopes.documented } : {}),
    ...(scopes.inferred ? { 'x-dynamic-scopes-inferred': scopes.inferred } : {}),
    'x-dynamic-rate-limit': overlay.rateLimitPolicies
      .filter((r) => matchesPolicy(r, method, path))
      .map((r) => r.policy),
  };
}

/** An operation only the clients have: shape from the clients, the uniform error set as the standard layer. */
function buildClientOperation(op: ClientOperation, operationId: string, ctx: BuildContext): Record<string, unknown> {
  const { overlay, models } = ctx;
  const decision = decideAuth(`${op.method} ${op.path}`, op, undefined, ctx.official?.name ?? 'none given', overlay);
  const parameters = [
    ...op.pathParams.map((p) => ({
      name: p.name,
      in: 'path',
      required: true,
      schema: clientParamSchema(p, 'path', overlay),
    })),
    ...op.queryParams.map((p) => ({
      name: p.name,
      in: 'query',
      required: p.required,
      schema: clientParamSchema(p, 'query', overlay),
      ...(isObjectSchema(p.schema, models) ? { style: 'deepObject', explode: true } : {}),
    })),
    ...op.headerParams.map((p) => ({ name: p.name, in: 'header', required: p.required, schema: p.schema })),
  ];
  let requestBody: Record<string, unknown> | undefined;
  if (op.requestBody && 'model' in op.requestBody) {
    requestBody = {
      required: op.requestBody.required,
      content: { [op.requestBody.contentType]: { schema: modelRef(op.requestBody.model) } },
    };
  } else if (op.requestBody) {
    const properties = Object.fromEntries(op.requestBody.form.map((f) => [f.name, f.schema]));
    const required = op.requestBody.form.filter((f) => f.required).map((f) => f.name);
    requestBody = {
      required: op.requestBody.required,
      content: {
        [op.requestBody.contentType]: {
          schema: { type: 'object', properties, ...(required.length ? { required } : {}) },
        },
      },
    };
  }
  const [status, success] = clientSuccess(op);
  const responses: Record<string, unknown> = { [status]: success };
  const standard = addStandardLayer(responses, decision.auth, overlay);
  return {
    operationId,
    tags: [op.apiClass.replace(/Api$/, '')],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: sortedStatuses(responses),
    ...commonExtensions(op.method, op.path, decision, overlay),
    'x-dynamic-declared-security': { clients: op.declaresBearer ? 'bearerAuth' : 'none' },
    'x-dynamic-source': 'clients',
    'x-dynamic-provenance': {
      clients: op.source,
      official: ctx.official ? `not in ${ctx.official.name}` : 'no official document given',
      shape: 'clients',
      auth: decision.conflict ? 'overlay' : 'clients',
      statuses: { success: 'clients', standard: standard.map(Number) },
    },
  };
}

/**
 * A parameter of the official document. Path parameters the docs pages document as UUIDs (overlay
 * uuidPathParams.documented: environmentId, userId …) stay UUIDs where the document writes a plain string; a
 * `format: uuid` path parameter without a pattern gets the documented lowercase pattern.
 */
function officialParamEntry(p: OfficialParam, ctx: BuildContext): Record<string, unknown> {
  const { models, overlay } = ctx;
  let schema = inlineParamSchema(p.schema, models);
  if (p.in === 'path' && overlay.uuidPathParams.documented.includes(p.name) && schema.format !== 'uuid')
    schema = uuidSchema(overlay.uuidPathParams.pattern);
  // `format: uuid` alone accepts upper case; Dynamic's ids are documented lowercase (overlay uuidPathParams.pattern).
  if (p.in === 'path' && schema.format === 'uuid' && schema.pattern === undefined)
    schema = { ...schema, ...uuidSchema(overlay.uuidPathParams.pattern) };
  return {
    name: p.name,
    in: p.in,
    required: p.required,
    schema,
    ...(p.in === 'query' && isObjectSchema(schema, models) ? { style: 'deepObject', explode: true } : {}),
  };
}

/** An operation the official document has: its shape from the document; the clients' differences recorded. */
function buildOfficialOperation(
  official: OfficialOperation,
  client: ClientOperation | undefined,
  operationId: string,
  ctx: BuildContext,
): Record<string, unknown> {
  const { overlay, models } = ctx;
  const name = ctx.official!.name;
  const plainDocumentedUuids = official.parameters
    .filter(
      (p) =>
        p.in === 'path' &&
        overlay.uuidPathParams.documented.includes(p.name) &&
        inlineParamSchema(p.schema, models).format !== 'uuid',
    )
    .map((p) => p.name);
  const decision = decideAuth(official.key, client, official, name, overlay);
  const order = { path: 0, query: 1, header: 2 } as const;
  const parameters = [...official.parameters]
    .sort((a, b) => order[a.in] - order[b.in])
    .map((p) => officialParamEntry(p, ctx));
  const differs: Record<string, unknown> = {};
  let requestBody: Record<string, unknown> | undefined;
  if (official.requestBody && Object.keys(official.requestBody.content).length) {
    requestBody = {
      required: official.requestBody.required,
      content: Object.fromEntries(Object.entries(official.requestBody.content).map(([t, schema]) => [t, { schema }])),
    };
  }
  const responses: Record<string, unknown> = {};
  for (const r of official.responses) {
    const content = Object.keys(r.content).length
      ? { content: Object.fromEntries(Object.entries(r.content).map(([t, schema]) => [t, { schema }])) }
      : {};
    responses[r.status] = {
      description: r.description || `Status ${r.status}`,
      ...content,
      'x-dynamic-layer': 'documented',
      'x-dynamic-source': r.component ? `${name} (components/responses/${r.component})` : name,
    };
  }
  const officialSuccess = official.responses.map((r) => r.status).filter((s) => /^[23]/.test(s));
  const official2xx = officialSuccess.filter((s) => s.startsWith('2'));
  if (client && official2xx.length === 0) {
    // The document lists no 2xx (a 302-only redirect, a 410 Gone): the clients' success response is kept so that
    // readers that need a 2xx have one; labelled `clients`, never `documented`.
    const [status, success] = clientSuccess(client);
    responses[status] = success;
  }
  const standard = addStandardLayer(responses, decision.auth, overlay);
  if (client) {
    const [clientStatus, clientResp] = clientSuccess(client);
    if (officialSuccess.join(',') !== clientStatus)
      differs.success = { official: officialSuccess.map(Number), clients: [Number(clientStatus)] };
    const officialJson = official.responses.find((r) => r.status.startsWith('2') && r.content['application/json'])
      ?.content['application/json'];
    const clientJson = (clientResp.content as Record<string, { schema: JsonSchema }> | undefined)?.['application/json']
      ?.schema;
    if (JSON.stringify(officialJson ?? null) !== JSON.stringify(clientJson ?? null))
      differs.successSchema = {
        official: officialJson ? describeSchema(officialJson) : 'none',
        clients: clientJson ? describeSchema(clientJson) : 'none',
      };
    const officialTypes = official.responses
      .filter((r) => r.status.startsWith('2'))
      .flatMap((r) => Object.keys(r.content));
    const clientTypes = Object.keys((clientResp.content as Record<string, unknown> | undefined) ?? {});
    if (officialTypes.join(',') !== clientTypes.join(',') && officialTypes.length)
      differs.successContentType = { official: officialTypes, clients: clientTypes };
    const clientParams = [
      ...client.pathParams.map((p) => ({ p, in: 'path' as const })),
      ...client.queryParams.map((p) => ({ p, in: 'query' as const })),
      ...client.headerParams.map((p) => ({ p, in: 'header' as const })),
    ];
    const onlyClients = clientParams
      .filter(({ p, in: where }) => !official.parameters.some((o) => o.name === p.name && o.in === where))
      .map(({ p, in: where }) => `${where}:${p.name}`);
    const onlyOfficial = official.parameters
      .filter((o) => !clientParams.some(({ p, in: where }) => p.name === o.name && where === o.in))
      .map((o) => `${o.in}:${o.name}`);
    if (onlyClients.length) differs.parametersOnlyInClients = onlyClients;
    if (onlyOfficial.length) differs.parametersOnlyInOfficial = onlyOfficial;
    const paramSchemas: Record<string, unknown> = {};
    for (const { p, in: where } of clientParams) {
      const o = official.parameters.find((x) => x.name === p.name && x.in === where);
      if (!o || where === 'header') continue;
      const ours = describeSchema(inlineParamSchema(o.schema, models));
      const theirs = describeSchema(clientParamSchema(p, where, overlay));
      if (ours !== theirs) paramSchemas[`${where}:${p.name}`] = { official: ours, clients: theirs };
    }
    if (Object.keys(paramSchemas).length) differs.parameterSchemas = paramSchemas;
    const clientBody =
      client.requestBody && 'model' in client.requestBody
        ? describeSchema(modelRef(client.requestBody.model))
        : client.requestBody
          ? 'form'
          : 'none';
    const officialBody = requestBody ? describeSchema(Object.values(official.requestBody!.content)[0]) : 'none';
    if (clientBody !== officialBody) differs.requestBody = { official: officialBody, clients: clientBody };
  }
  if (plainDocumentedUuids.length)
    differs.pathParametersKeptUuid = plainDocumentedUuids.map(
      (n) =>
        `${n}: the document writes a plain string here, the docs pages (` +
        `${overlay.uuidPathParams.documentedSource.split(' ')[0]}) a UUID`,
    );
  const tag = client ? client.apiClass.replace(/Api$/, '') : (official.tags[0] ?? 'Untagged').replace(/\s+/g, '');
  return {
    operationId,
    tags: [tag],
    summary: official.summary || client?.summary || '',
    ...(official.description || client?.description
      ? { description: official.description || client?.description }
      : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: sortedStatuses(responses),
    ...commonExtensions(official.method, official.path, decision, overlay),
    'x-dynamic-declared-security': {
      official: official.security.length ? official.security.join(',') : 'none',
      ...(client ? { clients: client.declaresBearer ? 'bearerAuth' : 'none' } : {}),
    },
    'x-dynamic-source': client ? 'official+clients' : 'official',
    'x-dynamic-provenance': {
      official: name,
      clients: client ? client.source : 'not in the published clients',
      shape: 'official',
      auth: decision.conflict ? 'overlay' : 'official',
      statuses: {
        documented: official.responses.map((r) => Number(r.status)),
        ...(client && official2xx.length === 0 ? { clientsSuccess: true } : {}),
        standard: standard.map(Number),
      },
      ...(official.tags[0] && official.tags[0].replace(/\s+/g, '') !== tag ? { officialTag: official.tags[0] } : {}),
      ...(Object.keys(differs).length ? { differs } : {}),
    },
  };
}

// ---- models ----------------------------------------------------------------------------------------------------

interface ModelProvenance {
  source: 'official' | 'clients';
  differs?: Record<string, unknown>;
}

/**
 * Official models win over the clients' (they keep uuid, patterns, lengths, formats, newer enum values); an enum
 * value only the clients have is kept unless it differs from an official value only in case (icloud vs iCloud:
 * the document's spelling wins). Each model records its source and, when the clients differ, how.
 */
function mergeModels(
  clientModels: Map<string, JsonSchema>,
  official: OfficialInput | undefined,
): { models: Map<string, JsonSchema>; provenance: Map<string, ModelProvenance> } {
  const models = new Map<string, JsonSchema>();
  const provenance = new Map<string, ModelProvenance>();
  for (const [name, schema] of clientModels) {
    models.set(name, schema);
    provenance.set(name, { source: 'clients' });
  }
  if (!official) return { models, provenance };
  const officialModels = official.doc.schemas;
  for (const [name, rawSchema] of official.doc.schemas) {
    let schema = structuredClone(rawSchema);
    if (name === 'uuid' && schema.type === 'string' && schema.pattern === UUID_PATTERN && schema.format === undefined)
      schema = { ...schema, format: 'uuid' };
    const theirs = clientModels.get(name);
    const differs: Record<string, unknown> = {};
    if (schema.properties !== undefined && Array.isArray(schema.required)) {
      // The document requires properties it never defines (DeeplinkUrlResponse.projectEnvironmentId): the clients'
      // definition fills the gap, else an untyped property, so the requirement stays and strict ajv compiles it.
      const props = schema.properties as Record<string, unknown>;
      const missing = (schema.required as string[]).filter((k) => !(k in props));
      if (missing.length) {
        const cp = (theirs?.properties ?? {}) as Record<string, unknown>;
        schema = { ...schema, properties: { ...props, ...Object.fromEntries(missing.map((k) => [k, cp[k] ?? {}])) } };
        differs.requiredButUndefinedInOfficial = missing.map(
          (k) => `${k} (${cp[k] ? 'definition from the clients' : 'untyped'})`,
        );
      }
    }
    if (theirs) {
      if (Array.isArray(schema.enum) && Array.isArray(theirs.enum)) {
        const ours = schema.enum as unknown[];
        const clientOnly = (theirs.enum as unknown[]).filter((v) => !ours.includes(v));
        const spelling = clientOnly.filter(
          (v) =>
            typeof v === 'string' && ours.some((o) => typeof o === 'string' && o.toLowerCase() === v.toLowerCase()),
        );
        const kept = clientOnly.filter((v) => !spelling.includes(v));
        const officialOnly = ours.filter((v) => !(theirs.enum as unknown[]).includes(v));
        if (kept.length) schema = { ...schema, enum: [...ours, ...kept] };
        if (officialOnly.length) differs.enumOnlyInOfficial = officialOnly;
        if (kept.length) differs.enumOnlyInClientsKept = kept;
        if (spelling.length) differs.enumClientsSpellingDropped = spelling;
      }
      const op = (schema.properties ?? {}) as Record<string, unknown>;
      const cp = (theirs.properties ?? {}) as Record<string, unknown>;
      const onlyClients = Object.keys(cp).filter((k) => !(k in op));
      const onlyOfficial = Object.keys(op).filter((k) => !(k in cp));
      if (schema.properties !== undefined && onlyClients.length) differs.propertiesOnlyInClients = onlyClients;
      if (schema.properties !== undefined && onlyOfficial.length) differs.propertiesOnlyInOfficial = onlyOfficial;
      const or = ((schema.required ?? []) as string[]).filter(
        (k) => !((theirs.required ?? []) as string[]).includes(k),
      );
      const cr = ((theirs.required ?? []) as string[]).filter(
        (k) => !((schema.required ?? []) as string[]).includes(k),
      );
      if (or.length) differs.requiredOnlyInOfficial = or;
      if (cr.length) differs.requiredOnlyInClients = cr;
      if (JSON.stringify(schema.type) !== JSON.stringify(theirs.type))
        differs.type = { official: schema.type ?? 'composed', clients: theirs.type ?? 'composed' };
    }
    const untyped = declareRequired(schema, '', officialModels);
    if (untyped.length)
      differs.requiredButUndefinedInOfficial = [
        ...((differs.requiredButUndefinedInOfficial as string[] | undefined) ?? []),
        ...untyped,
      ];
    models.set(name, schema);
    provenance.set(name, { source: 'official', ...(Object.keys(differs).length ? { differs } : {}) });
  }
  return { models, provenance };
}

/** The definition of a property somewhere in a schema (its properties, or an allOf branch, through model refs). */
function findProperty(
  schema: unknown,
  prop: string,
  models: Map<string, JsonSchema>,
  seen = new Set<string>(),
): unknown {
  if (!schema || typeof schema !== 'object') return undefined;
  const s = schema as Record<string, unknown>;
  const ref = refName(s);
  if (ref) {
    if (seen.has(ref)) return undefined;
    seen.add(ref);
    return findProperty(models.get(ref), prop, models, seen);
  }
  const own = (s.properties as Record<string, unknown> | undefined)?.[prop];
  if (own !== undefined && !(typeof own === 'object' && own !== null && Object.keys(own).length === 0)) return own;
  for (const branch of (s.allOf as unknown[] | undefined) ?? []) {
    const found = findProperty(branch, prop, models, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Gives every `required` name of every subschema a `properties` entry in the same subschema, as strict ajv demands
 * (the document writes `required` in one allOf branch and `properties` in another): the sibling branches'
 * definition when there is one, else an untyped property. No change to what validates. Returns what it added.
 */
function declareRequired(
  schema: unknown,
  where: string,
  models: Map<string, JsonSchema>,
  siblings: unknown[] = [],
): string[] {
  const added: string[] = [];
  if (Array.isArray(schema))
    schema.forEach((s, i) => added.push(...declareRequired(s, `${where}/${i}`, models, siblings)));
  else if (schema && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (Array.isArray(s.required) && where !== '') {
      const props = (s.properties ??= {}) as Record<string, unknown>;
      for (const k of s.required as string[])
        if (!(k in props)) {
          const found = siblings.map((b) => findProperty(b, k, models)).find((x) => x !== undefined);
          props[k] = found !== undefined ? structuredClone(found) : {};
          added.push(
            `${k} at ${where} (${found !== undefined ? 'definition from a sibling allOf branch' : 'untyped'})`,
          );
        }
      if (s.type === undefined) s.type = 'object';
    }
    for (const [k, v] of Object.entries(s)) {
      if (k === 'enum' || k === 'const' || k === 'examples' || k === 'default' || k === 'required') continue;
      if (k === 'allOf' && Array.isArray(v))
        v.forEach((branch, i) =>
          added.push(
            ...declareRequired(
              branch,
              `${where}/allOf/${i}`,
              models,
              v.filter((_, j) => j !== i),
            ),
          ),
        );
      else added.push(...declareRequired(v, `${where}/${k}`, models));
    }
  }
  return added;
}

/** Collects every model reachable from the operations (transitively). */
function reachableModels(
  ops: Record<string, unknown>[],
  models: Map<string, JsonSchema>,
  extra: string[],
): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  const queue: string[] = [...extra];
  const scan = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(scan);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith(REF)) queue.push(v.slice(REF.length));
        else scan(v);
      }
    }
  };
  ops.forEach(scan);
  while (queue.length) {
    const name = queue.pop()!;
    if (out.has(name)) continue;
    const model = models.get(name);
    if (!model)
      throw new Error(`model ${name} is referenced but not defined by either source (clients or official document)`);
    out.set(name, model);
    scan(model);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Union of both client packages: method+path pairs without OPTIONS; sdk-api-core wins for /sdk paths. */
export function clientOperations(
  admin: ClientPackage,
  core: ClientPackage,
): { ops: ClientOperation[]; models: Map<string, JsonSchema>; sources: string[] } {
  const byKey = new Map<string, ClientOperation>();
  for (const op of [...admin.operations, ...core.operations]) {
    if (op.method === 'OPTIONS') continue;
    const key = `${op.method} ${op.path}`;
    const existing = byKey.get(key);
    if (!existing || (surfaceOf(op.path) === 'sdk' && op.source.startsWith(core.name))) byKey.set(key, op);
  }
  return {
    ops: [...byKey.values()],
    models: new Map([...core.models, ...admin.models]),
    sources: [`${admin.name}@${admin.version}`, `${core.name}@${core.version}`],
  };
}

/** The merged spec of the clients and (when given) the official document. */
export function assemble(
  clients: { ops: ClientOperation[]; models: Map<string, JsonSchema>; sources: string[] },
  official: OfficialInput | undefined,
  overlay: Overlay,
): DerivedSpec {
  const { models: allModels, provenance } = mergeModels(clients.models, official);
  const clientByKey = new Map(clients.ops.map((o) => [`${o.method} ${o.path}`, o]));
  const officialByKey = new Map((official?.doc.operations ?? []).map((o) => [o.key, o]));
  const keys = [...new Set([...clientByKey.keys(), ...officialByKey.keys()])].sort((a, b) => {
    const [ma, pa] = a.split(' ') as [string, string];
    const [mb, pb] = b.split(' ') as [string, string];
    return pa.localeCompare(pb) || ma.localeCompare(mb);
  });
  const ctx: BuildContext = { overlay, models: allModels, official };
  const seenIds = new Set<string>();
  const paths: Record<string, Record<string, unknown>> = {};
  const built: Record<string, unknown>[] = [];
  for (const key of keys) {
    const [method, path] = key.split(' ') as [string, string];
    const client = clientByKey.get(key);
    const off = officialByKey.get(key);
    let operationId = client?.operationId ?? off?.operationId ?? `${method.toLowerCase()}${path.replace(/\W+/g, '_')}`;
    if (seenIds.has(operationId)) operationId = `${operationId}${method.charAt(0)}${method.slice(1).toLowerCase()}`;
    seenIds.add(operationId);
    const item = off
      ? buildOfficialOperation(off, client, operationId, ctx)
      : buildClientOperation(client!, operationId, ctx);
    built.push(item);
    (paths[path] ??= {})[method.toLowerCase()] = item;
  }
  const errorModels = Object.values(overlay.errorResponses).map((e) => e.model);
  // Every model the official operations name is kept, also when the spec inlines it (a parameter's `orderBy`).
  const officialRefs: string[] = [];
  if (official)
    for (const o of official.doc.operations)
      JSON.stringify([o.parameters, o.requestBody, o.responses], (k, v: unknown) => {
        if (k === '$ref' && typeof v === 'string' && v.startsWith(REF)) officialRefs.push(v.slice(REF.length));
        return v;
      });
  const components = reachableModels(built, allModels, [...errorModels, ...officialRefs]);
  const describedModels = new Map(
    [...components].map(([name, schema]) => {
      const p = provenance.get(name)!;
      const comment =
        p.source === 'official'
          ? `source: official document (${official!.name})`
          : `source: published clients (${clients.sources.join(' + ')})`;
      return [name, { $comment: comment, ...schema }] as const;
    }),
  );
  const auth: Record<AuthClass, number> = { 'api-token': 0, 'user-jwt': 0, none: 0 };
  for (const op of built) auth[op['x-dynamic-auth'] as AuthClass] += 1;
  const sources = [...(official ? [official.name] : []), ...clients.sources];
  const document = {
    openapi: '3.1.0',
    info: overlay.info,
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: overlay.servers,
    security: [],
    paths,
    components: { schemas: Object.fromEntries(describedModels), securitySchemes: overlay.securitySchemes },
    'x-dynamic-derived-from': sources,
    'x-dynamic-sources': {
      ...(official
        ? {
            official: {
              name: official.name,
              label: official.doc.label,
              sha256: official.doc.sha256,
              operations: official.doc.operations.length,
              repairs: official.doc.repairs,
            },
          }
        : {}),
      clients: clients.sources,
      overlay: 'specs/overlay/doc-facts.json',
      standardLayer: overlay.standardLayer,
    },
    'x-dynamic-model-provenance': Object.fromEntries(
      [...components.keys()].map((name) => [name, provenance.get(name)!]),
    ),
  };
  const shared = official ? official.doc.operations.filter((o) => clientByKey.has(o.key)).length : 0;
  return {
    document,
    models: describedModels,
    summary: {
      operations: built.length,
      admin: built.filter((o) => o['x-dynamic-surface'] === 'admin').length,
      sdk: built.filter((o) => o['x-dynamic-surface'] === 'sdk').length,
      auth,
      corrected: built.filter((o) => o['x-dynamic-surface'] === 'admin' && o['x-dynamic-auth-conflict'] !== undefined)
        .length,
      conflicts: built.filter((o) => o['x-dynamic-auth-conflict'] !== undefined).length,
      models: components.size,
      sources,
      official: official
        ? {
            operations: official.doc.operations.length,
            merged: official.doc.operations.length,
            shared,
            officialOnly: official.doc.operations.length - shared,
            clientsOnly: clients.ops.length - shared,
          }
        : undefined,
    },
  };
}
