/**
 * fast-check settings for every property: the run's seed (printed and attached), FC_PATH replay, run counts and a
 * time limit below the test timeout so a property is interrupted (and reported) instead of killed mid-request.
 */
import type { Parameters } from 'fast-check';
import type { SuiteConfig } from './config.js';

export interface FcSettings {
  seed: number;
  path: string | undefined;
  runs: number;
  /** Parameters for fc.assert: seed, path (replay), numRuns, interruptAfterTimeLimit. */
  parameters<T>(overrides?: { numRuns?: number; timeLimitMs?: number }): Parameters<T>;
  /** The line a user copies to replay a failure of rule `ruleId` (its id selects the test with -g). */
  replayLine(ruleId: string, path?: string): string;
}

export function fcSettings(config: SuiteConfig): FcSettings {
  const { seed, path, runs } = config.fc;
  return {
    seed,
    path,
    runs,
    parameters<T>(overrides: { numRuns?: number; timeLimitMs?: number } = {}): Parameters<T> {
      return {
        seed,
        numRuns: overrides.numRuns ?? runs,
        interruptAfterTimeLimit: overrides.timeLimitMs ?? 40_000,
        markInterruptAsFailure: true,
        ...(path ? { path, endOnFailure: true } : {}),
      };
    },
    replayLine(ruleId: string, failurePath?: string): string {
      const replayPath = failurePath ?? path;
      return `FC_SEED=${seed}${replayPath ? ` FC_PATH=${replayPath}` : ''} npm run conformance -- -g '${ruleId}'`;
    },
  };
}
