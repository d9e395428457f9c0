/**
 * The rate family's policies: the enforced policies of the active docs profile, the operation each is probed
 * through, and how the reference model sees them.
 */
import type { Operation, RatePolicy, RateWindow } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import type { ModelPolicy } from './model.js';

/**
 * Requests in flight while filling a window on the mock. Both mock instances share one process, and the rate-limit
 * project is off the run's critical path: 8 in flight keep it from crowding the conformance project's requests in
 * that process (48 made the whole run ~0.5 s slower, measured side by side; the fills' counts are the same).
 */
export const FILL_CONCURRENCY = 8;

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
export interface Target {
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

export function policyLabel(id: string, p: RatePolicy): string {
  const numbers = p.windows ? p.windows.map((w) => `${w.limit}/${w.seconds}s`).join(', ') : 'no numbers';
  return `policy ${id} (${numbers} per ${p.key.join('+')})`;
}

function authRank(op: Operation): number {
  return op.auth === 'none' ? 0 : op.auth === 'api-token' ? 1 : 2;
}

export function representative(ctx: CheckContext, id: string): Operation | undefined {
  const preferred = REPRESENTATIVE[id] ? ctx.spec.byKey.get(REPRESENTATIVE[id]) : undefined;
  if (preferred?.policies.includes(id)) return preferred;
  const candidates = ctx.spec.operations.filter((o) => o.policies.includes(id) && !o.path.includes('{walletId}'));
  const pathParams = (o: Operation): number => o.parameters.filter((p) => p.in === 'path').length;
  return candidates.sort(
    (a, b) =>
      a.policies.length - b.policies.length ||
      authRank(a) - authRank(b) ||
      Number(b.method === 'GET') - Number(a.method === 'GET') ||
      pathParams(a) - pathParams(b),
  )[0];
}

/** The policies a rule applies to (appliesTo.policies; '*' or absent = all of the profile). */
export function rulePolicies(ctx: CheckContext): string[] {
  const all = Object.keys(ctx.spec.profile.rateLimits);
  const wanted = ctx.rule.appliesTo.policies;
  return !wanted || wanted.includes('*') ? all : all.filter((id) => wanted.includes(id));
}

/** Enforced policies of the profile with their operation; unenforced ones (windows null) are described in `skipped`. */
export function policyTargets(
  ctx: CheckContext,
  ids: readonly string[] = Object.keys(ctx.spec.profile.rateLimits),
): { targets: Target[]; skipped: { label: string; reason: string }[] } {
  const targets: Target[] = [];
  const skipped: { label: string; reason: string }[] = [];
  for (const id of ids) {
    const policy = ctx.spec.profile.rateLimits[id];
    if (!policy) continue;
    const label = policyLabel(id, policy);
    if (!policy.windows || policy.windows.length === 0) {
      skipped.push({
        label,
        reason: `${ctx.spec.profile.id} documents no numbers: ${policy.unenforcedReason ?? 'windows: null'}`,
      });
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
export function enforcedTargets(ctx: CheckContext, ids: readonly string[] = rulePolicies(ctx)): Target[] {
  const { targets, skipped } = policyTargets(ctx, ids);
  for (const s of skipped) ctx.skip(s.label, s.reason);
  const carried = targets.filter((t) => t.policy.carriedFrom);
  if (carried.length)
    ctx.log(
      `${ctx.spec.profile.id} is silent on ` +
        carried.map((t) => t.id).join(', ') +
        `: numbers carried from ` +
        [...new Set(carried.map((t) => t.policy.carriedFrom))].join(', '),
    );
  return targets;
}

/** The profile's policies as the reference model sees them. */
export function modelPolicies(ctx: CheckContext): Record<string, ModelPolicy> {
  const out: Record<string, ModelPolicy> = {};
  for (const [id, p] of Object.entries(ctx.spec.profile.rateLimits)) out[id] = { key: p.key, windows: p.windows };
  return out;
}
/** Smallest window limit among the op's ip-keyed policies other than `except` (how many one address may send). */
export function perAddressQuota(ctx: CheckContext, op: Operation, except: string): number {
  let quota = Number.POSITIVE_INFINITY;
  for (const id of op.policies) {
    const p = ctx.spec.profile.rateLimits[id];
    if (id === except || !p?.windows || !p.key.includes('ip')) continue;
    for (const w of p.windows) quota = Math.min(quota, w.limit);
  }
  return quota;
}
/** Per-IP policies carried by only some operations of a surface (nonce, connect, signin, otp, bulk-users, …). */
export function endpointPolicies(
  ctx: CheckContext,
  targets: readonly Target[],
): { endpoint: Target[]; global: Target[] } {
  const endpoint: Target[] = [];
  const global: Target[] = [];
  for (const t of targets) {
    if (!t.ipKeyed || t.policy.key.length !== 1) continue;
    const surface = ctx.spec.operations.filter((o) => o.surface === t.op.surface);
    (surface.every((o) => o.policies.includes(t.id)) ? global : endpoint).push(t);
  }
  return { endpoint, global };
}
