/**
 * npm run specs:derive  — regenerate specs/dynamic-api.openapi.json and schemas/models/ from the pinned clients.
 * npm run specs:derive -- --from public-api.yaml — the same from Dynamic's official OpenAPI document.
 * npm run specs:check   — fail, naming the differences, when the committed files differ from a fresh derivation.
 */
import { readFileSync, writeFileSync, readdirSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadClientPackage } from './clients.js';
import { assemble, deriveFromClients, operationsFromOpenApi, type DerivedSpec, type Overlay } from './build.js';
import type { JsonSchema } from './types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let SPEC_FILE = join(ROOT, 'specs', 'dynamic-api.openapi.json');
let MODELS_DIR = join(ROOT, 'schemas', 'models');
export const SCHEMA_BASE = 'https://schemas.dynamic-conformance.invalid/';

function fail(message: string): never {
  process.stderr.write(`specs: ${message}\n`);
  process.exit(2);
}

/** A component schema as a standalone JSON Schema 2020-12 file with an $id; refs become relative file refs. */
export function modelFile(name: string, schema: JsonSchema): string {
  const rewritten = JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\/(\w+)"/g, '"$1.schema.json"')) as JsonSchema;
  const file = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `${SCHEMA_BASE}models/${name}.schema.json`, title: name, ...rewritten };
  return `${JSON.stringify(file, null, 2)}\n`;
}

function derive(from: string | undefined): DerivedSpec {
  const overlay = JSON.parse(readFileSync(join(ROOT, 'specs', 'overlay', 'doc-facts.json'), 'utf8')) as Overlay;
  if (from) {
    if (!existsSync(from)) fail(`--from: no such file: ${from}`);
    let doc: Record<string, unknown>;
    try {
      doc = parseYaml(readFileSync(from, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      fail(`--from: ${from} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
    }
    if (!doc || typeof doc !== 'object' || typeof doc.openapi !== 'string' || !doc.paths) fail(`--from: ${from} is not an OpenAPI document (no 'openapi' and 'paths')`);
    const { ops, models } = operationsFromOpenApi(doc, `${from} (openapi ${String(doc.openapi)})`);
    return assemble(ops.filter((o) => o.method !== 'OPTIONS'), models, overlay, [`${from}`]);
  }
  const modules = join(ROOT, 'node_modules', '@dynamic-labs');
  return deriveFromClients(loadClientPackage(join(modules, 'sdk-api')), loadClientPackage(join(modules, 'sdk-api-core')), overlay);
}

function rendered(spec: DerivedSpec): Map<string, string> {
  const files = new Map<string, string>();
  files.set(SPEC_FILE, `${JSON.stringify(spec.document, null, 2)}\n`);
  for (const [name, schema] of spec.models) files.set(join(MODELS_DIR, `${name}.schema.json`), modelFile(name, schema));
  return files;
}

function main(): void {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const valueOf = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (!v || v.startsWith('--')) fail(`${flag} needs a value (e.g. npm run specs:derive -- --from public-api.yaml)`);
    return v;
  };
  const from = valueOf('--from');
  const out = valueOf('--out');
  const known = new Set(['--check', '--from', '--out', from, out]);
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length) fail(`unknown argument(s): ${unknown.join(' ')} (use --check, --from <file>, --out <dir>)`);
  if (out) {
    SPEC_FILE = join(out, 'specs', 'dynamic-api.openapi.json');
    MODELS_DIR = join(out, 'schemas', 'models');
    mkdirSync(join(out, 'specs'), { recursive: true });
  }
  const spec = derive(from);
  const files = rendered(spec);
  const existing = existsSync(MODELS_DIR) ? readdirSync(MODELS_DIR).map((f) => join(MODELS_DIR, f)) : [];
  const s = spec.summary;
  const line = `${s.operations} operations (${s.admin} admin, ${s.sdk} /sdk; api-token ${s.auth['api-token']}, user-jwt ${s.auth['user-jwt']}, none ${s.auth.none}; ${s.corrected} admin auth corrections), ${s.models} models, from ${s.sources.join(' + ')}`;
  if (check) {
    const problems: string[] = [];
    for (const [file, text] of files) {
      if (!existsSync(file)) problems.push(`missing: ${relative(ROOT, file)}`);
      else if (readFileSync(file, 'utf8') !== text) problems.push(`differs: ${relative(ROOT, file)}${file === SPEC_FILE ? describeSpecDrift(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>, spec.document) : ''}`);
    }
    for (const file of existing) if (!files.has(file)) problems.push(`stale: ${relative(ROOT, file)} (no such model any more)`);
    if (problems.length) {
      process.stderr.write(`specs:check: the committed spec differs from a fresh derivation (${problems.length} file(s)); run npm run specs:derive and review:\n  ${problems.slice(0, 40).join('\n  ')}${problems.length > 40 ? `\n  … ${problems.length - 40} more` : ''}\n`);
      process.exit(1);
    }
    process.stdout.write(`specs:check: up to date — ${line}\n`);
    return;
  }
  mkdirSync(MODELS_DIR, { recursive: true });
  for (const file of existing) if (!files.has(file)) rmSync(file);
  for (const [file, text] of files) writeFileSync(file, text);
  process.stdout.write(`specs:derive: wrote ${relative(ROOT, SPEC_FILE)} and ${spec.models.size} schemas — ${line}\n`);
}

function describeSpecDrift(committed: Record<string, unknown>, fresh: Record<string, unknown>): string {
  const ops = (doc: Record<string, unknown>): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) for (const [method, op] of Object.entries(item)) out.set(`${method.toUpperCase()} ${path}`, JSON.stringify(op));
    return out;
  };
  const a = ops(committed);
  const b = ops(fresh);
  const added = [...b.keys()].filter((k) => !a.has(k));
  const removed = [...a.keys()].filter((k) => !b.has(k));
  const changed = [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k));
  const show = (label: string, list: string[]): string => (list.length ? `\n    ${label} ${list.length}: ${list.slice(0, 8).join(', ')}${list.length > 8 ? ', …' : ''}` : '');
  return show('operations added', added) + show('operations removed', removed) + show('operations changed', changed);
}

try {
  main();
} catch (error) {
  fail((error as Error).message);
}
