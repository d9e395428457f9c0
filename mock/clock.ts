/** How the mock clock moves (`MOCK_CLOCK`): `frozen` (default) only when told to; `real` with wall time. */
export type ClockMode = 'frozen' | 'real';

/**
 * The mock's clock (RATE-004, RATE-006, JWT-005, JWT-006).
 *
 * - `frozen` (the default, `MOCK_CLOCK=frozen`): it never moves on its own. Time advances only through
 *   `POST /__mock/clock` (or `advance`/`set` in-process), so window edges and token expiry are exact and every run is
 *   reproducible.
 * - `real` (`MOCK_CLOCK=real`, the sandbox simulator): wall time, as on a real sandbox: rate-limit windows close,
 *   `Retry-After` counts down and JWTs expire by themselves. `advance`/`set` still work (they shift an offset), so a
 *   test harness can jump ahead; `reset` returns to wall time.
 */
export class MockClock {
  readonly mode: ClockMode;
  readonly #wall: () => number;
  readonly #startMs: number;
  /** frozen: the current time; real: the offset added to wall time. */
  #value: number;

  /**
   * @param startSeconds epoch seconds the frozen clock starts at (`MOCK_START_TIME`); ignored by the real clock.
   * @param wall the wall clock in epoch ms (injectable for tests of the real mode).
   */
  constructor(startSeconds: number, mode: ClockMode = 'frozen', wall: () => number = Date.now) {
    this.mode = mode;
    this.#wall = wall;
    this.#startMs = startSeconds * 1000;
    this.#value = mode === 'frozen' ? this.#startMs : 0;
  }

  /** Current mock time in epoch milliseconds. */
  nowMs(): number {
    return this.mode === 'frozen' ? this.#value : this.#wall() + this.#value;
  }

  /** Current mock time in epoch seconds (may be fractional). */
  nowSeconds(): number {
    return this.nowMs() / 1000;
  }

  /** Moves the clock forward (or backward, for negative values) by `seconds`. */
  advance(seconds: number): void {
    this.#value += Math.round(seconds * 1000);
  }

  /** Sets the clock to `seconds` (epoch); a real clock keeps running from there. */
  set(seconds: number): void {
    const target = Math.round(seconds * 1000);
    this.#value = this.mode === 'frozen' ? target : target - this.#wall();
  }

  /** Returns to the start time (frozen) or to wall time (real) (`POST /__mock/reset`). */
  reset(): void {
    this.#value = this.mode === 'frozen' ? this.#startMs : 0;
  }
}
