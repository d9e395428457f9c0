/**
 * Builds the per-worker suite (config, spec, schemas, credentials, client) and runs one check into a CheckResult.
 */
import { loadConfig } from './config.js';
import { MockControl, liveCredentials, mockCredentials, type Credentials, type MockSeed } from './credentials.js';
import { BudgetExceededError, HttpClient, type HttpResponse, type TransportCounts } from '../http/client.js';
import { transportReason, type TransportFault } from '../http/transport.js';
import { RequestFactory } from '../http/requests.js';
import { schemas } from './schemas.js';
import { loadSpec } from './spec.js';
import { fcSettings } from './fc.js';
import { redact, Secret } from '../secrets/redact.js';
import { RemotePacer, type RunJwts } from './run-state.js';
import { burstRefused, writesRefused } from '../secrets/safety.js';
import type { Check, CheckContext, CheckResult, Detailed, Needs, Outcome, SuiteServices } from './types.js';
import { WorkerState } from './worker-state.js';
import { DriftCollector } from '../nightly/drift.js';

export interface Suite extends SuiteServices {
  seed: MockSeed | undefined;
  /** Live: this worker's line to the run's pacer (closed at worker teardown). */
  pacer: RemotePacer | undefined;
  workerIndex: number;
}

/** Creates the suite for one worker; the mock's credentials come only from its control API. */
export async function createSuite(workerIndex = 0, apiUrlOverride?: string): Promise<Suite> {
  const loaded = loadConfig();
  let config = apiUrlOverride ? { ...loaded, apiUrl: apiUrlOverride } : loaded;
  const spec = loadSpec(config.docsProfile);
  const registry = schemas(
    spec.operations.flatMap((op) => [
      ...(op.requestBody ? [op.requestBody.schema] : []),
      ...(op.success.schema ? [op.success.schema] : []),
      ...Object.values(op.responses).flatMap((r) => (r.schema ? [r.schema] : [])),
    ]),
  );
  const mock = config.target === 'mock' ? new MockControl(config.apiUrl) : undefined;
  let credentials: Credentials;
  let seed: MockSeed | undefined;
  if (mock) ({ credentials, seed } = await mockCredentials(mock));
  else credentials = liveCredentials(config);
  // Live: every worker paces through the run's one scheduler and uses the JWTs obtained once for the run.
  const pacer = config.target === 'live' && config.runState ? RemotePacer.fromLocator(config.runState) : undefined;
  if (pacer) credentials = withRunJwts(credentials, await pacer.jwts());
  const client = new HttpClient({
    baseUrl: config.apiUrl,
    requestBudget: config.requestBudget,
    rateLimited: mock
      ? { kind: 'advance-mock-clock', controlUrl: mock.url }
      : { kind: 'wait', maxWaitSeconds: 60, maxRetries: 2 },
    allowCredentialInUrl: config.target === 'mock',
    pacer,
    singleSource: config.target === 'live',
    // Transport faults are retried on every target (issue #13); live backs off longer, as a CI runner to a real front.
    transportRetry: { retries: 2, backoffMs: config.target === 'live' ? 500 : 50 },
  });
  // SEC-003: on live, the opt-ins only take effect on an environment verified to be a sandbox; every check that tests
  // config.allowWrites / config.rateLimitBudget is gated by this one verification.
  if (config.target === 'live' && (config.allowWrites || config.rateLimitBudget !== undefined)) {
    const target = { config, credentials, client };
    const writes = config.allowWrites ? await writesRefused(target) : undefined;
    const burst = config.rateLimitBudget !== undefined ? await burstRefused(target) : undefined;
    for (const refusal of [writes, burst]) if (refusal) console.warn(`safety gate: ${refusal}`);
    if (writes || burst)
      config = {
        ...config,
        allowWrites: config.allowWrites && !writes,
        rateLimitBudget: burst ? undefined : config.rateLimitBudget,
      };
  }
  const knownIds: Record<string, string> = {};
  if (credentials.userId) knownIds.userId = credentials.userId;
  if (credentials.projectId) knownIds.projectId = credentials.projectId;
  return {
    config,
    spec,
    schemas: registry,
    credentials,
    client,
    requests: new RequestFactory(spec.document, credentials.environmentId, knownIds),
    mock,
    seed,
    fc: fcSettings(config),
    workerIndex,
    worker: new WorkerState(),
    pacer,
  };
}

/**
 * The run's JWTs in the credentials: one obtained through the sandbox test account fills an unset DYNAMIC_USER_JWT
 * (DYNAMIC_OTHER_ENVIRONMENT_JWT); one that is unavailable gives the reason checks are skipped with.
 */
function withRunJwts(credentials: Credentials, jwts: Partial<RunJwts>): Credentials {
  const out: Credentials = { ...credentials, missing: { ...credentials.missing } };
  if (!out.userJwt && jwts.user) {
    if (jwts.user.value) {
      out.userJwt = new Secret(jwts.user.value, 'DYNAMIC_USER_JWT');
      delete out.missing.userJwt;
    } else out.missing.userJwt = jwts.user.detail;
  }
  if (!out.otherEnvironmentJwt && jwts.other) {
    if (jwts.other.value) {
      out.otherEnvironmentJwt = new Secret(jwts.other.value, 'DYNAMIC_OTHER_ENVIRONMENT_JWT');
      delete out.missing.otherEnvironmentJwt;
    } else out.missing.otherEnvironmentJwt = jwts.other.detail;
  }
  return out;
}

/** Can requests come from distinct loopback source addresses (the mock target on 127.0.0.1)? */
function loopbackSources(suite: Suite): boolean {
  return suite.config.target === 'mock' && /^http:\/\/127\.0\.0\.1[:/]/.test(suite.config.apiUrl);
}

/** Loopback source addresses for the mock target: worker w uses 127.(10+w).x.y, rotating. */
function addressRotation(suite: Suite): () => string | undefined {
  if (!loopbackSources(suite)) return () => undefined;
  // 250 addresses per worker, one after the other (round robin): each gets 1/250 of the worker's requests, so
  // per-IP limits rarely bind, and an address's keep-alive connection is back in use within one round (well inside
  // the client's idle timeout), so connections are reused instead of opened per handful of requests.
  let n = 0;
  const second = 10 + (suite.workerIndex % 200);
  return () => {
    n = (n + 1) % 250;
    return `127.${second}.0.${n + 2}`;
  };
}

/**
 * The first unmet precondition of a check's body, as the reason of its skip (undefined = every need is met). `live` =
 * the check's declared live body runs (the mock control API is not needed then).
 */
export function unmetNeed(needs: Needs | undefined, suite: Suite, live: boolean): string | undefined {
  if (!needs) return undefined;
  const { config, credentials } = suite;
  if (needs.target && needs.target.only !== config.target) return needs.target.why;
  if (needs.mockControl && !live && !suite.mock) {
    const { why, onLive } = needs.mockControl;
    if (config.target === 'live') return onLive ?? `needs the mock's control API${why ? ` (${why})` : ''}`;
    return `the mock control API is off (MOCK_CONTROL=off)${why ? `; ${why}` : ''}`;
  }
  if (needs.sourceAddresses && !loopbackSources(suite)) {
    return 'distinct source addresses need the mock on 127.0.0.1 (loopback aliases 127.50.x.y)';
  }
  for (const field of needs.credentials ?? []) {
    if (credentials[field] === undefined) return `needs ${field}: ${credentials.missing[field] ?? 'not available'}`;
  }
  if (needs.writes && config.target === 'live' && !config.allowWrites) return needs.writes.why;
  return undefined;
}

/** Runs one check and collects its outcomes; never throws for a rule violation (the verdict is the caller's). */
export async function runCheck(
  suite: Suite,
  check: Check,
  log: (line: string) => void = () => undefined,
): Promise<CheckResult> {
  const rule = suite.spec.rulesById.get(check.rule);
  if (!rule) throw new Error(`check for unknown rule ${check.rule} (not in specs/rules)`);
  const outcomes: Outcome[] = [];
  const started = performance.now();
  const sentBefore = suite.client.requestsSent;
  const unplannedBefore = suite.client.unplanned429;
  suite.client.takeExchanges(new Set());
  const seqs = (r?: HttpResponse | HttpResponse[]): number[] | undefined =>
    r === undefined ? undefined : (Array.isArray(r) ? r : [r]).map((x) => x.seq ?? x.exchange.seq);
  const push = (o: Outcome): void => {
    const redacted: Outcome = o.reason === undefined ? o : { ...o, reason: redact(o.reason) };
    if (o.expected !== undefined) redacted.expected = redact(o.expected);
    if (o.received !== undefined) redacted.received = redact(o.received);
    outcomes.push(redacted);
  };
  const drift = new DriftCollector();
  const transportBefore = suite.client.transport;
  // Transport faults are never judged (issue #13): a subject whose evidence includes a request left without an answer
  // is inconclusive (transport), whatever the check concluded from "no response"; a pass stands unless a request never
  // reached the server at all (nothing was answered, so nothing can pass).
  const faultOf = (r: HttpResponse | HttpResponse[] | undefined, passing: boolean): TransportFault | undefined =>
    (r === undefined ? [] : Array.isArray(r) ? r : [r])
      .map((x) => x.transport)
      .find((f) => f !== undefined && (!passing || f.phase === 'connect'));
  const unanswered = (
    subject: string,
    fault: TransportFault,
    saw: string | undefined,
    response: HttpResponse | HttpResponse[] | undefined,
  ): void =>
    push({
      rule: rule.id,
      subject,
      status: 'inconclusive',
      kind: 'transport',
      reason: `${transportReason(fault)}${saw ? ` — the check saw: ${saw}` : ''}`,
      ...(response ? { exchanges: seqs(response)! } : {}),
    });
  const ctx: CheckContext = {
    rule,
    drift,
    config: suite.config,
    spec: suite.spec,
    schemas: suite.schemas,
    credentials: suite.credentials,
    client: suite.client,
    requests: suite.requests,
    mock: suite.mock,
    fc: suite.fc,
    worker: suite.worker,
    operations: suite.spec.operations.filter((op) => !rule.appliesTo.auth || rule.appliesTo.auth.includes(op.auth)),
    sourceAddress: addressRotation(suite),
    pass: (subject, response) => {
      const fault = faultOf(response, true);
      if (fault) return unanswered(subject, fault, undefined, response);
      push({ rule: rule.id, subject, status: 'pass', ...(response ? { exchanges: seqs(response)! } : {}) });
    },
    fail: (subject, why, response) => {
      const fault = faultOf(response, false);
      if (fault) return unanswered(subject, fault, typeof why === 'string' ? why : why.reason, response);
      push({
        rule: rule.id,
        subject,
        status: 'fail',
        ...detail(why),
        ...(response ? { exchanges: seqs(response)! } : {}),
      });
    },
    skip: (subject, reason) => push({ rule: rule.id, subject, status: 'skip', reason }),
    inconclusive: (subject, reason, response) => {
      const fault = faultOf(response, false);
      if (fault) return unanswered(subject, fault, reason, response);
      push({
        rule: rule.id,
        subject,
        status: 'inconclusive',
        reason,
        ...(response ? { exchanges: seqs(response)! } : {}),
      });
    },
    log: (line) => log(redact(line)),
  };
  // Live: the rule gets its share of what is left of the run's request budget.
  if (suite.pacer) suite.client.setAllowance(await suite.pacer.startRule(rule.id));
  const live = suite.config.target === 'live' && check.live !== undefined;
  const unmet = unmetNeed(check.needs, suite, live);
  try {
    if (unmet !== undefined) ctx.skip('(rule)', unmet);
    else await (live && check.live ? check.live(ctx) : check.run(ctx));
  } catch (error) {
    // The request budget bounds the run: a rule whose share is spent keeps what it asserted; what it did not reach is
    // listed as not covered this run (the rotation covers it on another night) — never a pass, never a failure.
    if (error instanceof BudgetExceededError) {
      const covered = new Set(outcomes.map((o) => o.subject));
      push({
        rule: rule.id,
        subject: '(request budget)',
        status: 'skip',
        reason:
          `${error.message}: the rest of this rule's sample is ` +
          `not covered this run (${covered.size} subject(s) ` +
          `judged)`,
      });
    } else {
      // A check that throws (a property's counterexample…) must not carry a credential into Playwright's
      // output, JUnit or the HTML report: rethrow with the message redacted.
      const message =
        error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
      throw new Error(redact(message));
    }
  } finally {
    suite.client.setAllowance(undefined);
  }
  const wanted = new Set(outcomes.filter((o) => o.status !== 'pass').flatMap((o) => o.exchanges ?? []));
  const after = suite.client.transport;
  const delta = (k: keyof TransportCounts): number => after[k] - transportBefore[k];
  return {
    rule,
    outcomes,
    exchanges: suite.client.takeExchanges(wanted).slice(0, 50),
    unplanned429: suite.client.unplanned429 - unplannedBefore,
    requests: suite.client.requestsSent - sentBefore,
    transport: {
      failedAttempts: delta('failedAttempts'),
      retried: delta('retried'),
      recovered: delta('recovered'),
      unanswered: delta('unanswered'),
      inconclusive: outcomes.filter((o) => o.kind === 'transport').length,
    },
    ms: performance.now() - started,
    drift: drift.toJSON(),
  };
}

/** The reason and, when given, expected / received of a failure. */
function detail(why: string | Detailed): Pick<Outcome, 'reason' | 'expected' | 'received'> {
  if (typeof why === 'string') return { reason: why };
  return {
    reason: why.reason,
    ...(why.expected !== undefined ? { expected: why.expected } : {}),
    ...(why.received !== undefined ? { received: why.received } : {}),
  };
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}
