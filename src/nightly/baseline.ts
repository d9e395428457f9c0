/**
 * Known deviations (CONFORMANCE_BASELINE, default `conformance.baseline.json` when present): a user-owned file of
 * failures Dynamic will not fix soon. A failure an active entry matches is `known`: shown, never failing the run.
 * An entry past `expires` silences nothing and fails the run, naming itself; an entry that matches nothing in a rule
 * that ran is reported stale. Schema: schemas/meta/baseline.schema.json (validated through the engine's one ajv).
 */
import picomatch from 'picomatch';
import type { BaselineEntryState, BaselineSummary, ReportLike } from './types.js';

/** The schema's $id: the engine's registry validates the file against it. */
export const BASELINE_SCHEMA_ID = 'https://schemas.dynamic-conformance.invalid/meta/baseline.schema.json';

export interface Deviation {
  rule: string;
  /** `METHOD /path/template` globs (picomatch: `*` one segment, `**` any); absent = every subject of the rule. */
  operations?: string[];
  reason: string;
  owner?: string;
  link?: string;
  /** `YYYY-MM-DD`; the entry is valid through that day. */
  expires?: string;
}

export interface Baseline {
  /** The file it came from (as the user named it), for messages. */
  file: string;
  deviations: Deviation[];
}

/** A baseline file the suite cannot use; the message names the file and the problem (never a stack trace). */
export class BaselineError extends Error {
  override name = 'BaselineError';
}

/** Validates a JSON value against a schema id; the engine's SchemaRegistry.validate has this shape. */
export type Validate = (schemaId: string, value: unknown) => { valid: boolean; errors: string[] };

/**
 * Parses and validates a baseline file's text. `rules` (the catalogue's ids), when given, rejects an entry naming a
 * rule that does not exist — a typo would otherwise silence nothing and be reported stale forever.
 */
export function parseBaseline(file: string, text: string, validate: Validate, rules?: ReadonlySet<string>): Baseline {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BaselineError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const result = validate(BASELINE_SCHEMA_ID, value);
  if (!result.valid) {
    const problems = result.errors.map((e) => e.replace(/^\/deviations\/(\d+)/, 'deviations[$1]'));
    throw new BaselineError(`${file} does not match schemas/meta/baseline.schema.json: ${problems.join('; ')}`);
  }
  const baseline = { file, deviations: (value as { deviations: Deviation[] }).deviations };
  baseline.deviations.forEach((d, i) => {
    if (rules && !rules.has(d.rule))
      throw new BaselineError(`${file}: deviations[${i}].rule '${d.rule}' is not a rule of specs/rules/`);
    if (d.expires && Number.isNaN(Date.parse(`${d.expires}T00:00:00Z`))) {
      throw new BaselineError(`${file}: deviations[${i}].expires '${d.expires}' is not a calendar date`);
    }
  });
  return baseline;
}

/** True when the entry is past its expiry date (`today` is `YYYY-MM-DD`, UTC). */
export function isExpired(deviation: Deviation, today: string): boolean {
  return deviation.expires !== undefined && deviation.expires < today;
}

/** How one entry is named in messages: `conformance.baseline.json deviations[2] (AUTH-004 GET /environments/*)`. */
export function describeEntry(baseline: Baseline, index: number): string {
  const d = baseline.deviations[index];
  if (!d) return `${baseline.file} deviations[${index}]`;
  const ops = d.operations?.length ? ` ${d.operations.join(', ')}` : '';
  const owner = d.owner ? `, owner ${d.owner}` : '';
  return `${baseline.file} deviations[${index}] (${d.rule}${ops}${owner})`;
}

const matchers = new WeakMap<Deviation, (subject: string) => boolean>();

/** The entry's subject matcher: its operation globs, or every subject when it names none. */
function matcherOf(d: Deviation): (subject: string) => boolean {
  let m = matchers.get(d);
  if (!m) {
    const globs = d.operations;
    m = globs?.length ? picomatch(globs, { dot: true }) : () => true;
    matchers.set(d, m);
  }
  return m;
}

/** The index of the first unexpired entry matching this failure, or undefined. */
export function matchDeviation(
  baseline: Baseline | undefined,
  rule: string,
  subject: string,
  today: string,
): number | undefined {
  if (!baseline) return undefined;
  const i = baseline.deviations.findIndex((d) => d.rule === rule && !isExpired(d, today) && matcherOf(d)(subject));
  return i < 0 ? undefined : i;
}

/** The expired entries for one rule (they fail that rule's test, naming themselves). */
export function expiredEntries(baseline: Baseline | undefined, rule: string, today: string): number[] {
  if (!baseline) return [];
  return baseline.deviations.flatMap((d, i) => (d.rule === rule && isExpired(d, today) ? [i] : []));
}

/**
 * Marks matched failures `known` in a report (rules[].failures[].deviation, rules[].outcomes[], the rule status and
 * the per-operation results) and returns every entry's state: active, expired, stale (its rule ran, it matched no
 * failure) or not-run (its rule was not part of this run).
 */
export function applyBaseline(report: ReportLike, baseline: Baseline, today: string): BaselineSummary {
  const matched = baseline.deviations.map(() => 0);
  const ran = new Set<string>();
  for (const rule of report.rules) {
    if (rule.status !== 'skip') ran.add(rule.id);
    const knownSubjects = new Map<string, number>();
    for (const f of rule.failures) {
      const i = matchDeviation(baseline, rule.id, f.subject, today);
      if (i === undefined) continue;
      f.deviation = i;
      knownSubjects.set(f.subject, i);
      matched[i] = (matched[i] ?? 0) + 1;
    }
    for (const o of rule.outcomes ?? []) {
      if (o.status !== 'fail') continue;
      const i = knownSubjects.get(o.subject) ?? matchDeviation(baseline, rule.id, o.subject, today);
      if (i === undefined) continue;
      o.status = 'known';
      o.deviation = i;
      knownSubjects.set(o.subject, i);
    }
    if (!knownSubjects.size) continue;
    for (const op of report.operations)
      if (knownSubjects.has(op.key) && op.results[rule.id] === 'fail') op.results[rule.id] = 'known';
    const unknownFailure =
      rule.failures.some((f) => f.deviation === undefined) || (rule.outcomes ?? []).some((o) => o.status === 'fail');
    if (rule.status === 'fail' && !unknownFailure) rule.status = 'known';
  }
  const entries: BaselineEntryState[] = baseline.deviations.map((d, index) => ({
    index,
    rule: d.rule,
    operations: d.operations,
    reason: d.reason,
    owner: d.owner,
    link: d.link,
    expires: d.expires,
    state: isExpired(d, today)
      ? 'expired'
      : (matched[index] ?? 0) > 0
        ? 'active'
        : ran.has(d.rule)
          ? 'stale'
          : 'not-run',
    matched: matched[index] ?? 0,
  }));
  const count = (s: BaselineEntryState['state']): number => entries.filter((e) => e.state === s).length;
  return {
    file: baseline.file,
    entries,
    counts: {
      active: count('active'),
      expired: count('expired'),
      stale: count('stale'),
      matched: matched.reduce((a, b) => a + b, 0),
    },
  };
}

/** Adds `days` to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const GLOB_SPECIAL = /[*?[\]()!+@|\\]/g;

/** A glob that matches exactly this subject (path templates' `{name}` braces are literal for picomatch). */
export function exactGlob(subject: string): string {
  return subject.replace(GLOB_SPECIAL, (c) => `\\${c}`);
}

/**
 * Today's failures of a report as a starting baseline (`npm run baseline:write`): one entry per failing rule, listing
 * its failing operations (or none when it failed on every subject it verified), the first failure's reason, owner
 * `unassigned` and an expiry `expiresInDays` ahead — the owner and the date are for the user to set.
 */
export function baselineFromReport(report: ReportLike, today: string, expiresInDays = 90): { deviations: Deviation[] } {
  const deviations: Deviation[] = [];
  for (const rule of report.rules) {
    if (rule.status !== 'fail' && rule.status !== 'known') continue;
    // rules[].failures is capped; the full outcome list, when the report has it, names every failing subject.
    const fromOutcomes = rule.outcomes
      ?.filter((o) => o.status === 'fail' || o.status === 'known')
      .map((o) => o.subject);
    const failing = [...new Set(fromOutcomes ?? rule.failures.map((f) => f.subject))];
    if (!failing.length) continue;
    // Every subject it verified failed (or, in an older report without outcomes, no operation passed it).
    const everySubject = rule.outcomes
      ? rule.outcomes.filter((o) => o.status === 'pass').length === 0
      : !report.operations.some((op) => op.results[rule.id] === 'pass');
    const ops = failing.filter((s) => / \//.test(s));
    const reason = (rule.failures[0]?.reason ?? 'failing').slice(0, 300);
    const operations = !everySubject && ops.length === failing.length ? { operations: ops.map(exactGlob) } : {};
    const entry: Deviation = {
      rule: rule.id,
      ...operations,
      reason,
      owner: 'unassigned',
      expires: addDays(today, expiresInDays),
    };
    deviations.push(entry);
  }
  return { deviations };
}
