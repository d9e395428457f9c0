/**
 * Playwright reporter that writes the conformance matrix: conformance-report/report.json (shape documented in the
 * README) and conformance-report/index.html (operations × rules, grouped by tag, with target, docs profile, spec hash,
 * fast-check seed, run time and counts at the top; each failure links its redacted exchanges).
 * It reads only the redacted `conformance-outcomes` and `exchanges (redacted)` attachments, and redacts again.
 */
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { ConfigError, loadConfig, ROOT, type SuiteConfig } from '../engine/config.js';
import { loadSpec } from '../engine/spec.js';
import { redact } from '../secrets/redact.js';
import type { Outcome, OutcomeStatus } from '../engine/types.js';
import { renderMatrixHtml } from './matrix-html.js';
import type { MatrixReport, RuleReport } from './matrix-types.js';

export type { MatrixReport, RuleReport } from './matrix-types.js';

const EMPTY = (): Record<OutcomeStatus, number> => ({ pass: 0, fail: 0, skip: 0, inconclusive: 0 });

interface Collected { rule: string; mode: string | undefined; outcomes: Outcome[]; requests: number; test: string; testStatus: string; exchanges: unknown[]; target: string | undefined; profile: string | undefined; seed: number | undefined }

/** What the fixture attaches as `conformance-outcomes`. */
interface OutcomesAttachment { rule: string; mode: string; target?: string; profile?: string; seed?: number; requests?: number; outcomes: Outcome[] }

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
  private started = new Date();
  private readonly outDir: string;

  constructor(options: { outputFolder?: string } = {}) {
    const folder = options.outputFolder ?? join(safeConfig()?.outputDir ?? ROOT, 'conformance-report');
    this.outDir = isAbsolute(folder) ? folder : join(ROOT, folder);
  }

  onBegin(): void {
    this.started = new Date();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const title = test.titlePath().slice(1).join(' › ');
    const raw = attachmentText(result.attachments.find((a) => a.name === 'conformance-outcomes'));
    if (raw) {
      const data = JSON.parse(raw) as OutcomesAttachment;
      const ex = attachmentText(result.attachments.find((a) => a.name === 'exchanges (redacted)'));
      this.collected.set(test.id, {
        rule: data.rule, mode: data.mode, outcomes: data.outcomes, requests: data.requests ?? 0, test: title, testStatus: result.status,
        exchanges: ex ? (JSON.parse(ex) as unknown[]) : [], target: data.target, profile: data.profile, seed: data.seed,
      });
      return;
    }
    // A rule's test that ended without outcomes (it crashed, timed out, ran out of budget, or was skipped by the
    // spec): the matrix shows it with the reason instead of leaving the rule out or calling it a pass.
    const rule = RULE_TITLE.exec(test.title)?.[1];
    if (!rule) return;
    const message = redact((result.error?.message ?? result.errors[0]?.message ?? '').replace(ANSI, '').split('\n').find((l) => l.trim()) ?? '').slice(0, 300);
    const skipped = result.status === 'skipped';
    const annotation = test.annotations.find((a) => a.type === 'skip')?.description ?? result.annotations.find((a) => a.type === 'skip')?.description;
    const outcome: Outcome = skipped
      ? { rule, subject: '(test)', status: 'skip', reason: redact(annotation ?? 'the test was skipped before the check ran') }
      : { rule, subject: '(test)', status: 'fail', reason: `the test ${result.status} before the check recorded any outcome${message ? `: ${message}` : ''}` };
    this.collected.set(test.id, { rule, mode: undefined, outcomes: [outcome], requests: 0, test: title, testStatus: result.status, exchanges: [], target: undefined, profile: undefined, seed: undefined });
  }

  onEnd(result: FullResult): void {
    const config = safeConfig();
    const collected = [...this.collected.values()];
    const first = <K extends 'target' | 'profile' | 'seed'>(key: K): Collected[K] => collected.find((c) => c[key] !== undefined)?.[key];
    const target = first('target') ?? config?.target ?? 'unknown';
    const spec = loadSpec(first('profile') ?? config?.docsProfile ?? 'docs-2026');
    const seed = first('seed') ?? config?.fc.seed ?? 0;
    rmSync(this.outDir, { recursive: true, force: true });
    mkdirSync(join(this.outDir, 'exchanges'), { recursive: true });
    const rules: RuleReport[] = [];
    const perOperation = new Map<string, Record<string, OutcomeStatus>>();
    const outcomeCounts = EMPTY();
    const ruleCounts: MatrixReport['counts']['rules'] = { ...EMPTY(), deviation: 0 };
    let requests = 0;
    for (const rule of spec.rules) {
      const runs = collected.filter((c) => c.rule === rule.id);
      if (!runs.length) continue;
      const counts = EMPTY();
      const failures: RuleReport['failures'] = [];
      const skipReasons = new Set<string>();
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
          if (o.subject.includes(' /')) {
            const row = perOperation.get(o.subject) ?? {};
            row[rule.id] = worst(row[rule.id], o.status);
            perOperation.set(o.subject, row);
          }
          if (o.status === 'fail') failures.push({ subject: o.subject, reason: redact(o.reason ?? ''), exchanges: o.exchanges?.length ? exchangesFile : undefined });
          if (o.status === 'skip' && o.reason) skipReasons.add(redact(o.reason));
        }
      }
      const mode = runs.find((r) => r.mode)?.mode ?? rule.targets[target === 'live' ? 'live' : 'mock'];
      const status: OutcomeStatus = counts.fail ? 'fail' : counts.inconclusive ? 'inconclusive' : counts.pass ? 'pass' : 'skip';
      const reportOnly = status === 'fail' && mode === 'report';
      ruleCounts[reportOnly ? 'deviation' : status] += 1;
      rules.push({
        id: rule.id, title: rule.title, level: rule.level, tags: rule.tags, source: rule.source, mode, status, reportOnly, counts,
        test: runs[0]!.test, testStatus: runs.map((r) => r.testStatus).join(', '), requests: runs.reduce((n, r) => n + r.requests, 0),
        failures: failures.slice(0, 200), skipReasons: [...skipReasons].slice(0, 20),
      });
    }
    const startedAt = result.startTime instanceof Date && !Number.isNaN(result.startTime.getTime()) ? result.startTime : this.started;
    const report: MatrixReport = {
      tool: 'dynamic-api-conformance', schemaVersion: 1,
      target, apiUrl: redact(config && config.target === target ? config.apiUrl : 'unknown (merged report)'), profile: spec.profile.id, specHash: spec.specHash, fcSeed: seed,
      startedAt: startedAt.toISOString(), durationMs: Math.round(typeof result.duration === 'number' ? result.duration : Date.now() - startedAt.getTime()), runStatus: result.status,
      counts: { rules: ruleCounts, outcomes: outcomeCounts, requests },
      rules,
      operations: spec.operations.filter((op) => perOperation.has(op.key)).map((op) => ({ key: op.key, operationId: op.operationId, auth: op.auth, tag: op.tag, ...(op.authConflict ? { authConflict: op.authConflict } : {}), results: perOperation.get(op.key)! })),
    };
    writeFileSync(join(this.outDir, 'report.json'), `${redact(JSON.stringify(report, null, 1))}\n`);
    writeFileSync(join(this.outDir, 'index.html'), redact(renderMatrixHtml(report)));
    process.stdout.write(`\nConformance matrix: ${rules.length} rules — ${ruleCounts.pass} pass, ${ruleCounts.fail} fail, ${ruleCounts.deviation} report-only deviations, ${ruleCounts.inconclusive} inconclusive, ${ruleCounts.skip} skipped; ${requests} requests; profile ${spec.profile.id}; seed ${seed}\n  → ${join(this.outDir, 'index.html')}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}

const ORDER: OutcomeStatus[] = ['pass', 'skip', 'inconclusive', 'fail'];
function worst(a: OutcomeStatus | undefined, b: OutcomeStatus): OutcomeStatus {
  if (!a) return b;
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}
