/**
 * Drift: what real responses carry that the spec does not document — response properties outside the operation's
 * schema, status codes outside its responses, header names outside the operation and HTTP itself. Recorded per
 * operation as property paths, status codes and header names only, never values; new vs known against the previous
 * run and the ledger. Drift is information: it fails a run only when the user opts in (CONFORMANCE_FAIL_ON_DRIFT).
 */
import type { DriftItem, DriftOperation, DriftReport } from './types.js';

export type JsonSchema = Record<string, unknown>;

/** Resolves a `$ref` against the id of the schema it appears in (the engine's registry knows every schema file). */
export type ResolveRef = (
  ref: string,
  base: string | undefined,
) => { schema: JsonSchema; id: string | undefined } | undefined;

interface Node {
  schema: JsonSchema;
  base: string | undefined;
}

const MAX_DEPTH = 16;
const MAX_PATHS = 50;
const MAX_ARRAY_ITEMS = 20;
const MAX_EXPANSIONS = 64;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The node plus everything it stands for through $ref, allOf, anyOf and oneOf (a bounded walk; cycles stop). */
function expand(node: Node, resolve: ResolveRef, budget = { n: MAX_EXPANSIONS }): Node[] {
  if (budget.n-- <= 0) return [];
  const base = typeof node.schema.$id === 'string' ? node.schema.$id : node.base;
  const out: Node[] = [{ schema: node.schema, base }];
  if (typeof node.schema.$ref === 'string') {
    const target = resolve(node.schema.$ref, base);
    if (target) out.push(...expand({ schema: target.schema, base: target.id ?? base }, resolve, budget));
  }
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = node.schema[key];
    if (Array.isArray(list))
      for (const s of list) if (isObject(s)) out.push(...expand({ schema: s, base }, resolve, budget));
  }
  return out;
}

const openObject = (s: JsonSchema): boolean =>
  (s.additionalProperties !== undefined && s.additionalProperties !== false) ||
  isObject(s.patternProperties) ||
  (s.unevaluatedProperties !== undefined && s.unevaluatedProperties !== false);

const segment = (key: string): string => (/^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

/**
 * The property paths of `body` the schema does not document (`$.user.newField`, `$.items[].extra`). An object whose
 * schema declares no properties, or allows additional ones, is a free-form map: its keys are not drift.
 */
export function undocumentedProperties(schema: JsonSchema | undefined, body: unknown, resolve: ResolveRef): string[] {
  if (!schema) return [];
  const found = new Set<string>();
  const walk = (value: unknown, nodes: Node[], path: string, depth: number): void => {
    if (depth > MAX_DEPTH || found.size >= MAX_PATHS || !nodes.length) return;
    const all = nodes.flatMap((n) => expand(n, resolve));
    if (Array.isArray(value)) {
      const items = all.flatMap((n) => (isObject(n.schema.items) ? [{ schema: n.schema.items, base: n.base }] : []));
      for (const v of value.slice(0, MAX_ARRAY_ITEMS)) walk(v, items, `${path}[]`, depth + 1);
      return;
    }
    if (!isObject(value)) return;
    const declared = all.filter((n) => isObject(n.schema.properties));
    if (!declared.length) return;
    const open = all.some((n) => openObject(n.schema));
    for (const [key, v] of Object.entries(value)) {
      const subs = declared.flatMap((n) => {
        const p = (n.schema.properties as Record<string, unknown>)[key];
        return isObject(p) ? [{ schema: p, base: n.base }] : [];
      });
      if (!subs.length) {
        if (!open) found.add(`${path}${segment(key)}`);
        continue;
      }
      walk(v, subs, `${path}${segment(key)}`, depth + 1);
    }
  };
  walk(body, [{ schema, base: typeof schema.$id === 'string' ? schema.$id : undefined }], '$', 0);
  return [...found].sort();
}

/**
 * HTTP's own response headers (RFC 9110/9111/9112, CORS, cookies, common security headers) and the ones Dynamic's
 * docs name (Retry-After). They are never drift: a real server may add them freely.
 */
export const HTTP_HEADERS: ReadonlySet<string> = new Set([
  'accept-ranges',
  'age',
  'allow',
  'alt-svc',
  'cache-control',
  'connection',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-range',
  'content-security-policy',
  'content-security-policy-report-only',
  'content-type',
  'cross-origin-embedder-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'date',
  'etag',
  'expires',
  'keep-alive',
  'last-modified',
  'link',
  'location',
  'nel',
  'permissions-policy',
  'pragma',
  'proxy-authenticate',
  'referrer-policy',
  'report-to',
  'retry-after',
  'server',
  'server-timing',
  'set-cookie',
  'strict-transport-security',
  'timing-allow-origin',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'vary',
  'via',
  'warning',
  'www-authenticate',
  'x-content-type-options',
  'x-frame-options',
  'x-xss-protection',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
]);

/** Header names neither HTTP nor the operation documents (lower case, sorted). */
export function undocumentedHeaders(names: Iterable<string>, documented: Iterable<string> = []): string[] {
  const doc = new Set([...documented].map((h) => h.toLowerCase()));
  const out = new Set<string>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (HTTP_HEADERS.has(name) || name.startsWith('access-control-') || doc.has(name)) continue;
    out.add(name);
  }
  return [...out].sort();
}

/** True when the operation documents the status (exactly, as a `2XX` range, or through `default`). */
export function documentsStatus(status: number, documented: Iterable<string | number>): boolean {
  for (const d of documented) {
    const s = String(d).toUpperCase();
    if (s === 'DEFAULT' || s === String(status) || s === `${Math.floor(status / 100)}XX`) return true;
  }
  return false;
}

/** What one worker saw for one operation (serializable: it travels in a test attachment). */
export interface DriftObservation {
  operation: string;
  properties?: { status: number; path: string }[];
  headers?: string[];
  statuses?: number[];
}

/** Collects drift observations cheaply while responses are validated; `toJSON()` is what gets attached. */
export class DriftCollector {
  private readonly ops = new Map<string, { properties: Set<string>; headers: Set<string>; statuses: Set<number> }>();

  private entry(op: string): { properties: Set<string>; headers: Set<string>; statuses: Set<number> } {
    let e = this.ops.get(op);
    if (!e) this.ops.set(op, (e = { properties: new Set(), headers: new Set(), statuses: new Set() }));
    return e;
  }

  /** Records what one response of `operation` showed that the spec does not document. */
  observe(
    operation: string,
    seen: { status?: number; headers?: readonly string[]; properties?: readonly string[]; statusDocumented?: boolean },
  ): void {
    if (!seen.headers?.length && !seen.properties?.length && seen.statusDocumented !== false) return;
    const e = this.entry(operation);
    for (const h of seen.headers ?? []) e.headers.add(h);
    for (const p of seen.properties ?? []) e.properties.add(`${seen.status ?? 0} ${p}`);
    if (seen.statusDocumented === false && seen.status !== undefined) e.statuses.add(seen.status);
  }

  get size(): number {
    return this.ops.size;
  }

  toJSON(): DriftObservation[] {
    return [...this.ops].map(([operation, e]) => ({
      operation,
      properties: [...e.properties].map((p) => ({
        status: Number(p.slice(0, p.indexOf(' '))),
        path: p.slice(p.indexOf(' ') + 1),
      })),
      headers: [...e.headers],
      statuses: [...e.statuses],
    }));
  }
}

/** One validated response, as much of it as drift needs (names and paths; values are only walked, never kept). */
export interface ValidatedResponse {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
  /** The success schema the body was validated against (undefined: none documented). */
  schema: JsonSchema | undefined;
  documentedStatuses: readonly (number | string)[];
}

/**
 * Records a validated response's drift: called where a check has just validated a response (SCHEMA-001 bodies,
 * SCHEMA-003 statuses), so the body is walked once and only for responses the suite already holds.
 */
export function observeResponse(
  collector: DriftCollector,
  operation: string,
  res: ValidatedResponse,
  resolve: ResolveRef,
): void {
  const is2xx = res.status >= 200 && res.status < 300;
  collector.observe(operation, {
    status: res.status,
    headers: undocumentedHeaders(Object.keys(res.headers)),
    properties: is2xx ? undocumentedProperties(res.schema, res.body, resolve) : [],
    statusDocumented: res.status === 0 || documentsStatus(res.status, res.documentedStatuses),
  });
}

/** The key a drift item is remembered by (ledger, previous report): `<operation> <kind> <name>`. */
export const driftKey = (operation: string, kind: 'property' | 'header' | 'status', name: string): string =>
  `${operation} ${kind} ${name}`;

/** Every key of a drift report. */
export function driftKeys(report: DriftReport | undefined): Set<string> {
  const keys = new Set<string>();
  for (const op of report?.operations ?? []) {
    for (const p of op.properties) keys.add(driftKey(op.key, 'property', p.name));
    for (const h of op.headers) keys.add(driftKey(op.key, 'header', h.name));
    for (const s of op.statuses) keys.add(driftKey(op.key, 'status', s.name));
  }
  return keys;
}

/**
 * Merges every worker's observations into the report's `drift`: per operation, sorted; an item is `known` when the
 * previous run or the ledger has seen it, else `new`. `failsRun` is the user's opt-in and at least one new item.
 */
export function buildDrift(
  observations: readonly DriftObservation[],
  known: ReadonlySet<string>,
  failOnDrift: boolean,
): DriftReport {
  const merged = new Map<string, { properties: Set<string>; headers: Set<string>; statuses: Set<number> }>();
  for (const o of observations) {
    let e = merged.get(o.operation);
    if (!e) merged.set(o.operation, (e = { properties: new Set(), headers: new Set(), statuses: new Set() }));
    for (const p of o.properties ?? []) e.properties.add(`${p.status} ${p.path}`);
    for (const h of o.headers ?? []) e.headers.add(h.toLowerCase());
    for (const s of o.statuses ?? []) e.statuses.add(s);
  }
  const item = (op: string, kind: 'property' | 'header' | 'status', name: string): DriftItem => ({
    name,
    change: known.has(driftKey(op, kind, name)) ? 'known' : 'new',
  });
  const operations: DriftOperation[] = [...merged.keys()]
    .sort()
    .map((key) => {
      const e = merged.get(key)!;
      return {
        key,
        properties: [...e.properties].sort().map((p) => item(key, 'property', p)),
        headers: [...e.headers].sort().map((h) => item(key, 'header', h)),
        statuses: [...e.statuses].sort((a, b) => a - b).map((s) => item(key, 'status', String(s))),
      };
    })
    .filter((op) => op.properties.length + op.headers.length + op.statuses.length > 0);
  const items = operations.flatMap((op) => [...op.properties, ...op.headers, ...op.statuses]);
  const fresh = items.filter((i) => i.change === 'new').length;
  return {
    failsRun: failOnDrift && fresh > 0,
    counts: { operations: operations.length, items: items.length, new: fresh, known: items.length - fresh },
    operations,
  };
}

/** The ledger's drift memory after this run: first and last date each item was seen. */
export function rememberDrift(
  memory: Record<string, { firstSeen: string; lastSeen: string }> | undefined,
  drift: DriftReport,
  today: string,
): Record<string, { firstSeen: string; lastSeen: string }> {
  const out = { ...(memory ?? {}) };
  for (const key of driftKeys(drift)) out[key] = { firstSeen: out[key]?.firstSeen ?? today, lastSeen: today };
  return out;
}
