/**
 * Playwright reporter that writes the conformance matrix: conformance-report/report.json (shape documented in the
 * README) and conformance-report/index.html (operations × rules, grouped by tag, with target, docs profile, spec hash,
 * fast-check seed, run time and counts at the top; each failure links its redacted exchanges).
 * It reads only the redacted `conformance-outcomes` and `exchanges (redacted)` attachments, and redacts again.
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { loadConfig, ROOT } from '../config.js';
import { loadSpec, type Rule } from '../spec.js';
import { redact } from '../redact.js';
import type { Outcome, OutcomeStatus } from '../checks/types.js';
import { renderMatrixHtml } from './matrix-html.js';

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
  operations: { key: string; operationId: string; auth: string; tag: string; results: Record<string, OutcomeStatus> }[];
}

const EMPTY = (): Record<OutcomeStatus, number> => ({ pass: 0, fail: 0, skip: 0, inconclusive: 0 });

interface Collected { rule: string; mode: string; outcomes: Outcome[]; requests: number; test: string; testStatus: string; exchanges: unknown[] }

export default class MatrixReporter implements Reporter {
  private readonly collected: Collected[] = [];
  private started = new Date();
  private readonly outDir: string;

  constructor(options: { outputFolder?: string } = {}) {
    const folder = options.outputFolder ?? join(loadConfig().outputDir, 'conformance-report');
    this.outDir = isAbsolute(folder) ? folder : join(ROOT, folder);
  }

  onBegin(): void {
    this.started = new Date();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const outcomes = result.attachments.find((a) => a.name === 'conformance-outcomes');
    if (!outcomes?.body) return;
    const data = JSON.parse(outcomes.body.toString('utf8')) as { rule: string; mode: string; requests?: number; outcomes: Outcome[] };
    const ex = result.attachments.find((a) => a.name === 'exchanges (redacted)');
    this.collected.push({
      rule: data.rule, mode: data.mode, outcomes: data.outcomes, requests: data.requests ?? 0,
      test: test.titlePath().slice(1).join(' › '), testStatus: result.status,
      exchanges: ex?.body ? (JSON.parse(ex.body.toString('utf8')) as unknown[]) : [],
    });
  }

  onEnd(result: FullResult): void {
    const config = loadConfig();
    const spec = loadSpec(config.docsProfile);
    rmSync(this.outDir, { recursive: true, force: true });
    mkdirSync(join(this.outDir, 'exchanges'), { recursive: true });
    const rules: RuleReport[] = [];
    const perOperation = new Map<string, Record<string, OutcomeStatus>>();
    const outcomeCounts = EMPTY();
    const ruleCounts: MatrixReport['counts']['rules'] = { ...EMPTY(), deviation: 0 };
    let requests = 0;
    for (const rule of spec.rules) {
      const runs = this.collected.filter((c) => c.rule === rule.id);
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
          if (o.subject.includes(' /')) (perOperation.get(o.subject) ?? perOperation.set(o.subject, {}).get(o.subject)!)[rule.id] = worst(perOperation.get(o.subject)?.[rule.id], o.status);
          if (o.status === 'fail') failures.push({ subject: o.subject, reason: redact(o.reason ?? ''), exchanges: exchangesFile });
          if (o.status === 'skip' && o.reason) skipReasons.add(redact(o.reason));
        }
      }
      const mode = runs[0]!.mode;
      const status: OutcomeStatus = counts.fail ? 'fail' : counts.inconclusive ? 'inconclusive' : counts.pass ? 'pass' : 'skip';
      const reportOnly = status === 'fail' && mode === 'report';
      ruleCounts[reportOnly ? 'deviation' : status] += 1;
      rules.push({
        id: rule.id, title: rule.title, level: rule.level, tags: rule.tags, source: rule.source, mode, status, reportOnly, counts,
        test: runs[0]!.test, testStatus: runs.map((r) => r.testStatus).join(', '), requests: runs.reduce((n, r) => n + r.requests, 0),
        failures: failures.slice(0, 200), skipReasons: [...skipReasons].slice(0, 20),
      });
    }
    const report: MatrixReport = {
      tool: 'dynamic-api-conformance', schemaVersion: 1,
      target: config.target, apiUrl: redact(config.apiUrl), profile: spec.profile.id, specHash: spec.specHash, fcSeed: config.fc.seed,
      startedAt: this.started.toISOString(), durationMs: Date.now() - this.started.getTime(), runStatus: result.status,
      counts: { rules: ruleCounts, outcomes: outcomeCounts, requests },
      rules,
      operations: spec.operations.filter((op) => perOperation.has(op.key)).map((op) => ({ key: op.key, operationId: op.operationId, auth: op.auth, tag: op.tag, results: perOperation.get(op.key)! })),
    };
    writeFileSync(join(this.outDir, 'report.json'), `${redact(JSON.stringify(report, null, 1))}\n`);
    writeFileSync(join(this.outDir, 'index.html'), redact(renderMatrixHtml(report)));
    process.stdout.write(`\nConformance matrix: ${rules.length} rules — ${ruleCounts.pass} pass, ${ruleCounts.fail} fail, ${ruleCounts.deviation} report-only deviations, ${ruleCounts.inconclusive} inconclusive, ${ruleCounts.skip} skipped; ${requests} requests; profile ${spec.profile.id}; seed ${config.fc.seed}\n  → conformance-report/index.html\n`);
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
