/**
 * The report.json shape the nightly modules read and write (a subset of the matrix reporter's report, plus the
 * nightly fields). Kept here, not imported from the reporter, so these modules stay pure: data in, data out.
 */

/** A rule's or an outcome's status in report.json; `known` = failed, but every failure is a known deviation. */
export type NightlyStatus = 'pass' | 'fail' | 'skip' | 'inconclusive' | 'known';

/**
 * What changed since the previous run (`rules[].change`, `rules[].outcomes[].change`, `operations[].changes`):
 * new (failing now, not at the last run that verified it), fixed, still-failing, still-passing, newly-covered
 * (passing, never verified in the kept history), flaky (failed then passed on retry, or alternating over the recent
 * runs kept), not-covered (skipped or inconclusive now: nothing was verified this run).
 */
export type Change = 'new' | 'fixed' | 'still-failing' | 'still-passing' | 'newly-covered' | 'flaky' | 'not-covered';

export const CHANGES: readonly Change[] = [
  'new',
  'fixed',
  'flaky',
  'still-failing',
  'newly-covered',
  'still-passing',
  'not-covered',
];

/** One subject's (operation's, or API-level case's) outcome under a rule. */
export interface SubjectOutcome {
  subject: string;
  status: NightlyStatus;
  change?: Change;
  /**
   * The last statuses, oldest first, this run last: one letter each (P pass, F fail, K known, S skip, I inconclusive).
   */
  recent?: string;
  /** Index in the baseline's `deviations` of the entry that made this failure known. */
  deviation?: number;
}

export interface FailureEntry {
  subject: string;
  reason: string;
  exchanges?: string | undefined;
  /** Set when a baseline entry matched: the entry's index. */
  deviation?: number;
  change?: Change;
}

export interface RuleEntry {
  id: string;
  title?: string;
  tags?: string[];
  level?: string;
  source?: string;
  mode?: string;
  status: NightlyStatus;
  counts?: Record<string, number>;
  requests?: number;
  /** Wall time of the rule's check (ms). */
  durationMs?: number;
  reportOnly?: boolean;
  failures: FailureEntry[];
  skipReasons?: string[];
  outcomes?: SubjectOutcome[];
  change?: Change;
  recent?: string;
  /** True when the rule's test failed and then passed on a retry within this run. */
  retriedFlaky?: boolean;
}

export interface OperationEntry {
  key: string;
  operationId?: string;
  auth?: string;
  tag?: string;
  results: Record<string, string>;
  changes?: Record<string, Change>;
}

/** A report.json, as far as the nightly modules need it. */
export interface ReportLike {
  tool?: string;
  specHash?: string;
  target: string;
  profile?: string;
  fcSeed?: number;
  startedAt: string;
  durationMs?: number;
  runStatus?: string;
  counts?: { rules: Record<string, number>; outcomes: Record<string, number>; requests: number };
  rules: RuleEntry[];
  operations: OperationEntry[];
  drift?: DriftReport;
  baseline?: BaselineSummary;
  coverage?: CoverageSummary;
  verdict?: Verdict;
}

/** The run's verdict under CONFORMANCE_FAIL_ON (and the opt-in drift setting). */
export interface Verdict {
  failOn: FailOn;
  failed: boolean;
  /** One line per reason the run fails (new failures, expired deviations, drift when opted in). */
  reasons: string[];
}

export type FailOn = 'new' | 'any';

/** Undocumented things seen in real responses, per operation: names and paths only, never values. */
export interface DriftReport {
  /** True when drift fails the run (CONFORMANCE_FAIL_ON_DRIFT). */
  failsRun: boolean;
  counts: { operations: number; items: number; new: number; known: number };
  operations: DriftOperation[];
}

export interface DriftOperation {
  key: string;
  /** Response properties the operation's schema does not document, e.g. `200 $.user.newField`. */
  properties: DriftItem[];
  /** Response header names neither the operation nor HTTP itself documents. */
  headers: DriftItem[];
  /** Response status codes the operation does not document. */
  statuses: DriftItem[];
}

export interface DriftItem {
  name: string;
  change: 'new' | 'known';
}

/** The baseline as reported: every entry with its state this run. */
export interface BaselineSummary {
  file: string;
  entries: BaselineEntryState[];
  counts: { active: number; expired: number; stale: number; matched: number };
}

export interface BaselineEntryState {
  index: number;
  rule: string;
  operations: string[] | undefined;
  reason: string;
  owner: string | undefined;
  link: string | undefined;
  expires: string | undefined;
  /** active: matched at least one failure; stale: matched nothing in a rule that ran; expired: past `expires`. */
  state: 'active' | 'stale' | 'expired' | 'not-run';
  /** Failures (rule, subject) it matched this run. */
  matched: number;
}

/** Coverage across nights (from the ledger): pairs never verified, or not verified within the window. */
export interface CoverageSummary {
  ledger: string | undefined;
  staleAfterDays: number;
  pairs: number;
  verified: number;
  never: { rule: string; subject: string }[];
  stale: { rule: string; subject: string; lastVerified: string }[];
}
