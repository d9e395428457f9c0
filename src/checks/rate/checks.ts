/**
 * Rate-limit rules (specs/rules/rate.json).
 *
 * On the mock every number is exact: checks reset the rate-limit project's own mock, move its clock instead of
 * waiting, choose source addresses explicitly (127.50.x.y) and send every rate request with `on429: 'return'`.
 * Each enforced policy of the active docs profile is probed once per run (a shared probe: fill the window, provoke
 * the 429, then step the clock across Retry-After and the window edge); RATE-001..006, 008, 009 and 011 judge what
 * that probe saw, so the big policies (10,000/min per environment, 3,000 and 1,500/min admin) are filled once, not
 * once per rule. Policies without numbers are skipped with the profile's reason.
 *
 * On the live target only the budgeted, sandbox-only, serial probe of the nonce endpoint runs (src/checks/rate/budget.ts),
 * behind the gate of src/secrets/safety.ts; everything else is skipped with its reason.
 */
import { createHash, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bearer, headerValue, type HeaderValue, type HttpClient, type HttpRequest, type HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation, RatePolicy, RateWindow } from '../../engine/spec.js';
import { mapLimit } from '../../engine/runner.js';
import { redact } from '../../secrets/redact.js';
import { burstRefused, requireBurst } from '../../secrets/safety.js';
import { RateLimitModel, type ModelPolicy, type ModelRequest, type Verdict } from './model.js';
import { describeCommand, rateCommands, type RateCommand } from '../../arbitraries/rateCommands.js';
import { RateBudget, judgeThreshold, parseRetryAfter, probeBurst, probeRecovery, type ProbeIo, type ProbePlan, type ProbeResult } from './budget.js';
import type { Check, CheckContext } from '../../engine/types.js';

// ---------------------------------------------------------------------------------------------------------------
// Policies and their representative operations
// ---------------------------------------------------------------------------------------------------------------

/** Requests in flight while filling a window on the mock. */
const FILL_CONCURRENCY = 48;

/** The operation each policy is probed through (cheap, valid request, no other tight policy); others by score. */
const REPRESENTATIVE: Readonly<Record<string, string>> = {
  nonce: 'GET /sdk/{environmentId}/nonce',
  connect: 'POST /sdk/{environmentId}/connect',
  signin: 'POST /sdk/{environmentId}/verify',
  otp: 'POST /sdk/{environmentId}/emailVerifications/create',
  'sdk-ip': 'GET /sdk/{environmentId}/healthcheck',
  'sdk-environment': 'GET /sdk/{environmentId}/healthcheck',
  'admin-ip': 'GET /eventTypes',
  'admin-environment': 'GET /environments/{environmentId}/allowlists',
  'bulk-users': 'POST /environments/{environmentId}/users/bulk',
  'embedded-wallets': 'POST /environments/{environmentId}/embeddedWallets',
  invites: 'POST /organizations/{organizationId}/invites',
};

/** An enforced policy of the active profile and the operation it is probed through. */
interface Target {
  id: string;
  policy: RatePolicy;
  windows: readonly RateWindow[];
  op: Operation;
  /** e.g. 'policy nonce (10/60s per ip)'. */
  label: string;
  /** The window that binds first from a cold key when no time passes (smallest limit). */
  binding: RateWindow;
  ipKeyed: boolean;
}

function policyLabel(id: string, p: RatePolicy): string {
  const numbers = p.windows ? p.windows.map((w) => `${w.limit}/${w.seconds}s`).join(', ') : 'no numbers';
  return `policy ${id} (${numbers} per ${p.key.join('+')})`;
}

function authRank(op: Operation): number {
  return op.auth === 'none' ? 0 : op.auth === 'api-token' ? 1 : 2;
}

function representative(ctx: CheckContext, id: string): Operation | undefined {
  const preferred = REPRESENTATIVE[id] ? ctx.spec.byKey.get(REPRESENTATIVE[id]) : undefined;
  if (preferred?.policies.includes(id)) return preferred;
  const candidates = ctx.spec.operations.filter((o) => o.policies.includes(id) && !o.path.includes('{walletId}'));
  const pathParams = (o: Operation): number => o.parameters.filter((p) => p.in === 'path').length;
  return candidates.sort((a, b) => a.policies.length - b.policies.length || authRank(a) - authRank(b) || Number(b.method === 'GET') - Number(a.method === 'GET') || pathParams(a) - pathParams(b))[0];
}

/** The policies a rule applies to (appliesTo.policies; '*' or absent = all of the profile). */
function rulePolicies(ctx: CheckContext): string[] {
  const all = Object.keys(ctx.spec.profile.rateLimits);
  const wanted = ctx.rule.appliesTo.policies;
  return !wanted || wanted.includes('*') ? all : all.filter((id) => wanted.includes(id));
}

/** Enforced policies of the profile with their operation; unenforced ones (windows null) are described in `skipped`. */
function policyTargets(ctx: CheckContext, ids: readonly string[] = Object.keys(ctx.spec.profile.rateLimits)): { targets: Target[]; skipped: { label: string; reason: string }[] } {
  const targets: Target[] = [];
  const skipped: { label: string; reason: string }[] = [];
  for (const id of ids) {
    const policy = ctx.spec.profile.rateLimits[id];
    if (!policy) continue;
    const label = policyLabel(id, policy);
    if (!policy.windows || policy.windows.length === 0) {
      skipped.push({ label, reason: `${ctx.spec.profile.id} documents no numbers: ${policy.unenforcedReason ?? 'windows: null'}` });
      continue;
    }
    const op = representative(ctx, id);
    if (!op) {
      skipped.push({ label, reason: 'no operation of the spec carries this policy (x-dynamic-rate-limit)' });
      continue;
    }
    const binding = [...policy.windows].sort((a, b) => a.limit - b.limit || b.seconds - a.seconds)[0]!;
    targets.push({ id, policy, windows: policy.windows, op, label, binding, ipKeyed: policy.key.includes('ip') });
  }
  return { targets, skipped };
}

/** Records the skips of unenforced policies and notes carried-over ones; returns the enforced targets. */
function enforcedTargets(ctx: CheckContext, ids: readonly string[] = rulePolicies(ctx)): Target[] {
  const { targets, skipped } = policyTargets(ctx, ids);
  for (const s of skipped) ctx.skip(s.label, s.reason);
  const carried = targets.filter((t) => t.policy.carriedFrom);
  if (carried.length) ctx.log(`${ctx.spec.profile.id} is silent on ${carried.map((t) => t.id).join(', ')}: numbers carried from ${[...new Set(carried.map((t) => t.policy.carriedFrom))].join(', ')}`);
  return targets;
}

/** The profile's policies as the reference model sees them. */
function modelPolicies(ctx: CheckContext): Record<string, ModelPolicy> {
  const out: Record<string, ModelPolicy> = {};
  for (const [id, p] of Object.entries(ctx.spec.profile.rateLimits)) out[id] = { key: p.key, windows: p.windows };
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

/** Source address i of a rate scenario (127.50.x.y), or undefined when the target is not a loopback mock. */
type Addresses = ((i: number) => string) | undefined;

function addresses(ctx: CheckContext): Addresses {
  if (ctx.sourceAddress() === undefined) return undefined;
  return (i) => `127.50.${Math.floor(i / 250) % 250}.${(i % 250) + 2}`;
}

const NO_ADDRESSES = 'distinct source addresses need the mock on 127.0.0.1 (loopback aliases 127.50.x.y)';

interface Send {
  ip?: string | undefined;
  env?: 'main' | 'other';
  credential?: 'valid' | 'invalid';
  headers?: [string, HeaderValue][];
  body?: unknown;
}

/** A request for `op` with valid credentials (or a deliberately invalid one), returning 429s to the caller. */
function rateRequest(ctx: CheckContext, op: Operation, s: Send = {}): HttpRequest | { skip: string } {
  const c = ctx.credentials;
  const other = s.env === 'other';
  if (other && !op.path.includes('{environmentId}')) return { skip: `${op.key} has no {environmentId}` };
  if (other && !c.otherEnvironmentId) return { skip: `no second environment: ${c.missing.otherEnvironmentId ?? 'not available'}` };
  let authorization: HeaderValue | undefined;
  if (s.credential === 'invalid') authorization = 'Bearer rate-limit-check-invalid-credential';
  else if (op.auth === 'api-token') {
    const token = other ? c.otherEnvironmentToken : c.apiToken;
    if (!token) return { skip: `no API token of the other environment: ${c.missing.otherEnvironmentToken ?? 'not available'}` };
    authorization = bearer(token);
  } else if (op.auth === 'user-jwt') {
    const jwt = other ? c.otherEnvironmentJwt : c.userJwt;
    if (!jwt) return { skip: `no user JWT: ${(other ? c.missing.otherEnvironmentJwt : c.missing.userJwt) ?? 'not available'}` };
    authorization = bearer(jwt);
  }
  const options: RequestOptions = { authorization, headers: s.headers, localAddress: s.ip, on429: 'return' };
  if (s.body !== undefined) options.body = s.body;
  if (other && c.otherEnvironmentId) options.pathParams = { environmentId: c.otherEnvironmentId };
  return ctx.requests.build(op, options);
}

function isRequest(r: HttpRequest | { skip: string }): r is HttpRequest {
  return !('skip' in r);
}

/** A request that must be buildable (valid credentials for the main environment always exist). */
function mustRequest(ctx: CheckContext, op: Operation, s: Send = {}): HttpRequest {
  const r = rateRequest(ctx, op, s);
  if (!isRequest(r)) throw new Error(`cannot build a request for ${op.key}: ${r.skip}`);
  return r;
}

const limited = (res: HttpResponse): boolean => res.status === 429;
const admitted = (res: HttpResponse): boolean => res.status !== 429 && res.status !== 0;

function statusOf(res: HttpResponse | undefined): string {
  if (!res) return 'nothing';
  return res.status === 0 ? `no response (${res.exchange.error ?? 'transport error'})` : String(res.status);
}

function histogram(responses: readonly HttpResponse[]): string {
  const counts = new Map<number, number>();
  for (const r of responses) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${n}×${s}`).join(', ');
}

function modelRequest(ctx: CheckContext, op: Operation, ip: string, env: 'main' | 'other' = 'main'): ModelRequest {
  const environment = op.path.includes('{environmentId}') ? (env === 'other' ? ctx.credentials.otherEnvironmentId : ctx.credentials.environmentId) : undefined;
  return { policies: op.policies, ip, environment };
}

/** The mock clock and the model clock, moved together. */
async function advance(ctx: CheckContext, model: RateLimitModel, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  await ctx.mock!.advanceClock(seconds);
  model.advance(seconds);
}

/** Smallest window limit among the op's ip-keyed policies other than `except` (how many one address may send). */
function perAddressQuota(ctx: CheckContext, op: Operation, except: string): number {
  let quota = Number.POSITIVE_INFINITY;
  for (const id of op.policies) {
    const p = ctx.spec.profile.rateLimits[id];
    if (id === except || !p?.windows || !p.key.includes('ip')) continue;
    for (const w of p.windows) quota = Math.min(quota, w.limit);
  }
  return quota;
}

// ---------------------------------------------------------------------------------------------------------------
// The shared probe of one policy on the mock
// ---------------------------------------------------------------------------------------------------------------

interface TimelineStep {
  /** Seconds after the window started (the first request of the fill). */
  at: number;
  res: HttpResponse;
}

/** What the probe of one policy saw. */
interface Probe {
  target: Target;
  /** Global per-IP policies: the per-endpoint policy whose operation sent the first requests of the fill (RATE-010). */
  lead: { target: Target; count: number } | undefined;
  /** Why the probe could not run. */
  skipped?: string;
  n: number;
  /** Seconds the clock moved in the middle of the fill (so Retry-After ≠ window length). */
  offset: number;
  /** The end of the refusing window(s), seconds after the window started (model). */
  edge: number;
  /** The longest refusing window, seconds (the bound of Retry-After). */
  refusingSeconds: number;
  fill: HttpResponse[];
  /** Requests N+1, N+2… until the first 429 (at most 6, or the lead's count + 2). */
  over: HttpResponse[];
  first429: HttpResponse | undefined;
  /** Retry-After the model predicts for the first 429. */
  expectedRetryAfter: number | undefined;
  /** Fresh spoofed X-Forwarded-For from the exhausted address (ip-keyed policies). */
  spoofed: HttpResponse[];
  otherAddress: HttpResponse | undefined;
  otherEnvironment: HttpResponse | string | undefined;
  /** Per-endpoint policies: one request to every other per-endpoint policy from the exhausted address (RATE-010). */
  neighbours: { target: Target; res: HttpResponse }[];
  timeline: TimelineStep[];
  /** Every 429 the probe received. */
  all429: HttpResponse[];
}

function spoofedAddress(): string {
  return `198.51.100.${randomInt(1, 255)}`;
}

function emptyProbe(target: Target): Probe {
  return { target, lead: undefined, n: target.binding.limit, offset: 0, edge: target.binding.seconds, refusingSeconds: target.binding.seconds, fill: [], over: [], first429: undefined, expectedRetryAfter: undefined, spoofed: [], otherAddress: undefined, otherEnvironment: undefined, neighbours: [], timeline: [], all429: [] };
}

/**
 * Probes one policy: fill its window from a cold key (half, then the clock moves a quarter window, then the rest),
 * request N+1, then — while the window is full — spoofed X-Forwarded-For, another address, another environment,
 * and (per-endpoint policies) one request to every other per-endpoint policy from the exhausted address;
 * finally one request at each of: one second before and at the window edge, one second before and at Retry-After.
 * A global per-IP policy (e.g. sdk-ip) is filled starting with requests to a per-endpoint policy's operation
 * (e.g. nonce), so its threshold also proves that those requests count toward it (RATE-010).
 */
async function probePolicy(ctx: CheckContext, target: Target, all: readonly Target[], addr: NonNullable<Addresses>): Promise<Probe> {
  const { op, binding, id } = target;
  const model = new RateLimitModel(modelPolicies(ctx));
  const probe = emptyProbe(target);
  const first = rateRequest(ctx, op, {});
  if (!isRequest(first)) return { ...probe, skipped: first.skip };
  await ctx.mock!.reset();
  const n = binding.limit;
  // The exhausted address: for ip-keyed policies every request comes from it; else it is a fresh address.
  const p = addr(0);
  const quota = target.ipKeyed ? n : perAddressQuota(ctx, op, id);
  const spread = Math.ceil(n / Math.min(n, quota));
  const fillAddress = (i: number): string => (target.ipKeyed ? p : addr(10 + (i % spread)));
  const { endpoint, global } = endpointPolicies(ctx, all);
  const lead = global.some((g) => g.id === id) ? endpoint.filter((e) => e.op.surface === op.surface && e.op.policies.includes(id)).sort((a, b) => a.binding.limit - b.binding.limit)[0] : undefined;
  if (lead) probe.lead = { target: lead, count: Math.min(lead.binding.limit, Math.floor(n / 2)) };
  const leadCount = probe.lead?.count ?? 0;
  const fillOp = (i: number): Operation => (lead && i < leadCount ? lead.op : op);
  const offset = binding.seconds >= 4 ? Math.floor(binding.seconds / 4) : 0;
  probe.offset = offset;
  const half = Math.floor(n / 2);
  const fillRange = async (from: number, to: number): Promise<void> => {
    const indices = Array.from({ length: to - from }, (_, k) => from + k);
    for (const i of indices) if (model.send(modelRequest(ctx, fillOp(i), fillAddress(i))).limited) throw new Error(`probe design: the model limits fill request ${i + 1} of ${target.label}`);
    probe.fill.push(...(await mapLimit(indices, FILL_CONCURRENCY, (i) => ctx.client.send(mustRequest(ctx, fillOp(i), { ip: fillAddress(i) })))));
  };
  await fillRange(0, half);
  await advance(ctx, model, offset);
  await fillRange(half, n);
  // Request N+1 (and a few more when N+1 was admitted, so the other rules still see this policy's 429).
  for (let extra = 0; extra < Math.max(6, leadCount + 2); extra++) {
    const verdict = model.predict(modelRequest(ctx, op, p));
    if (extra === 0 && verdict.limited) {
      probe.expectedRetryAfter = verdict.retryAfter;
      probe.edge = Math.max(...verdict.refusedBy.map((w) => w.end));
      probe.refusingSeconds = Math.max(...verdict.refusedBy.map((w) => w.window.seconds));
    }
    const res = await ctx.client.send(mustRequest(ctx, op, { ip: p }));
    probe.over.push(res);
    if (limited(res)) {
      probe.first429 = res;
      break;
    }
    if (res.status === 0) break;
  }
  if (target.ipKeyed) {
    for (let i = 0; i < 2; i++) probe.spoofed.push(await ctx.client.send(mustRequest(ctx, op, { ip: p, headers: [['x-forwarded-for', spoofedAddress()]] })));
    probe.otherAddress = await ctx.client.send(mustRequest(ctx, op, { ip: addr(1) }));
  }
  if (probe.first429 && endpoint.some((e) => e.id === id)) {
    for (const b of endpoint) if (b.id !== id) probe.neighbours.push({ target: b, res: await ctx.client.send(mustRequest(ctx, b.op, { ip: p })) });
  }
  if (target.policy.key.includes('environment')) {
    const other = rateRequest(ctx, op, { ip: addr(2), env: 'other' });
    probe.otherEnvironment = isRequest(other) ? await ctx.client.send(other) : other.skip;
  }
  // Step the clock across the window edge and across Retry-After (seconds after the window started).
  const retryAfter = probe.first429 ? parseRetryAfter(headerValue(probe.first429.headers['retry-after']))?.seconds : undefined;
  const points = new Set<number>([probe.edge - 1, probe.edge]);
  if (retryAfter !== undefined && retryAfter <= 10 * probe.refusingSeconds) for (const d of [retryAfter - 1, retryAfter]) points.add(offset + d);
  for (const at of [...points].filter((x) => x >= offset).sort((a, b) => a - b)) {
    await advance(ctx, model, at - model.now);
    probe.timeline.push({ at, res: await ctx.client.send(mustRequest(ctx, op, { ip: p })) });
  }
  probe.all429 = [...probe.over, ...probe.spoofed, ...probe.timeline.map((s) => s.res)].filter(limited);
  return probe;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-run store: Playwright replaces a worker after a failed test; what the probes saw must survive that (the mock
// probes are 15,000 requests; the live probe must not cool down and burst again). One run = one runner process, so
// the key includes the workers' parent pid. Only statuses, four headers and 429 bodies (redacted) are written.
// ---------------------------------------------------------------------------------------------------------------

interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const STORED_HEADERS = ['retry-after', 'cache-control', 'date', 'content-type'];
const STORE_DIR = join(tmpdir(), 'dynamic-conformance-rate');

/** The run: the runner process (the workers' parent) and, on Linux, its start time (pids are reused). */
function runId(): string {
  let started = '';
  try {
    started = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19] ?? '';
  } catch {
    started = '';
  }
  return `${process.ppid}@${started}`;
}

function storePath(kind: string, key: string): string {
  return join(STORE_DIR, `${kind}-${createHash('sha256').update(`${runId()} ${key}`).digest('hex').slice(0, 20)}.json`);
}

function loadRun<T>(kind: string, key: string): T | undefined {
  try {
    return JSON.parse(readFileSync(storePath(kind, key), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function saveRun(kind: string, key: string, value: unknown): void {
  try {
    mkdirSync(STORE_DIR, { recursive: true });
    for (const f of readdirSync(STORE_DIR)) {
      const file = join(STORE_DIR, f);
      if (Date.now() - statSync(file).mtimeMs > 6 * 3600_000) unlinkSync(file);
    }
    writeFileSync(storePath(kind, key), JSON.stringify(value));
  } catch {
    // A store that cannot be written only costs a repeated probe after a worker restart.
  }
}

function stored(res: HttpResponse): StoredResponse {
  const keep = !admitted(res);
  const headers: Record<string, string> = {};
  if (keep) {
    for (const h of STORED_HEADERS) {
      const v = headerValue(res.headers[h]);
      if (v !== undefined) headers[h] = redact(v);
    }
  }
  return { status: res.status, headers, text: keep ? redact(res.text.slice(0, 2000)) : '' };
}

function restored(s: StoredResponse): HttpResponse {
  let json: unknown;
  try {
    json = s.text ? JSON.parse(s.text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: s.status, headers: s.headers, text: s.text, json, exchange: { seq: -1, request: { method: '', url: '(recorded by an earlier worker of this run)', headers: [] }, ms: 0, curl: '' } };
}

interface StoredProbe {
  id: string;
  skipped?: string;
  lead?: { id: string; count: number };
  n: number;
  offset: number;
  edge: number;
  refusingSeconds: number;
  expectedRetryAfter?: number;
  fill: StoredResponse[];
  over: StoredResponse[];
  spoofed: StoredResponse[];
  otherAddress?: StoredResponse;
  otherEnvironment?: StoredResponse | string;
  neighbours: { id: string; res: StoredResponse }[];
  timeline: { at: number; res: StoredResponse }[];
}

function storeProbe(p: Probe): StoredProbe {
  return {
    id: p.target.id,
    ...(p.skipped !== undefined ? { skipped: p.skipped } : {}),
    ...(p.lead ? { lead: { id: p.lead.target.id, count: p.lead.count } } : {}),
    n: p.n, offset: p.offset, edge: p.edge, refusingSeconds: p.refusingSeconds,
    ...(p.expectedRetryAfter !== undefined ? { expectedRetryAfter: p.expectedRetryAfter } : {}),
    fill: p.fill.map(stored), over: p.over.map(stored), spoofed: p.spoofed.map(stored),
    ...(p.otherAddress ? { otherAddress: stored(p.otherAddress) } : {}),
    ...(p.otherEnvironment !== undefined ? { otherEnvironment: typeof p.otherEnvironment === 'string' ? p.otherEnvironment : stored(p.otherEnvironment) } : {}),
    neighbours: p.neighbours.map((x) => ({ id: x.target.id, res: stored(x.res) })),
    timeline: p.timeline.map((x) => ({ at: x.at, res: stored(x.res) })),
  };
}

function restoreProbe(s: StoredProbe, targets: readonly Target[]): Probe | undefined {
  const byId = (id: string): Target | undefined => targets.find((t) => t.id === id);
  const target = byId(s.id);
  if (!target) return undefined;
  const lead = s.lead ? byId(s.lead.id) : undefined;
  const over = s.over.map(restored);
  const spoofed = s.spoofed.map(restored);
  const timeline = s.timeline.map((x) => ({ at: x.at, res: restored(x.res) }));
  const probe: Probe = {
    ...emptyProbe(target),
    lead: lead && s.lead ? { target: lead, count: s.lead.count } : undefined,
    n: s.n, offset: s.offset, edge: s.edge, refusingSeconds: s.refusingSeconds, expectedRetryAfter: s.expectedRetryAfter,
    fill: s.fill.map(restored), over, first429: over.find(limited), spoofed,
    otherAddress: s.otherAddress ? restored(s.otherAddress) : undefined,
    otherEnvironment: s.otherEnvironment === undefined || typeof s.otherEnvironment === 'string' ? s.otherEnvironment : restored(s.otherEnvironment),
    neighbours: s.neighbours.flatMap((x) => {
      const t = byId(x.id);
      return t ? [{ target: t, res: restored(x.res) }] : [];
    }),
    timeline,
  };
  probe.all429 = [...over, ...spoofed, ...timeline.map((x) => x.res)].filter(limited);
  return s.skipped !== undefined ? { ...probe, skipped: s.skipped } : probe;
}

const probeCache = new WeakMap<HttpClient, Map<string, Promise<Probe[]>>>();

/**
 * The probes of every enforced policy, run once per run, mock and fault set (RATE-001 usually pays for them; a rule
 * run alone with -g runs them itself; a worker that replaced a failed one reads them from the per-run store).
 */
async function policyProbes(ctx: CheckContext): Promise<Probe[]> {
  const seed = await ctx.mock!.seed();
  const key = `${ctx.config.apiUrl} ${ctx.spec.profile.id} ${seed.faults.join(',')}`;
  let cache = probeCache.get(ctx.client);
  if (!cache) probeCache.set(ctx.client, (cache = new Map<string, Promise<Probe[]>>()));
  let pending = cache.get(key);
  if (!pending) {
    const addr = addresses(ctx);
    const { targets } = policyTargets(ctx);
    pending = (async () => {
      const saved = loadRun<StoredProbe[]>('probes', key)?.map((x) => restoreProbe(x, targets));
      if (saved && saved.length === targets.length && saved.every((x) => x !== undefined)) {
        ctx.log(`probes of ${saved.length} policies read from this run's store (recorded by an earlier worker)`);
        return saved;
      }
      const out: Probe[] = [];
      for (const t of targets) {
        if (!addr && !t.ipKeyed) {
          out.push({ ...emptyProbe(t), skipped: NO_ADDRESSES });
          continue;
        }
        const started = performance.now();
        const sentBefore = ctx.client.requestsSent;
        out.push(await probePolicy(ctx, t, targets, addr ?? (() => '127.0.0.1')));
        ctx.log(`probe ${t.label} via ${t.op.key}: ${ctx.client.requestsSent - sentBefore} requests, ${Math.round(performance.now() - started)} ms`);
      }
      saveRun('probes', key, out.map(storeProbe));
      return out;
    })();
    cache.set(key, pending);
    // A failed probe run must not poison later checks.
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

/** Runs `judge` on the probe of every enforced policy the rule applies to; records skips of the others. */
async function judgeProbes(ctx: CheckContext, judge: (probe: Probe) => void, only: (t: Target) => boolean = () => true): Promise<void> {
  if (ctx.config.target === 'live') return judgeLive(ctx);
  if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off); exact rate-limit checks need its clock');
  const wanted = new Set(enforcedTargets(ctx).filter(only).map((t) => t.id));
  if (wanted.size === 0) return ctx.skip('(rule)', `no enforced policy of ${ctx.spec.profile.id} to which this rule applies`);
  for (const probe of await policyProbes(ctx)) {
    if (!wanted.has(probe.target.id)) continue;
    if (probe.skipped) ctx.skip(probe.target.label, probe.skipped);
    else judge(probe);
  }
}

/**
 * Probes that never saw a 429 cannot judge the 429's properties; with `exact`, a probe whose fill was refused early
 * (another policy or a lower limit bound first) cannot judge this policy's window, edge or bucket key either.
 */
function without429(ctx: CheckContext, probe: Probe, exact = false): boolean {
  if (exact && probe.fill.some((r) => !admitted(r))) {
    ctx.inconclusive(probe.target.label, `the window was not filled as documented (first ${probe.n}: ${histogram(probe.fill)}), so this policy's own 429 was not isolated; see RATE-001`, probe.fill.find((r) => !admitted(r)));
    return true;
  }
  if (probe.first429) return false;
  ctx.inconclusive(probe.target.label, `no 429 was provoked (request N+1 = ${probe.n + 1} and ${probe.over.length - 1} more answered ${histogram(probe.over)}); see RATE-001`, probe.over.at(-1));
  return true;
}

function retryAfterHeader(res: HttpResponse): string | undefined {
  return headerValue(res.headers['retry-after']);
}

// ---------------------------------------------------------------------------------------------------------------
// RATE-001 … RATE-006: thresholds and the 429 contract, per policy
// ---------------------------------------------------------------------------------------------------------------

/** RATE-001 (docs overview/rate-limits and platform/rate-limits): from a cold key exactly N requests pass and request N+1 gets 429. */
export const exactThreshold: Check = {
  rule: 'RATE-001',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      const { target, n, fill } = probe;
      const passed = fill.filter(admitted).length;
      ctx.log(`${target.label} via ${target.op.key}: first ${n} answered ${histogram(fill)}; request ${n + 1} answered ${statusOf(probe.over[0])}`);
      if (passed !== n) {
        const refused = fill.filter((r) => !admitted(r));
        ctx.fail(target.label, `only ${passed} of the first ${n} requests from a cold key were admitted (${histogram(fill)}); the documented limit is ${n} per ${target.binding.seconds}s`, refused.slice(0, 3));
        return;
      }
      const over = probe.over[0];
      if (over && limited(over)) ctx.pass(target.label, over);
      else {
        const at = probe.first429 ? `the first 429 came at request ${n + probe.over.length}` : `no 429 up to request ${n + probe.over.length}`;
        ctx.fail(target.label, `request ${n + 1} was answered ${statusOf(over)} instead of 429 (${at}); the documented limit is ${n} per ${target.binding.seconds}s`, probe.over);
      }
    }),
};

/** RATE-002 (platform/rate-limits {error}; overview/rate-limits {message, code}): every 429 body matches the active profile. */
export const tooManyRequestsBody: Check = {
  rule: 'RATE-002',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe)) return;
      const schema = ctx.spec.profile.tooManyRequests.schema;
      const bad = probe.all429.map((res) => ({ res, v: ctx.schemas.validate(schema, res.json) })).filter((x) => res429NotJson(x.res) || !x.v.valid);
      if (bad.length === 0) return ctx.pass(probe.target.label, probe.first429);
      const first = bad[0]!;
      ctx.fail(probe.target.label, `${bad.length} of ${probe.all429.length} 429 bodies do not match ${schema.split('/').pop() ?? schema} (${ctx.spec.profile.id}): ${res429NotJson(first.res) ? 'not JSON' : first.v.errors.join('; ')}; body ${first.res.text.slice(0, 120)}`, bad.map((x) => x.res).slice(0, 3));
    }),
};

function res429NotJson(res: HttpResponse): boolean {
  return res.json === undefined;
}

/** Why a Retry-After value is not acceptable (undefined when it is), bounded by the refusing window. */
function retryAfterProblem(ctx: CheckContext, res: HttpResponse, windowSeconds: number): string | undefined {
  const raw = retryAfterHeader(res);
  if (raw === undefined) return ctx.spec.profile.retryAfter.required ? `no Retry-After header (${ctx.spec.profile.id} documents one: ${ctx.spec.profile.retryAfter.source})` : undefined;
  const parsed = parseRetryAfter(raw, headerValue(res.headers.date));
  if (!parsed) return `Retry-After '${raw.slice(0, 40)}' is neither delay-seconds (1*DIGIT) nor an HTTP-date`;
  if (parsed.seconds > windowSeconds) return `Retry-After ${raw} (${parsed.seconds} s) exceeds the refusing window of ${windowSeconds} s`;
  if (ctx.config.target === 'mock' && parsed.seconds < 1) return `Retry-After ${raw} is below the mock contract's minimum of 1 s`;
  return undefined;
}

/** RATE-003 (platform/rate-limits; RFC 9110 10.2.3): a 429 carries Retry-After as delay-seconds or HTTP-date, within the window. */
export const retryAfterWellFormed: Check = {
  rule: 'RATE-003',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe)) return;
      const problems = probe.all429.map((res) => ({ res, problem: retryAfterProblem(ctx, res, probe.refusingSeconds) })).filter((x) => x.problem !== undefined);
      if (problems.length === 0) {
        const raw = retryAfterHeader(probe.first429!);
        if (raw === undefined) ctx.log(`${probe.target.label}: no Retry-After (not required by ${ctx.spec.profile.id})`);
        return ctx.pass(probe.target.label, probe.first429);
      }
      ctx.fail(probe.target.label, `${problems.length} of ${probe.all429.length} 429s: ${problems[0]!.problem!}`, problems.map((x) => x.res).slice(0, 3));
    }),
};

/** RATE-004 (RFC 9110 10.2.3): one second before Retry-After elapses the request is still refused; when it has elapsed, it passes. */
export const retryAfterAccurate: Check = {
  rule: 'RATE-004',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe, true)) return;
      const raw = retryAfterHeader(probe.first429!);
      const ra = parseRetryAfter(raw)?.seconds;
      if (ra === undefined) return ctx.inconclusive(probe.target.label, `no usable Retry-After on the 429 (${raw === undefined ? 'absent' : `'${raw.slice(0, 40)}'`}); see RATE-003`, probe.first429);
      if (ra > 10 * probe.refusingSeconds) return ctx.fail(probe.target.label, `Retry-After ${ra} s is far beyond the ${probe.refusingSeconds} s window; not followed`, probe.first429);
      const before = probe.timeline.find((s) => s.at === probe.offset + ra - 1);
      const after = probe.timeline.find((s) => s.at === probe.offset + ra);
      const expected = probe.expectedRetryAfter === undefined ? '' : ` (the window ends in ${probe.expectedRetryAfter} s)`;
      if (before && !limited(before.res)) return ctx.fail(probe.target.label, `Retry-After was ${ra} s${expected}, but after ${ra - 1} s the request was already answered ${statusOf(before.res)}`, [probe.first429!, before.res]);
      if (!after || !admitted(after.res)) return ctx.fail(probe.target.label, `Retry-After was ${ra} s${expected}, but after waiting ${ra} s the request was still answered ${statusOf(after?.res)}`, after ? [probe.first429!, after.res] : probe.first429);
      ctx.pass(probe.target.label, after.res);
    }),
};

/** RATE-005 (RFC 6585 4): a 429 is not cacheable — Cache-Control: no-store on every 429. */
export const tooManyRequestsNotCacheable: Check = {
  rule: 'RATE-005',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe)) return;
      const bad = probe.all429.filter((res) => cacheProblem(ctx, res) !== undefined);
      if (bad.length === 0) return ctx.pass(probe.target.label, probe.first429);
      ctx.fail(probe.target.label, `${bad.length} of ${probe.all429.length} 429s: ${cacheProblem(ctx, bad[0]!)!}`, bad.slice(0, 3));
    }),
};

/** Mock: Cache-Control must contain no-store. Live: the 429 must not be made storable (public, max-age/s-maxage > 0). */
function cacheProblem(ctx: CheckContext, res: HttpResponse): string | undefined {
  const raw = res.headers['cache-control'];
  const value = (Array.isArray(raw) ? raw.join(', ') : raw ?? '').toLowerCase();
  const directives = value.split(',').map((d) => d.trim());
  if (ctx.config.target === 'mock') return directives.includes('no-store') ? undefined : `Cache-Control is '${value || '(absent)'}', not no-store`;
  const storable = directives.some((d) => d === 'public' || /^(s-)?max-age=([1-9]\d*)$/.test(d));
  return storable ? `Cache-Control '${value}' lets caches store the 429` : undefined;
}

/** RATE-006 (docs rate-limit pages: per minute / per 10 s): the window has the documented length — capacity returns at its edge, not a second before. */
export const windowLength: Check = {
  rule: 'RATE-006',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe, true)) return;
      const before = probe.timeline.find((s) => s.at === probe.edge - 1);
      const at = probe.timeline.find((s) => s.at === probe.edge);
      const w = `the window started at the first request (t=0) and is documented as ${probe.refusingSeconds} s`;
      if (before && !limited(before.res)) return ctx.fail(probe.target.label, `${w}, but at t=${probe.edge - 1} s the request was answered ${statusOf(before.res)} (capacity returned early)`, before.res);
      if (!at || !admitted(at.res)) return ctx.fail(probe.target.label, `${w}, but at t=${probe.edge} s the request was still answered ${statusOf(at?.res)} (the window is longer than documented)`, at?.res);
      ctx.pass(probe.target.label, at.res);
    }),
};

// ---------------------------------------------------------------------------------------------------------------
// RATE-007: multi-window policies
// ---------------------------------------------------------------------------------------------------------------

/**
 * RATE-007 (platform/rate-limits: 60 per 10 s, 250 per minute, 500 per 5 minutes, whichever is hit first): each
 * window of a multi-window policy binds at its own count. To reach a longer window's limit the check spreads requests
 * over the shorter windows, keeping each one below its own limit, so the 429 can only come from the window under test.
 */
export const multiWindow: Check = {
  rule: 'RATE-007',
  async run(ctx) {
    if (ctx.config.target === 'live') return ctx.skip('(rule)', 'multi-window counts (500+ requests) are asserted on the mock only (RL-15: never burst the /sdk per-IP limit live)');
    if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off)');
    const targets = enforcedTargets(ctx).filter((t) => t.windows.length > 1);
    if (targets.length === 0) return ctx.skip('(rule)', `${ctx.spec.profile.id} documents a single window for ${rulePolicies(ctx).join(', ')}; no multi-window policy to check`);
    const ip = addresses(ctx)?.(5) ?? undefined;
    for (const t of targets) {
      if (!t.ipKeyed) {
        ctx.skip(t.label, 'multi-window check implemented for ip-keyed policies only');
        continue;
      }
      const order = t.windows.map((w, i) => ({ w, i })).sort((a, b) => a.w.seconds - b.w.seconds);
      for (const { w, i } of order) await bindWindow(ctx, t, i, w, order.filter((o) => o.w.seconds < w.seconds).map((o) => o.i), ip);
    }
  },
};

async function bindWindow(ctx: CheckContext, t: Target, index: number, w: RateWindow, shorter: number[], ip: string | undefined): Promise<void> {
  const subject = `${t.label}: window ${w.limit}/${w.seconds}s`;
  const model = new RateLimitModel(modelPolicies(ctx));
  const address = ip ?? '127.0.0.1';
  await ctx.mock!.reset();
  const mr = modelRequest(ctx, t.op, address);
  let sent = 0;
  const counts = (): number[] => t.windows.map((_, k) => model.count(t.id, { ip: address }, k));
  // Fill window `index` up to its limit; shorter windows stay one below theirs (moving the clock to their edge).
  for (let guard = 0; sent < w.limit && guard < 10_000; guard++) {
    const roomTarget = w.limit - (counts()[index] ?? 0);
    const roomShorter = Math.min(Number.POSITIVE_INFINITY, ...shorter.map((k) => t.windows[k]!.limit - 1 - (counts()[k] ?? 0)));
    const batch = Math.min(roomTarget, roomShorter, model.room(mr));
    if (batch <= 0) {
      const ends = model.windowEnds();
      if (ends.length === 0) throw new Error(`RATE-007 schedule stuck for ${subject}`);
      await advance(ctx, model, ends[0]! - model.now);
      continue;
    }
    const responses = await mapLimit(Array.from({ length: batch }, (_, k) => k), FILL_CONCURRENCY, () => ctx.client.send(mustRequest(ctx, t.op, { ip })));
    for (let k = 0; k < batch; k++) model.send(mr);
    sent += batch;
    const refused = responses.filter((r) => !admitted(r));
    if (refused.length) {
      ctx.fail(subject, `while filling the ${w.seconds}s window (${sent} requests so far, at t=${model.now} s, window counts ${counts().join('/')} of ${t.windows.map((x) => x.limit).join('/')}), ${refused.length} were answered ${histogram(refused)}: a window bound too early`, refused.slice(0, 3));
      return;
    }
  }
  const verdict = model.predict(mr);
  const res = await ctx.client.send(mustRequest(ctx, t.op, { ip }));
  const detail = `after ${w.limit} requests in the ${w.seconds}s window (t=${model.now} s; shorter windows at ${shorter.map((k) => `${counts()[k]}/${t.windows[k]!.limit}`).join(', ') || 'none'})`;
  if (!limited(res)) return ctx.fail(subject, `${detail} request ${w.limit + 1} was answered ${statusOf(res)} instead of 429`, res);
  const ra = parseRetryAfter(retryAfterHeader(res))?.seconds;
  if (verdict.limited) ctx.log(`${subject}: 429 at t=${model.now} s with Retry-After ${ra ?? 'absent'} (window ends in ${verdict.retryAfter} s)`);
  ctx.pass(subject, res);
}

// ---------------------------------------------------------------------------------------------------------------
// RATE-008 … RATE-011: independence of buckets and the client address
// ---------------------------------------------------------------------------------------------------------------

/** RATE-008 (docs: limited by IP address): exhausting a per-IP policy from one address does not limit another address. */
export const perAddressBuckets: Check = {
  rule: 'RATE-008',
  run: (ctx) =>
    judgeProbes(
      ctx,
      (probe) => {
        if (!addresses(ctx)) return ctx.skip(probe.target.label, NO_ADDRESSES);
        if (without429(ctx, probe, true)) return;
        const other = probe.otherAddress;
        if (other && admitted(other)) return ctx.pass(probe.target.label, other);
        ctx.fail(probe.target.label, `with 127.50.0.2 exhausted, a first request from 127.50.0.3 was answered ${statusOf(other)}: the address is not part of the bucket key`, other);
      },
      (t) => t.ipKeyed,
    ),
};

/** RATE-009 (platform/rate-limits: per project environment): exhausting an environment's limit does not limit another environment. */
export const perEnvironmentBuckets: Check = {
  rule: 'RATE-009',
  run: (ctx) =>
    judgeProbes(ctx, (probe) => {
      if (without429(ctx, probe, true)) return;
      const other = probe.otherEnvironment;
      if (other === undefined || typeof other === 'string') return ctx.skip(probe.target.label, other ?? 'no request to another environment');
      if (admitted(other)) return ctx.pass(probe.target.label, other);
      ctx.fail(probe.target.label, `with the sandbox environment exhausted (${probe.n} requests), a first request for the other environment was answered ${statusOf(other)}`, other);
    }),
};

/** Per-IP policies carried by only some operations of a surface (nonce, connect, signin, otp, bulk-users, …). */
function endpointPolicies(ctx: CheckContext, targets: readonly Target[]): { endpoint: Target[]; global: Target[] } {
  const endpoint: Target[] = [];
  const global: Target[] = [];
  for (const t of targets) {
    if (!t.ipKeyed || t.policy.key.length !== 1) continue;
    const surface = ctx.spec.operations.filter((o) => o.surface === t.op.surface);
    (surface.every((o) => o.policies.includes(t.id)) ? global : endpoint).push(t);
  }
  return { endpoint, global };
}

/**
 * RATE-010 (overview/rate-limits endpoint table; platform/rate-limits: all /sdk endpoints share the SDK limit):
 * per-endpoint limits are independent of each other (exhaust A from an address, then B from it passes), and requests
 * to a per-endpoint policy still count toward the global per-IP limit of their surface. Both from the shared probes.
 */
export const perEndpointBuckets: Check = {
  rule: 'RATE-010',
  async run(ctx) {
    if (ctx.config.target === 'live') return ctx.skip('(rule)', 'asserted on the mock only');
    if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off)');
    const addr = addresses(ctx);
    if (!addr) return ctx.skip('(rule)', NO_ADDRESSES);
    const split = endpointPolicies(ctx, policyTargets(ctx).targets);
    const endpoint = split.endpoint.map((t) => t.id);
    const global = split.global.map((t) => t.id);
    if (endpoint.length === 0) return ctx.skip('(rule)', `${ctx.spec.profile.id} documents no per-endpoint policy`);
    // Independence: with A exhausted from an address, a first request to every other endpoint policy B from it passes.
    const probes = await policyProbes(ctx);
    for (const probe of probes) {
      const a = probe.target;
      if (!endpoint.includes(a.id)) continue;
      for (const b of split.endpoint) {
        if (b.id === a.id) continue;
        const subject = `${a.id} exhausted → ${b.id} (${b.op.key})`;
        if (probe.skipped) {
          ctx.skip(subject, probe.skipped);
          continue;
        }
        const seen = probe.neighbours.find((x) => x.target.id === b.id);
        if (!probe.first429 || !seen || probe.fill.some((r) => !admitted(r))) {
          ctx.inconclusive(subject, `${a.id} was not exhausted as documented (first ${probe.n}: ${histogram(probe.fill)}; then ${histogram(probe.over)}); see RATE-001`, probe.over.at(-1));
          continue;
        }
        if (admitted(seen.res)) ctx.pass(subject, seen.res);
        else ctx.fail(subject, `after ${a.id} was exhausted from 127.50.0.2 (${probe.n} requests, then 429), a first ${b.id} request from the same address was answered ${statusOf(seen.res)}: the endpoint policies share a bucket`, [probe.first429, seen.res]);
      }
    }
    // Addition: requests to a per-endpoint policy count toward the global per-IP policy of their surface (the
    // global policy's probe started its fill with them).
    for (const probe of probes) {
      const lead = probe.lead;
      if (!lead || !global.includes(probe.target.id)) continue;
      const subject = `${lead.target.id} + ${probe.target.op.key} add up to ${probe.target.id}`;
      if (probe.skipped) {
        ctx.skip(subject, probe.skipped);
        continue;
      }
      const n = probe.n;
      const firstAt = probe.first429 ? n + probe.over.length : undefined;
      const how = `${lead.count} ${lead.target.op.key} + ${n - lead.count} ${probe.target.op.key} requests from one address (= ${n}, the ${probe.target.binding.limit}/${probe.target.binding.seconds}s limit of ${probe.target.id})`;
      if (probe.fill.some((r) => !admitted(r))) ctx.inconclusive(subject, `${how} were not all admitted (${histogram(probe.fill)}); see RATE-001`, probe.fill.find((r) => !admitted(r)));
      else if (firstAt === n + 1) ctx.pass(subject, probe.first429);
      else if (firstAt === n + lead.count + 1) ctx.fail(subject, `${how}, then requests were admitted until request ${firstAt}: the ${lead.count} ${lead.target.id} requests did not count toward ${probe.target.id}`, probe.over.slice(0, 3));
      else ctx.inconclusive(subject, `${how}, then the first 429 came at request ${firstAt ?? `> ${n + probe.over.length}`}: the threshold itself is off; see RATE-001`, probe.over.at(-1));
    }
  },
};

/** Explicit fill with a fresh spoofed X-Forwarded-For on every request is done for policies up to this limit. */
const XFF_FILL_LIMIT = 100;

/**
 * RATE-011 (OWASP WSTG IP-based bypass): a client-chosen X-Forwarded-For never resets a per-IP limit. Every
 * ip-keyed policy: spoofed requests after the 429 (shared probe); policies up to 100/window: a whole fill where
 * every request carries a fresh random X-Forwarded-For must still end in 429 at N+1.
 */
export const spoofedForwardedFor: Check = {
  rule: 'RATE-011',
  async run(ctx) {
    if (ctx.config.target === 'live') return judgeLive(ctx);
    const fills: Target[] = [];
    await judgeProbes(
      ctx,
      (probe) => {
        if (!without429(ctx, probe, true)) {
          const subject = `${probe.target.label}: after the 429`;
          const through = probe.spoofed.filter((r) => !limited(r));
          if (through.length === 0) ctx.pass(subject, probe.spoofed[0]);
          else ctx.fail(subject, `with the address exhausted, ${through.length} of ${probe.spoofed.length} requests with a fresh X-Forwarded-For were answered ${histogram(through)}: the header reset the limit`, through);
        }
        if (probe.target.binding.limit <= XFF_FILL_LIMIT) fills.push(probe.target);
      },
      (t) => t.ipKeyed,
    );
    if (!ctx.mock) return;
    const addr = addresses(ctx);
    for (const t of fills) {
      const subject = `${t.label}: fresh X-Forwarded-For on every request`;
      await ctx.mock.reset();
      const ip = addr?.(30);
      const n = t.binding.limit;
      const fill = await mapLimit(Array.from({ length: n }, (_, k) => k), FILL_CONCURRENCY, () => ctx.client.send(mustRequest(ctx, t.op, { ip, headers: [['x-forwarded-for', spoofedAddress()]] })));
      const over = await ctx.client.send(mustRequest(ctx, t.op, { ip, headers: [['x-forwarded-for', spoofedAddress()]] }));
      if (fill.some((r) => !admitted(r))) ctx.inconclusive(subject, `the fill was refused early (${histogram(fill)}); see RATE-001`, fill.find((r) => !admitted(r)));
      else if (limited(over)) ctx.pass(subject, over);
      else ctx.fail(subject, `${n} requests from one address, each with a different X-Forwarded-For, then request ${n + 1} was answered ${statusOf(over)} instead of 429: the limit is keyed by the spoofable header`, over);
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// RATE-012, RATE-013: what counts, and counting under concurrency
// ---------------------------------------------------------------------------------------------------------------

/**
 * RATE-012 (OWASP API2:2023; CWE-307): attempts rejected with 400 (invalid body) or 401 (bad credential) count
 * toward the sign-in and OTP limits: after N rejected attempts, a valid request gets 429.
 */
export const rejectedAttemptsCount: Check = {
  rule: 'RATE-012',
  async run(ctx) {
    if (ctx.config.target === 'live') return ctx.skip('(rule)', 'live rate probing is limited to the nonce endpoint: sign-in and OTP are never burst live (real messages, real cost; RL-15)');
    if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off)');
    const addr = addresses(ctx);
    let next = 40;
    for (const t of enforcedTargets(ctx)) {
      const variants: { what: string; op: Operation; send: Send; expect: number[] }[] = [];
      if (t.op.requestBody) variants.push({ what: 'invalid body → 400', op: t.op, send: { body: {} }, expect: [400, 422] });
      const authOp = ctx.spec.operations.find((o) => o.policies.includes(t.id) && o.auth !== 'none');
      if (authOp) variants.push({ what: `bad credential → 401 (${authOp.key})`, op: authOp, send: { credential: 'invalid' }, expect: [401] });
      if (variants.length === 0) ctx.skip(t.label, 'no way to make a request of this policy fail validation or authentication');
      for (const v of variants) {
        const subject = `${t.label}: ${t.binding.limit} × ${v.what}, then a valid request`;
        const valid = rateRequest(ctx, v.op, {});
        if (!isRequest(valid)) {
          ctx.skip(subject, valid.skip);
          continue;
        }
        await ctx.mock.reset();
        const ip = addr?.(next++);
        const rejected: HttpResponse[] = [];
        for (let i = 0; i < t.binding.limit; i++) rejected.push(await ctx.client.send(mustRequest(ctx, v.op, { ...v.send, ip })));
        const wrong = rejected.filter((r) => !v.expect.includes(r.status));
        if (wrong.length) {
          ctx.inconclusive(subject, `the attempts were meant to be rejected with ${v.expect.join('/')} but were answered ${histogram(rejected)}`, wrong[0]);
          continue;
        }
        const res = await ctx.client.send({ ...valid, localAddress: ip });
        if (limited(res)) ctx.pass(subject, res);
        else ctx.fail(subject, `${t.binding.limit} attempts answered ${histogram(rejected)}, then a valid request from the same address was answered ${statusOf(res)} instead of 429: rejected attempts do not count`, [rejected.at(-1)!, res]);
      }
    }
  },
};

/** Largest burst RATE-013 sends; bigger policies' exact counts are RATE-001's (filled once, 48 in flight). */
const BURST_MAX = 105;

/**
 * RATE-013 (RFC 6585 4; Stripe rate limiters): N+5 requests sent at once (Promise.all; one undici pool of 32
 * connections per address) on a cold key admit exactly N. Policies whose burst would exceed 105 requests (bulk users,
 * embedded wallets, admin per IP and the per-environment ones) are skipped with that reason: their exact counts are
 * RATE-001's, concurrent counting is proven on the policies up to 100 (sdk-ip, nonce, connect, signin, otp, invites),
 * and repeating 15,000 requests would break the project's time budget.
 */
export const concurrentBursts: Check = {
  rule: 'RATE-013',
  async run(ctx) {
    if (ctx.config.target === 'live') return ctx.skip('(rule)', 'live probing is serial (RL-15); concurrent bursts are asserted on the mock only');
    if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off)');
    const addr = addresses(ctx);
    for (const t of enforcedTargets(ctx)) {
      const n = t.binding.limit;
      if (n + 5 > BURST_MAX) {
        ctx.skip(t.label, `a burst of ${n + 5} exceeds ${BURST_MAX} requests; the exact count of this policy is asserted by RATE-001 and concurrent counting by the smaller policies here`);
        continue;
      }
      const quota = t.ipKeyed ? Number.POSITIVE_INFINITY : perAddressQuota(ctx, t.op, t.id);
      if (!t.ipKeyed && !addr) {
        ctx.skip(t.label, NO_ADDRESSES);
        continue;
      }
      await ctx.mock.reset();
      const spread = t.ipKeyed ? 1 : Math.ceil((n + 5) / quota);
      const ip = (k: number): string | undefined => (t.ipKeyed ? addr?.(50) : addr!(60 + (k % spread)));
      const requests = Array.from({ length: n + 5 }, (_, k) => mustRequest(ctx, t.op, { ip: ip(k) }));
      const started = performance.now();
      const responses = await Promise.all(requests.map((r) => ctx.client.send(r)));
      const ms = Math.round(performance.now() - started);
      const passed = responses.filter(admitted).length;
      const refused = responses.filter(limited).length;
      ctx.log(`${t.label}: burst of ${n + 5} in ${ms} ms → ${histogram(responses)}`);
      if (passed === n && refused === 5) ctx.pass(t.label, responses.find(limited));
      else ctx.fail(t.label, `a concurrent burst of ${n + 5} on a cold key admitted ${passed} and refused ${refused} (${histogram(responses)}); exactly ${n} should pass`, responses.filter((r) => (passed > n ? admitted(r) : !limited(r))).slice(0, 3));
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// RATE-014: the mock agrees with the reference model
// ---------------------------------------------------------------------------------------------------------------

interface Endpoint {
  name: string;
  op: Operation;
}

/**
 * RATE-014 (docs rate-limit pages): over generated sequences of (burst from address x to endpoint y, clock moves —
 * also to one second before / at / after a window edge), every status and Retry-After of the mock equals the
 * reference model's (src/checks/rate/model.ts). Bursts are sent one request after another so the order is defined.
 */
export const agreesWithModel: Check = {
  rule: 'RATE-014',
  async run(ctx) {
    if (ctx.config.target === 'live') return ctx.skip('(rule)', 'asserted on the mock only');
    if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off)');
    const addr = addresses(ctx);
    if (!addr) return ctx.skip('(rule)', NO_ADDRESSES);
    const { targets } = policyTargets(ctx);
    const byId = new Map(targets.map((t) => [t.id, t]));
    const endpoints: Endpoint[] = [];
    for (const id of ['nonce', 'otp', 'connect', 'sdk-ip']) {
      const t = byId.get(id);
      if (t && !endpoints.some((e) => e.op.key === t.op.key)) endpoints.push({ name: t.op.key.replace('/sdk/{environmentId}', ''), op: t.op });
    }
    if (endpoints.length === 0) for (const t of targets.filter((x) => x.ipKeyed).slice(0, 3)) endpoints.push({ name: t.op.key, op: t.op });
    if (endpoints.length === 0) return ctx.skip('(rule)', `${ctx.spec.profile.id} has no enforced per-IP policy to model`);
    const ips = [addr(70), addr(71), addr(72)];
    const environments: ('main' | 'other')[] = ctx.credentials.otherEnvironmentId ? ['main', 'other'] : ['main'];
    const sdkIp = ctx.spec.profile.rateLimits['sdk-ip']?.windows;
    const maxBurst = Math.max(4, Math.min(30, Math.ceil((sdkIp?.[0]?.limit ?? 30) / 2)));
    const shape = { ips: ips.length, endpoints: endpoints.length, environments: environments.length, maxBurst, maxAdvance: 90, maxCommands: 20 };
    const names = { ips, endpoints: endpoints.map((e) => e.name), environments };
    const numRuns = Math.min(ctx.fc.runs, 40);
    let runs = 0;
    let requests = 0;

    /** Replays commands on a reset mock and a fresh model; returns the first disagreement, if any. */
    const replay = async (commands: readonly RateCommand[]): Promise<string | undefined> => {
      const model = new RateLimitModel(modelPolicies(ctx));
      await ctx.mock!.reset();
      for (const [ci, c] of commands.entries()) {
        if (c.kind === 'advance') await advance(ctx, model, c.seconds);
        else if (c.kind === 'edge') {
          const running = model.windows();
          const full = running.filter((w) => w.count >= w.window.limit);
          const pool = full.length ? full : running;
          const w = pool[c.which % Math.max(1, pool.length)];
          if (!w) continue;
          if (w.end + c.delta > model.now) await advance(ctx, model, w.end + c.delta - model.now);
          const ep = c.probe ? endpoints.find((e) => e.op.policies.includes(w.policy)) : undefined;
          if (!ep) continue;
          const ip = w.key.ip ?? ips[0]!;
          const env = w.key.environment === ctx.credentials.otherEnvironmentId ? 'other' : 'main';
          const problem = await step(model, ep, ip, env);
          if (problem) return `command ${ci + 1} (${describeCommand(c, names)}) at t=${model.now} s: ${problem}`;
        } else {
          const ep = endpoints[c.endpoint]!;
          const env = environments[c.environment] ?? 'main';
          const ip = ips[c.ip]!;
          for (let k = 0; k < c.count; k++) {
            const problem = await step(model, ep, ip, env);
            if (problem) return `command ${ci + 1} (${describeCommand(c, names)}), request ${k + 1} at t=${model.now} s: ${problem}`;
          }
        }
      }
      return undefined;
    };
    /** One request on the mock and the model; the disagreement, if any. */
    const step = async (model: RateLimitModel, ep: Endpoint, ip: string, env: 'main' | 'other'): Promise<string | undefined> => {
      const expected = model.send(modelRequest(ctx, ep.op, ip, env));
      const built = rateRequest(ctx, ep.op, { ip, env });
      if (!isRequest(built)) throw new Error(built.skip);
      const res = await ctx.client.send(built);
      requests++;
      const problem = disagreement(ctx, expected, res);
      return problem ? `${ep.name} from ${ip}${env === 'other' ? ' (other environment)' : ''}: ${problem}` : undefined;
    };

    const result = await fc.check(
      fc.asyncProperty(rateCommands(shape), async (commands) => {
        runs++;
        return (await replay(commands)) === undefined;
      }),
      ctx.fc.parameters({ numRuns, timeLimitMs: 60_000 }),
    );
    const subject = `model agreement over ${endpoints.map((e) => e.name).join(', ')} from ${ips.length} addresses`;
    ctx.log(`RATE-014: ${runs} sequences, ${requests} requests, seed ${ctx.fc.seed}`);
    if (!result.failed) return ctx.pass(subject);
    if (result.interrupted && !result.counterexample) return ctx.fail(subject, `the property was interrupted after ${result.numRuns} runs (time limit); ${ctx.fc.replayLine()}`);
    const counterexample = result.counterexample?.[0] ?? [];
    const why = (await replay(counterexample)) ?? (result.errorInstance instanceof Error ? result.errorInstance.message : 'the property failed');
    ctx.fail(subject, `the mock disagrees with the reference model: ${why}; counterexample (${counterexample.length} commands): ${counterexample.map((c) => describeCommand(c, names)).join('; ')}; replay: ${ctx.fc.replayLine(result.counterexamplePath ?? undefined)}`);
  },
};

function disagreement(ctx: CheckContext, expected: Verdict, res: HttpResponse): string | undefined {
  if (res.status === 0) return `no response (${res.exchange.error ?? 'transport error'})`;
  if (!expected.limited) return limited(res) ? `the model admits it (all windows have room) but the mock answered 429 with Retry-After ${retryAfterHeader(res) ?? 'absent'}` : undefined;
  if (!limited(res)) return `the model refuses it (${expected.refusedBy.map((w) => `${w.policy} ${w.window.limit}/${w.window.seconds}s`).join(', ')}; Retry-After ${expected.retryAfter}) but the mock answered ${res.status}`;
  const raw = retryAfterHeader(res);
  if (raw === undefined) return ctx.spec.profile.retryAfter.required ? `429 without Retry-After (model: ${expected.retryAfter})` : undefined;
  const ra = parseRetryAfter(raw)?.seconds;
  return ra === expected.retryAfter ? undefined : `429 with Retry-After ${raw}, the model expects ${expected.retryAfter}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Live: the budgeted probe of the nonce endpoint (RATE-001..005, 011, 015)
// ---------------------------------------------------------------------------------------------------------------

/** The policy probed live: cheap and side-effect free. Never OTP, SMS, email, MFA or the /sdk per-IP limit. */
const LIVE_POLICY = 'nonce';
/** Longest single wait, and the time one check may spend in total (a Playwright test has 120 s). */
const LIVE_MAX_WAIT_SECONDS = 90;
const LIVE_CHECK_SECONDS = 105;

interface LiveState {
  refusal: string | undefined;
  plan: ProbePlan | undefined;
  io: ProbeIo | undefined;
  result: ProbeResult | undefined;
  label: string;
}

const liveStates = new WeakMap<HttpClient, Promise<LiveState>>();

/** A ProbeIo over the suite's client: real waiting on live, the mock clock on the mock. */
function probeIo(ctx: CheckContext, op: Operation, ip: string | undefined): ProbeIo {
  let mockNow = 0;
  return {
    send: (headers) => ctx.client.send(mustRequest(ctx, op, { ip, headers: headers ?? [] })),
    wait: async (seconds) => {
      if (ctx.mock) {
        await ctx.mock.advanceClock(seconds);
        mockNow += seconds;
      } else await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    },
    now: () => (ctx.mock ? mockNow : Date.now() / 1000),
    spoofedAddress,
  };
}

interface StoredLive {
  plan: Omit<ProbePlan, 'budget'>;
  budgetLimit: number;
  budgetUsed: number;
  result: Omit<ProbeResult, 'burst' | 'limited' | 'spoofed' | 'recovery'> & { burst: StoredResponse[]; limited?: StoredResponse; spoofed?: StoredResponse; recovery?: StoredResponse };
}

function liveKey(ctx: CheckContext): string {
  return `${ctx.config.apiUrl} ${ctx.credentials.environmentId} ${ctx.spec.profile.id}`;
}

/** Saves the live probe so a worker that replaces a failed one continues it instead of probing again. */
function saveLive(ctx: CheckContext, plan: ProbePlan, r: ProbeResult): void {
  const { burst, limited: l, spoofed, recovery, ...rest } = r;
  saveRun('live', liveKey(ctx), {
    plan: r.plan, budgetLimit: plan.budget.limit, budgetUsed: plan.budget.used,
    result: { ...rest, burst: burst.map(stored), ...(l ? { limited: stored(l) } : {}), ...(spoofed ? { spoofed: stored(spoofed) } : {}), ...(recovery ? { recovery: stored(recovery) } : {}) },
  } satisfies StoredLive);
}

function restoreLive(s: StoredLive): { plan: ProbePlan; result: ProbeResult } {
  const { burst, limited: l, spoofed, recovery, ...rest } = s.result;
  return {
    plan: { ...s.plan, budget: new RateBudget(s.budgetLimit, s.budgetUsed) },
    result: { ...rest, burst: burst.map(restored), limited: l ? restored(l) : undefined, spoofed: spoofed ? restored(spoofed) : undefined, recovery: recovery ? restored(recovery) : undefined },
  };
}

/** Phase 1 of the live probe, once per run: gate, cool-down, burst, spoofed request. */
function liveState(ctx: CheckContext): Promise<LiveState> {
  let state = liveStates.get(ctx.client);
  if (!state) {
    state = (async (): Promise<LiveState> => {
      const policy = ctx.spec.profile.rateLimits[LIVE_POLICY];
      const label = policy ? `${policyLabel(LIVE_POLICY, policy)} live` : `policy ${LIVE_POLICY} live`;
      const none = { plan: undefined, io: undefined, result: undefined, label };
      const refusal = await burstRefused(ctx);
      if (refusal) return { refusal, ...none };
      if (!policy?.windows?.length) return { refusal: `${ctx.spec.profile.id} documents no numbers for ${LIVE_POLICY}: ${policy?.unenforcedReason ?? 'absent'}`, ...none };
      const op = representative(ctx, LIVE_POLICY);
      if (!op) return { refusal: `no operation carries ${LIVE_POLICY}`, ...none };
      const window = [...policy.windows].sort((a, b) => a.limit - b.limit)[0]!;
      const io = probeIo(ctx, op, undefined);
      const saved = loadRun<StoredLive>('live', liveKey(ctx));
      if (saved) {
        ctx.log(`live rate probe: continuing the probe of an earlier worker of this run (${saved.budgetUsed} of ${saved.budgetLimit} requests spent)`);
        return { refusal: undefined, io, label, ...restoreLive(saved) };
      }
      const plan: ProbePlan = { policy: LIVE_POLICY, limit: window.limit, windowSeconds: window.seconds, budget: new RateBudget(await requireBurst(ctx)), coolDownSeconds: window.seconds, maxWaitSeconds: LIVE_MAX_WAIT_SECONDS, retryMarginSeconds: 1 };
      ctx.log(`live rate probe: ${LIVE_POLICY} via ${op.key}, budget ${plan.budget.limit} requests, cool-down ${plan.coolDownSeconds} s`);
      const result = await probeBurst(io, plan);
      saveLive(ctx, plan, result);
      return { refusal: undefined, plan, io, result, label };
    })();
    liveStates.set(ctx.client, state);
  }
  return state;
}

/** The live outcome of the rules the live probe answers. */
async function judgeLive(ctx: CheckContext): Promise<void> {
  const checkStarted = Date.now();
  const state = await liveState(ctx);
  const { label } = state;
  if (state.refusal || !state.result || !state.plan || !state.io) return ctx.skip(label, state.refusal ?? 'no live probe');
  const r = state.result;
  const stopped = r.stopped.length ? ` (${r.stopped.join('; ')})` : '';
  const no429 = (): void => ctx.inconclusive(label, `no 429 was received${stopped}`, r.burst.at(-1));
  // The recovery wait must fit in what is left of this check (phase 1 may have run in it, with its cool-down).
  state.plan.maxWaitSeconds = Math.max(0, Math.min(LIVE_MAX_WAIT_SECONDS, LIVE_CHECK_SECONDS - (Date.now() - checkStarted) / 1000));
  switch (ctx.rule.id) {
    case 'RATE-001': {
      const j = judgeThreshold(r);
      if (j.status === 'pass') ctx.pass(label, r.limited);
      else if (j.status === 'fail') ctx.fail(label, j.reason, r.burst.at(-1));
      else ctx.inconclusive(label, j.reason, r.limited ?? r.burst.at(-1));
      return;
    }
    case 'RATE-002': {
      if (!r.limited) return no429();
      const v = ctx.schemas.validate(ctx.spec.profile.tooManyRequests.schema, r.limited.json);
      if (v.valid) return ctx.pass(label, r.limited);
      return ctx.fail(label, `the 429 body does not match ${ctx.spec.profile.id} (${v.errors.join('; ') || 'not JSON'}); ${ctx.spec.profile.tooManyRequests.liveAccepts ?? ''}`, r.limited);
    }
    case 'RATE-003': {
      if (!r.limited) return no429();
      const problem = retryAfterProblem(ctx, r.limited, state.plan.windowSeconds);
      return problem ? ctx.fail(label, problem, r.limited) : ctx.pass(label, r.limited);
    }
    case 'RATE-004': {
      if (!r.limited) return no429();
      await recover(ctx, state);
      if (!r.recovery) return ctx.inconclusive(label, `no recovery request was sent${r.stopped.length ? ` (${r.stopped.join('; ')})` : ''}`, r.limited);
      if (r.retryAfter === undefined) return ctx.inconclusive(label, `no usable Retry-After on the 429 (see RATE-003): the window (${state.plan.windowSeconds} s + ${state.plan.retryMarginSeconds} s) was waited instead and the request was answered ${statusOf(r.recovery)}`, r.recovery);
      if (admitted(r.recovery)) return ctx.pass(label, r.recovery);
      return ctx.fail(label, `after waiting ${Math.round(r.waitedBeforeRecovery ?? 0)} s (Retry-After ${r.retryAfter ?? 'absent'} + ${state.plan.retryMarginSeconds} s) the request was still answered ${statusOf(r.recovery)}`, [r.limited, r.recovery]);
    }
    case 'RATE-005': {
      if (!r.limited) return no429();
      const problem = cacheProblem(ctx, r.limited);
      return problem ? ctx.fail(label, problem, r.limited) : ctx.pass(label, r.limited);
    }
    case 'RATE-011': {
      if (!r.limited) return no429();
      if (!r.spoofed) return ctx.inconclusive(label, `no spoofed request was sent${stopped}`, r.limited);
      return limited(r.spoofed) ? ctx.pass(label, r.spoofed) : ctx.fail(label, `right after the 429, a request with a fresh X-Forwarded-For was answered ${statusOf(r.spoofed)}: the header reset the per-IP limit`, [r.limited, r.spoofed]);
    }
    case 'RATE-015': {
      await recover(ctx, state);
      etiquette(ctx, label, r, state.plan);
      return;
    }
    default:
      return ctx.skip(label, 'asserted on the mock only');
  }
}

/** Phase 2 of the live probe (once): wait Retry-After, one request; saved for a replacing worker. */
async function recover(ctx: CheckContext, state: LiveState): Promise<void> {
  if (!state.io || !state.plan || !state.result || state.result.recovery) return;
  await probeRecovery(state.io, state.plan, state.result);
  saveLive(ctx, state.plan, state.result);
}

/** RATE-015's assertions on one probe: budget, serial, Retry-After honoured. */
function etiquette(ctx: CheckContext, label: string, r: ProbeResult, plan: ProbePlan): void {
  if (r.sent <= plan.budget.limit && r.sent <= 2 * plan.limit + 2) ctx.pass(`${label}: within budget (${r.sent} of ${plan.budget.limit} requests; ≤ 2N+2)`);
  else ctx.fail(`${label}: within budget`, `${r.sent} requests sent with a budget of ${plan.budget.limit} and 2N+2 = ${2 * plan.limit + 2}`);
  if (r.maxInFlight <= 1) ctx.pass(`${label}: serial`);
  else ctx.fail(`${label}: serial`, `${r.maxInFlight} requests were in flight at once`);
  const subject = `${label}: honours Retry-After`;
  if (!r.recovery || r.waitedBeforeRecovery === undefined) ctx.inconclusive(subject, `no recovery request was sent${r.stopped.length ? ` (${r.stopped.join('; ')})` : ''}`);
  else if (r.waitedBeforeRecovery + 1e-6 >= (r.retryAfter ?? plan.windowSeconds)) ctx.pass(subject, r.recovery);
  else ctx.fail(subject, `the recovery request was sent ${r.waitedBeforeRecovery} s after the 429, before Retry-After ${r.retryAfter ?? plan.windowSeconds} s`, r.recovery);
}

/**
 * RATE-015 (conformance-rules RL-15; platform/rate-limits: use Retry-After): live rate probing is budgeted,
 * sandbox-only, serial and honours Retry-After. Live: the probe's own record. Mock: the gate refuses without
 * DYNAMIC_RATE_LIMIT_BUDGET and without a verified sandbox (sending no probe request), and the probe procedure run on
 * the mock stays within its budget, stops at a small one, calls a 429 before N inconclusive, and waits Retry-After.
 */
export const liveEtiquette: Check = {
  rule: 'RATE-015',
  async run(ctx) {
    if (ctx.config.target === 'live') return judgeLive(ctx);
    if (!ctx.mock) return ctx.skip('(rule)', 'the mock control API is off (MOCK_CONTROL=off)');
    const asLive = (rateLimitBudget: number | undefined, environmentId: string): Parameters<typeof burstRefused>[0] => ({
      config: { ...ctx.config, target: 'live', rateLimitBudget },
      credentials: { ...ctx.credentials, environmentId },
      client: ctx.client,
    });
    // Gate: no budget → refused before any request.
    const before = ctx.client.requestsSent;
    const noBudget = await burstRefused(asLive(undefined, ctx.credentials.environmentId));
    if (noBudget?.includes('DYNAMIC_RATE_LIMIT_BUDGET') && ctx.client.requestsSent === before) ctx.pass('gate: DYNAMIC_RATE_LIMIT_BUDGET not set');
    else ctx.fail('gate: DYNAMIC_RATE_LIMIT_BUDGET not set', `expected a refusal naming DYNAMIC_RATE_LIMIT_BUDGET and no request; got ${noBudget ?? 'no refusal'} after ${ctx.client.requestsSent - before} requests`);
    // Gate: an environment that is not the verified sandbox → refused.
    if (ctx.credentials.otherEnvironmentId) {
      const notSandbox = await burstRefused(asLive(20, ctx.credentials.otherEnvironmentId));
      if (notSandbox) ctx.pass('gate: environment not verified as the sandbox');
      else ctx.fail('gate: environment not verified as the sandbox', 'the burst gate opened for the mock’s live environment');
    } else ctx.skip('gate: environment not verified as the sandbox', `no second environment: ${ctx.credentials.missing.otherEnvironmentId ?? 'not available'}`);
    const policy = ctx.spec.profile.rateLimits[LIVE_POLICY];
    const op = representative(ctx, LIVE_POLICY);
    if (!policy?.windows?.length || !op) return ctx.skip('probe procedure', `${ctx.spec.profile.id} documents no numbers for ${LIVE_POLICY}`);
    const w = [...policy.windows].sort((a, b) => a.limit - b.limit)[0]!;
    const ip = addresses(ctx)?.(80);
    const plan = (budget: number, coolDownSeconds: number): ProbePlan => ({ policy: LIVE_POLICY, limit: w.limit, windowSeconds: w.seconds, budget: new RateBudget(budget), coolDownSeconds, maxWaitSeconds: 10 * w.seconds, retryMarginSeconds: 0 });
    const label = `probe procedure on ${op.key}`;
    // The whole procedure with budget 2N+2: pass on the clean mock, within budget, serial, Retry-After honoured.
    await ctx.mock.reset();
    const full = plan(2 * w.limit + 2, w.seconds);
    const io = probeIo(ctx, op, ip);
    const r = await probeRecovery(io, full, await probeBurst(io, full));
    const j = judgeThreshold(r);
    if (j.status === 'pass' && r.spoofed && limited(r.spoofed) && r.recovery && admitted(r.recovery)) ctx.pass(`${label}: threshold, spoofed header and recovery`, r.recovery);
    else ctx.fail(`${label}: threshold, spoofed header and recovery`, `${j.status}: ${j.reason}; spoofed ${statusOf(r.spoofed)}; recovery ${statusOf(r.recovery)}${r.stopped.length ? `; ${r.stopped.join('; ')}` : ''}`, r.burst.at(-1));
    etiquette(ctx, label, r, full);
    // A budget smaller than N+1 stops the probe exactly there, undecided.
    await ctx.mock.reset();
    const small = plan(Math.max(1, Math.floor(w.limit / 2)), 0);
    const s = await probeBurst(probeIo(ctx, op, ip), small);
    const sj = judgeThreshold(s);
    if (s.sent === small.budget.limit && sj.status === 'inconclusive' && s.stopped.some((x) => x.includes('budget'))) ctx.pass(`${label}: stops at a budget of ${small.budget.limit}`);
    else ctx.fail(`${label}: stops at a budget of ${small.budget.limit}`, `sent ${s.sent}, judged ${sj.status} (${sj.reason})`);
    // A key already warm (a shared egress address) gives a 429 before N: inconclusive, never pass or fail.
    await ctx.mock.reset();
    const warm = Math.max(1, Math.floor(w.limit / 2));
    for (let i = 0; i < warm; i++) await ctx.client.send(mustRequest(ctx, op, { ip }));
    const shared = await probeBurst(probeIo(ctx, op, ip), plan(2 * w.limit + 2, 0));
    const wj = judgeThreshold(shared);
    if (wj.status === 'inconclusive' && shared.firstLimitedAt !== undefined && shared.firstLimitedAt <= w.limit) ctx.pass(`${label}: a 429 before N is inconclusive`, shared.limited);
    else ctx.fail(`${label}: a 429 before N is inconclusive`, `with ${warm} requests already counted the first 429 came at ${shared.firstLimitedAt ?? 'never'}, judged ${wj.status}`, shared.limited);
  },
};

/** Every RATE-* check, in rule order. */
export const RATE_CHECKS: Check[] = [
  exactThreshold,
  tooManyRequestsBody,
  retryAfterWellFormed,
  retryAfterAccurate,
  tooManyRequestsNotCacheable,
  windowLength,
  multiWindow,
  perAddressBuckets,
  perEnvironmentBuckets,
  perEndpointBuckets,
  spoofedForwardedFor,
  rejectedAttemptsCount,
  concurrentBursts,
  agreesWithModel,
  liveEtiquette,
];
