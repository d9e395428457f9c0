/**
 * The embedded mock over HTTP (ARCHITECTURE.md "The mock's contract"): routing of all 412 operations, 404/405,
 * validation (400/413/415), robustness against bad input (never 5xx), the stateful core resources, rate limits on
 * the mock clock, settings and determinism. The mock runs as a child process (`mock/server.ts`, port 0): tests
 * reach it over HTTP only, like the engine does.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';

import { ROOT, seedOf, startMock, tokenOf, type Mock, type Seed } from './support/mock-process.js';

interface SpecOp {
  method: string;
  path: string;
  operationId: string;
  auth: string;
  params: { name: string; in: string; required?: boolean; schema: Record<string, unknown> }[];
  body: boolean;
  successKind: 'json' | 'text' | 'void';
}
const spec = JSON.parse(readFileSync(`${ROOT}/specs/dynamic-api.openapi.json`, 'utf8')) as {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
const OPS: SpecOp[] = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => {
    const ok = Object.entries(op['responses'] as Record<string, { content?: Record<string, unknown> }>).find(([c]) =>
      c.startsWith('2'),
    )![1];
    return {
      method: method.toUpperCase(),
      path,
      operationId: op['operationId'] as string,
      auth: op['x-dynamic-auth'] as string,
      params: (op['parameters'] ?? []) as SpecOp['params'],
      body: op['requestBody'] !== undefined,
      successKind: ok.content?.['application/json'] ? 'json' : ok.content?.['text/plain'] ? 'text' : 'void',
    };
  }),
);
const SAMPLE_UUID = '11111111-2222-4333-8444-555555555555';

function resolveSchema(s: Record<string, unknown>): Record<string, unknown> {
  const ref = s['$ref'];
  return typeof ref === 'string' ? resolveSchema(spec.components.schemas[ref.split('/').pop()!]!) : s;
}
function paramValue(p: SpecOp['params'][number], ids: Record<string, string>): string {
  if (ids[p.name] !== undefined) return ids[p.name]!;
  const s = resolveSchema(p.schema);
  if (Array.isArray(s['enum'])) return String(s['enum'][0]);
  if (s['format'] === 'uuid') return SAMPLE_UUID;
  if (s['type'] === 'number' || s['type'] === 'integer') return '1';
  if (s['type'] === 'boolean') return 'true';
  return 'x';
}
function concretePath(op: SpecOp, ids: Record<string, string>): string {
  let path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    encodeURIComponent(
      paramValue(
        op.params.find((p) => p.name === name)!,
        ids,
      ),
    ),
  );
  const query: string[] = [];
  for (const p of op.params.filter((x) => x.in === 'query' && x.required === true)) {
    const s = resolveSchema(p.schema);
    if (s['type'] === 'object') {
      for (const [k, ps] of Object.entries(s['properties'] as Record<string, Record<string, unknown>>)) {
        query.push(`${p.name}[${k}]=${encodeURIComponent(paramValue({ name: k, in: 'query', schema: ps }, {}))}`);
      }
    } else query.push(`${p.name}=${encodeURIComponent(paramValue(p, {}))}`);
  }
  if (query.length > 0) path += `?${query.join('&')}`;
  return `/api/v0${path}`;
}

describe('mock over HTTP (default settings, MOCK_SEED=7)', () => {
  let mock: Mock;
  let seed: Seed;
  let env: string;
  let other: string;
  let all: string;
  let jwt: string;
  const auth = (v: string): Record<string, string> => ({ authorization: `Bearer ${v}` });

  before(async () => {
    mock = await startMock({ MOCK_SEED: '7' });
    seed = await seedOf(mock);
    env = seed.environments.find((e) => e.name === 'sandbox')!.id;
    other = seed.environments.find((e) => e.name === 'live')!.id;
    all = tokenOf(seed, env, 'all');
    jwt = seed.users.find((u) => u.environmentId === env)!.jwt;
  });
  after(async () => mock.stop());

  // Start-up time is a benchmark figure (npm run bench:mock), not a timed test: a loaded machine is not a failure.
  it('prints its base URL', () => {
    assert.match(mock.stdout, /^Dynamic mock listening on http:\/\/127\.0\.0\.1:\d+\/api\/v0 /);
  });

  it('seeds two projects (sandbox + live, two organizations), four labelled tokens, two users per environment', () => {
    assert.equal(seed.profile, 'docs-2026');
    assert.equal(seed.seed, 7);
    assert.deepEqual(
      seed.environments.map((e) => e.name),
      ['sandbox', 'live', 'sandbox', 'live'],
    );
    const orgs = seed.environments.map((e) => (e as unknown as { organizationId: string }).organizationId);
    assert.equal(orgs[0], orgs[1]);
    assert.equal(orgs[2], orgs[3]);
    assert.notEqual(orgs[0], orgs[2]);
    for (const e of seed.environments) {
      assert.match(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(e.issuer, `app.dynamic.xyz/${e.id}`);
      assert.deepEqual(
        seed.tokens.filter((t) => t.environmentId === e.id).map((t) => t.label),
        ['all', 'read-only', 'none', 'inactive'],
      );
      assert.equal(seed.users.filter((u) => u.environmentId === e.id).length, 2);
    }
    for (const t of seed.tokens) assert.match(t.value, /^dyn_[A-Za-z0-9]{56}$/);
    const ro = seed.tokens.find((t) => t.label === 'read-only')!;
    assert.ok(ro.scopes.length > 0 && ro.scopes.every((s) => s.endsWith('.read')));
    assert.deepEqual(seed.tokens.find((t) => t.label === 'none')!.scopes, []);
    assert.equal(seed.tokens.find((t) => t.label === 'inactive')!.active, false);
  });

  it('routes all 419 operations (valid credentials: never 404 route_not_found, 405, 401, 403, 5xx)', async () => {
    assert.equal(OPS.length, 419);
    const user = seed.users.find((u) => u.environmentId === env)!.id;
    let n = 0;
    for (const op of OPS) {
      if (n++ % 40 === 0) {
        await mock.control('POST', '/reset');
        seed = await seedOf(mock);
        jwt = seed.users.find((u) => u.environmentId === env)!.jwt;
      }
      const headers: Record<string, string> = {};
      if (op.auth === 'api-token') headers['authorization'] = `Bearer ${all}`;
      if (op.auth === 'user-jwt') headers['authorization'] = `Bearer ${jwt}`;
      for (const p of op.params.filter((x) => x.in === 'header' && x.required === true)) headers[p.name] = 'x';
      const r = await mock.call(op.method, concretePath(op, { environmentId: env, userId: user }), { headers });
      const where = `${op.method} ${op.path} -> ${r.status} ${r.text.slice(0, 120)}`;
      assert.notEqual(r.status, 405, where);
      assert.ok(!(r.status === 404 && r.text.includes('route_not_found')), where);
      assert.ok(r.status < 500 && r.status !== 401 && r.status !== 403 && r.status !== 429, where);
      if (r.status === 200 && op.successKind !== 'void')
        assert.match(
          String(r.headers['content-type']),
          op.successKind === 'json' ? /^application\/json/ : /^text\/plain/,
          where,
        );
      if (r.status === 204) assert.equal(r.text, '', where);
      assert.equal(r.headers['cache-control'], 'no-store', where);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', where);
      assert.equal(r.headers['x-powered-by'], undefined, where);
    }
    await mock.control('POST', '/reset');
  });

  it('answers unknown paths 404 route_not_found and undeclared methods 405 with a sorted Allow', async () => {
    for (const path of [
      '/api/v0/nope',
      '/api/v0/environments',
      '/',
      '/api/v1/environments/x',
      `/api/v0/environments/${env}/`,
    ]) {
      const r = await mock.call('GET', path);
      assert.equal(r.status, 404, path);
      assert.deepEqual(r.json(), { error: 'Route not found', code: 'route_not_found' });
      assert.match(String(r.headers['content-type']), /^application\/json; charset=utf-8$/);
    }
    const r = await mock.call('PATCH', `/api/v0/environments/${env}`, { headers: auth(all) });
    assert.equal(r.status, 405);
    assert.equal(r.headers['allow'], 'GET, PUT');
    assert.deepEqual(r.json(), { error: 'Method not allowed' });
    assert.equal((await mock.call('DELETE', `/api/v0/environments/${env}/tokens`)).headers['allow'], 'GET, POST');
  });

  it('validates path, query and header parameters with one-line 400 messages', async () => {
    let r = await mock.call('GET', '/api/v0/environments/not-a-uuid', { headers: auth(all) });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { error: 'path parameter environmentId must match format "uuid"' });
    r = await mock.call('GET', `/api/v0/environments/${env}/users/NOT-A-UUID`, { headers: auth(all) });
    assert.equal(r.status, 400);
    assert.match(String(r.json()['error']), /^path parameter userId /);
    r = await mock.call('GET', `/api/v0/environments/${env}/analytics/overview?start=a&end=b&granularity=year`, {
      headers: auth(all),
    });
    assert.equal(r.status, 400);
    assert.equal(r.json()['error'], 'query parameter granularity must be equal to one of the allowed values');
    r = await mock.call('GET', `/api/v0/environments/${env}/analytics/overview?start=a&granularity=day`, {
      headers: auth(all),
    });
    assert.deepEqual(r.json(), { error: 'query parameter end is required' });
    r = await mock.call('GET', `/api/v0/sdk/${env}/evm/availableGaslessRelayer?chainId=abc`, { headers: auth(jwt) });
    assert.equal(r.status, 400);
    assert.equal(r.json()['error'], 'query parameter chainId must be number');
    r = await mock.call('GET', `/api/v0/sdk/${env}/evm/availableGaslessRelayer?chainId=1&access_token=zzz`, {
      headers: auth(jwt),
    });
    assert.equal(r.status, 200, 'unknown query parameters are ignored');
    r = await mock.call('POST', `/api/v0/sdk/${env}/waas/${SAMPLE_UUID}/transactions/broadcast`, {
      headers: { ...auth(jwt), 'content-type': 'application/json' },
      body: '{}',
    });
    assert.deepEqual(r.json(), { error: 'header parameter x-idempotency-key is required' });
  });

  it('validates bodies: 415, 413 (declared, chunked), malformed JSON, bad UTF-8, deep nesting, schema', async () => {
    const path = `/api/v0/environments/${env}/tokens`;
    const json = { ...auth(all), 'content-type': 'application/json' };
    let r = await mock.call('POST', path, {
      headers: { ...auth(all), 'content-type': 'text/plain' },
      body: '{"note":"x"}',
    });
    assert.equal(r.status, 415);
    assert.deepEqual(r.json(), { error: 'Unsupported Content-Type' });
    r = await mock.call('POST', path, { headers: auth(all), body: '{"note":"x"}' });
    assert.equal(r.status, 415, 'no Content-Type');
    r = await mock.call('POST', path, { headers: json, body: Buffer.alloc(1024 * 1024 + 1, 0x20) });
    assert.equal(r.status, 413);
    assert.deepEqual(r.json(), { error: 'Payload too large' });
    const chunked = await request(`${mock.url}${path}`, {
      method: 'POST',
      headers: json,
      body: Readable.from(Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 0x20))),
    });
    assert.equal(chunked.statusCode, 413);
    await chunked.body.text();
    r = await mock.call('POST', path, { headers: json, body: '{"note": ' });
    assert.deepEqual([r.status, r.json()], [400, { error: 'Malformed JSON body' }]);
    r = await mock.call('POST', path, {
      headers: json,
      body: Buffer.from([0x7b, 0x22, 0x6e, 0x6f, 0x74, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    assert.deepEqual([r.status, r.json()], [400, { error: 'Malformed JSON body' }]);
    r = await mock.call('POST', path, { headers: json, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` });
    assert.equal(r.status, 400);
    r = await mock.call('POST', path, { headers: json, body: '{"scopes":["environment.users.read"]}' });
    assert.deepEqual([r.status, r.json()], [400, { error: "body must have required property 'note'" }]);
    r = await mock.call('POST', path, { headers: json, body: '{"note":"x","scopes":["bogus"]}' });
    assert.deepEqual(
      [r.status, r.json()],
      [400, { error: 'body/scopes/0 must be equal to one of the allowed values' }],
    );
    r = await mock.call('POST', path, { headers: json });
    assert.deepEqual([r.status, r.json()], [400, { error: 'body is required' }]);
    assert.equal((await mock.call('GET', '/__mock/health')).status, 200, 'still up');
  });

  it('never answers 5xx to broken HTTP: oversized headers 431, bad request line 400, the server stays up', async () => {
    const raw = (payload: string): Promise<string> =>
      new Promise((resolve) => {
        const u = new URL(mock.url);
        const s = connect(Number(u.port), u.hostname, () => s.write(payload));
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString('latin1')));
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
        setTimeout(() => s.destroy(), 2000);
      });
    let out = await raw(
      `GET /api/v0/environments/${env} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(out, /^HTTP\/1\.1 431 /);
    assert.match(out, /\{"error":"Request header fields too large"\}/);
    out = await raw('GARBAGE\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
    out = await raw(`GET /api/v0/environments/${env} HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 400 /);
    out = await raw(
      `GET /api/v0/environments/${env} HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer \xff\xfe\xfd\r\nConnection: close\r\n\r\n`,
    );
    assert.match(out, /^HTTP\/1\.1 401 /);
    const r = await mock.call('GET', `/api/v0/environments/${env}/users/%E0%A4%A`, { headers: auth(all) });
    assert.equal(r.status, 400);
    assert.equal((await mock.call('GET', '/__mock/health')).status, 200);
  });

  it('round-trips API tokens: create → authenticates → list → delete → revoked → 404', async () => {
    const base = `/api/v0/environments/${env}/tokens`;
    const json = { ...auth(all), 'content-type': 'application/json' };
    const created = await mock.call('POST', base, {
      headers: json,
      body: JSON.stringify({ note: 'ci', scopes: ['environment.users.read'] }),
    });
    assert.equal(created.status, 201, 'postToken answers the documented 201');
    const token = created.json()['token'] as Record<string, unknown>;
    const raw = String(token['rawToken']);
    assert.match(raw, /^dyn_[A-Za-z0-9]{56}$/);
    assert.equal(token['checksum'], raw.slice(-6));
    assert.equal(token['active'], true);
    assert.equal(
      (await mock.call('GET', `/api/v0/environments/${env}/users`, { headers: auth(raw) })).status,
      200,
      'the new token authenticates',
    );
    assert.equal((await mock.call('GET', base, { headers: auth(raw) })).status, 403, 'and holds only its scopes');
    const list = (await mock.call('GET', base, { headers: auth(all) })).json()['tokens'] as Record<string, unknown>[];
    assert.ok(list.some((t) => t['id'] === token['id']));
    assert.ok(
      list.every((t) => t['rawToken'] === undefined),
      'lists never carry raw tokens',
    );
    assert.equal((await mock.call('DELETE', `${base}/${String(token['id'])}`, { headers: auth(all) })).status, 204);
    assert.equal(
      (await mock.call('GET', `/api/v0/environments/${env}/users`, { headers: auth(raw) })).status,
      401,
      'revoked',
    );
    const again = await mock.call('DELETE', `${base}/${String(token['id'])}`, { headers: auth(all) });
    assert.deepEqual([again.status, again.json()], [404, { error: 'Not found', code: 'not_found' }]);
  });

  it('round-trips users, webhooks, allowlists, origins (create → get → list → delete → get 404)', async () => {
    const json = { ...auth(all), 'content-type': 'application/json' };
    const e = `/api/v0/environments/${env}`;
    // users
    const u = (
      await mock.call('POST', `${e}/users`, {
        headers: json,
        body: JSON.stringify({ email: 'a@example.invalid', firstName: 'Ada' }),
      })
    ).json()['user'] as Record<string, unknown>;
    assert.equal(u['email'], 'a@example.invalid');
    assert.equal(
      (
        (await mock.call('GET', `${e}/users/${String(u['id'])}`, { headers: auth(all) })).json()['user'] as Record<
          string,
          unknown
        >
      )['firstName'],
      'Ada',
    );
    const upd = await mock.call('PUT', `${e}/users/${String(u['id'])}`, {
      headers: json,
      body: JSON.stringify({ lastName: 'L' }),
    });
    assert.equal((upd.json()['user'] as Record<string, unknown>)['lastName'], 'L');
    assert.ok(
      ((await mock.call('GET', `${e}/users`, { headers: auth(all) })).json()['users'] as { id: string }[]).some(
        (x) => x.id === u['id'],
      ),
    );
    assert.equal((await mock.call('GET', `${e}/users/${String(u['id'])}/wallets`, { headers: auth(all) })).status, 200);
    assert.equal((await mock.call('DELETE', `${e}/users/${String(u['id'])}`, { headers: auth(all) })).status, 204);
    assert.equal((await mock.call('GET', `${e}/users/${String(u['id'])}`, { headers: auth(all) })).status, 404);
    assert.equal(
      (await mock.call('GET', `${e}/users/${String(u['id'])}/wallets`, { headers: auth(all) })).status,
      404,
      'sub-resources of a deleted user',
    );
    // webhooks
    const w = (
      await mock.call('POST', `${e}/webhooks`, {
        headers: json,
        body: JSON.stringify({ url: 'https://h.example.invalid', isEnabled: true, events: ['user.created'] }),
      })
    ).json();
    const wid = String(w['webhookId']);
    assert.equal(
      (await mock.call('GET', `${e}/webhooks/${wid}`, { headers: auth(all) })).json()['url'],
      'https://h.example.invalid',
    );
    assert.ok(
      (
        (await mock.call('GET', `${e}/webhooks`, { headers: auth(all) })).json()['data'] as { webhookId: string }[]
      ).some((x) => x.webhookId === wid),
    );
    assert.equal((await mock.call('DELETE', `${e}/webhooks/${wid}`, { headers: auth(all) })).status, 204);
    assert.equal((await mock.call('GET', `${e}/webhooks/${wid}`, { headers: auth(all) })).status, 404);
    // allowlists (+ entries)
    const a = (
      await mock.call('POST', `${e}/allowlists`, {
        headers: json,
        body: JSON.stringify({ name: 'vip', outcome: 'block' }),
      })
    ).json();
    const aid = String(a['id']);
    assert.equal((await mock.call('GET', `/api/v0/allowlists/${aid}`, { headers: auth(all) })).json()['name'], 'vip');
    assert.equal(
      (await mock.call('PUT', `/api/v0/allowlists/${aid}/enable`, { headers: auth(all) })).json()['enabledAt'],
      new Date(seed.now * 1000).toISOString(),
    );
    const entry = (
      await mock.call('POST', `/api/v0/allowlists/${aid}/entries`, {
        headers: json,
        body: JSON.stringify({ email: 'x@example.invalid' }),
      })
    ).json();
    assert.equal(
      (await mock.call('GET', `/api/v0/allowlists/${aid}/entries`, { headers: auth(all) })).json()['count'],
      1,
    );
    assert.equal(
      (await mock.call('DELETE', `/api/v0/allowlistEntries/${String(entry['id'])}`, { headers: auth(all) })).status,
      204,
    );
    assert.ok(
      ((await mock.call('GET', `${e}/allowlists`, { headers: auth(all) })).json() as unknown as { id: string }[]).some(
        (x) => x.id === aid,
      ),
    );
    assert.equal((await mock.call('DELETE', `/api/v0/allowlists/${aid}`, { headers: auth(all) })).status, 204);
    assert.equal((await mock.call('GET', `/api/v0/allowlists/${aid}`, { headers: auth(all) })).status, 404);
    // origins
    const o = (
      await mock.call('POST', `${e}/origins`, {
        headers: json,
        body: JSON.stringify({ origin: 'https://o.example.invalid' }),
      })
    ).json()['origin'] as Record<string, unknown>;
    assert.ok(
      ((await mock.call('GET', `${e}/origins`, { headers: auth(all) })).json()['origins'] as { id: string }[]).some(
        (x) => x.id === o['id'],
      ),
    );
    assert.equal((await mock.call('DELETE', `/api/v0/origins/${String(o['id'])}`, { headers: auth(all) })).status, 204);
    assert.equal((await mock.call('DELETE', `/api/v0/origins/${String(o['id'])}`, { headers: auth(all) })).status, 404);
  });

  it('keeps environment settings consistent between PUT /environments/{id} and GET /sdk/{id}/settings', async () => {
    const before = (await mock.call('GET', `/api/v0/environments/${env}`, { headers: auth(all) })).json();
    assert.equal(before['id'], env);
    const settings = { ...(before['settings'] as Record<string, unknown>), environmentName: 'sandbox' };
    const put = await mock.call('PUT', `/api/v0/environments/${env}`, {
      headers: { ...auth(all), 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });
    assert.equal(put.status, 200);
    assert.deepEqual((await mock.call('GET', `/api/v0/sdk/${env}/settings`)).json(), settings);
  });

  it("serves the seeded project's environment pair at GET /projects/{projectId}/environments", async () => {
    const projectId = (seed.environments[0] as unknown as { projectId: string }).projectId;
    const r = await mock.call('GET', `/api/v0/projects/${projectId}/environments`, { headers: auth(all) });
    assert.equal(r.status, 200);
    const envs = r.json()['environments'] as Record<string, { id: string }>;
    assert.deepEqual([envs['sandbox']!.id, envs['live']!.id], [env, other]);
    assert.equal(
      (await mock.call('GET', `/api/v0/projects/${randomUUID()}/environments`, { headers: auth(all) })).status,
      404,
    );
  });

  it('answers unknown environments per auth class: api-token 403, user-jwt 401, none 404', async () => {
    const unknown = randomUUID();
    assert.equal((await mock.call('GET', `/api/v0/environments/${unknown}`, { headers: auth(all) })).status, 403);
    assert.equal((await mock.call('GET', `/api/v0/sdk/${unknown}/users/passkeys`, { headers: auth(jwt) })).status, 401);
    const r = await mock.call('GET', `/api/v0/sdk/${unknown}/settings`);
    assert.deepEqual([r.status, r.json()], [404, { error: 'Not found', code: 'not_found' }]);
  });

  it('serves the environment key as JWKS (both paths) and as base64 PEM, all the same key', async () => {
    const a = (await mock.call('GET', `/api/v0/sdk/${env}/.well-known/jwks`)).json();
    const b = (await mock.call('GET', `/api/v0/sdk/${env}/.well-known/jwks.json`)).json();
    assert.deepEqual(a, b);
    const [k] = a['keys'] as Record<string, string>[];
    assert.equal(k!['kid'], seed.environments[0]!.kid);
    assert.deepEqual([k!['alg'], k!['kty'], k!['use'], k!['e']], ['RS256', 'RSA', 'sig', 'AQAB']);
    const key = (await mock.call('GET', `/api/v0/environments/${env}/keys`, { headers: auth(all) })).json()[
      'key'
    ] as Record<string, string>;
    assert.equal(key['id'], k!['kid']);
    const pem = Buffer.from(key['publicKey']!, 'base64').toString('utf8');
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(createPublicKey(pem).export({ format: 'jwk' }).n, k!['n']);
    const otherJwks = (await mock.call('GET', `/api/v0/sdk/${other}/.well-known/jwks`)).json();
    assert.notEqual((otherJwks['keys'] as Record<string, string>[])[0]!['n'], k!['n'], 'one key per environment');
  });
});

describe('mock rate limits (fixed windows on the mock clock)', () => {
  let mock: Mock;
  let seed: Seed;
  let env: string;
  before(async () => {
    mock = await startMock({ MOCK_SEED: '3', MOCK_TRUSTED_PROXY: '127.0.0.9' });
    seed = await seedOf(mock);
    env = seed.environments[0]!.id;
  });
  after(async () => mock.stop());

  it('admits exactly N nonce requests, then 429 with the profile body, Retry-After and no-store', async () => {
    await mock.control('POST', '/reset');
    const path = `/api/v0/sdk/${env}/nonce`;
    for (let i = 0; i < 10; i++) assert.equal((await mock.call('GET', path)).status, 200, `request ${i + 1}`);
    const r = await mock.call('GET', path);
    assert.equal(r.status, 429);
    assert.deepEqual(r.json(), { error: 'Too many requests. Please try again later.' });
    assert.equal(r.headers['retry-after'], '60');
    assert.equal(r.headers['cache-control'], 'no-store');
    await mock.control('POST', '/clock', { advanceSeconds: 59 });
    const still = await mock.call('GET', path);
    assert.equal(still.status, 429);
    assert.equal(still.headers['retry-after'], '1');
    await mock.control('POST', '/clock', { advanceSeconds: 1 });
    assert.equal((await mock.call('GET', path)).status, 200, 'capacity returns at the window edge');
  });

  it('binds multi-window policies at each window (sdk-ip: 60/10 s, 250/60 s, 500/300 s)', async () => {
    await mock.control('POST', '/reset');
    const path = `/api/v0/sdk/${env}/settings`;
    let passed = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 61; i++)
        if ((await mock.call('GET', path, { localAddress: '127.0.0.4' })).status === 200) passed++;
      await mock.control('POST', '/clock', { advanceSeconds: 10 });
    }
    assert.equal(passed, 250, 'the 60 s window binds after 250');
    const r = await mock.call('GET', path, { localAddress: '127.0.0.4' });
    assert.equal(r.status, 200, 'a new minute starts at 60 s');
  });

  it('counts every request, also the ones later rejected (401/400), and keeps per-IP buckets independent', async () => {
    await mock.control('POST', '/reset');
    const path = `/api/v0/sdk/${env}/verify`;
    for (let i = 0; i < 10; i++) {
      const r = await mock.call('POST', path, {
        localAddress: '127.0.0.2',
        headers: { 'content-type': 'application/json' },
        body: '{',
      });
      assert.equal(r.status, 400);
    }
    assert.equal(
      (
        await mock.call('POST', path, {
          localAddress: '127.0.0.2',
          headers: { 'content-type': 'application/json' },
          body: '{',
        })
      ).status,
      429,
    );
    assert.equal(
      (
        await mock.call('POST', path, {
          localAddress: '127.0.0.3',
          headers: { 'content-type': 'application/json' },
          body: '{',
        })
      ).status,
      400,
      'another address has its own bucket',
    );
  });

  it('ignores X-Forwarded-For from untrusted sockets and honours it from MOCK_TRUSTED_PROXY', async () => {
    await mock.control('POST', '/reset');
    const path = `/api/v0/sdk/${env}/nonce`;
    for (let i = 0; i < 10; i++)
      await mock.call('GET', path, { localAddress: '127.0.0.5', headers: { 'x-forwarded-for': `10.0.0.${i}` } });
    assert.equal(
      (await mock.call('GET', path, { localAddress: '127.0.0.5', headers: { 'x-forwarded-for': '10.9.9.9' } })).status,
      429,
      'spoofed XFF does not reset',
    );
    for (let i = 0; i < 10; i++)
      assert.equal(
        (await mock.call('GET', path, { localAddress: '127.0.0.9', headers: { 'x-forwarded-for': `10.0.1.${i}` } }))
          .status,
        200,
      );
  });

  it('counts concurrent bursts exactly (no over-admission)', async () => {
    await mock.control('POST', '/reset');
    const path = `/api/v0/sdk/${env}/nonce`;
    const results = await Promise.all(
      Array.from({ length: 30 }, () => mock.call('GET', path, { localAddress: '127.0.0.6' })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 10);
    assert.equal(results.filter((r) => r.status === 429).length, 20);
  });

  it('keys environment policies by {environmentId} and resets everything on POST /__mock/reset', async () => {
    await mock.control('POST', '/reset');
    const before = await seedOf(mock);
    await mock.control('POST', '/clock', { advanceSeconds: 1000 });
    const afterReset = await mock.control('POST', '/reset');
    assert.equal(afterReset['now'], before.now);
    assert.equal((await mock.call('GET', `/api/v0/sdk/${env}/nonce`)).status, 200);
  });
});

describe('mock settings and determinism', { concurrency: 8 }, () => {
  it('gives identical seeds, tokens, users, JWTs and samples for one MOCK_SEED, different ones otherwise', async () => {
    const [a, b, c] = await Promise.all([
      startMock({ MOCK_SEED: '42' }),
      startMock({ MOCK_SEED: '42' }),
      startMock({ MOCK_SEED: '43' }),
    ]);
    try {
      const [sa, sb, sc] = await Promise.all([
        a.control('GET', '/seed'),
        b.control('GET', '/seed'),
        c.control('GET', '/seed'),
      ]);
      assert.deepEqual(sa, sb);
      assert.notDeepEqual((sa as unknown as Seed).environments, (sc as unknown as Seed).environments);
      const env = (sa as unknown as Seed).environments[0]!.id;
      const token = tokenOf(sa as unknown as Seed, env, 'all');
      for (const path of [
        `/api/v0/sdk/${env}/settings`,
        `/api/v0/sdk/${env}/.well-known/jwks`,
        `/api/v0/environments/${env}/analytics/visits`,
      ]) {
        const [ra, rb] = await Promise.all([
          a.call('GET', path, { headers: { authorization: `Bearer ${token}` } }),
          b.call('GET', path, { headers: { authorization: `Bearer ${token}` } }),
        ]);
        assert.equal(ra.status, 200, path);
        assert.equal(ra.text, rb.text, path);
      }
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  it('keeps derived signing keys on disk; a damaged cached key is derived again, never trusted', async () => {
    type Jwk = Record<'n' | 'p' | 'q' | 'd', string>;
    // A seed no earlier run used, so this test's mocks write (and then find) their own cache files.
    const seed = String(900_000_000_000 + (process.pid % 1000) * 1_000_000 + (Date.now() % 1_000_000));
    const dir = join(ROOT, 'node_modules', '.cache', 'dynamic-conformance-mock', 'keys');
    const listing = (): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []);
    const jwksOf = async (m: Mock): Promise<string[]> => {
      const envs = (await seedOf(m)).environments.map((e) => e.id);
      return Promise.all(envs.map(async (e) => (await m.call('GET', `/api/v0/sdk/${e}/.well-known/jwks`)).text));
    };
    const before = new Set(listing());
    let running: Mock | undefined;
    const run = async (): Promise<string[]> => {
      running = await startMock({ MOCK_SEED: seed, MOCK_CONTROL: 'on' });
      const jwks = await jwksOf(running);
      await running.stop();
      running = undefined;
      return jwks;
    };
    let written: string[] = [];
    try {
      const derived = await run();
      // This seed's files: new ones holding one of its moduli (other test files' mocks may write theirs meanwhile).
      const modulusOf = (f: string): string => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as Jwk).n;
      written = listing().filter((f) => !before.has(f) && derived.some((j) => j.includes(modulusOf(f))));
      assert.equal(written.length, derived.length, 'one file per environment key');
      assert.deepEqual(await run(), derived, 'the cached keys are the derived ones');
      // Damaged: another key's modulus (n ≠ p·q) in one file, not JSON at all in the others.
      const [one, two] = written.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Jwk);
      writeFileSync(join(dir, written[0]!), JSON.stringify({ ...one, n: two!.n }));
      for (const f of written.slice(1)) writeFileSync(join(dir, f), '{"kty":');
      assert.deepEqual(await run(), derived, 'damaged files are derived again: the same keys');
      assert.deepEqual(JSON.parse(readFileSync(join(dir, written[0]!), 'utf8')), one, 'and written back whole');
    } finally {
      await running?.stop();
      for (const f of written) rmSync(join(dir, f), { force: true });
    }
  });

  it('follows the docs-2025 profile: 36-character tokens and the {message, code} 429 body', async () => {
    const m = await startMock({ DYNAMIC_DOCS_PROFILE: 'docs-2025', MOCK_CONTROL: 'on' });
    try {
      const s = await seedOf(m);
      assert.equal(s.profile, 'docs-2025');
      for (const t of s.tokens) assert.match(t.value, /^dyn_[A-Za-z0-9]{36}$/);
      const path = `/api/v0/sdk/${s.environments[0]!.id}/nonce`;
      for (let i = 0; i < 10; i++) await m.call('GET', path);
      const r = await m.call('GET', path);
      assert.deepEqual([r.status, r.json()], [429, { message: 'Rate limit exceeded', code: 429 }]);
    } finally {
      await m.stop();
    }
  });

  it('turns the control API off with MOCK_CONTROL=off', async () => {
    const m = await startMock({ MOCK_CONTROL: 'off' });
    try {
      const r = await m.call('GET', '/__mock/health');
      assert.deepEqual([r.status, r.json()], [404, { error: 'Route not found', code: 'route_not_found' }]);
    } finally {
      await m.stop();
    }
  });

  for (const [name, value, pattern] of [
    ['MOCK_PORT', 'abc', /^mock: MOCK_PORT must be an integer 0-65535 \(got "abc"\)\n$/],
    ['MOCK_HOST', '0.0.0.0', /^mock: MOCK_HOST must be a loopback address/],
    ['MOCK_FAULTS', 'no-rate-limit,bogus', /^mock: MOCK_FAULTS names an unknown fault "bogus"/],
    ['MOCK_PROFILE', 'docs-1999', /^mock: MOCK_PROFILE must be one of docs-2025, docs-2026/],
    ['MOCK_CONTROL', 'maybe', /^mock: MOCK_CONTROL must be "on" or "off"/],
    ['MOCK_TRUSTED_PROXY', 'proxy.local', /^mock: MOCK_TRUSTED_PROXY must be an IP address/],
    ['MOCK_START_TIME', '-5', /^mock: MOCK_START_TIME must be epoch seconds/],
    ['MOCK_SEED', 'x y', /^mock: MOCK_SEED must be a non-negative integer/],
  ] as const) {
    it(`rejects a bad ${name} with one readable line and exit code 2`, async () => {
      const err = await startMock({ [name]: value }).then(
        async (m) => {
          await m.stop();
          return new Error('started');
        },
        (e: unknown) => e as Error,
      );
      const m = /mock exited with (\d+): ([\s\S]*)$/.exec(err.message);
      assert.ok(m, err.message);
      assert.equal(m[1], '2');
      assert.match(m[2]!, pattern);
      assert.doesNotMatch(m[2]!, /\n\s+at /, 'no stack trace');
    });
  }
});
