import type { IncomingHttpHeaders } from 'node:http';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { SchemaRegistry } from './schemas.js';
import { primaryError } from './schemas.js';
import type { JsonSchema, OperationInfo, ParamInfo } from './spec.js';

/** A validation failure: status and the one-line `{"error"}` message (ERR-001..ERR-003, ERR-012, ERR-013). */
export interface Invalid {
  readonly status: 400 | 404;
  readonly message: string;
  /** True when a path parameter with `format: uuid` failed (fault `non-uuid-id-404` turns that into 404). */
  readonly uuidPath: boolean;
}

interface ParamValidator {
  readonly info: ParamInfo;
  readonly type: string | undefined;
  readonly itemType: string | undefined;
  readonly object: boolean;
  readonly isUuid: boolean;
  readonly validate: ValidateFunction;
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function coerce(value: string, type: string | undefined): unknown {
  if ((type === 'number' || type === 'integer') && NUMBER.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/**
 * Validates path, query and header parameters against the operation's parameter schemas (compiled lazily per
 * operation with the mock's ajv). Query values are coerced by schema type; deepObject parameters are read from
 * `name[key]=value` pairs. Unknown query parameters are ignored.
 */
export class ParamValidation {
  readonly #registry: SchemaRegistry;
  readonly #document: JsonSchema;
  readonly #byOp = new Map<string, readonly ParamValidator[]>();

  constructor(registry: SchemaRegistry, document: JsonSchema) {
    this.#registry = registry;
    this.#document = document;
  }

  /** Returns the first parameter problem, or undefined. */
  check(
    op: OperationInfo,
    params: Readonly<Record<string, string>>,
    badEncoding: readonly string[],
    query: URLSearchParams | undefined,
    headers: IncomingHttpHeaders,
    skipQuery: boolean,
  ): Invalid | undefined {
    const validators = this.#validators(op);
    for (const v of validators) {
      if (v.info.in !== 'path') continue;
      const name = v.info.name;
      if (badEncoding.includes(name))
        return { status: 400, message: `path parameter ${name} is not valid percent-encoding`, uuidPath: v.isUuid };
      const value = params[name] ?? '';
      if (!v.validate(value))
        return {
          status: 400,
          message: `path parameter ${name} ${primaryError(v.validate.errors)?.message ?? 'is invalid'}`,
          uuidPath: v.isUuid,
        };
    }
    if (!skipQuery) {
      for (const v of validators) {
        if (v.info.in !== 'query') continue;
        const bad = this.#checkQuery(v, query);
        if (bad !== undefined) return { status: 400, message: bad, uuidPath: false };
      }
    }
    for (const v of validators) {
      if (v.info.in !== 'header') continue;
      const raw = headers[v.info.name.toLowerCase()];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value === undefined) {
        if (v.info.required)
          return { status: 400, message: `header parameter ${v.info.name} is required`, uuidPath: false };
        continue;
      }
      if (!v.validate(coerce(value, v.type)))
        return {
          status: 400,
          message: `header parameter ${v.info.name} ${primaryError(v.validate.errors)?.message ?? 'is invalid'}`,
          uuidPath: false,
        };
    }
    return undefined;
  }

  #checkQuery(v: ParamValidator, query: URLSearchParams | undefined): string | undefined {
    const name = v.info.name;
    let value: unknown;
    if (v.object) {
      const obj: Record<string, unknown> = {};
      let any = false;
      if (query) {
        const prefix = `${name}[`;
        for (const [k, val] of query) {
          if (k.startsWith(prefix) && k.endsWith(']')) {
            obj[k.slice(prefix.length, -1)] = val;
            any = true;
          }
        }
      }
      if (!any) value = undefined;
      else value = obj;
    } else if (v.type === 'array') {
      const all = query ? query.getAll(name) : [];
      value = all.length === 0 ? undefined : all.map((x) => coerce(x, v.itemType));
    } else {
      const first = query?.get(name);
      value = first === null || first === undefined ? undefined : coerce(first, v.type);
    }
    if (value === undefined) return v.info.required ? `query parameter ${name} is required` : undefined;
    if (v.validate(value)) return undefined;
    const e = primaryError(v.validate.errors);
    return `query parameter ${name}${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`;
  }

  #resolve(schema: JsonSchema): JsonSchema {
    let s = schema;
    for (let i = 0; i < 8; i++) {
      const ref = s['$ref'];
      if (typeof ref !== 'string' || !ref.startsWith('#/components/schemas/')) break;
      const components = this.#document['components'] as Record<string, Record<string, JsonSchema>>;
      const next = components['schemas']?.[ref.slice('#/components/schemas/'.length)];
      if (next === undefined) break;
      s = next;
    }
    return s;
  }

  #validators(op: OperationInfo): readonly ParamValidator[] {
    let list = this.#byOp.get(op.operationId);
    if (list !== undefined) return list;
    list = op.params.map((info) => {
      const resolved = this.#resolve(info.schema);
      const type = typeof resolved['type'] === 'string' ? resolved['type'] : undefined;
      const items = resolved['items'];
      const itemType =
        typeof items === 'object' && items !== null
          ? (this.#resolve(items as JsonSchema)['type'] as string | undefined)
          : undefined;
      return {
        info,
        type,
        itemType: typeof itemType === 'string' ? itemType : undefined,
        object: info.deepObject && type === 'object',
        isUuid: resolved['format'] === 'uuid',
        validate: this.#registry.compile(info.schema),
      };
    });
    this.#byOp.set(op.operationId, list);
    return list;
  }
}

/** One-line message for a body schema violation: `body<instancePath> <ajv message>` (ERR-003). */
export function bodyError(validate: ValidateFunction): string {
  const e = primaryError(validate.errors);
  return `body${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`;
}
