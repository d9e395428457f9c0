/**
 * The shape every conformance check shares: one rule id, one `run(ctx)`. A check reports one outcome per
 * operation (or per API-level case) through the context; the runner turns outcomes into the test verdict,
 * the HTML attachments and the conformance matrix.
 */
import type { SuiteConfig } from './config.js';
import type { Credentials, MockControl } from './credentials.js';
import type { Exchange, HttpClient, HttpResponse, TransportCounts } from '../http/client.js';
import type { RequestFactory } from '../http/requests.js';
import type { SchemaRegistry } from './schemas.js';
import type { LoadedSpec, Operation, Rule } from './spec.js';
import type { FcSettings } from './fc.js';
import type { WorkerState } from './worker-state.js';
import type { DriftCollector, DriftObservation } from '../nightly/drift.js';

export type OutcomeStatus = 'pass' | 'fail' | 'skip' | 'inconclusive';

/** The result of one rule on one operation (or one API-level case, e.g. 'policy nonce'). */
export interface Outcome {
  rule: string;
  /** 'GET /path' for operations, a short label otherwise. */
  subject: string;
  status: OutcomeStatus;
  /** Why it failed / was skipped / is inconclusive (redacted). */
  reason?: string;
  /** `transport`: inconclusive because a request got no answer (issue #13: never a conformance verdict). */
  kind?: 'transport';
  /** What the rule expects here, in short (e.g. '401'), next to the sentence; set where a check judges a status. */
  expected?: string;
  /** What the target answered, in short (e.g. '200'). */
  received?: string;
  /** Sequence numbers of the exchanges that show it (redacted copies are attached to the report). */
  exchanges?: number[];
}

/** What one worker's suite holds and every check reads: built once per worker by createSuite (src/engine/runner.ts). */
export interface SuiteServices {
  config: SuiteConfig;
  spec: LoadedSpec;
  schemas: SchemaRegistry;
  credentials: Credentials;
  client: HttpClient;
  requests: RequestFactory;
  /** The mock's control API; undefined on the live target. */
  mock: MockControl | undefined;
  fc: FcSettings;
  /** This worker's state (caches of the check families), owned by the worker fixture. */
  worker: WorkerState;
}

/** A failure reason with what was expected and what was received (rendered in both reports). */
export interface Detailed {
  reason: string;
  expected?: string | undefined;
  received?: string | undefined;
}

export interface CheckContext extends SuiteServices {
  rule: Rule;
  /** Operations this rule applies to (by its appliesTo.auth), in spec order. */
  operations: Operation[];
  /** A loopback source address for the next batch (mock target; rotates so per-IP limits never interfere). */
  sourceAddress(): string | undefined;
  pass(subject: string, response?: HttpResponse): void;
  /** Records a failure: a sentence, or a sentence with expected / received. */
  fail(subject: string, reason: string | Detailed, response?: HttpResponse | HttpResponse[]): void;
  skip(subject: string, reason: string): void;
  inconclusive(subject: string, reason: string, response?: HttpResponse): void;
  /** Logs a line to the test's output (redacted). */
  log(line: string): void;
  /** Drift seen in the responses this check validates (undocumented properties, headers, statuses; names only). */
  drift: DriftCollector;
}

/** A credential a check cannot do without (a field of Credentials; absent ones carry their reason in `missing`). */
export type CredentialNeed =
  | 'inactiveToken'
  | 'otherEnvironmentToken'
  | 'otherEnvironmentId'
  | 'noScopeToken'
  | 'limitedToken'
  | 'userJwt'
  | 'otherEnvironmentJwt'
  | 'otherOrganizationToken'
  | 'otherUserJwt';

/**
 * What a check needs before it can assert anything. The runner evaluates these once, before the body, and records
 * ONE skip of the rule with the reason when one is unmet (in this order: target, mock control API, source addresses,
 * credentials, writes) — so checks carry no inline guards for them.
 */
export interface Needs {
  /** Asserted on this target only; on the other the rule is skipped with `why`. */
  target?: { only: 'mock' | 'live'; why: string };
  /** The mock's control API (clock, reset, minting), `why` says what for; not evaluated for a declared `live` body. */
  mockControl?: { why?: string; onLive?: string };
  /** Distinct loopback source addresses (the mock on 127.0.0.1: aliases 127.x.y.z). */
  sourceAddresses?: true;
  /** Credentials the check cannot do without. */
  credentials?: readonly CredentialNeed[];
  /** Writes: on live only with DYNAMIC_ALLOW_WRITES=true on a verified sandbox; `why` says what it writes. */
  writes?: { why: string };
}

/** One conformance rule's check (P1: one small named function per rule, registered in one table). */
export interface Check {
  rule: string;
  /** Preconditions, evaluated once by the runner (a skip with the reason when one is unmet). */
  needs?: Needs;
  /** The check's body (on live too, unless `live` is declared). */
  run(ctx: CheckContext): Promise<void>;
  /** The body on the live target, when it differs from `run` (declared per check; the runner picks it). */
  live?: (ctx: CheckContext) => Promise<void>;
}

/** What the runner hands back to the Playwright test. */
export interface CheckResult {
  rule: Rule;
  outcomes: Outcome[];
  exchanges: Exchange[];
  requests: number;
  /** The check's transport counters (failed attempts, retried, recovered, unanswered) and its transport subjects. */
  transport: TransportCounts & { inconclusive: number };
  ms: number;
  /** 429s on requests that were not the budgeted rate-limit probe's (a paced live run: 0). */
  unplanned429: number;
  /** What the check's responses showed that the spec does not document. */
  drift: DriftObservation[];
}
