import { deriveEnvironmentKey } from './keys.js';
import type { EnvironmentKey } from './keys.js';
import type { SeedData } from './seed.js';

/**
 * The environments' signing keys (JWT-010: one RS256 key per environment). Derivation from `MOCK_SEED` starts at
 * construction and runs in the background; `ready` resolves when every key exists. Requests that need a key await
 * `ready` first, so the server can listen before the keys are done.
 */
export class KeyRing {
  readonly ready: Promise<void>;
  #keys = new Map<string, EnvironmentKey>();
  #ready = false;

  constructor(seed: SeedData) {
    this.ready = Promise.all(seed.environments.map((e) => deriveEnvironmentKey(seed.seed, e.id, e.kid))).then(
      (keys) => {
        this.#keys = new Map(keys.map((k) => [k.environmentId, k]));
        this.#ready = true;
      },
    );
  }

  /** True once every key is derived. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** The key of a seeded environment (undefined before `ready` or for unknown ids). */
  get(environmentId: string): EnvironmentKey | undefined {
    return this.#keys.get(environmentId);
  }
}
