/**
 * Reads Dynamic's two published openapi-generator (typescript-fetch) clients and recovers the
 * operations and models of the OpenAPI document they were generated from ("Dashboard API" 1.0.0).
 * Models come from the `.d.ts` files (TypeScript AST), wire names and operation details from the `.js` files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { cached, keyOf } from './cache.js';
import type { JsonSchema } from './types.js';

const require = createRequire(import.meta.url);
/** The TypeScript compiler API, loaded on the first parse (a cached package never loads its 9 MB). */
let ts: typeof TS;

export interface ClientParam {
  name: string; // wire name
  tsName: string;
  required: boolean;
  schema: JsonSchema;
}

export interface ClientOperation {
  operationId: string;
  apiClass: string;
  method: string;
  path: string;
  summary: string;
  description: string;
  declaresBearer: boolean;
  pathParams: ClientParam[];
  queryParams: ClientParam[];
  headerParams: ClientParam[];
  requestBody:
    | { model: string; contentType: string; required: boolean }
    | { form: ClientParam[]; contentType: string; required: boolean }
    | null;
  response: { kind: 'json'; model: string | null } | { kind: 'void' } | { kind: 'text' };
  source: string; // package@version
}

export interface ClientPackage {
  name: string;
  version: string;
  operations: ClientOperation[];
  models: Map<string, JsonSchema>;
}

const PRIMITIVES: Record<string, JsonSchema> = {
  string: { type: 'string' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  Date: { type: 'string', format: 'date-time' },
  object: { type: 'object' },
  any: {},
};

/** Converts a TypeScript type node of a generated client into JSON Schema (refs point at #/components/schemas). */
function typeToSchema(node: TS.TypeNode, src: TS.SourceFile, inlineEnums: Map<string, JsonSchema>): JsonSchema {
  if (ts.isUnionTypeNode(node)) {
    const parts = node.types.filter((t) => !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword));
    const nullable = parts.length !== node.types.length;
    const inner: JsonSchema =
      parts.length === 1
        ? typeToSchema(parts[0]!, src, inlineEnums)
        : { anyOf: parts.map((p) => typeToSchema(p, src, inlineEnums)) };
    if (!nullable) return inner;
    if (typeof inner.type === 'string' && Object.keys(inner).every((k) => k === 'type' || k === 'format'))
      return { ...inner, type: [inner.type, 'null'] };
    return { anyOf: [inner, { type: 'null' }] };
  }
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: typeToSchema(node.elementType, src, inlineEnums) };
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index?.type) return { type: 'object', additionalProperties: typeToSchema(index.type, src, inlineEnums) };
    return { type: 'object' };
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText(src);
    if (name === 'Array' && node.typeArguments?.[0])
      return { type: 'array', items: typeToSchema(node.typeArguments[0], src, inlineEnums) };
    if (name === 'Set' && node.typeArguments?.[0])
      return { type: 'array', uniqueItems: true, items: typeToSchema(node.typeArguments[0], src, inlineEnums) };
    if (name === 'Date') return { ...PRIMITIVES.Date };
    if (name === 'Blob') return { type: 'string', contentEncoding: 'base64' };
    const inline = inlineEnums.get(name);
    if (inline) return structuredClone(inline);
    return { $ref: `#/components/schemas/${name}` };
  }
  if (ts.isLiteralTypeNode(node)) {
    if (ts.isStringLiteral(node.literal)) return { const: node.literal.text };
    if (node.literal.kind === ts.SyntaxKind.NullKeyword) return { type: 'null' };
  }
  if (ts.isParenthesizedTypeNode(node)) return typeToSchema(node.type, src, inlineEnums);
  const text = node.getText(src);
  const primitive = PRIMITIVES[text];
  if (primitive) return { ...primitive };
  throw new Error(`unsupported type '${text}' in ${src.fileName}`);
}

function jsDocText(node: TS.Node): string {
  const docs = (node as { jsDoc?: TS.JSDoc[] }).jsDoc;
  const comment = docs?.[0]?.comment;
  return (typeof comment === 'string' ? comment : '').trim();
}

/** Maps property names to wire (JSON) keys using the generated FromJSONTyped function. */
function wireKeys(jsFile: string): Map<string, string> {
  const keys = new Map<string, string>();
  if (!existsSync(jsFile)) return keys;
  const text = readFileSync(jsFile, 'utf8');
  const body = text.split(/FromJSONTyped\(json, ignoreDiscriminator\) \{/)[1]?.split(/\nfunction /)[0] ?? '';
  for (const m of body.matchAll(/^\s*'([^']+)': (.*)$/gm)) {
    const wire = [...m[2]!.matchAll(/json\['([^']+)'\]/g)].pop()?.[1];
    if (wire) keys.set(m[1]!, wire);
  }
  return keys;
}

function enumSchema(values: (string | number)[], description: string): JsonSchema {
  const allStrings = values.every((v) => typeof v === 'string');
  return { type: allStrings ? 'string' : 'number', enum: values, ...(description ? { description } : {}) };
}

function enumValues(members: TS.NodeArray<TS.EnumMember>): (string | number)[] {
  return members.map((m) => {
    const init = m.initializer;
    if (init && ts.isStringLiteral(init)) return init.text;
    if (init && ts.isNumericLiteral(init)) return Number(init.text);
    if (init && ts.isPrefixUnaryExpression(init) && ts.isNumericLiteral(init.operand))
      return -Number(init.operand.text);
    throw new Error(`enum member without literal value: ${m.name.getText()}`);
  });
}

function parseModels(modelsDir: string): Map<string, JsonSchema> {
  const models = new Map<string, JsonSchema>();
  for (const file of readdirSync(modelsDir)
    .filter((f) => f.endsWith('.d.ts') && f !== 'index.d.ts')
    .sort()) {
    const src = ts.createSourceFile(file, readFileSync(join(modelsDir, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    const keys = wireKeys(join(modelsDir, file.replace(/\.d\.ts$/, '.js')));
    for (const stmt of src.statements) {
      if (ts.isInterfaceDeclaration(stmt)) {
        const properties: Record<string, JsonSchema> = {};
        const required: string[] = [];
        for (const member of stmt.members) {
          if (!ts.isPropertySignature(member) || !member.type) continue;
          const tsName = member.name.getText(src).replace(/^['"]|['"]$/g, '');
          const wire = keys.get(tsName) ?? tsName;
          const schema = typeToSchema(member.type, src, new Map());
          const description = jsDocText(member);
          properties[wire] =
            description && !schema.$ref
              ? { ...schema, description }
              : description
                ? { allOf: [schema], description }
                : schema;
          if (!member.questionToken) required.push(wire);
        }
        const description = jsDocText(stmt);
        models.set(stmt.name.text, {
          type: 'object',
          ...(description ? { description } : {}),
          properties,
          ...(required.length ? { required } : {}),
        });
      } else if (ts.isEnumDeclaration(stmt)) {
        models.set(stmt.name.text, enumSchema(enumValues(stmt.members), jsDocText(stmt)));
      } else if (ts.isTypeAliasDeclaration(stmt)) {
        const t = stmt.type;
        const parts = ts.isUnionTypeNode(t) ? [...t.types] : [t];
        models.set(
          stmt.name.text,
          parts.length === 1
            ? typeToSchema(parts[0]!, src, new Map())
            : { oneOf: parts.map((p) => typeToSchema(p, src, new Map())) },
        );
      }
    }
  }
  return models;
}

/** Enums declared inside api files (e.g. GetAnalyticsOverviewGranularityEnum) and the request interfaces. */
function parseApiDts(file: string): {
  inlineEnums: Map<string, JsonSchema>;
  requests: Map<string, Map<string, { type: TS.TypeNode; optional: boolean }>>;
  src: TS.SourceFile;
} {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const inlineEnums = new Map<string, JsonSchema>();
  const requests = new Map<string, Map<string, { type: TS.TypeNode; optional: boolean }>>();
  for (const stmt of src.statements) {
    if (ts.isEnumDeclaration(stmt)) inlineEnums.set(stmt.name.text, enumSchema(enumValues(stmt.members), ''));
    if (ts.isInterfaceDeclaration(stmt) && stmt.name.text.endsWith('Request')) {
      const fields = new Map<string, { type: TS.TypeNode; optional: boolean }>();
      for (const m of stmt.members)
        if (ts.isPropertySignature(m) && m.type)
          fields.set(m.name.getText(src), { type: m.type, optional: !!m.questionToken });
      requests.set(stmt.name.text, fields);
    }
  }
  return { inlineEnums, requests, src };
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function parseApis(apisDir: string, source: string): ClientOperation[] {
  const operations: ClientOperation[] = [];
  for (const file of readdirSync(apisDir)
    .filter((f) => f.endsWith('.js') && f !== 'index.js')
    .sort()) {
    const apiClass = file.replace(/\.js$/, '');
    const dts = parseApiDts(join(apisDir, `${apiClass}.d.ts`));
    const text = readFileSync(join(apisDir, file), 'utf8');
    const chunks = text.split(/\n(?=    \/\*\*\n)/);
    for (const chunk of chunks) {
      const head = /^\s{4}(?:async )?(\w+)Raw\((requestParameters, )?initOverrides\) \{/m.exec(chunk);
      if (!head) continue;
      const operationId = head[1]!;
      const doc = (/\/\*\*\n([\s\S]*?)\*\//.exec(chunk)?.[1] ?? '')
        .split('\n')
        .map((l) => l.replace(/^\s*\* ?/, '').trim())
        .filter(Boolean);
      const summary = doc.at(-1) ?? '';
      const description = doc.slice(0, -1).join(' ');
      const pathTemplate = /path: `([^`]+)`/.exec(chunk)?.[1];
      const method = /method: '(\w+)'/.exec(chunk)?.[1];
      if (!pathTemplate || !method) throw new Error(`cannot read path/method of ${apiClass}.${operationId}`);
      const requestFields: Map<string, { type: TS.TypeNode; optional: boolean }> =
        dts.requests.get(`${upperFirst(operationId)}Request`) ??
        new Map<string, { type: TS.TypeNode; optional: boolean }>();
      const required = new Set([...chunk.matchAll(/RequiredError\('(\w+)'/g)].map((m) => m[1]!));
      const paramSchema = (tsName: string): JsonSchema => {
        const field = requestFields.get(tsName);
        return field ? typeToSchema(field.type, dts.src, dts.inlineEnums) : { type: 'string' };
      };
      const pathParams = [...pathTemplate.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1]!,
        tsName: m[1]!,
        required: true,
        schema: paramSchema(m[1]!),
      }));
      const queryParams = [...chunk.matchAll(/queryParameters\['([^']+)'\] = (?:[^;]*?)requestParameters\.(\w+)/g)]
        .filter((m, i, all) => all.findIndex((o) => o[1] === m[1]) === i)
        .map((m) => ({ name: m[1]!, tsName: m[2]!, required: required.has(m[2]!), schema: paramSchema(m[2]!) }));
      const headerParams = [
        ...chunk.matchAll(/headerParameters\['([^']+)'\] = String\(requestParameters\.(\w+)\)/g),
      ].map((m) => ({ name: m[1]!, tsName: m[2]!, required: required.has(m[2]!), schema: paramSchema(m[2]!) }));
      let requestBody: ClientOperation['requestBody'] = null;
      const jsonBody = /body: (\w+)ToJSON\(requestParameters\.(\w+)\)/.exec(chunk);
      if (jsonBody)
        requestBody = { model: jsonBody[1]!, contentType: 'application/json', required: required.has(jsonBody[2]!) };
      else if (/body: formParams/.test(chunk)) {
        const form = [...chunk.matchAll(/formParams\.append\('([^']+)', (?:[^;]*?)requestParameters\.(\w+)/g)].map(
          (m) => ({ name: m[1]!, tsName: m[2]!, required: required.has(m[2]!), schema: paramSchema(m[2]!) }),
        );
        const contentType = /contentType: '([^']+)'/.exec(chunk)?.[1] ?? 'application/x-www-form-urlencoded';
        requestBody = { form, contentType, required: form.some((f) => f.required) };
      } else if (/body: requestParameters\.(\w+)\.map\((\w+)ToJSON\)/.test(chunk)) {
        const m = /body: requestParameters\.(\w+)\.map\((\w+)ToJSON\)/.exec(chunk)!;
        requestBody = { model: `Array<${m[2]!}>`, contentType: 'application/json', required: required.has(m[1]!) };
      } else if (/body: requestParameters\.(\w+)/.test(chunk)) {
        const name = /body: requestParameters\.(\w+)/.exec(chunk)![1]!;
        const field = requestFields.get(name);
        throw new Error(`unsupported raw body ${name} (${field ? 'typed' : 'untyped'}) in ${apiClass}.${operationId}`);
      }
      let response: ClientOperation['response'];
      const model = /JSONApiResponse\(response, \(jsonValue\) => (?:jsonValue\.map\()?(\w+)FromJSON/.exec(chunk)?.[1];
      if (model) response = { kind: 'json', model };
      else if (/new JSONApiResponse\(response\)/.test(chunk)) response = { kind: 'json', model: null };
      else if (/new TextApiResponse\(response\)/.test(chunk)) response = { kind: 'text' };
      else response = { kind: 'void' };
      if (model && /jsonValue\.map\(/.test(chunk)) response = { kind: 'json', model: `Array<${model}>` };
      operations.push({
        operationId,
        apiClass,
        method,
        path: pathTemplate,
        summary,
        description,
        declaresBearer: /token\("bearerAuth"/.test(chunk),
        pathParams,
        queryParams,
        headerParams,
        requestBody,
        response,
        source,
      });
    }
  }
  return operations;
}

/**
 * Loads one published client package from node_modules. What was read is kept in the derivation's cache (cache.ts),
 * keyed by the package's files, this reader's code and the TypeScript version: a derivation or a test that reads the
 * same package again skips the TypeScript parse (~2.5 s).
 */
export function loadClientPackage(packageDir: string): ClientPackage {
  const parts: (string | Buffer)[] = [
    readFileSync(fileURLToPath(import.meta.url)),
    readFileSync(require.resolve('typescript/package.json')),
    readFileSync(join(packageDir, 'package.json')),
  ];
  for (const dir of [join('src', 'apis'), join('src', 'models')])
    for (const file of readdirSync(join(packageDir, dir)).sort())
      parts.push(`${dir}/${file}`, readFileSync(join(packageDir, dir, file)));
  return cached('client', keyOf(parts), () => readClientPackage(packageDir));
}

function readClientPackage(packageDir: string): ClientPackage {
  ts ??= require('typescript') as typeof TS;
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; version: string };
  const source = `${pkg.name}@${pkg.version}`;
  return {
    name: pkg.name,
    version: pkg.version,
    operations: parseApis(join(packageDir, 'src', 'apis'), source),
    models: parseModels(join(packageDir, 'src', 'models')),
  };
}
