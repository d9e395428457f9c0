/**
 * THE property runner: every fast-check property of the checks runs through `checkProperty` (the run's seed or a
 * per-subject seed derived from it, FC_PATH replay, run counts, the time limit) and reports a replay line built with
 * the real rule id. On top of it: one outcome per subject (`propertyOutcome`, ERR) and one property spread over a
 * sample of operations (`runProperty`, TOKEN and JWT).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { BudgetExceededError, type HttpResponse } from '../../http/client.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { mapLimit } from '../../engine/runner.js';
import { reasonOf } from './cases.js';
import { authWith, type Credential } from './credentials.js';
import { spreadOperations } from './sample.js';
import { concurrency, sendFor } from './send.js';
import { expectAccepted, type Judgement, type Mismatch, type Verdict } from './status.js';

/** What one property run found. */
export interface PropertyRun<Ts extends unknown[]> {
  failed: boolean;
  interrupted: boolean;
  numRuns: number;
  numSkips: number;
  numShrinks: number;
  seed: number;
  /** The shrunk counterexample (one value per arbitrary). */
  counterexample: Ts | undefined;
  path: string | undefined;
  error: unknown;
  /** The line a user copies to replay it: FC_SEED, FC_PATH and `-g '<this rule's id>'`. */
  replay: string;
}

type Arbitraries<Ts extends unknown[]> = { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };

/** Runs one property over `arbitraries` with the run's settings (`seed` overrides the run's seed for one subject). */
export async function checkProperty<Ts extends unknown[]>(
  ctx: CheckContext,
  arbitraries: Arbitraries<Ts>,
  predicate: (...values: Ts) => Promise<boolean>,
  options: { numRuns?: number; timeLimitMs?: number; seed?: number } = {},
): Promise<PropertyRun<Ts>> {
  const { seed, ...limits } = options;
  const property = (fc.asyncProperty as unknown as (...args: unknown[]) => fc.IAsyncProperty<Ts>)(
    ...arbitraries,
    predicate,
  );
  const details = await fc.check(property, {
    ...ctx.fc.parameters<Ts>(limits),
    ...(seed !== undefined ? { seed } : {}),
  });
  const path = details.counterexamplePath ?? undefined;
  return {
    failed: details.failed,
    interrupted: details.interrupted,
    numRuns: details.numRuns,
    numSkips: details.numSkips,
    numShrinks: details.numShrinks,
    seed: details.seed,
    counterexample: details.counterexample ?? undefined,
    path,
    error: details.errorInstance,
    replay: ctx.fc.replayLine(ctx.rule.id, path),
  };
}

/** A 32-bit seed for one subject, derived from the run's seed (replay with the printed FC_SEED reproduces it). */
export function seedFor(ctx: CheckContext, subject: string): number {
  return createHash('sha256').update(`${ctx.fc.seed}:${ctx.rule.id}:${subject}`).digest().readInt32BE(0);
}

/** Runs per operation, scaled by FC_RUNS (default 100 on the mock → `base`; live 20 → a fifth, at least 1). */
export function runsPerOp(ctx: CheckContext, base: number): number {
  return Math.max(1, Math.round((base * ctx.fc.runs) / 100));
}

/** An error a property threw, as text. */
function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (error === null || error === undefined) return 'no details';
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? 'no details');
}

function describeValue(value: unknown): string {
  const text = Buffer.isBuffer(value)
    ? `<${value.length} bytes>`
    : JSON.stringify(value, (_k, v: unknown) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v));
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Runs one property for a subject and records one outcome: pass, or fail with the (shrunk) counterexample, the
 * reason of its last failing request and the replay line. Seeds differ per subject.
 */
export async function propertyOutcome<T>(
  ctx: CheckContext,
  subject: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  predicate: (value: T) => Promise<Verdict>,
): Promise<void> {
  let lastFail: Extract<Verdict, { ok: false }> | undefined;
  let lastOk: HttpResponse | undefined;
  const run = await checkProperty<[T]>(
    ctx,
    [arb],
    async (value) => {
      const verdict = await predicate(value);
      if (verdict.ok) {
        lastOk = verdict.res;
        return true;
      }
      lastFail = verdict;
      return false;
    },
    { numRuns, seed: seedFor(ctx, subject) },
  );
  if (!run.failed) {
    if (lastOk) ctx.pass(subject, lastOk);
    else ctx.skip(subject, `no generated case could be sent (${run.numSkips} skipped by preconditions)`);
    return;
  }
  if (!lastFail) {
    if (run.interrupted)
      return ctx.inconclusive(subject, `interrupted after ${run.numRuns} runs (time limit) without a failure`);
    if (run.error instanceof Error) throw run.error;
    throw new Error(`property for ${subject} failed without a verdict: ${String(run.error)}`);
  }
  const found =
    `counterexample ${describeValue(run.counterexample?.[0])}` +
    ` (after ${run.numRuns} runs, ${run.numShrinks} shrinks)`;
  const { expected, received } = lastFail;
  ctx.fail(
    subject,
    { reason: `${lastFail.reason}; ${found}; replay: ${run.replay}`, expected, received },
    lastFail.res,
  );
}

/** How many operations a property is spread over. */
export const PROPERTY_OPERATIONS = 8;
/** How many of them one run probes on the mock (a window rotating with the generated start index); one on live. */
export const OPERATIONS_PER_RUN = 4;

/** A seed-rotated sample of operations spread across tags (see spreadOperations). */
export function propertyOperations(
  ctx: CheckContext,
  operations: readonly Operation[],
  count = PROPERTY_OPERATIONS,
): Operation[] {
  return spreadOperations(ctx, operations, count);
}

/**
 * Sends the valid credential to every sampled operation: operations where it is not accepted cannot show that a
 * variant is rejected BECAUSE it differs, so they are recorded inconclusive and left out of the property.
 */
export async function acceptedControl(
  ctx: CheckContext,
  operations: readonly Operation[],
  credential: Credential,
  subject: (op: Operation) => string = (op) => op.key,
): Promise<Operation[]> {
  const accepted = expectAccepted();
  const kept = await mapLimit(operations, concurrency(ctx), async (op) => {
    const res = await sendFor(ctx, op, { authorization: authWith(credential, (raw) => `Bearer ${raw}`) });
    const why = accepted(res)?.reason;
    const reason =
      `control: the valid credential itself is not ` +
      `accepted here (${why}), so a rejected variant ` +
      `proves nothing`;
    if (why) ctx.inconclusive(subject(op), reason, res);
    return why ? undefined : op;
  });
  return kept.filter((op): op is Operation => op !== undefined);
}

export interface PropertySpec<T> {
  /** Short name for messages and the log line. */
  name: string;
  arbitrary: fc.Arbitrary<T>;
  operations: Operation[];
  /** Sends the value to one operation and judges it: a mismatch or failure reason (undefined = fine), the responses. */
  probe(value: T, op: Operation): Promise<{ why: Judgement | string; responses: HttpResponse[] }>;
  numRuns?: number;
  /** Outcome subject of an operation (default op.key). */
  subject?: (op: Operation) => string;
}

/**
 * Runs a property over a sample of operations: each run sends the generated value to a window of OPERATIONS_PER_RUN
 * sampled operations starting at a generated index on the mock (one on live). Passing records a pass per operation;
 * a counterexample records a fail on the operation where it failed, with the shrunk value, the seed, the path and
 * the replay line (redacted by the runner), and the other operations inconclusive.
 */
export async function runProperty<T>(ctx: CheckContext, spec: PropertySpec<T>): Promise<void> {
  const subject = spec.subject ?? ((op: Operation) => op.key);
  const ops = spec.operations;
  if (!ops.length) return;
  const perRun = ctx.config.target === 'mock' ? Math.min(OPERATIONS_PER_RUN, ops.length) : 1;
  let lastFailure:
    | { op: Operation; why: string; mismatch: Mismatch | undefined; responses: HttpResponse[] }
    | undefined;
  const lastPass = new Map<string, HttpResponse>();
  let rateLimited = 0;
  const numRuns = spec.numRuns ?? ctx.fc.runs;
  const out = await checkProperty<[T, number]>(
    ctx,
    [spec.arbitrary, fc.nat({ max: ops.length - 1 })],
    async (value, start) => {
      const chosen = Array.from({ length: perRun }, (_, j) => ops[(start + j) % ops.length]!);
      const results = await Promise.all(
        chosen.map(async (op) => {
          const { why, responses } = await spec.probe(value, op);
          return { op, why: reasonOf(why), mismatch: typeof why === 'object' ? why : undefined, responses };
        }),
      );
      // A 429 that survived the client's retries was never judged: neither a failure nor evidence.
      for (const r of results) {
        if (r.why !== undefined && r.responses.some((x) => x.status === 429)) {
          rateLimited += 1;
          r.why = undefined;
        }
      }
      const bad = results.find((r) => r.why !== undefined);
      if (bad) {
        lastFailure = { op: bad.op, why: bad.why ?? '', mismatch: bad.mismatch, responses: bad.responses };
        return false;
      }
      for (const r of results) if (r.responses[0]) lastPass.set(r.op.key, r.responses[0]);
      return true;
    },
    { numRuns },
  );
  const keys = ops.map((o) => o.key).join(', ');
  const failedAt = out.failed ? `, FAILED at path ${out.path ?? '?'}` : '';
  ctx.log(
    `${ctx.rule.id} ${spec.name}: ${out.numRuns} run(s) × ${perRun} ` +
      `operation(s) of [${keys}], fast-check seed ${out.seed}${failedAt}`,
  );
  if (!out.failed) {
    const sent = out.numRuns * perRun;
    const reason = `${spec.name}: ${rateLimited} of ${sent} probes were rate limited (429 after the client's retries)`;
    if (rateLimited * 2 > sent) for (const op of ops) ctx.inconclusive(subject(op), reason);
    else for (const op of ops) ctx.pass(subject(op), lastPass.get(op.key));
    return;
  }
  // The request budget ran out inside the property: not a counterexample (the runner lists the rule as budget-bound).
  if (!lastFailure && out.error instanceof BudgetExceededError) throw out.error;
  const where = out.counterexample
    ? `counterexample ${fc.stringify(out.counterexample[0])} (shrunk ` +
      `${out.numShrinks} time(s); seed ${out.seed}, path ${out.path ?? '?'}); ` +
      `replay: ${out.replay}`
    : `${out.interrupted ? 'interrupted by the time limit' : 'the property threw'}: ${errorText(out.error)}`;
  const failedOp = lastFailure?.op ?? ops[0]!;
  const reason = `${spec.name}: ${lastFailure?.why ?? 'no answer judged'}; ${where}`;
  const m = lastFailure?.mismatch;
  ctx.fail(
    subject(failedOp),
    m ? { reason, expected: m.expected, received: m.received } : reason,
    lastFailure?.responses,
  );
  const stopped = `${spec.name}: the property stopped at the counterexample on ${failedOp.key}`;
  for (const op of ops) if (op !== failedOp) ctx.inconclusive(subject(op), stopped);
}
