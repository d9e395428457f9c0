/**
 * The data layer (specs/, schemas/): every $ref resolves, every schema compiles strict (and the precompiled cache
 * judges the same), the OpenAPI document is valid
 * OAS 3.1, the operation set equals the pinned clients' non-OPTIONS set, and the catalogues are well formed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ROOT } from '../../src/engine/config.js';
import { SchemaRegistry } from '../../src/engine/schemas.js';
import { loadSpec, SCHEMA_BASE } from '../../src/engine/spec.js';
import { loadClientPackage } from '../../scripts/derive/clients.js';
import { loadOfficial, parseOfficial } from '../../scripts/derive/official.js';

const spec = loadSpec('docs-2026');
/** Compiled afresh (never the precompiled cache): this is the proof that every schema compiles. */
const registry = new SchemaRegistry(undefined, { precompiled: false });

test('every schema file has an $id and compiles in strict mode; every $ref resolves', () => {
  const files = readdirSync(join(ROOT, 'schemas'), { recursive: true }).filter((f) =>
    String(f).endsWith('.schema.json'),
  );
  assert.equal(registry.ids.length, files.length);
  assert.ok(registry.ids.length > 700, `expected > 700 schemas, got ${registry.ids.length}`);
  for (const id of registry.ids) assert.equal(typeof registry.byId(id), 'function', id);
});

test('an unknown schema id is an error at load, not a silent pass', () => {
  assert.throws(() => registry.byId(`${SCHEMA_BASE}models/NoSuchModel.schema.json`), /unknown schema id/);
  assert.throws(() => new SchemaRegistry().byId(`${SCHEMA_BASE}models/NoSuchModel.schema.json`), /unknown schema id/);
});

test('the precompiled validators (standalone code cache) judge exactly as a fresh compile', () => {
  const cached = new SchemaRegistry();
  if (cached.source === 'compiled')
    assert.equal(new SchemaRegistry().source, 'cache', 'a second registry loads the cache the first wrote');
  const values: unknown[] = [
    null,
    0,
    1.5,
    -1,
    '',
    'x',
    'not-a-uuid',
    '2026-01-01T00:00:00Z',
    true,
    [],
    [1, 'a'],
    {},
    { id: 'x' },
    { error: 'e' },
  ];
  for (const id of registry.ids) {
    for (const value of values)
      assert.deepEqual(cached.validate(id, value), registry.validate(id, value), `${id} on ${JSON.stringify(value)}`);
  }
  for (const id of registry.ids)
    assert.deepEqual(cached.byId(id).schema, registry.byId(id).schema, `${id}: validate.schema`);
  const inline = { type: 'array', items: { $ref: registry.ids[0]! } };
  assert.deepEqual(cached.validate(inline, [1, 'a']), registry.validate(inline, [1, 'a']));
  // Inline schemas precompiled with the files (the operations' bodies): the same verdicts as a fresh compile.
  const withInline = new SchemaRegistry(undefined, { inline: [inline] });
  assert.notEqual(withInline.cacheFile, cached.cacheFile, 'the inline schemas are part of the cache key');
  for (const value of [...values, [{ error: 'e' }]])
    assert.deepEqual(withInline.validate(inline, value), registry.validate(inline, value), JSON.stringify(value));
  rmSync(withInline.cacheFile, { force: true });
});

test('the cache key changes with any schema byte: an edited schemas/ folder never loads stale validators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
  const one = { $id: `${SCHEMA_BASE}test/one.schema.json`, type: 'string' };
  writeFileSync(join(dir, 'one.schema.json'), JSON.stringify(one));
  const first = new SchemaRegistry(dir);
  assert.equal(first.validate(one.$id, 'x').valid, true);
  writeFileSync(join(dir, 'one.schema.json'), JSON.stringify({ ...one, type: 'number' }));
  const second = new SchemaRegistry(dir);
  assert.notEqual(second.cacheFile, first.cacheFile);
  assert.equal(second.validate(one.$id, 'x').valid, false);
  assert.equal(second.validate(one.$id, 2).valid, true);
  rmSync(dir, { recursive: true, force: true });
  for (const file of [first.cacheFile, second.cacheFile]) rmSync(file, { force: true });
});

test('the OpenAPI document is valid OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(
    JSON.parse(readFileSync(join(ROOT, 'specs', 'dynamic-api.openapi.json'), 'utf8')) as Parameters<
      Validator['validate']
    >[0],
  );
  assert.equal(validator.version, '3.1');
  assert.equal(result.valid, true, JSON.stringify(result.errors)?.slice(0, 2000));
});

test(
  "the operation set is the union of the pinned clients' " +
    'non-OPTIONS set (412) and the official document (275): ' +
    '419',
  () => {
    const modules = join(ROOT, 'node_modules', '@dynamic-labs');
    const keys = new Set<string>();
    for (const pkg of ['sdk-api', 'sdk-api-core'])
      for (const op of loadClientPackage(join(modules, pkg)).operations)
        if (op.method !== 'OPTIONS') keys.add(`${op.method} ${op.path}`);
    assert.equal(keys.size, 412);
    const official = loadOfficial(join(ROOT, 'specs', 'sources', 'official', 'public-api.yaml'));
    for (const op of official.operations) keys.add(op.key);
    const ours = new Set(spec.operations.map((o) => o.key));
    assert.deepEqual([...ours].sort(), [...keys].sort());
    assert.equal(ours.size, 419);
    assert.equal(spec.operations.filter((o) => o.surface === 'admin').length, 196);
    assert.equal(spec.operations.filter((o) => o.surface === 'sdk').length, 223);
  },
);

test('derivation cache: a second read of the official document equals a fresh parse; an edited one is re-read', () => {
  const file = join(ROOT, 'specs', 'sources', 'official', 'public-api.yaml');
  const text = readFileSync(file, 'utf8');
  const fresh = parseOfficial(text, file);
  assert.deepEqual(loadOfficial(file), fresh);
  assert.deepEqual(loadOfficial(file), fresh, 'the cached read');
  const dir = mkdtempSync(join(tmpdir(), 'derive-cache-'));
  try {
    const copy = join(dir, 'public-api.yaml');
    writeFileSync(copy, text.replace(/^(\s*title:\s*).*$/m, '$1Edited API'));
    assert.match(loadOfficial(copy).label, /^Edited API \(openapi /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'every operation has an operationId, a tag, an auth class, ' +
    'UUID ids and the uniform error set (documented or standard ' +
    'layer)',
  () => {
    const ids = new Set<string>();
    for (const op of spec.operations) {
      assert.ok(op.operationId && !ids.has(op.operationId), `unique operationId: ${op.key}`);
      ids.add(op.operationId);
      assert.ok(op.tag, `tag: ${op.key}`);
      assert.ok(['api-token', 'user-jwt', 'none'].includes(op.auth), `auth: ${op.key}`);
      if (op.surface === 'admin') assert.equal(op.auth, 'api-token', `admin operations take API tokens: ${op.key}`);
      for (const p of op.parameters.filter(
        (x) => x.in === 'path' && /^(environmentId|userId|projectId|organizationId|tokenId|webhookId)$/.test(x.name),
      )) {
        assert.equal(p.schema.format, 'uuid', `${p.name} of ${op.key} is a uuid`);
      }
      for (const status of [400, 404, 422, 429, 500])
        assert.ok(op.documentedStatuses.includes(status), `${op.key} documents ${status}`);
      if (op.auth !== 'none')
        for (const status of [401, 403])
          assert.ok(op.documentedStatuses.includes(status), `${op.key} documents ${status}`);
    }
    const raw = (o: { path: string; method: string }): Record<string, unknown> =>
      (spec.document.paths?.[o.path] as Record<string, Record<string, unknown>>)[o.method.toLowerCase()]!;
    const declared = (o: { path: string; method: string }): { official?: string; clients?: string } =>
      raw(o)['x-dynamic-declared-security'] as { official?: string; clients?: string };
    const clientsNone = spec.operations.filter((o) => o.surface === 'admin' && declared(o).clients === 'none');
    assert.equal(clientsNone.length, 63, 'the 63 admin operations the clients leave without security');
    const corrected = spec.operations.filter(
      (o) => o.surface === 'admin' && (declared(o).clients === 'none' || declared(o).official === 'none'),
    );
    assert.equal(corrected.length, 69, '63 from the clients + the 6 official-only admin operations without security');
    for (const o of corrected)
      assert.equal(typeof raw(o)['x-dynamic-auth-conflict'], 'string', `${o.key} records the auth conflict`);
  },
);

test('every rule has a unique id, a source, a level and validates against schemas/meta/rule.schema.json', () => {
  assert.ok(spec.rules.length >= 40, `at least 40 rules, got ${spec.rules.length}`);
  const ids = new Set<string>();
  for (const rule of spec.rules) {
    assert.ok(!ids.has(rule.id), `duplicate rule id ${rule.id}`);
    ids.add(rule.id);
    const v = registry.validate(`${SCHEMA_BASE}meta/rule.schema.json`, rule);
    assert.ok(v.valid, `${rule.id}: ${v.errors.join('; ')}`);
  }
});

test('every fault names an existing rule and validates against schemas/meta/fault.schema.json', () => {
  assert.ok(spec.faults.length >= 30);
  const ids = new Set<string>();
  for (const fault of spec.faults) {
    assert.ok(!ids.has(fault.id), `duplicate fault ${fault.id}`);
    ids.add(fault.id);
    assert.ok(spec.rulesById.has(fault.rule), `${fault.id} names unknown rule ${fault.rule}`);
    assert.ok(registry.validate(`${SCHEMA_BASE}meta/fault.schema.json`, fault).valid, fault.id);
  }
});

test(
  'every rule the mock implements has a fault that breaks ' + 'it; the rest are suite properties proved by unit tests',
  () => {
    const faulted = new Set(spec.faults.map((f) => f.rule));
    const unfaulted = spec.rules.filter((r) => !faulted.has(r.id));
    for (const rule of unfaulted)
      assert.match(
        rule.mock,
        /^n\/a \(/,
        `${rule.id} has mock behaviour (${rule.mock}) but no fault in ` +
          `specs/faults.json, so its check was never shown able to fail`,
      );
    assert.deepEqual(
      unfaulted.map((r) => r.id),
      ['RATE-015', 'SEC-001', 'SEC-002', 'SEC-003', 'SEC-004', 'SEC-005', 'SEC-006', 'TOKEN-001'],
    );
  },
);

test('both docs profiles load, validate, and exactly one is the default (docs-2026)', () => {
  const profiles = spec.profiles;
  assert.deepEqual(
    profiles.map((p) => p.id),
    ['docs-2025', 'docs-2026'],
  );
  for (const p of profiles) {
    const v = registry.validate(`${SCHEMA_BASE}profiles/docs-profile.schema.json`, p);
    assert.ok(v.valid, `${p.id}: ${v.errors.join('; ')}`);
    registry.byId(p.token.schema);
    registry.byId(p.tooManyRequests.schema);
    assert.ok(
      registry.validate(p.tooManyRequests.schema, p.tooManyRequests.body).valid,
      `${p.id}: its 429 body matches its own schema`,
    );
    const policies = new Set(spec.operations.flatMap((o) => o.policies));
    for (const id of policies) assert.ok(p.rateLimits[id], `${p.id} defines policy ${id}`);
  }
  assert.deepEqual(
    profiles.filter((p) => p.default).map((p) => p.id),
    ['docs-2026'],
  );
  assert.throws(() => loadSpec('docs-1999'), /DYNAMIC_DOCS_PROFILE 'docs-1999' is not one of docs-2025, docs-2026/);
});
