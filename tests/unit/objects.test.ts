/**
 * The ownership catalogue (specs/objects.json) and how the OBJ rules split the operations: every api-token operation
 * that addresses an object by id alone is judged by exactly one OBJ rule (one outcome per operation in the matrix),
 * every path parameter of those operations is classified (an owned family or reference data with the reason), and
 * the discovery paths of the catalogue point at real list operations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectCoverage } from '../../src/checks/object.js';
import {
  idOnlyOperations,
  idsAt,
  objectCatalogue,
  objectRefs,
  unownedReason,
  userObjectOperations,
} from '../../src/checks/support/objects.js';
import { SchemaRegistry } from '../../src/engine/schemas.js';
import { loadSpec, SCHEMA_BASE } from '../../src/engine/spec.js';

const spec = loadSpec('docs-2026');
const catalogue = objectCatalogue();

test('specs/objects.json validates against schemas/meta/objects.schema.json; families and params are unique', () => {
  const v = new SchemaRegistry().validate(`${SCHEMA_BASE}meta/objects.schema.json`, catalogue);
  assert.ok(v.valid, v.errors.join('; '));
  const names = catalogue.families.map((f) => f.family);
  assert.equal(new Set(names).size, names.length);
  for (const f of catalogue.families) {
    if (f.discover)
      assert.ok(
        spec.byId.has(f.discover.operationId),
        `${f.family}: discover operation ${f.discover.operationId} exists`,
      );
    for (const opId of Object.keys(f.body ?? {}))
      assert.ok(spec.byId.has(opId), `${f.family}: body operation ${opId} exists`);
    for (const from of Object.values(f.discover?.with ?? {}))
      assert.ok(names.includes(from), `${f.family}: with names family ${from}`);
  }
});

test('69 api-token operations address an object by id alone; each is judged by exactly one OBJ rule', () => {
  const idOnly = idOnlyOperations(spec)
    .map((o) => o.key)
    .sort();
  assert.equal(idOnly.length, 69);
  const c = objectCoverage(spec);
  const judged = [...c.reads, ...c.writes, ...c.organization].sort();
  assert.deepEqual(judged, idOnly, 'OBJ-001 + OBJ-002 + OBJ-003 partition the id-only operations');
  assert.equal(new Set(judged).size, judged.length, 'no operation in two rules');
  assert.deepEqual([c.reads.length, c.writes.length, c.organization.length], [11, 25, 33]);
  assert.ok(c.writes.every((k) => !k.startsWith('GET ')) && c.reads.every((k) => k.startsWith('GET ')));
});

test(
  'every path parameter of the id-only and /sdk object ' +
    'operations is an owned family or documented reference ' +
    'data',
  () => {
    for (const op of [...idOnlyOperations(spec), ...userObjectOperations(spec)]) {
      const owned = new Set(objectRefs(op).map((r) => r.name));
      for (const p of op.parameters.filter((x) => x.in === 'path' && !owned.has(x.name))) {
        assert.ok(
          catalogue.unowned[p.name],
          `${op.key}: {${p.name}} is neither an owned family nor in objects.json unowned`,
        );
      }
    }
    const unowned = idOnlyOperations(spec).filter((op) => objectRefs(op).length === 0);
    assert.deepEqual(
      unowned.map((o) => o.key),
      ['GET /chains/{chainName}/tokens'],
    );
    assert.match(unownedReason(unowned[0]!), /public chain/);
  },
);

test("59 /sdk operations act on a user's own object (path id or body member), all user-owned families", () => {
  const ops = userObjectOperations(spec);
  assert.equal(ops.length, 59);
  const families = new Set(
    ops.flatMap((op) =>
      objectRefs(op)
        .filter((r) => r.family.owner === 'user')
        .map((r) => r.family.family),
    ),
  );
  for (const f of ['wallet', 'passkey', 'mfaDevice', 'deviceRegistration', 'businessAccount'])
    assert.ok(families.has(f), f);
  assert.deepEqual(
    objectRefs(spec.byId.get('deletePasskey')!).map((r) => `${r.in}:${r.name}`),
    ['body:passkeyId'],
  );
});

test('idsAt reads ids through members and arrays', () => {
  assert.deepEqual(idsAt([{ id: 'a' }, { id: 'b' }, {}], '*/id'), ['a', 'b']);
  assert.deepEqual(idsAt({ customNetworks: [{ customNetwork: { id: 'n1' } }] }, 'customNetworks/*/customNetwork/id'), [
    'n1',
  ]);
  assert.deepEqual(idsAt({ id: 'sso' }, 'id'), ['sso']);
  assert.deepEqual(idsAt({ users: 'not an array' }, 'users/*/id'), []);
});
