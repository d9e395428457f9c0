/**
 * The mutation run (`npm run mutants` writes the plan and starts this): one test per (mock instance × rule), each
 * running the rule's registered check against the instance of one fault (or a clean one) and recording the rule's
 * status as the conformance matrix computes it — `fail` when any outcome failed or the check threw. A rule failing
 * here is a kill, not a test failure, so the worker is never restarted; the harness reads the verdicts.
 */
import { test as base } from '@playwright/test';
import { checkFor } from '../../src/checks/index.js';
import { redact } from '../../src/secrets/redact.js';
import { createSuite, runCheck, type Suite } from '../../src/engine/runner.js';
import { cleanupFor } from '../../src/secrets/safety.js';
import type { Check } from '../../src/engine/types.js';
import { VERDICT_ANNOTATION, readPlan, type MutantVerdict } from '../../scripts/mutants/plan.js';

/** Suites kept open per worker (one per mock instance, least recently used closed first). */
const OPEN_SUITES = 6;

interface Suites {
  /** The worker's suite for an instance, built on first use. */
  get(apiUrl: string): Promise<Suite>;
}

async function closeSuite(suite: Suite): Promise<void> {
  for (const problem of await cleanupFor(suite).runAll()) console.error(problem);
  await suite.client.close();
}

const test = base.extend<object, { suites: Suites }>({
  suites: [
    async ({}, use, workerInfo) => {
      const open = new Map<string, Promise<Suite>>();
      await use({
        async get(apiUrl) {
          let suite = open.get(apiUrl);
          if (suite) open.delete(apiUrl);
          else suite = createSuite(workerInfo.workerIndex, apiUrl);
          open.set(apiUrl, suite);
          while (open.size > OPEN_SUITES) {
            const [oldest, evicted] = open.entries().next().value as [string, Promise<Suite>];
            open.delete(oldest);
            await closeSuite(await evicted);
          }
          return suite;
        },
      });
      for (const suite of open.values()) await closeSuite(await suite);
    },
    { scope: 'worker' },
  ],
});

async function verdictOf(suite: Suite, check: Check, run: string): Promise<MutantVerdict> {
  const rule = suite.spec.rulesById.get(check.rule);
  if (!rule) throw new Error(`unknown rule ${check.rule}`);
  if (rule.targets[suite.config.target] === 'skip')
    return { run, rule: rule.id, status: 'skip', note: `not asserted on the ${suite.config.target} target` };
  try {
    const { outcomes } = await runCheck(suite, check);
    const failed = outcomes.find((o) => o.status === 'fail');
    const status = failed
      ? 'fail'
      : outcomes.some((o) => o.status === 'inconclusive')
        ? 'inconclusive'
        : outcomes.some((o) => o.status === 'pass')
          ? 'pass'
          : 'skip';
    return { run, rule: rule.id, status, ...(failed ? { note: `${failed.subject}: ${failed.reason ?? ''}` } : {}) };
  } catch (error) {
    return { run, rule: rule.id, status: 'fail', note: redact(`the check threw: ${(error as Error).message}`) };
  }
}

for (const run of readPlan().runs) {
  test.describe(run.id, () => {
    if (run.serial) test.describe.configure({ mode: 'default' });
    for (const ruleId of run.rules) {
      const check = checkFor(ruleId);
      test(`${run.id} › ${ruleId}`, async ({ suites }, testInfo) => {
        if (!check) throw new Error(`no check registered for ${ruleId}`);
        const verdict = await verdictOf(await suites.get(run.apiUrl), check, run.id);
        testInfo.annotations.push({ type: VERDICT_ANNOTATION, description: JSON.stringify(verdict) });
      });
    }
  });
}
