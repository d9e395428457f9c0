/**
 * The nightly end of a run, called by the matrix reporter before it writes report.json: annotates the report
 * (baseline, changes, drift, coverage, verdict), then writes conformance-report/ledger.json, ctrf.json and
 * summary.md — each through the redactor — and appends the summary to $GITHUB_STEP_SUMMARY when that is set.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { annotateReport } from './annotate.js';
import { toCtrf } from './ctrf.js';
import type { DriftObservation } from './drift.js';
import type { NightlyInputs } from './inputs.js';
import { changesConsole } from './matrix-sections.js';
import { renderStepSummary } from './step-summary.js';
import type { ReportLike, Verdict } from './types.js';

export interface FinishOptions {
  /** The conformance-report folder. */
  outDir: string;
  today: string;
  drift: readonly DriftObservation[];
  applicable?: ReadonlyMap<string, readonly string[]>;
  /** The suite's redactor (every text written passes it). */
  redact: (text: string) => string;
  /** $GITHUB_STEP_SUMMARY, when set. */
  stepSummaryFile?: string | undefined;
  /** Where the artifacts are (the CI run's URL), for the summary and CTRF. */
  runUrl?: string | undefined;
  toolVersion?: string;
  ctrfEnvironment?: Record<string, string | number | undefined>;
}

/** Annotates the report in place, writes the nightly files and returns the verdict and the console lines. */
export function finishNightly(
  report: ReportLike,
  inputs: NightlyInputs,
  options: FinishOptions,
): { verdict: Verdict; console: string[]; files: string[] } {
  const { outDir, redact } = options;
  const ledgerFile = join(outDir, 'ledger.json');
  const { ledger } = annotateReport(report, inputs, {
    today: options.today,
    drift: options.drift,
    ledgerOut: 'conformance-report/ledger.json',
    ...(options.applicable ? { applicable: options.applicable } : {}),
  });
  writeFileSync(ledgerFile, `${redact(JSON.stringify(ledger))}\n`);
  const ctrfFile = join(outDir, 'ctrf.json');
  const ctrf = toCtrf(report, {
    ...(options.toolVersion ? { toolVersion: options.toolVersion } : {}),
    environment: { ...options.ctrfEnvironment, ...(options.runUrl ? { buildUrl: options.runUrl } : {}) },
  });
  writeFileSync(ctrfFile, `${redact(JSON.stringify(ctrf, null, 1))}\n`);
  const summary = redact(renderStepSummary(report, { artifacts: options.runUrl }));
  const summaryFile = join(outDir, 'summary.md');
  writeFileSync(summaryFile, summary);
  const files = [ledgerFile, ctrfFile, summaryFile];
  if (options.stepSummaryFile) {
    appendFileSync(options.stepSummaryFile, summary);
    files.push(options.stepSummaryFile);
  }
  const verdict = report.verdict!;
  const lines = changesConsole(report).map(redact);
  if (report.baseline) {
    const b = report.baseline;
    lines.push(
      `Known deviations (${b.file}): ${b.counts.active} active, ${b.counts.expired} expired, ${b.counts.stale} stale`,
    );
    for (const e of b.entries.filter((x) => x.state === 'expired' || x.state === 'stale'))
      lines.push(`  ${e.state}: deviations[${e.index}] ${e.rule}${e.operations ? ` ${e.operations.join(', ')}` : ''}`);
  }
  if (report.drift?.counts.items)
    lines.push(
      `Drift: ${report.drift.counts.items} undocumented item(s) on ` +
        `${report.drift.counts.operations} operation(s), ` +
        `${report.drift.counts.new} new` +
        (report.drift.failsRun ? ' (fails the run: CONFORMANCE_FAIL_ON_DRIFT)' : ''),
    );
  if (verdict.failed)
    lines.push(`Verdict (CONFORMANCE_FAIL_ON=${verdict.failOn}): failing — ${verdict.reasons.join('; ')}`);
  else lines.push(`Verdict (CONFORMANCE_FAIL_ON=${verdict.failOn}): nothing fails the run`);
  return { verdict, console: lines.map(redact), files };
}
