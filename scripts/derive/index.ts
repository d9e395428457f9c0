/**
 * npm run specs:derive  — regenerate specs/dynamic-api.openapi.json and schemas/models/ from the two pinned sources:
 *   the official document (specs/sources/official/public-api.yaml) and the clients (@dynamic-labs/sdk-api,
 *   sdk-api-core), merged with specs/overlay/doc-facts.json (build.ts).
 * npm run specs:derive -- --from public-api.yaml — the same with another official document (e.g. a fresh download).
 * npm run specs:check   — fail, naming the differences, when a pinned source drifted from specs/sources/sources.json
 *   or the committed files differ from a fresh derivation.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, dirname, relative, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClientPackage } from './clients.js';
import { assemble, clientOperations, type DerivedSpec, type OfficialInput, type Overlay } from './build.js';
import { loadOfficial } from './official.js';
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
  const rewritten = JSON.parse(
    JSON.stringify(schema).replace(/"#\/components\/schemas\/(\w+)"/g, '"$1.schema.json"'),
  ) as JsonSchema;
  const file = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE}models/${name}.schema.json`,
    title: name,
    ...rewritten,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** specs/sources/sources.json: the pins of both sources. */
interface SourcePins {
  official: { file: string; sha256: string; operations: number };
  clients: { name: string; version: string }[];
}

const SOURCES_DIR = join(ROOT, 'specs', 'sources');

function readPins(): SourcePins {
  return JSON.parse(readFileSync(join(SOURCES_DIR, 'sources.json'), 'utf8')) as SourcePins;
}

/** Differences between the pinned sources and what is on disk (the committed document, the installed clients). */
function sourceDrift(pins: SourcePins = readPins()): string[] {
  const problems: string[] = [];
  const file = join(SOURCES_DIR, pins.official.file);
  if (!existsSync(file)) problems.push(`official document missing: ${relative(ROOT, file)}`);
  else {
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (sha !== pins.official.sha256)
      problems.push(
        `official document ${relative(ROOT, file)} has sha256 ${sha}, ` +
          `pinned ${pins.official.sha256} in specs/sources/sources.json`,
      );
  }
  for (const c of pins.clients) {
    const pkg = join(ROOT, 'node_modules', ...c.name.split('/'), 'package.json');
    const version = existsSync(pkg)
      ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version
      : 'not installed';
    if (version !== c.version)
      problems.push(`client ${c.name} is ${version}, pinned ${c.version} in specs/sources/sources.json (run npm ci)`);
  }
  return problems;
}

function derive(from: string | undefined): DerivedSpec {
  const overlay = JSON.parse(readFileSync(join(ROOT, 'specs', 'overlay', 'doc-facts.json'), 'utf8')) as Overlay;
  const pins = readPins();
  const file = from ?? join(SOURCES_DIR, pins.official.file);
  if (!existsSync(file)) fail(`${from ? '--from: ' : ''}no such file: ${file}`);
  let official: OfficialInput;
  try {
    const doc = loadOfficial(file);
    official = { doc, name: `${basename(file)}@sha256:${doc.sha256.slice(0, 12)}` };
  } catch (error) {
    fail(`${from ? '--from: ' : ''}${(error as Error).message}`);
  }
  const modules = join(ROOT, 'node_modules', '@dynamic-labs');
  const clients = clientOperations(
    loadClientPackage(join(modules, 'sdk-api')),
    loadClientPackage(join(modules, 'sdk-api-core')),
  );
  return assemble(clients, official, overlay);
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
  const o = s.official;
  const merged = o
    ? `; official ${o.operations} (${o.shared} shared, ${o.officialOnly} official-only), clients-only ${o.clientsOnly}`
    : '';
  const line =
    `${s.operations} operations (${s.admin} admin, ${s.sdk} /sdk; api-token ${s.auth['api-token']}, ` +
    `user-jwt ${s.auth['user-jwt']}, none ${s.auth.none}; ${s.corrected} admin auth corrections, ` +
    `${s.conflicts} auth conflicts recorded${merged}), ${s.models} models, from ` +
    `${s.sources.join(' + ')}`;
  if (check) {
    const problems: string[] = from ? [] : sourceDrift();
    for (const [file, text] of files) {
      if (!existsSync(file)) problems.push(`missing: ${relative(ROOT, file)}`);
      else if (readFileSync(file, 'utf8') !== text)
        problems.push(
          `differs: ${relative(ROOT, file)}` +
            (file === SPEC_FILE
              ? describeSpecDrift(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>, spec.document)
              : ''),
        );
    }
    for (const file of existing)
      if (!files.has(file)) problems.push(`stale: ${relative(ROOT, file)} (no such model any more)`);
    if (problems.length) {
      process.stderr.write(
        `specs:check: the committed spec differs from a fresh derivation (` +
          `${problems.length} file(s)); run npm run specs:derive and review:\n  ` +
          problems.slice(0, 40).join('\n  ') +
          (problems.length > 40 ? `\n  … ${problems.length - 40} more` : '') +
          `\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`specs:check: up to date — ${line}\n`);
    return;
  }
  mkdirSync(MODELS_DIR, { recursive: true });
  for (const file of existing) if (!files.has(file)) rmSync(file);
  for (const [file, text] of files) writeFileSync(file, text);
  process.stdout.write(
    `specs:derive: wrote ` + `${relative(ROOT, SPEC_FILE)} and ` + `${spec.models.size} schemas — ${line}\n`,
  );
}

function describeSpecDrift(committed: Record<string, unknown>, fresh: Record<string, unknown>): string {
  const ops = (doc: Record<string, unknown>): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
      for (const [method, op] of Object.entries(item)) out.set(`${method.toUpperCase()} ${path}`, JSON.stringify(op));
    return out;
  };
  const a = ops(committed);
  const b = ops(fresh);
  const added = [...b.keys()].filter((k) => !a.has(k));
  const removed = [...a.keys()].filter((k) => !b.has(k));
  const changed = [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k));
  const show = (label: string, list: string[]): string =>
    list.length ? `\n    ${label} ${list.length}: ${list.slice(0, 8).join(', ')}${list.length > 8 ? ', …' : ''}` : '';
  return show('operations added', added) + show('operations removed', removed) + show('operations changed', changed);
}

try {
  main();
} catch (error) {
  fail((error as Error).message);
}
