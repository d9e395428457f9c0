/**
 * Self-check of the mock's data layer (`node mock/run.mjs selfcheck.ts`, run by tests/integration/mock-faults):
 * every schema under schemas/ compiles strictly and validates against its meta-schema (an unknown `$id` or an
 * unresolvable `$ref` fails), every JSON success sample of the 412 operations validates against its response schema
 * (SCHEMA-001), every stateful handler's answer validates too, key derivation is deterministic, and the precompiled
 * validators (schemas.ts `precompile`) judge every registered and inline schema exactly as a fresh compile — same
 * verdict, same verbose errors — while an edited schema file never loads a stale cache. Prints one JSON summary line;
 * exit code 1 on any problem.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MockState } from './app.js';
import { deriveEnvironmentKey } from './keys.js';
import { inlineKey, SchemaRegistry } from './schemas.js';
import type { JsonSchema, SpecBundle } from './spec.js';

interface Summary {
  schemas: number;
  /** Schemas (registered and inline) whose precompiled validator was compared with a fresh compile. */
  precompiled: number;
  staleCacheRejected: boolean;
  samples: number;
  stateful: number;
  deterministicKeys: boolean;
  problems: string[];
}

async function main(): Promise<Summary> {
  const state = new MockState({ seed: 'selfcheck' });
  const problems: string[] = [];
  const schemas = state.registry.compileAll();
  let samples = 0;
  for (const op of state.spec.operations) {
    if (op.success.kind === 'void') continue;
    samples++;
    const s = state.samples.forOperation(op);
    if (!s.valid) problems.push(`sample of ${op.operationId} does not validate`);
  }
  await state.keys.ready;
  const stateful = checkStateful(state, state.spec, problems);
  const env = state.seed.environments[0]!;
  const [a, b] = await Promise.all([deriveEnvironmentKey('x', env.id, 'k'), deriveEnvironmentKey('x', env.id, 'k')]);
  const deterministicKeys = a.jwk.n === b.jwk.n && a.pem === b.pem;
  if (!deterministicKeys) problems.push('key derivation is not deterministic');
  const precompiled = comparePrecompiled(state.registry, state.spec, problems);
  const staleCacheRejected = rejectsStaleCache(state.spec);
  if (!staleCacheRejected) problems.push('an edited schema file loaded the old precompiled validators');
  return { schemas, precompiled, staleCacheRejected, samples, stateful, deterministicKeys, problems };
}

const PROBES: unknown[] = [null, 0, 1.5, -1, '', 'x', 'not-a-uuid', '2026-01-01T00:00:00Z', true, [], [1, 'a'], {}];
const OBJECT_PROBES: unknown[] = [{ id: 'x' }, { error: 'e' }, { name: 1, email: 'a' }];

/**
 * Verdict and errors of the precompiled `registry` against what its own ajv compiles from the schema source (the same
 * instance `compileAll` filled, so models compile once), on probe values: every registered schema and every distinct
 * inline schema of the operations (bodies, parameters, success and error bodies; an inline schema repeated across
 * operations has one precompiled validator, so it is compared once).
 */
function comparePrecompiled(registry: SchemaRegistry, spec: SpecBundle, problems: string[]): number {
  if (registry.source === 'lazy') problems.push('the mock state did not precompile its validators');
  const judge = (validate: ReturnType<SchemaRegistry['compile']>, value: unknown): string => {
    const valid = validate(value);
    return JSON.stringify({ valid, errors: valid ? null : validate.errors });
  };
  const pairs: [string, ReturnType<SchemaRegistry['compile']>, ReturnType<SchemaRegistry['compile']>][] =
    registry.ids.map((id) => [id, registry.byId(id), registry.compiledFromSource(id)]);
  const compared = new Set<string>();
  for (const op of spec.operations) {
    const inline: JsonSchema[] = [
      ...(op.body ? [op.body.schema] : []),
      ...op.params.map((p) => p.schema),
      op.success.schema ?? {},
      ...Object.values(op.errorSchemas),
    ];
    for (const schema of inline) {
      const key = inlineKey(schema);
      if (compared.has(key)) continue;
      compared.add(key);
      pairs.push([op.operationId, registry.compile(schema), registry.compiledFromSource(schema)]);
    }
  }
  for (const [label, cached, compiled] of pairs)
    for (const value of [...PROBES, ...OBJECT_PROBES])
      if (judge(cached, value) !== judge(compiled, value))
        problems.push(`precompiled validator of ${label} differs from a fresh compile on ${JSON.stringify(value)}`);
  return pairs.length;
}

/**
 * True when a registry over a copy of schemas/ with one edited file gets another cache file and compiles afresh. The
 * copy leaves out models/ (nothing in auth/, errors/ or meta/ refers to it) and the spec's operations, so the two
 * compiles take ~20 schemas, not ~1,700: the key covers every file and inline schema the same way.
 */
function rejectsStaleCache(spec: SpecBundle): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'mock-schemas-'));
  const few = { ...spec, operations: [] };
  try {
    for (const sub of ['auth', 'errors', 'meta'])
      cpSync(fileURLToPath(new URL(`../schemas/${sub}/`, import.meta.url)), join(dir, sub), { recursive: true });
    mkdirSync(join(dir, 'models'));
    const first = new SchemaRegistry(dir);
    first.precompile(few);
    const file = join(dir, 'errors', 'error-body.schema.json');
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), description: 'x' }));
    const second = new SchemaRegistry(dir);
    second.precompile(few);
    for (const r of [first, second]) if (r.source === 'compiled' && r.cacheFile) rmSync(r.cacheFile, { force: true });
    return second.source === 'compiled' && second.cacheFile !== first.cacheFile;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Drives every stateful handler once (create, read, list, update) and validates each 2xx body. */
function checkStateful(state: MockState, spec: SpecBundle, problems: string[]): number {
  const env = state.seed.environments[0]!;
  const user = state.seed.users.find((u) => u.environmentId === env.id)!;
  const ids: Record<string, string> = { environmentId: env.id, userId: user.id, projectId: env.projectId };
  const order = [
    'createAllowlistByEnvironmentId',
    'createWebhook',
    'addOrigin',
    'postToken',
    'createUser',
    'postEntryByAllowlistId',
    'getEnvironmentById',
    'getEnvironmentsByProjectId',
    'updateProjectSettings',
    'getEnvironmentSettings',
    'getKeysForEnvironment',
    'getJwksByEnvironmentId',
    'getJwksJsonByEnvironmentId',
    'getTokens',
    'getEnvironmentUsers',
    'getUser',
    'updateUser',
    'getWebhooks',
    'getWebhook',
    'updateWebhookById',
    'getAllowlistsByEnvironmentId',
    'getAllowlistsById',
    'updateAllowlistById',
    'enableAllowlistById',
    'disableAllowlistById',
    'getEntriesByAllowlistId',
    'getOrigins',
  ];
  let checked = 0;
  for (const operationId of order) {
    const op = spec.operations.find((o) => o.operationId === operationId);
    if (!op) {
      problems.push(`operation ${operationId} missing from the spec`);
      continue;
    }
    const body = op.body ? bodyFor(state, operationId, op.body.schema) : undefined;
    const reply = state.handlers.run({
      op,
      params: ids,
      body,
      store: state.store,
      key: (id) => state.keys.get(id),
      keepOnDelete: false,
    });
    if (!reply || reply.kind !== 'json') {
      problems.push(`${operationId} did not answer JSON (${reply?.kind ?? 'sample'})`);
      continue;
    }
    const validate = state.registry.compile(op.success.schema ?? {});
    if (!validate(reply.body)) problems.push(`${operationId}: ${state.registry.ajv.errorsText(validate.errors)}`);
    checked++;
    const b = reply.body as Record<string, unknown>;
    if (operationId === 'createAllowlistByEnvironmentId') ids['allowlistId'] = String(b['id']);
    if (operationId === 'createWebhook') ids['webhookId'] = String(b['webhookId']);
  }
  return checked;
}

function bodyFor(state: MockState, operationId: string, schema: Record<string, unknown>): unknown {
  if (operationId === 'createWebhook' || operationId === 'updateWebhookById')
    return { url: 'https://example.invalid/hook', isEnabled: true, events: ['user.created'] };
  if (operationId === 'addOrigin') return { origin: 'https://app.example.invalid' };
  if (operationId === 'postToken') return { note: 'selfcheck', scopes: ['environment.users.read'] };
  const ref = typeof schema['$ref'] === 'string' ? schema['$ref'].replace('#/components/schemas/', '') : undefined;
  return ref ? state.samples.forModel(ref) : {};
}

main()
  .then((summary) => {
    console.log(JSON.stringify(summary));
    process.exit(summary.problems.length === 0 ? 0 : 1);
  })
  .catch((err: unknown) => {
    console.log(JSON.stringify({ problems: [err instanceof Error ? err.message : String(err)] }));
    process.exit(1);
  });
