/**
 * Drift (issue 14 §4): undocumented response properties (through $ref, allOf/anyOf/oneOf, arrays; free-form maps are
 * not drift), headers outside HTTP and the operation, undocumented statuses; names and paths only, never values;
 * new vs known against the previous run; drift fails the run only when opted in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemas } from '../../src/engine/schemas.js';
import { SCHEMA_BASE } from '../../src/engine/spec.js';
import {
  buildDrift,
  documentsStatus,
  DriftCollector,
  driftKey,
  driftKeys,
  rememberDrift,
  undocumentedHeaders,
  undocumentedProperties,
  type ResolveRef,
} from '../../src/nightly/drift.js';

/** The engine's registry resolves every schema file by $id, relative refs against the referring schema. */
const resolve: ResolveRef = (ref, base) => {
  const id = new URL(ref, base ?? SCHEMA_BASE).toString();
  const schema = schemas().byId(id).schema as Record<string, unknown> | undefined;
  return schema ? { schema, id } : undefined;
};

test('undocumented properties of a real model, through $ref and arrays; documented ones are not drift', () => {
  const schema = { $ref: `${SCHEMA_BASE}models/UserResponse.schema.json` };
  const body = {
    user: {
      id: 'u1',
      email: 'a@b.c',
      brandNewField: 'SECRET-VALUE-1',
      verifiedCredentials: [{ id: 'vc', format: 'email', shinyFlag: true }],
    },
    topLevelExtra: { nested: 1 },
  };
  const paths = undocumentedProperties(schema, body, resolve);
  assert.deepEqual(paths, ['$.topLevelExtra', '$.user.brandNewField', '$.user.verifiedCredentials[].shinyFlag']);
  assert.doesNotMatch(
    JSON.stringify(paths),
    /SECRET-VALUE|nested/,
    'names only, never values, and nothing below an undocumented property',
  );
});

test('composition, free-form objects: allOf/anyOf unite their properties; maps and open objects are not drift', () => {
  const schema = {
    allOf: [
      { type: 'object', properties: { a: { type: 'string' } } },
      { anyOf: [{ properties: { b: { type: 'object' } } }, { properties: { c: {} } }] },
    ],
  };
  assert.deepEqual(undocumentedProperties(schema, { a: 'x', b: { anything: 1 }, c: 2, d: 3, 'odd key': 4 }, resolve), [
    '$.d',
    '$["odd key"]',
  ]);
  assert.deepEqual(
    undocumentedProperties(
      { type: 'object', properties: { a: {} }, additionalProperties: { type: 'string' } },
      { a: 1, z: 'x' },
      resolve,
    ),
    [],
  );
  assert.deepEqual(
    undocumentedProperties({ type: 'object' }, { z: 1 }, resolve),
    [],
    'no properties declared: a free-form object',
  );
  assert.deepEqual(
    undocumentedProperties(undefined, { z: 1 }, resolve),
    [],
    'no documented body schema: nothing to compare',
  );
  assert.deepEqual(
    undocumentedProperties({ type: 'array', items: { properties: { a: {} } } }, [{ a: 1 }, { b: 2 }], resolve),
    ['$[].b'],
  );
});

test("headers: HTTP's own and the documented ones are not drift; statuses: exact, 2XX ranges and default", () => {
  assert.deepEqual(
    undocumentedHeaders(
      [
        'Content-Type',
        'Date',
        'X-Request-Id',
        'access-control-allow-origin',
        'Retry-After',
        'X-Dynamic-Trace',
        'x-request-id',
      ],
      ['x-dynamic-trace'],
    ),
    ['x-request-id'],
  );
  assert.ok(documentsStatus(200, ['200', '401']));
  assert.ok(documentsStatus(204, ['2XX']));
  assert.ok(documentsStatus(418, ['default']));
  assert.ok(!documentsStatus(418, [200, 401]));
});

test(
  'collector → report: per operation, sorted, new vs ' +
    'known; fails the run only when opted in and something ' +
    'is new',
  () => {
    const a = new DriftCollector();
    a.observe('GET /users', { status: 200, headers: ['x-request-id'], properties: ['$.user.extra'] });
    a.observe('GET /users', { status: 200, statusDocumented: true });
    a.observe('GET /plain', { status: 200, statusDocumented: true });
    const b = new DriftCollector();
    b.observe('GET /users', { status: 418, statusDocumented: false, headers: ['x-request-id'] });
    assert.equal(a.size, 1, 'a response without drift records nothing');
    const observations = JSON.parse(JSON.stringify([...a.toJSON(), ...b.toJSON()])) as ReturnType<
      DriftCollector['toJSON']
    >;
    const known = new Set([driftKey('GET /users', 'header', 'x-request-id')]);
    const drift = buildDrift(observations, known, false);
    assert.deepEqual(drift.operations, [
      {
        key: 'GET /users',
        properties: [{ name: '200 $.user.extra', change: 'new' }],
        headers: [{ name: 'x-request-id', change: 'known' }],
        statuses: [{ name: '418', change: 'new' }],
      },
    ]);
    assert.deepEqual(drift.counts, { operations: 1, items: 3, new: 2, known: 1 });
    assert.equal(drift.failsRun, false, 'drift never fails a run by default');
    assert.equal(buildDrift(observations, known, true).failsRun, true);
    assert.equal(
      buildDrift(observations, driftKeys(drift), true).failsRun,
      false,
      'nothing new the next night: no failure',
    );
    const memory = rememberDrift(rememberDrift(undefined, drift, '2026-11-01'), drift, '2026-11-02');
    assert.deepEqual(memory[driftKey('GET /users', 'status', '418')], {
      firstSeen: '2026-11-01',
      lastSeen: '2026-11-02',
    });
  },
);
