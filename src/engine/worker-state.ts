/**
 * Per-worker state: what a check family keeps between checks of one worker (minted JWTs, the live SDK sample, the
 * rate probes, the live rate probe…) lives in ONE object per worker, created with the worker's suite by the worker
 * fixture (src/engine/fixtures.ts → createSuite) and dropped with it — never in module-level caches.
 */

/** A named slot of per-worker state and how its first value is made. */
export interface WorkerSlot<T> {
  readonly name: string;
  create(): T;
}

/** Declares a slot (at module level: the declaration is shared, the value is per worker). */
export function workerSlot<T>(name: string, create: () => T): WorkerSlot<T> {
  return { name, create };
}

/** The state of one worker. */
export class WorkerState {
  readonly #values = new Map<WorkerSlot<unknown>, unknown>();

  /** The worker's value of `slot`, made on first use. */
  get<T>(slot: WorkerSlot<T>): T {
    if (!this.#values.has(slot)) this.#values.set(slot, slot.create());
    return this.#values.get(slot) as T;
  }
}
