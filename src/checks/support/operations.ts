/**
 * What an operation takes as input: UUID path parameters (and which may be replaced), typed query parameters,
 * core resource ids, the literal path segments of the spec, the negative bodies of its request schema (ERR,
 * SCHEMA), and the request changes that make its input invalid (AUTH-019).
 */
import type { JsonSchema, LoadedSpec, Operation, Parameter } from '../../engine/spec.js';
import type { RequestOptions } from '../../http/requests.js';
import type { CheckContext } from '../../engine/types.js';
import {
  invalidQueryValues,
  lookupFrom,
  negativeBodies,
  queryKind,
  type NegativeCase,
  type QueryKind,
  type SchemaLookup,
} from '../../generators/negative.js';
import { isJsonOp } from './send.js';

/** Resolves `$ref`s of the spec's schemas through the engine's registry. */
export function schemaLookup(ctx: CheckContext): SchemaLookup {
  return lookupFrom((id) => {
    try {
      return ctx.schemas.byId(id).schema as JsonSchema;
    } catch {
      return undefined;
    }
  });
}

/** Path parameters with `format: uuid`. */
export function uuidParams(op: Operation): Parameter[] {
  return op.parameters.filter((p) => p.in === 'path' && p.schema.format === 'uuid');
}

/**
 * UUID path parameters a check can replace with valid credentials still applying: {environmentId} decides which
 * credential is valid on authenticated operations (api-token: the token's environment; user-jwt: the verifying key),
 * so it is only replaceable on operations without auth.
 */
export function replaceableIdParams(op: Operation): Parameter[] {
  return uuidParams(op).filter((p) => op.auth === 'none' || p.name !== 'environmentId');
}

/** Every literal path segment of the spec (an invalid id equal to one would route to another operation). */
export function literalSegments(spec: LoadedSpec): Set<string> {
  return new Set(spec.operations.flatMap((o) => o.path.split('/').filter((s) => s && !s.startsWith('{'))));
}

/**
 * The core resources the API keeps state for (ARCHITECTURE.md step 5; sdk-api TokensApi, UsersApi, WebhooksApi,
 * AllowlistsApi, OriginsApi).
 */
const CORE_ITEM = new RegExp(
  String.raw`^(?:\/environments\/\{environmentId\}\/(?:tokens|users|webhooks)|` +
    String.raw`\/(?:allowlists|allowlistEntries|origins))\/\{(\w+)\}`,
);

/** The id parameter of a core resource addressed by the operation (the item or one of its sub-resources), if any. */
export function coreResourceId(op: Operation): string | undefined {
  return CORE_ITEM.exec(op.path)?.[1];
}

/**
 * Typed query parameters (number, boolean, enum, constrained string) with their kind and at least one invalid value.
 */
export function typedQueryParams(op: Operation, lookup: SchemaLookup): { param: Parameter; kind: QueryKind }[] {
  return op.parameters
    .filter((p) => p.in === 'query')
    .flatMap((param) => {
      const kind = queryKind(param.schema, lookup);
      return kind && invalidQueryValues(kind).length > 0 ? [{ param, kind }] : [];
    });
}

/**
 * The sample body and its negative cases (each confirmed invalid by the engine's ajv), or the reason there are none.
 */
export function negativeCasesFor(
  ctx: CheckContext,
  op: Operation,
  lookup: SchemaLookup,
): { sample: unknown; cases: NegativeCase[] } | string {
  if (!op.requestBody) return 'no request body';
  if (!isJsonOp(op)) return `request body is ${op.requestBody.contentType}, not JSON`;
  const schema = op.requestBody.schema;
  const sample = ctx.requests.body(op);
  const v = ctx.schemas.validate(schema, sample);
  if (!v.valid)
    return `the suite's sample body does not validate (${v.errors.join('; ')}), so a 400 could not be attributed`;
  const cases = negativeBodies(schema, sample, lookup).filter((c) => !ctx.schemas.validate(schema, c.body).valid);
  if (cases.length === 0) return 'the request schema has no constraint a single change can violate';
  return { sample, cases };
}

/**
 * ERR-014: per credential kind (api-token, user-jwt), the first GET that needs no replaceable id and no required
 * query parameter — an operation where only the Authorization header is judged.
 */
export function plainGetPerCredential(operations: readonly Operation[]): Operation[] {
  return (['api-token', 'user-jwt'] as const)
    .map((kind) =>
      operations.find(
        (o) =>
          o.auth === kind &&
          o.method === 'GET' &&
          replaceableIdParams(o).length === 0 &&
          !o.parameters.some((p) => p.in === 'query' && p.required),
      ),
    )
    .filter((o): o is Operation => o !== undefined);
}

const NOT_A_UUID = 'not-a-uuid';

/** A value that violates a parameter's schema (enum, number, boolean), or undefined when any string is valid. */
function invalidValue(schema: Record<string, unknown>): string | undefined {
  if (Array.isArray(schema.enum) || (typeof schema.$ref === 'string' && /Enum\.schema\.json$/.test(schema.$ref)))
    return 'not-a-documented-value';
  if (schema.type === 'number' || schema.type === 'integer') return 'not-a-number';
  if (schema.type === 'boolean') return 'not-a-boolean';
  return undefined;
}

/**
 * AUTH-019: request changes that make the input of `op` invalid — non-UUID ids, path or query values outside their
 * enum/type, a malformed JSON body — or undefined if the operation takes no input that can be invalid.
 */
export function invalidInput(op: Operation): { label: string; options: RequestOptions } | undefined {
  const ids = op.parameters.filter((p) => p.in === 'path' && p.schema.format === 'uuid');
  const typedPath = op.parameters.filter(
    (p) => p.in === 'path' && p.schema.format !== 'uuid' && invalidValue(p.schema) !== undefined,
  );
  const typedQuery = op.parameters.filter((p) => p.in === 'query' && invalidValue(p.schema) !== undefined);
  const json = op.requestBody !== undefined && op.requestBody.contentType.includes('json');
  const parts: string[] = [];
  const options: RequestOptions = {};
  if (ids.length || typedPath.length) {
    options.pathParams = Object.fromEntries([
      ...ids.map((p): [string, string] => [p.name, NOT_A_UUID]),
      ...typedPath.map((p): [string, string] => [p.name, invalidValue(p.schema) ?? '']),
    ]);
    if (ids.length) parts.push(`non-UUID ${ids.map((p) => p.name).join(', ')}`);
    if (typedPath.length) parts.push(`invalid ${typedPath.map((p) => p.name).join(', ')}`);
  }
  if (typedQuery.length) {
    options.query = Object.fromEntries(typedQuery.map((p): [string, string] => [p.name, invalidValue(p.schema) ?? '']));
    parts.push(`invalid query ${typedQuery.map((p) => p.name).join(', ')}`);
  }
  if (json) {
    options.rawBody = '{"malformed": ';
    options.headers = [['content-type', 'application/json']];
    parts.push('malformed JSON body');
  }
  return parts.length ? { label: parts.join(' + '), options } : undefined;
}
