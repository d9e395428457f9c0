/**
 * The shape of conformance-report/report.json (README "report.json"), shared by the matrix reporter and its HTML
 * renderer (its own module, so neither imports the other's types in a cycle).
 */
import type { FullResult } from '@playwright/test/reporter';
import type { Rule } from '../engine/spec.js';
import type { OutcomeStatus } from '../engine/types.js';

export interface RuleReport {
  id: string;
  title: string;
  level: Rule['level'];
  tags: string[];
  source: string;
  /** enforce | report | skip on this target. */
  mode: string;
  status: OutcomeStatus;
  /** True when failures are reported but do not fail the run (mode report). */
  reportOnly: boolean;
  counts: Record<OutcomeStatus, number>;
  test: string | undefined;
  testStatus: string | undefined;
  requests: number;
  /** Each failure: the sentence, and (where a check judged a status) what was expected and what was received. */
  failures: { subject: string; reason: string; expected?: string; received?: string; exchanges: string | undefined }[];
  skipReasons: string[];
  /** Of the inconclusive subjects, those left without an answer (transport faults; issue #13). */
  transportInconclusive?: number;
  /** The inconclusive subjects with their reasons (`kind: 'transport'` for transport faults). */
  inconclusive?: { subject: string; reason: string; kind: 'transport' | undefined }[];
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
  counts: { rules: Record<OutcomeStatus | 'deviation', number>; outcomes: Record<OutcomeStatus, number>; requests: number };
  /** Absent in reports written before issue #13. */
  transport?: TransportReport;
  rules: RuleReport[];
  operations: { key: string; operationId: string; auth: string; tag: string; results: Record<string, OutcomeStatus> }[];
}
