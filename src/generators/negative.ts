/**
 * Negative cases generated from the schemas (ERR-001..ERR-003): request bodies that violate exactly one constraint
 * of the operation's request schema (wrong JSON type, missing required property, value outside an enum, bad format,
 * length or range), query values of the wrong type for typed parameters, and path ids that are not lowercase UUIDs.
 * Everything here is pure and deterministic; src/arbitraries/ draws from it with fast-check, and the checks confirm
 * every case is invalid with the engine's ajv before sending it (a case the schema accepts is dropped, never sent).
 */
import type { JsonSchema } from '../engine/spec.js';

/** Looks up a schema by its `$ref` as written in the referring schema (absolute $id or a sibling file name). */
export type SchemaLookup = (ref: string) => JsonSchema | undefined;

export type NegativeKind =
  | 'root-type'
  | 'wrong-type'
  | 'missing-required'
  | 'not-in-enum'
  | 'bad-format'
  | 'pattern'
  | 'too-short'
  | 'too-long'
  | 'below-minimum'
  | 'above-maximum'
  | 'too-few-items'
  | 'additional-property';

/** One schema violation: where, what, and the whole body carrying it. */
export interface NegativeCase {
  kind: NegativeKind;
  /** JSON pointer of the violating location ('' = the body itself). */
  pointer: string;
  description: string;
  body: unknown;
  /** For `wrong-type`/`root-type`: the JSON types the schema allows there (alternatives come from wrongTypeValues). */
  types?: JsonType[];
}

/** The lowercase UUID pattern of every `format: uuid` path parameter in the spec. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** A lookup over schemas keyed by `$id`; relative refs (`User.schema.json`) resolve against `base`. */
export function lookupFrom(
  byId: (id: string) => JsonSchema | undefined,
  base = 'https://schemas.dynamic-conformance.invalid/models/',
): SchemaLookup {
  return (ref) => byId(/^[a-z]+:/.test(ref) ? ref : `${base}${ref.replace(/^\.\//, '')}`);
}

/**
 * Follows `$ref`s and flattens `allOf` (properties, required and type merged: a value violating one branch
 * violates the whole). `anyOf`/`oneOf` stay as they are (no single violation is certain there).
 */
export function resolveSchema(schema: JsonSchema | undefined, lookup: SchemaLookup, depth = 0): JsonSchema {
  if (!schema || depth > 16) return {};
  let s = schema;
  if (typeof s.$ref === 'string') {
    const target = lookup(s.$ref);
    const rest = { ...s };
    delete rest.$ref;
    s = { ...resolveSchema(target, lookup, depth + 1), ...rest };
  }
  if (Array.isArray(s.allOf)) {
    const parts = (s.allOf as JsonSchema[]).map((p) => resolveSchema(p, lookup, depth + 1));
    const rest = { ...s };
    delete rest.allOf;
    const merged: JsonSchema = { ...rest };
    const properties: Record<string, JsonSchema> = {
      ...((rest.properties as Record<string, JsonSchema> | undefined) ?? {}),
    };
    const required = new Set<string>((rest.required as string[] | undefined) ?? []);
    for (const p of parts) {
      Object.assign(properties, (p.properties as Record<string, JsonSchema> | undefined) ?? {});
      for (const r of (p.required as string[] | undefined) ?? []) required.add(r);
      if (merged.type === undefined && p.type !== undefined) merged.type = p.type;
      if (merged.enum === undefined && p.enum !== undefined) merged.enum = p.enum;
      if (merged.additionalProperties === undefined && p.additionalProperties !== undefined)
        merged.additionalProperties = p.additionalProperties;
    }
    if (Object.keys(properties).length) merged.properties = properties;
    if (required.size) merged.required = [...required];
    s = merged;
  }
  return s;
}

/** The JSON types a schema allows, or undefined when it does not say (no `type`, no `enum`). */
export function allowedTypes(schema: JsonSchema): JsonType[] | undefined {
  const t = schema.type;
  if (typeof t === 'string') return [t as JsonType];
  if (Array.isArray(t)) return t as JsonType[];
  if (Array.isArray(schema.enum)) return [...new Set((schema.enum as unknown[]).map(jsonType))];
  if (schema.const !== undefined) return [jsonType(schema.const)];
  return undefined;
}

/** The JSON type of a value (integers are 'integer'). */
export function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  return 'object';
}

function typeAllowed(v: unknown, types: JsonType[]): boolean {
  const t = jsonType(v);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/**
 * Candidate values of every JSON type (one of each, none coercible to another by a lenient parser in an obvious way).
 */
const WRONG_VALUES: unknown[] = [
  12345,
  'not-a-valid-value',
  true,
  { unexpected: 'object' },
  [{ unexpected: 'array' }, 2],
  null,
  1.5,
];

/** Values whose JSON type the schema does not allow (empty when it allows every type or says nothing). */
export function wrongTypeValues(types: JsonType[] | undefined): unknown[] {
  if (!types) return [];
  return WRONG_VALUES.filter((v) => !typeAllowed(v, types));
}

const FORMAT_VIOLATIONS: Record<string, string> = {
  uuid: 'not-a-uuid',
  'date-time': 'not-a-date-time',
  date: 'not-a-date',
  email: 'not-an-email',
  uri: 'not a uri',
  url: 'not a url',
  ipv4: '999.1.1.1.1',
  hostname: '-not_a-host-',
};

function firstNotMatching(pattern: string, candidates: string[]): string | undefined {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
  return candidates.find((c) => !re.test(c));
}

function setAt(root: unknown, path: (string | number)[], value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = value;
  return copy;
}

const pointerOf = (path: (string | number)[]): string =>
  path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Every single-constraint violation of `schema` reachable from a valid `sample` (its required properties, nested
 * objects down to `maxDepth`, first array items). Each case mutates one location of a copy of the sample.
 */
export function negativeBodies(
  schema: JsonSchema,
  sample: unknown,
  lookup: SchemaLookup,
  options: { maxDepth?: number } = {},
): NegativeCase[] {
  const maxDepth = options.maxDepth ?? 3;
  const cases: NegativeCase[] = [];
  const add = (
    kind: NegativeKind,
    path: (string | number)[],
    description: string,
    body: unknown,
    types?: JsonType[],
  ): void => {
    cases.push({
      kind,
      pointer: pointerOf(path),
      description: `${pointerOf(path) || '(body)'}: ${description}`,
      body,
      ...(types ? { types } : {}),
    });
  };

  const visit = (raw: JsonSchema, value: unknown, path: (string | number)[], depth: number): void => {
    const s = resolveSchema(raw, lookup);
    const types = allowedTypes(s);
    const wrong = wrongTypeValues(types);
    if (wrong.length && value !== undefined) {
      const w = wrong[0];
      add(
        path.length ? 'wrong-type' : 'root-type',
        path,
        `${typeName(w)} where the schema allows ${types!.join('|')}`,
        setAt(sample, path, w),
        types,
      );
    }
    if (Array.isArray(s.enum) && typeof value !== 'object') {
      const values = s.enum as unknown[];
      const candidate = ['not-in-enum-value', 987654321, '__unknown__'].find(
        (c) => !values.includes(c) && (!types || typeAllowed(c, types)),
      );
      if (candidate !== undefined)
        add(
          'not-in-enum',
          path,
          `${JSON.stringify(candidate)} is not one of the ${values.length} enum values`,
          setAt(sample, path, candidate),
        );
    }
    if (typeof value === 'string') {
      const format = typeof s.format === 'string' ? s.format : undefined;
      const bad = format ? FORMAT_VIOLATIONS[format] : undefined;
      if (bad !== undefined && !(Array.isArray(s.enum) && (s.enum as unknown[]).includes(bad)))
        add('bad-format', path, `${JSON.stringify(bad)} is not a valid ${format}`, setAt(sample, path, bad));
      if (typeof s.pattern === 'string') {
        const bad2 = firstNotMatching(s.pattern, ['!', ' ', '', 'not matching the pattern', '\u0000']);
        if (bad2 !== undefined)
          add('pattern', path, `${JSON.stringify(bad2)} does not match ${s.pattern}`, setAt(sample, path, bad2));
      }
      if (typeof s.minLength === 'number' && s.minLength > 0)
        add(
          'too-short',
          path,
          `a string of ${s.minLength - 1} characters (minLength ${s.minLength})`,
          setAt(sample, path, 'x'.repeat(s.minLength - 1)),
        );
      if (typeof s.maxLength === 'number' && s.maxLength < 10_000)
        add(
          'too-long',
          path,
          `a string of ${s.maxLength + 1} characters (maxLength ${s.maxLength})`,
          setAt(sample, path, 'x'.repeat(s.maxLength + 1)),
        );
    }
    if (typeof value === 'number') {
      if (typeof s.minimum === 'number')
        add('below-minimum', path, `${s.minimum - 1} (minimum ${s.minimum})`, setAt(sample, path, s.minimum - 1));
      if (typeof s.exclusiveMinimum === 'number')
        add(
          'below-minimum',
          path,
          `${s.exclusiveMinimum} (exclusiveMinimum ${s.exclusiveMinimum})`,
          setAt(sample, path, s.exclusiveMinimum),
        );
      if (typeof s.maximum === 'number')
        add('above-maximum', path, `${s.maximum + 1} (maximum ${s.maximum})`, setAt(sample, path, s.maximum + 1));
      if (typeof s.exclusiveMaximum === 'number')
        add(
          'above-maximum',
          path,
          `${s.exclusiveMaximum} (exclusiveMaximum ${s.exclusiveMaximum})`,
          setAt(sample, path, s.exclusiveMaximum),
        );
    }
    if (Array.isArray(value)) {
      if (typeof s.minItems === 'number' && s.minItems > 0)
        add(
          'too-few-items',
          path,
          `${s.minItems - 1} items (minItems ${s.minItems})`,
          setAt(sample, path, value.slice(0, s.minItems - 1)),
        );
      if (depth < maxDepth && value.length > 0 && s.items && typeof s.items === 'object')
        visit(s.items as JsonSchema, value[0], [...path, 0], depth + 1);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const obj = value as Record<string, unknown>;
      const props = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
      for (const r of (s.required as string[] | undefined) ?? []) {
        if (!(r in obj)) continue;
        const ps = props[r] ? resolveSchema(props[r], lookup) : {};
        if (ps.default !== undefined) continue;
        add(
          'missing-required',
          [...path, r],
          `required property '${r}' is missing`,
          setAt(sample, [...path, r], undefined, true),
        );
      }
      if (s.additionalProperties === false)
        add(
          'additional-property',
          [...path, 'unexpectedProperty'],
          'a property the schema does not allow (additionalProperties: false)',
          setAt(sample, [...path, 'unexpectedProperty'], 1),
        );
      if (depth < maxDepth)
        for (const [k, v] of Object.entries(obj)) if (props[k]) visit(props[k], v, [...path, k], depth + 1);
    }
  };
  visit(schema, sample, [], 0);
  return cases;
}

/** The same case with another wrong-typed value at its location (for `wrong-type`/`root-type` cases). */
export function withValue(c: NegativeCase, sampleBody: unknown, value: unknown): NegativeCase {
  const path =
    c.pointer === ''
      ? []
      : c.pointer
          .slice(1)
          .split('/')
          .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parsed = path.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return {
    ...c,
    description: `${c.pointer || '(body)'}: ${typeName(value)} where the schema allows ${(c.types ?? []).join('|')}`,
    body: setAt(sampleBody, parsed, value),
  };
}

/**
 * What kind of value a query parameter takes, for generating wrong ones (undefined: any string is valid): typed,
 * enumerated, or a string with a pattern/format/length the official document keeps (ERR-002).
 */
export type QueryKind =
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: string[]; array: boolean }
  /** A string the official document constrains (uuid, a pattern, a format, a length): ERR-002 sends violations. */
  | { kind: 'string'; pattern?: string; format?: string; minLength?: number; maxLength?: number };

export function queryKind(schema: JsonSchema, lookup: SchemaLookup): QueryKind | undefined {
  const s = resolveSchema(schema, lookup);
  if (s.type === 'number' || s.type === 'integer') return { kind: 'number', integer: s.type === 'integer' };
  if (s.type === 'boolean') return { kind: 'boolean' };
  if (Array.isArray(s.enum)) return { kind: 'enum', values: (s.enum as unknown[]).map(String), array: false };
  if (s.type === 'array' && s.items && typeof s.items === 'object') {
    const items = resolveSchema(s.items as JsonSchema, lookup);
    if (Array.isArray(items.enum)) return { kind: 'enum', values: (items.enum as unknown[]).map(String), array: true };
  }
  if (s.type === 'string') {
    const kind: QueryKind = {
      kind: 'string',
      ...(typeof s.pattern === 'string' ? { pattern: s.pattern } : {}),
      ...(typeof s.format === 'string' && STRICT_QUERY_FORMATS[s.format] ? { format: s.format } : {}),
      ...(typeof s.minLength === 'number' && s.minLength > 1 ? { minLength: s.minLength } : {}),
      ...(typeof s.maxLength === 'number' && s.maxLength < 10_000 ? { maxLength: s.maxLength } : {}),
    };
    return Object.keys(kind).length > 1 ? kind : undefined;
  }
  return undefined;
}

/** Formats whose violations are unambiguous in a query string (a value failing the test is invalid for any parser). */
const STRICT_QUERY_FORMATS: Record<string, (v: string) => boolean> = {
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v.trim()),
  email: (v) => /^[^@\s]+@[^@\s]+$/.test(v.trim()),
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}T/.test(v.trim()) && !Number.isNaN(Date.parse(v.trim())),
};

const LENIENT_BOOLEANS = new Set(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n', '']);

/**
 * True when a query string value is invalid for the kind — also under lenient parsing (a number that only a
 * permissive parser rejects, a boolean spelled 'yes', an enum value in another case do not count as invalid).
 */
export function isInvalidQueryValue(kind: QueryKind, value: string): boolean {
  if (value.trim() === '') return false;
  if (kind.kind === 'number') return Number.isNaN(Number(value)) && Number.isNaN(Number.parseFloat(value));
  if (kind.kind === 'boolean') return !LENIENT_BOOLEANS.has(value.trim().toLowerCase());
  if (kind.kind === 'string') {
    // Invalid also after trimming (a lenient server may trim): the trimmed value breaks a constraint.
    const v = value.trim();
    if (v === '') return false;
    if (kind.format && !STRICT_QUERY_FORMATS[kind.format]!(v)) return true;
    if (
      kind.pattern !== undefined &&
      !new RegExp(kind.pattern, 'u').test(v) &&
      !new RegExp(kind.pattern, 'u').test(value)
    )
      return true;
    const length = [...v].length;
    return (
      (kind.minLength !== undefined && length < kind.minLength) ||
      (kind.maxLength !== undefined && [...value].length > kind.maxLength && length > kind.maxLength)
    );
  }
  return !kind.values.some((v) => v.toLowerCase() === value.trim().toLowerCase());
}

/** Deterministic wrong values for a typed query parameter (each satisfies isInvalidQueryValue). */
export function invalidQueryValues(kind: QueryKind): string[] {
  if (kind.kind === 'string') {
    const candidates = [
      ...(kind.format ? [FORMAT_VIOLATIONS[kind.format] ?? 'not-a-valid-value'] : []),
      'not matching the pattern!',
      '!',
      'F47AC10B-58CC-4372-A567-0E02B2C3D479',
      ...(kind.maxLength !== undefined ? ['x'.repeat(kind.maxLength + 1)] : []),
      ...(kind.minLength !== undefined ? ['x'.repeat(kind.minLength - 1)] : []),
    ];
    return [...new Set(candidates)].filter((v) => isInvalidQueryValue(kind, v));
  }
  const base =
    kind.kind === 'number'
      ? ['not-a-number', 'abc', 'one', '[]']
      : kind.kind === 'boolean'
        ? ['maybe', 'notabool', 'truthy', '2x']
        : ['not-in-enum-value', '__unknown__', 'zzz'];
  return base.filter((v) => isInvalidQueryValue(kind, v));
}

/**
 * Deterministic path ids that are not lowercase UUIDs (the generator in src/arbitraries/invalidPathId.ts adds random
 * ones).
 */
export const INVALID_UUIDS = [
  'F47AC10B-58CC-4372-A567-0E02B2C3D479',
  'f47ac10b-58cc-4372-a567-0e02b2c3d47',
  'f47ac10b58cc4372a5670e02b2c3d479',
  '{f47ac10b-58cc-4372-a567-0e02b2c3d479}',
  'f47ac10b-58cc-4372-a567-0e02b2c3d479x',
  'g47ac10b-58cc-4372-a567-0e02b2c3d479',
  'not-a-uuid',
  '12345',
  '..%2F..%2Fetc%2Fpasswd',
  ' f47ac10b-58cc-4372-a567-0e02b2c3d479',
];
