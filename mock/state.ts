/** The state of a running mock (its own module: app.ts and control.ts both use it, neither is imported here). */
import { isIP } from 'node:net';
import { Authenticator } from './auth.js';
import { MockClock } from './clock.js';
import { FaultSet, checkFaultCatalogue, firstUnknownFault } from './faults.js';
import type { FaultId } from './faults.js';
import { Handlers } from './handlers.js';
import { KeyRing } from './keyring.js';
import { BodyMutations } from './mutate.js';
import type { LimitWindow } from './ratelimit.js';
import { RateLimiter } from './ratelimit.js';
import { Router } from './router.js';
import { Samples } from './samples.js';
import { DEFAULTS } from './settings.js';
import { SchemaRegistry } from './schemas.js';
import { buildSeed } from './seed.js';
import { Ownership } from './ownership.js';
import type { SeedData } from './seed.js';
import { loadSpec } from './spec.js';
import type { DocsProfile, OperationInfo, SpecBundle } from './spec.js';
import { Store } from './store.js';
import { ParamValidation } from './validate.js';
import type { MockOptions } from './options.js';

const GLOBAL_POLICIES: ReadonlySet<string> = new Set(['sdk-ip', 'sdk-environment', 'admin-ip', 'admin-environment']);

interface PolicyPlan {
  readonly id: string;
  readonly endpoint: boolean;
  readonly key: readonly ('ip' | 'environment' | 'wallet')[];
  readonly windows: readonly { readonly limit: number; readonly seconds: number }[];
  /** The windows in milliseconds, as the limiter takes them (precomputed for the hot path). */
  readonly limits: readonly LimitWindow[];
}

/** Everything a running mock holds; exposed for in-process tests and the control API. */
export class MockState {
  readonly spec: SpecBundle;
  readonly profile: DocsProfile;
  readonly otherProfile: DocsProfile;
  readonly registry: SchemaRegistry;
  readonly clock: MockClock;
  readonly faults: FaultSet;
  readonly seed: SeedData;
  readonly store: Store;
  readonly limiter: RateLimiter;
  readonly keys: KeyRing;
  readonly samples: Samples;
  readonly router: Router;
  readonly handlers: Handlers;
  readonly ownership: Ownership;
  readonly auth: Authenticator;
  readonly params: ParamValidation;
  readonly mutations: BodyMutations;
  readonly trustedProxy: string | undefined;
  readonly control: boolean;
  readonly #plans = new Map<string, readonly PolicyPlan[]>();

  constructor(options: MockOptions) {
    this.spec = options.spec ?? loadSpec();
    checkFaultCatalogue(this.spec.faults);
    const profileId = options.profile ?? DEFAULTS.profile;
    const profile = this.spec.profiles.get(profileId);
    if (!profile)
      throw new Error(`unknown docs profile "${profileId}" (known: ${[...this.spec.profiles.keys()].join(', ')})`);
    this.profile = profile;
    this.otherProfile = [...this.spec.profiles.values()].find((p) => p.id !== profile.id) ?? profile;
    const unknown = firstUnknownFault(options.faults ?? []);
    if (unknown !== undefined) throw new Error(`unknown fault "${unknown}"`);
    this.faults = new FaultSet((options.faults ?? []) as FaultId[]);
    this.registry = options.registry ?? new SchemaRegistry();
    this.registry.precompile(this.spec);
    const seed = options.seed ?? DEFAULTS.seed;
    this.clock = new MockClock(options.startTime ?? DEFAULTS.startTime, options.clock ?? 'frozen');
    this.seed = buildSeed(seed, profile.token.length, this.spec.tokenScopes, this.spec.objects);
    this.samples = new Samples(this.spec.document, this.registry, seed);
    this.store = new Store(this.seed, {
      clock: this.clock,
      samples: this.samples,
      registry: this.registry,
      tokenLength: profile.token.length,
    });
    this.limiter = new RateLimiter(options.maxRateLimitKeys !== undefined ? { maxKeys: options.maxRateLimitKeys } : {});
    this.keys = new KeyRing(this.seed);
    this.router = new Router(this.spec.operations);
    this.handlers = new Handlers(this.spec.tokenScopes);
    this.ownership = new Ownership(this.spec.objects, this.seed, this.store);
    this.params = new ParamValidation(this.registry, this.spec.document);
    this.mutations = new BodyMutations(this.spec.document);
    this.trustedProxy = options.trustedProxy !== undefined ? normalizeIp(options.trustedProxy) : undefined;
    this.control = options.control ?? true;
    this.auth = new Authenticator({
      profile,
      faults: this.faults,
      store: this.store,
      allScopes: this.spec.tokenScopes,
      key: (id) => this.keys.get(id),
      nowMs: () => this.clock.nowMs(),
      defaultEnvironmentId: this.seed.environments[0]!.id,
    });
  }

  /** Restores the seed state: store, rate-limit buckets, clock (`POST /__mock/reset`). */
  reset(): void {
    this.store.reset();
    this.limiter.clear();
    this.clock.reset();
  }

  /** The rate-limit policies of an operation with the active profile's numbers (cached). */
  plans(op: OperationInfo): readonly PolicyPlan[] {
    let plans = this.#plans.get(op.operationId);
    if (plans === undefined) {
      const list: PolicyPlan[] = [];
      for (const id of op.policies) {
        const p = this.profile.rateLimits[id];
        if (!p || p.windows === null || p.windows.length === 0) continue;
        list.push({
          id,
          endpoint: !GLOBAL_POLICIES.has(id),
          key: p.key,
          windows: p.windows,
          limits: p.windows.map((w) => ({ limit: w.limit, ms: w.seconds * 1000 })),
        });
      }
      plans = list;
      this.#plans.set(op.operationId, plans);
    }
    return plans;
  }
}

export function normalizeIp(ip: string): string {
  return ip.charCodeAt(0) === 58 /* : */ && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
