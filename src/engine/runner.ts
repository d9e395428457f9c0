/**
 * Builds the per-worker suite (config, spec, schemas, credentials, client) and runs one check into a CheckResult.
 */
import { loadConfig } from './config.js';
import { MockControl, liveCredentials, mockCredentials, type Credentials, type MockSeed } from './credentials.js';
import { HttpClient, type HttpResponse } from '../http/client.js';
import { RequestFactory } from '../http/requests.js';
import { schemas } from './schemas.js';
import { loadSpec } from './spec.js';
import { fcSettings } from './fc.js';
import { redact } from '../secrets/redact.js';
import { burstRefused, writesRefused } from '../secrets/safety.js';
import type { Check, CheckContext, CheckResult, Outcome, SuiteServices } from './types.js';

export interface Suite extends SuiteServices {
  seed: MockSeed | undefined;
  workerIndex: number;
}

/** Creates the suite for one worker; the mock's credentials come only from its control API. */
export async function createSuite(workerIndex = 0, apiUrlOverride?: string): Promise<Suite> {
  const loaded = loadConfig();
  let config = apiUrlOverride ? { ...loaded, apiUrl: apiUrlOverride } : loaded;
  const spec = loadSpec(config.docsProfile);
  const registry = schemas();
  const mock = config.target === 'mock' ? new MockControl(config.apiUrl) : undefined;
  let credentials: Credentials;
  let seed: MockSeed | undefined;
  if (mock) ({ credentials, seed } = await mockCredentials(mock));
  else credentials = liveCredentials(config);
  const client = new HttpClient({
    baseUrl: config.apiUrl,
    requestBudget: config.requestBudget,
    rateLimited: mock ? { kind: 'advance-mock-clock', controlUrl: mock.url } : { kind: 'wait', maxWaitSeconds: 60, maxRetries: 2 },
    allowCredentialInUrl: config.target === 'mock',
  });
  // SEC-003: on live, the opt-ins only take effect on an environment verified to be a sandbox; every check that tests
  // config.allowWrites / config.rateLimitBudget is gated by this one verification.
  if (config.target === 'live' && (config.allowWrites || config.rateLimitBudget !== undefined)) {
    const target = { config, credentials, client };
    const writes = config.allowWrites ? await writesRefused(target) : undefined;
    const burst = config.rateLimitBudget !== undefined ? await burstRefused(target) : undefined;
    for (const refusal of [writes, burst]) if (refusal) console.warn(`safety gate: ${refusal}`);
    if (writes || burst) config = { ...config, allowWrites: config.allowWrites && !writes, rateLimitBudget: burst ? undefined : config.rateLimitBudget };
  }
  const knownIds: Record<string, string> = {};
  if (credentials.userId) knownIds.userId = credentials.userId;
  if (credentials.projectId) knownIds.projectId = credentials.projectId;
  return { config, spec, schemas: registry, credentials, client, requests: new RequestFactory(spec.document, credentials.environmentId, knownIds), mock, seed, fc: fcSettings(config), workerIndex };
}

/** Loopback source addresses for the mock target: worker w uses 127.(10+w).x.y, rotating. */
function addressRotation(suite: Suite): () => string | undefined {
  if (suite.config.target !== 'mock' || !/^http:\/\/127\.0\.0\.1[:/]/.test(suite.config.apiUrl)) return () => undefined;
  // A new address every 8 requests, 250 addresses per worker: per-IP limits rarely bind, and connections are reused.
  let n = 0;
  const second = 10 + (suite.workerIndex % 200);
  return () => {
    n = (n + 1) % (250 * 8);
    return `127.${second}.0.${Math.floor(n / 8) + 2}`;
  };
}

/** Runs one check and collects its outcomes; never throws for a rule violation (the verdict is the caller's). */
export async function runCheck(suite: Suite, check: Check, log: (line: string) => void = () => undefined): Promise<CheckResult> {
  const rule = suite.spec.rulesById.get(check.rule);
  if (!rule) throw new Error(`check for unknown rule ${check.rule} (not in specs/rules)`);
  const outcomes: Outcome[] = [];
  const started = performance.now();
  const sentBefore = suite.client.requestsSent;
  suite.client.takeExchanges(new Set());
  const seqs = (r?: HttpResponse | HttpResponse[]): number[] | undefined => (r === undefined ? undefined : (Array.isArray(r) ? r : [r]).map((x) => x.exchange.seq));
  const push = (o: Outcome): void => {
    outcomes.push(o.reason === undefined ? o : { ...o, reason: redact(o.reason) });
  };
  const ctx: CheckContext = {
    rule, config: suite.config, spec: suite.spec, schemas: suite.schemas, credentials: suite.credentials,
    client: suite.client, requests: suite.requests, mock: suite.mock, fc: suite.fc,
    operations: suite.spec.operations.filter((op) => !rule.appliesTo.auth || rule.appliesTo.auth.includes(op.auth)),
    sourceAddress: addressRotation(suite),
    pass: (subject, response) => push({ rule: rule.id, subject, status: 'pass', ...(response ? { exchanges: seqs(response)! } : {}) }),
    fail: (subject, reason, response) => push({ rule: rule.id, subject, status: 'fail', reason, ...(response ? { exchanges: seqs(response)! } : {}) }),
    skip: (subject, reason) => push({ rule: rule.id, subject, status: 'skip', reason }),
    inconclusive: (subject, reason, response) => push({ rule: rule.id, subject, status: 'inconclusive', reason, ...(response ? { exchanges: seqs(response)! } : {}) }),
    log: (line) => log(redact(line)),
  };
  try {
    await (suite.config.target === 'live' && check.live ? check.live(ctx) : check.run(ctx));
  } catch (error) {
    // A check that throws (budget exhausted, a property's counterexample…) must not carry a credential into Playwright's
    // output, JUnit or the HTML report: rethrow with the message redacted.
    const message = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
    throw new Error(redact(message));
  }
  const wanted = new Set(outcomes.filter((o) => o.status !== 'pass').flatMap((o) => o.exchanges ?? []));
  return {
    rule, outcomes,
    exchanges: suite.client.takeExchanges(wanted).slice(0, 50),
    requests: suite.client.requestsSent - sentBefore,
    ms: performance.now() - started,
  };
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
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
