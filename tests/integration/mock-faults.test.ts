/**
 * Every named fault of specs/faults.json is accepted by `POST /__mock/faults` (via `/__mock/reset`) and changes the
 * mock's behaviour for at least the case its rule documents: each row probes once without faults and once with
 * only that fault, and both observations are pinned. Also runs the mock's self-check (strict compile of all
 * schemas, every sample valid). The mock runs as a child process; tests reach it over HTTP only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK } from 'jose';

import { ROOT, startMock, type CallOptions, type Mock, type Res, type Seed } from './support/mock-process.js';

interface World {
  mock: Mock;
  seed: Seed;
  env: string;
  other: string;
  all: string;
  jwt: string;
  tok(label: string, env?: string): string;
  mint(body: Record<string, unknown>): Promise<string>;
}
interface Row {
  /** Observation without faults and with only this fault. */
  normal: string | RegExp;
  faulted: string | RegExp;
  probe(w: World): Promise<string>;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const bearer = (v: string): Record<string, string> => ({ authorization: `Bearer ${v}` });
const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const JSON_CT = { 'content-type': 'application/json' };
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

async function status(
  w: World,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<string> {
  return String((await w.mock.call(method, path, body === undefined ? { headers } : { headers, body })).status);
}
const users = (w: World): string => `/api/v0/environments/${w.env}/users`;
const sdkUsers = (w: World): string => `/api/v0/sdk/${w.env}/users`;
const nonce = (w: World): string => `/api/v0/sdk/${w.env}/nonce`;
async function burst(w: World, n: number, path: string, o: CallOptions = {}): Promise<Res> {
  let last: Res | undefined;
  for (let i = 0; i < n; i++) last = await w.mock.call('GET', path, o);
  return last!;
}
/** The nonce status right after the documented window: 10 requests fill it, the clock moves exactly 60 s. */
async function statusOneWindowLater(w: World): Promise<string> {
  await burst(w, 10, nonce(w));
  await w.mock.control('POST', '/clock', { advanceSeconds: 60 });
  return String((await w.mock.call('GET', nonce(w))).status);
}
function splitJwt(jwt: string): [string, string, string, Record<string, unknown>] {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  return [h, p, s, JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>];
}
function rawGet(w: World, path: string, headerLines: string[]): Promise<string> {
  const u = new URL(w.mock.url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headerLines.join('\r\n')}\r\nConnection: close\r\n\r\n`),
    );
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => resolve(out.slice(9, 12)));
  });
}

/** One probe per fault: the documented case of the rule it breaks. */
const ROWS: Record<string, Row> = {
  // AUTH
  'accept-missing-token': { normal: '401', faulted: '200', probe: (w) => status(w, 'GET', users(w)) },
  'unauthenticated-as-403': { normal: '401', faulted: '403', probe: (w) => status(w, 'GET', users(w)) },
  'accept-empty-bearer': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), { authorization: 'Bearer' }),
  },
  'accept-any-scheme': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), { authorization: `Token ${w.all}` }),
  },
  'scheme-case-sensitive': {
    normal: '200',
    faulted: '401',
    probe: (w) => status(w, 'GET', users(w), { authorization: `bearer ${w.all}` }),
  },
  'accept-unknown-token': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(`dyn_${'Q'.repeat(56)}`)),
  },
  'accept-inactive-token': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(w.tok('inactive'))),
  },
  'ignore-token-environment': {
    normal: '403',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(w.tok('all', w.other))),
  },
  'forbidden-as-401': {
    normal: '403',
    faulted: '401',
    probe: (w) => status(w, 'GET', users(w), bearer(w.tok('all', w.other))),
  },
  'ignore-documented-scopes': {
    normal: '403',
    faulted: /^(200|400)$/,
    probe: (w) =>
      status(
        w,
        'POST',
        `/api/v0/environments/${w.env}/waas/authenticate`,
        { ...bearer(w.tok('read-only')), ...JSON_CT },
        '{}',
      ),
  },
  'ignore-inferred-scopes': {
    normal: '403',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(w.tok('none'))),
  },
  'accept-jwt-as-api-token': { normal: '401', faulted: '200', probe: (w) => status(w, 'GET', users(w), bearer(w.jwt)) },
  'accept-query-token': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', `${users(w)}?access_token=${w.all}`),
  },
  'deny-valid-analytics': {
    normal: '200',
    faulted: '403',
    probe: (w) => status(w, 'GET', `/api/v0/environments/${w.env}/analytics/visits`, bearer(w.all)),
  },
  'no-www-authenticate': {
    normal: 'Bearer realm="dynamic"',
    faulted: 'none',
    probe: async (w) => String((await w.mock.call('GET', users(w))).headers['www-authenticate'] ?? 'none'),
  },
  'error-param-without-credentials': {
    normal: 'Bearer realm="dynamic"',
    faulted: 'Bearer realm="dynamic", error="invalid_token"',
    probe: async (w) => String((await w.mock.call('GET', users(w))).headers['www-authenticate']),
  },
  'accept-duplicate-authorization': {
    normal: '400',
    faulted: '200',
    probe: (w) =>
      rawGet(w, users(w), [`Authorization: Bearer dyn_${'Q'.repeat(56)}`, `Authorization: Bearer ${w.all}`]),
  },
  'accept-api-token-as-jwt': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', sdkUsers(w), bearer(w.all)),
  },
  'require-auth-on-public': {
    normal: '200',
    faulted: '401',
    probe: (w) => status(w, 'GET', `/api/v0/sdk/${w.env}/settings`),
  },
  'accept-tab-separator': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), { authorization: `Bearer\t${w.all}` }),
  },
  'validate-before-auth': { normal: '401', faulted: '400', probe: (w) => status(w, 'POST', users(w), JSON_CT, '{bad') },
  // TOKEN
  'accept-uppercase-prefix': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(`DYN_${w.all.slice(4)}`)),
  },
  'accept-prefix-match': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(w.all.slice(0, -1))),
  },
  'strip-non-alphanumerics': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(`${w.all.slice(0, 14)}-${w.all.slice(14)}`)),
  },
  'trim-token-whitespace': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(latin1(`${w.all.slice(0, 14)}\u00a0${w.all.slice(14)}`))),
  },
  'accept-vendor-tokens': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(`ghp_${'a'.repeat(36)}`)),
  },
  'distinct-malformed-answer': {
    normal: '401 {"error":"Invalid authentication credentials"}',
    faulted: '401 {"error":"malformed token"}',
    probe: async (w) => {
      const r = await w.mock.call('GET', users(w), { headers: bearer('dyn_short') });
      return `${r.status} ${r.text}`;
    },
  },
  'case-insensitive-token': {
    normal: '401',
    faulted: '200',
    probe: (w) => {
      const i = w.all.slice(4).search(/[a-z]/) + 4;
      return status(w, 'GET', users(w), bearer(w.all.slice(0, i) + w.all[i]!.toUpperCase() + w.all.slice(i + 1)));
    },
  },
  'nfkc-normalize-token': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', users(w), bearer(latin1(`ｄｙｎ＿${w.all.slice(4)}`))),
  },
  'reflect-request-headers': {
    normal: 'none',
    faulted: '1',
    // What a CRLF smuggled into Authorization turns into: a header line of its own.
    probe: async (w) =>
      String(
        (await w.mock.call('GET', users(w), { headers: { ...bearer(`dyn_${'Q'.repeat(56)}`), 'x-injected': '1' } }))
          .headers['x-injected'] ?? 'none',
      ),
  },
  // JWT
  'accept-alg-none': {
    normal: '401',
    faulted: '200',
    probe: (w) => {
      const [, p] = splitJwt(w.jwt);
      return status(w, 'GET', sdkUsers(w), bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`));
    },
  },
  'accept-hs256-public-key': {
    normal: '401',
    faulted: '200',
    probe: async (w) => {
      const key = (await w.mock.call('GET', `/api/v0/environments/${w.env}/keys`, { headers: bearer(w.all) })).json()[
        'key'
      ] as Record<string, string>;
      const pem = Buffer.from(key['publicKey']!, 'base64').toString('utf8');
      const [, p] = splitJwt(w.jwt);
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${p}`;
      return status(
        w,
        'GET',
        sdkUsers(w),
        bearer(`${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`),
      );
    },
  },
  'skip-signature-verification': {
    normal: '401',
    faulted: '200',
    probe: (w) => {
      const [h, , s, claims] = splitJwt(w.jwt);
      return status(w, 'GET', sdkUsers(w), bearer(`${h}.${b64({ ...claims, sub: UNKNOWN_ID })}.${s}`));
    },
  },
  'accept-empty-signature': {
    normal: '401',
    faulted: '200',
    probe: (w) => {
      const [h, p] = splitJwt(w.jwt);
      return status(w, 'GET', sdkUsers(w), bearer(`${h}.${p}.`));
    },
  },
  'ignore-exp': {
    normal: '401',
    faulted: '200',
    probe: async (w) => status(w, 'GET', sdkUsers(w), bearer(await w.mint({ claims: { exp: w.seed.now - 10 } }))),
  },
  'ignore-nbf': {
    normal: '401',
    faulted: '200',
    probe: async (w) => status(w, 'GET', sdkUsers(w), bearer(await w.mint({ claims: { nbf: w.seed.now + 600 } }))),
  },
  'accept-unknown-kid': {
    normal: '401',
    faulted: '200',
    probe: async (w) => status(w, 'GET', sdkUsers(w), bearer(await w.mint({ header: { kid: 'not-in-jwks' } }))),
  },
  'accept-other-environment-jwt': {
    normal: '401',
    faulted: '200',
    probe: (w) => status(w, 'GET', sdkUsers(w), bearer(w.seed.users.find((u) => u.environmentId === w.other)!.jwt)),
  },
  'ignore-user-basic-scope': {
    normal: '401',
    faulted: '200',
    probe: async (w) =>
      status(w, 'GET', sdkUsers(w), bearer(await w.mint({ claims: { scope: 'requiresAdditionalAuth' } }))),
  },
  'jwks-json-missing': {
    normal: '200',
    faulted: '404',
    probe: (w) => status(w, 'GET', `/api/v0/sdk/${w.env}/.well-known/jwks.json`),
  },
  'jwt-error-echoes-claims': {
    normal: 'no echo',
    faulted: 'echo',
    probe: async (w) => {
      const expired = await w.mint({ claims: { exp: w.seed.now - 10 } });
      const sub = String(splitJwt(expired)[3]['sub']);
      return (await w.mock.call('GET', sdkUsers(w), { headers: bearer(expired) })).text.includes(sub)
        ? 'echo'
        : 'no echo';
    },
  },
  'trust-embedded-jwk': {
    normal: '401',
    faulted: '200',
    probe: async (w) => {
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const claims = splitJwt(w.jwt)[3];
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'attacker', jwk: await exportJWK(attacker.publicKey) })
        .sign(attacker.privateKey);
      return status(w, 'GET', sdkUsers(w), bearer(token));
    },
  },
  // ERR
  'non-uuid-id-404': {
    normal: '400',
    faulted: '404',
    probe: (w) => status(w, 'GET', `${users(w)}/not-a-uuid`, bearer(w.all)),
  },
  'ignore-query-validation': {
    normal: '400',
    faulted: '200',
    probe: (w) =>
      status(
        w,
        'GET',
        `/api/v0/environments/${w.env}/analytics/overview?start=a&end=b&granularity=year`,
        bearer(w.all),
      ),
  },
  'ignore-body-validation': {
    normal: '400',
    faulted: '201', // postToken's documented success status
    probe: (w) =>
      status(w, 'POST', `/api/v0/environments/${w.env}/tokens`, { ...bearer(w.all), ...JSON_CT }, '{"scopes":[]}'),
  },
  'malformed-json-500': {
    normal: '400',
    faulted: '500',
    probe: (w) =>
      status(w, 'POST', `/api/v0/environments/${w.env}/tokens`, { ...bearer(w.all), ...JSON_CT }, '{"note":'),
  },
  'unknown-id-400': {
    normal: '404',
    faulted: '400',
    probe: (w) => status(w, 'GET', `${users(w)}/${UNKNOWN_ID}`, bearer(w.all)),
  },
  'unknown-path-no-code': {
    normal: '{"error":"Route not found","code":"route_not_found"}',
    faulted: '{"error":"Route not found"}',
    probe: async (w) => (await w.mock.call('GET', '/api/v0/no/such/path')).text,
  },
  'no-allow-header': {
    normal: 'GET, PUT',
    faulted: 'none',
    probe: async (w) =>
      String((await w.mock.call('PATCH', `/api/v0/environments/${w.env}`)).headers['allow'] ?? 'none'),
  },
  'forbidden-body-object': {
    normal: 'string',
    faulted: 'object',
    probe: async (w) =>
      typeof (await w.mock.call('GET', users(w), { headers: bearer(w.tok('all', w.other)) })).json()['error'],
  },
  'echo-credential-in-error': {
    normal: 'no echo',
    faulted: 'echo',
    probe: async (w) =>
      (await w.mock.call('GET', users(w), { headers: bearer(`dyn_${'Z'.repeat(56)}`) })).text.includes('ZZZZZZZZ')
        ? 'echo'
        : 'no echo',
  },
  'stack-trace-in-error': {
    normal: 'clean',
    faulted: 'stack',
    probe: async (w) =>
      /\n\s+at |"stack"/.test((await w.mock.call('GET', `${users(w)}/not-a-uuid`, { headers: bearer(w.all) })).text)
        ? 'stack'
        : 'clean',
  },
  'crash-on-deep-json': {
    normal: '400',
    faulted: '500',
    probe: (w) =>
      status(
        w,
        'POST',
        `/api/v0/environments/${w.env}/tokens`,
        { ...bearer(w.all), ...JSON_CT },
        `{"note":"x","d":${'['.repeat(65)}${']'.repeat(65)}}`,
      ),
  },
  'no-body-limit': {
    normal: '413',
    // Without the limit the body is read and judged by its schema: PostTokenFields.note has maxLength 100.
    faulted: '400',
    probe: (w) =>
      status(
        w,
        'POST',
        `/api/v0/environments/${w.env}/tokens`,
        { ...bearer(w.all), ...JSON_CT },
        JSON.stringify({ note: 'x'.repeat(1_200_000) }),
      ),
  },
  'ignore-content-type': {
    normal: '415',
    faulted: '201', // postToken's documented success status
    probe: (w) =>
      status(
        w,
        'POST',
        `/api/v0/environments/${w.env}/tokens`,
        { ...bearer(w.all), 'content-type': 'text/plain' },
        '{"note":"x"}',
      ),
  },
  'long-token-crash': {
    normal: '401',
    faulted: '500',
    probe: (w) => status(w, 'GET', users(w), bearer(`dyn_${'A'.repeat(10 * 1024)}`)),
  },
  'error-content-type-text': {
    normal: 'application/json; charset=utf-8',
    faulted: 'text/plain; charset=utf-8',
    probe: async (w) => String((await w.mock.call('GET', users(w))).headers['content-type']),
  },
  // SCHEMA
  'drop-required-field': {
    normal: 'has id',
    faulted: 'no id',
    probe: async (w) =>
      'id' in (await w.mock.call('GET', `/api/v0/environments/${w.env}`, { headers: bearer(w.all) })).json()
        ? 'has id'
        : 'no id',
  },
  'wrong-field-type': {
    normal: 'string',
    faulted: 'number',
    probe: async (w) =>
      typeof (await w.mock.call('GET', `/api/v0/environments/${w.env}`, { headers: bearer(w.all) })).json()['id'],
  },
  'extra-enum-value': {
    normal: 'documented',
    faulted: 'undocumented',
    probe: async (w) =>
      (await w.mock.call('GET', `/api/v0/environments/${w.env}`, { headers: bearer(w.all) })).text.includes(
        'undocumented_enum_value',
      )
        ? 'undocumented'
        : 'documented',
  },
  'wrong-content-type': {
    normal: 'application/json; charset=utf-8',
    faulted: 'text/plain; charset=utf-8',
    probe: async (w) =>
      String(
        (await w.mock.call('GET', `/api/v0/environments/${w.env}`, { headers: bearer(w.all) })).headers['content-type'],
      ),
  },
  'undocumented-status': {
    normal: '200',
    faulted: '203',
    probe: (w) => status(w, 'GET', `/api/v0/environments/${w.env}`, bearer(w.all)),
  },
  'delete-keeps-resource': {
    normal: '204 404',
    faulted: '204 200',
    probe: async (w) => {
      const body = JSON.stringify({ url: 'https://h.example.invalid', isEnabled: true, events: ['user.created'] });
      const hook = (
        await w.mock.call('POST', `/api/v0/environments/${w.env}/webhooks`, {
          headers: { ...bearer(w.all), ...JSON_CT },
          body,
        })
      ).json();
      const path = `/api/v0/environments/${w.env}/webhooks/${String(hook['webhookId'])}`;
      return `${await status(w, 'DELETE', path, bearer(w.all))} ${await status(w, 'GET', path, bearer(w.all))}`;
    },
  },
  'no-cache-control': {
    normal: 'no-store',
    faulted: 'none',
    probe: async (w) =>
      String(
        (await w.mock.call('GET', `/api/v0/environments/${w.env}`, { headers: bearer(w.all) })).headers[
          'cache-control'
        ] ?? 'none',
      ),
  },
  // RATE
  'no-rate-limit': { normal: '429', faulted: '200', probe: async (w) => String((await burst(w, 11, nonce(w))).status) },
  'off-by-one-limit': {
    normal: '429',
    faulted: '200',
    probe: async (w) => String((await burst(w, 11, nonce(w))).status),
  },
  'wrong-429-body': {
    normal: '{"error":"Too many requests. Please try again later."}',
    faulted: '{"message":"Rate limit exceeded","code":429}',
    probe: async (w) => (await burst(w, 11, nonce(w))).text,
  },
  'no-retry-after': {
    normal: '60',
    faulted: 'none',
    probe: async (w) => String((await burst(w, 11, nonce(w))).headers['retry-after'] ?? 'none'),
  },
  'garbage-retry-after': {
    normal: '60',
    faulted: 'soon',
    probe: async (w) => String((await burst(w, 11, nonce(w))).headers['retry-after']),
  },
  'short-retry-after': {
    normal: '60',
    faulted: '30',
    probe: async (w) => String((await burst(w, 11, nonce(w))).headers['retry-after']),
  },
  'cacheable-429': {
    normal: 'no-store',
    faulted: 'public, max-age=60',
    probe: async (w) => String((await burst(w, 11, nonce(w))).headers['cache-control']),
  },
  'long-window': {
    normal: '200',
    faulted: '429',
    probe: (w) => statusOneWindowLater(w),
  },
  'ignore-secondary-windows': {
    normal: '250',
    faulted: '300',
    probe: async (w) => {
      let passed = 0;
      for (let round = 0; round < 5; round++) {
        const rs = await Promise.all(
          Array.from({ length: 60 }, () => w.mock.call('GET', `/api/v0/sdk/${w.env}/settings`)),
        );
        passed += rs.filter((r) => r.status === 200).length;
        await w.mock.control('POST', '/clock', { advanceSeconds: 10 });
      }
      return String(passed);
    },
  },
  'shared-ip-buckets': {
    normal: '200',
    faulted: '429',
    probe: async (w) => {
      await burst(w, 10, nonce(w), { localAddress: '127.0.0.2' });
      return String((await w.mock.call('GET', nonce(w), { localAddress: '127.0.0.3' })).status);
    },
  },
  'shared-environment-buckets': {
    normal: '200',
    faulted: '429',
    probe: async (w) => {
      const path = `/api/v0/environments/${w.env}`;
      for (const localAddress of ['127.0.0.4', '127.0.0.5']) {
        await Promise.all(
          Array.from({ length: 1500 }, () => w.mock.call('GET', path, { localAddress, headers: bearer(w.all) })),
        );
      }
      return status(w, 'GET', `/api/v0/environments/${w.other}`, bearer(w.tok('all', w.other)));
    },
  },
  'shared-endpoint-buckets': {
    normal: '400',
    faulted: '429',
    probe: async (w) => {
      await burst(w, 10, nonce(w));
      return status(w, 'POST', `/api/v0/sdk/${w.env}/verify`, JSON_CT, '{');
    },
  },
  'trust-xff': {
    normal: '429',
    faulted: '200',
    probe: async (w) => {
      for (let i = 0; i < 10; i++)
        await w.mock.call('GET', nonce(w), { headers: { 'x-forwarded-for': `10.1.0.${i}` } });
      return status(w, 'GET', nonce(w), { 'x-forwarded-for': '10.2.0.1' });
    },
  },
  'rejected-attempts-free': {
    normal: '429',
    faulted: '400',
    probe: async (w) => {
      let last = '';
      for (let i = 0; i < 11; i++) last = await status(w, 'POST', `/api/v0/sdk/${w.env}/verify`, JSON_CT, '{');
      return last;
    },
  },
  'racy-counter': {
    normal: '10',
    faulted: /^(1[1-9]|2\d|30)$/,
    probe: async (w) =>
      String(
        (await Promise.all(Array.from({ length: 30 }, () => w.mock.call('GET', nonce(w))))).filter(
          (r) => r.status === 200,
        ).length,
      ),
  },
  'late-window-reset': {
    normal: '200',
    faulted: '429',
    probe: (w) => statusOneWindowLater(w),
  },
  'ignore-owner-on-reads': {
    normal: '403',
    faulted: '200',
    probe: (w) => status(w, 'GET', `/api/v0/allowlists/${owned(w, 'allowlist', w.other)}`, bearer(w.all)),
  },
  'ignore-owner-on-writes': {
    normal: '403 kept',
    faulted: '204 gone',
    probe: async (w) => {
      const id = owned(w, 'origin', w.other);
      const deleted = await status(w, 'DELETE', `/api/v0/origins/${id}`, bearer(w.all));
      const list = (
        await w.mock.call('GET', `/api/v0/environments/${w.other}/origins`, { headers: bearer(w.tok('all', w.other)) })
      ).text;
      return `${deleted} ${list.includes(id) ? 'kept' : 'gone'}`;
    },
  },
  'ignore-allowlist-owner': {
    normal: '403 seeded allowlist of live | origin 403',
    faulted: '200 renamed by another environment | origin 403',
    probe: async (w) => {
      const id = owned(w, 'allowlist', w.other);
      const put = await status(
        w,
        'PUT',
        `/api/v0/allowlists/${id}`,
        { ...bearer(w.all), ...JSON_CT },
        '{"name":"renamed by another environment"}',
      );
      const name = (
        await w.mock.call('GET', `/api/v0/allowlists/${id}`, { headers: bearer(w.tok('all', w.other)) })
      ).json()['name'];
      // One family only: another family's write stays refused.
      const origin = await status(w, 'DELETE', `/api/v0/origins/${owned(w, 'origin', w.other)}`, bearer(w.all));
      return `${put} ${String(name)} | origin ${origin}`;
    },
  },
  'ignore-organization-owner': {
    normal: '403',
    faulted: '200',
    probe: (w) => {
      const mine = w.seed.objects.find((o) => o.environmentId === w.env)!.organizationId;
      const theirs = w.seed.objects.find((o) => o.family === 'organization' && o.organizationId !== mine)!.id;
      return status(w, 'GET', `/api/v0/organizations/${theirs}`, bearer(w.all));
    },
  },
  'ignore-sdk-object-owner': {
    normal: '403',
    faulted: '200',
    probe: (w) => {
      const [first, second] = w.seed.users.filter((u) => u.environmentId === w.env);
      const device = w.seed.objects.find((o) => o.family === 'mfaDevice' && o.userId === second!.id)!.id;
      return status(w, 'GET', `/api/v0/sdk/${w.env}/users/mfa/${device}`, bearer(first!.jwt));
    },
  },
};

/** The seeded object of a family owned by an environment (OBJ rules). */
function owned(w: World, family: string, environmentId: string): string {
  return w.seed.objects.find((o) => o.family === family && o.environmentId === environmentId && o.userId === undefined)!
    .id;
}

const CATALOGUE = (
  JSON.parse(readFileSync(`${ROOT}/specs/faults.json`, 'utf8')) as { faults: { id: string; rule: string }[] }
).faults;

describe('mock faults', () => {
  let w: World;
  before(async () => {
    const mock = await startMock({ MOCK_SEED: '5' });
    const seed = (await mock.control('GET', '/seed')) as unknown as Seed;
    const env = seed.environments[0]!.id;
    const tok = (label: string, e = env): string =>
      seed.tokens.find((t) => t.environmentId === e && t.label === label)!.value;
    w = {
      mock,
      seed,
      env,
      other: seed.environments[1]!.id,
      all: tok('all'),
      jwt: seed.users.find((u) => u.environmentId === env)!.jwt,
      tok,
      mint: async (body) => String((await mock.control('POST', '/jwt', { environmentId: env, ...body }))['jwt']),
    };
  });
  after(async () => {
    await w.mock.stop();
  });

  it('has a probe for every fault of specs/faults.json, and the control API lists them all', async () => {
    assert.deepEqual(Object.keys(ROWS).sort(), CATALOGUE.map((f) => f.id).sort());
    const listed = await w.mock.control('GET', '/faults');
    assert.deepEqual(listed['faults'], []);
    assert.deepEqual(
      (listed['available'] as { id: string }[]).map((f) => f.id),
      CATALOGUE.map((f) => f.id),
    );
  });

  for (const fault of CATALOGUE) {
    it(`${fault.id} (${fault.rule}) changes the documented behaviour`, async () => {
      const row = ROWS[fault.id]!;
      await w.mock.control('POST', '/reset', { faults: [] });
      const normal = await row.probe(w);
      const selected = await w.mock.control('POST', '/faults', { faults: [fault.id] });
      assert.deepEqual(selected['faults'], [fault.id]);
      await w.mock.control('POST', '/reset');
      const faulted = await row.probe(w);
      await w.mock.control('POST', '/reset', { faults: [] });
      if (typeof row.normal === 'string') assert.equal(normal, row.normal, 'without the fault');
      else assert.match(normal, row.normal, 'without the fault');
      if (typeof row.faulted === 'string') assert.equal(faulted, row.faulted, 'with the fault');
      else assert.match(faulted, row.faulted, 'with the fault');
      assert.notEqual(normal, faulted);
    });
  }

  it('accepts faults at startup through MOCK_FAULTS and reports them in /__mock/seed', async () => {
    const m = await startMock({ MOCK_FAULTS: 'no-rate-limit, accept-missing-token' });
    try {
      const s = await m.control('GET', '/seed');
      assert.deepEqual(s['faults'], ['accept-missing-token', 'no-rate-limit']);
    } finally {
      await m.stop();
    }
  });
});

describe('mock self-check', () => {
  it('compiles every schema strictly, validates every sample and stateful answer, precompiles faithfully', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['mock/run.mjs', 'selfcheck.ts'], { cwd: ROOT }, (err, stdout) =>
        err ? reject(new Error(`${err.message}\n${stdout}`)) : resolve(stdout),
      );
    });
    const summary = JSON.parse(out) as {
      schemas: number;
      precompiled: number;
      staleCacheRejected: boolean;
      samples: number;
      stateful: number;
      deterministicKeys: boolean;
      problems: string[];
    };
    assert.deepEqual(summary.problems, []);
    assert.ok(summary.schemas >= 722, `compiled ${summary.schemas} schemas`);
    // Every registered schema and every distinct inline schema (~410: bodies, parameters, success and error bodies).
    assert.ok(summary.precompiled >= summary.schemas + 400, `compared ${summary.precompiled} precompiled validators`);
    assert.equal(summary.staleCacheRejected, true);
    assert.equal(summary.samples, 368);
    assert.ok(summary.stateful >= 20);
    assert.equal(summary.deterministicKeys, true);
  });
});
