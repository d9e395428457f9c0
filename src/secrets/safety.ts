/**
 * Live safety gates (SEC-003; conformance-rules SH-08): before any write or burst on the live target the suite
 * reads the project's environments and refuses unless DYNAMIC_ENVIRONMENT_ID is the project's sandbox and the user
 * opted in (DYNAMIC_ALLOW_WRITES=true for writes, DYNAMIC_RATE_LIMIT_BUDGET for bursts). Resources a check creates
 * are registered for deletion and deleted at the end even when the check fails or the request budget ran out.
 * On the mock target (disposable data, dummy credentials) the gates open without a request.
 * Every refusal is a one-line message naming the variable to change; checks turn it into a skip with that reason.
 */
import type { SuiteConfig } from '../engine/config.js';
import type { Credentials } from '../engine/credentials.js';
import { bearer, HttpClient, type HttpRequest, type HttpResponse } from '../http/client.js';
import { redact } from './redact.js';

/** What the gates need: a Suite or a CheckContext both fit. */
export interface SafetyTarget {
  config: SuiteConfig;
  credentials: Credentials;
  client: HttpClient;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The live write guard (SEC-003): on live without DYNAMIC_ALLOW_WRITES, the reason a request with a method other than
 * GET/HEAD must not be sent (`what` says what it carries: a lenient API could execute it); undefined = may be sent.
 */
export function liveWriteRisk(
  config: Pick<SuiteConfig, 'target' | 'allowWrites'>,
  op: { method: string },
  what = 'this request',
): string | undefined {
  if (config.target !== 'live' || READ_METHODS.has(op.method) || config.allowWrites) return undefined;
  return `${op.method} on live: ${what} could change live data; set DYNAMIC_ALLOW_WRITES=true for a disposable sandbox`;
}

/** A gate refused; the message names the variable to change. */
export class SafetyError extends Error {
  override name = 'SafetyError';
}

export interface SandboxVerification {
  verified: boolean;
  /** One line: why the environment is (not) a verified sandbox. */
  reason: string;
  /** Status of GET /projects/{projectId}/environments (0 = transport error; undefined = not sent). */
  status?: number | undefined;
  response?: HttpResponse | undefined;
}

const verifications = new WeakMap<HttpClient, Map<string, Promise<SandboxVerification>>>();

async function readSandbox(
  target: SafetyTarget,
  projectId: string,
  environmentId: string,
): Promise<SandboxVerification> {
  const where = 'GET /projects/{DYNAMIC_PROJECT_ID}/environments';
  const res = await target.client.send({
    method: 'GET',
    path: `/projects/${encodeURIComponent(projectId)}/environments`,
    headers: [
      ['accept', 'application/json'],
      ['authorization', bearer(target.credentials.apiToken)],
    ],
  });
  const base = { status: res.status, response: res };
  if (res.status === 0)
    return {
      ...base,
      verified: false,
      reason: `${where} failed (${res.exchange.error ?? 'transport error'}); check DYNAMIC_API_URL`,
    };
  if (res.status === 401 || res.status === 403)
    return {
      ...base,
      verified: false,
      reason: `${where} answered ${res.status}; DYNAMIC_API_TOKEN cannot read project DYNAMIC_PROJECT_ID`,
    };
  if (res.status !== 200)
    return { ...base, verified: false, reason: `${where} answered ${res.status}; check DYNAMIC_PROJECT_ID` };
  const environments = (
    res.json as { environments?: { sandbox?: { id?: unknown }; live?: { id?: unknown } } } | undefined
  )?.environments;
  const sandboxId = environments?.sandbox?.id;
  if (typeof sandboxId !== 'string')
    return { ...base, verified: false, reason: `${where} answered without environments.sandbox.id` };
  if (sandboxId === environmentId)
    return {
      ...base,
      verified: true,
      reason: 'DYNAMIC_ENVIRONMENT_ID is the sandbox environment of DYNAMIC_PROJECT_ID',
    };
  if (environments?.live?.id === environmentId)
    return {
      ...base,
      verified: false,
      reason:
        "DYNAMIC_ENVIRONMENT_ID is the project's live environment, not its sandbox (use the sandbox environment id)",
    };
  return {
    ...base,
    verified: false,
    reason: 'DYNAMIC_ENVIRONMENT_ID is not the sandbox environment of DYNAMIC_PROJECT_ID',
  };
}

/**
 * Reads GET /projects/{DYNAMIC_PROJECT_ID}/environments with DYNAMIC_API_TOKEN and requires environments.sandbox.id
 * to equal DYNAMIC_ENVIRONMENT_ID. One request per client, project and environment (the answer is cached).
 */
export function verifySandbox(target: SafetyTarget): Promise<SandboxVerification> {
  const { projectId, environmentId } = target.credentials;
  if (!projectId)
    return Promise.resolve({
      verified: false,
      reason: 'DYNAMIC_PROJECT_ID is not set, so DYNAMIC_ENVIRONMENT_ID cannot be verified as a sandbox',
    });
  let cache = verifications.get(target.client);
  if (!cache) verifications.set(target.client, (cache = new Map<string, Promise<SandboxVerification>>()));
  const key = `${projectId} ${environmentId}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = readSandbox(target, projectId, environmentId);
    cache.set(key, pending);
  }
  return pending;
}

/** Resolves when the suite may create, change and delete resources; throws SafetyError otherwise. */
export async function requireWrites(target: SafetyTarget): Promise<void> {
  if (target.config.target === 'mock') return;
  if (!target.config.allowWrites)
    throw new SafetyError(
      'refusing to write: DYNAMIC_ALLOW_WRITES is not true (set ' +
        'DYNAMIC_ALLOW_WRITES=true to let checks create and delete resources ' +
        'in the sandbox)',
    );
  const verification = await verifySandbox(target);
  if (!verification.verified) throw new SafetyError(`refusing to write: ${verification.reason}`);
}

/**
 * Resolves with the number of requests a burst (a rate-limit check provoking a 429) may send; throws SafetyError
 * unless DYNAMIC_RATE_LIMIT_BUDGET is set and the environment is a verified sandbox. Unlimited on the mock.
 */
export async function requireBurst(target: SafetyTarget): Promise<number> {
  if (target.config.target === 'mock') return target.config.rateLimitBudget ?? Number.POSITIVE_INFINITY;
  const budget = target.config.rateLimitBudget;
  if (budget === undefined)
    throw new SafetyError(
      'refusing to burst: DYNAMIC_RATE_LIMIT_BUDGET is not set (the most ' +
        'requests one rate-limit check may send to provoke a 429, e.g. 200)',
    );
  const verification = await verifySandbox(target);
  if (!verification.verified) throw new SafetyError(`refusing to burst: ${verification.reason}`);
  return budget;
}

async function refusal(gate: Promise<unknown>): Promise<string | undefined> {
  try {
    await gate;
    return undefined;
  } catch (error) {
    if (error instanceof SafetyError) return error.message;
    throw error;
  }
}

/** The refusal message when writes are not allowed (a check records it as its skip reason), else undefined. */
export function writesRefused(target: SafetyTarget): Promise<string | undefined> {
  return refusal(requireWrites(target));
}

/** The refusal message when bursts are not allowed, else undefined. */
export function burstRefused(target: SafetyTarget): Promise<string | undefined> {
  return refusal(requireBurst(target));
}

interface CleanupTask {
  label: string;
  run: () => Promise<unknown>;
}

/**
 * Resources to delete at the end. Tasks run last-in first-out; every task runs even when others fail; `runAll`
 * returns the problems as redacted one-liners. Deletions use their own small client, so a run whose request budget
 * is exhausted still cleans up.
 */
export class CleanupRegistry {
  private tasks: CleanupTask[] = [];
  private cleanupClient: HttpClient | undefined;

  /** Registers any asynchronous clean-up step (e.g. restoring a setting). */
  register(label: string, run: () => Promise<unknown>): void {
    this.tasks.push({ label, run });
  }

  /**
   * Registers the deletion of a created resource: `request` (usually a DELETE with bearer(apiToken)) is sent at
   * clean-up; 2xx and 404 (already gone) count as deleted.
   */
  registerDeletion(target: Pick<SafetyTarget, 'config'>, label: string, request: HttpRequest): void {
    this.register(label, async () => {
      this.cleanupClient ??= new HttpClient({
        baseUrl: target.config.apiUrl,
        requestBudget: 1_000,
        rateLimited: { kind: 'wait', maxWaitSeconds: 30, maxRetries: 2 },
        allowCredentialInUrl: false,
      });
      const res = await this.cleanupClient.send({ ...request, on429: 'retry' });
      if (res.status === 0) throw new Error(`${res.exchange.error ?? 'transport error'}`);
      if (!(res.status >= 200 && res.status < 300) && res.status !== 404) throw new Error(`answered ${res.status}`);
    });
  }

  get pending(): number {
    return this.tasks.length;
  }

  /** Runs every registered task (newest first) and clears the registry; returns the failures, one line each. */
  async runAll(): Promise<string[]> {
    const tasks = this.tasks.reverse();
    this.tasks = [];
    const problems: string[] = [];
    for (const task of tasks) {
      try {
        await task.run();
      } catch (error) {
        problems.push(
          redact(`clean-up '${task.label}' failed: ${error instanceof Error ? error.message : String(error)}`),
        );
      }
    }
    if (this.cleanupClient) await this.cleanupClient.close();
    this.cleanupClient = undefined;
    return problems;
  }
}

const registries = new WeakMap<HttpClient, CleanupRegistry>();

/**
 * The per-worker registry (keyed by the worker's client): for resources that outlive one check. The worker's
 * suite fixture runs it at teardown (`await cleanupFor(suite).runAll()`).
 */
export function cleanupFor(target: Pick<SafetyTarget, 'client'>): CleanupRegistry {
  let registry = registries.get(target.client);
  if (!registry) registries.set(target.client, (registry = new CleanupRegistry()));
  return registry;
}

/**
 * Runs `fn` with a fresh registry and deletes what it registered when `fn` ends, also when it throws. If `fn`
 * succeeded but clean-up failed, throws a one-line error listing the problems; if `fn` threw, its error wins and the
 * clean-up problems go to `log`.
 */
export async function withCleanup<T>(
  fn: (cleanup: CleanupRegistry) => Promise<T>,
  log: (line: string) => void = () => undefined,
): Promise<T> {
  const cleanup = new CleanupRegistry();
  let result: T;
  try {
    result = await fn(cleanup);
  } catch (error) {
    for (const problem of await cleanup.runAll()) log(problem);
    throw error;
  }
  const problems = await cleanup.runAll();
  if (problems.length) throw new Error(problems.join('; '));
  return result;
}
