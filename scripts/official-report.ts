/**
 * npm run specs:official — prints how far specs/dynamic-api.openapi.json agrees with Dynamic's official OpenAPI
 * document (the committed copy, or `--from <public-api.yaml>`): the issue-12 "Done when" numbers, measured by
 * scripts/derive/measure.ts. Exit code 1 when a threshold is missed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../src/engine/config.js';
import { SchemaRegistry } from '../src/engine/schemas.js';
import { toRegistrySchema } from '../src/engine/spec.js';
import { loadOfficial } from './derive/official.js';
import { reconcile } from './derive/measure.js';

const args = process.argv.slice(2);
const fromAt = args.indexOf('--from');
const file =
  fromAt >= 0 && args[fromAt + 1] ? args[fromAt + 1]! : join(ROOT, 'specs', 'sources', 'official', 'public-api.yaml');
const spec = JSON.parse(readFileSync(join(ROOT, 'specs', 'dynamic-api.openapi.json'), 'utf8')) as Record<
  string,
  unknown
>;
const registry = new SchemaRegistry();
const n = reconcile(
  loadOfficial(file),
  spec,
  (schema, value) => registry.validate(toRegistrySchema(schema), value).valid,
);
const pct = (a: number, b: number): string => `${((100 * a) / Math.max(b, 1)).toFixed(1)} %`;
const lines = [
  `official operations in the spec: ${n.present}/` +
    `${n.officialOperations}` +
    (n.missing.length ? ` (missing: ${n.missing.join(', ')})` : ''),
  `operations the document secures classed none: ` +
    `${n.securedClassedNone.length}` +
    (n.securedClassedNone.length ? ` (${n.securedClassedNone.join(', ')})` : ''),
  `auth conflicts recorded: ${n.conflicts.total} (live: ${n.conflicts.enforce} ` +
    `enforce, ${n.conflicts.report} report); unrecorded: ` +
    `${n.unrecordedConflicts.length}`,
  `success-status sets agree: ${n.successAgree}/${n.shared} shared operations` +
    (n.successDisagree.length
      ? ` (differ: ` +
        n.successDisagree
          .map((d) => `${d.key} official [${d.official.join(',')}] spec [${d.spec.join(',')}]`)
          .join('; ') +
        `)`
      : ''),
  `error statuses fully documented: ${n.errorCoverage.complete}/` +
    `${n.errorCoverage.total} shared operations (` +
    `${pct(n.errorCoverage.complete, n.errorCoverage.total)})`,
  `payload-403 operations accepting the documented body: ${n.payload403.accepting}/${n.payload403.total}`,
  `official constraints kept: ${n.constraints.kept}/${n.constraints.official} (lost ` +
    `${n.constraints.lost.length} = ${pct(n.constraints.lost.length, n.constraints.official)})` +
    (n.constraints.lost.length ? `\n  lost: ${n.constraints.lost.slice(0, 20).join('\n  lost: ')}` : ''),
];
process.stdout.write(`${lines.join('\n')}\n`);
const ok =
  n.missing.length === 0 &&
  n.securedClassedNone.length === 0 &&
  n.unrecordedConflicts.length === 0 &&
  n.successAgree >= 266 &&
  n.errorCoverage.complete >= 0.95 * n.errorCoverage.total &&
  n.payload403.accepting === n.payload403.total &&
  n.constraints.lost.length <= 0.05 * n.constraints.official;
process.exit(ok ? 0 : 1);
