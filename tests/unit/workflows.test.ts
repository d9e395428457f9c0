/**
 * The CI workflows (SEC-006, SH-06, SH-07): valid YAML; ci.yml runs npm test with chromium on every push and pull
 * request and holds no secrets; nightly.yml runs only on schedule and manual dispatch, behind the `sandbox`
 * environment, shards with blob reports, merges them into one HTML report and one matrix, masks derived secrets and
 * scans every artifact before uploading it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../src/engine/config.js';
import { auditWorkflow, workflowTriggers } from '../../src/checks/secrets.js';

interface Step { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> }
interface Job { name?: string; needs?: string | string[]; if?: string; environment?: unknown; container?: unknown; strategy?: { matrix?: Record<string, unknown> }; env?: Record<string, string>; steps: Step[] }
interface Workflow { name: string; on: unknown; permissions?: Record<string, string>; env?: Record<string, string>; jobs: Record<string, Job> }

function load(file: string): Workflow {
  const doc = parse(readFileSync(join(ROOT, '.github', 'workflows', file), 'utf8'), { strict: true, uniqueKeys: true }) as Workflow;
  assert.equal(typeof doc, 'object', `${file} is not a YAML mapping`);
  assert.ok(doc.jobs && Object.keys(doc.jobs).length, `${file} has no jobs`);
  return doc;
}

const ci = load('ci.yml');
const nightly = load('nightly.yml');
const runs = (job: Job): string => job.steps.map((s) => s.run ?? '').join('\n');
const indexOf = (job: Job, predicate: (s: Step) => boolean): number => job.steps.findIndex(predicate);

test('ci.yml: every push and pull request runs npm ci, installs chromium and runs npm test, without secrets', () => {
  assert.deepEqual(workflowTriggers(ci).sort(), ['pull_request', 'push']);
  assert.equal(ci.permissions?.contents, 'read');
  assert.doesNotMatch(JSON.stringify(ci), /secrets\./, 'ci.yml runs on fork pull requests: it must not reference secrets');
  const [job] = Object.values(ci.jobs);
  assert.ok(job);
  const script = runs(job);
  const order = [/npm ci/, /apt-get install[^\n]*chromium/, /^\s*npm test\b/m].map((re) => indexOf(job, (s) => re.test(s.run ?? '')));
  assert.ok(order.every((i) => i >= 0), `missing step: ${script}`);
  assert.ok(order[0]! < order[2]! && order[1]! < order[2]!, 'npm ci and chromium come before npm test');
  assert.match(String(job.container), /bookworm/, 'Debian chromium lives at /usr/bin/chromium on a bookworm image');
});

test('nightly.yml: only schedule and manual dispatch trigger it; it never runs in forks', () => {
  assert.deepEqual(workflowTriggers(nightly).sort(), ['schedule', 'workflow_dispatch']);
  assert.doesNotMatch(JSON.stringify(nightly.on), /pull_request/);
  assert.equal(nightly.permissions?.contents, 'read');
  for (const [id, job] of Object.entries(nightly.jobs)) assert.match(job.if ?? '', /!github\.event\.repository\.fork/, `${id} must not run in forks`);
});

test('nightly.yml: every job holding live credentials sits behind the sandbox environment', () => {
  const findings = auditWorkflow('nightly.yml', nightly);
  assert.ok(findings.filter((f) => f.live).length >= 2, 'the shard job and the report job hold the sandbox credentials');
  for (const f of findings) assert.deepEqual(f.problems, [], f.subject);
  for (const [id, job] of Object.entries(nightly.jobs)) if (/secrets\./.test(JSON.stringify(job))) assert.equal(job.environment, 'sandbox', id);
});

test('nightly.yml: a 2-shard matrix runs the suite against live with blob reports, masking derived secrets first', () => {
  const shard = nightly.jobs.conformance;
  assert.ok(shard, 'a conformance job');
  assert.deepEqual(shard.strategy?.matrix?.shard, [1, 2]);
  assert.equal(shard.env?.DYNAMIC_TARGET, 'live');
  assert.match(shard.env?.DYNAMIC_API_TOKEN ?? '', /\$\{\{\s*secrets\.DYNAMIC_API_TOKEN\s*\}\}/);
  assert.match(shard.env?.FC_SEED ?? '', /run_number|fc_seed/, 'all shards share one fast-check seed');
  const suite = indexOf(shard, (s) => /npx playwright test\b/.test(s.run ?? ''));
  assert.ok(suite >= 0);
  assert.match(shard.steps[suite]!.run!, /--shard=\$\{\{ matrix\.shard \}\}\/2/);
  assert.match(shard.steps[suite]!.run!, /--reporter=blob/);
  const mask = indexOf(shard, (s) => /--github-masks|::add-mask::/.test(s.run ?? ''));
  assert.ok(mask >= 0 && mask < suite, 'derived secrets are masked before the suite runs');
});

test('nightly.yml: the report job merges the blobs into one HTML report and one matrix, then scans before uploading', () => {
  const report = nightly.jobs.report;
  assert.ok(report, 'a report job');
  assert.deepEqual([report.needs].flat(), ['conformance']);
  const download = indexOf(report, (s) => /^actions\/download-artifact@/.test(s.uses ?? ''));
  const merge = indexOf(report, (s) => /npx playwright merge-reports\b/.test(s.run ?? ''));
  const scan = indexOf(report, (s) => /secrets:scan/.test(s.run ?? ''));
  const upload = indexOf(report, (s) => /^actions\/upload-artifact@/.test(s.uses ?? ''));
  assert.ok(download >= 0 && merge > download && scan > merge && upload > scan, `order: download ${download} < merge ${merge} < scan ${scan} < upload ${upload}`);
  assert.match(report.steps[merge]!.run!, /--config playwright\.config\.ts/, 'the configuration brings html, junit and the matrix reporter');
  for (const folder of ['playwright-report', 'conformance-report', 'test-results']) assert.match(report.steps[scan]!.run!, new RegExp(folder));
  assert.equal(report.steps[scan]!.if, undefined, 'a failing scan stops the upload');
});

test('every upload in a live job comes after a secret scan; nothing uploads test-results wholesale from live jobs', () => {
  for (const [id, job] of Object.entries(nightly.jobs)) {
    if (!/secrets\./.test(JSON.stringify(job))) continue;
    const scan = indexOf(job, (s) => /secrets:scan/.test(s.run ?? ''));
    job.steps.forEach((s, i) => {
      if (!/^actions\/upload-artifact@/.test(s.uses ?? '')) return;
      assert.ok(scan >= 0 && scan < i, `${id}: upload step ${i + 1} comes before the secret scan`);
      assert.doesNotMatch(typeof s.with?.path === 'string' ? s.with.path : '', /^\s*test-results\/?\s*$/m, `${id}: traces and error contexts in test-results/ stay on the runner`);
    });
  }
});

test('the SEC-006 audit flags live jobs on pull requests, without an environment, or uploading before the scan', () => {
  const bad = parse(`
on: [push, pull_request_target]
jobs:
  live:
    runs-on: ubuntu-latest
    env: { DYNAMIC_API_TOKEN: "\${{ secrets.DYNAMIC_API_TOKEN }}" }
    steps:
      - run: npx playwright test
      - uses: actions/upload-artifact@v4
        with: { path: playwright-report }
      - run: npm run secrets:scan -- playwright-report
  mock:
    runs-on: ubuntu-latest
    steps: [{ run: npm test }]
`) as unknown;
  const [live, mock] = auditWorkflow('bad.yml', bad);
  assert.ok(live?.live);
  assert.match(live.problems.join('\n'), /untrusted triggers: push, pull_request_target/);
  assert.match(live.problems.join('\n'), /no environment/);
  assert.match(live.problems.join('\n'), /uploads artifacts \(step 2\) without a secret scan before it/);
  assert.deepEqual(mock, { subject: 'bad.yml › mock', live: false, problems: [] });
});

test('nightly.yml: a mutants job runs the full mutation harness on the mock, with no secrets and no environment', () => {
  const job = nightly.jobs['mutants'];
  assert.ok(job, 'nightly.yml has a mutants job');
  assert.match(runs(job), /^npm run mutants$/m, 'every fault, not --fast or --per-rule');
  assert.doesNotMatch(JSON.stringify(job), /secrets\.|DYNAMIC_TARGET/);
  assert.equal(job.environment, undefined);
  assert.match(job.if ?? '', /!github\.event\.repository\.fork/);
});
