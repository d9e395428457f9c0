/**
 * The mock's sandbox test account and email OTP sign-in (issue #13 item 2): a fresh user JWT from the API token
 * alone — test account, verification, sign-in with the static code — a real RS256 JWT of the environment's key that
 * the mock's user-JWT operations accept; a wrong code and an unknown verification get 422 with their documented
 * codes; the OTP and sign-in policies limit attempts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startMock, seedOf, tokenOf, type Mock, type Seed } from './support/mock-process.js';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

describe('mock: test account and email OTP sign-in', () => {
  let mock: Mock;
  let seed: Seed;
  let env: string;
  let token: string;
  let ip = 2;
  /** A fresh loopback source address per test, so the per-IP OTP/sign-in limits of one test do not bind another. */
  const from = (): string => `127.0.77.${ip++}`;

  before(async () => {
    mock = await startMock();
    seed = await seedOf(mock);
    env = seed.environments.find((e) => e.name === 'sandbox')!.id;
    token = tokenOf(seed, env, 'all');
  });
  after(async () => mock.stop());

  const admin = (method: string, environmentId = env) =>
    mock.call(method, `/api/v0/environments/${environmentId}/test/account`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  const sdk = (path: string, body: unknown, localAddress: string) =>
    mock.call('POST', `/api/v0/sdk/${env}/emailVerifications/${path}`, {
      headers: JSON_HEADERS,
      body: JSON.stringify(body),
      localAddress,
    });

  it('GET test/account answers a TestAccountResponse: +dynamic_test email, 555 phone, 6-digit code', async () => {
    const res = await admin('GET');
    assert.equal(res.status, 200, res.text);
    const account = res.json();
    assert.match(String(account.email), /^[^@]+\+dynamic_test@[^@]+$/);
    assert.match(String(account.phone), /^\+1555\d{7}$/);
    assert.match(String(account.code), /^\d{6}$/);
    const again = await admin('GET');
    assert.deepEqual(again.json(), account, 'the code is static');
  });

  it('the test account needs the API token', async () => {
    const res = await mock.call('GET', `/api/v0/environments/${env}/test/account`);
    assert.equal(res.status, 401);
  });

  it('create → signin with the static code: an RS256 JWT the environment JWKS verifies and /sdk accepts', async () => {
    const account = (await admin('GET')).json();
    const ipA = from();
    const created = await sdk('create', { email: account.email }, ipA);
    assert.equal(created.status, 201, created.text);
    const { verificationUUID, email } = created.json();
    assert.equal(email, account.email);
    assert.match(String(verificationUUID), /^[0-9a-f-]{36}$/);
    const signed = await sdk('signin', { verificationUUID, verificationToken: account.code }, ipA);
    assert.equal(signed.status, 200, signed.text);
    const body = signed.json() as {
      jwt: string;
      minifiedJwt: string;
      expiresAt: number;
      user: { id: string; email: string };
    };
    assert.equal(body.user.email, account.email);
    const jwks = (await mock.call('GET', `/api/v0/sdk/${env}/.well-known/jwks`)).json() as { keys: never[] };
    const { payload, protectedHeader } = await jwtVerify(body.minifiedJwt, createLocalJWKSet({ keys: jwks.keys }), {
      algorithms: ['RS256'],
      currentDate: new Date(seed.now * 1000),
    });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, body.user.id);
    assert.equal(payload.environment_id, env);
    assert.equal(payload.scope, 'user:basic');
    assert.equal(payload.exp, body.expiresAt);
    assert.ok(body.expiresAt > seed.now, 'exp follows the mock clock');
    const me = await mock.call('GET', `/api/v0/sdk/${env}/users`, {
      headers: { authorization: `Bearer ${body.minifiedJwt}`, accept: 'application/json' },
      localAddress: from(),
    });
    assert.ok(
      me.status !== 401 && me.status !== 403,
      `a user-jwt operation accepts the obtained JWT (got ${me.status}: ${me.text.slice(0, 200)})`,
    );
    const reused = await sdk('signin', { verificationUUID, verificationToken: account.code }, ipA);
    assert.equal(reused.status, 422, 'a verification is used once');
    assert.equal(reused.json().code, 'invalid_email_verification');
  });

  it('wrong code 422 wrong_email_verification_token, unknown verification 422 invalid_email_verification', async () => {
    const account = (await admin('GET')).json();
    const ipB = from();
    const { verificationUUID } = (await sdk('create', { email: account.email }, ipB)).json();
    const wrong = String((Number(account.code) + 1) % 1_000_000).padStart(6, '0');
    const res = await sdk('signin', { verificationUUID, verificationToken: wrong }, ipB);
    assert.equal(res.status, 422, res.text);
    assert.deepEqual(res.json(), { error: 'Wrong email verification token', code: 'wrong_email_verification_token' });
    const unknown = await sdk(
      'signin',
      { verificationUUID: '00000000-0000-4000-8000-000000000000', verificationToken: account.code },
      ipB,
    );
    assert.equal(unknown.status, 422);
    assert.equal(unknown.json().code, 'invalid_email_verification');
    const right = await sdk('signin', { verificationUUID, verificationToken: account.code }, ipB);
    assert.equal(right.status, 200, 'a wrong attempt does not burn the verification');
  });

  it('OTP policy: 3 verifications a minute per IP; sign-in policy: 10 attempts (rejected ones count)', async () => {
    const ipC = from();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await sdk('create', { email: `x${i}+dynamic_test@example.com` }, ipC)).status);
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    const ipD = from();
    const attempts: number[] = [];
    for (let i = 0; i < 11; i++)
      attempts.push(
        (
          await sdk(
            'signin',
            { verificationUUID: '00000000-0000-4000-8000-000000000000', verificationToken: '000000' },
            ipD,
          )
        ).status,
      );
    assert.deepEqual(attempts, [...Array<number>(10).fill(422), 429]);
  });

  it('DELETE removes the account (GET → 404), POST creates it again; the other environment has its own', async () => {
    const other = seed.environments.find((e) => e.name === 'live')!.id;
    const mine = (await admin('GET')).json();
    const otherToken = tokenOf(seed, other, 'all');
    const theirs = await mock.call('GET', `/api/v0/environments/${other}/test/account`, {
      headers: { authorization: `Bearer ${otherToken}` },
    });
    assert.equal(theirs.status, 200);
    assert.notEqual(theirs.json().email, mine.email);
    assert.equal((await admin('DELETE')).status, 204);
    assert.equal((await admin('GET')).status, 404);
    assert.equal((await admin('DELETE')).status, 404);
    const created = await admin('POST');
    assert.equal(created.status, 201, created.text);
    assert.match(String(created.json().code), /^\d{6}$/);
    assert.deepEqual((await admin('GET')).json(), created.json());
    await mock.control('POST', '/reset');
    assert.deepEqual((await admin('GET')).json(), mine, 'reset restores the seeded account');
  });
});
