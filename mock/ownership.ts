import type { Principal } from './auth.js';
import type { FaultSet } from './faults.js';
import type { SeedData } from './seed.js';
import type { ObjectFamilySpec, ObjectOwnerKind, OperationInfo } from './spec.js';
import type { EnvironmentState, Store } from './store.js';

/** Who owns an object: its organization, and for environment- and user-owned objects the environment (and user). */
export interface Owner {
  readonly kind: ObjectOwnerKind;
  readonly organizationId: string;
  readonly environmentId?: string | undefined;
  readonly userId?: string | undefined;
}

/** Where an operation names an owned object: a path parameter or a body member. */
interface ObjectRef {
  readonly family: ObjectFamilySpec;
  readonly in: 'path' | 'body';
  readonly name: string;
}

/**
 * Object-level authorization (OBJ-001..OBJ-004; tokens-api-keys 403 "does not have access to the resource defined by
 * the endpoint (eg. the specific environment, allowlist, user, etc.)"; OWASP API1:2023). Every object named by a
 * request (the parameters and body members of specs/objects.json) must belong to the caller: an API token reaches
 * the objects of its own environment (user-owned ones through their user's environment) and the organization-owned
 * objects of its environment's organization; a user JWT reaches only its own user's objects. Ids nobody owns (not
 * stored, not seeded) pass through to the handler (sample or 404), so the answer for an unknown id is unchanged.
 */
export class Ownership {
  readonly #families: readonly ObjectFamilySpec[];
  readonly #store: Store;
  readonly #organizationOf = new Map<string, string>();
  readonly #seeded = new Map<string, Map<string, Owner>>();
  readonly #refs = new Map<string, readonly ObjectRef[]>();

  constructor(families: readonly ObjectFamilySpec[], seed: SeedData, store: Store) {
    this.#families = families;
    this.#store = store;
    for (const e of seed.environments) this.#organizationOf.set(e.id, e.organizationId);
    const kinds = new Map(families.map((f) => [f.family, f]));
    for (const o of seed.objects) {
      const f = kinds.get(o.family);
      if (!f || f.stored || f.family === 'user') continue;
      let byId = this.#seeded.get(o.family);
      if (!byId) this.#seeded.set(o.family, (byId = new Map<string, Owner>()));
      byId.set(o.id, {
        kind: f.owner,
        organizationId: o.organizationId,
        environmentId: o.environmentId,
        userId: o.userId,
      });
    }
  }

  /** The objects an operation names (cached per operation). */
  refs(op: OperationInfo): readonly ObjectRef[] {
    let refs = this.#refs.get(op.operationId);
    if (refs === undefined) {
      const sdk = op.path.startsWith('/sdk/');
      const list: ObjectRef[] = [];
      for (const p of op.params.filter((x) => x.in === 'path')) {
        const family = this.#families.find(
          (f) =>
            f.params.includes(p.name) &&
            (f.surface === undefined || f.surface === (sdk ? 'sdk' : 'admin')) &&
            (f.pathPrefix === undefined || op.path.startsWith(f.pathPrefix)),
        );
        if (family) list.push({ family, in: 'path', name: p.name });
      }
      for (const family of this.#families) {
        const member = family.body[op.operationId];
        if (member !== undefined) list.push({ family, in: 'body', name: member });
      }
      refs = list;
      this.#refs.set(op.operationId, refs);
    }
    return refs;
  }

  /** The owner of an object of a family, or undefined when nobody owns that id (unknown ids). */
  ownerOf(family: ObjectFamilySpec, id: string): Owner | undefined {
    const envOwner = (env: EnvironmentState | undefined): Owner | undefined =>
      env ? { kind: 'environment', organizationId: env.seed.organizationId, environmentId: env.seed.id } : undefined;
    switch (family.family) {
      case 'allowlist':
        return envOwner(this.#store.allowlistOwner(id));
      case 'allowlistEntry':
        return envOwner(this.#store.entryOwner(id));
      case 'origin':
        return envOwner(this.#store.originOwner(id));
      case 'user':
        return envOwner(this.#store.userOwner(id));
      default:
        return this.#seeded.get(family.family)?.get(id);
    }
  }

  /**
   * True when the principal may reach every object the request names. Faults (specs/faults.json) relax exactly one
   * comparison each: reads, writes/deletes, the allowlist family's writes, organization-owned objects, /sdk users.
   */
  allows(
    op: OperationInfo,
    params: Readonly<Record<string, string>>,
    body: unknown,
    principal: Principal | undefined,
    faults: FaultSet,
  ): boolean {
    if (principal === undefined || principal.kind === 'public') return true;
    const refs = this.refs(op);
    if (!refs.length) return true;
    for (const ref of refs) {
      const id = ref.in === 'path' ? params[ref.name] : bodyMember(body, ref.name);
      if (id === undefined || id === '') continue;
      const owner = this.ownerOf(ref.family, id);
      if (owner === undefined) continue;
      if (!this.#owns(op, ref.family, owner, principal, faults)) return false;
    }
    return true;
  }

  #owns(
    op: OperationInfo,
    family: ObjectFamilySpec,
    owner: Owner,
    principal: Exclude<Principal, { kind: 'public' }>,
    faults: FaultSet,
  ): boolean {
    if (principal.kind === 'user-jwt') {
      if (owner.environmentId !== undefined && owner.environmentId !== principal.environmentId) return false;
      if (owner.userId === undefined || faults.on('ignore-sdk-object-owner')) return true;
      return owner.userId === principal.sub;
    }
    if (family.owner === 'organization' || owner.environmentId === undefined) {
      if (faults.on('ignore-organization-owner')) return true;
      return (
        principal.environmentId !== undefined &&
        this.#organizationOf.get(principal.environmentId) === owner.organizationId
      );
    }
    if (!faults.none) {
      const read = op.method === 'GET';
      if (read && faults.on('ignore-owner-on-reads')) return true;
      if (!read && faults.on('ignore-owner-on-writes')) return true;
      if (
        !read &&
        (family.family === 'allowlist' || family.family === 'allowlistEntry') &&
        faults.on('ignore-allowlist-owner')
      )
        return true;
    }
    return owner.environmentId === principal.environmentId;
  }
}

function bodyMember(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}
