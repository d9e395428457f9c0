/**
 * The negative-case generator (src/generators/negative.ts) and the arbitraries built on it: every generated body
 * violates the operation's request schema according to the engine's ajv, every query value and path id is invalid for
 * its parameter, every malformed text fails JSON.parse — so a 2xx from the API can only mean missing validation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SchemaRegistry } from '../../src/engine/schemas.js';
import { loadSpec, type JsonSchema } from '../../src/engine/spec.js';
import { RequestFactory } from '../../src/http/requests.js';
import {
  INVALID_UUIDS,
  UUID_PATTERN,
  invalidQueryValues,
  isInvalidQueryValue,
  lookupFrom,
  negativeBodies,
  queryKind,
  resolveSchema,
  wrongTypeValues,
  jsonType,
} from '../../src/generators/negative.js';
import { invalidPathId } from '../../src/arbitraries/invalidPathId.js';
import { invalidQueryValue } from '../../src/arbitraries/invalidQueryValue.js';
import { invalidBody } from '../../src/arbitraries/invalidBody.js';
import { malformedJson } from '../../src/arbitraries/malformedJson.js';
import { hostileBody } from '../../src/arbitraries/hostileBody.js';
import { templateMatcher, unknownPath } from '../../src/arbitraries/unknownPath.js';

const spec = loadSpec('docs-2026');
const registry = new SchemaRegistry();
const lookup = lookupFrom((id) => {
  try {
    return registry.byId(id).schema as JsonSchema;
  } catch {
    return undefined;
  }
});
const factory = new RequestFactory(spec.document, '11111111-2222-4333-8444-555555555555');
const jsonOps = spec.operations.filter((op) => op.requestBody?.contentType === 'application/json');

test('inline schema: one case per violated constraint, each invalid, the sample untouched', () => {
  const schema: JsonSchema = {
    type: 'object',
    required: ['name', 'kind', 'id', 'nested'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 2, maxLength: 5 },
      kind: { enum: ['a', 'b'] },
      id: { type: 'string', format: 'uuid' },
      count: { type: 'integer', minimum: 0 },
      nested: { type: 'object', required: ['flag'], properties: { flag: { type: 'boolean' } } },
    },
  };
  const sample = { name: 'abc', kind: 'a', id: '11111111-2222-4333-8444-555555555555', nested: { flag: true } };
  const frozen = JSON.stringify(sample);
  const cases = negativeBodies(schema, sample, lookup);
  const kinds = new Set(cases.map((c) => `${c.kind} ${c.pointer}`));
  for (const expected of [
    'root-type ',
    'missing-required /name',
    'missing-required /kind',
    'wrong-type /name',
    'too-short /name',
    'too-long /name',
    'not-in-enum /kind',
    'bad-format /id',
    'additional-property /unexpectedProperty',
    'wrong-type /nested/flag',
    'missing-required /nested/flag',
  ]) {
    assert.ok(kinds.has(expected), `missing case ${expected}; got ${[...kinds].join(', ')}`);
  }
  assert.equal(JSON.stringify(sample), frozen, 'the sample must not be mutated');
  for (const c of cases)
    assert.equal(registry.validate(schema, c.body).valid, false, `${c.description} should be invalid`);
});

test('$ref and allOf resolve through the lookup (required and properties merged)', () => {
  const s = resolveSchema(
    {
      allOf: [
        { $ref: 'WebhookCreateRequest.schema.json' },
        { required: ['extra'], properties: { extra: { type: 'number' } } },
      ],
    },
    lookup,
  );
  assert.deepEqual([...(s.required as string[])].sort(), ['events', 'extra', 'isEnabled', 'url']);
  assert.equal((s.properties as Record<string, JsonSchema>).url?.type, 'string');
});

test('every JSON request body of the spec: every generated case violates the schema (engine ajv)', () => {
  let withCases = 0;
  let total = 0;
  let invalidSamples = 0;
  for (const op of jsonOps) {
    const sample = factory.body(op);
    if (!registry.validate(op.requestBody!.schema, sample).valid) {
      invalidSamples += 1;
      continue;
    }
    const cases = negativeBodies(op.requestBody!.schema, sample, lookup);
    if (cases.length) withCases += 1;
    for (const c of cases) {
      total += 1;
      assert.equal(
        registry.validate(op.requestBody!.schema, c.body).valid,
        false,
        `${op.key} ${c.description} is accepted by the schema`,
      );
    }
  }
  assert.ok(
    withCases >= jsonOps.length - invalidSamples - 5,
    `only ${withCases} of ${jsonOps.length - invalidSamples} ops got a negative case`,
  );
  assert.ok(total > 500, `expected > 500 negative bodies, got ${total}`);
});

test('invalidBody varies wrong-typed values and still violates the schema', () => {
  const op = spec.byId.get('createWebhook')!;
  const sample = factory.body(op);
  const cases = negativeBodies(op.requestBody!.schema, sample, lookup);
  fc.assert(
    fc.property(invalidBody(cases, sample), (c) => !registry.validate(op.requestBody!.schema, c.body).valid),
    { numRuns: 200 },
  );
});

test('wrongTypeValues never returns a value of an allowed type', () => {
  for (const types of [
    ['string'],
    ['number'],
    ['integer'],
    ['boolean'],
    ['object'],
    ['array'],
    ['string', 'null'],
  ] as const) {
    const values = wrongTypeValues([...types]);
    assert.ok(values.length >= 3);
    for (const v of values)
      assert.ok(
        !types.includes(jsonType(v) as never) && !(jsonType(v) === 'integer' && types.includes('number' as never)),
        `${JSON.stringify(v)} for ${types.join('|')}`,
      );
  }
  assert.deepEqual(wrongTypeValues(undefined), []);
});

test('typed query parameters of the spec: every generated value is invalid, also leniently', () => {
  let typed = 0;
  for (const op of spec.operations) {
    for (const p of op.parameters.filter((x) => x.in === 'query')) {
      const kind = queryKind(p.schema, lookup);
      if (!kind) continue;
      typed += 1;
      for (const v of invalidQueryValues(kind)) assert.ok(isInvalidQueryValue(kind, v), `${op.key} ${p.name}=${v}`);
      fc.assert(
        fc.property(invalidQueryValue(kind), (v) => {
          if (kind.kind === 'number') return Number.isNaN(Number(v));
          if (kind.kind === 'boolean') return !['true', 'false'].includes(v.toLowerCase());
          if (kind.kind === 'string') return isInvalidQueryValue(kind, v);
          return !kind.values.includes(v);
        }),
        { numRuns: 30 },
      );
    }
  }
  assert.ok(typed >= 40, `expected >= 40 typed query parameters, got ${typed}`);
  assert.equal(isInvalidQueryValue({ kind: 'number', integer: false }, '12'), false);
  assert.equal(isInvalidQueryValue({ kind: 'number', integer: false }, 'Infinity'), false);
  assert.equal(isInvalidQueryValue({ kind: 'boolean' }, 'YES'), false);
  assert.equal(isInvalidQueryValue({ kind: 'enum', values: ['day'], array: false }, 'DAY'), false);
  const uuidQuery = { kind: 'string', pattern: UUID_PATTERN.source, format: 'uuid' } as const;
  assert.equal(isInvalidQueryValue(uuidQuery, 'f47ac10b-58cc-4372-a567-0e02b2c3d479'), false);
  assert.equal(
    isInvalidQueryValue(uuidQuery, ' f47ac10b-58cc-4372-a567-0e02b2c3d479 '),
    false,
    'a trimming server accepts it',
  );
  assert.ok(invalidQueryValues(uuidQuery).length > 0);
  assert.equal(isInvalidQueryValue({ kind: 'string', maxLength: 3 }, 'abcd'), true);
  assert.equal(isInvalidQueryValue({ kind: 'string', format: 'email' }, 'user@example.com'), false);
});

test('the kept constraints reach the query generators: constrained string parameters of the official document', () => {
  const constrained = spec.operations.flatMap((op) =>
    op.parameters
      .filter((p) => p.in === 'query')
      .map((p) => queryKind(p.schema, lookup))
      .filter((k) => k?.kind === 'string'),
  );
  console.log(`constrained string query parameters: ${constrained.length}`);
  assert.ok(constrained.length >= 5, `${constrained.length}`);
});

test('invalid path ids are never lowercase UUIDs, never reserved segments, never dot segments', () => {
  for (const v of INVALID_UUIDS) assert.ok(!UUID_PATTERN.test(v), v);
  const reserved = new Set(['users', 'bulk', 'search']);
  fc.assert(
    fc.property(
      invalidPathId(reserved),
      (v) => v.length > 0 && !UUID_PATTERN.test(v) && !reserved.has(v) && v !== '.' && v !== '..',
    ),
    { numRuns: 2000 },
  );
});

test('malformed JSON never parses; hostile bodies nest deeper than 64 when they nest', () => {
  fc.assert(
    fc.property(malformedJson({ a: 1, b: ['x'] }), (t) => {
      try {
        JSON.parse(t);
        return false;
      } catch {
        return t.trim().length > 0;
      }
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      hostileBody({ a: 1 }),
      (h) =>
        !h.label.startsWith('JSON nested') ||
        (/^[[{]/.test(String(h.body)) && String(h.body).split(/[[{]/).length - 1 > 64),
    ),
    { numRuns: 300 },
  );
});

test('unknown paths never match a spec template', () => {
  const templates = spec.operations.map((o) => o.path);
  const isKnown = templateMatcher(templates);
  assert.ok(isKnown('/environments/abc/users'));
  assert.ok(!isKnown('/environments/abc/nonexistent'));
  const filled = templates.slice(0, 50).map((t) => t.replace(/\{\w+\}/g, 'x'));
  fc.assert(
    fc.property(unknownPath(filled, isKnown), (p) => !isKnown(p.path)),
    { numRuns: 1000 },
  );
});
