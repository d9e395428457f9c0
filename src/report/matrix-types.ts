/**
 * The shape of conformance-report/report.json (README "report.json"), shared by the matrix reporter and its HTML
 * renderer (its own module, so neither imports the other's types in a cycle).
 */
import type { FullResult } from '@playwright/test/reporter';
import type { Rule } from '../engine/spec.js';
import type { OutcomeStatus } from '../engine/types.js';
import type { PacingSnapshot } from '../engine/run-state.js';
import type {
  BaselineSummary,
  Change,
  CoverageSummary,
  DriftReport,
  NightlyStatus,
  SubjectOutcome,
  Verdict,
} from '../nightly/types.js';

export interface RuleReport {
  id: string;
  title: string;
  level: Rule['level'];
  tags: string[];
  source: string;
  /** enforce | report | skip on this target. */
  mode: string;
  /** `known`: it failed, and every failure is a known deviation (CONFORMANCE_BASELINE). */
  status: NightlyStatus;
  /** True when failures are reported but do not fail the run (mode report). */
  reportOnly: boolean;
  counts: Record<OutcomeStatus, number>;
  test: string | undefined;
  testStatus: string | undefined;
  requests: number;
  /** Each failure: the sentence, and (where a check judged a status) what was expected and what was received. */
  failures: {
    subject: string;
    reason: string;
    expected?: string;
    received?: string;
    exchanges: string | undefined;
    deviation?: number;
    change?: Change;
  }[];
  skipReasons: string[];
  /** Set when the rule's test never finished: 'not run (time budget)', 'interrupted (time budget)', … */
  notRun?: string | undefined;
  /** Every subject's outcome (the worst per subject), with `change` and `recent` when there is history. */
  outcomes: SubjectOutcome[];
  /** Wall time of the rule's check. */
  durationMs: number;
  /** What changed since the previous run (CONFORMANCE_PREVIOUS). */
  change?: Change;
  /** The last statuses, oldest first (P pass, F fail, K known, S skip, I inconclusive). */
  recent?: string;
  /** Failed, then passed on a retry in this run. */
  retriedFlaky?: boolean;
  /** Of the inconclusive subjects, those left without an answer (transport faults; issue #13). */
  transportInconclusive?: number;
  /** The inconclusive subjects with their reasons (`kind: 'transport'` for transport faults). */
  inconclusive?: { subject: string; reason: string; kind: 'transport' | undefined }[];
}

/** A rule whose test did not run to its end, and why (the time budget, an interrupted run). */
export interface NotRunEntry {
  rule: string;
  test: string;
  reason: string;
}

/** Which (operation, rule) pairs the run covered, and how long the live rotation takes (issue #13). */
export interface CoverageReport {
  /** The sample's rotation number (DYNAMIC_RUN_NUMBER, else the UTC day). */
  rotation: number | undefined;
  /** (operation, rule) pairs with a verdict (pass, fail, inconclusive) in this run. */
  pairsCovered: number;
  /** Runs a full rotation takes at this budget: the slowest rule (1 on the mock, which covers every pair). */
  nightsForFullRotation: number;
  rules: { rule: string; covered: number; testable: number | undefined; sampled: number | undefined; nights: number }[];
  /** Live only: rule → the operations it covered this run (on the mock every pair is covered; see `operations`). */
  pairs?: Record<string, string[]> | undefined;
}

/** report.json `pacing`: the live pacer's plan against what the run actually did (src/engine/run-state.ts). */
export interface PacingReport {
  enabled: boolean;
  /** Why the run was not paced (mock target, merged report). */
  reason?: string | undefined;
  plan?: PacingSnapshot['plan'];
  requests?: number;
  refused?: number;
  policies?: PacingSnapshot['policies'];
  /** The minimum wall time the documented limits allow for the requests actually sent (ms). */
  minimumMs?: number;
  /** The run's wall time (ms) and its ratio to that minimum (the goal: ≤ 1.25). */
  wallMs?: number;
  ratioToMinimum?: number | undefined;
  waitedMs?: number;
  planned429?: number;
  /** 429s on ordinary requests: the pacer should have prevented them (honoured with Retry-After). */
  unplanned429: number;
  unplanned?: PacingSnapshot['unplanned'];
  jwt?: PacingSnapshot['jwt'];
}

/** The run's transport faults (report.json `transport`): they never count as conformance failures. */
export interface TransportReport {
  /** Requests the suite's client sent (every attempt). */
  requests: number;
  failedAttempts: number;
  retried: number;
  recovered: number;
  unanswered: number;
  /** Subjects recorded as inconclusive (transport). */
  inconclusive: number;
  /** unanswered / requests × 100. */
  percent: number;
  /** DYNAMIC_TRANSPORT_FAILURE_THRESHOLD. */
  thresholdPercent: number;
  /** True: the run failed because of transport trouble. */
  exceeded: boolean;
}

export interface MatrixReport {
  tool: 'dynamic-api-conformance';
  schemaVersion: 1;
  target: string;
  apiUrl: string;
  profile: string;
  specHash: string;
  fcSeed: number;
  startedAt: string;
  durationMs: number;
  runStatus: FullResult['status'];
  counts: {
    rules: Record<OutcomeStatus | 'deviation' | 'known', number>;
    outcomes: Record<OutcomeStatus, number>;
    requests: number;
  };
  /** Absent in reports written before issue #13. */
  transport?: TransportReport;
  rules: RuleReport[];
  pacing?: PacingReport;
  /** The live rotation: which (operation, rule) pairs this run covered and how many nights a full rotation takes. */
  rotation?: CoverageReport;
  notRun?: NotRunEntry[];
  /** `authConflict`: the spec's x-dynamic-auth-conflict (sources disagree on the auth class) and its live decision.
   * `results`: rule → status (`known` for a known deviation); `changes`: rule → change, with a previous run. */
  operations: {
    key: string;
    operationId: string;
    auth: string;
    tag: string;
    authConflict?: { text: string; live: 'enforce' | 'report' };
    results: Record<string, NightlyStatus>;
    changes?: Record<string, Change>;
  }[];
  /** Undocumented properties, headers and statuses seen per operation (names only), new vs known. */
  drift?: DriftReport;
  /** The known-deviations file and every entry's state (active, expired, stale, not-run). */
  baseline?: BaselineSummary;
  /** Coverage across runs, from the ledger. */
  coverage?: CoverageSummary;
  /** Whether the run fails under CONFORMANCE_FAIL_ON (and CONFORMANCE_FAIL_ON_DRIFT), and why. */
  verdict?: Verdict;
}
