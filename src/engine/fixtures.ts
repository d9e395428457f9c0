/**
 * The only `test` the conformance specs import. Worker-scoped `suite` (config, spec, schemas, credentials, client);
 * test-scoped `conformance.check(check)` runs one rule's check, attaches its outcomes and the redacted exchanges of
 * its failures to the report, and turns them into the verdict: fail only for an enforced rule, skip with the reason
 * when nothing could be asserted (never a silent pass).
 */
// Playwright's base test, not `test`: the checks send with the suite's own client, never a browser or Playwright's
// request context, so `test`'s automatic per-test fixtures (trace recording, browser context options) had nothing to
// record or configure. They cost ~3 CPU-s per 70 tests (two boxed steps each, set up and torn down, every one
// capturing a source-mapped stack).
import { setPriority } from 'node:os';
import { readdirSync } from 'node:fs';
import { _baseTest as base, type TestInfo } from '@playwright/test';
import type { Suite } from './runner.js';
import { redact } from '../secrets/redact.js';
import type { Check, CheckResult, Outcome } from './types.js';
import { samplingRecordOf } from './sampler.js';
import { describeEntry } from '../nightly/baseline.js';
import { ruleVerdict } from '../nightly/annotate.js';
import { suiteNightlyInputs } from '../nightly/suite-inputs.js';

export const OUTCOMES_ATTACHMENT = 'conformance-outcomes';
export const DRIFT_ATTACHMENT = 'conformance-drift';

export interface Conformance {
  /** Runs the check of one rule against the target and reports it. */
  check(check: Check): Promise<CheckResult | undefined>;
}

/** ' [expected 401, received 200]' when the outcome carries them. */
function expectedReceived(o: Outcome): string {
  const parts = [
    o.expected !== undefined ? `expected ${o.expected}` : '',
    o.received !== undefined ? `received ${o.received}` : '',
  ];
  const text = parts.filter(Boolean).join(', ');
  return text ? ` [${text}]` : '';
}

function summary(result: CheckResult): string {
  const failures = result.outcomes.filter((o) => o.status === 'fail');
  const lines = failures.slice(0, 15).map((o) => `  ✗ ${o.subject}:${expectedReceived(o)} ${o.reason ?? ''}`);
  const more =
    failures.length > 15 ? `\n  … and ${failures.length - 15} more (see the ${OUTCOMES_ATTACHMENT} attachment)` : '';
  return (
    `${result.rule.id} failed on ${failures.length} of ` +
    `${result.outcomes.length} subject(s): ${result.rule.title}\n` +
    `${lines.join('\n')}${more}`
  );
}

async function report(testInfo: TestInfo, suite: Suite, result: CheckResult, mode: string): Promise<void> {
  const { rule } = result;
  testInfo.annotations.push(
    { type: 'rule', description: `${rule.id} (${rule.level}; ${mode} on ${suite.config.target})` },
    { type: 'source', description: rule.source },
    { type: 'fast-check seed', description: `${suite.fc.seed}${suite.fc.path ? ` path ${suite.fc.path}` : ''}` },
    { type: 'docs profile', description: suite.spec.profile.id },
  );
  await testInfo.attach(OUTCOMES_ATTACHMENT, {
    contentType: 'application/json',
    body: redact(
      JSON.stringify(
        {
          rule: rule.id,
          mode,
          target: suite.config.target,
          profile: suite.spec.profile.id,
          seed: suite.fc.seed,
          requests: result.requests,
          ms: Math.round(result.ms),
          unplanned429: result.unplanned429,
          sampling: samplingRecordOf(rule.id),
          transport: { ...result.transport, thresholdPercent: suite.config.transportFailureThreshold },
          outcomes: result.outcomes,
        },
        null,
        1,
      ),
    ),
  });
  if (result.unplanned429) {
    testInfo.annotations.push({
      type: 'unplanned 429',
      description:
        `${result.unplanned429} request(s) of this rule got a ` +
        `429 the pacer should have prevented (honoured: ` +
        `Retry-After)`,
    });
  }
  if (result.drift.length) {
    await testInfo.attach(DRIFT_ATTACHMENT, {
      contentType: 'application/json',
      body: redact(JSON.stringify(result.drift)),
    });
  }
  // Issue #13: subjects left without an answer are shown as such, never as failures (nor silently as passes).
  const unanswered = result.outcomes.filter((o) => o.kind === 'transport');
  if (unanswered.length) {
    const first = unanswered
      .slice(0, 3)
      .map((o) => `${o.subject}: ${o.reason ?? ''}`)
      .join(' | ');
    testInfo.annotations.push({
      type: 'inconclusive (transport)',
      description: redact(
        `${unanswered.length} subject(s) got no answer after retries ` +
          `(transport faults are never conformance failures): ${first}`,
      ),
    });
  }
  if (result.exchanges.length) {
    await testInfo.attach('exchanges (redacted)', {
      contentType: 'application/json',
      body: redact(JSON.stringify(result.exchanges, null, 1)),
    });
    await testInfo.attach('replay (curl)', {
      contentType: 'text/plain',
      body: redact(
        `# credentials are read from your shell variables, never ` +
          `written here\n` +
          result.exchanges.map((e) => e.curl).join('\n') +
          `\n`,
      ),
    });
  }
}

/**
 * Sets the niceness of every thread of this worker: Linux's setpriority applies to one thread, and a worker's V8
 * helper thread (compiles, GC) and loader thread exist before any test runs. Elsewhere (no /proc) the calling thread.
 * Not permitted here: the worker keeps the runner's priority (only the run's length depends on it).
 */
function lowerPriority(niceness: number): void {
  let threads: number[] = [0];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // no /proc: this thread only
  }
  for (const thread of threads) {
    try {
      setPriority(thread, niceness);
    } catch {
      // a thread that ended meanwhile, or no permission: the others still yield
    }
  }
}

/** The worker-scoped options a project sets (playwright.config.ts). */
export interface SuiteOptions {
  /** The project's own target (the rate-limit project's mock instance). */
  apiUrlOverride: string | undefined;
  /**
   * A CPU niceness for the project's workers: the rate-limit project, off the run's critical path, yields the CPU to
   * the conformance workers (undefined: the runner's priority).
   */
  workerNiceness: number | undefined;
}

export const test = base.extend<{ conformance: Conformance }, { suite: Suite } & SuiteOptions>({
  apiUrlOverride: [undefined, { scope: 'worker', option: true }],
  workerNiceness: [undefined, { scope: 'worker', option: true }],
  suite: [
    async ({ apiUrlOverride, workerNiceness }, use, workerInfo) => {
      if (workerNiceness !== undefined) {
        lowerPriority(workerNiceness);
      }
      // Imported here, in the worker: the runner process loads the spec files only to list their tests.
      const { createSuite } = await import('./runner.js');
      const suite = await createSuite(workerInfo.workerIndex, apiUrlOverride);
      try {
        await use(suite);
      } finally {
        // SEC-003: resources that outlived their check are deleted at the end, even after failures.
        const { cleanupFor } = await import('../secrets/safety.js');
        for (const problem of await cleanupFor(suite).runAll()) console.error(problem);
        await suite.client.close();
        await suite.pacer?.close();
      }
    },
    { scope: 'worker' },
  ],
  conformance: async ({ suite }, use, testInfo) => {
    await use({
      async check(check: Check): Promise<CheckResult | undefined> {
        const rule = suite.spec.rulesById.get(check.rule);
        if (!rule) throw new Error(`unknown rule ${check.rule}`);
        const mode = rule.targets[suite.config.target];
        if (mode === 'skip') {
          await testInfo.attach(OUTCOMES_ATTACHMENT, {
            contentType: 'application/json',
            body: JSON.stringify({
              rule: rule.id,
              mode,
              target: suite.config.target,
              profile: suite.spec.profile.id,
              outcomes: [
                {
                  rule: rule.id,
                  subject: '(rule)',
                  status: 'skip',
                  reason:
                    `not asserted on the ${suite.config.target} target ` +
                    `(specs/rules: targets.${suite.config.target} = ` +
                    `skip)`,
                },
              ],
            }),
          });
          testInfo.skip(true, `${rule.id} is not asserted on the ${suite.config.target} target`);
          return undefined;
        }
        const { runCheck } = await import('./runner.js');
        const result = await runCheck(suite, check, (line) => console.log(line));
        await report(testInfo, suite, result, mode);
        const failed = result.outcomes.filter((o) => o.status === 'fail');
        if (result.outcomes.length === 0)
          throw new Error(`${rule.id}: the check produced no outcome — a check that asserts nothing is a defect`);
        // Known deviations, CONFORMANCE_FAIL_ON and expired entries decide here, where the test runs, so the exit code
        // of every run — one process or a shard — follows them (README "Running it nightly").
        const nightly = suiteNightlyInputs(
          suite.config,
          (id, v) => suite.schemas.validate(id, v),
          new Set(suite.spec.rulesById.keys()),
        );
        const verdict = ruleVerdict(rule.id, mode, result.outcomes, nightly, suite.config.nightly.today);
        if (verdict.known.size && nightly.baseline) {
          const entries = [...new Set(verdict.known.values())].map(
            (i) => `${describeEntry(nightly.baseline!, i)}: ${nightly.baseline!.deviations[i]!.reason}`,
          );
          testInfo.annotations.push({
            type: 'known deviation',
            description: redact(`${verdict.known.size} failure(s) match ${entries.join('; ')}`),
          });
        }
        if (verdict.expired.length)
          throw new Error(redact(`${verdict.expired.join('\n')}${failed.length ? `\n${summary(result)}` : ''}`));
        if (verdict.fails) throw new Error(redact(summary(result)));
        if (verdict.failing.length && mode === 'enforce') {
          testInfo.annotations.push({
            type: 'still failing (not new)',
            description: redact(
              `CONFORMANCE_FAIL_ON=new: ${verdict.failing.length} ` +
                `failure(s) already failing at the previous run — ` +
                `${summary(result)}`,
            ),
          });
        } else if (verdict.failing.length)
          testInfo.annotations.push({ type: 'deviation (report-only)', description: redact(summary(result)) });
        if (result.outcomes.every((o) => o.status === 'skip'))
          testInfo.skip(true, redact(`${rule.id}: ${[...new Set(result.outcomes.map((o) => o.reason))].join('; ')}`));
        return result;
      },
    });
  },
});

export { expect } from '@playwright/test';
