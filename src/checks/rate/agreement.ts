/**
 * RATE-014: the mock agrees with the reference model (./model.ts) over generated command sequences (mock only).
 */
import type { Operation } from '../../engine/spec.js';
import type { Check } from '../../engine/types.js';
import { mockControl } from '../support/send.js';
import { describeCommand, rateCommands, type RateCommand } from '../../arbitraries/rateCommands.js';
import { checkProperty } from '../support/property.js';
import { disagreement } from './contract.js';
import { RateLimitModel } from './model.js';
import { modelPolicies, policyTargets } from './policies.js';
import { addresses, advance, isRequest, modelRequest, rateRequest } from './requests.js';

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
  needs: { target: { only: 'mock', why: 'asserted on the mock only' }, mockControl: {}, sourceAddresses: true },
  async run(ctx) {
    const addr = addresses(ctx)!;
    const { targets } = policyTargets(ctx);
    const byId = new Map(targets.map((t) => [t.id, t]));
    const endpoints: Endpoint[] = [];
    for (const id of ['nonce', 'otp', 'connect', 'sdk-ip']) {
      const t = byId.get(id);
      if (t && !endpoints.some((e) => e.op.key === t.op.key))
        endpoints.push({ name: t.op.key.replace('/sdk/{environmentId}', ''), op: t.op });
    }
    if (endpoints.length === 0)
      for (const t of targets.filter((x) => x.ipKeyed).slice(0, 3)) endpoints.push({ name: t.op.key, op: t.op });
    if (endpoints.length === 0)
      return ctx.skip('(rule)', `${ctx.spec.profile.id} has no enforced per-IP policy to model`);
    const ips = [addr(70), addr(71), addr(72)];
    const environments: ('main' | 'other')[] = ctx.credentials.otherEnvironmentId ? ['main', 'other'] : ['main'];
    const sdkIp = ctx.spec.profile.rateLimits['sdk-ip']?.windows;
    const maxBurst = Math.max(4, Math.min(30, Math.ceil((sdkIp?.[0]?.limit ?? 30) / 2)));
    const shape = {
      ips: ips.length,
      endpoints: endpoints.length,
      environments: environments.length,
      maxBurst,
      maxAdvance: 90,
      maxCommands: 20,
    };
    const names = { ips, endpoints: endpoints.map((e) => e.name), environments };
    const numRuns = Math.min(ctx.fc.runs, 40);
    let runs = 0;
    let requests = 0;

    /** Replays commands on a reset mock and a fresh model; returns the first disagreement, if any. */
    const replay = async (commands: readonly RateCommand[]): Promise<string | undefined> => {
      const model = new RateLimitModel(modelPolicies(ctx));
      await mockControl(ctx).reset();
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
            if (problem)
              return (
                `command ${ci + 1} (${describeCommand(c, names)}` +
                `), request ${k + 1} at t=${model.now} s: ` +
                `${problem}`
              );
          }
        }
      }
      return undefined;
    };
    /** One request on the mock and the model; the disagreement, if any. */
    const step = async (
      model: RateLimitModel,
      ep: Endpoint,
      ip: string,
      env: 'main' | 'other',
    ): Promise<string | undefined> => {
      const expected = model.send(modelRequest(ctx, ep.op, ip, env));
      const built = rateRequest(ctx, ep.op, { ip, env });
      if (!isRequest(built)) throw new Error(built.skip);
      const res = await ctx.client.send(built);
      requests++;
      const problem = disagreement(ctx, expected, res);
      return problem ? `${ep.name} from ${ip}${env === 'other' ? ' (other environment)' : ''}: ${problem}` : undefined;
    };

    const result = await checkProperty(
      ctx,
      [rateCommands(shape)],
      async (commands) => {
        runs++;
        return (await replay(commands)) === undefined;
      },
      { numRuns, timeLimitMs: 60_000 },
    );
    const subject = `model agreement over ${endpoints.map((e) => e.name).join(', ')} from ${ips.length} addresses`;
    ctx.log(`RATE-014: ${runs} sequences, ${requests} requests, seed ${ctx.fc.seed}`);
    if (!result.failed) return ctx.pass(subject);
    if (result.interrupted && !result.counterexample)
      return ctx.fail(
        subject,
        `the property was interrupted after ${result.numRuns} runs (time limit); ${result.replay}`,
      );
    const counterexample = result.counterexample?.[0] ?? [];
    const why =
      (await replay(counterexample)) ?? (result.error instanceof Error ? result.error.message : 'the property failed');
    ctx.fail(
      subject,
      `the mock disagrees with the reference model: ${why}; counterexample (${counterexample.length} ` +
        `commands): ` +
        counterexample.map((c) => describeCommand(c, names)).join('; ') +
        `; replay: ${result.replay}`,
    );
  },
};
