/**
 * How far the derived spec agrees with Dynamic's official OpenAPI document (issue 12, "Done when"): operations
 * present, auth classes, success and error statuses, the payload 403 body, constraints kept. Pure functions over
 * the normalised official document (official.ts) and the spec document; printed by scripts/official-report.ts and
 * asserted by tests/unit/official-reconcile.test.ts.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { OfficialDocument } from './official.js';
import type { JsonSchema } from './types.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

type SpecOperation = Record<string, unknown> & {
  responses: Record<string, Record<string, unknown>>;
  parameters?: Record<string, unknown>[];
};

/** The keywords counted as constraints (issue 12: uuid, patterns, lengths, formats, integers, bounds). */
export const CONSTRAINT_KEYWORDS = [
  'pattern',
  'minLength',
  'maxLength',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
] as const;

export interface ReconcileNumbers {
  officialOperations: number;
  present: number;
  missing: string[];
  /** Operations the document secures (declares a scheme) that the spec classes `none`. */
  securedClassedNone: string[];
  /** Operations whose class contradicts the document's declared security and carry no x-dynamic-auth-conflict. */
  unrecordedConflicts: string[];
  /** Operations carrying x-dynamic-auth-conflict, and their live mode. */
  conflicts: { total: number; enforce: number; report: number };
  shared: number;
  successAgree: number;
  successDisagree: { key: string; official: number[]; spec: number[] }[];
  errorCoverage: { complete: number; total: number; incomplete: { key: string; missing: number[] }[] };
  payload403: { total: number; accepting: number; rejecting: string[] };
  constraints: { official: number; kept: number; lost: string[] };
}

function specOperations(spec: Record<string, unknown>): Map<string, SpecOperation> {
  const out = new Map<string, SpecOperation>();
  for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, SpecOperation>>))
    for (const [method, op] of Object.entries(item)) out.set(`${method.toUpperCase()} ${path}`, op);
  return out;
}

/** Every constraint of a schema as `pointer keyword=value`, without following $refs (each model is counted once). */
export function constraintsOf(schema: unknown, pointer = ''): string[] {
  const out: string[] = [];
  if (Array.isArray(schema)) schema.forEach((s, i) => out.push(...constraintsOf(s, `${pointer}/${i}`)));
  else if (schema && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    for (const k of CONSTRAINT_KEYWORDS) if (s[k] !== undefined) out.push(`${pointer} ${k}=${JSON.stringify(s[k])}`);
    if (s.type === 'integer' || (Array.isArray(s.type) && s.type.includes('integer')))
      out.push(`${pointer} type=integer`);
    for (const [k, v] of Object.entries(s)) {
      if (
        k === 'enum' ||
        k === 'const' ||
        k === 'examples' ||
        k === 'default' ||
        k === 'required' ||
        k === 'description'
      )
        continue;
      if (typeof v === 'object' && v !== null) out.push(...constraintsOf(v, `${pointer}/${k}`));
    }
  }
  return out;
}

function refsOf(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => refsOf(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
        into.add(v.slice('#/components/schemas/'.length));
      else refsOf(v, into);
    }
  }
}

/** Official models the document's operations reach (transitively). */
function reachable(doc: OfficialDocument): Set<string> {
  const seen = new Set<string>();
  const queue = new Set<string>();
  for (const op of doc.operations) refsOf([op.parameters, op.requestBody, op.responses], queue);
  const todo = [...queue];
  while (todo.length) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const next = new Set<string>();
    refsOf(doc.schemas.get(name), next);
    todo.push(...next);
  }
  return seen;
}

/** The body the document gives a ForbiddenWithErrorAndPayload 403 (components/schemas ForbiddenWithErrorAndPayload). */
export const PAYLOAD_403_BODY = {
  error: { code: 'wallet_not_allowed', message: 'Forbidden' },
  payload: { walletPublicKey: '0xbF394748301603f18d953C90F0b087CBEC0E1834', email: 'user@example.com' },
};

/**
 * The Done-when numbers. `validates(schema, value)` validates a spec schema (component refs as in the spec);
 * `paramSchema` resolves a parameter's official schema the way the spec inlines it (primitive refs).
 */
export function reconcile(
  doc: OfficialDocument,
  spec: Record<string, unknown>,
  validates: (schema: JsonSchema, value: unknown) => boolean,
): ReconcileNumbers {
  const ops = specOperations(spec);
  const missing = doc.operations.filter((o) => !ops.has(o.key)).map((o) => o.key);
  const securedClassedNone = doc.operations
    .filter((o) => o.security.length > 0 && ops.get(o.key)?.['x-dynamic-auth'] === 'none')
    .map((o) => o.key);
  const unrecordedConflicts: string[] = [];
  for (const o of doc.operations) {
    const s = ops.get(o.key);
    if (!s) continue;
    const auth = s['x-dynamic-auth'];
    const contradicts =
      (o.security.length === 0 && auth !== 'none') ||
      (o.security.length > 0 && (auth === 'none' || o.security.some((x) => !doc.securitySchemes.includes(x))));
    const lists401 = o.responses.some((r) => r.status === '401');
    if ((contradicts || (auth === 'none' && lists401)) && typeof s['x-dynamic-auth-conflict'] !== 'string')
      unrecordedConflicts.push(o.key);
  }
  const withConflict = [...ops.values()].filter((s) => typeof s['x-dynamic-auth-conflict'] === 'string');
  const clientsShared = doc.operations.filter((o) => {
    const s = ops.get(o.key);
    return s !== undefined && s['x-dynamic-source'] === 'official+clients';
  });
  const successDisagree: ReconcileNumbers['successDisagree'] = [];
  const incomplete: ReconcileNumbers['errorCoverage']['incomplete'] = [];
  for (const o of clientsShared) {
    const s = ops.get(o.key)!;
    const official = o.responses
      .map((r) => Number(r.status))
      .filter((n) => n >= 200 && n < 400)
      .sort();
    const ours = Object.keys(s.responses)
      .map(Number)
      .filter((n) => n >= 200 && n < 400)
      .sort();
    if (official.join() !== ours.join()) successDisagree.push({ key: o.key, official, spec: ours });
    const errors = o.responses.map((r) => Number(r.status)).filter((n) => n >= 400);
    const absent = errors.filter((n) => s.responses[String(n)] === undefined);
    if (absent.length) incomplete.push({ key: o.key, missing: absent });
  }
  const payloadOps = doc.operations.filter((o) =>
    o.responses.some((r) => r.status === '403' && r.component === 'ForbiddenWithErrorAndPayload'),
  );
  const rejecting = payloadOps
    .filter((o) => {
      const schema = (
        ops.get(o.key)?.responses['403']?.content as Record<string, { schema: JsonSchema }> | undefined
      )?.['application/json']?.schema;
      return !schema || !validates(schema, PAYLOAD_403_BODY);
    })
    .map((o) => o.key);
  // Constraints: every official model the operations reach, compared at the same place in the spec's model of
  // that name; every parameter schema compared with the spec's parameter.
  const models = (spec.components as { schemas: Record<string, unknown> }).schemas;
  const officialConstraints: string[] = [];
  const lost: string[] = [];
  for (const name of [...reachable(doc)].sort()) {
    const theirs = constraintsOf(doc.schemas.get(name));
    const ours = new Set(constraintsOf(models[name]));
    for (const c of theirs) {
      officialConstraints.push(`${name}${c}`);
      if (!ours.has(c)) lost.push(`${name}${c}`);
    }
  }
  for (const o of doc.operations) {
    const s = ops.get(o.key);
    for (const p of o.parameters) {
      const ref = typeof p.schema.$ref === 'string' ? p.schema.$ref.split('/').pop()! : undefined;
      const resolved = ref && doc.schemas.get(ref)?.enum === undefined ? (doc.schemas.get(ref) ?? p.schema) : p.schema;
      const theirs = constraintsOf(resolved).filter((c) => c.startsWith(' '));
      const ourParam = s?.parameters?.find((x) => x.name === p.name && x.in === p.in);
      const ours = new Set(constraintsOf(ourParam?.schema));
      for (const c of theirs) {
        officialConstraints.push(`${o.key} ${p.in}:${p.name}${c}`);
        if (!ours.has(c)) lost.push(`${o.key} ${p.in}:${p.name}${c}`);
      }
    }
  }
  return {
    officialOperations: doc.operations.length,
    present: doc.operations.length - missing.length,
    missing,
    securedClassedNone,
    unrecordedConflicts,
    conflicts: {
      total: withConflict.length,
      enforce: withConflict.filter((s) => s['x-dynamic-auth-conflict-live'] === 'enforce').length,
      report: withConflict.filter((s) => s['x-dynamic-auth-conflict-live'] === 'report').length,
    },
    shared: clientsShared.length,
    successAgree: clientsShared.length - successDisagree.length,
    successDisagree,
    errorCoverage: { complete: clientsShared.length - incomplete.length, total: clientsShared.length, incomplete },
    payload403: { total: payloadOps.length, accepting: payloadOps.length - rejecting.length, rejecting },
    constraints: { official: officialConstraints.length, kept: officialConstraints.length - lost.length, lost },
  };
}

/**
 * A validator of bodies against the official document's own response schemas (its components as written, refs
 * between them resolved; non-strict, because the document is checked as published, not as the spec repairs it).
 */
export function officialBodyValidator(
  doc: OfficialDocument,
): (key: string, status: string, body: unknown) => { schema: boolean; valid: boolean; errors: string[] } {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const base = 'https://official.dynamic-conformance.invalid/schemas/';
  const rebase = (s: unknown): unknown =>
    JSON.parse(JSON.stringify(s).replace(/"#\/components\/schemas\/([\w.-]+)"/g, `"${base}$1"`)) as unknown;
  for (const [name, schema] of doc.schemas) ajv.addSchema({ ...(rebase(schema) as object), $id: `${base}${name}` });
  const byKey = new Map(doc.operations.map((o) => [o.key, o]));
  const cache = new Map<string, ReturnType<typeof ajv.compile>>();
  return (key, status, body) => {
    const schema = byKey.get(key)?.responses.find((r) => r.status === status)?.content['application/json'];
    if (!schema || Object.keys(schema).length === 0) return { schema: false, valid: true, errors: [] };
    const id = `${key} ${status}`;
    let validate = cache.get(id);
    if (!validate) cache.set(id, (validate = ajv.compile(rebase(schema) as object)));
    const valid = validate(body) === true;
    return {
      schema: true,
      valid,
      errors: (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`),
    };
  };
}
