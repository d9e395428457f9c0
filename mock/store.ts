import { createHash, timingSafeEqual } from 'node:crypto';
import type { MockClock } from './clock.js';
import type { Samples } from './samples.js';
import type { SchemaRegistry } from './schemas.js';
import { Drbg } from './seed.js';
import { TestAccounts } from './test-accounts.js';
import type { SeedData, SeedEnvironment, TokenLabel } from './seed.js';

/** A JSON object record of the store. */
export type Json = Record<string, unknown>;

/** An API token held by the store; `value` is the raw token (the mock keeps it only to answer `/__mock/seed`). */
export interface TokenRecord {
  readonly id: string;
  readonly value: string;
  readonly hash: Buffer;
  readonly environmentId: string;
  readonly scopes: readonly string[];
  readonly active: boolean;
  readonly label: TokenLabel | undefined;
  readonly note: string;
  readonly createdAt: string;
}

/** Per-environment state of the stateful core resources (SCHEMA-004). */
export interface EnvironmentState {
  readonly seed: SeedEnvironment;
  environment: Json;
  readonly tokens: Map<string, TokenRecord>;
  readonly users: Map<string, Json>;
  readonly webhooks: Map<string, Json>;
  readonly allowlists: Map<string, Json>;
  readonly allowlistEntries: Map<string, Json>;
  readonly origins: Map<string, Json>;
}

/** SHA-256 of a raw token (tokens are looked up by hash, TOKEN-008). */
export function tokenHash(value: string): Buffer {
  return createHash('sha256').update(value, 'latin1').digest();
}

/**
 * In-memory store of the stateful core resources, one partition per environment (SCHEMA-004, ERR-005):
 * environments, API tokens, users, allowlists (+ entries), webhooks and origins. Built from the seed; `reset()`
 * restores the seed state. New ids and token values come from a seeded stream, so a run is reproducible.
 */
export class Store {
  readonly #seed: SeedData;
  readonly #clock: MockClock;
  readonly #samples: Samples;
  readonly #registry: SchemaRegistry;
  readonly #tokenLength: number;
  #rng!: Drbg;
  #envs = new Map<string, EnvironmentState>();
  #tokensByHash = new Map<string, TokenRecord>();
  /** Test accounts and pending email verifications (sandbox OTP sign-in, issue #13). */
  readonly testAccounts: TestAccounts;

  constructor(
    seed: SeedData,
    deps: { clock: MockClock; samples: Samples; registry: SchemaRegistry; tokenLength: number },
  ) {
    this.#seed = seed;
    this.#clock = deps.clock;
    this.#samples = deps.samples;
    this.#registry = deps.registry;
    this.#tokenLength = deps.tokenLength;
    this.testAccounts = new TestAccounts(
      seed.seed,
      seed.environments.map((e) => e.id),
    );
    this.reset();
  }

  /** Restores the seed state (`POST /__mock/reset`). */
  reset(): void {
    this.#rng = new Drbg(this.#seed.seed, 'created');
    this.#envs = new Map();
    this.#tokensByHash = new Map();
    this.testAccounts.reset();
    const now = this.#nowIso();
    for (const env of this.#seed.environments) {
      const settings = this.#samples.forModel('ProjectSettings') as Json;
      settings['environmentName'] = env.name;
      const state: EnvironmentState = {
        seed: env,
        environment: { id: env.id, settings, createdAt: now, updatedAt: now, sdkVersion: '4.0.0' },
        tokens: new Map(),
        users: new Map(),
        webhooks: new Map(),
        allowlists: new Map(),
        allowlistEntries: new Map(),
        origins: new Map(),
      };
      this.#envs.set(env.id, state);
    }
    for (const t of this.#seed.tokens) {
      this.#addToken({
        id: t.id,
        value: t.value,
        hash: tokenHash(t.value),
        environmentId: t.environmentId,
        scopes: t.scopes,
        active: t.active,
        label: t.label,
        note: `seeded ${t.label} token`,
        createdAt: now,
      });
    }
    for (const u of this.#seed.users) {
      this.#envs.get(u.environmentId)?.users.set(u.id, {
        id: u.id,
        projectEnvironmentId: u.environmentId,
        email: u.email,
        alias: u.alias,
        newUser: false,
        createdAt: now,
        updatedAt: now,
      });
    }
    this.#seedStoredObjects(now);
  }

  /** The seeded allowlists, entries and origins (one of each per environment: OBJ rules name them across owners). */
  #seedStoredObjects(now: string): void {
    const firstAllowlist = new Map<string, string>();
    for (const o of this.#seed.objects) {
      const env = o.environmentId === undefined ? undefined : this.#envs.get(o.environmentId);
      if (!env) continue;
      if (o.family === 'allowlist') {
        env.allowlists.set(
          o.id,
          this.mergeValid(
            {
              id: o.id,
              name: `seeded allowlist of ${env.seed.name}`,
              projectEnvironmentId: env.seed.id,
              enabledAt: null,
            },
            { outcome: 'siteAccess' },
            'Allowlist',
          ),
        );
        if (!firstAllowlist.has(env.seed.id)) firstAllowlist.set(env.seed.id, o.id);
      } else if (o.family === 'origin') {
        env.origins.set(o.id, {
          id: o.id,
          origin: `https://seeded-${env.seed.id.slice(0, 8)}.example.invalid`,
          createdAt: now,
          projectEnvironmentId: env.seed.id,
        });
      }
    }
    for (const o of this.#seed.objects) {
      const env = o.environmentId === undefined ? undefined : this.#envs.get(o.environmentId);
      const allowListId = env ? firstAllowlist.get(env.seed.id) : undefined;
      if (o.family !== 'allowlistEntry' || !env || allowListId === undefined) continue;
      env.allowlistEntries.set(
        o.id,
        this.mergeValid(
          { id: o.id, allowListId },
          { alias: 'seeded entry', email: `seeded@${env.seed.id.slice(0, 8)}.example.invalid` },
          'AllowlistEntry',
        ),
      );
    }
  }

  /** Id of the first seeded project (owner of the `sandbox` and `live` environments). */
  get projectId(): string {
    return this.#seed.projectId;
  }

  /** The environments of a seeded project, in seed order (none for an unknown project). */
  projectEnvironments(projectId: string): EnvironmentState[] {
    return this.environments().filter((e) => e.seed.projectId === projectId);
  }

  /** The environment's state, or undefined for an id that is not seeded. */
  env(id: string): EnvironmentState | undefined {
    return this.#envs.get(id);
  }

  /** All environment states in seed order. */
  environments(): EnvironmentState[] {
    return [...this.#envs.values()];
  }

  /** Finds a token by raw value: SHA-256 lookup, then a timing-safe comparison of the digests (TOKEN-008). */
  findToken(value: string): TokenRecord | undefined {
    const h = tokenHash(value);
    const rec = this.#tokensByHash.get(h.toString('hex'));
    if (rec === undefined || !timingSafeEqual(rec.hash, h)) return undefined;
    return rec;
  }

  /** Every token (fault paths that deliberately compare loosely scan this). */
  allTokens(): TokenRecord[] {
    return [...this.#tokensByHash.values()];
  }

  /** Creates an active token with a fresh profile-shaped raw value (`POST /environments/{id}/tokens`). */
  createToken(environmentId: string, note: string, scopes: readonly string[]): TokenRecord {
    const rec: TokenRecord = {
      id: this.#rng.uuid(),
      value: `dyn_${this.#rng.alnum(this.#tokenLength)}`,
      hash: Buffer.alloc(0),
      environmentId,
      scopes: [...scopes],
      active: true,
      label: undefined,
      note,
      createdAt: this.#nowIso(),
    };
    const withHash = { ...rec, hash: tokenHash(rec.value) };
    this.#addToken(withHash);
    return withHash;
  }

  /** Revokes (deletes) a token of an environment; false if unknown. */
  deleteToken(environmentId: string, tokenId: string): boolean {
    const env = this.#envs.get(environmentId);
    const rec = env?.tokens.get(tokenId);
    if (!env || !rec) return false;
    env.tokens.delete(tokenId);
    this.#tokensByHash.delete(rec.hash.toString('hex'));
    return true;
  }

  /** The Token model of a record (never carries the raw value). */
  tokenJson(rec: TokenRecord): Json {
    return {
      id: rec.id,
      checksum: rec.value.slice(-6),
      createdBy: { id: this.#seed.memberId, alias: 'mock-admin', email: 'admin@example.invalid' },
      createdAt: rec.createdAt,
      note: rec.note,
      projectEnvironmentId: rec.environmentId,
      projectEnvironment: { id: rec.environmentId },
      scopes: [...rec.scopes],
    };
  }

  /** The TokenWithRaw model (only in the create response). */
  tokenWithRawJson(rec: TokenRecord): Json {
    return { ...this.tokenJson(rec), rawToken: rec.value, active: rec.active };
  }

  /** A fresh id from the seeded stream. */
  newId(): string {
    return this.#rng.uuid();
  }

  /** Current mock time in epoch seconds. */
  nowSeconds(): number {
    return this.#clock.nowSeconds();
  }

  /**
   * The user signing in with `email` (found among the environment's users, or created) as the SdkUser model of a
   * VerifyResponse; the admin API sees the same user (`getUser`).
   */
  signInUser(environmentId: string, email: string): Json | undefined {
    const env = this.#envs.get(environmentId);
    if (!env) return undefined;
    let user = [...env.users.values()].find(
      (u) => typeof u['email'] === 'string' && u['email'].toLowerCase() === email.toLowerCase(),
    );
    if (!user) {
      const id = this.newId();
      const now = this.#nowIso();
      user = this.mergeValid(
        { id, projectEnvironmentId: environmentId, newUser: true, createdAt: now, updatedAt: now },
        { email },
        'User',
      );
      env.users.set(id, user);
    }
    const base = {
      ...(this.#samples.forModel('SdkUser', true) as Json),
      id: user['id'],
      projectEnvironmentId: environmentId,
    };
    return this.mergeValid(base, { email, newUser: user['newUser'] === true }, 'SdkUser');
  }

  /** Current mock time as an ISO date-time string. */
  nowIso(): string {
    return this.#nowIso();
  }

  /**
   * Copies the members of `patch` that keep `record` valid against model `model` (so every stored record stays
   * schema-valid, SCHEMA-001). Members unknown to the model are ignored.
   */
  mergeValid(record: Json, patch: Json, model: string): Json {
    const validate = this.#registry.model(model);
    let out = { ...record };
    for (const [k, v] of Object.entries(patch)) {
      const candidate = { ...out, [k]: v };
      if (validate(candidate)) out = candidate;
    }
    return out;
  }

  /** Finds the environment holding an allowlist. */
  allowlistOwner(allowlistId: string): EnvironmentState | undefined {
    return this.environments().find((e) => e.allowlists.has(allowlistId));
  }

  /** Finds the environment holding an allowlist entry. */
  entryOwner(entryId: string): EnvironmentState | undefined {
    return this.environments().find((e) => e.allowlistEntries.has(entryId));
  }

  /** Finds the environment holding a user. */
  userOwner(userId: string): EnvironmentState | undefined {
    return this.environments().find((e) => e.users.has(userId));
  }

  /** Finds the environment holding an origin. */
  originOwner(originId: string): EnvironmentState | undefined {
    return this.environments().find((e) => e.origins.has(originId));
  }

  #addToken(rec: TokenRecord): void {
    this.#envs.get(rec.environmentId)?.tokens.set(rec.id, rec);
    this.#tokensByHash.set(rec.hash.toString('hex'), rec);
  }

  #nowIso(): string {
    return new Date(this.#clock.nowMs()).toISOString();
  }
}
