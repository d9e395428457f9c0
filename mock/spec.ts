import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A JSON Schema as found in the spec and in schemas/ (structure checked by ajv, not by TypeScript). */
export type JsonSchema = Record<string, unknown>;

/** `x-dynamic-auth`: which credential an operation takes (AUTH rules). */
export type AuthClass = 'api-token' | 'user-jwt' | 'none';

/** One declared parameter of an operation. */
export interface ParamInfo {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly schema: JsonSchema;
  readonly deepObject: boolean;
}

/** The request body of an operation. */
export interface BodyInfo {
  readonly contentType: 'application/json' | 'application/x-www-form-urlencoded';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

/**
 * The success response the mock answers (SCHEMA-003): the documented one — the lowest 2xx/3xx status the official
 * document lists for the operation (201 for creates, 202, 302 …) — else the clients' 2xx. JSON ops answer JSON,
 * text ops their text media type (text/plain, text/html), void ops no body, redirects a `Location`.
 */
export interface SuccessInfo {
  readonly status: number;
  readonly kind: 'json' | 'text' | 'void' | 'redirect';
  readonly schema: JsonSchema | undefined;
  /** The media type of a text answer (text/plain, text/html). */
  readonly contentType?: string;
}

/** Everything the mock needs to know about one of the 412 operations. */
export interface OperationInfo {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly tags: readonly string[];
  readonly auth: AuthClass;
  readonly scopes: readonly string[];
  readonly inferredScopes: readonly string[];
  readonly policies: readonly string[];
  readonly params: readonly ParamInfo[];
  readonly body: BodyInfo | undefined;
  readonly success: SuccessInfo;
  /** The JSON error bodies the official document gives this operation, by status (layer `documented` only). */
  readonly errorSchemas: Readonly<Record<string, JsonSchema>>;
  readonly hasEnvironmentParam: boolean;
}

/** One window of a rate-limit policy. */
export interface RateWindow {
  readonly limit: number;
  readonly seconds: number;
}

/** Dimensions a rate-limit policy is keyed by (ARCHITECTURE.md, "Rate limit"). */
export type RateKey = 'ip' | 'environment' | 'wallet';

/** A rate-limit policy of a docs profile; `windows: null` = documented but unenforced. */
export interface RatePolicy {
  readonly key: readonly RateKey[];
  readonly windows: readonly RateWindow[] | null;
}

/** The parts of a docs profile (specs/profiles/docs-20XX.json) the mock uses. */
export interface DocsProfile {
  readonly id: string;
  readonly token: { readonly prefix: string; readonly length: number; readonly pattern: string };
  readonly tooManyRequests: { readonly body: Record<string, unknown> };
  readonly retryAfter: { readonly required: boolean };
  readonly rateLimits: Readonly<Record<string, RatePolicy>>;
}

/** A named fault of specs/faults.json. */
export interface FaultSpec {
  readonly id: string;
  readonly rule: string;
  readonly description: string;
  readonly fast?: boolean;
}

/** The loaded data layer: spec document, operations, profiles, faults. */
export interface SpecBundle {
  readonly document: JsonSchema;
  readonly operations: readonly OperationInfo[];
  readonly profiles: ReadonlyMap<string, DocsProfile>;
  readonly faults: readonly FaultSpec[];
  /** The 14 documented API-token scopes (components.schemas.TokenScopes.enum). */
  readonly tokenScopes: readonly string[];
  /** Owned object families of specs/objects.json (OBJ rules). */
  readonly objects: readonly ObjectFamilySpec[];
}

/** Who owns the objects of a family (specs/objects.json). */
export type ObjectOwnerKind = 'environment' | 'organization' | 'user';

/** One owned object family of specs/objects.json: the parameters (and body members) that name its objects. */
export interface ObjectFamilySpec {
  readonly family: string;
  readonly params: readonly string[];
  /** operationId -> body member naming the object. */
  readonly body: Readonly<Record<string, string>>;
  readonly surface: 'admin' | 'sdk' | undefined;
  readonly pathPrefix: string | undefined;
  readonly owner: ObjectOwnerKind;
  readonly stored: boolean;
}

const SPECS_DIR = fileURLToPath(new URL('../specs/', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rec(v: unknown, what: string): Record<string, unknown> {
  if (!isRecord(v)) throw new Error(`spec: ${what} is not an object`);
  return v;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function parseOperation(method: string, path: string, raw: Record<string, unknown>): OperationInfo {
  const where = `${method.toUpperCase()} ${path}`;
  const auth = raw['x-dynamic-auth'];
  if (auth !== 'api-token' && auth !== 'user-jwt' && auth !== 'none')
    throw new Error(`spec: ${where} has no valid x-dynamic-auth`);
  const params: ParamInfo[] = [];
  for (const p of Array.isArray(raw['parameters']) ? (raw['parameters'] as unknown[]) : []) {
    const pr = rec(p, `${where} parameter`);
    const loc = pr['in'];
    if (loc !== 'path' && loc !== 'query' && loc !== 'header')
      throw new Error(`spec: ${where} has a parameter in ${String(loc)}`);
    params.push({
      name: String(pr['name']),
      in: loc,
      required: pr['required'] === true || loc === 'path',
      schema: isRecord(pr['schema']) ? pr['schema'] : {},
      deepObject: pr['style'] === 'deepObject',
    });
  }
  let body: BodyInfo | undefined;
  if (isRecord(raw['requestBody'])) {
    const rb = raw['requestBody'];
    const content = rec(rb['content'], `${where} requestBody.content`);
    const contentType = 'application/json' in content ? 'application/json' : 'application/x-www-form-urlencoded';
    if (!(contentType in content)) throw new Error(`spec: ${where} has an unsupported request content type`);
    const media = rec(content[contentType], `${where} requestBody media`);
    body = { contentType, required: rb['required'] === true, schema: isRecord(media['schema']) ? media['schema'] : {} };
  }
  const responses = rec(raw['responses'], `${where} responses`);
  const codes = Object.keys(responses).sort();
  const documented = codes.filter(
    (c) => /^[23]\d\d$/.test(c) && rec(responses[c], `${where} ${c}`)['x-dynamic-layer'] === 'documented',
  );
  const okCode = documented[0] ?? codes.find((c) => c.startsWith('2'));
  if (okCode === undefined) throw new Error(`spec: ${where} declares no 2xx response`);
  const ok = rec(responses[okCode], `${where} ${okCode}`);
  const content = isRecord(ok['content']) ? ok['content'] : {};
  const textType = Object.keys(content).find((t) => t.startsWith('text/'));
  let success: SuccessInfo;
  if (okCode.startsWith('3')) {
    success = { status: Number(okCode), kind: 'redirect', schema: undefined };
  } else if (isRecord(content['application/json'])) {
    const media = content['application/json'];
    success = { status: Number(okCode), kind: 'json', schema: isRecord(media['schema']) ? media['schema'] : {} };
  } else if (textType !== undefined && isRecord(content[textType])) {
    const media = content[textType];
    success = {
      status: Number(okCode),
      kind: 'text',
      schema: isRecord(media['schema']) ? media['schema'] : { type: 'string' },
      contentType: textType,
    };
  } else {
    success = { status: Number(okCode), kind: 'void', schema: undefined };
  }
  return {
    operationId: String(raw['operationId']),
    method: method.toUpperCase(),
    path,
    tags: strings(raw['tags']),
    auth,
    scopes: strings(raw['x-dynamic-scopes']),
    inferredScopes: strings(raw['x-dynamic-scopes-inferred']),
    policies: strings(raw['x-dynamic-rate-limit']),
    params,
    body,
    success,
    errorSchemas: Object.fromEntries(
      codes
        .filter((c) => /^[45]/.test(c))
        .flatMap((c) => {
          const r = rec(responses[c], `${where} ${c}`);
          const json =
            isRecord(r['content']) && isRecord(r['content']['application/json'])
              ? r['content']['application/json']
              : undefined;
          return r['x-dynamic-layer'] === 'documented' && json && isRecord(json['schema']) ? [[c, json['schema']]] : [];
        }),
    ),
    hasEnvironmentParam: params.some((p) => p.in === 'path' && p.name === 'environmentId'),
  };
}

function parseProfile(raw: unknown, file: string): DocsProfile {
  const r = rec(raw, file);
  const token = rec(r['token'], `${file} token`);
  const tmr = rec(r['tooManyRequests'], `${file} tooManyRequests`);
  const retry = rec(r['retryAfter'], `${file} retryAfter`);
  const limits = rec(r['rateLimits'], `${file} rateLimits`);
  const rateLimits: Record<string, RatePolicy> = {};
  for (const [id, v] of Object.entries(limits)) {
    const p = rec(v, `${file} rateLimits.${id}`);
    const key = strings(p['key']).filter((k): k is RateKey => k === 'ip' || k === 'environment' || k === 'wallet');
    let windows: RateWindow[] | null = null;
    if (Array.isArray(p['windows'])) {
      windows = (p['windows'] as unknown[]).map((w) => {
        const wr = rec(w, `${file} rateLimits.${id} window`);
        const limit = Number(wr['limit']);
        const seconds = Number(wr['seconds']);
        if (!Number.isInteger(limit) || limit < 0 || !(seconds > 0))
          throw new Error(`spec: ${file} rateLimits.${id} has a bad window`);
        return { limit, seconds };
      });
    }
    rateLimits[id] = { key, windows };
  }
  return {
    id: String(r['id']),
    token: { prefix: String(token['prefix']), length: Number(token['length']), pattern: String(token['pattern']) },
    tooManyRequests: { body: rec(tmr['body'], `${file} tooManyRequests.body`) },
    retryAfter: { required: retry['required'] === true },
    rateLimits,
  };
}

/** Ids of the docs profiles in specs/profiles (file names without `.json`), without parsing the spec. */
export function profileIds(specsDir: string = SPECS_DIR): string[] {
  return readdirSync(`${specsDir}/profiles`)
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .sort();
}

/**
 * Loads specs/ (the mock reads specs/ and schemas/ only): the derived OpenAPI document with its 412 operations,
 * every docs profile and the fault catalogue. Throws with a readable message if the data is not as expected.
 */
export function loadSpec(specsDir: string = SPECS_DIR): SpecBundle {
  const document = rec(readJson(`${specsDir}/dynamic-api.openapi.json`), 'dynamic-api.openapi.json');
  const paths = rec(document['paths'], 'paths');
  const operations: OperationInfo[] = [];
  for (const [path, item] of Object.entries(paths)) {
    const pi = rec(item, path);
    for (const m of METHODS) {
      const op = pi[m];
      if (isRecord(op)) operations.push(parseOperation(m, path, op));
    }
  }
  const profiles = new Map<string, DocsProfile>();
  for (const f of readdirSync(`${specsDir}/profiles`)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const p = parseProfile(readJson(`${specsDir}/profiles/${f}`), f);
    profiles.set(p.id, p);
  }
  const faultsRaw = rec(readJson(`${specsDir}/faults.json`), 'faults.json');
  const faults: FaultSpec[] = (Array.isArray(faultsRaw['faults']) ? (faultsRaw['faults'] as unknown[]) : []).map(
    (f) => {
      const r = rec(f, 'faults.json entry');
      return {
        id: String(r['id']),
        rule: String(r['rule']),
        description: String(r['description']),
        ...(r['fast'] === true ? { fast: true } : {}),
      };
    },
  );
  const components = rec(document['components'], 'components');
  const schemas = rec(components['schemas'], 'components.schemas');
  const tokenScopes = strings(rec(schemas['TokenScopes'], 'TokenScopes')['enum']);
  const objectsRaw = rec(readJson(`${specsDir}/objects.json`), 'objects.json');
  const objects: ObjectFamilySpec[] = (
    Array.isArray(objectsRaw['families']) ? (objectsRaw['families'] as unknown[]) : []
  ).map((f) => {
    const r = rec(f, 'objects.json family');
    const owner = r['owner'];
    if (owner !== 'environment' && owner !== 'organization' && owner !== 'user')
      throw new Error(`objects.json: family ${String(r['family'])} has no valid owner`);
    const body = isRecord(r['body'])
      ? Object.fromEntries(Object.entries(r['body']).map(([k, v]) => [k, String(v)]))
      : {};
    const surface = r['surface'] === 'admin' || r['surface'] === 'sdk' ? r['surface'] : undefined;
    const pathPrefix = typeof r['pathPrefix'] === 'string' ? r['pathPrefix'] : undefined;
    return {
      family: String(r['family']),
      params: strings(r['params']),
      body,
      surface,
      pathPrefix,
      owner,
      stored: r['stored'] === true,
    };
  });
  return { document, operations, profiles, faults, tokenScopes, objects };
}
