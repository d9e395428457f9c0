/**
 * Test support: small report.json-shaped values for the nightly modules, built from a per-rule table of subject
 * statuses — the same shape the matrix reporter writes (rules[].failures, rules[].outcomes, operations[].results).
 */
import type { NightlyStatus, ReportLike, RuleEntry } from '../../../src/nightly/types.js';

export type Table = Record<string, Record<string, NightlyStatus>>;

/** A report whose rule `id` has the given subject → status outcomes. */
export function reportOf(
  table: Table,
  startedAt = '2026-12-01T03:23:00.000Z',
  options: { withOutcomes?: boolean } = {},
): ReportLike {
  const withOutcomes = options.withOutcomes ?? true;
  const rules: RuleEntry[] = Object.entries(table).map(([id, subjects]) => {
    const statuses = Object.values(subjects);
    const status: NightlyStatus = statuses.includes('fail')
      ? 'fail'
      : statuses.includes('inconclusive')
        ? 'inconclusive'
        : statuses.includes('pass')
          ? 'pass'
          : 'skip';
    const rule: RuleEntry = {
      id,
      title: `${id} title`,
      tags: [`@${id.split('-')[0]!.toLowerCase()}`],
      level: 'documented',
      source: 'docs',
      mode: 'enforce',
      status,
      reportOnly: false,
      counts: {
        pass: statuses.filter((s) => s === 'pass').length,
        fail: statuses.filter((s) => s === 'fail').length,
        skip: 0,
        inconclusive: 0,
      },
      failures: Object.entries(subjects)
        .filter(([, s]) => s === 'fail')
        .map(([subject]) => ({ subject, reason: `expected 401, got 200 on ${subject}` })),
      skipReasons: [],
    };
    if (withOutcomes) rule.outcomes = Object.entries(subjects).map(([subject, s]) => ({ subject, status: s }));
    return rule;
  });
  const ops = new Map<string, Record<string, string>>();
  for (const [id, subjects] of Object.entries(table)) {
    for (const [subject, s] of Object.entries(subjects)) {
      if (!subject.includes(' /')) continue;
      ops.set(subject, { ...ops.get(subject), [id]: s });
    }
  }
  return {
    tool: 'dynamic-api-conformance',
    target: 'mock',
    profile: 'docs-2026',
    fcSeed: 42,
    specHash: 'abc',
    startedAt,
    durationMs: 1234,
    runStatus: 'passed',
    counts: {
      rules: {
        pass: rules.filter((r) => r.status === 'pass').length,
        fail: rules.filter((r) => r.status === 'fail').length,
        skip: 0,
        inconclusive: 0,
        deviation: 0,
      },
      outcomes: {},
      requests: 10,
    },
    rules,
    operations: [...ops].map(([key, results]) => ({ key, operationId: key, auth: 'api-token', tag: 'T', results })),
  };
}

/** A JSON round trip: what a file write and read make of a report. */
export const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
