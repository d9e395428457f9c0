/**
 * A fresh user JWT from the sandbox test account (issue #13; nightly-operations.md §6): with the API token alone,
 * `GET /environments/{environmentId}/test/account` (created with POST when the environment has none) gives
 * `{code, email}` — a `+dynamic_test` address that signs in with a static one-time code — then
 * `POST /sdk/{environmentId}/emailVerifications/create` {email} → {verificationUUID} and
 * `POST /sdk/{environmentId}/emailVerifications/signin` {verificationUUID, verificationToken: code} → VerifyResponse,
 * whose `minifiedJwt` (the access token; `jwt` when only that is returned) is the run's user JWT.
 * Run once per run, in the runner process (src/engine/global-setup.ts), only on an environment verified as the
 * project's sandbox. Every answer that is not the documented success is a one-line reason (never a secret), so the
 * checks that need the JWT are skipped with it.
 */
import { bearer, type HttpRequest, type HttpResponse } from '../http/client.js';
import { Secret } from '../secrets/redact.js';

/** What the flow needs from the HTTP client (HttpClient fits). */
export interface Sender {
  send(req: HttpRequest): Promise<HttpResponse>;
}

export type ObtainedJwt = { jwt: Secret; detail: string } | { reason: string };

const JSON_ACCEPT: [string, string] = ['accept', 'application/json'];

function answered(what: string, res: HttpResponse): string {
  if (res.status === 0) return `${what} got no response (${res.exchange.error ?? 'transport error'})`;
  const body = res.json as { error?: unknown; code?: unknown } | undefined;
  const error = typeof body?.error === 'string' ? `: ${body.error.slice(0, 120)}` : '';
  const code = typeof body?.code === 'string' ? ` (${body.code.slice(0, 60)})` : '';
  return `${what} answered ${res.status}${error}${code}`;
}

const ok = (res: HttpResponse): boolean => res.status >= 200 && res.status < 300;

/**
 * Obtains a user JWT for `environmentId` through its test account. `envName` names the credential in replay lines
 * and reports (DYNAMIC_USER_JWT or DYNAMIC_OTHER_ENVIRONMENT_JWT); the JWT is wrapped in a Secret at once.
 * `mayCreate`: create the test account when there is none (only on the verified sandbox; elsewhere only read).
 */
export async function obtainJwtFromTestAccount(
  client: Sender,
  environmentId: string,
  apiToken: Secret,
  envName: string,
  mayCreate: boolean,
): Promise<ObtainedJwt> {
  const env = encodeURIComponent(environmentId);
  const accountPath = `/environments/${env}/test/account`;
  const auth: [string, ReturnType<typeof bearer>] = ['authorization', bearer(apiToken)];
  let account = await client.send({ method: 'GET', path: accountPath, headers: [JSON_ACCEPT, auth] });
  let created = false;
  if (account.status === 404 && !mayCreate)
    return {
      reason: 'the environment has no test account (GET …/test/account answered 404; create one in the dashboard)',
    };
  if (account.status === 404) {
    account = await client.send({ method: 'POST', path: accountPath, headers: [JSON_ACCEPT, auth] });
    created = true;
  }
  if (!ok(account))
    return { reason: answered(`${created ? 'POST' : 'GET'} /environments/{environmentId}/test/account`, account) };
  const { code, email } = (account.json ?? {}) as { code?: unknown; email?: unknown };
  if (typeof code !== 'string' || code === '')
    return { reason: 'the test account has no code (TestAccountResponse.code)' };
  if (typeof email !== 'string' || !email.includes('@'))
    return { reason: 'the test account has no email address (only email sign-in is automated)' };
  // The static code is a credential of the test account: kept out of every output like the others.
  const secretCode = new Secret(code, 'DYNAMIC_TEST_ACCOUNT_CODE');
  const sdk = `/sdk/${env}/emailVerifications`;
  const createdVerification = await client.send({
    method: 'POST',
    path: `${sdk}/create`,
    headers: [JSON_ACCEPT],
    body: { email },
  });
  if (!ok(createdVerification))
    return { reason: answered('POST /sdk/{environmentId}/emailVerifications/create', createdVerification) };
  const verificationUUID = (createdVerification.json as { verificationUUID?: unknown } | undefined)?.verificationUUID;
  if (typeof verificationUUID !== 'string')
    return { reason: 'emailVerifications/create answered without a verificationUUID' };
  const signedIn = await client.send({
    method: 'POST',
    path: `${sdk}/signin`,
    headers: [JSON_ACCEPT],
    body: { verificationUUID, verificationToken: secretCode.reveal() },
  });
  if (!ok(signedIn)) return { reason: answered('POST /sdk/{environmentId}/emailVerifications/signin', signedIn) };
  const verified = (signedIn.json ?? {}) as { minifiedJwt?: unknown; jwt?: unknown; expiresAt?: unknown };
  const value =
    typeof verified.minifiedJwt === 'string'
      ? verified.minifiedJwt
      : typeof verified.jwt === 'string'
        ? verified.jwt
        : undefined;
  if (!value)
    return {
      reason:
        'emailVerifications/signin answered without a JWT (cookie-based authentication is on for this environment)',
    };
  const expires =
    typeof verified.expiresAt === 'number' ? `, expires ${new Date(verified.expiresAt * 1000).toISOString()}` : '';
  return {
    jwt: new Secret(value, envName),
    detail: `obtained from the sandbox test account${created ? ' (created for this run)' : ''}${expires}`,
  };
}
