/**
 * The Markdown written to $GITHUB_STEP_SUMMARY (and conformance-report/summary.md, the tracking issue's body): the
 * verdict, counts, what changed (new failures first, then fixed and flaky), known deviations (expired and stale
 * ones named), drift, coverage, and where the artifacts are. Built from report.json only; the caller passes the
 * text through the redactor before writing it anywhere.
 */
import { changeDigest } from './change.js';
import type { ReportLike } from './types.js';

/** The hidden marker that identifies the one tracking issue of a repository's nightly run. */
export const TRACKING_MARKER = '<!-- dynamic-api-conformance:nightly-tracking -->';

const LIMIT = 15;
const md = (s: unknown): string =>
  String(s)
    .replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

function list<T>(items: readonly T[], line: (t: T) => string): string {
  const shown = items.slice(0, LIMIT).map((t) => `- ${line(t)}`);
  if (items.length > LIMIT) shown.push(`- … ${items.length - LIMIT} more in report.json`);
  return shown.join('\n');
}

export interface SummaryOptions {
  /** Where the artifacts are (e.g. the workflow run's URL); shown as the last line. */
  artifacts?: string | undefined;
  /** Folder of the reports as the runner sees it (default conformance-report/). */
  reportDir?: string | undefined;
}

/** The step summary of one run. */
export function renderStepSummary(report: ReportLike, options: SummaryOptions = {}): string {
  const c = report.counts?.rules ?? {};
  const failed = report.verdict?.failed ?? report.runStatus === 'failed';
  const out: string[] = [];
  out.push(
    `## Dynamic API conformance — ` +
      (failed ? '❌ failing' : '✅ passing') +
      ` (${md(report.target)}` +
      (report.profile ? `, ${md(report.profile)}` : '') +
      (report.fcSeed !== undefined ? `, seed ${md(report.fcSeed)}` : '') +
      `)`,
  );
  if (report.verdict?.reasons.length) out.push('', list(report.verdict.reasons, md));
  out.push(
    '',
    '| pass | fail | known | report-only | inconclusive | skipped | requests |',
    '|---|---|---|---|---|---|---|',
  );
  out.push(
    `| ${c.pass ?? 0} | ${c.fail ?? 0} | ${c.known ?? 0} | ${c.deviation ?? 0} | ` +
      `${c.inconclusive ?? 0} | ${c.skip ?? 0} | ${report.counts?.requests ?? 0} |`,
  );
  out.push(
    '',
    `Run ${md(report.startedAt)}` +
      (report.verdict ? `, fails on ${code(report.verdict.failOn)} failures (CONFORMANCE_FAIL_ON)` : '') +
      `.`,
  );

  const digest = changeDigest(report);
  const hasChange = report.rules.some((r) => r.change !== undefined);
  out.push('', '### What changed since the previous run');
  if (!hasChange) out.push('', 'No previous run was given (CONFORMANCE_PREVIOUS): every failure counts as new.');
  else {
    const lines: string[] = [];
    for (const { change, rules, outcomes } of digest) {
      if (change === 'newly-covered' || (!rules.length && !outcomes.length)) continue;
      const ruleSet = new Set(rules);
      const extra = outcomes.filter((o) => !ruleSet.has(o.rule) || change === 'new');
      const block = [
        `**${change}**: ${rules.length} rule(s)${extra.length ? `, ${extra.length} operation outcome(s)` : ''}`,
      ];
      if (rules.length) block.push(list(rules, (r) => code(r)));
      if ((change === 'new' || change === 'fixed' || change === 'flaky') && extra.length)
        block.push(list(extra, (o) => `${code(o.rule)} ${code(o.subject)}`));
      lines.push(block.join('\n'));
    }
    const covered = digest.find((d) => d.change === 'newly-covered');
    if (covered && (covered.rules.length || covered.outcomes.length))
      lines.push(`**newly-covered**: ${covered.rules.length} rule(s), ${covered.outcomes.length} operation outcome(s)`);
    out.push('', lines.length ? lines.join('\n\n') : 'Nothing changed: every rule has the status it had.');
  }

  if (report.baseline) {
    const b = report.baseline;
    out.push(
      '',
      `### Known deviations (${md(b.file)})`,
      '',
      `${b.counts.active} active (matching ${b.counts.matched} ` +
        `failure(s)), ${b.counts.expired} expired, ${b.counts.stale} ` +
        `stale.`,
    );
    const named = b.entries.filter((e) => e.state !== 'not-run');
    if (named.length)
      out.push(
        '',
        list(
          named,
          (e) =>
            (e.state === 'expired' ? '⛔ **expired**' : e.state === 'stale' ? '🧹 stale' : 'active') +
            ` ${code(`deviations[${e.index}]`)} ${code(e.rule)}` +
            (e.operations ? ` ${e.operations.map(code).join(', ')}` : '') +
            (e.owner ? ` — ${md(e.owner)}` : '') +
            (e.expires ? `, expires ${md(e.expires)}` : ''),
        ),
      );
  }

  if (report.drift) {
    const d = report.drift;
    out.push(
      '',
      '### Drift (undocumented in the spec)',
      '',
      `${d.counts.items} item(s) on ${d.counts.operations} operation(s): ${d.counts.new} new, ` +
        `${d.counts.known} known` +
        (d.failsRun ? ' — **fails the run** (CONFORMANCE_FAIL_ON_DRIFT)' : '') +
        `.`,
    );
    const fresh = d.operations.flatMap((op) => [
      ...op.properties.filter((i) => i.change === 'new').map((i) => `${code(op.key)} property ${code(i.name)}`),
      ...op.headers.filter((i) => i.change === 'new').map((i) => `${code(op.key)} header ${code(i.name)}`),
      ...op.statuses.filter((i) => i.change === 'new').map((i) => `${code(op.key)} status ${code(i.name)}`),
    ]);
    if (fresh.length)
      out.push(
        '',
        list(fresh, (s) => s),
      );
  }

  if (report.coverage) {
    const cov = report.coverage;
    out.push(
      '',
      '### Coverage across runs',
      '',
      `${cov.verified} of ${cov.pairs} (rule, operation) pairs verified at least once; ` +
        `${cov.never.length} never verified; ${cov.stale.length} not verified in the last ` +
        `${cov.staleAfterDays} days.`,
    );
  }

  const dir = options.reportDir ?? 'conformance-report/';
  out.push(
    '',
    `Reports: ${code(`${dir}index.html`)} (matrix), ${code(`${dir}report.json`)}, ` +
      `${code(`${dir}ctrf.json`)}, ${code('playwright-report/')}` +
      (options.artifacts ? ` — ${options.artifacts}` : '') +
      `.`,
  );
  return `${out.join('\n')}\n`;
}

/** The tracking issue's body: the summary, behind the hidden marker that deduplicates the issue. */
export function trackingIssueBody(summary: string, runUrl?: string): string {
  return `${TRACKING_MARKER}\n${summary}${runUrl ? `\nLatest failing run: ${runUrl}\n` : ''}`;
}
