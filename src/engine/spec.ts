/**
 * The API's promises as loaded data: the derived OpenAPI document, the active docs profile, the rule catalogue and
 * the fault catalogue. Everything the checks know about Dynamic comes from here.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIV3_1 } from 'openapi-types';
import { ConfigError, ROOT } from './config.js';

export const SCHEMA_BASE = 'https://schemas.dynamic-conformance.invalid/';
export type AuthClass = 'api-token' | 'user-jwt' | 'none';
export type JsonSchema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
  /** 'deepObject' for object-valued query parameters (sent as name[key]=value). */
  style?: string | undefined;
}

/** One operation of the spec with the x-dynamic-* facts the checks need. */
export interface Operation {
  operationId: string;
  method: string;
  path: string;
  key: string;
  tag: string;
  summary: string;
  auth: AuthClass;
  surface: 'admin' | 'sdk';
  scopes: string[];
  inferredScopes: string[];
  policies: string[];
  parameters: Parameter[];
  requestBody: { contentType: string; required: boolean; schema: JsonSchema } | undefined;
  /**
   * The success answer: the lowest 2xx/3xx the official document lists (201 for creates, 302), else the clients' 2xx.
   */
  success: { status: number; contentType: string | undefined; schema: JsonSchema | undefined };
  /** Every status the spec lists for the operation (documented, clients and standard layers; SCHEMA-003). */
  documentedStatuses: number[];
  /** Per status: its layer (`documented` = the official document, `clients`, `standard`) and its JSON body schema. */
  responses: Record<string, OperationResponse>;
  /** `x-dynamic-auth-conflict`: where the sources disagree on this operation's auth class, and the live decision. */
  authConflict: { text: string; live: 'enforce' | 'report' } | undefined;
}

/** One response of an operation (spec `responses[status]`). */
export interface OperationResponse {
  layer: 'documented' | 'clients' | 'standard';
  /** The JSON body schema (registry refs), when the response has one. */
  schema: JsonSchema | undefined;
}

export interface RateWindow {
  limit: number;
  seconds: number;
}
export interface RatePolicy {
  key: ('ip' | 'environment' | 'wallet')[];
  windows: RateWindow[] | null;
  source: string;
  countsRejected?: boolean;
  carriedFrom?: string;
  note?: string;
  unenforcedReason?: string;
}

/** A docs profile: one named reading of contradictory docs (specs/profiles/*.json). */
export interface DocsProfile {
  id: string;
  title: string;
  default: boolean;
  notes?: string[];
  token: { prefix: string; alphabet: string; length: number; pattern: string; schema: string; source: string };
  tooManyRequests: {
    schema: string;
    body: Record<string, unknown>;
    source: string;
    liveAccepts?: string;
    /** How the profile reads the body: usually this shape, guaranteed or not, report-only on live or enforced. */
    reading?: {
      usually: Record<string, unknown>;
      guaranteed: boolean;
      live: 'enforce' | 'report';
      mock: string;
      source: string;
      text?: string;
    };
  };
  retryAfter: { required: boolean; format: 'delay-seconds'; source: string };
  errors: Record<string, { schema: string; source: string }>;
  rateLimits: Record<string, RatePolicy>;
}

export type RuleTag = '@auth' | '@token' | '@jwt' | '@errors' | '@schema' | '@rate' | '@secrets' | '@object' | '@live';

/** A conformance rule (specs/rules/*.json). */
export interface Rule {
  id: string;
  title: string;
  level: 'documented' | 'standard';
  source: string;
  ref?: string;
  appliesTo: { auth?: AuthClass[]; policies?: string[]; scope?: 'operation' | 'api' | 'suite' };
  targets: { mock: 'enforce' | 'skip'; live: 'enforce' | 'report' | 'skip' };
  tags: RuleTag[];
  mock: string;
}

export interface Fault {
  id: string;
  rule: string;
  description: string;
  fast?: boolean;
}

function readJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(ROOT, ...parts), 'utf8')) as T;
}

/** Rewrites component refs to the standalone schema files' $ids so one ajv instance resolves them. */
export function toRegistrySchema(schema: unknown): JsonSchema {
  return JSON.parse(
    JSON.stringify(schema ?? {}).replace(/"#\/components\/schemas\/(\w+)"/g, `"${SCHEMA_BASE}models/$1.schema.json"`),
  ) as JsonSchema;
}

function operationsOf(doc: OpenAPIV3_1.Document): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, raw] of Object.entries(item ?? {})) {
      const op = raw as OpenAPIV3_1.OperationObject & Record<string, unknown>;
      const parameters = ((op.parameters ?? []) as OpenAPIV3_1.ParameterObject[]).map((p) => ({
        name: p.name,
        in: p.in as Parameter['in'],
        required: p.required === true,
        schema: toRegistrySchema(p.schema),
        style: p.style,
      }));
      const body = op.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
      const bodyEntry = body ? Object.entries(body.content)[0] : undefined;
      const responses = op.responses ?? {};
      const codes = Object.keys(responses).sort();
      const layerOf = (code: string): string => {
        const layer = (responses[code] as Record<string, unknown>)['x-dynamic-layer'];
        return typeof layer === 'string' ? layer : 'documented';
      };
      const successKey =
        codes.find((c) => /^[23]\d\d$/.test(c) && layerOf(c) === 'documented') ??
        codes.find((c) => c.startsWith('2')) ??
        '200';
      const success = responses[successKey] as OpenAPIV3_1.ResponseObject;
      const successEntry = success.content ? Object.entries(success.content)[0] : undefined;
      ops.push({
        operationId: String(op.operationId),
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        tag: op.tags?.[0] ?? '',
        summary: op.summary ?? '',
        auth: op['x-dynamic-auth'] as AuthClass,
        surface: op['x-dynamic-surface'] as 'admin' | 'sdk',
        scopes: (op['x-dynamic-scopes'] as string[] | undefined) ?? [],
        inferredScopes: (op['x-dynamic-scopes-inferred'] as string[] | undefined) ?? [],
        policies: (op['x-dynamic-rate-limit'] as string[] | undefined) ?? [],
        parameters,
        requestBody: bodyEntry
          ? {
              contentType: bodyEntry[0],
              required: body?.required === true,
              schema: toRegistrySchema(bodyEntry[1].schema),
            }
          : undefined,
        success: {
          status: Number(successKey),
          contentType: successEntry?.[0],
          schema: successEntry ? toRegistrySchema(successEntry[1].schema) : undefined,
        },
        documentedStatuses: Object.keys(responses).map(Number),
        responses: Object.fromEntries(
          codes.map((code) => {
            const json = ((responses[code] as OpenAPIV3_1.ResponseObject).content ?? {})['application/json'];
            return [
              code,
              {
                layer: layerOf(code) as OperationResponse['layer'],
                schema: json?.schema ? toRegistrySchema(json.schema) : undefined,
              },
            ];
          }),
        ),
        authConflict:
          typeof op['x-dynamic-auth-conflict'] === 'string'
            ? {
                text: op['x-dynamic-auth-conflict'],
                live: op['x-dynamic-auth-conflict-live'] === 'report' ? 'report' : 'enforce',
              }
            : undefined,
      });
    }
  }
  return ops;
}

export interface LoadedSpec {
  document: OpenAPIV3_1.Document;
  operations: Operation[];
  byKey: Map<string, Operation>;
  byId: Map<string, Operation>;
  profile: DocsProfile;
  profiles: DocsProfile[];
  rules: Rule[];
  rulesById: Map<string, Rule>;
  faults: Fault[];
  /** sha256 of the spec file, printed in every report. */
  specHash: string;
}

let cache: LoadedSpec | undefined;
let rulesCache: Rule[] | undefined;

/** The rules of specs/rules/*.json, read once per process (without the 3 MB OpenAPI document). */
export function loadRules(): Rule[] {
  rulesCache ??= readdirSync(join(ROOT, 'specs', 'rules'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => readJson<{ rules: Rule[] }>('specs', 'rules', f).rules);
  return rulesCache;
}

/** Loads specs/ once per process; an unknown profile is a ConfigError naming DYNAMIC_DOCS_PROFILE. */
export function loadSpec(profileId: string): LoadedSpec {
  if (cache && cache.profile.id === profileId) return cache;
  const specText = readFileSync(join(ROOT, 'specs', 'dynamic-api.openapi.json'), 'utf8');
  const document = JSON.parse(specText) as OpenAPIV3_1.Document;
  const operations = operationsOf(document);
  const profiles = readdirSync(join(ROOT, 'specs', 'profiles'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readJson<DocsProfile>('specs', 'profiles', f));
  const profile = profiles.find((p) => p.id === profileId);
  if (!profile)
    throw new ConfigError(`DYNAMIC_DOCS_PROFILE '${profileId}' is not one of ${profiles.map((p) => p.id).join(', ')}`);
  const rules = loadRules();
  const faults = readJson<{ faults: Fault[] }>('specs', 'faults.json').faults;
  cache = {
    document,
    operations,
    byKey: new Map(operations.map((o) => [o.key, o])),
    byId: new Map(operations.map((o) => [o.operationId, o])),
    profile,
    profiles,
    rules,
    rulesById: new Map(rules.map((r) => [r.id, r])),
    faults,
    specHash: createHash('sha256').update(specText).digest('hex').slice(0, 16),
  };
  return cache;
}

/** Fills a path template; every parameter must be given. */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${template}`);
    return encodeURIComponent(value);
  });
}
