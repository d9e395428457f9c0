/**
 * The mock against Dynamic's official document (issue 12): every GET of the document is called on a clean mock with
 * valid credentials, and every 2xx body is validated against the document's own response schema (≥ 95 % must be
 * valid); every create the document answers with 201 answers 201. Starts the mock as a child process.
 */
import { validString } from '../../src/generators/valid.js';
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOfficial, type OfficialOperation, type OfficialParam } from '../../scripts/derive/official.js';
import { officialBodyValidator } from '../../scripts/derive/measure.js';
import { ROOT, seedOf, startMock, tokenOf, type Mock, type Seed } from './support/mock-process.js';

const doc = loadOfficial(join(ROOT, 'specs', 'sources', 'official', 'public-api.yaml'));
const validate = officialBodyValidator(doc);
const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
let mock: Mock;
let seed: Seed;

before(async () => {
  mock = await startMock({ MOCK_SEED: '7' });
  seed = await seedOf(mock);
});
after(async () => mock.stop());

function uuid(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function valueFor(p: OfficialParam, op: OfficialOperation, env: { id: string }, userId: string): string {
  if (p.name === 'environmentId') return env.id;
  if (p.name === 'userId') return userId;
  const ref = typeof p.schema.$ref === 'string' ? p.schema.$ref.split('/').pop()! : undefined;
  const schema = ref ? (doc.schemas.get(ref) ?? {}) : p.schema;
  if (Array.isArray(schema.enum)) return String(schema.enum.find((v) => v !== null));
  if (schema.type === 'integer' || schema.type === 'number') return '1';
  if (schema.type === 'boolean') return 'true';
  if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
  if (schema.format === 'email') return 'user@example.com';
  if (typeof schema.pattern === 'string' && schema.pattern !== UUID_PATTERN) {
    const v = validString(schema, `${op.key}:${p.name}`);
    if (v !== undefined) return v;
  }
  if (ref === 'uuid' || schema.format === 'uuid' || /Id$/.test(p.name)) return uuid(`${op.key}:${p.name}`);
  return 'sample';
}

/** Sends one valid request for an official operation to the mock (credentials by the spec's auth class). */
async function call(op: OfficialOperation, auth: string): Promise<{ status: number; body: unknown; text: string }> {
  const env = seed.environments.find((e) => e.name === 'sandbox')!;
  const user = seed.users.find((u) => u.environmentId === env.id)!;
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(
      valueFor(
        op.parameters.find((p) => p.name === name) ?? { name, in: 'path', required: true, schema: {} },
        op,
        env,
        user.id,
      ),
    ),
  );
  const query = op.parameters
    .filter((p) => p.in === 'query' && p.required)
    .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(valueFor(p, op, env, user.id))}`)
    .join('&');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth === 'api-token') headers.authorization = `Bearer ${tokenOf(seed, env.id, 'all')}`;
  if (auth === 'user-jwt') headers.authorization = `Bearer ${user.jwt}`;
  for (const p of op.parameters.filter((x) => x.in === 'header' && x.required)) headers[p.name] = 'sample';
  const res = await mock.call(op.method, `/api/v0${path}${query ? `?${query}` : ''}`, { headers });
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text: res.text };
}

// Read, not imported: an import would make the type checker infer a type for all 3 MB of it (~40 % of `tsc`).
const spec = JSON.parse(readFileSync(join(ROOT, 'specs', 'dynamic-api.openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Record<string, unknown>>>;
};
const authOf = (op: OfficialOperation): string =>
  String(spec.paths[op.path]?.[op.method.toLowerCase()]?.['x-dynamic-auth']);

test("≥ 95 % of the mock's GET success bodies validate against the official response schemas", async () => {
  const gets = doc.operations.filter((o) => o.method === 'GET');
  let withSchema = 0;
  let valid = 0;
  const notOk: string[] = [];
  const invalid: string[] = [];
  for (const op of gets) {
    const res = await call(op, authOf(op));
    if (res.status < 200 || res.status >= 300) {
      notOk.push(`${op.key} → ${res.status}`);
      continue;
    }
    const v = validate(op.key, String(res.status), res.body);
    if (!v.schema) continue;
    withSchema++;
    if (v.valid) valid++;
    else invalid.push(`${op.key}: ${v.errors.join('; ')}`);
  }
  const share = valid / Math.max(withSchema, 1);
  console.log(
    `mock GET success bodies valid against the official schemas: ${valid}/${withSchema} ` +
      `(${(100 * share).toFixed(1)} %); ${gets.length} GETs, ${notOk.length} not 2xx` +
      (notOk.length ? `: ${notOk.join(', ')}` : ''),
  );
  if (invalid.length) console.log(`  invalid:\n  ${invalid.join('\n  ')}`);
  assert.ok(withSchema >= 80, `at least 80 GETs with an official 2xx schema answered 2xx, got ${withSchema}`);
  assert.ok(share >= 0.95, `${valid}/${withSchema} valid`);
  assert.ok(notOk.length <= 0.05 * gets.length, `GETs not answering 2xx: ${notOk.join(', ')}`);
});

test('every create the official document answers with 201 answers 201 on the mock', async () => {
  const creates = doc.operations.filter((o) => {
    const success = o.responses.map((r) => r.status).filter((s) => /^[23]/.test(s));
    return success.length === 1 && success[0] === '201';
  });
  const wrong: string[] = [];
  let checked = 0;
  for (const op of creates) {
    const specOp = spec.paths[op.path]?.[op.method.toLowerCase()] as { requestBody?: unknown } | undefined;
    if (specOp?.requestBody) continue; // a valid body needs the suite's generator; body-less creates are sent here
    const res = await call(op, authOf(op));
    checked++;
    if (res.status !== 201) wrong.push(`${op.key} → ${res.status} ${res.text.slice(0, 80)}`);
  }
  const spec201 = creates.filter(
    (o) =>
      (spec.paths[o.path]?.[o.method.toLowerCase()] as { responses: Record<string, unknown> }).responses['201'] !==
      undefined,
  ).length;
  console.log(
    `official creates answering 201: ${creates.length}; in the spec as 201: ${spec201}; ` +
      `body-less ones sent to the mock: ${checked}, answered 201: ${checked - wrong.length}`,
  );
  assert.equal(spec201, creates.length);
  assert.deepEqual(wrong, []);
});

test('reviewed auth classes enforced: every conflicted operation not classed none refuses no credentials', async () => {
  const env = seed.environments.find((e) => e.name === 'sandbox')!;
  const conflicted = Object.entries(spec.paths)
    .flatMap(([path, item]) => Object.entries(item).map(([method, o]) => ({ path, method: method.toUpperCase(), o })))
    .filter(({ o }) => typeof o['x-dynamic-auth-conflict'] === 'string' && o['x-dynamic-auth'] !== 'none');
  const open: string[] = [];
  for (const { path, method } of conflicted) {
    const filled = path.replace(/\{(\w+)\}/g, (_, name: string) =>
      name === 'environmentId' ? env.id : uuid(`${path}:${name}`),
    );
    const res = await mock.call(method, `/api/v0${filled}`, { headers: { accept: 'application/json' } });
    if (res.status !== 401) open.push(`${method} ${path} → ${res.status}`);
  }
  console.log(
    `reviewed auth classes enforced by the mock: ${conflicted.length - open.length}/${conflicted.length} ` +
      'refuse a request without credentials',
  );
  assert.ok(conflicted.length >= 78, `${conflicted.length}`);
  assert.deepEqual(open, []);
  const oauth = await mock.call('GET', `/api/v0/sdk/${env.id}/oauthAccounts/${uuid('oauth')}/accessToken`);
  assert.equal(oauth.status, 401, 'no OAuth access token without a user JWT');
});
