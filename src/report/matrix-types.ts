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
  failures: { subject: string; reason: string; exchanges: string | undefined }[];
  skipReasons: string[];
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
  rules: RuleReport[];
  /** `authConflict`: the spec's x-dynamic-auth-conflict (sources disagree on the auth class) and its live decision. */
  operations: { key: string; operationId: string; auth: string; tag: string; authConflict?: { text: string; live: 'enforce' | 'report' }; results: Record<string, OutcomeStatus> }[];
}
