/**
 * The mock's auth step over HTTP (AUTH-001..AUTH-019, TOKEN-002..TOKEN-010, JWT-001..JWT-012): the API-token
 * matrix, the Bearer grammar, duplicate Authorization lines (raw socket) and every JWT failure class, with tokens
 * forged by jose on the client side. The mock runs as a child process; tests reach it over HTTP only.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT, exportJWK } from 'jose';

import { startMock, type Mock, type Res, type Seed } from './support/mock-process.js';

const CHALLENGE = 'Bearer realm="dynamic"';
const INVALID_TOKEN = 'Bearer realm="dynamic", error="invalid_token"';
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('mock auth', () => {
  let mock: Mock;
  let seed: Seed;
  let env: string;
  let other: string;
  let all: string;
  let jwt: string;
  const tok = (label: string, e = env): string =>
    seed.tokens.find((t) => t.environmentId === e && t.label === label)!.value;
  const users = (): string => `/api/v0/environments/${env}/users`;
  const session = (e = env): string => `/api/v0/sdk/${e}/users`;
  const get = (path: string, authorization?: string, extra: Record<string, string> = {}): Promise<Res> =>
    mock.call('GET', path, { headers: authorization === undefined ? extra : { authorization, ...extra } });
  const mint = async (body: Record<string, unknown>): Promise<string> =>
    String((await mock.control('POST', '/jwt', { environmentId: env, ...body }))['jwt']);

  before(async () => {
    mock = await startMock({ MOCK_SEED: '11' });
    seed = (await mock.control('GET', '/seed')) as unknown as Seed;
    env = seed.environments[0]!.id;
    other = seed.environments[1]!.id;
    all = tok('all');
    jwt = seed.users.find((u) => u.environmentId === env)!.jwt;
  });
  beforeEach(async () => {
    await mock.control('POST', '/reset');
  });
  after(async () => mock.stop());

  const noCredentials = async (r: Res): Promise<void> => {
    assert.equal(r.status, 401);
    assert.deepEqual(r.json(), { error: 'No jwt provided!' });
    assert.equal(r.headers['www-authenticate'], CHALLENGE);
    return Promise.resolve();
  };
  const rejected = (r: Res, what: string): void => {
    assert.equal(r.status, 401, what);
    assert.deepEqual(r.json(), { error: 'Invalid authentication credentials' }, what);
    assert.equal(r.headers['www-authenticate'], INVALID_TOKEN, what);
  };

  it('answers no credential (absent, empty, "Bearer", other schemes, query only) 401, no error param', async () => {
    for (const authorization of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from(`x:${all}`).toString('base64')}`,
      `Token ${all}`,
      all,
      `X-API-Key ${all}`,
    ]) {
      await noCredentials(await get(users(), authorization));
    }
    await noCredentials(await get(`${users()}?access_token=${all}`));
    await noCredentials(await get(`${users()}?token=${all}`));
    await noCredentials(await get(session(), undefined));
  });

  it('accepts Bearer in any case and with several spaces; rejects tab separators and extra words', async () => {
    for (const authorization of [
      `Bearer ${all}`,
      `bearer ${all}`,
      `BEARER ${all}`,
      `Bearer    ${all}`,
      `  Bearer ${all}  `,
    ]) {
      assert.equal((await get(users(), authorization)).status, 200, JSON.stringify(authorization.slice(0, 12)));
    }
    rejected(await get(users(), `Bearer\t${all}`), 'tab');
    rejected(await get(users(), `Bearer ${all} extra`), 'extra word');
  });

  it('rejects unknown, malformed, inactive and lookalike tokens with one indistinguishable 401', async () => {
    const body = all.slice(4);
    const flip = (s: string, i: number): string =>
      s.slice(0, i) + (s[i] === s[i]!.toUpperCase() ? s[i].toLowerCase() : s[i]!.toUpperCase()) + s.slice(i + 1);
    const firstLetter = body.search(/[A-Za-z]/);
    const cases: Record<string, string> = {
      unknown: `dyn_${'A'.repeat(56)}`,
      inactive: tok('inactive'),
      short: all.slice(0, -1),
      long: `${all}A`,
      'DYN_ prefix': `DYN_${body}`,
      'Dyn_ prefix': `Dyn_${body}`,
      'dyn- prefix': `dyn-${body}`,
      'no prefix': body,
      'doubled prefix': `dyn_dyn_${body.slice(4)}`,
      'case flip': `dyn_${flip(body, firstLetter)}`,
      'non-alnum': `dyn_${body.slice(0, 10)}-${body.slice(11)}`,
      'inner space NBSP': `dyn_${body.slice(0, 10)}\u00a0${body.slice(11)}`,
      ghp: `ghp_${'a'.repeat(36)}`,
      sk_live: `sk_live_${'a'.repeat(24)}`,
      'user JWT': jwt,
    };
    for (const [what, value] of Object.entries(cases)) {
      const r = await mock.call('GET', users(), {
        headers: { authorization: `Bearer ${Buffer.from(value, 'utf8').toString('latin1')}` },
      });
      rejected(r, what);
      assert.ok(!r.text.includes(value.slice(4, 20)), `${what}: no echo`);
    }
  });

  it('treats fullwidth lookalikes and raw non-ASCII bytes as invalid, never 5xx', async () => {
    const fullwidth = `ｄｙｎ＿${all.slice(4)}`;
    rejected(
      await mock.call('GET', users(), {
        headers: { authorization: `Bearer ${Buffer.from(fullwidth, 'utf8').toString('latin1')}` },
      }),
      'fullwidth',
    );
  });

  it('answers 403 insufficient_scope for another environment and missing documented or inferred scopes', async () => {
    const forbidden = (r: Res, what: string): void => {
      assert.equal(r.status, 403, what);
      assert.deepEqual(r.json(), { error: 'Forbidden' }, what);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="dynamic", error="insufficient_scope"', what);
    };
    forbidden(await get(users(), `Bearer ${tok('all', other)}`), 'other environment');
    forbidden(await get(users(), `Bearer ${tok('none')}`), 'no scopes, inferred users.read');
    assert.equal((await get(users(), `Bearer ${tok('read-only')}`)).status, 200);
    const json = { 'content-type': 'application/json' };
    forbidden(
      await mock.call('POST', users(), {
        headers: { authorization: `Bearer ${tok('read-only')}`, ...json },
        body: '{}',
      }),
      'read-only, inferred users.write',
    );
    forbidden(
      await mock.call('POST', `/api/v0/environments/${env}/waas/authenticate`, {
        headers: { authorization: `Bearer ${tok('read-only')}`, ...json },
        body: '{}',
      }),
      'documented waas.authenticate',
    );
    assert.equal(
      (await get(`/api/v0/environments/${env}/keys`, `Bearer ${tok('none')}`)).status,
      200,
      'operations without scopes accept any token of the environment',
    );
    forbidden(
      await get(`/api/v0/environments/${env}`, `Bearer ${tok('none')}`),
      'no scopes, inferred settings.read on the environment itself',
    );
    assert.equal(
      (await get('/api/v0/user/tokens', `Bearer ${tok('none', other)}`)).status,
      200,
      'operations without {environmentId} accept any active token',
    );
    rejected(await get('/api/v0/user/tokens', `Bearer ${tok('inactive')}`), 'inactive without environment');
  });

  it('checks credentials before input (AUTH-019): bad body or id without credentials is still 401', async () => {
    await noCredentials(
      await mock.call('POST', users(), { headers: { 'content-type': 'application/json' }, body: '{bad' }),
    );
    await noCredentials(await mock.call('GET', '/api/v0/environments/not-a-uuid/users'));
    rejected(
      await mock.call('GET', '/api/v0/environments/not-a-uuid/users', { headers: { authorization: 'Bearer dyn_x' } }),
      'invalid token, bad id',
    );
  });

  it('answers two Authorization lines 400 invalid_request, even when both are valid (raw socket)', async () => {
    const u = new URL(mock.url);
    const out = await new Promise<string>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () =>
        s.write(
          `GET ${users()} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${all}\r\n` +
            `authorization: Bearer ${all}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('close', () => resolve(data));
    });
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.match(out, /www-authenticate: Bearer realm="dynamic", error="invalid_request"/i);
    assert.match(out, /\{"error":"Duplicate Authorization header"\}$/);
    assert.ok(!out.includes(all.slice(4)), 'no echo');
  });

  it('accepts the seeded user JWT and rejects an API token on user-jwt operations (AUTH-016)', async () => {
    assert.equal((await get(session(), `Bearer ${jwt}`)).status, 200);
    const r = await get(session(), `Bearer ${all}`);
    assert.deepEqual(
      [r.status, r.json(), r.headers['www-authenticate']],
      [401, { error: 'Invalid jwt' }, INVALID_TOKEN],
    );
  });

  it('rejects every JWT failure class with one 401 body that echoes nothing', async () => {
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const keyRes = (await get(`/api/v0/environments/${env}/keys`, `Bearer ${all}`)).json()['key'] as Record<
      string,
      string
    >;
    const pem = Buffer.from(keyRes['publicKey']!, 'base64').toString('utf8');
    const hs = `${b64({ alg: 'HS256', typ: 'JWT', kid: seed.environments[0]!.kid })}.${p}`;
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const now = seed.now;
    const cases: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'alg NONE': `${b64({ alg: 'NONE', typ: 'JWT', kid: seed.environments[0]!.kid })}.${p}.`,
      'HS256 with the public key': `${hs}.${createHmac('sha256', pem).update(hs).digest('base64url')}`,
      'tampered payload': `${h}.${b64({ ...payload, sub: '00000000-0000-4000-8000-000000000000' })}.${sig}`,
      'truncated signature': `${h}.${p}.${sig.slice(0, 100)}`,
      'empty signature': `${h}.${p}.`,
      'two segments': `${h}.${p}`,
      'four segments': `${jwt}.x`,
      garbage: 'a.b.c',
      expired: await mint({ claims: { exp: now - 1 } }),
      'exp = now (leeway 0)': await mint({ claims: { exp: now } }),
      'nbf in the future': await mint({ claims: { nbf: now + 60 } }),
      'unknown kid': await mint({ header: { kid: 'not-in-jwks' } }),
      'no kid': await mint({ header: { kid: null } }),
      'wrong iss': await mint({ claims: { iss: `app.dynamic.xyz/${other}` } }),
      'wrong environment_id': await mint({ claims: { environment_id: other } }),
      'other environment (its key, iss, env)': seed.users.find((u) => u.environmentId === other)!.jwt,
      'scope without user:basic': await mint({ claims: { scope: 'requiresAdditionalAuth' } }),
      'no scope': await mint({ claims: { scope: null } }),
      'embedded jwk': await new SignJWT({ ...payload })
        .setProtectedHeader({ alg: 'RS256', kid: seed.environments[0]!.kid, jwk: attackerJwk })
        .sign(attacker.privateKey),
      'jku header': await new SignJWT({ ...payload })
        .setProtectedHeader({ alg: 'RS256', kid: seed.environments[0]!.kid, jku: 'https://evil.example.invalid/jwks' })
        .sign(attacker.privateKey),
    };
    for (const [what, token] of Object.entries(cases)) {
      const r = await get(session(), `Bearer ${token}`);
      assert.equal(r.status, 401, what);
      assert.deepEqual(r.json(), { error: 'Invalid jwt' }, what);
      assert.equal(r.headers['www-authenticate'], INVALID_TOKEN, what);
      assert.ok(!r.text.includes(String(payload['sub'])), `${what}: no claim echo`);
    }
    assert.equal(
      (await get(session(), `Bearer ${await mint({ claims: { exp: now + 1, nbf: now } })}`)).status,
      200,
      'exp = now + 1, nbf = now pass',
    );
    assert.equal(createPublicKey(pem).type, 'public');
  });

  it('checks exp against the mock clock', async () => {
    const fresh = await mint({});
    assert.equal((await get(session(), `Bearer ${fresh}`)).status, 200);
    await mock.control('POST', '/clock', { advanceSeconds: 3599 });
    assert.equal((await get(session(), `Bearer ${fresh}`)).status, 200);
    await mock.control('POST', '/clock', { advanceSeconds: 1 });
    assert.equal((await get(session(), `Bearer ${fresh}`)).status, 401);
  });

  it('verifies the seeded JWT with the published JWKS (jose, RS256, iss) like a customer backend would', async () => {
    const { jwtVerify, createLocalJWKSet } = await import('jose');
    const jwks = (await get(`/api/v0/sdk/${env}/.well-known/jwks.json`)).json() as unknown as {
      keys: Record<string, string>[];
    };
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
      algorithms: ['RS256'],
      issuer: `app.dynamic.xyz/${env}`,
      currentDate: new Date(seed.now * 1000),
    });
    assert.equal(protectedHeader.kid, seed.environments[0]!.kid);
    assert.equal(payload['environment_id'], env);
    assert.match(String(payload['scope']), /\buser:basic\b/);
    for (const claim of [
      'kid',
      'aud',
      'iss',
      'sub',
      'sid',
      'environment_id',
      'last_verified_credential_id',
      'iat',
      'exp',
    ])
      assert.ok(claim in payload, claim);
  });

  it('rejects malformed control requests with 400 naming the problem', async () => {
    let r = await mock.call('POST', '/__mock/jwt', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ environmentId: '00000000-0000-4000-8000-000000000000' }),
    });
    assert.deepEqual(
      [r.status, r.json()],
      [400, { error: 'unknown environmentId "00000000-0000-4000-8000-000000000000"' }],
    );
    r = await mock.call('POST', '/__mock/clock', {
      headers: { 'content-type': 'application/json' },
      body: '{"advanceSeconds":"x"}',
    });
    assert.equal(r.status, 400);
    r = await mock.call('POST', '/__mock/faults', {
      headers: { 'content-type': 'application/json' },
      body: '{"faults":["no-such-fault"]}',
    });
    assert.deepEqual([r.status, r.json()], [400, { error: 'unknown fault "no-such-fault"' }]);
    r = await mock.call('DELETE', '/__mock/seed');
    assert.deepEqual([r.status, r.headers['allow']], [405, 'GET']);
  });
});
