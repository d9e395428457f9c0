/**
 * The only `test` the conformance specs import. Worker-scoped `suite` (config, spec, schemas, credentials, client);
 * test-scoped `conformance.check(check)` runs one rule's check, attaches its outcomes and the redacted exchanges of
 * its failures to the report, and turns them into the verdict: fail only for an enforced rule, skip with the reason
 * when nothing could be asserted (never a silent pass).
 */
import { test as base, type TestInfo } from '@playwright/test';
import { createSuite, runCheck, type Suite } from './runner.js';
import { redact } from '../secrets/redact.js';
import { cleanupFor } from '../secrets/safety.js';
import type { Check, CheckResult } from './types.js';

export const OUTCOMES_ATTACHMENT = 'conformance-outcomes';

export interface Conformance {
  /** Runs the check of one rule against the target and reports it. */
  check(check: Check): Promise<CheckResult | undefined>;
}

function summary(result: CheckResult): string {
  const failures = result.outcomes.filter((o) => o.status === 'fail');
  const lines = failures.slice(0, 15).map((o) => `  ✗ ${o.subject}: ${o.reason ?? ''}`);
  const more = failures.length > 15 ? `\n  … and ${failures.length - 15} more (see the ${OUTCOMES_ATTACHMENT} attachment)` : '';
  return `${result.rule.id} failed on ${failures.length} of ${result.outcomes.length} subject(s): ${result.rule.title}\n${lines.join('\n')}${more}`;
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
    body: redact(JSON.stringify({ rule: rule.id, mode, target: suite.config.target, profile: suite.spec.profile.id, seed: suite.fc.seed, requests: result.requests, ms: Math.round(result.ms), outcomes: result.outcomes }, null, 1)),
  });
  if (result.exchanges.length) {
    await testInfo.attach('exchanges (redacted)', { contentType: 'application/json', body: redact(JSON.stringify(result.exchanges, null, 1)) });
    await testInfo.attach('replay (curl)', { contentType: 'text/plain', body: redact(`# credentials are read from your shell variables, never written here\n${result.exchanges.map((e) => e.curl).join('\n')}\n`) });
  }
}

export const test = base.extend<{ conformance: Conformance }, { suite: Suite; apiUrlOverride: string | undefined }>({
  apiUrlOverride: [undefined, { scope: 'worker', option: true }],
  suite: [
    async ({ apiUrlOverride }, use, workerInfo) => {
      const suite = await createSuite(workerInfo.workerIndex, apiUrlOverride);
      try {
        await use(suite);
      } finally {
        // SEC-003: resources that outlived their check are deleted at the end, even after failures.
        for (const problem of await cleanupFor(suite).runAll()) console.error(problem);
        await suite.client.close();
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
            body: JSON.stringify({ rule: rule.id, mode, target: suite.config.target, profile: suite.spec.profile.id, outcomes: [{ rule: rule.id, subject: '(rule)', status: 'skip', reason: `not asserted on the ${suite.config.target} target (specs/rules: targets.${suite.config.target} = skip)` }] }),
          });
          testInfo.skip(true, `${rule.id} is not asserted on the ${suite.config.target} target`);
          return undefined;
        }
        const result = await runCheck(suite, check, (line) => console.log(line));
        await report(testInfo, suite, result, mode);
        const failed = result.outcomes.filter((o) => o.status === 'fail');
        if (result.outcomes.length === 0) throw new Error(`${rule.id}: the check produced no outcome — a check that asserts nothing is a defect`);
        if (failed.length && mode === 'enforce') throw new Error(redact(summary(result)));
        if (failed.length) testInfo.annotations.push({ type: 'deviation (report-only)', description: redact(summary(result)) });
        if (result.outcomes.every((o) => o.status === 'skip')) testInfo.skip(true, redact(`${rule.id}: ${[...new Set(result.outcomes.map((o) => o.reason))].join('; ')}`));
        return result;
      },
    });
  },
});

export { expect } from '@playwright/test';
