/**
 * Command sequences for the rate-limit model property (RATE-014): bursts of requests from one of a few source
 * addresses to one of a few endpoints (optionally another environment), clock advances by a number of seconds, and
 * clock moves to a running window's end as the reference model knows it (one second before, at, one after; full
 * windows first), optionally with one request on that window's key, so that window edges — where off-by-one and
 * late-reset bugs live — are hit on purpose rather than by luck.
 * Indices are resolved by the check (ips, endpoints, environments); the edge command by the model's state.
 */
import fc from 'fast-check';

export type RateCommand =
  | {
      readonly kind: 'send';
      readonly ip: number;
      readonly endpoint: number;
      readonly environment: number;
      readonly count: number;
    }
  | { readonly kind: 'advance'; readonly seconds: number }
  /**
   * Move the clock to a running window's end + delta — a full window's if there is one (where the limit matters) —
   * and, with `probe`, send one request on that window's key right there.
   */
  | { readonly kind: 'edge'; readonly which: number; readonly delta: -1 | 0 | 1; readonly probe: boolean };

export interface RateCommandShape {
  ips: number;
  endpoints: number;
  environments: number;
  /** Largest burst of one send command (a burst is sent one request after another). */
  maxBurst: number;
  /** Largest plain clock advance, seconds. */
  maxAdvance: number;
  maxCommands: number;
}

/** One command. */
export function rateCommand(shape: RateCommandShape): fc.Arbitrary<RateCommand> {
  const send = fc.record({
    kind: fc.constant('send' as const),
    ip: fc.nat({ max: shape.ips - 1 }),
    endpoint: fc.nat({ max: shape.endpoints - 1 }),
    environment: fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.nat({ max: shape.environments - 1 }) },
    ),
    count: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: shape.maxBurst }) },
    ),
  });
  const advance = fc.record({
    kind: fc.constant('advance' as const),
    seconds: fc.integer({ min: 0, max: shape.maxAdvance }),
  });
  const edge = fc.record({
    kind: fc.constant('edge' as const),
    which: fc.nat({ max: 7 }),
    delta: fc.constantFrom(0 as const, -1 as const, 1 as const),
    probe: fc.boolean(),
  });
  return fc.oneof({ weight: 6, arbitrary: send }, { weight: 2, arbitrary: edge }, { weight: 1, arbitrary: advance });
}

/** A sequence of commands (at least one send). */
export function rateCommands(shape: RateCommandShape): fc.Arbitrary<RateCommand[]> {
  return fc
    .array(rateCommand(shape), { minLength: 1, maxLength: shape.maxCommands })
    .filter((cs) => cs.some((c) => c.kind === 'send'));
}

/** Human-readable form of a command for counterexamples (names instead of indices). */
export function describeCommand(
  c: RateCommand,
  names: { ips: readonly string[]; endpoints: readonly string[]; environments: readonly string[] },
): string {
  if (c.kind === 'advance') return `advance ${c.seconds}s`;
  if (c.kind === 'edge')
    return (
      `advance to the end of window #${c.which}` +
      (c.delta === 0 ? '' : c.delta > 0 ? ' +1s' : ' -1s') +
      (c.probe ? ' and send one request on its key' : '')
    );
  return (
    `send ${c.count}× from ${names.ips[c.ip] ?? c.ip} to ` +
    `${names.endpoints[c.endpoint] ?? c.endpoint}` +
    (c.environment > 0 ? ` (${names.environments[c.environment] ?? c.environment})` : '')
  );
}
