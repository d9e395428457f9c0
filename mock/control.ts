import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MockState } from './state.js';
import { decodeUtf8, readBody } from './body.js';
import { firstUnknownFault } from './faults.js';
import type { FaultId } from './faults.js';
import { applyOverrides, defaultClaims, defaultHeader, signJwt } from './jwt.js';
import type { JsonObject } from './jwt.js';
import { JSON_TYPE, send, sendJson } from './respond.js';
import { derivedUuid } from './seed.js';

const CONTROL_BODY_LIMIT = 64 * 1024;
const ROUTES: Readonly<Record<string, string>> = {
  '/health': 'GET',
  '/seed': 'GET',
  '/jwt': 'POST',
  '/clock': 'POST',
  '/reset': 'POST',
  '/faults': 'GET, POST',
};

class BadInput extends Error {}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The control API under `/__mock/` (ARCHITECTURE.md "Control API"): health, seed, JWT minting, clock, reset and
 * fault selection. Off with `MOCK_CONTROL=off`. It is not rate limited and needs no credentials (loopback only).
 */
export class ControlApi {
  readonly #s: MockState;

  constructor(state: MockState) {
    this.#s = state;
  }

  /** Handles `/__mock<path>`. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const allow = ROUTES[path];
    if (allow === undefined)
      return send(res, 404, JSON_TYPE, JSON.stringify({ error: 'Route not found', code: 'route_not_found' }));
    const method = req.method ?? 'GET';
    if (!allow.split(', ').includes(method))
      return send(res, 405, JSON_TYPE, JSON.stringify({ error: 'Method not allowed' }), { allow });
    try {
      const body = method === 'POST' ? await this.#readJson(req) : undefined;
      switch (`${method} ${path}`) {
        case 'GET /health':
          return sendJson(res, 200, { ok: true });
        case 'GET /seed':
          return sendJson(res, 200, await this.seedView());
        case 'POST /jwt':
          return sendJson(res, 200, await this.#jwt(body));
        case 'POST /clock':
          return sendJson(res, 200, this.#clock(body));
        case 'POST /reset':
          return sendJson(res, 200, this.#reset(body));
        case 'GET /faults':
          return sendJson(res, 200, this.#faultsView());
        default:
          this.#setFaults(body);
          return sendJson(res, 200, this.#faultsView());
      }
    } catch (err) {
      if (err instanceof BadInput) return send(res, 400, JSON_TYPE, JSON.stringify({ error: err.message }));
      throw err;
    }
  }

  /** `GET /__mock/seed`: the seeded environments, tokens and users (with JWTs valid at the current mock time). */
  async seedView(): Promise<JsonObject> {
    const s = this.#s;
    await s.keys.ready;
    const users = s.seed.users.map((u) => ({
      id: u.id,
      environmentId: u.environmentId,
      jwt: this.mint(u.environmentId, u.id),
    }));
    return {
      profile: s.profile.id,
      seed: /^\d{1,15}$/.test(s.seed.seed) ? Number(s.seed.seed) : s.seed.seed,
      now: s.clock.nowSeconds(),
      environments: s.seed.environments.map((e) => ({ ...e })),
      tokens: s.seed.tokens.map((t) => ({
        value: t.value,
        environmentId: t.environmentId,
        scopes: [...t.scopes],
        active: t.active,
        label: t.label,
      })),
      users,
      objects: s.seed.objects.map((o) => ({ ...o })),
      faults: s.faults.list(),
    };
  }

  /** Signs a user JWT for a seeded environment (default claims, then overrides; `null` deletes a member). */
  mint(environmentId: string, userId: string, claims?: JsonObject, header?: JsonObject): string {
    const s = this.#s;
    const key = s.keys.get(environmentId);
    if (!key) throw new BadInput(`unknown environmentId "${environmentId}"`);
    const ids = {
      sid: derivedUuid(s.seed.seed, 'sid', environmentId, userId),
      credentialId: derivedUuid(s.seed.seed, 'credential', environmentId, userId),
    };
    const payload = applyOverrides(defaultClaims(key, userId, s.clock.nowSeconds(), ids), claims);
    return signJwt(key, applyOverrides(defaultHeader(key), header), payload);
  }

  async #jwt(body: unknown): Promise<JsonObject> {
    const s = this.#s;
    if (!isObject(body) || typeof body['environmentId'] !== 'string')
      throw new BadInput('body must be {environmentId, userId?, claims?, header?}');
    await s.keys.ready;
    const env = body['environmentId'];
    let userId = body['userId'];
    if (userId === undefined)
      userId = s.seed.users.find((u) => u.environmentId === env)?.id ?? derivedUuid(s.seed.seed, 'user', env);
    if (typeof userId !== 'string') throw new BadInput('userId must be a string');
    const claims = body['claims'];
    const header = body['header'];
    if (claims !== undefined && !isObject(claims)) throw new BadInput('claims must be an object');
    if (header !== undefined && !isObject(header)) throw new BadInput('header must be an object');
    return { jwt: this.mint(env, userId, claims, header) };
  }

  #clock(body: unknown): JsonObject {
    const c = this.#s.clock;
    if (isObject(body) && typeof body['advanceSeconds'] === 'number' && Number.isFinite(body['advanceSeconds']))
      c.advance(body['advanceSeconds']);
    else if (isObject(body) && typeof body['set'] === 'number' && Number.isFinite(body['set']) && body['set'] >= 0)
      c.set(body['set']);
    else throw new BadInput('body must be {advanceSeconds: number} or {set: epochSeconds}');
    return { now: c.nowSeconds() };
  }

  #reset(body: unknown): JsonObject {
    const s = this.#s;
    let faults: FaultId[] | undefined;
    if (isObject(body) && body['faults'] !== undefined) faults = this.#faultIds(body['faults']);
    s.reset();
    if (faults !== undefined) s.faults.set(faults);
    return { ok: true, now: s.clock.nowSeconds(), faults: s.faults.list() };
  }

  #faultsView(): JsonObject {
    const s = this.#s;
    return { faults: s.faults.list(), available: s.spec.faults.map((f) => ({ ...f })) };
  }

  #setFaults(body: unknown): void {
    if (!isObject(body)) throw new BadInput('body must be {faults: [id, ...]}');
    this.#s.faults.set(this.#faultIds(body['faults']));
  }

  #faultIds(v: unknown): FaultId[] {
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string'))
      throw new BadInput('faults must be an array of fault ids');
    const unknown = firstUnknownFault(v);
    if (unknown !== undefined) throw new BadInput(`unknown fault "${unknown}"`);
    return v as FaultId[];
  }

  async #readJson(req: IncomingMessage): Promise<unknown> {
    const raw = await readBody(req, CONTROL_BODY_LIMIT);
    if (raw.kind === 'empty') return undefined;
    if (raw.kind !== 'bytes') throw new BadInput('body too large or aborted');
    const text = decodeUtf8(raw.bytes);
    if (text === undefined) throw new BadInput('Malformed JSON body');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BadInput('Malformed JSON body');
    }
  }
}
