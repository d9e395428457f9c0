/**
 * Renders the conformance matrix as one static HTML page (no script needed to read it).
 */
import type { MatrixReport, RuleReport } from './matrix-types.js';

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const FAMILIES: [string, string][] = [
  ['@auth', 'Authentication'], ['@token', 'Token format'], ['@jwt', 'User JWT'], ['@errors', 'Error codes'],
  ['@schema', 'Response schemas'], ['@rate', 'Rate limits'], ['@secrets', 'Secret safety'],
];
const SYMBOL = { pass: '✓', fail: '✗', skip: '–', inconclusive: '?' } as const;

function badge(rule: RuleReport): string {
  const label = rule.reportOnly ? 'fail (report-only)' : rule.status;
  return `<span class="badge ${rule.reportOnly ? 'deviation' : rule.status}">${esc(label)}</span>`;
}

function ruleRow(rule: RuleReport): string {
  const failures = rule.failures.slice(0, 12).map((f) => `<li><code>${esc(f.subject)}</code> ${esc(f.reason)}${f.exchanges ? ` <a href="${esc(f.exchanges)}">exchanges</a>` : ''}</li>`).join('');
  const more = rule.failures.length > 12 ? `<li>… ${rule.failures.length - 12} more in report.json</li>` : '';
  const skips = rule.skipReasons.length ? `<div class="skip-reasons">skipped: ${rule.skipReasons.map(esc).join('; ')}</div>` : '';
  return `<tr id="${esc(rule.id)}" class="rule ${rule.reportOnly ? 'deviation' : rule.status}"><td><b>${esc(rule.id)}</b></td><td>${esc(rule.title)}<div class="src">${esc(rule.level)} · ${esc(rule.source)}</div>${failures || more ? `<ul class="failures">${failures}${more}</ul>` : ''}${skips}</td><td>${esc(rule.mode)}</td><td>${badge(rule)}</td><td class="num">${rule.counts.pass}</td><td class="num">${rule.counts.fail}</td><td class="num">${rule.counts.skip}</td><td class="num">${rule.counts.inconclusive}</td></tr>`;
}

function matrix(report: MatrixReport, rules: RuleReport[]): string {
  const ids = rules.map((r) => r.id);
  const rows = report.operations.filter((op) => ids.some((id) => op.results[id]));
  if (!rows.length) return '';
  const head = ids.map((id) => `<th class="rot"><a href="#${esc(id)}">${esc(id)}</a></th>`).join('');
  // x-dynamic-auth-conflict: the sources disagree on this operation's auth class; the sentence is the tooltip.
  const conflict = (op: MatrixReport['operations'][number]): string => (op.authConflict ? ` <span class="auth-conflict" title="${esc(op.authConflict.text)}">auth conflict (${esc(op.authConflict.live)} on live)</span>` : '');
  const body = rows.map((op) => `<tr><td class="op"><code>${esc(op.key)}</code> <span class="auth">${esc(op.auth)}</span>${conflict(op)}</td>${ids.map((id) => {
    const s = op.results[id];
    return s ? `<td class="cell ${s}" title="${esc(`${id} ${s}`)}">${SYMBOL[s]}</td>` : '<td class="cell none"></td>';
  }).join('')}</tr>`).join('');
  return `<details><summary>Operations × rules (${rows.length} operations)</summary><table class="matrix"><thead><tr><th>operation</th>${head}</tr></thead><tbody>${body}</tbody></table></details>`;
}

export function renderMatrixHtml(report: MatrixReport): string {
  const c = report.counts;
  const known = new Set(FAMILIES.map(([tag]) => tag));
  const families: [string, string][] = [...FAMILIES, ['@other', 'Other rules']];
  const sections = families.map(([tag, title]) => {
    // A rule whose first tag is not a known family still gets a section: nothing in report.json is left off the page.
    const rules = report.rules.filter((r) => (tag === '@other' ? !known.has(r.tags[0] ?? '') : r.tags[0] === tag));
    if (!rules.length) return '';
    const failing = rules.filter((r) => r.status === 'fail' && !r.reportOnly).length;
    return `<section id="${esc(tag.slice(1))}"><h2>${esc(title)} <small>${esc(tag)} · ${rules.length} rules${failing ? ` · <span class="red">${failing} failing</span>` : ''}</small></h2>
<table class="rules"><thead><tr><th>rule</th><th>promise</th><th>mode</th><th>status</th><th>pass</th><th>fail</th><th>skip</th><th>?</th></tr></thead><tbody>${rules.map(ruleRow).join('')}</tbody></table>${matrix(report, rules)}</section>`;
  }).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dynamic API conformance — ${esc(report.target)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}h1{margin:0 0 .5rem}h2 small{font-weight:normal;color:#666;font-size:.7em}
.auth-conflict{color:#8a5a00;border-bottom:1px dotted #8a5a00;font-size:.85em;cursor:help}.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0 1rem}.meta dt{color:#666}
.counts{display:flex;gap:1rem;margin:1rem 0}.count{padding:.5rem 1rem;border-radius:6px;background:#f3f3f3}.count b{font-size:1.6em;display:block}
.count.fail b,.red{color:#b00020}.count.pass b{color:#146c2e}.count.deviation b{color:#a15c00}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left;vertical-align:top}
.num{text-align:right}.src{color:#777;font-size:.85em}.failures{margin:.3rem 0;color:#b00020}.skip-reasons{color:#666;font-size:.85em}
.badge{padding:.1rem .45rem;border-radius:4px;font-size:.85em;white-space:nowrap}.badge.pass{background:#d8f5dd}.badge.fail{background:#ffd9de}.badge.skip{background:#eee}.badge.inconclusive{background:#fff3c4}.badge.deviation{background:#ffe6c7}
.matrix td.cell{text-align:center;width:1.4em;padding:0}.cell.pass{background:#e6f7e9}.cell.fail{background:#ffd9de}.cell.skip{background:#f2f2f2}.cell.inconclusive{background:#fff3c4}
.matrix th.rot{font-size:.75em;writing-mode:vertical-rl}.op{white-space:nowrap;font-size:.85em}.auth{color:#888;font-size:.8em}
</style></head><body>
<h1>Dynamic API conformance</h1>
<dl class="meta"><dt>target</dt><dd id="target">${esc(report.target)} (${esc(report.apiUrl)})</dd><dt>docs profile</dt><dd id="profile">${esc(report.profile)}</dd>
<dt>spec hash</dt><dd>${esc(report.specHash)}</dd><dt>fast-check seed</dt><dd id="seed">${esc(report.fcSeed)}</dd>
<dt>started</dt><dd>${esc(report.startedAt)}</dd><dt>run time</dt><dd>${(report.durationMs / 1000).toFixed(1)} s · ${esc(c.requests)} requests · run ${esc(report.runStatus)}</dd></dl>
<div class="counts"><div class="count pass" id="count-pass"><b>${c.rules.pass}</b>rules pass</div><div class="count fail" id="count-fail"><b>${c.rules.fail}</b>rules fail</div>
<div class="count deviation"><b>${c.rules.deviation}</b>report-only deviations</div><div class="count"><b>${c.rules.inconclusive}</b>inconclusive</div><div class="count"><b>${c.rules.skip}</b>skipped</div>
<div class="count"><b>${c.outcomes.pass + c.outcomes.fail + c.outcomes.skip + c.outcomes.inconclusive}</b>operation outcomes</div></div>
${sections}
<p class="src">Generated by the Dynamic API conformance suite. Credentials are redacted by value; replay a property failure with FC_SEED=${esc(report.fcSeed)} and the FC_PATH printed by the failing test.</p>
</body></html>
`;
}
