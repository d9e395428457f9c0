/**
 * Renders the conformance matrix as one static HTML page (no script needed to read it).
 */
import type { MatrixReport, RuleReport } from './matrix-types.js';
import {
  baselineSection,
  changesSection,
  coverageSection,
  driftSection,
  NIGHTLY_CSS,
} from '../nightly/matrix-sections.js';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const FAMILIES: [string, string][] = [
  ['@auth', 'Authentication'],
  ['@token', 'Token format'],
  ['@jwt', 'User JWT'],
  ['@errors', 'Error codes'],
  ['@schema', 'Response schemas'],
  ['@rate', 'Rate limits'],
  ['@secrets', 'Secret safety'],
];
const SYMBOL = { pass: '✓', fail: '✗', skip: '–', inconclusive: '?', known: 'k' } as const;

/** True when the rule is inconclusive only because requests got no answer (issue #13). */
const onlyTransport = (rule: RuleReport): boolean => {
  const n = rule.transportInconclusive ?? 0;
  return rule.status === 'inconclusive' && n > 0 && n === rule.counts.inconclusive;
};

function badge(rule: RuleReport): string {
  if (rule.notRun)
    return (
      `<span class="badge skip notrun">` +
      `${esc(rule.notRun.startsWith('interrupted') ? 'interrupted' : 'not run')}` +
      `</span>`
    );
  const label = rule.reportOnly ? 'fail (report-only)' : onlyTransport(rule) ? 'inconclusive (transport)' : rule.status;
  const change =
    rule.change && rule.change !== 'still-passing'
      ? ` <span class="badge change-${esc(rule.change)}">${esc(rule.change)}</span>`
      : '';
  return `<span class="badge ${rule.reportOnly ? 'deviation' : rule.status}">${esc(label)}</span>${change}`;
}

/** ' expected <b>401</b>, received <b>200</b>:' when the failure carries them. */
function expectedReceived(f: RuleReport['failures'][number]): string {
  if (f.expected === undefined && f.received === undefined) return '';
  const part = (name: string, v: string | undefined): string => (v === undefined ? '' : `${name} <b>${esc(v)}</b>`);
  const parts = [part('expected', f.expected), part('received', f.received)].filter(Boolean).join(', ');
  return ` <span class="expected-received">${parts}:</span>`;
}

function ruleRow(rule: RuleReport): string {
  const failures = rule.failures
    .slice(0, 12)
    .map((f) => {
      const link = f.exchanges ? ` <a href="${esc(f.exchanges)}">exchanges</a>` : '';
      const known = f.deviation !== undefined ? ` <a href="#baseline">known deviation [${f.deviation}]</a>` : '';
      return (
        `<li` +
        (f.deviation !== undefined ? ' class="known"' : '') +
        `><code>${esc(f.subject)}</code>` +
        (f.change === 'new' ? ' <b>new</b>' : '') +
        `${known}${expectedReceived(f)} ${esc(f.reason)}${link}</li>`
      );
    })
    .join('');
  const more = rule.failures.length > 12 ? `<li>… ${rule.failures.length - 12} more in report.json</li>` : '';
  const listed = rule.inconclusive ?? [];
  const open = listed
    .slice(0, 12)
    .map(
      (i) =>
        `<li><code>${esc(i.subject)}</code> ` +
        (i.kind === 'transport' ? '<b>inconclusive (transport)</b> ' : '') +
        `${esc(i.reason)}</li>`,
    )
    .join('');
  const openMore = listed.length > 12 ? `<li>… ${listed.length - 12} more in report.json</li>` : '';
  const inconclusive = open ? `<ul class="inconclusive">${open}${openMore}</ul>` : '';
  const skips = rule.skipReasons.length
    ? `<div class="skip-reasons">skipped: ${rule.skipReasons.map(esc).join('; ')}</div>`
    : '';
  return (
    `<tr id="${esc(rule.id)}" class="rule ${rule.reportOnly ? 'deviation' : rule.status}` +
    `"><td><b>${esc(rule.id)}</b></td><td>${esc(rule.title)}<div class="src">` +
    `${esc(rule.level)} · ${esc(rule.source)}</div>` +
    (failures || more ? `<ul class="failures">${failures}${more}</ul>` : '') +
    `${inconclusive}${skips}</td><td>${esc(rule.mode)}</td><td>${badge(rule)}</td><td ` +
    `class="num">${rule.counts.pass}</td><td class="num">${rule.counts.fail}</td><td ` +
    `class="num">${rule.counts.skip}</td><td class="num">${rule.counts.inconclusive}` +
    `</td></tr>`
  );
}

function matrix(report: MatrixReport, rules: RuleReport[]): string {
  const ids = rules.map((r) => r.id);
  const rows = report.operations.filter((op) => ids.some((id) => op.results[id]));
  if (!rows.length) return '';
  const head = ids.map((id) => `<th class="rot"><a href="#${esc(id)}">${esc(id)}</a></th>`).join('');
  // x-dynamic-auth-conflict: the sources disagree on this operation's auth class; the sentence is the tooltip.
  const conflict = (op: MatrixReport['operations'][number]): string =>
    op.authConflict
      ? ` <span class="auth-conflict" title="` +
        `${esc(op.authConflict.text)}">auth conflict (` +
        `${esc(op.authConflict.live)} on live)</span>`
      : '';
  const body = rows
    .map(
      (op) =>
        `<tr><td class="op"><code>${esc(op.key)}</code> <span class="auth">${esc(op.auth)}</span>` +
        `${conflict(op)}</td>` +
        ids
          .map((id) => {
            const s = op.results[id];
            const change = op.changes?.[id];
            const cls = `${s ?? ''}${change === 'new' ? ' new' : ''}`;
            return s
              ? `<td class="cell ${cls}" title="${esc(`${id} ${s}${change ? ` (${change})` : ''}`)}">${SYMBOL[s]}</td>`
              : '<td class="cell none"></td>';
          })
          .join('') +
        `</tr>`,
    )
    .join('');
  return (
    `<details><summary>Operations × rules (${rows.length} operations)</summary><table ` +
    `class="matrix"><thead><tr><th>operation</th>${head}</tr></thead><tbody>${body}` +
    `</tbody></table></details>`
  );
}

const seconds = (ms: number | undefined): string => `${((ms ?? 0) / 1000).toFixed(0)} s`;

/**
 * The live run's pacing (plan against actual, 429s, where the JWT came from), coverage rotation and what did not run.
 */
function runPanel(report: MatrixReport): string {
  // Reports written before pacing (or merged without it) have none of these fields.
  const p = report.pacing ?? { enabled: false, unplanned429: 0 };
  const parts: string[] = [];
  if (p.enabled) {
    const rows = (p.policies ?? [])
      .map((f) => {
        const planned = p.plan?.policies.find((x) => x.bucket === f.bucket)?.requests;
        return (
          `<tr><td><code>${esc(f.bucket)}</code></td><td>` +
          `${esc(f.windows.map((w) => `${w.limit}/${w.seconds}s`).join(' + '))}</td><td ` +
          `class="num">${planned ?? '–'}</td><td class="num">${f.requests}</td><td ` +
          `class="num">${seconds(f.minimumMs)}</td></tr>`
        );
      })
      .join('');
    parts.push(
      `<h2>Pacing <small>plan against actual</small></h2>\n` +
        `<dl class="meta"><dt>request budget</dt><dd>${esc(p.plan?.budget ?? '?')} (DYNAMIC_REQUEST_BUDGET; ` +
        `the pacer uses ${Math.round((p.plan?.margin ?? 0.9) * 100)} % of each limit)</dd>\n` +
        `<dt>requests</dt><dd>${esc(p.requests ?? 0)} sent` +
        (p.refused ? `, ${esc(p.refused)} refused by the budget` : '') +
        `</dd>\n` +
        `<dt>wall time</dt><dd id="pacing-wall">${seconds(p.wallMs)} — the minimum the limits allow for ` +
        `these requests: ${seconds(p.minimumMs)}` +
        (p.ratioToMinimum !== undefined ? ` (ratio ${esc(p.ratioToMinimum)}; goal ≤ 1.25)` : '') +
        `; planned minimum ${seconds(p.plan?.minimumMs)} (${esc(p.plan?.basis ?? '')}); waited for slots ` +
        `${seconds(p.waitedMs)}</dd>\n` +
        `<dt>429s</dt><dd id="unplanned-429"><span class="${p.unplanned429 ? 'red' : ''}">unplanned 429s: ` +
        `${esc(p.unplanned429)}</span> · planned (rate-limit probe): ${esc(p.planned429 ?? 0)}</dd>\n` +
        (p.jwt
          ? `<dt>user JWT</dt><dd id="jwt-source">` +
            `${esc(jwtLabel(p.jwt.user.source))} — ${esc(p.jwt.user.detail)}` +
            `</dd><dt>other-environment JWT</dt><dd>` +
            `${esc(jwtLabel(p.jwt.other.source))} — ${esc(p.jwt.other.detail)}` +
            `</dd>`
          : '') +
        `</dl>\n` +
        (rows
          ? `<details><summary>Requests per policy bucket</summary><table ` +
            (`class="rules"><thead><tr><th>bucket</th><th>limits</th><th>` +
              `planned</th><th>sent</th><th>minimum</th></tr></thead>` +
              `<tbody>`) +
            `${rows}</tbody></table></details>`
          : '') +
        `\n` +
        (p.unplanned?.length
          ? `<details open><summary class="red">Unplanned 429s</summary><ul>` +
            p.unplanned
              .slice(0, 50)
              .map(
                (u) =>
                  `<li><code>${esc(u.method)} ${esc(u.path)}</code> (` +
                  `${esc(u.policies.join(', '))}) Retry-After ` +
                  `${esc(u.retryAfter ?? '–')}</li>`,
              )
              .join('') +
            `</ul></details>`
          : ''),
    );
  } else if (p.unplanned429) parts.push(`<p id="unplanned-429" class="red">unplanned 429s: ${esc(p.unplanned429)}</p>`);
  const c = report.rotation;
  if (c?.rotation !== undefined) {
    parts.push(
      `<p id="rotation">Live rotation: ${esc(c.pairsCovered)} (operation, rule) pairs ` +
        `covered this run (rotation ${esc(c.rotation)}: DYNAMIC_RUN_NUMBER or the UTC ` +
        `day); a full rotation takes ${esc(c.nightsForFullRotation)} night(s) at this ` +
        `budget.</p>`,
    );
  }
  if (report.notRun?.length) {
    parts.push(
      `<section id="not-run"><h2>Not run <small>${report.notRun.length} ` +
        `rules</small></h2><ul>` +
        report.notRun.map((n) => `<li><a href="#${esc(n.rule)}">${esc(n.rule)}</a> ${esc(n.reason)}</li>`).join('') +
        `</ul></section>`,
    );
  }
  return parts.join('\n');
}

function jwtLabel(source: string): string {
  return source === 'test-account' ? 'obtained from the sandbox test account' : source;
}

/** The header line on transport faults: never failures; the run fails on them only past the threshold. */
function transportText(report: MatrixReport): string {
  const t = report.transport;
  if (!t) return 'not recorded (a report from before transport accounting)';
  return (
    `${t.failedAttempts} failed attempts, ${t.retried} retried (` +
    `${t.recovered} answered after a retry), ${t.unanswered} requests ` +
    `without an answer ` +
    (`(${t.percent} % of ${t.requests}) → ${t.inconclusive} subjects ` +
      `inconclusive (transport), never failures; threshold ` +
      `${t.thresholdPercent} % `) +
    (`(DYNAMIC_TRANSPORT_FAILURE_THRESHOLD): ` +
      (t.exceeded ? 'EXCEEDED — the run fails on transport trouble' : 'within'))
  );
}

export function renderMatrixHtml(report: MatrixReport): string {
  const c = report.counts;
  const known = new Set(FAMILIES.map(([tag]) => tag));
  const families: [string, string][] = [...FAMILIES, ['@other', 'Other rules']];
  const sections = families
    .map(([tag, title]) => {
      // A rule whose first tag is not a known family still gets a section: nothing in report.json is left off the page.
      const rules = report.rules.filter((r) => (tag === '@other' ? !known.has(r.tags[0] ?? '') : r.tags[0] === tag));
      if (!rules.length) return '';
      const failing = rules.filter((r) => r.status === 'fail' && !r.reportOnly).length;
      const knownRules = rules.filter((r) => r.status === 'known').length;
      return (
        `<section id="${esc(tag.slice(1))}"><h2>${esc(title)} <small>${esc(tag)} · ${rules.length} rules` +
        (failing ? ` · <span class="red">${failing} failing</span>` : '') +
        (knownRules ? ` · ${knownRules} known` : '') +
        `</small></h2>\n` +
        `<table class="rules"><thead><tr><th>rule</th><th>promise</th><th>mode</th><th>status</th><th>` +
        `pass</th><th>fail</th><th>skip</th><th>?</th></tr></thead><tbody>${rules.map(ruleRow).join('')}` +
        `</tbody></table>${matrix(report, rules)}</section>`
      );
    })
    .join('\n');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dynamic API conformance — ` +
    `${esc(report.target)}</title>\n` +
    `<style>\n` +
    `body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}h1{margin:0 0 .5rem}h2 ` +
    `small{font-weight:normal;color:#666;font-size:.7em}\n` +
    `.auth-conflict{color:#8a5a00;border-bottom:1px dotted #8a5a00;font-size:.85em;cursor:help}` +
    `.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0 1rem}.meta ` +
    `dt{color:#666}\n` +
    `.counts{display:flex;gap:1rem;margin:1rem 0}.count{padding:.5rem 1rem;border-radius:6px;` +
    `background:#f3f3f3}.count b{font-size:1.6em;display:block}\n` +
    `.count.fail b,.red{color:#b00020}.count.pass b{color:#146c2e}.count.deviation b{color:#a15c00}\n` +
    `table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border-bottom:1px solid #eee;` +
    `padding:.25rem .4rem;text-align:left;vertical-align:top}\n` +
    `.inconclusive{margin:.3rem 0;color:#7a5d00}.num{text-align:right}.src{color:#777;font-size:.85em}` +
    `.failures{margin:.3rem 0;color:#b00020}.skip-reasons{color:#666;font-size:.85em}` +
    `.expected-received{color:#333}\n` +
    `.badge{padding:.1rem .45rem;border-radius:4px;font-size:.85em;white-space:nowrap}` +
    `.badge.pass{background:#d8f5dd}.badge.fail{background:#ffd9de}.badge.skip{background:#eee}` +
    `.badge.inconclusive{background:#fff3c4}.badge.deviation{background:#ffe6c7}\n` +
    `.matrix td.cell{text-align:center;width:1.4em;padding:0}.cell.pass{background:#e6f7e9}` +
    `.cell.fail{background:#ffd9de}.cell.skip{background:#f2f2f2}.cell.inconclusive{background:#fff3c4}\n` +
    `.matrix th.rot{font-size:.75em;writing-mode:vertical-rl}.op{white-space:nowrap;font-size:.85em}` +
    `.auth{color:#888;font-size:.8em}\n` +
    `.badge.change-new{background:#b00020;color:#fff}.badge.change-fixed{background:#146c2e;color:#fff}` +
    `.badge.change-flaky{background:#a15c00;color:#fff}.failures li.known{color:#5b4dbf}\n` +
    `${NIGHTLY_CSS}\n` +
    `</style></head><body>\n` +
    `<h1>Dynamic API conformance</h1>\n` +
    `<dl class="meta"><dt>target</dt><dd id="target">${esc(report.target)} (${esc(report.apiUrl)})</dd><dt>` +
    `docs profile</dt><dd id="profile">${esc(report.profile)}</dd>\n` +
    `<dt>spec hash</dt><dd>${esc(report.specHash)}</dd><dt>fast-check seed</dt><dd id="seed">` +
    `${esc(report.fcSeed)}</dd>\n` +
    `<dt>transport</dt><dd id="transport">${esc(transportText(report))}</dd>\n` +
    `<dt>started</dt><dd>${esc(report.startedAt)}</dd><dt>run time</dt><dd>` +
    `${(report.durationMs / 1000).toFixed(1)} s · ${esc(c.requests)} requests · run ` +
    `${esc(report.runStatus)}</dd></dl>\n` +
    `<div class="counts"><div class="count pass" id="count-pass"><b>${c.rules.pass}</b>rules pass</div><div ` +
    `class="count fail" id="count-fail"><b>${c.rules.fail}</b>rules fail</div>\n` +
    `<div class="count known" id="count-known"><b>${c.rules.known ?? 0}</b>known deviations</div><div ` +
    `class="count deviation"><b>${c.rules.deviation}</b>report-only deviations</div><div class="count"><b>` +
    `${c.rules.inconclusive}</b>inconclusive</div><div class="count" id="count-transport"><b>` +
    `${report.transport?.inconclusive ?? 0}</b>inconclusive (transport) subjects</div><div class="count"><b>` +
    `${c.rules.skip}</b>skipped</div>\n` +
    `<div class="count"><b>${c.outcomes.pass + c.outcomes.fail + c.outcomes.skip + c.outcomes.inconclusive}` +
    `</b>operation outcomes</div></div>\n` +
    `${runPanel(report)}\n` +
    `${changesSection(report)}\n` +
    `${baselineSection(report)}\n` +
    `${sections}\n` +
    `${driftSection(report)}\n` +
    `${coverageSection(report)}\n` +
    `<p class="src">Generated by the Dynamic API conformance suite. Credentials are redacted by value; ` +
    `replay a property failure with FC_SEED=${esc(report.fcSeed)} and the FC_PATH printed by the failing ` +
    `test.</p>\n` +
    `</body></html>\n`
  );
}
