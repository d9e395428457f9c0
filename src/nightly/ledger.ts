/**
 * Coverage across nights: a small ledger carried from run to run (conformance-report/ledger.json; input
 * CONFORMANCE_LEDGER). For every (rule, subject) pair: the last date it was verified (passed, failed or failed as a
 * known deviation) and that outcome, plus the last run's status. The matrix lists pairs never or not recently
 * verified; live sampling asks `samplingOrder` which operations of a rule to visit first (the oldest).
 * Schema: schemas/meta/ledger.schema.json.
 */
import type { CoverageSummary, NightlyStatus, ReportLike } from './types.js';

export const LEDGER_SCHEMA_ID = 'https://schemas.dynamic-conformance.invalid/meta/ledger.schema.json';

export interface LedgerPair {
  /** Last date (YYYY-MM-DD) the pair was verified; absent = never. */
  verified?: string;
  outcome?: 'pass' | 'fail' | 'known';
  lastRun: string;
  lastStatus: NightlyStatus | 'not-run';
}

export interface Ledger {
  tool: 'dynamic-api-conformance';
  version: 1;
  updatedAt: string;
  target?: string;
  /** rule id → subject → entry. */
  pairs: Record<string, Record<string, LedgerPair>>;
  /** `<operation> <kind> <name>` → first and last date seen (drift stays "known" across sampled nights). */
  drift?: Record<string, { firstSeen: string; lastSeen: string }>;
}

export function emptyLedger(today: string): Ledger {
  return { tool: 'dynamic-api-conformance', version: 1, updatedAt: today, pairs: {} };
}

/** A ledger file the suite cannot use; the message names the file and the problem. */
export class LedgerError extends Error {
  override name = 'LedgerError';
}

/** Parses and validates a ledger file (the validator is the engine's registry: `(schemaId, value) => result`). */
export function parseLedger(
  file: string,
  text: string,
  validate: (id: string, v: unknown) => { valid: boolean; errors: string[] },
): Ledger {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LedgerError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const result = validate(LEDGER_SCHEMA_ID, value);
  if (!result.valid)
    throw new LedgerError(`${file} does not match schemas/meta/ledger.schema.json: ${result.errors.join('; ')}`);
  return value as Ledger;
}

/**
 * The ledger after this run: every outcome of the report updates its pair (`applicable`, rule → subjects the rule
 * applies to, adds pairs no run has reached yet as never verified). Pairs the run did not reach keep their dates.
 */
export function updateLedger(
  previous: Ledger | undefined,
  report: ReportLike,
  today: string,
  applicable?: ReadonlyMap<string, readonly string[]>,
): Ledger {
  const ledger: Ledger = structuredClone(previous ?? emptyLedger(today));
  ledger.updatedAt = today;
  ledger.target = report.target;
  for (const rule of report.rules) {
    const pairs = (ledger.pairs[rule.id] ??= {});
    const outcomes =
      rule.outcomes ??
      report.operations
        .filter((op) => op.results[rule.id])
        .map((op) => ({ subject: op.key, status: op.results[rule.id] as NightlyStatus }));
    for (const o of outcomes) {
      const entry: LedgerPair = { ...pairs[o.subject], lastRun: today, lastStatus: o.status };
      if (o.status === 'pass' || o.status === 'fail' || o.status === 'known') {
        entry.verified = today;
        entry.outcome = o.status;
      }
      pairs[o.subject] = entry;
    }
  }
  for (const [rule, subjects] of applicable ?? []) {
    const pairs = (ledger.pairs[rule] ??= {});
    for (const s of subjects) pairs[s] ??= { lastRun: today, lastStatus: 'not-run' };
  }
  return ledger;
}

/** Whole days from `from` to `to` (both YYYY-MM-DD). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * The pairs never verified, and those last verified more than `staleAfterDays` ago (oldest first), over the
 * ledger's pairs (restricted to `rules` when given). The matrix shows these.
 */
export function coverage(
  ledger: Ledger,
  today: string,
  staleAfterDays: number,
  file?: string,
  rules?: ReadonlySet<string>,
): CoverageSummary {
  const never: CoverageSummary['never'] = [];
  const stale: CoverageSummary['stale'] = [];
  let pairs = 0;
  let verified = 0;
  for (const [rule, subjects] of Object.entries(ledger.pairs)) {
    if (rules && !rules.has(rule)) continue;
    for (const [subject, p] of Object.entries(subjects)) {
      pairs += 1;
      if (!p.verified) never.push({ rule, subject });
      else {
        verified += 1;
        if (daysBetween(p.verified, today) > staleAfterDays) stale.push({ rule, subject, lastVerified: p.verified });
      }
    }
  }
  stale.sort((a, b) => (a.lastVerified < b.lastVerified ? -1 : a.lastVerified > b.lastVerified ? 1 : 0));
  return { ledger: file, staleAfterDays, pairs, verified, never, stale };
}

/**
 * The order in which live sampling should visit a rule's operations: never-verified pairs first, then the oldest
 * verification first; ties keep the given (spec) order. Deterministic: same ledger and input, same order.
 */
export function samplingOrder(ledger: Ledger | undefined, rule: string, operations: readonly string[]): string[] {
  const pairs = ledger?.pairs[rule] ?? {};
  const rank = operations.map((op, i) => ({ op, i, verified: pairs[op]?.verified ?? '' }));
  rank.sort((a, b) => (a.verified < b.verified ? -1 : a.verified > b.verified ? 1 : a.i - b.i));
  return rank.map((r) => r.op);
}
