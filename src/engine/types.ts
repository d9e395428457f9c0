/**
 * The shape every conformance check shares: one rule id, one `run(ctx)`. A check reports one outcome per
 * operation (or per API-level case) through the context; the runner turns outcomes into the test verdict,
 * the HTML attachments and the conformance matrix.
 */
import type { SuiteConfig } from './config.js';
import type { Credentials, MockControl } from './credentials.js';
import type { Exchange, HttpClient, HttpResponse } from '../http/client.js';
import type { RequestFactory } from '../http/requests.js';
import type { SchemaRegistry } from './schemas.js';
import type { LoadedSpec, Operation, Rule } from './spec.js';
import type { FcSettings } from './fc.js';

export type OutcomeStatus = 'pass' | 'fail' | 'skip' | 'inconclusive';

/** The result of one rule on one operation (or one API-level case, e.g. 'policy nonce'). */
export interface Outcome {
  rule: string;
  /** 'GET /path' for operations, a short label otherwise. */
  subject: string;
  status: OutcomeStatus;
  /** Why it failed / was skipped / is inconclusive (redacted). */
  reason?: string;
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
}

export interface CheckContext extends SuiteServices {
  rule: Rule;
  /** Operations this rule applies to (by its appliesTo.auth), in spec order. */
  operations: Operation[];
  /** A loopback source address for the next batch (mock target; rotates so per-IP limits never interfere). */
  sourceAddress(): string | undefined;
  pass(subject: string, response?: HttpResponse): void;
  fail(subject: string, reason: string, response?: HttpResponse | HttpResponse[]): void;
  skip(subject: string, reason: string): void;
  inconclusive(subject: string, reason: string, response?: HttpResponse): void;
  /** Logs a line to the test's output (redacted). */
  log(line: string): void;
}

/** One conformance rule's check (P1: one small named function per rule, registered in one table). */
export interface Check {
  rule: string;
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
  ms: number;
}
