/**
 * The plan of one mutation run, written by scripts/mutants.ts and read by tests/mutants/mutants.spec.ts: which rules
 * run against which mock instance (one instance per fault, plus clean ones), all in one Playwright invocation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MUTANTS_OUT = join(ROOT, 'mutants-report');
export const PLAN_FILE = join(MUTANTS_OUT, 'plan.json');
/** The annotation each mutants test records its rule verdict in. */
export const VERDICT_ANNOTATION = 'mutant-verdict';

/** One group of rules against one mock instance. */
export interface PlanRun {
  /** A fault id, or `clean` / `clean-rate` for the fault-free instances. */
  id: string;
  /** The faults the instance was started with (checked against its control API before the run). */
  faults: string[];
  /** The instance's API base URL (`http://127.0.0.1:<port>/api/v0`). */
  apiUrl: string;
  /** Rule ids to run against it, in order. */
  rules: string[];
  /** Run the rules one after another in one worker (the rate-limit family moves the instance's clock). */
  serial: boolean;
}

export interface MutantsPlan {
  runs: PlanRun[];
}

/** What one mutants test found for its rule on its instance (the matrix's rule status). */
export interface MutantVerdict {
  run: string;
  rule: string;
  status: 'pass' | 'fail' | 'skip' | 'inconclusive';
  /** The first failure reason, or the error the check threw (redacted). */
  note?: string;
}

/** Reads the plan; a readable error when `npm run mutants` did not write one. */
export function readPlan(): MutantsPlan {
  try {
    return JSON.parse(readFileSync(PLAN_FILE, 'utf8')) as MutantsPlan;
  } catch (error) {
    throw new Error(
      `no mutation plan at ${PLAN_FILE} (` +
        `${(error as Error).message.split('\n')[0]}): run \`npm run ` +
        `mutants\`, which writes it`,
    );
  }
}
