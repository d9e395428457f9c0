/**
 * Per-operation case lists: a few requests per operation, each with its judge, recorded as ONE outcome per operation
 * (AUTH, TOKEN, JWT).
 */
import type { HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { mapLimit } from '../../engine/runner.js';
import { liveSdkSkipReason } from './sample.js';
import { concurrency, sendFor } from './send.js';
import type { Judgement, Mismatch } from './status.js';

/** A judge of one answer: undefined when right, else a mismatch (or a plain failure sentence). */
export type Judge = (res: HttpResponse) => Judgement | string;

/** The failure sentence of a judgement (undefined = right). */
export function reasonOf(j: Judgement | string): string | undefined {
  return typeof j === 'string' ? j : j?.reason;
}

/**
 * The expected / received of one outcome made of several judged answers: each answer's own, joined with ' | ' (only
 * when every failing answer was judged by the status judge).
 */
export function expectedReceived(mismatches: readonly (Mismatch | undefined)[]): {
  expected?: string;
  received?: string;
} {
  if (!mismatches.length || mismatches.some((m) => m === undefined)) return {};
  const list = mismatches as Mismatch[];
  return { expected: list.map((m) => m.expected).join(' | '), received: list.map((m) => m.received).join(' | ') };
}

/** One request of a per-operation case list and the verdict on its answer. */
export interface AuthCase {
  label: string;
  send(): Promise<HttpResponse>;
  judge: Judge;
}

/** A case sent through the normal client for `op`. */
export function requestCase(
  ctx: CheckContext,
  op: Operation,
  label: string,
  options: RequestOptions,
  judge: Judge,
): AuthCase {
  return { label, send: () => sendFor(ctx, op, options), judge };
}

/** What a per-operation case list gives: the cases, a skip reason, or nothing to record. */
export type CasesOf = AuthCase[] | string | undefined;

/**
 * Runs a list of cases per operation (operations concurrently) and records ONE outcome per operation: pass when every
 * case passes, else fail naming each failing case. `casesFor` may return a string: the operation is skipped with it.
 */
export async function judgeOperations(
  ctx: CheckContext,
  operations: readonly Operation[],
  casesFor: (op: Operation, index: number) => CasesOf | Promise<CasesOf>,
  limit = concurrency(ctx),
): Promise<void> {
  await mapLimit(operations, Math.min(limit, concurrency(ctx)), async (op, index) => {
    const notSampled = liveSdkSkipReason(ctx, op);
    if (notSampled) {
      ctx.skip(op.key, notSampled);
      return;
    }
    const cases = await casesFor(op, index);
    if (cases === undefined) return;
    if (typeof cases === 'string') {
      ctx.skip(op.key, cases);
      return;
    }
    if (!cases.length) return;
    const results = await mapLimit(cases, ctx.config.target === 'mock' ? cases.length : 1, async (c) => {
      const res = await c.send();
      const judged = c.judge(res);
      return { c, res, why: reasonOf(judged), mismatch: typeof judged === 'object' ? judged : undefined };
    });
    // A 429 that survived the client's retries was never judged by the auth step: inconclusive, not a violation.
    const limited = results.filter((r) => r.why !== undefined && r.res.status === 429);
    const failures = results.filter((r) => r.why !== undefined && r.res.status !== 429);
    if (failures.length) {
      const reason = failures.map((f) => `${f.c.label}: ${f.why ?? ''}`).join(' | ');
      ctx.fail(
        op.key,
        { reason, ...expectedReceived(failures.map((f) => f.mismatch)) },
        failures.map((f) => f.res),
      );
    } else if (limited.length) {
      const reason = `rate limited (429 after the client's retries) on: ${limited.map((l) => l.c.label).join(', ')}`;
      ctx.inconclusive(op.key, reason, limited[0]!.res);
    } else ctx.pass(op.key, results[0]!.res);
  });
}
