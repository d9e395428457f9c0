/**
 * Playwright reporter that writes the conformance matrix: conformance-report/report.json (shape documented in the
 * README) and conformance-report/index.html (operations × rules, grouped by tag, with target, docs profile, spec hash,
 * fast-check seed, run time and counts at the top; each failure links its redacted exchanges).
 * It reads only the redacted `conformance-outcomes` and `exchanges (redacted)` attachments, and redacts again.
 */
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { ConfigError, loadConfig, ROOT, type SuiteConfig } from '../engine/config.js';
import { loadSpec } from '../engine/spec.js';
import { redact } from '../secrets/redact.js';
import type { Outcome, OutcomeStatus } from '../engine/types.js';
import { SchemaRegistry } from '../engine/schemas.js';
import type { DriftObservation } from '../nightly/drift.js';
import { finishNightly } from '../nightly/finish.js';
import { suiteNightlyInputs } from '../nightly/suite-inputs.js';
import { renderMatrixHtml } from './matrix-html.js';
import { noteExpectedRules, runStateSnapshot } from '../engine/run-state.js';
import type { SamplingRecord } from '../engine/sampler.js';
import type { CoverageReport, NotRunEntry, PacingReport } from './matrix-types.js';
import type { MatrixReport, RuleReport } from './matrix-types.js';
import { transportVerdict } from '../http/transport.js';
import type { TransportReport } from './matrix-types.js';

export type { MatrixReport, RuleReport } from './matrix-types.js';

const EMPTY = (): Record<OutcomeStatus, number> => ({ pass: 0, fail: 0, skip: 0, inconclusive: 0 });

/** A check's transport counters as the fixture attaches them. */
interface TransportAttachment {
  failedAttempts: number;
  retried: number;
  recovered: number;
  unanswered: number;
  inconclusive: number;
  thresholdPercent: number;
}

interface Collected {
  rule: string;
  mode: string | undefined;
  outcomes: Outcome[];
  requests: number;
  test: string;
  testStatus: string;
  exchanges: unknown[];
  target: string | undefined;
  profile: string | undefined;
  seed: number | undefined;
  ms: number;
  drift: DriftObservation[];
  retriedFlaky: boolean;
  transport?: TransportAttachment | undefined;
  unplanned429?: number | undefined;
  sampling?: SamplingRecord | undefined;
  notRun?: string | undefined;
}

/** What the fixture attaches as `conformance-outcomes`. */
interface OutcomesAttachment {
  rule: string;
  mode: string;
  target?: string;
  profile?: string;
  seed?: number;
  requests?: number;
  ms?: number;
  outcomes: Outcome[];
  unplanned429?: number;
  sampling?: SamplingRecord;
  transport?: TransportAttachment;
}

type Attachment = TestResult['attachments'][number];

/** An attachment's bytes: inline in a live run, or a file (merge-reports may hand attachments over either way). */
function attachmentText(a: Attachment | undefined): string | undefined {
  if (!a) return undefined;
  if (a.body) return a.body.toString('utf8');
  if (a.path) {
    try {
      return readFileSync(a.path, 'utf8');
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const RULE_TITLE = /^([A-Z]+-\d{3})\b/;
const ANSI = /\u001b\[[0-9;]*m/g;

/** The configuration if it loads; at merge time (no credentials in the environment) the attachments tell the rest. */
function safeConfig(): SuiteConfig | undefined {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

/**
 * The matrix reporter. It depends on nothing of the run's process but the attachments of each test result, so it
 * works both in `playwright test` and in `playwright merge-reports` (sharded nightly runs): target, docs profile and
 * seed come from the attachments (falling back to the configuration), run time from the FullResult.
 */
export default class MatrixReporter implements Reporter {
  /** The last result per test (a retried test counts once). */
  private readonly collected = new Map<string, Collected>();
  /** Tests with a failed attempt in this run (a later passing retry makes them flaky). */
  private readonly failedAttempt = new Set<string>();
  private started = new Date();
  private readonly outDir: string;
  /** Every test of the run (tests stopped by the time budget never reach onTestEnd). */
  private suite: Suite | undefined;

  constructor(options: { outputFolder?: string } = {}) {
    const folder = options.outputFolder ?? join(safeConfig()?.outputDir ?? ROOT, 'conformance-report');
    this.outDir = isAbsolute(folder) ? folder : join(ROOT, folder);
  }

  onBegin(_config: FullConfig, suite: Suite): void {
    this.started = new Date();
    this.suite = suite;
    // Live: the run's request budget is shared among the rule tests that send requests (not those skipped on live).
    const config = safeConfig();
    if (config?.target === 'live') {
      const rules = loadSpec(config.docsProfile).rulesById;
      const ids = new Set(
        suite
          .allTests()
          .map((t) => RULE_TITLE.exec(t.title)?.[1])
          .filter((id): id is string => id !== undefined && rules.get(id)?.targets.live !== 'skip'),
      );
      noteExpectedRules(ids.size);
    }
  }

  /** Rule tests that never reached onTestEnd: not run (or cut off) by the time budget or an interrupted run. */
  private notRun(result: FullResult): NotRunEntry[] {
    const out: NotRunEntry[] = [];
    const budget = safeConfig()?.timeBudgetMinutes;
    const why =
      result.status === 'timedout'
        ? `time budget${budget !== undefined ? `: DYNAMIC_TIME_BUDGET_MINUTES=${budget}` : ''}`
        : result.status === 'interrupted'
          ? 'the run was interrupted'
          : `the run ended (${result.status}) before it`;
    for (const test of this.suite?.allTests() ?? []) {
      if (this.collected.has(test.id)) continue;
      const rule = RULE_TITLE.exec(test.title)?.[1];
      if (!rule) continue;
      const started = test.results.length > 0;
      const reason = started
        ? `interrupted (${why}): the check did not finish, nothing of it is recorded`
        : `not run (${why})`;
      const title = test.titlePath().slice(1).join(' › ');
      out.push({ rule, test: title, reason });
      this.collected.set(test.id, {
        rule,
        mode: undefined,
        outcomes: [{ rule, subject: '(test)', status: 'skip', reason }],
        requests: 0,
        test: title,
        testStatus: started ? 'interrupted' : 'not run',
        exchanges: [],
        target: undefined,
        profile: undefined,
        seed: undefined,
        notRun: reason,
        ms: 0,
        drift: [],
        retriedFlaky: false,
      });
    }
    return out;
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const title = test.titlePath().slice(1).join(' › ');
    const retriedFlaky = result.status === 'passed' && this.failedAttempt.has(test.id);
    if (result.status === 'failed' || result.status === 'timedOut') this.failedAttempt.add(test.id);
    const raw = attachmentText(result.attachments.find((a) => a.name === 'conformance-outcomes'));
    if (raw) {
      const data = JSON.parse(raw) as OutcomesAttachment;
      const ex = attachmentText(result.attachments.find((a) => a.name === 'exchanges (redacted)'));
      const drift = attachmentText(result.attachments.find((a) => a.name === 'conformance-drift'));
      this.collected.set(test.id, {
        rule: data.rule,
        mode: data.mode,
        outcomes: data.outcomes,
        requests: data.requests ?? 0,
        test: title,
        testStatus: result.status,
        exchanges: ex ? (JSON.parse(ex) as unknown[]) : [],
        target: data.target,
        profile: data.profile,
        seed: data.seed,
        transport: data.transport,
        unplanned429: data.unplanned429,
        sampling: data.sampling,
        ms: data.ms ?? result.duration,
        drift: drift ? (JSON.parse(drift) as DriftObservation[]) : [],
        retriedFlaky,
      });
      return;
    }
    // A rule's test that ended without outcomes (it crashed, timed out, ran out of budget, or was skipped by the
    // spec): the matrix shows it with the reason instead of leaving the rule out or calling it a pass.
    const rule = RULE_TITLE.exec(test.title)?.[1];
    if (!rule) return;
    const message = redact(
      (result.error?.message ?? result.errors[0]?.message ?? '')
        .replace(ANSI, '')
        .split('\n')
        .find((l) => l.trim()) ?? '',
    ).slice(0, 300);
    const skipped = result.status === 'skipped';
    const annotation =
      test.annotations.find((a) => a.type === 'skip')?.description ??
      result.annotations.find((a) => a.type === 'skip')?.description;
    const outcome: Outcome = skipped
      ? {
          rule,
          subject: '(test)',
          status: 'skip',
          reason: redact(annotation ?? 'the test was skipped before the check ran'),
        }
      : {
          rule,
          subject: '(test)',
          status: 'fail',
          reason: `the test ${result.status} before the check recorded any outcome${message ? `: ${message}` : ''}`,
        };
    this.collected.set(test.id, {
      rule,
      mode: undefined,
      outcomes: [outcome],
      requests: 0,
      test: title,
      testStatus: result.status,
      exchanges: [],
      target: undefined,
      profile: undefined,
      seed: undefined,
      ms: result.duration,
      drift: [],
      retriedFlaky,
    });
  }

  /**
   * Writes the matrix; may turn a passing run into a failed one: the nightly verdict (drift opt-in) or transport
   * trouble past DYNAMIC_TRANSPORT_FAILURE_THRESHOLD.
   */
  onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const config = safeConfig();
    const notRun = this.notRun(result);
    const collected = [...this.collected.values()];
    const first = <K extends 'target' | 'profile' | 'seed'>(key: K): Collected[K] =>
      collected.find((c) => c[key] !== undefined)?.[key];
    const target = first('target') ?? config?.target ?? 'unknown';
    const spec = loadSpec(first('profile') ?? config?.docsProfile ?? 'docs-2026');
    const seed = first('seed') ?? config?.fc.seed ?? 0;
    rmSync(this.outDir, { recursive: true, force: true });
    mkdirSync(join(this.outDir, 'exchanges'), { recursive: true });
    const rules: RuleReport[] = [];
    const perOperation = new Map<string, Record<string, OutcomeStatus>>();
    const outcomeCounts = EMPTY();
    const ruleCounts: MatrixReport['counts']['rules'] = { ...EMPTY(), deviation: 0, known: 0 };
    const applicable = new Map<string, string[]>();
    let requests = 0;
    for (const rule of spec.rules) {
      const runs = collected.filter((c) => c.rule === rule.id);
      if (!runs.length) continue;
      const counts = EMPTY();
      const failures: RuleReport['failures'] = [];
      const bySubject = new Map<string, OutcomeStatus>();
      if (!rule.appliesTo.scope || rule.appliesTo.scope === 'operation') {
        applicable.set(
          rule.id,
          spec.operations
            .filter((op) => !rule.appliesTo.auth || rule.appliesTo.auth.includes(op.auth))
            .map((op) => op.key),
        );
      }
      const skipReasons = new Set<string>();
      const inconclusive: RuleReport['inconclusive'] = [];
      let transportInconclusive = 0;
      let exchangesFile: string | undefined;
      const exchanges = runs.flatMap((r) => r.exchanges);
      if (exchanges.length) {
        exchangesFile = `exchanges/${rule.id}.json`;
        writeFileSync(join(this.outDir, exchangesFile), redact(JSON.stringify(exchanges, null, 1)));
      }
      for (const run of runs) {
        requests += run.requests;
        for (const o of run.outcomes) {
          counts[o.status] += 1;
          outcomeCounts[o.status] += 1;
          bySubject.set(o.subject, worst(bySubject.get(o.subject), o.status));
          if (o.subject.includes(' /')) {
            const row = perOperation.get(o.subject) ?? {};
            row[rule.id] = worst(row[rule.id], o.status);
            perOperation.set(o.subject, row);
          }
          if (o.status === 'fail') {
            failures.push({
              subject: o.subject,
              reason: redact(o.reason ?? ''),
              ...(o.expected !== undefined ? { expected: redact(o.expected) } : {}),
              ...(o.received !== undefined ? { received: redact(o.received) } : {}),
              exchanges: o.exchanges?.length ? exchangesFile : undefined,
            });
          }
          if (o.status === 'skip' && o.reason) skipReasons.add(redact(o.reason));
          if (o.status === 'inconclusive') {
            if (o.kind === 'transport') transportInconclusive += 1;
            inconclusive.push({ subject: o.subject, reason: redact(o.reason ?? ''), kind: o.kind });
          }
        }
      }
      const mode = runs.find((r) => r.mode)?.mode ?? rule.targets[target === 'live' ? 'live' : 'mock'];
      const status: OutcomeStatus = counts.fail
        ? 'fail'
        : counts.inconclusive
          ? 'inconclusive'
          : counts.pass
            ? 'pass'
            : 'skip';
      const reportOnly = status === 'fail' && mode === 'report';
      ruleCounts[reportOnly ? 'deviation' : status] += 1;
      rules.push({
        id: rule.id,
        title: rule.title,
        level: rule.level,
        tags: rule.tags,
        source: rule.source,
        mode,
        status,
        reportOnly,
        counts,
        test: runs[0]!.test,
        testStatus: runs.map((r) => r.testStatus).join(', '),
        requests: runs.reduce((n, r) => n + r.requests, 0),
        failures: failures.slice(0, 200),
        skipReasons: [...skipReasons].slice(0, 20),
        ...(runs.some((r) => r.notRun) ? { notRun: runs.find((r) => r.notRun)!.notRun } : {}),
        outcomes: [...bySubject].map(([subject, s]) => ({ subject, status: s })),
        durationMs: Math.round(runs.reduce((n, r) => n + r.ms, 0)),
        ...(runs.some((r) => r.retriedFlaky) ? { retriedFlaky: true } : {}),
        transportInconclusive,
        inconclusive: inconclusive.slice(0, 200),
      });
    }
    const durationMs = Math.round(
      typeof result.duration === 'number' ? result.duration : Date.now() - this.started.getTime(),
    );
    const pacing = pacingReport(target, collected, durationMs);
    const rotation = coverageReport(target, collected, config?.rotation);
    const transport = transportSummary(collected, requests, config?.transportFailureThreshold);
    // Transport trouble fails the run only past the threshold; then a passing run is reported (and exits) failed.
    const runStatus: FullResult['status'] = transport.exceeded && result.status === 'passed' ? 'failed' : result.status;
    const startedAt =
      result.startTime instanceof Date && !Number.isNaN(result.startTime.getTime()) ? result.startTime : this.started;
    const report: MatrixReport = {
      tool: 'dynamic-api-conformance',
      schemaVersion: 1,
      target,
      apiUrl: redact(config && config.target === target ? config.apiUrl : 'unknown (merged report)'),
      profile: spec.profile.id,
      specHash: spec.specHash,
      fcSeed: seed,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(typeof result.duration === 'number' ? result.duration : Date.now() - startedAt.getTime()),
      runStatus,
      counts: { rules: ruleCounts, outcomes: outcomeCounts, requests },
      transport,
      rules,
      pacing,
      rotation,
      notRun,
      operations: spec.operations
        .filter((op) => perOperation.has(op.key))
        .map((op) => ({
          key: op.key,
          operationId: op.operationId,
          auth: op.auth,
          tag: op.tag,
          ...(op.authConflict ? { authConflict: op.authConflict } : {}),
          results: perOperation.get(op.key)!,
        })),
    };
    // Known deviations, what changed, drift, the ledger, CTRF and the step summary (src/nightly/), before report.json.
    const nightlyLines = this.nightly(report, config, collected, applicable);
    writeFileSync(join(this.outDir, 'report.json'), `${redact(JSON.stringify(report, null, 1))}\n`);
    writeFileSync(join(this.outDir, 'index.html'), redact(renderMatrixHtml(report)));
    process.stdout.write(`\n${nightlyLines.lines.join('\n')}\n`);
    process.stdout.write(
      `\nConformance matrix: ${rules.length} rules — ${report.counts.rules.pass} pass, ` +
        `${report.counts.rules.fail} fail, ${report.counts.rules.known} known deviations, ` +
        `${report.counts.rules.deviation} report-only deviations, ` +
        `${report.counts.rules.inconclusive} inconclusive, ${report.counts.rules.skip} ` +
        `skipped; ${requests} requests; profile ${spec.profile.id}; seed ${seed}\n  → ` +
        `${join(this.outDir, 'index.html')}\n`,
    );
    process.stdout.write(redact(`${pacingSummary(pacing, rotation, notRun)}\n`));
    process.stdout.write(`${transportLine(transport)}\n`);
    return Promise.resolve(
      (this.verdictFailed || runStatus !== result.status) && result.status === 'passed'
        ? { status: 'failed' as const }
        : undefined,
    );
  }

  /** The nightly layers; the verdict can only make a passing run fail (Playwright's own failures stand). */
  private nightly(
    report: MatrixReport,
    config: SuiteConfig | undefined,
    collected: Collected[],
    applicable: Map<string, string[]>,
  ): { lines: string[]; failed: boolean } {
    const settings = config ?? safeConfig();
    if (!settings)
      return {
        lines: ['nightly: no configuration (merged report without it): known deviations and changes not applied'],
        failed: false,
      };
    let registry: SchemaRegistry | undefined;
    const validate = (id: string, v: unknown) =>
      (registry ??= new SchemaRegistry(join(ROOT, 'schemas', 'meta'))).validate(id, v);
    const inputs = suiteNightlyInputs(settings, validate, new Set(report.rules.map((r) => r.id)));
    const { verdict, console: lines } = finishNightly(report, inputs, {
      outDir: this.outDir,
      today: settings.nightly.today,
      drift: collected.flatMap((c) => c.drift),
      applicable,
      redact,
      stepSummaryFile: settings.nightly.stepSummaryFile,
      runUrl: settings.nightly.runUrl,
    });
    this.verdictFailed = verdict.failed;
    return { lines, failed: verdict.failed };
  }

  private verdictFailed = false;

  printsToStdio(): boolean {
    return true;
  }
}

/** The run's transport counts from every test's attachment; the threshold from the config, else the attachments. */
function transportSummary(
  collected: readonly Collected[],
  requests: number,
  configured: number | undefined,
): TransportReport {
  const sum = (k: 'failedAttempts' | 'retried' | 'recovered' | 'unanswered'): number =>
    collected.reduce((n, c) => n + (c.transport?.[k] ?? 0), 0);
  const inconclusive = collected.reduce((n, c) => n + c.outcomes.filter((o) => o.kind === 'transport').length, 0);
  const thresholdPercent = configured ?? collected.find((c) => c.transport)?.transport?.thresholdPercent ?? 2;
  const unanswered = sum('unanswered');
  const verdict = transportVerdict(requests, unanswered, thresholdPercent);
  return {
    requests,
    failedAttempts: sum('failedAttempts'),
    retried: sum('retried'),
    recovered: sum('recovered'),
    unanswered,
    inconclusive,
    percent: Math.round(verdict.percent * 1000) / 1000,
    thresholdPercent,
    exceeded: verdict.exceeded,
  };
}

/** The console line (and the matrix header) on transport faults. */
export function transportLine(t: TransportReport): string {
  const verdict = t.exceeded
    ? `EXCEEDS the threshold of ${t.thresholdPercent} % ` +
      `(DYNAMIC_TRANSPORT_FAILURE_THRESHOLD): the run fails on ` +
      `transport trouble`
    : `within the threshold of ${t.thresholdPercent} % (DYNAMIC_TRANSPORT_FAILURE_THRESHOLD)`;
  return (
    `Transport: ${t.failedAttempts} failed attempts of ${t.requests} ` +
    `requests, ${t.retried} retried (${t.recovered} answered after a ` +
    `retry), ` +
    (`${t.unanswered} without an answer (${t.percent} %) → ` +
      `${t.inconclusive} inconclusive (transport) subjects, never ` +
      `failures; ${verdict}`)
  );
}

const ORDER: OutcomeStatus[] = ['pass', 'skip', 'inconclusive', 'fail'];
function worst(a: OutcomeStatus | undefined, b: OutcomeStatus): OutcomeStatus {
  if (!a) return b;
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/** Plan against actual: the run's pacer (same process) on live; else why there is none. */
function pacingReport(target: string, collected: readonly Collected[], wallMs: number): PacingReport {
  const fromTests = collected.reduce((n, c) => n + (c.unplanned429 ?? 0), 0);
  const snap = runStateSnapshot();
  if (!snap) {
    return {
      enabled: false,
      reason:
        target === 'live'
          ? "no pacer figures in this process (a merged report: see each shard's console)"
          : "mock target: not paced (429s advance the mock's clock; source addresses rotate)",
      unplanned429: target === 'live' ? fromTests : 0,
    };
  }
  return {
    ...snap,
    unplanned429: Math.max(snap.unplanned429, fromTests),
    wallMs,
    ratioToMinimum: snap.minimumMs > 0 ? Math.round((wallMs / snap.minimumMs) * 100) / 100 : undefined,
  };
}

/** Pairs with a verdict per rule, and the nights the live rotation needs (the slowest rule). */
function coverageReport(target: string, collected: readonly Collected[], rotation: number | undefined): CoverageReport {
  const byRule = new Map<string, { covered: Set<string>; sampling: SamplingRecord | undefined }>();
  for (const c of collected) {
    const entry = byRule.get(c.rule) ?? { covered: new Set<string>(), sampling: undefined };
    for (const o of c.outcomes) if (o.subject.includes(' /') && o.status !== 'skip') entry.covered.add(o.subject);
    entry.sampling ??= c.sampling;
    byRule.set(c.rule, entry);
  }
  const rules = [...byRule.entries()].map(([rule, e]) => ({
    rule,
    covered: e.covered.size,
    testable: e.sampling?.testable,
    sampled: e.sampling?.sampled,
    nights: target === 'live' ? (e.sampling?.nights ?? 1) : 1,
  }));
  const live = target === 'live';
  return {
    rotation: live ? rotation : undefined,
    pairsCovered: rules.reduce((n, r) => n + r.covered, 0),
    nightsForFullRotation: Math.max(1, ...rules.map((r) => r.nights)),
    rules,
    ...(live
      ? {
          pairs: Object.fromEntries(
            [...byRule.entries()].filter(([, e]) => e.covered.size).map(([rule, e]) => [rule, [...e.covered].sort()]),
          ),
        }
      : {}),
  };
}

/** The console lines after the matrix summary: pacing plan against actual, 429s, JWT, coverage, what did not run. */
function pacingSummary(p: PacingReport, c: CoverageReport, notRun: readonly NotRunEntry[]): string {
  const lines: string[] = [];
  if (p.enabled) {
    const s = (ms: number | undefined): string => `${((ms ?? 0) / 1000).toFixed(0)} s`;
    lines.push(
      `Pacing: ${p.requests ?? 0} requests (budget ${p.plan?.budget ?? '?'}; planned ` +
        `≈ ${p.plan?.policies.find((x) => x.policy === 'sdk-ip')?.requests ?? 0} ` +
        `/sdk), ` +
        `wall time ${s(p.wallMs)} vs the minimum the limits allow ${s(p.minimumMs)} (planned ${s(p.plan?.minimumMs)})` +
        ((p.ratioToMinimum !== undefined ? `, ratio ${p.ratioToMinimum}` : '') +
          `; waited ${s(p.waitedMs)}; unplanned 429s: ${p.unplanned429}; planned 429s (probe): ` +
          `${p.planned429 ?? 0}`),
    );
    if (p.jwt)
      lines.push(
        `  user JWT: ${p.jwt.user.source} (${p.jwt.user.detail}); ` +
          `other-environment JWT: ${p.jwt.other.source} (` +
          `${p.jwt.other.detail})`,
      );
  } else if (p.unplanned429) lines.push(`Pacing: unplanned 429s: ${p.unplanned429}`);
  if (c.rotation !== undefined)
    lines.push(
      `Coverage: ${c.pairsCovered} (operation, rule) pairs this run (rotation ` +
        `${c.rotation}); a full rotation takes ${c.nightsForFullRotation} night(s) at ` +
        `this budget`,
    );
  if (notRun.length)
    lines.push(
      `Not run: ${notRun.length} rule(s) — ${notRun
        .slice(0, 10)
        .map((n) => `${n.rule} ${n.reason}`)
        .join('; ')}${notRun.length > 10 ? '; …' : ''}`,
    );
  return lines.join('\n');
}
