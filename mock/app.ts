import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { authorizationValues, preloadJose } from './auth.js';
import type { AuthResult, Principal } from './auth.js';
import { BODY_LIMIT, MAX_JSON_DEPTH, announcesBody, decodeUtf8, jsonDepth, readBody, tooLargeToDrain } from './body.js';
import { ControlApi } from './control.js';
import type { Reply } from './handlers.js';
import type { Admission, Charge, LimitCheck } from './ratelimit.js';
import { JSON_TYPE, TEXT_TYPE, send } from './respond.js';
import type { Headers } from './respond.js';
import { listenEarly, type EarlyServer } from './listen.js';
import { DEFAULTS } from './settings.js';
import type { OperationInfo } from './spec.js';
import { bodyError } from './validate.js';
import { MockState, normalizeIp } from './state.js';
import type { MockOptions } from './options.js';

export { MockState } from './state.js';
export type { MockOptions } from './options.js';

/** A running mock. */
export interface MockServer {
  readonly server: Server;
  /** Origin, e.g. `http://127.0.0.1:4010` (the API is below `/api/v0`). */
  readonly url: string;
  /** Resolves when the environment signing keys are derived (requests that need them wait by themselves). */
  readonly ready: Promise<void>;
  readonly state: MockState;
  close(): Promise<void>;
}

const BASE = '/api/v0';
const CONTROL = '/__mock';
const NOT_FOUND_BODY = { error: 'Not found', code: 'not_found' };
const ROUTE_NOT_FOUND = JSON.stringify({ error: 'Route not found', code: 'route_not_found' });
const METHOD_NOT_ALLOWED = JSON.stringify({ error: 'Method not allowed' });

/** Per-request context carried through the pipeline. */
interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly op: OperationInfo;
  readonly params: Readonly<Record<string, string>>;
  readonly badEncoding: readonly string[];
  readonly query: URLSearchParams | undefined;
  charges: readonly Charge[];
  principal: Principal | undefined;
  authorization: readonly string[];
}

/**
 * Creates and starts the mock on `options.host:options.port` (loopback only), or on `early`, a socket the entry
 * point opened before loading this module (requests that arrived since then are answered now).
 */
export async function createMockServer(options: MockOptions = {}, early?: EarlyServer): Promise<MockServer> {
  const state = new MockState(options);
  const app = new MockApp(state);
  const listening = early ?? (await listenEarly(options.host ?? DEFAULTS.host, options.port ?? DEFAULTS.port));
  listening.attach((req, res) => app.handle(req, res));
  void state.keys.ready.then(preloadJose);
  const { server, url } = listening;
  return {
    server,
    url,
    ready: state.keys.ready,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The request pipeline (ARCHITECTURE.md "The mock's contract", steps 1-5). */
class MockApp {
  readonly #s: MockState;
  readonly #control: ControlApi;
  /** Serialisations of stored records (records are replaced, never mutated, so an object's JSON never changes). */
  readonly #json = new WeakMap<object, string>();

  constructor(state: MockState) {
    this.#s = state;
    this.#control = new ControlApi(state);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#handle(req, res).catch(() => {
      // A bug must not take the server down; the client gets a generic answer, no internals.
      if (!res.headersSent) send(res, 500, JSON_TYPE, JSON.stringify({ error: 'Internal server error' }));
      else res.destroy();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = this.#s;
    const f = s.faults;
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    if (path === CONTROL || path.startsWith(`${CONTROL}/`)) {
      if (s.control) return this.#control.handle(req, res, path.slice(CONTROL.length));
      return this.#routeNotFound(res);
    }
    if (!path.startsWith(`${BASE}/`)) return this.#routeNotFound(res);
    // 1. Route
    const route = s.router.match(req.method ?? 'GET', path.slice(BASE.length));
    if (route.kind === 'not-found') return this.#routeNotFound(res);
    if (route.kind === 'method-not-allowed') {
      return this.#error(res, 405, METHOD_NOT_ALLOWED, f.on('no-allow-header') ? undefined : { allow: route.allow });
    }
    const ctx: Ctx = {
      req,
      res,
      op: route.op,
      params: route.params,
      badEncoding: route.badEncoding,
      query: qi < 0 ? undefined : new URLSearchParams(url.slice(qi + 1)),
      charges: [],
      principal: undefined,
      authorization: [],
    };
    // 2. Rate limit (every request counts, also ones later rejected: RATE-012)
    if (!f.on('no-rate-limit')) {
      const limited = f.on('racy-counter') ? await this.#rateLimitRacy(ctx) : this.#rateLimit(ctx);
      if (limited) return;
    }
    // 3./4. Auth, then validation (fault validate-before-auth swaps them: AUTH-019)
    if (f.on('validate-before-auth')) {
      const body = await this.#validate(ctx);
      if (body === INVALID) return;
      if (!(await this.#authenticate(ctx))) return;
      return this.#dispatch(ctx, body);
    }
    if (!(await this.#authenticate(ctx))) return;
    const body = await this.#validate(ctx);
    if (body === INVALID) return;
    // 5. Handler
    return this.#dispatch(ctx, body);
  }

  // ---- 2. rate limit ------------------------------------------------------------------------------------------

  #clientIp(req: IncomingMessage): string {
    const s = this.#s;
    const remote = normalizeIp(req.socket.remoteAddress ?? '');
    const xff = req.headers['x-forwarded-for'];
    if (xff !== undefined && xff !== '' && (s.trustedProxy !== undefined || !s.faults.none)) {
      const list = (Array.isArray(xff) ? xff.join(',') : xff)
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      if (s.faults.on('trust-xff') && list.length > 0) return list[0]!;
      if (s.trustedProxy !== undefined && remote === s.trustedProxy && list.length > 0) return list[list.length - 1]!;
    }
    return remote;
  }

  /** The limiter checks of a request: one per applicable policy (RATE-008..RATE-011); faults change keys/windows. */
  #checks(ctx: Ctx): LimitCheck[] {
    const s = this.#s;
    const f = s.faults;
    const plans = s.plans(ctx.op);
    const checks: LimitCheck[] = [];
    if (plans.length === 0) return checks;
    const ip = f.on('shared-ip-buckets') ? '*' : this.#clientIp(ctx.req);
    for (const p of plans) {
      let key = p.id;
      let missing = false;
      for (const dim of p.key) {
        const v =
          dim === 'ip'
            ? ip
            : dim === 'environment'
              ? f.on('shared-environment-buckets')
                ? '*'
                : ctx.params['environmentId']
              : ctx.params['walletId'];
        if (v === undefined) missing = true;
        key += `|${v ?? ''}`;
      }
      if (missing) continue;
      if (f.none) {
        checks.push({ bucket: key, windows: p.limits });
        continue;
      }
      let windows = p.limits;
      if (f.on('ignore-secondary-windows')) windows = windows.slice(0, 1);
      if (f.on('long-window')) windows = windows.map((w) => ({ limit: w.limit, ms: w.ms * 2 }));
      if (p.endpoint && f.on('shared-endpoint-buckets')) key = `endpoint${key.slice(p.id.length)}`;
      checks.push({ bucket: key, windows });
    }
    return checks;
  }

  #hitOptions(): { resetDelayMs?: number; extraAllowance?: number } {
    const f = this.#s.faults;
    return f.none
      ? {}
      : { resetDelayMs: f.on('late-window-reset') ? 1000 : 0, extraAllowance: f.on('off-by-one-limit') ? 1 : 0 };
  }

  /** Applies the operation's policies (RATE-001..RATE-014) with a synchronous check-and-increment (RATE-013). */
  #rateLimit(ctx: Ctx): boolean {
    const checks = this.#checks(ctx);
    if (checks.length === 0) return false;
    return this.#admit(ctx, this.#s.limiter.hit(checks, this.#s.clock.nowMs(), this.#hitOptions()));
  }

  /** Fault `racy-counter`: check, yield to the event loop, then increment (concurrent requests over-admit). */
  async #rateLimitRacy(ctx: Ctx): Promise<boolean> {
    const s = this.#s;
    const checks = this.#checks(ctx);
    if (checks.length === 0) return false;
    let verdict = s.limiter.check(checks, s.clock.nowMs(), this.#hitOptions());
    await new Promise((r) => setTimeout(r, 5));
    if (verdict.allowed)
      verdict = { allowed: true, charges: s.limiter.commit(checks, s.clock.nowMs(), this.#hitOptions()) };
    return this.#admit(ctx, verdict);
  }

  #admit(ctx: Ctx, verdict: Admission): boolean {
    if (verdict.allowed) {
      ctx.charges = verdict.charges;
      return false;
    }
    this.#tooMany(ctx.res, verdict.retryAfterMs);
    return true;
  }

  #tooMany(res: ServerResponse, retryAfterMs: number): void {
    const f = this.#s.faults;
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const headers: Headers = {};
    if (!f.on('no-retry-after')) {
      if (f.on('garbage-retry-after')) headers['retry-after'] = 'soon';
      else if (f.on('short-retry-after')) headers['retry-after'] = String(Math.floor(seconds / 2));
      else headers['retry-after'] = String(seconds);
    }
    const body = f.on('wrong-429-body')
      ? this.#s.otherProfile.tooManyRequests.body
      : this.#s.profile.tooManyRequests.body;
    send(
      res,
      429,
      f.on('error-content-type-text') ? TEXT_TYPE : JSON_TYPE,
      JSON.stringify(body),
      headers,
      f.on('cacheable-429') ? 'public, max-age=60' : 'no-store',
    );
  }

  // ---- 3. auth ------------------------------------------------------------------------------------------------

  async #authenticate(ctx: Ctx): Promise<boolean> {
    const s = this.#s;
    if (ctx.op.auth !== 'none' || s.faults.on('require-auth-on-public'))
      ctx.authorization = authorizationValues(ctx.req.rawHeaders);
    if (ctx.op.auth === 'user-jwt' || s.faults.on('accept-jwt-as-api-token')) await s.keys.ready;
    let result: AuthResult | Promise<AuthResult> = s.auth.authenticate({
      op: ctx.op,
      pathEnvironmentId: ctx.params['environmentId'],
      authorization: ctx.authorization,
      query: ctx.query,
    });
    if (result instanceof Promise) result = await result;
    const f = s.faults;
    if (f.on('long-token-crash') && ctx.authorization.some((value) => value.length > 8192)) {
      send(ctx.res, 500, JSON_TYPE, JSON.stringify({ error: 'Internal server error' }));
      return false;
    }
    if (result.ok) {
      ctx.principal = result.principal;
      return true;
    }
    this.#refundIfFree(ctx, result.status);
    // 401 <-> 403 swaps: authentication and authorisation failures answered with each other's code.
    let status = result.status;
    if (status === 403 && f.on('forbidden-as-401')) status = 401;
    else if (status === 401 && !result.credentialPresented && f.on('unauthenticated-as-403')) status = 403;
    let message = result.error;
    if (result.status === 401 && result.credentialPresented && f.on('echo-credential-in-error'))
      message = `${message}: ${ctx.authorization.join(', ')}`;
    const headers: Headers = {};
    if (result.status === 401 && f.on('reflect-request-headers')) {
      for (let i = 0; i + 1 < ctx.req.rawHeaders.length; i += 2) {
        const name = ctx.req.rawHeaders[i]!.toLowerCase();
        if (name.startsWith('x-') && name !== 'x-forwarded-for') headers[name] = ctx.req.rawHeaders[i + 1]!;
      }
    }
    if (!(result.status === 401 && f.on('no-www-authenticate'))) headers['www-authenticate'] = result.challenge;
    this.#errorBody(ctx.res, status, message, headers, ctx.op);
    return false;
  }

  #refundIfFree(ctx: Ctx, status: number): void {
    if ((status === 400 || status === 401) && this.#s.faults.on('rejected-attempts-free'))
      this.#s.limiter.refund(ctx.charges);
  }

  // ---- 4. validation ------------------------------------------------------------------------------------------

  /** Validates parameters and body (ERR-001..ERR-004, ERR-011..ERR-013); returns the parsed body or INVALID. */
  async #validate(ctx: Ctx): Promise<unknown> {
    const s = this.#s;
    const f = s.faults;
    const { op } = ctx;
    const bad = s.params.check(
      op,
      ctx.params,
      ctx.badEncoding,
      ctx.query,
      ctx.req.headers,
      f.on('ignore-query-validation'),
    );
    if (bad !== undefined) {
      if (bad.uuidPath && f.on('non-uuid-id-404')) {
        this.#refundIfFree(ctx, 404);
        this.#notFound(ctx.res);
      } else this.#badRequest(ctx, bad.message);
      return INVALID;
    }
    if (op.body === undefined) return undefined;
    const ctHeader = ctx.req.headers['content-type'];
    const media = ctHeader === undefined ? undefined : ctHeader.split(';')[0]!.trim().toLowerCase();
    const hasBody = announcesBody(ctx.req);
    if ((hasBody || op.body.required) && media !== op.body.contentType && !f.on('ignore-content-type')) {
      if (hasBody || media !== undefined) {
        this.#errorBody(ctx.res, 415, 'Unsupported Content-Type');
        return INVALID;
      }
    }
    const raw = await readBody(ctx.req, f.on('no-body-limit') ? 64 * BODY_LIMIT : BODY_LIMIT);
    if (raw.kind === 'aborted') {
      ctx.res.destroy();
      return INVALID;
    }
    if (raw.kind === 'too-large') {
      this.#errorBody(
        ctx.res,
        413,
        'Payload too large',
        tooLargeToDrain(ctx.req) ? { connection: 'close' } : undefined,
      );
      return INVALID;
    }
    if (raw.kind === 'empty') {
      if (op.body.required) {
        this.#badRequest(ctx, 'body is required');
        return INVALID;
      }
      return undefined;
    }
    const text = decodeUtf8(raw.bytes);
    let value: unknown;
    if (op.body.contentType === 'application/x-www-form-urlencoded' && media === op.body.contentType) {
      value = Object.fromEntries(new URLSearchParams(text ?? ''));
    } else {
      if (text === undefined) {
        this.#malformed(ctx);
        return INVALID;
      }
      if (jsonDepth(text) > MAX_JSON_DEPTH) {
        if (f.on('crash-on-deep-json'))
          send(ctx.res, 500, JSON_TYPE, JSON.stringify({ error: 'Internal server error' }));
        else this.#badRequest(ctx, `body nesting exceeds ${MAX_JSON_DEPTH} levels`);
        return INVALID;
      }
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        this.#malformed(ctx);
        return INVALID;
      }
    }
    if (!f.on('ignore-body-validation')) {
      const validate = s.registry.compile(op.body.schema);
      if (!validate(value)) {
        this.#badRequest(ctx, bodyError(validate));
        return INVALID;
      }
    }
    return value;
  }

  #malformed(ctx: Ctx): void {
    if (this.#s.faults.on('malformed-json-500'))
      send(ctx.res, 500, JSON_TYPE, JSON.stringify({ error: 'Internal server error' }));
    else this.#badRequest(ctx, 'Malformed JSON body');
  }

  #badRequest(ctx: Ctx, message: string): void {
    this.#refundIfFree(ctx, 400);
    this.#errorBody(ctx.res, 400, message, undefined, ctx.op);
  }

  // ---- 5. handler ---------------------------------------------------------------------------------------------

  #dispatch(ctx: Ctx, body: unknown): void | Promise<void> {
    const s = this.#s;
    const { op } = ctx;
    // 5a. Object-level authorization (OBJ-001..OBJ-004): another owner's object is refused before any handler runs,
    // so the refusal has no side effect and carries nothing of the object.
    if (!s.ownership.allows(op, ctx.params, body, ctx.principal, s.faults))
      return this.#errorBody(ctx.res, 403, 'Forbidden');
    const needsKeys =
      op.operationId === 'getKeysForEnvironment' ||
      op.operationId.startsWith('getJwks') ||
      op.operationId === 'signInWithEmailVerification';
    if (needsKeys && !s.keys.isReady) return s.keys.ready.then(() => this.#dispatch(ctx, body));
    if (s.faults.on('jwks-json-missing') && op.operationId === 'getJwksJsonByEnvironmentId')
      return this.#notFound(ctx.res);
    const reply: Reply | undefined = s.handlers.run({
      op,
      params: ctx.params,
      body,
      store: s.store,
      key: (id) => s.keys.get(id),
      keepOnDelete: s.faults.on('delete-keeps-resource'),
    });
    if (reply !== undefined) {
      if (reply.kind === 'not-found') {
        if (s.faults.on('unknown-id-400')) return this.#errorBody(ctx.res, 400, 'Bad request');
        return this.#notFound(ctx.res);
      }
      if (reply.kind === 'empty')
        return this.#success(ctx, op.success.kind === 'void' ? op.success.status : 204, undefined, undefined);
      if (reply.kind === 'error') return this.#error(ctx.res, reply.status, JSON.stringify(reply.body));
      return this.#success(ctx, reply.status, reply.body, undefined);
    }
    if (op.success.kind === 'void') return this.#success(ctx, op.success.status, undefined, undefined);
    if (op.success.kind === 'redirect') {
      // A documented redirect (oauthLogin: 302): to a provider page; the mock never follows or serves it.
      return send(
        ctx.res,
        this.#okStatus(op),
        JSON_TYPE,
        undefined,
        { location: REDIRECT_LOCATION },
        this.#cacheControl(ctx),
      );
    }
    const cached = s.samples.forOperation(op);
    if (op.success.kind === 'text') {
      const type =
        op.success.contentType !== undefined && op.success.contentType !== 'text/plain'
          ? `${op.success.contentType}; charset=utf-8`
          : TEXT_TYPE;
      return send(ctx.res, this.#okStatus(op), type, cached.text, undefined, this.#cacheControl(ctx));
    }
    return this.#success(ctx, op.success.status, cached.value, cached.text);
  }

  #okStatus(op: OperationInfo): number {
    return op.method === 'GET' && this.#s.faults.on('undocumented-status') ? 203 : op.success.status;
  }

  #cacheControl(ctx: Ctx): string | null {
    return ctx.principal !== undefined && ctx.principal.kind !== 'public' && this.#s.faults.on('no-cache-control')
      ? null
      : 'no-store';
  }

  #success(ctx: Ctx, status: number, value: unknown, text: string | undefined): void {
    const s = this.#s;
    const f = s.faults;
    const { op } = ctx;
    const cc = this.#cacheControl(ctx);
    if (status === 204 || value === undefined) return send(ctx.res, status, JSON_TYPE, undefined, undefined, cc);
    let out = text;
    if (!f.none) {
      const schema = op.success.schema ?? {};
      let v: unknown = value;
      if (f.on('drop-required-field')) v = s.mutations.dropRequired(v, schema);
      if (f.on('wrong-field-type')) v = s.mutations.wrongFieldType(v);
      if (f.on('extra-enum-value')) v = s.mutations.extraEnum(v, schema);
      if (v !== value) out = JSON.stringify(v);
    }
    if (out === undefined) {
      if (typeof value === 'object' && value !== null) {
        out = this.#json.get(value);
        if (out === undefined) this.#json.set(value, (out = JSON.stringify(value)));
      } else out = JSON.stringify(value);
    }
    send(ctx.res, this.#okStatus(op), f.on('wrong-content-type') ? TEXT_TYPE : JSON_TYPE, out, undefined, cc);
  }

  // ---- errors -------------------------------------------------------------------------------------------------

  #routeNotFound(res: ServerResponse): void {
    this.#error(
      res,
      404,
      this.#s.faults.on('unknown-path-no-code') ? JSON.stringify({ error: 'Route not found' }) : ROUTE_NOT_FOUND,
    );
  }

  #notFound(res: ServerResponse): void {
    this.#error(res, 404, JSON.stringify(NOT_FOUND_BODY));
  }

  /**
   * An `{"error": message}` body — or, where the operation documents another error body for the status
   * (ForbiddenWithErrorAndPayload `{error: {code, message}}`, WaasVerifyApiKeyErrorResponse `{message, verified}`),
   * the first of those shapes its schema accepts (ERR-008) — with the error faults applied (ERR-008, ERR-010,
   * ERR-015).
   */
  #errorBody(res: ServerResponse, status: number, message: string, headers?: Headers, op?: OperationInfo): void {
    const f = this.#s.faults;
    let body: Record<string, unknown> = { error: message };
    const documented = op?.errorSchemas[String(status)];
    if (documented !== undefined) {
      const validate = this.#s.registry.compile(documented);
      if (!validate(body)) {
        const shapes = [
          { error: { code: status === 403 ? 'forbidden' : status === 401 ? 'unauthorized' : 'bad_request', message } },
          { message, verified: false },
          { message },
          { error: message, code: 'error' },
        ];
        body = shapes.find((b) => validate(b)) ?? body;
      }
    }
    if (!f.none) {
      if (status === 403 && f.on('forbidden-body-object')) body = { error: { code: 'forbidden', message } };
      if (status === 400 && f.on('stack-trace-in-error')) body = { ...body, stack: new Error(message).stack };
    }
    this.#error(res, status, JSON.stringify(body), headers);
  }

  #error(res: ServerResponse, status: number, body: string, headers?: Headers): void {
    send(res, status, this.#s.faults.on('error-content-type-text') ? TEXT_TYPE : JSON_TYPE, body, headers);
  }
}

const INVALID: unique symbol = Symbol('invalid');

/** Where the mock's documented redirects point (a reserved, never-resolving host: RFC 6761 .invalid). */
const REDIRECT_LOCATION = 'https://oauth-provider.invalid/authorize';
