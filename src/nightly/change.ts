/**
 * What changed since the previous run (CONFORMANCE_PREVIOUS): every rule and every (rule, subject) outcome gets a
 * `change`, computed from this run's status and the short history of recent runs the report carries (`recent`).
 * Also the verdict under CONFORMANCE_FAIL_ON: `new` fails the run only on new failures, `any` on every failure.
 */
import type { Change, FailOn, NightlyStatus, ReportLike, RuleEntry, SubjectOutcome } from './types.js';

/** How many runs of history a report keeps per rule and per outcome. */
export const HISTORY = 10;
/**
 * A status flipping between passing and failing this many times within the last FLAKY_WINDOW verified runs is flaky.
 */
export const FLAKY_FLIPS = 3;
export const FLAKY_WINDOW = 5;

const LETTER: Record<NightlyStatus, string> = { pass: 'P', fail: 'F', known: 'K', skip: 'S', inconclusive: 'I' };

/** The history string with this run's status appended (oldest first, at most HISTORY letters). */
export function nextRecent(previous: string | undefined, status: NightlyStatus): string {
  return `${previous ?? ''}${LETTER[status]}`.slice(-HISTORY);
}

const verifiedLetter = (c: string): boolean => c === 'P' || c === 'F' || c === 'K';
const failingLetter = (c: string): boolean => c === 'F' || c === 'K';

/** True when the verified runs of the history alternate between passing and failing (FLAKY_FLIPS within the window). */
export function alternates(recent: string): boolean {
  const verified = [...recent].filter(verifiedLetter).slice(-FLAKY_WINDOW).map(failingLetter);
  let flips = 0;
  for (let i = 1; i < verified.length; i += 1) if (verified[i] !== verified[i - 1]) flips += 1;
  return flips >= FLAKY_FLIPS;
}

export const isFailing = (s: string | undefined): boolean => s === 'fail' || s === 'known';
export const isVerified = (s: string | undefined): boolean => s === 'pass' || isFailing(s);

/**
 * The change of one rule or outcome. `previousRecent` is its history before this run (from the previous report),
 * `retriedFlaky` says it failed and then passed on a retry within this run.
 */
export function classify(status: NightlyStatus, previousRecent: string | undefined, retriedFlaky = false): Change {
  if (retriedFlaky) return 'flaky';
  if (!isVerified(status)) return 'not-covered';
  const history = previousRecent ?? '';
  if (alternates(`${history}${LETTER[status]}`)) return 'flaky';
  const lastVerified = [...history].reverse().find(verifiedLetter);
  if (isFailing(status)) return lastVerified && failingLetter(lastVerified) ? 'still-failing' : 'new';
  if (lastVerified === undefined) return 'newly-covered';
  return failingLetter(lastVerified) ? 'fixed' : 'still-passing';
}

const STATUS_OF: Record<string, NightlyStatus> = { P: 'pass', F: 'fail', K: 'known', S: 'skip', I: 'inconclusive' };

/** A previous run, indexed by rule and subject: each one's history (including that run's own status). */
export interface PreviousIndex {
  startedAt: string;
  rules: Map<string, string>;
  outcomes: Map<string, Map<string, string>>;
}

/**
 * Indexes a previous report. Reports written before `outcomes`/`recent` existed still work: the history is then the
 * single previous status, from `operations[].results` and `rules[].failures`.
 */
export function indexPrevious(previous: ReportLike): PreviousIndex {
  const rules = new Map<string, string>();
  const outcomes = new Map<string, Map<string, string>>();
  const letter = (s: string | undefined): string => (s && s in LETTER ? LETTER[s as NightlyStatus] : '');
  for (const rule of previous.rules) {
    rules.set(rule.id, rule.recent ?? letter(rule.status));
    const subjects = new Map<string, string>();
    if (rule.outcomes) {
      for (const o of rule.outcomes) subjects.set(o.subject, o.recent ?? letter(o.status));
    } else {
      for (const op of previous.operations) if (op.results[rule.id]) subjects.set(op.key, letter(op.results[rule.id]));
      for (const f of rule.failures) subjects.set(f.subject, f.deviation === undefined ? 'F' : 'K');
    }
    outcomes.set(rule.id, subjects);
  }
  return { startedAt: previous.startedAt, rules, outcomes };
}

/** The status a history ends with (the previous run's own status), if any. */
export function lastStatus(recent: string | undefined): NightlyStatus | undefined {
  return recent ? STATUS_OF[recent.slice(-1)] : undefined;
}

/**
 * Annotates a report in place: `recent` and (when there is a previous run) `change` on every rule, on every outcome
 * of `rules[].outcomes`, on every failure and in `operations[].changes`. Without a previous run only `recent` is set.
 */
export function applyChanges(report: ReportLike, previous: PreviousIndex | undefined): void {
  const perSubject = new Map<string, Map<string, Change>>();
  for (const rule of report.rules) {
    const prevRule = previous?.rules.get(rule.id);
    rule.recent = nextRecent(prevRule, rule.status);
    if (previous) rule.change = classify(rule.status, prevRule, rule.retriedFlaky === true);
    const prevOutcomes = previous?.outcomes.get(rule.id);
    const changes = new Map<string, Change>();
    for (const o of rule.outcomes ?? []) {
      const prev = prevOutcomes?.get(o.subject);
      o.recent = nextRecent(prev, o.status);
      if (previous) {
        o.change = classify(o.status, prev, rule.retriedFlaky === true && o.status === 'pass');
        changes.set(o.subject, o.change);
      }
    }
    if (!previous) continue;
    for (const f of rule.failures)
      f.change =
        changes.get(f.subject) ?? classify(f.deviation === undefined ? 'fail' : 'known', prevOutcomes?.get(f.subject));
    perSubject.set(rule.id, changes);
  }
  if (!previous) return;
  for (const op of report.operations) {
    const changes: Record<string, Change> = {};
    for (const ruleId of Object.keys(op.results)) {
      const c = perSubject.get(ruleId)?.get(op.key);
      if (c) changes[ruleId] = c;
    }
    op.changes = changes;
  }
}

/** The subjects of one rule whose failure is new against the previous run (known deviations excluded). */
export function newFailures(
  rule: Pick<RuleEntry, 'id'>,
  outcomes: readonly Pick<SubjectOutcome, 'subject' | 'status'>[],
  previous: PreviousIndex | undefined,
): string[] {
  const prev = previous?.outcomes.get(rule.id);
  return outcomes
    .filter((o) => o.status === 'fail' && classify('fail', prev?.get(o.subject)) === 'new')
    .map((o) => o.subject);
}

export interface RuleDecision {
  /** True when this rule's failures fail the run. */
  fails: boolean;
  /** Subjects failing (not known deviations). */
  failing: string[];
  /** Of those, the ones that are new. */
  newFailing: string[];
}

/**
 * Whether one enforced rule's failures fail the run: under `any` every failure does; under `new` only failures that
 * are new against the previous run (still failing and flaky ones are shown, not fatal). Known deviations never do.
 */
export function decideRule(
  ruleId: string,
  outcomes: readonly Pick<SubjectOutcome, 'subject' | 'status'>[],
  previous: PreviousIndex | undefined,
  failOn: FailOn,
): RuleDecision {
  const failing = [...new Set(outcomes.filter((o) => o.status === 'fail').map((o) => o.subject))];
  const newFailing = newFailures({ id: ruleId }, outcomes, previous);
  const fails = failOn === 'any' ? failing.length > 0 : newFailing.length > 0;
  return { fails, failing, newFailing: [...new Set(newFailing)] };
}

/** The changes a reader looks at first, in this order; still-passing and not-covered are the quiet majority. */
export const NOTEWORTHY: readonly Change[] = ['new', 'fixed', 'flaky', 'still-failing', 'newly-covered'];

/** Rules and outcomes grouped by change, for the "what changed" sections (HTML, console, step summary). */
export function changeDigest(
  report: ReportLike,
): { change: Change; rules: string[]; outcomes: { rule: string; subject: string }[] }[] {
  return NOTEWORTHY.map((change) => ({
    change,
    rules: report.rules.filter((r) => r.change === change).map((r) => r.id),
    outcomes: report.rules.flatMap((r) =>
      (r.outcomes ?? []).filter((o) => o.change === change).map((o) => ({ rule: r.id, subject: o.subject })),
    ),
  }));
}
