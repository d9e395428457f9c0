/**
 * Puts the nightly layers on a finished report.json: known deviations (baseline), what changed (against the
 * previous report), drift (new vs known), the updated ledger and its coverage summary, and the verdict under
 * CONFORMANCE_FAIL_ON. `ruleVerdict` is the same decision for one rule, taken by the fixture while the rule's test
 * runs — so the test's (and Playwright's exit code's) verdict and report.json's verdict agree, sharded or not.
 */
import { applyBaseline, describeEntry, expiredEntries, matchDeviation } from './baseline.js';
import { applyChanges, decideRule } from './change.js';
import { buildDrift, driftKeys, rememberDrift, type DriftObservation } from './drift.js';
import { coverage, updateLedger, type Ledger } from './ledger.js';
import type { NightlyInputs } from './inputs.js';
import type { FailOn, ReportLike, Verdict } from './types.js';

export interface AnnotateOptions {
  /** YYYY-MM-DD (UTC) of the run: expiry, ledger dates. */
  today: string;
  /** Every worker's drift observations. */
  drift: readonly DriftObservation[];
  /** rule → the subjects it applies to (spec), so the ledger lists pairs no run has reached yet. */
  applicable?: ReadonlyMap<string, readonly string[]>;
  /** Where the new ledger is written (shown in the coverage summary). */
  ledgerOut?: string;
}

/** Annotates `report` in place and returns the ledger to write beside it. */
export function annotateReport(
  report: ReportLike,
  inputs: NightlyInputs,
  options: AnnotateOptions,
): { report: ReportLike; ledger: Ledger } {
  const { today } = options;
  if (inputs.baseline) report.baseline = applyBaseline(report, inputs.baseline, today);
  applyChanges(report, inputs.previous?.index);
  const known = driftKeys(inputs.previous?.report.drift);
  for (const key of Object.keys(inputs.ledger?.drift ?? {})) known.add(key);
  report.drift = buildDrift(options.drift, known, inputs.settings.failOnDrift);
  const ledger = updateLedger(inputs.ledger, report, today, options.applicable);
  ledger.drift = rememberDrift(ledger.drift, report.drift, today);
  report.coverage = coverage(
    ledger,
    today,
    inputs.settings.staleAfterDays,
    options.ledgerOut,
    new Set(report.rules.map((r) => r.id)),
  );
  if (report.counts) {
    const rules = report.counts.rules;
    rules.known = report.rules.filter((r) => r.status === 'known').length;
    rules.fail = report.rules.filter((r) => r.status === 'fail' && !r.reportOnly).length;
    rules.deviation = report.rules.filter((r) => r.status === 'fail' && r.reportOnly).length;
  }
  report.verdict = verdictOf(report, inputs);
  return { report, ledger };
}

/**
 * The run's verdict from an annotated report: new (or any) failures of enforced rules, expired entries, opted-in drift.
 */
export function verdictOf(report: ReportLike, inputs: Pick<NightlyInputs, 'baseline' | 'settings'>): Verdict {
  const failOn = inputs.settings.failOn;
  const reasons: string[] = [];
  const ran = new Set(report.rules.map((r) => r.id));
  for (const e of report.baseline?.entries ?? []) {
    if (e.state === 'expired' && ran.has(e.rule) && inputs.baseline)
      reasons.push(`${describeEntry(inputs.baseline, e.index)} expired on ${e.expires ?? '?'}`);
  }
  for (const rule of report.rules) {
    if (rule.status !== 'fail' || rule.reportOnly || (rule.mode !== undefined && rule.mode !== 'enforce')) continue;
    const unknown = rule.failures.filter((f) => f.deviation === undefined);
    if (failOn === 'any') {
      reasons.push(`${rule.id} fails on ${unknown.length} subject(s)`);
      continue;
    }
    const fresh = rule.outcomes
      ? rule.outcomes.filter((o) => o.status === 'fail' && (o.change === undefined || o.change === 'new'))
      : unknown.filter((f) => f.change === undefined || f.change === 'new');
    if (fresh.length)
      reasons.push(
        `${rule.id} has ${fresh.length} new failure(s): ${fresh
          .slice(0, 3)
          .map((f) => f.subject)
          .join(', ')}${fresh.length > 3 ? ', …' : ''}`,
      );
  }
  if (report.drift?.failsRun) reasons.push(`${report.drift.counts.new} new drift item(s) (CONFORMANCE_FAIL_ON_DRIFT)`);
  return { failOn, failed: reasons.length > 0, reasons };
}

export interface RuleVerdict {
  /** The outcomes with known deviations marked `known`. */
  outcomes: { subject: string; status: string }[];
  /** subject → the baseline entry that made it known. */
  known: Map<string, number>;
  /** Messages naming each expired entry of this rule; any fails the rule's test. */
  expired: string[];
  /** Failing subjects that are not known deviations. */
  failing: string[];
  /** Of those, the new ones (against the previous run). */
  newFailing: string[];
  /** True when the rule's test must fail: expired entries, or (enforced) failures under CONFORMANCE_FAIL_ON. */
  fails: boolean;
}

/** The decision for one rule's test, from its raw outcomes (the fixture calls this right after the check ran). */
export function ruleVerdict(
  ruleId: string,
  mode: string,
  outcomes: readonly { subject: string; status: string }[],
  inputs: Pick<NightlyInputs, 'baseline' | 'previous'> & { settings: { failOn: FailOn } },
  today: string,
): RuleVerdict {
  const known = new Map<string, number>();
  const marked = outcomes.map((o) => {
    if (o.status !== 'fail') return { subject: o.subject, status: o.status };
    const i = matchDeviation(inputs.baseline, ruleId, o.subject, today);
    if (i === undefined) return { subject: o.subject, status: 'fail' };
    known.set(o.subject, i);
    return { subject: o.subject, status: 'known' };
  });
  const expired = inputs.baseline
    ? expiredEntries(inputs.baseline, ruleId, today).map(
        (i) =>
          `${describeEntry(inputs.baseline!, i)} expired on ` +
          `${inputs.baseline!.deviations[i]!.expires}: renew its expires ` +
          `date or remove it`,
      )
    : [];
  const decision = decideRule(
    ruleId,
    marked as { subject: string; status: 'fail' }[],
    inputs.previous?.index,
    inputs.settings.failOn,
  );
  return {
    outcomes: marked,
    known,
    expired,
    failing: decision.failing,
    newFailing: decision.newFailing,
    fails: expired.length > 0 || (mode === 'enforce' && decision.fails),
  };
}
