/**
 * The nightly sections of the matrix HTML and the console summary: What changed (first), Known deviations, Drift and
 * Coverage across runs. Static HTML, no script; every value is escaped (the caller redacts the whole page).
 */
import { changeDigest } from './change.js';
import type { Change, ReportLike } from './types.js';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const SHOWN = 40;
const TITLES: Record<Change, string> = {
  new: 'New failures',
  fixed: 'Fixed',
  flaky: 'Flaky',
  'still-failing': 'Still failing',
  'newly-covered': 'Newly covered',
  'still-passing': 'Still passing',
  'not-covered': 'Not covered this run',
};

function items(list: readonly string[]): string {
  const shown = list
    .slice(0, SHOWN)
    .map((s) => `<li>${s}</li>`)
    .join('');
  return `<ul>${shown}${list.length > SHOWN ? `<li>… ${list.length - SHOWN} more in report.json</li>` : ''}</ul>`;
}

/** "What changed since the previous run": the section the matrix opens with. */
export function changesSection(report: ReportLike): string {
  const hasPrevious = report.rules.some((r) => r.change !== undefined);
  if (!hasPrevious) {
    return (
      '<section id="changes"><h2>What changed</h2><p class="src">No previous run ' +
      'was given (CONFORMANCE_PREVIOUS): every failure counts as ' +
      'new.</p></section>'
    );
  }
  const blocks = changeDigest(report)
    .map(({ change, rules, outcomes }) => {
      if (!rules.length && !outcomes.length) return '';
      const ruleSet = new Set(rules);
      const extra = outcomes.filter((o) => !ruleSet.has(o.rule) || change === 'new' || change === 'fixed');
      const ruleLinks = rules.map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`);
      const detail =
        change === 'newly-covered'
          ? ''
          : items(extra.map((o) => `<a href="#${esc(o.rule)}">${esc(o.rule)}</a> <code>${esc(o.subject)}</code>`));
      return (
        `<div class="change ${esc(change)}"><h3>${esc(TITLES[change])} <small>` +
        `${rules.length} rule(s), ${outcomes.length} operation outcome(s)</small></h3>` +
        (ruleLinks.length ? `<p>${ruleLinks.join(' ')}</p>` : '') +
        `${extra.length ? detail : ''}</div>`
      );
    })
    .join('');
  const verdict = report.verdict
    ? `<p id="verdict" class="` +
      (report.verdict.failed ? 'red' : '') +
      `">Fails on <b>${esc(report.verdict.failOn)}</b> failures ` +
      `(CONFORMANCE_FAIL_ON): ` +
      `${report.verdict.failed ? esc(report.verdict.reasons.join('; ')) : 'nothing fails the run'}` +
      `.</p>`
    : '';
  return (
    `<section id="changes"><h2>What changed since the previous run</h2>${verdict}` +
    `${blocks || '<p>Nothing changed: every rule has the status it had.</p>'}` +
    `</section>`
  );
}

/** Known deviations: every entry with its state; expired and stale ones first. */
export function baselineSection(report: ReportLike): string {
  const b = report.baseline;
  if (!b) return '';
  const order = { expired: 0, stale: 1, active: 2, 'not-run': 3 } as const;
  const rows = [...b.entries]
    .sort((x, y) => order[x.state] - order[y.state] || x.index - y.index)
    .map(
      (e) =>
        `<tr class="${esc(e.state)}"><td><code>deviations[${e.index}]</code></td><td><a href="#` +
        `${esc(e.rule)}">${esc(e.rule)}</a></td><td>` +
        (e.operations ? e.operations.map((o) => `<code>${esc(o)}</code>`).join(' ') : 'every subject') +
        `</td><td>${esc(e.reason)}` +
        (e.link ? ` <a href="${esc(e.link)}">link</a>` : '') +
        `</td><td>${esc(e.owner ?? '')}</td><td>${esc(e.expires ?? '')}</td><td><span ` +
        `class="badge ` +
        (e.state === 'expired' ? 'fail' : e.state === 'active' ? 'known' : 'skip') +
        `">${esc(e.state)}</span></td><td class="num">${e.matched}</td></tr>`,
    )
    .join('');
  return (
    `<section id="baseline"><h2>Known deviations <small>${esc(b.file)} · ${b.counts.active} ` +
    `active, ${b.counts.expired} expired, ${b.counts.stale} stale</small></h2><table ` +
    (`class="rules"><thead><tr><th>entry</th><th>rule</th><th>operations</th><th>` +
      `reason</th><th>owner</th><th>expires</th><th>state</th><th>matched</th></tr>` +
      `</thead><tbody>`) +
    `${rows}</tbody></table></section>`
  );
}

/** Drift: per operation, undocumented properties, headers and statuses; new ones marked. */
export function driftSection(report: ReportLike): string {
  const d = report.drift;
  if (!d) return '';
  const head =
    `<h2>Drift <small>undocumented in the spec · ${d.counts.items} item(s) on ${d.counts.operations} ` +
    `operation(s), ${d.counts.new} new` +
    (d.failsRun
      ? ' · <span class="red">fails the run (CONFORMANCE_FAIL_ON_DRIFT)</span>'
      : ' · never fails the run unless CONFORMANCE_FAIL_ON_DRIFT=true') +
    `</small></h2>`;
  if (!d.operations.length)
    return `<section id="drift">${head}<p>No response carried anything the spec does not document.</p></section>`;
  const item = (kind: string, i: { name: string; change: string }): string =>
    `<li class="${esc(i.change)}">${esc(kind)} <code>${esc(i.name)}</code>` +
    (i.change === 'new' ? ' <span class="badge fail">new</span>' : '') +
    `</li>`;
  const rows = d.operations
    .slice(0, 200)
    .map(
      (op) =>
        `<tr><td class="op"><code>${esc(op.key)}</code></td><td><ul class="drift">${[
          ...op.properties.map((i) => item('property', i)),
          ...op.headers.map((i) => item('header', i)),
          ...op.statuses.map((i) => item('status', i)),
        ].join('')}</ul></td></tr>`,
    )
    .join('');
  return (
    `<section id="drift">${head}<table ` +
    `class="rules"><thead><tr><th>operation</th><th>undocumented</th></tr></thead><tbody>` +
    `${rows}</tbody></table>` +
    (d.operations.length > 200 ? `<p>… ${d.operations.length - 200} more operations in report.json</p>` : '') +
    `</section>`
  );
}

/** Coverage across runs: pairs never verified, and the oldest verifications. */
export function coverageSection(report: ReportLike): string {
  const c = report.coverage;
  if (!c) return '';
  const never = c.never.map((p) => `<a href="#${esc(p.rule)}">${esc(p.rule)}</a> <code>${esc(p.subject)}</code>`);
  const stale = c.stale.map(
    (p) =>
      `<a href="#${esc(p.rule)}">${esc(p.rule)}</a> <code>` +
      `${esc(p.subject)}</code> last verified ` +
      `${esc(p.lastVerified)}`,
  );
  return (
    `<section id="coverage"><h2>Coverage across runs <small>${c.verified} of ${c.pairs} (rule, operation) ` +
    `pairs verified at least once` +
    (c.ledger ? ` · ledger ${esc(c.ledger)}` : '') +
    `</small></h2>\n` +
    `<details${never.length ? ' open' : ''}><summary>Never verified (${never.length})</summary>` +
    `${items(never)}</details>\n` +
    `<details><summary>Not verified in the last ${c.staleAfterDays} days (${stale.length})</summary>` +
    `${items(stale)}</details></section>`
  );
}

/** Extra CSS for the nightly sections. */
export const NIGHTLY_CSS =
  `.change h3{margin:.6rem 0 .2rem;font-size:1em}.change.new h3{color:#b00020}.change.fixed h3{color:#146c2e}` +
  `.change.flaky h3{color:#a15c00}\n` +
  `.badge.known{background:#e3e0ff}.cell.known{background:#e3e0ff}.cell.new{outline:2px solid #b00020}` +
  `.drift{margin:0;padding-left:1rem}tr.expired td{color:#b00020}`;

/** The console lines of "what changed" (printed first by the matrix reporter). */
export function changesConsole(report: ReportLike): string[] {
  if (!report.rules.some((r) => r.change !== undefined))
    return ['What changed: no previous run (CONFORMANCE_PREVIOUS not set): every failure counts as new'];
  const lines: string[] = [];
  for (const { change, rules, outcomes } of changeDigest(report)) {
    if (!rules.length && !outcomes.length) continue;
    const ruleSet = new Set(rules);
    const extra = outcomes.filter((o) => !ruleSet.has(o.rule) || change === 'new');
    lines.push(
      `  ${change}: ${rules.length} rule(s)` +
        (rules.length ? ` (${rules.slice(0, 12).join(', ')}${rules.length > 12 ? ', …' : ''})` : '') +
        (extra.length ? `, ${extra.length} operation outcome(s)` : ''),
    );
    if (change === 'new') for (const o of extra.slice(0, 10)) lines.push(`    ✗ ${o.rule} ${o.subject}`);
  }
  return [
    `What changed since ${report.verdict ? 'the previous run' : 'last time'}:`,
    ...(lines.length ? lines : ['  nothing: every rule has the status it had']),
  ];
}
