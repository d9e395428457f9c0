/**
 * The run's shared state on the live target (issue #13): ONE pacer for all Playwright workers of a run, the run-wide
 * request budget, the user JWTs obtained once per run, and the counters both reports show (requests per policy,
 * 429s planned and unplanned, plan against actual).
 *
 * Playwright's workers are separate processes, so the state lives in the runner process: globalSetup
 * (src/engine/global-setup.ts) starts a small HTTP service on 127.0.0.1 (a random port and a random per-run key),
 * and each worker asks it for a send slot before every request (`POST /reserve`, answered with how long to wait) and
 * tells it the status after (`POST /outcome`). One round trip on loopback (< 1 ms) per request; the schedule itself
 * is src/http/pacer.ts. The reporter reads the final snapshot in the same process (no file, works after a global
 * timeout), via `runStateSnapshot()`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import {
  minimumWallTimeMs,
  PacingSchedule,
  RequestPolicies,
  type BucketDemand,
  type Pacer,
  type PaceWindow,
} from '../http/pacer.js';
import type { DocsProfile, Operation } from './spec.js';

/**
 * How a user JWT reached the run: given (DYNAMIC_USER_JWT…), obtained through the sandbox test account, or not at
 * all.
 */
export interface JwtProvenance {
  source: 'given' | 'test-account' | 'unavailable';
  /** Why it is unavailable, or how it was obtained (one line, no secret). */
  detail: string;
}

/** The JWTs of the run (values only travel worker ← service on loopback; reports carry the provenance only). */
export interface RunJwts {
  user: JwtProvenance & { value?: string | undefined };
  other: JwtProvenance & { value?: string | undefined };
}

/** One policy's line of the plan / of the actual figures. */
export interface PolicyFigures {
  policy: string;
  /** The bucket key (policy + key values: the one source address, an environment id). */
  bucket: string;
  requests: number;
  windows: { limit: number; seconds: number }[];
  /** The least time these requests need under the documented limits (100 %), in ms. */
  minimumMs: number;
}

/** What the run planned before its first request. */
export interface RunPlan {
  /** The run-wide request budget (DYNAMIC_REQUEST_BUDGET). */
  budget: number;
  /** Fraction of each limit the pacer uses. */
  margin: number;
  /** Requests per policy bucket the run expects (an estimate: how the budget falls on the policies). */
  policies: PolicyFigures[];
  /** The minimum wall time the limits allow for the planned requests (ms). */
  minimumMs: number;
  /** Where the estimate comes from. */
  basis: string;
}

/** One 429 the run received. */
export interface Received429 {
  method: string;
  path: string;
  policies: string[];
  retryAfter: string | undefined;
  atMs: number;
}

/** The pacer's figures at the end of the run (report.json `pacing`). */
export interface PacingSnapshot {
  enabled: boolean;
  plan: RunPlan | undefined;
  /** Requests that went through the pacer (every live request of every worker). */
  requests: number;
  /** Requests the budget refused. */
  refused: number;
  /** Requests per bucket actually sent, with the minimum time the limits allow for them. */
  policies: PolicyFigures[];
  /** The minimum wall time the limits allow for what was actually sent (ms). */
  minimumMs: number;
  /** From the first send to the last (ms). */
  spanMs: number;
  /** Total time requests waited for their slot (ms, summed over requests). */
  waitedMs: number;
  /** 429s the budgeted rate-limit probe provoked (DYNAMIC_RATE_LIMIT_BUDGET): expected. */
  planned429: number;
  /** 429s that still arrived on an ordinary request: honoured (Retry-After), counted, shown in both reports. */
  unplanned429: number;
  unplanned: Received429[];
  jwt: { user: JwtProvenance; other: JwtProvenance } | undefined;
}

/** Parses Retry-After (delay-seconds or an HTTP-date) into ms; undefined if absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

interface BucketCount {
  policy: string;
  count: number;
  windows: PaceWindow[];
}

function figures(counts: Map<string, BucketCount>): PolicyFigures[] {
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([bucket, c]) => ({
      policy: c.policy,
      bucket,
      requests: c.count,
      windows: c.windows.map((w) => ({ limit: w.limit, seconds: w.ms / 1000 })),
      minimumMs: minimumWallTimeMs(new Map([[bucket, { count: c.count, windows: c.windows }]])),
    }));
}

/**
 * The pacing logic of a run, clock injected: schedule, budget, counters. The service wraps one; unit tests drive it
 * with a fake clock. `probe` marks a request of the budgeted live rate-limit probe (it is recorded, not held back:
 * it is meant to reach the limit, and its 429s are planned).
 */
export class RunPacing {
  readonly schedule: PacingSchedule;
  readonly policies: RequestPolicies;
  private readonly counts = new Map<string, BucketCount>();
  private sent = 0;
  private refusedCount = 0;
  private waited = 0;
  private first: number | undefined;
  private last: number | undefined;
  private planned = 0;
  private unplannedCount = 0;
  private readonly unplanned: Received429[] = [];
  plan: RunPlan | undefined;
  jwts: RunJwts | undefined;
  /** Rule tests of this run that send requests (the reporter counts them at onBegin); undefined = not known yet. */
  expectedRules: number | undefined;
  private readonly startedRules = new Set<string>();

  constructor(
    operations: readonly Pick<Operation, 'method' | 'path' | 'policies'>[],
    profile: Pick<DocsProfile, 'rateLimits'>,
    readonly budget: number,
    readonly margin = 0.9,
    private readonly now: () => number = Date.now,
  ) {
    this.schedule = new PacingSchedule({ margin });
    this.policies = new RequestPolicies(operations, profile);
  }

  /** Reserves a slot: how long to wait before sending, or the refusal once the run's budget is spent. */
  reserve(method: string, path: string, probe = false): { waitMs: number } | { refused: string } {
    if (this.sent >= this.budget) {
      this.refusedCount += 1;
      return {
        refused:
          `request budget of ${this.budget} exhausted ` +
          `(DYNAMIC_REQUEST_BUDGET, shared by all workers of ` +
          `the run)`,
      };
    }
    const demands = this.policies.demandsFor(method, path);
    const now = this.now();
    let at = now;
    if (probe) this.schedule.record(demands, now);
    else at = this.schedule.reserve(demands, now);
    this.sent += 1;
    this.waited += at - now;
    this.first = Math.min(this.first ?? at, at);
    this.last = Math.max(this.last ?? at, at);
    for (const d of demands) {
      const c = this.counts.get(d.bucket) ?? { policy: d.policy, count: 0, windows: d.windows };
      c.count += 1;
      this.counts.set(d.bucket, c);
    }
    return { waitMs: at - now };
  }

  /**
   * A rule starts: its share of what is left of the run's budget — what is left divided by the rules not started yet
   * (rules that send less leave their share to the later ones), so the budget covers every rule of the run instead of
   * running out on the first ones.
   */
  startRule(rule: string): number {
    this.startedRules.add(rule);
    const left = Math.max(0, this.budget - this.sent);
    const remaining = Math.max(1, (this.expectedRules ?? this.startedRules.size) - this.startedRules.size + 1);
    return Math.floor(left / remaining);
  }

  /** Enters an answer: a 429 closes its buckets for every worker until Retry-After (+1 s) and is counted. */
  outcome(method: string, path: string, status: number, retryAfter: string | undefined, probe = false): void {
    if (status !== 429) return;
    if (probe) {
      this.planned += 1;
      return;
    }
    const demands: BucketDemand[] = this.policies.demandsFor(method, path);
    const now = this.now();
    const wait = retryAfterMs(retryAfter, now) ?? 1000;
    this.schedule.blockUntil(demands, now + wait + 1000);
    if (this.unplanned.length < 200)
      this.unplanned.push({ method, path, policies: demands.map((d) => d.policy), retryAfter, atMs: now });
    this.unplannedCount += 1;
  }

  /** The figures so far. */
  snapshot(): PacingSnapshot {
    const policies = figures(this.counts);
    return {
      enabled: true,
      plan: this.plan,
      requests: this.sent,
      refused: this.refusedCount,
      policies,
      minimumMs: Math.max(0, ...policies.map((p) => p.minimumMs)),
      spanMs: this.first === undefined || this.last === undefined ? 0 : this.last - this.first,
      waitedMs: this.waited,
      planned429: this.planned,
      unplanned429: this.unplannedCount,
      unplanned: [...this.unplanned],
      jwt: this.jwts ? { user: provenance(this.jwts.user), other: provenance(this.jwts.other) } : undefined,
    };
  }
}

function provenance(j: JwtProvenance): JwtProvenance {
  return { source: j.source, detail: j.detail };
}

/**
 * The plan: how `budget` requests fall on the policies, from the operations the run will address (each request is
 * charged to every policy of its operation), and the minimum wall time the limits allow for them. `weights` gives the
 * expected share of requests per operation key (default: the live sample's mix, see src/engine/global-setup.ts).
 */
export function planRun(
  policies: RequestPolicies,
  budget: number,
  margin: number,
  requests: readonly { method: string; path: string; share: number }[],
  basis: string,
): RunPlan {
  const total = requests.reduce((n, r) => n + r.share, 0) || 1;
  const counts = new Map<string, BucketCount>();
  for (const r of requests) {
    const n = (budget * r.share) / total;
    for (const d of policies.demandsFor(r.method, r.path)) {
      const c = counts.get(d.bucket) ?? { policy: d.policy, count: 0, windows: d.windows };
      c.count += n;
      counts.set(d.bucket, c);
    }
  }
  for (const c of counts.values()) c.count = Math.round(c.count);
  const lines = figures(counts);
  return { budget, margin, policies: lines, minimumMs: Math.max(0, ...lines.map((p) => p.minimumMs)), basis };
}

/** The plan from the previous run's actual figures, scaled to this run's budget (the mix is what repeats). */
export function planFromPrevious(
  lines: readonly PolicyFigures[],
  previousRequests: number,
  budget: number,
  margin: number,
): RunPlan {
  const scale = budget / previousRequests;
  const counts = new Map<string, BucketCount>(
    lines.map((l) => [
      l.bucket,
      {
        policy: l.policy,
        count: Math.round(l.requests * scale),
        windows: l.windows.map((w) => ({ limit: w.limit, ms: w.seconds * 1000 })),
      },
    ]),
  );
  const figuresNow = figures(counts);
  return {
    budget,
    margin,
    policies: figuresNow,
    minimumMs: Math.max(0, ...figuresNow.map((p) => p.minimumMs)),
    basis: `estimate: the previous run's mix (${previousRequests} requests) scaled to the budget`,
  };
}

/** Formats the plan for the console (one line per policy bucket). */
export function formatPlan(plan: RunPlan): string {
  const lines = plan.policies.map(
    (p) =>
      `  ${p.bucket.padEnd(58)} ${String(p.requests).padStart(6)} requests  ` +
      `${p.windows.map((w) => `${w.limit}/${w.seconds}s`).join(' + ')}  ≥ ${(p.minimumMs / 1000).toFixed(0)} s`,
  );
  return [
    `Live pacing plan: request budget ${plan.budget} ` +
      `(DYNAMIC_REQUEST_BUDGET), pacer at ${Math.round(plan.margin * 100)}` +
      ` % of each limit; ` +
      `minimum wall time the limits allow ≈ ${(plan.minimumMs / 1000).toFixed(0)} s (${plan.basis})`,
    ...lines,
  ].join('\n');
}

// ---- the service (runner process) -----------------------------------------------------------------------------

const SNAPSHOT = Symbol.for('dynamic-conformance.run-state');

/** The run state of this process (the runner), if globalSetup started one; the reporter reads it at the end. */
export function runStateSnapshot(): PacingSnapshot | undefined {
  const holder = (globalThis as Record<symbol, unknown>)[SNAPSHOT] as RunPacing | undefined;
  return holder?.snapshot();
}

/** The reporter tells the run state how many rule tests will send requests (the budget is shared among them). */
export function noteExpectedRules(count: number): void {
  const holder = (globalThis as Record<symbol, unknown>)[SNAPSHOT] as RunPacing | undefined;
  if (holder) holder.expectedRules = count;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const v = text ? (JSON.parse(text) as unknown) : {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('body must be a JSON object');
  return v as Record<string, unknown>;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** The loopback service around one RunPacing. Requests must carry the run's key (x-run-key). */
export class RunStateService {
  private server: Server | undefined;
  readonly key = randomBytes(18).toString('base64url');
  url = '';

  constructor(readonly pacing: RunPacing) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    (globalThis as Record<symbol, unknown>)[SNAPSHOT] = this.pacing;
    return this.url;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.headers['x-run-key'] !== this.key) return reply(res, 403, { error: 'wrong run key' });
      const route = `${req.method ?? ''} ${req.url ?? ''}`;
      if (route === 'POST /reserve') {
        const b = await readJson(req);
        return reply(res, 200, this.pacing.reserve(String(b.method), String(b.path), b.probe === true));
      }
      if (route === 'POST /outcome') {
        const b = await readJson(req);
        this.pacing.outcome(
          String(b.method),
          String(b.path),
          Number(b.status),
          typeof b.retryAfter === 'string' ? b.retryAfter : undefined,
          b.probe === true,
        );
        return reply(res, 200, {});
      }
      if (route === 'POST /rule') {
        const b = await readJson(req);
        return reply(res, 200, { allowance: this.pacing.startRule(String(b.rule)) });
      }
      if (route === 'GET /jwts') return reply(res, 200, this.pacing.jwts ?? {});
      if (route === 'GET /snapshot') return reply(res, 200, this.pacing.snapshot());
      return reply(res, 404, { error: 'no such route' });
    } catch (error) {
      return reply(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

// ---- the client (workers) -------------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A pacer in the same process as its RunPacing (globalSetup's own requests). */
export class LocalPacer implements Pacer {
  constructor(private readonly pacing: RunPacing) {}

  async acquire(method: string, path: string, probe: boolean): Promise<string | undefined> {
    const r = this.pacing.reserve(method, path, probe);
    if ('refused' in r) return r.refused;
    if (r.waitMs > 0) await sleep(r.waitMs);
    return undefined;
  }

  settle(method: string, path: string, status: number, retryAfter: string | undefined, probe: boolean): Promise<void> {
    this.pacing.outcome(method, path, status, retryAfter, probe);
    return Promise.resolve();
  }

  startRule(rule: string): Promise<number> {
    return Promise.resolve(this.pacing.startRule(rule));
  }
}

/** A worker's pacer: asks the run's service (DYNAMIC_RUN_STATE_URL, set by globalSetup) over loopback. */
export class RemotePacer implements Pacer {
  private readonly pool: Undici.Pool;

  constructor(
    url: string,
    private readonly key: string,
  ) {
    // undici is loaded here, by a live run's workers, not by every process that imports this module (the reporter).
    const { Pool: UndiciPool } = createRequire(import.meta.url)('undici') as typeof Undici;
    this.pool = new UndiciPool(url, { connections: 4 });
  }

  /** Parses `http://127.0.0.1:port#key` (the form globalSetup hands to workers). */
  static fromLocator(locator: string): RemotePacer {
    const [url, key] = locator.split('#');
    if (!url || !key || !/^http:\/\/127\.0\.0\.1:\d+$/.test(url))
      throw new Error('the run-state locator must be http://127.0.0.1:<port>#<key>');
    return new RemotePacer(url, key);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.pool.request({
      method,
      path,
      headers: { 'x-run-key': this.key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`run-state service ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  async acquire(method: string, path: string, probe: boolean): Promise<string | undefined> {
    const r = await this.call<{ waitMs?: number; refused?: string }>('POST', '/reserve', { method, path, probe });
    if (r.refused) return r.refused;
    if (r.waitMs && r.waitMs > 0) await sleep(r.waitMs);
    return undefined;
  }

  async settle(
    method: string,
    path: string,
    status: number,
    retryAfter: string | undefined,
    probe: boolean,
  ): Promise<void> {
    if (status !== 429) return;
    await this.call('POST', '/outcome', { method, path, status, retryAfter, probe });
  }

  /** A rule starts: its share of the run's remaining request budget. */
  async startRule(rule: string): Promise<number> {
    return (await this.call<{ allowance: number }>('POST', '/rule', { rule })).allowance;
  }

  /** The run's JWTs (obtained once by globalSetup). */
  jwts(): Promise<Partial<RunJwts>> {
    return this.call('GET', '/jwts');
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
