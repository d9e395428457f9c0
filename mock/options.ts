/** The mock's settings, in their own module so settings.ts, state.ts and app.ts share them without a cycle. */
import type { SchemaRegistry } from './schemas.js';
import type { SpecBundle } from './spec.js';

/** Settings of the mock (ARCHITECTURE.md "Settings"); `mock/server.ts` maps `MOCK_*` variables onto these. */
export interface MockOptions {
  /** TCP port; 0 picks a free one. Default 4010. */
  readonly port?: number;
  /** Loopback address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** `MOCK_SEED`. Default '1'. */
  readonly seed?: string;
  /** Docs profile id. Default 'docs-2026'. */
  readonly profile?: string;
  /** Faults active at start. */
  readonly faults?: readonly string[];
  /** Serve `/__mock/`. Default true. */
  readonly control?: boolean;
  /** Socket address whose `X-Forwarded-For` is honoured (RATE-011). */
  readonly trustedProxy?: string;
  /** Mock clock start, epoch seconds. Default 1767225600 (2026-01-01). */
  readonly startTime?: number;
  /** Bound of rate-limit buckets kept in memory. Default 100,000. */
  readonly maxRateLimitKeys?: number;
  /** Loaded spec (tests share one to save time). */
  readonly spec?: SpecBundle;
  /** Loaded schema registry (tests share one to save time). */
  readonly registry?: SchemaRegistry;
}
