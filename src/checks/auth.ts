/**
 * Authentication rules (specs/rules/auth.json): who may call which operation with which credential.
 */
import { bearer } from '../http.js';
import { expectStatusForEach } from './common.js';
import type { Check } from './types.js';

/** AUTH-001 (API reference; RFC 6750 3.1): a request without Authorization gets 401 with the Unauthorized body. */
export const rejectsMissingCredentials: Check = {
  rule: 'AUTH-001',
  run: (ctx) => expectStatusForEach(ctx, ctx.operations, [401], () => ({}), 'no Authorization header'),
};

/** AUTH-012 (API reference, quickstart): valid, permitted credentials are never answered 401 or 403. */
export const acceptsValidCredentials: Check = {
  rule: 'AUTH-012',
  async run(ctx) {
    const { apiToken, userJwt, missing } = ctx.credentials;
    const allowed = [200, 201, 202, 204, 400, 404, 409, 413, 415, 422, 429];
    await expectStatusForEach(ctx, ctx.operations, allowed, (op) => {
      if (op.auth === 'none') return {};
      if (op.auth === 'api-token') return { authorization: bearer(apiToken) };
      if (!userJwt) {
        ctx.skip(op.key, `no user JWT: ${missing.userJwt ?? 'not available'}`);
        return undefined;
      }
      return { authorization: bearer(userJwt) };
    }, 'valid credentials');
  },
};

/** Every AUTH-* check, in rule order. */
export const AUTH_CHECKS: Check[] = [rejectsMissingCredentials, acceptsValidCredentials];
