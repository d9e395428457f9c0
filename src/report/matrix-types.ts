/**
 * The shape of conformance-report/report.json (README "report.json"), shared by the matrix reporter and its HTML
 * renderer (its own module, so neither imports the other's types in a cycle).
 */
import type { FullResult } from '@playwright/test/reporter';
import type { Rule } from '../engine/spec.js';
import type { OutcomeStatus } from '../engine/types.js';
import type { BaselineSummary, Change, CoverageSummary, DriftReport, NightlyStatus, SubjectOutcome, Verdict } from '../nightly/types.js';

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
  failures: { subject: string; reason: string; expected?: string; received?: string; exchanges: string | undefined; deviation?: number; change?: Change }[];
  skipReasons: string[];
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
  counts: { rules: Record<OutcomeStatus | 'deviation' | 'known', number>; outcomes: Record<OutcomeStatus, number>; requests: number };
  rules: RuleReport[];
  /** `results`: rule → status (`known` for a known deviation); `changes`: rule → change, with a previous run. */
  operations: { key: string; operationId: string; auth: string; tag: string; results: Record<string, NightlyStatus>; changes?: Record<string, Change> }[];
  /** Undocumented properties, headers and statuses seen per operation (names only), new vs known. */
  drift?: DriftReport;
  /** The known-deviations file and every entry's state (active, expired, stale, not-run). */
  baseline?: BaselineSummary;
  /** Coverage across runs, from the ledger. */
  coverage?: CoverageSummary;
  /** Whether the run fails under CONFORMANCE_FAIL_ON (and CONFORMANCE_FAIL_ON_DRIFT), and why. */
  verdict?: Verdict;
}
