/**
 * Builds well-formed requests for any operation of the spec: path parameters (the configured environment, known ids,
 * deterministic UUIDs), required query parameters and a schema-valid body from openapi-sampler, so that a check can
 * change exactly one thing (the credential, an id, the body) and attribute the answer to it.
 */
import { createHash } from 'node:crypto';
import OpenAPISampler from 'openapi-sampler';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { HeaderValue, HttpRequest } from './client.js';
import { fillPath, type JsonSchema, type Operation } from '../engine/spec.js';
import type { SchemaLookup } from '../generators/negative.js';
import { conform, validString } from '../generators/valid.js';

/** A deterministic lowercase UUID (v4 layout) from a label: the same label gives the same id in every run. */
export function uuidFrom(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function firstEnum(schema: JsonSchema, doc: OpenAPIV3_1.Document): string | number | boolean | undefined {
  const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop() : undefined;
  const resolved = ref
    ? ((doc.components?.schemas ?? {})[ref.replace(/\.schema\.json$/, '')] as JsonSchema | undefined)
    : schema;
  const values = resolved?.enum as (string | number | boolean)[] | undefined;
  return values?.[0];
}

export interface RequestOptions {
  /** The Authorization header value (undefined = no header). */
  authorization?: HeaderValue | undefined;
  /** Extra or replacement headers. */
  headers?: [string, HeaderValue][] | undefined;
  /** Overrides for path parameters. */
  pathParams?: Record<string, string> | undefined;
  query?: Record<string, string | string[]> | undefined;
  /** Replaces the body (null = no body). */
  body?: unknown;
  rawBody?: string | Buffer | undefined;
  localAddress?: string | undefined;
  on429?: 'return' | 'retry' | undefined;
  /** A request of the budgeted live rate-limit probe (not held back by the pacer; its 429s are planned). */
  rateProbe?: boolean | undefined;
}

export class RequestFactory {
  /** Per operation: its sample body as JSON text (each request gets its own copy, parsed from it). */
  private readonly bodies = new Map<string, string | undefined>();
  private readonly queries = new Map<string, Readonly<Record<string, string>>>();
  /** Per operation: its default path parameters and the path they fill (both depend on the operation alone). */
  private readonly defaultPaths = new Map<string, { params: Readonly<Record<string, string>>; path: string }>();

  constructor(
    private readonly doc: OpenAPIV3_1.Document,
    private readonly environmentId: string,
    /** Known ids of existing resources, by parameter name (e.g. userId); fixed once the factory exists. */
    private readonly knownIds: Readonly<Record<string, string>> = {},
  ) {}

  /** Resolves the spec's `#/components/schemas/X` refs (for conforming samples to their constraints). */
  private readonly lookup: SchemaLookup = (ref) => {
    const name = ref
      .replace(/^#\/components\/schemas\//, '')
      .replace(/^.*\/models\//, '')
      .replace(/\.schema\.json$/, '');
    return (this.doc.components?.schemas ?? {})[name] as JsonSchema | undefined;
  };

  /**
   * Path parameter values: the environment under test, known ids, else a deterministic UUID or the first enum value.
   */
  pathParams(op: Operation, overrides: Record<string, string> = {}): Record<string, string> {
    const defaults = this.defaultPath(op).params;
    const values: Record<string, string> = { ...defaults };
    for (const [name, value] of Object.entries(overrides))
      if (name in defaults && value !== undefined) values[name] = value;
    return values;
  }

  /** The operation's default path parameters and filled path, computed once. */
  private defaultPath(op: Operation): { params: Readonly<Record<string, string>>; path: string } {
    let cached = this.defaultPaths.get(op.key);
    if (!cached) {
      const params = Object.freeze(this.samplePathParams(op));
      cached = { params, path: fillPath(op.path, params) };
      this.defaultPaths.set(op.key, cached);
    }
    return cached;
  }

  private samplePathParams(op: Operation): Record<string, string> {
    const values: Record<string, string> = {};
    for (const p of op.parameters.filter((x) => x.in === 'path')) {
      if (p.name === 'environmentId') values[p.name] = this.environmentId;
      else if (this.knownIds[p.name]) values[p.name] = this.knownIds[p.name]!;
      else if (p.schema.format === 'uuid') values[p.name] = uuidFrom(`${op.operationId}:${p.name}`);
      else {
        const e = firstEnum(p.schema, this.doc);
        values[p.name] = e === undefined ? `sample-${p.name}` : String(e);
      }
    }
    return values;
  }

  /**
   * A schema-valid sample body (openapi-sampler, required fields only; strings and numbers then conformed to the
   * patterns, formats and lengths the sampler ignores), cached per operation. A copy as JSON has it: what is sent.
   */
  body(op: Operation): unknown {
    if (!op.requestBody) return undefined;
    if (!this.bodies.has(op.key)) {
      const item = (this.doc.paths?.[op.path] as Record<string, OpenAPIV3_1.OperationObject> | undefined)?.[
        op.method.toLowerCase()
      ];
      const media = Object.values((item?.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content ?? {})[0];
      const sample: unknown = media?.schema
        ? OpenAPISampler.sample(
            media.schema as never,
            { skipReadOnly: true, skipNonRequired: true, quiet: true },
            this.doc,
          )
        : {};
      const body = media?.schema
        ? conform(media.schema as JsonSchema, sample, this.lookup, `${op.operationId}:body`)
        : sample;
      this.bodies.set(op.key, JSON.stringify(body));
    }
    const text = this.bodies.get(op.key);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * Required query parameters with sample values; deepObject parameters as name[key]=value from a schema sample.
   * Cached per operation: the values depend on the operation alone, and a pattern-matching string costs fast-check
   * milliseconds to build.
   */
  query(op: Operation): Record<string, string> {
    let cached = this.queries.get(op.key);
    if (!cached) {
      cached = Object.freeze(this.sampleQuery(op));
      this.queries.set(op.key, cached);
    }
    return { ...cached };
  }

  private sampleQuery(op: Operation): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of op.parameters.filter((x) => x.in === 'query' && x.required)) {
      if (p.style === 'deepObject') {
        const raw = (
          (this.doc.paths?.[op.path] as Record<string, OpenAPIV3_1.OperationObject> | undefined)?.[
            op.method.toLowerCase()
          ]?.parameters as OpenAPIV3_1.ParameterObject[] | undefined
        )?.find((x) => x.name === p.name)?.schema;
        const sample = raw
          ? (OpenAPISampler.sample(raw as never, { skipNonRequired: false, quiet: true }, this.doc) as Record<
              string,
              unknown
            >)
          : {};
        for (const [key, value] of Object.entries(sample ?? {}))
          if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
            out[`${p.name}[${key}]`] = `${value}`;
        continue;
      }
      const e = firstEnum(p.schema, this.doc);
      const constrained =
        p.schema.type === 'string' &&
        (p.schema.pattern !== undefined || p.schema.format !== undefined || p.schema.minLength !== undefined)
          ? validString(p.schema, `${op.operationId}:${p.name}`)
          : undefined;
      out[p.name] =
        e !== undefined
          ? String(e)
          : p.schema.type === 'number' || p.schema.type === 'integer'
            ? '1'
            : p.schema.type === 'boolean'
              ? 'true'
              : p.schema.format === 'date-time'
                ? '2026-01-01T00:00:00Z'
                : (constrained ?? 'sample');
    }
    return out;
  }

  /** A well-formed request for the operation, with exactly the given changes. */
  build(op: Operation, options: RequestOptions = {}): HttpRequest {
    const headers: [string, HeaderValue][] = [['accept', 'application/json']];
    if (options.authorization !== undefined) headers.push(['authorization', options.authorization]);
    for (const p of op.parameters.filter((x) => x.in === 'header' && x.required)) headers.push([p.name, 'sample']);
    headers.push(...(options.headers ?? []));
    const wantsBody = op.requestBody !== undefined && options.body !== null;
    const body =
      options.body !== undefined && options.body !== null ? options.body : wantsBody ? this.body(op) : undefined;
    const isForm = op.requestBody?.contentType === 'application/x-www-form-urlencoded';
    return {
      method: op.method,
      path: options.pathParams ? fillPath(op.path, this.pathParams(op, options.pathParams)) : this.defaultPath(op).path,
      query: { ...this.query(op), ...(options.query ?? {}) },
      headers:
        isForm && body !== undefined && options.rawBody === undefined
          ? [...headers, ['content-type', 'application/x-www-form-urlencoded']]
          : headers,
      body: isForm ? undefined : body,
      rawBody:
        options.rawBody ??
        (isForm && body !== undefined ? new URLSearchParams(body as Record<string, string>).toString() : undefined),
      localAddress: options.localAddress,
      on429: options.on429,
      rateProbe: options.rateProbe,
    };
  }
}
