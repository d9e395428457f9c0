/**
 * The mock's injectable clock (RATE-004, RATE-006, JWT-005, JWT-006): it never moves on its own. Time advances
 * only through `POST /__mock/clock` (or `advance`/`set` in-process), so window edges and token expiry are exact
 * and every run is reproducible.
 */
export class MockClock {
  #startMs: number;
  #nowMs: number;

  /** @param startSeconds epoch seconds the clock starts at (`MOCK_START_TIME`). */
  constructor(startSeconds: number) {
    this.#startMs = startSeconds * 1000;
    this.#nowMs = this.#startMs;
  }

  /** Current mock time in epoch milliseconds. */
  nowMs(): number {
    return this.#nowMs;
  }

  /** Current mock time in epoch seconds (may be fractional after a fractional advance). */
  nowSeconds(): number {
    return this.#nowMs / 1000;
  }

  /** Moves the clock forward (or backward, for negative values) by `seconds`. */
  advance(seconds: number): void {
    this.#nowMs += Math.round(seconds * 1000);
  }

  /** Sets the clock to `seconds` (epoch). */
  set(seconds: number): void {
    this.#nowMs = Math.round(seconds * 1000);
  }

  /** Returns to the start time (`POST /__mock/reset`). */
  reset(): void {
    this.#nowMs = this.#startMs;
  }
}
