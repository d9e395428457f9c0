import { createHash } from 'node:crypto';
import type { ObjectFamilySpec } from './spec.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Deterministic byte stream derived from `MOCK_SEED` and a label (SHA-256 in counter mode). The same seed and
 * label always give the same ids, token values and keys, on every platform (determinism of the mock's contract).
 */
export class Drbg {
  readonly #prefix: string;
  #counter = 0;
  #pool: Buffer = Buffer.alloc(0);

  constructor(seed: string, label: string) {
    this.#prefix = `dynamic-mock\u0000${seed}\u0000${label}\u0000`;
  }

  /** The next `n` bytes of the stream. */
  bytes(n: number): Buffer {
    const parts: Buffer[] = [this.#pool];
    let have = this.#pool.length;
    while (have < n) {
      const block = createHash('sha256')
        .update(this.#prefix + String(this.#counter++))
        .digest();
      parts.push(block);
      have += block.length;
    }
    const all = Buffer.concat(parts);
    this.#pool = all.subarray(n);
    return all.subarray(0, n);
  }

  /** A lowercase RFC 4122 version-4 shaped UUID (the documented id pattern, dynamic-api-facts.md 9). */
  uuid(): string {
    return uuidFromBytes(this.bytes(16));
  }

  /** `n` characters from [A-Za-z0-9] (API-token body alphabet, TOKEN rules). */
  alnum(n: number): string {
    let out = '';
    while (out.length < n) {
      for (const b of this.bytes(n - out.length)) {
        // 248 = 4 * 62: reject the tail so every character is equally likely.
        if (b < 248 && out.length < n) out += ALNUM[b % 62];
      }
    }
    return out;
  }

  /** `n` bytes as lowercase hex. */
  hex(n: number): string {
    return this.bytes(n).toString('hex');
  }
}

/** Formats 16 bytes as a lowercase version-4, variant-1 UUID. */
export function uuidFromBytes(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A UUID that depends only on the seed and the given parts (stateless derivation). */
export function derivedUuid(seed: string, ...parts: string[]): string {
  return uuidFromBytes(
    createHash('sha256')
      .update(['dynamic-mock-uuid', seed, ...parts].join('\u0000'))
      .digest(),
  );
}

/** Environment names of a Dynamic project (EnvironmentEnum). */
export type EnvironmentName = 'sandbox' | 'live';

/** Labels of the seeded API tokens (one per auth-matrix row of the suite). */
export type TokenLabel = 'all' | 'read-only' | 'none' | 'inactive';

/** A seeded environment as reported by `GET /__mock/seed`. */
export interface SeedEnvironment {
  readonly id: string;
  readonly name: EnvironmentName;
  readonly projectId: string;
  readonly organizationId: string;
  readonly issuer: string;
  readonly kid: string;
}

/** A seeded API token (raw value included: this is test data for the suite). */
export interface SeedToken {
  readonly id: string;
  readonly value: string;
  readonly environmentId: string;
  readonly scopes: readonly string[];
  readonly active: boolean;
  readonly label: TokenLabel;
}

/** A seeded user of an environment. */
export interface SeedUser {
  readonly id: string;
  readonly environmentId: string;
  readonly email: string;
  readonly alias: string;
}

/**
 * A seeded owned object (OBJ rules): one per environment, organization or user for every family of
 * specs/objects.json, so a request can name another owner's object on every id-addressed operation.
 */
export interface SeedObject {
  readonly family: string;
  readonly id: string;
  readonly organizationId: string;
  /** Set for environment- and user-owned objects. */
  readonly environmentId?: string;
  /** Set for user-owned objects. */
  readonly userId?: string;
}

/** Everything `MOCK_SEED` determines before any request. */
export interface SeedData {
  readonly seed: string;
  /** The first organization (owner of the `sandbox`/`live` project). */
  readonly organizationId: string;
  /** The first organization's project (owner of the `sandbox` and `live` environments). */
  readonly projectId: string;
  /** Every seeded environment: the first project's `sandbox` and `live`, then the other organization's pair. */
  readonly environments: readonly SeedEnvironment[];
  readonly tokens: readonly SeedToken[];
  readonly users: readonly SeedUser[];
  /** Id of the dashboard member who "created" the seeded tokens (TokenCreatedBy). */
  readonly memberId: string;
  /** Owned objects of every family of specs/objects.json, per owner (OBJ rules). */
  readonly objects: readonly SeedObject[];
}

/** JWT issuer of an environment: "current backend api host + environment id" (dynamic-api-facts.md 8). */
export function issuerFor(environmentId: string): string {
  return `app.dynamic.xyz/${environmentId}`;
}

/** A seeded owned id of a family: a UUID, or a hex wallet address for `walletAddress`. */
function ownedId(seed: string, family: string, ...owner: string[]): string {
  if (family === 'walletAddress')
    return `0x${createHash('sha256')
      .update(['dynamic-mock-address', seed, ...owner].join('\u0000'))
      .digest('hex')
      .slice(0, 40)}`;
  return derivedUuid(seed, 'object', family, ...owner);
}

/**
 * Builds the seed state: one organization with one project holding a `sandbox` and a `live` environment, plus a
 * second organization with its own project and environment pair (cross-organization checks, OBJ rules). Every
 * environment gets four API tokens (`all` scopes, `read-only` = only `*.read` scopes, `none` = no scopes, `inactive`)
 * and two users; every family of specs/objects.json gets one owned object per owner (environment, organization or
 * user). Token values follow the active profile's shape (`dyn_` + `tokenLength` alphanumerics).
 */
export function buildSeed(
  seed: string,
  tokenLength: number,
  allScopes: readonly string[],
  families: readonly ObjectFamilySpec[] = [],
): SeedData {
  const rng = new Drbg(seed, 'seed');
  const organizationId = rng.uuid();
  const projectId = rng.uuid();
  const memberId = rng.uuid();
  const environments: SeedEnvironment[] = [];
  const tokens: SeedToken[] = [];
  const users: SeedUser[] = [];
  const readScopes = allScopes.filter((s) => s.endsWith('.read'));
  const addEnvironment = (r: Drbg, name: EnvironmentName, org: string, project: string, label: string): void => {
    const id = r.uuid();
    environments.push({
      id,
      name,
      projectId: project,
      organizationId: org,
      issuer: issuerFor(id),
      kid: `mock-${label}-${r.hex(8)}`,
    });
    const rows: [TokenLabel, readonly string[], boolean][] = [
      ['all', allScopes, true],
      ['read-only', readScopes, true],
      ['none', [], true],
      ['inactive', allScopes, false],
    ];
    for (const [tokenLabel, scopes, active] of rows) {
      tokens.push({
        id: r.uuid(),
        value: `dyn_${r.alnum(tokenLength)}`,
        environmentId: id,
        scopes: [...scopes],
        active,
        label: tokenLabel,
      });
    }
    for (let i = 1; i <= 2; i++) {
      users.push({
        id: r.uuid(),
        environmentId: id,
        email: `user${i}.${label}@example.invalid`,
        alias: `${label}-user-${i}`,
      });
    }
  };
  for (const name of ['sandbox', 'live'] as const) addEnvironment(rng, name, organizationId, projectId, name);
  // The other organization comes from its own stream, so the first organization's ids are the same as before.
  const otherRng = new Drbg(seed, 'seed-other-organization');
  const otherOrganizationId = otherRng.uuid();
  const otherProjectId = otherRng.uuid();
  const otherMemberId = otherRng.uuid();
  for (const name of ['sandbox', 'live'] as const)
    addEnvironment(otherRng, name, otherOrganizationId, otherProjectId, `other-org-${name}`);
  const organizations = [
    { id: organizationId, projectId, memberId },
    { id: otherOrganizationId, projectId: otherProjectId, memberId: otherMemberId },
  ];
  const objects: SeedObject[] = [];
  for (const f of families) {
    if (f.owner === 'organization') {
      for (const o of organizations) {
        const id =
          f.family === 'organization'
            ? o.id
            : f.family === 'project'
              ? o.projectId
              : f.family === 'member'
                ? o.memberId
                : ownedId(seed, f.family, o.id);
        objects.push({ family: f.family, id, organizationId: o.id });
      }
    } else if (f.owner === 'environment') {
      for (const e of environments) {
        if (f.family === 'user') {
          for (const u of users.filter((x) => x.environmentId === e.id))
            objects.push({ family: f.family, id: u.id, organizationId: e.organizationId, environmentId: e.id });
        } else
          objects.push({
            family: f.family,
            id: ownedId(seed, f.family, e.id),
            organizationId: e.organizationId,
            environmentId: e.id,
          });
      }
    } else {
      for (const u of users) {
        const env = environments.find((e) => e.id === u.environmentId)!;
        objects.push({
          family: f.family,
          id: ownedId(seed, f.family, u.environmentId, u.id),
          organizationId: env.organizationId,
          environmentId: u.environmentId,
          userId: u.id,
        });
      }
    }
  }
  return { seed, organizationId, projectId, environments, tokens, users, memberId, objects };
}
