/**
 * CTRF (Common Test Report Format, ctrf.io) from the matrix data: conformance-report/ctrf.json, one test per rule.
 * Written from report.json rather than from Playwright's test results, because only the matrix knows a rule's
 * conformance status: a known deviation or a report-only deviation passes its Playwright test but is not a pass.
 * Status mapping: pass → passed, fail → failed, skip → skipped, known / report-only / inconclusive → other (the
 * exact status in rawStatus). The document validates against CTRF's published schema (tests/unit/nightly-ctrf).
 */
import { randomUUID } from 'node:crypto';
import type { ReportLike, RuleEntry } from './types.js';

export type CtrfStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'other';

export interface CtrfTest {
  name: string;
  status: CtrfStatus;
  duration: number;
  testId: string;
  rawStatus: string;
  suite: string[];
  tags: string[];
  type: string;
  message?: string;
  flaky?: boolean;
  labels: Record<string, string | number | boolean>;
  extra: Record<string, unknown>;
}

export interface CtrfDocument {
  reportFormat: 'CTRF';
  specVersion: string;
  reportId: string;
  timestamp: string;
  generatedBy: string;
  results: {
    tool: { name: string; version?: string; extra?: Record<string, unknown> };
    summary: {
      tests: number;
      passed: number;
      failed: number;
      skipped: number;
      pending: number;
      other: number;
      flaky: number;
      suites: number;
      start: number;
      stop: number;
      duration: number;
      extra: Record<string, unknown>;
    };
    tests: CtrfTest[];
    environment: Record<string, string | number>;
    extra: Record<string, unknown>;
  };
  extra: Record<string, unknown>;
}

/** The rule's CTRF status and the exact status it stands for. */
export function ctrfStatus(rule: Pick<RuleEntry, 'status' | 'reportOnly'>): { status: CtrfStatus; rawStatus: string } {
  switch (rule.status) {
    case 'pass':
      return { status: 'passed', rawStatus: 'pass' };
    case 'skip':
      return { status: 'skipped', rawStatus: 'skip' };
    case 'known':
      return { status: 'other', rawStatus: 'known deviation' };
    case 'inconclusive':
      return { status: 'other', rawStatus: 'inconclusive' };
    case 'fail':
      return rule.reportOnly
        ? { status: 'other', rawStatus: 'report-only deviation' }
        : { status: 'failed', rawStatus: 'fail' };
  }
}

export interface CtrfOptions {
  toolVersion?: string;
  /** CI build facts (run id, URL, commit…), already free of credentials. */
  environment?: Record<string, string | number | undefined>;
  /** For tests: a fixed report id and timestamp. */
  reportId?: string;
  now?: Date;
}

/**
 * The CTRF document of a report.json (which must already carry `change`, `baseline`, `drift` when the run had them).
 */
export function toCtrf(report: ReportLike, options: CtrfOptions = {}): CtrfDocument {
  const start = Date.parse(report.startedAt);
  const startMs = Number.isNaN(start) ? 0 : start;
  const duration = Math.max(0, Math.round(report.durationMs ?? 0));
  const tests: CtrfTest[] = report.rules.map((rule) => {
    const { status, rawStatus } = ctrfStatus(rule);
    const failures = rule.failures.slice(0, 5).map((f) => `${f.subject}: ${f.reason}`);
    const test: CtrfTest = {
      name: `${rule.id} ${rule.title ?? ''}`.trim(),
      status,
      duration: Math.max(0, Math.round(rule.durationMs ?? 0)),
      testId: rule.id,
      rawStatus,
      suite: [(rule.tags ?? [])[0] ?? '@other'],
      tags: rule.tags ?? [],
      type: 'conformance',
      labels: {
        rule: rule.id,
        mode: rule.mode ?? 'enforce',
        ...(rule.level ? { level: rule.level } : {}),
        ...(rule.change ? { change: rule.change } : {}),
      },
      extra: {
        source: rule.source,
        counts: rule.counts,
        requests: rule.requests,
        change: rule.change,
        recent: rule.recent,
        failures: rule.failures.length,
        newFailures: rule.failures
          .filter((f) => f.change === 'new')
          .map((f) => f.subject)
          .slice(0, 50),
        knownDeviations: [...new Set(rule.failures.flatMap((f) => (f.deviation === undefined ? [] : [f.deviation])))],
        skipReasons: rule.skipReasons,
      },
    };
    if (failures.length) test.message = failures.join('\n');
    if (rule.change === 'flaky') test.flaky = true;
    return test;
  });
  const count = (s: CtrfStatus): number => tests.filter((t) => t.status === s).length;
  const environment: Record<string, string | number> = { appName: 'Dynamic API', testEnvironment: report.target };
  for (const [k, v] of Object.entries(options.environment ?? {})) if (v !== undefined && v !== '') environment[k] = v;
  return {
    reportFormat: 'CTRF',
    specVersion: '0.0.0',
    reportId: options.reportId ?? randomUUID(),
    timestamp: (options.now ?? new Date()).toISOString(),
    generatedBy: 'dynamic-api-conformance (matrix reporter)',
    results: {
      tool: {
        name: 'dynamic-api-conformance',
        ...(options.toolVersion ? { version: options.toolVersion } : {}),
        extra: { runner: '@playwright/test' },
      },
      summary: {
        tests: tests.length,
        passed: count('passed'),
        failed: count('failed'),
        skipped: count('skipped'),
        pending: 0,
        other: count('other'),
        flaky: tests.filter((t) => t.flaky).length,
        suites: new Set(tests.map((t) => t.suite[0])).size,
        start: startMs,
        stop: startMs + duration,
        duration,
        extra: {
          known: report.rules.filter((r) => r.status === 'known').length,
          verdict: report.verdict,
          requests: report.counts?.requests,
        },
      },
      tests,
      environment,
      extra: { profile: report.profile, specHash: report.specHash, fcSeed: report.fcSeed, runStatus: report.runStatus },
    },
    extra: {
      drift: report.drift ? { ...report.drift.counts, failsRun: report.drift.failsRun } : undefined,
      baseline: report.baseline ? { file: report.baseline.file, ...report.baseline.counts } : undefined,
    },
  };
}
