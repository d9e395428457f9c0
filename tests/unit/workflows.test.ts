/**
 * The CI workflows (SEC-006, SH-06, SH-07): valid YAML; ci.yml runs npm ci then npm test on every push and pull
 * request, installs nothing outside npm (the browser ships in an npm package) and holds no secrets; nightly.yml runs
 * only on schedule and manual dispatch, behind the `sandbox` environment, shards with blob reports, merges them into
 * one HTML report and one matrix, masks derived secrets and scans every artifact before uploading it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../src/engine/config.js';
import { auditWorkflow, workflowTriggers } from '../../src/checks/support/ci-workflows.js';
import { TRACKING_MARKER } from '../../src/nightly/step-summary.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: unknown;
  container?: unknown;
  strategy?: { matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: unknown;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function load(file: string): Workflow {
  const doc = parse(readFileSync(join(ROOT, '.github', 'workflows', file), 'utf8'), {
    strict: true,
    uniqueKeys: true,
  }) as Workflow;
  assert.equal(typeof doc, 'object', `${file} is not a YAML mapping`);
  assert.ok(doc.jobs && Object.keys(doc.jobs).length, `${file} has no jobs`);
  return doc;
}

const ci = load('ci.yml');
const nightly = load('nightly.yml');
const runs = (job: Job): string => job.steps.map((s) => s.run ?? '').join('\n');
const indexOf = (job: Job, predicate: (s: Step) => boolean): number => job.steps.findIndex(predicate);

test('ci.yml: every push and pull request runs npm ci and npm test, nothing from outside npm, without secrets', () => {
  assert.deepEqual(workflowTriggers(ci).sort(), ['pull_request', 'push']);
  assert.equal(ci.permissions?.contents, 'read');
  assert.doesNotMatch(
    JSON.stringify(ci),
    /secrets\./,
    'ci.yml runs on fork pull requests: it must not reference secrets',
  );
  const [job] = Object.values(ci.jobs);
  assert.ok(job);
  const script = runs(job);
  const order = [/npm ci/, /^\s*npm test\b/m].map((re) => indexOf(job, (s) => re.test(s.run ?? '')));
  assert.ok(
    order.every((i) => i >= 0),
    `missing step: ${script}`,
  );
  assert.ok(order[0]! < order[1]!, 'npm ci comes before npm test');
  assert.doesNotMatch(
    script,
    /apt-get|playwright install|curl |wget /,
    'the browser and every tool come from npm ci, not apt or a download',
  );
});

test('nightly.yml: only schedule and manual dispatch trigger it; it never runs in forks', () => {
  assert.deepEqual(workflowTriggers(nightly).sort(), ['schedule', 'workflow_dispatch']);
  assert.doesNotMatch(JSON.stringify(nightly.on), /pull_request/);
  assert.equal(nightly.permissions?.contents, 'read');
  for (const [id, job] of Object.entries(nightly.jobs))
    assert.match(job.if ?? '', /!github\.event\.repository\.fork/, `${id} must not run in forks`);
});

test('nightly.yml: every job holding live credentials sits behind the sandbox environment', () => {
  const findings = auditWorkflow('nightly.yml', nightly);
  assert.ok(
    findings.filter((f) => f.live).length >= 2,
    'the shard job and the report job hold the sandbox credentials',
  );
  for (const f of findings) assert.deepEqual(f.problems, [], f.subject);
  for (const [id, job] of Object.entries(nightly.jobs))
    if (/secrets\./.test(JSON.stringify(job))) assert.equal(job.environment, 'sandbox', id);
});

test('nightly.yml: a 2-shard matrix runs the suite on live with blob reports, masking derived secrets first', () => {
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

test(
  'nightly.yml: the report job merges the blobs into one ' + 'HTML report and one matrix, then scans before uploading',
  () => {
    const report = nightly.jobs.report;
    assert.ok(report, 'a report job');
    assert.deepEqual([report.needs].flat(), ['conformance']);
    const download = indexOf(report, (s) => /^actions\/download-artifact@/.test(s.uses ?? ''));
    const merge = indexOf(report, (s) => /npx playwright merge-reports\b/.test(s.run ?? ''));
    const scan = indexOf(report, (s) => /secrets:scan/.test(s.run ?? ''));
    const upload = indexOf(report, (s) => /^actions\/upload-artifact@/.test(s.uses ?? ''));
    assert.ok(
      download >= 0 && merge > download && scan > merge && upload > scan,
      `order: download ${download} < merge ${merge} < scan ${scan} < upload ${upload}`,
    );
    assert.match(
      report.steps[merge]!.run!,
      /--config playwright\.config\.ts/,
      'the configuration brings html, junit and the matrix reporter',
    );
    for (const folder of ['playwright-report', 'conformance-report', 'test-results'])
      assert.match(report.steps[scan]!.run!, new RegExp(folder));
    assert.equal(report.steps[scan]!.if, undefined, 'a failing scan stops the upload');
  },
);

test(
  'every upload in a live job comes after a secret scan; ' + 'nothing uploads test-results wholesale from live jobs',
  () => {
    for (const [id, job] of Object.entries(nightly.jobs)) {
      if (!/secrets\./.test(JSON.stringify(job))) continue;
      const scan = indexOf(job, (s) => /secrets:scan/.test(s.run ?? ''));
      job.steps.forEach((s, i) => {
        if (!/^actions\/upload-artifact@/.test(s.uses ?? '')) return;
        assert.ok(scan >= 0 && scan < i, `${id}: upload step ${i + 1} comes before the secret scan`);
        assert.doesNotMatch(
          typeof s.with?.path === 'string' ? s.with.path : '',
          /^\s*test-results\/?\s*$/m,
          `${id}: traces and error contexts in test-results/ stay on the runner`,
        );
      });
    }
  },
);

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

test('nightly.yml: a mutants job runs the full mutation harness on the mock, with no secrets, no environment', () => {
  const job = nightly.jobs['mutants'];
  assert.ok(job, 'nightly.yml has a mutants job');
  assert.match(runs(job), /^npm run mutants$/m, 'every fault, not --fast or --per-rule');
  assert.doesNotMatch(JSON.stringify(job), /secrets\.|DYNAMIC_TARGET/);
  assert.equal(job.environment, undefined);
  assert.match(job.if ?? '', /!github\.event\.repository\.fork/);
});

const cacheSteps = (job: Job, kind: 'restore' | 'save'): Step[] =>
  job.steps.filter((s) => s.uses === `actions/cache/${kind}@v4`);

test('nightly.yml: the previous report and the ledger are carried in the cache under a rolling key (issue 14)', () => {
  for (const id of ['conformance', 'report']) {
    const job = nightly.jobs[id]!;
    const [restore] = cacheSteps(job, 'restore');
    assert.ok(restore, `${id} restores the carried state`);
    assert.match(
      String(restore.with?.key),
      /^conformance-state-\$\{\{ github\.run_id \}\}$/,
      'a new key each run: cache entries are immutable',
    );
    assert.match(
      String(restore.with?.['restore-keys']),
      /^conformance-state-$/m,
      'the newest earlier entry is restored by prefix',
    );
    const use = indexOf(
      job,
      (s) =>
        /CONFORMANCE_PREVIOUS=nightly-state\/report\.json/.test(s.run ?? '') &&
        /CONFORMANCE_LEDGER=nightly-state\/ledger\.json/.test(s.run ?? ''),
    );
    assert.ok(
      use > job.steps.indexOf(restore),
      `${id} points CONFORMANCE_PREVIOUS/LEDGER at the restored files when they exist`,
    );
    assert.equal(
      job.env?.CONFORMANCE_FAIL_ON,
      "${{ vars.CONFORMANCE_FAIL_ON || 'new' }}",
      'nightly default: fail on new failures only',
    );
    assert.match(job.env?.CONFORMANCE_FAIL_ON_DRIFT ?? '', /'false'/, 'drift never fails unless opted in');
  }
  const report = nightly.jobs.report!;
  const [save] = cacheSteps(report, 'save');
  assert.ok(save, 'the report job saves tonight as the next previous run');
  assert.equal(save.with?.key, 'conformance-state-${{ github.run_id }}');
  const saveAt = report.steps.indexOf(save);
  const copy = indexOf(report, (s) =>
    /cp conformance-report\/report\.json conformance-report\/ledger\.json nightly-state\//.test(s.run ?? ''),
  );
  assert.ok(
    copy >= 0 && copy < saveAt && /secrets:scan[^\n]*nightly-state/.test(report.steps[copy]!.run!),
    'the state is secret-scanned before it is cached',
  );
  assert.equal(cacheSteps(nightly.jobs.conformance!, 'save').length, 0, 'shards only read the state');
});

test('nightly.yml: the step summary is published from summary.md only after the secret scan', () => {
  const report = nightly.jobs.report!;
  const merge = indexOf(report, (s) => /npx playwright merge-reports\b/.test(s.run ?? ''));
  assert.equal(
    (report.steps[merge] as Step & { env?: Record<string, string> }).env?.GITHUB_STEP_SUMMARY,
    '',
    'the merge does not write the summary itself',
  );
  const scan = indexOf(report, (s) => /secrets:scan/.test(s.run ?? ''));
  const summary = indexOf(report, (s) =>
    /cat conformance-report\/summary\.md >> "\$GITHUB_STEP_SUMMARY"/.test(s.run ?? ''),
  );
  assert.ok(summary > scan && scan > merge, `merge ${merge} < scan ${scan} < summary ${summary}`);
});

test(
  'nightly.yml: one tracking-issue job, the only one with ' +
    'issues: write, holds no secrets and reads the scanned ' +
    'artifact',
  () => {
    const job = nightly.jobs['tracking-issue'] as Job & { permissions?: Record<string, string> };
    assert.ok(job, 'a tracking-issue job');
    assert.deepEqual(job.permissions, { contents: 'read', issues: 'write' });
    assert.deepEqual([job.needs].flat().sort(), ['conformance', 'report']);
    assert.match(job.if ?? '', /!cancelled\(\)/, 'it runs on failing nights too');
    assert.doesNotMatch(JSON.stringify(job), /secrets\./);
    assert.equal(job.environment, undefined);
    assert.ok(job.steps.some((s) => s.uses === './tracking-issue'));
    const failed = String(job.steps.find((s) => s.uses === './tracking-issue')!.with?.failed);
    assert.match(failed, /needs\.conformance\.result != 'success'/, 'a crashed or failing shard is a failing night');
    assert.match(failed, /needs\.report\.outputs\.failed != 'false'/);
    assert.notEqual(nightly.permissions?.issues, 'write');
    for (const [id, other] of Object.entries(nightly.jobs)) {
      if (id !== 'tracking-issue')
        assert.notEqual(
          (other as { permissions?: Record<string, string> }).permissions?.issues,
          'write',
          `${id} must not write issues`,
        );
    }
  },
);

interface Issue {
  number: number;
  body: string;
  state: string;
  title: string;
  labels?: string[];
  pull_request?: unknown;
}

/** Runs tracking-issue/action.yml's github-script against an in-memory issue list, the way github-script does. */
async function runTrackingScript(
  issues: Issue[],
  failed: boolean,
  summary: string | undefined,
): Promise<{ issues: Issue[]; comments: { issue: number; body: string }[] }> {
  const action = parse(readFileSync(join(ROOT, 'tracking-issue', 'action.yml'), 'utf8')) as {
    runs: { using: string; steps: (Step & { env?: Record<string, string> })[] };
  };
  assert.equal(action.runs.using, 'composite');
  const step = action.runs.steps.find((s) => /^actions\/github-script@v7$/.test(s.uses ?? ''))!;
  const script = String(step.with?.script);
  const comments: { issue: number; body: string }[] = [];
  const rest = {
    issues: {
      listForRepo: Symbol('listForRepo'),
      update: async (p: { issue_number: number; body?: string; state?: string }) => {
        const i = issues.find((x) => x.number === p.issue_number)!;
        if (p.body !== undefined) i.body = p.body;
        if (p.state) i.state = p.state;
        return Promise.resolve({ data: i });
      },
      create: async (p: { title: string; body: string; labels: string[] }) => {
        const i = { number: issues.length + 100, state: 'open', ...p };
        issues.push(i);
        return Promise.resolve({ data: i });
      },
      createComment: async (p: { issue_number: number; body: string }) => {
        comments.push({ issue: p.issue_number, body: p.body });
        return Promise.resolve({ data: {} });
      },
    },
  };
  const github = { rest, paginate: async () => Promise.resolve(issues.filter((i) => i.state === 'open')) };
  const context = { repo: { owner: 'o', repo: 'r' }, serverUrl: 'https://github.com', runId: 77 };
  const core = { info: () => undefined };
  const file = join(tmpdir(), `tracking-summary-${process.pid}.md`);
  if (summary !== undefined) writeFileSync(file, summary);
  else rmSync(file, { force: true });
  const env = {
    SUMMARY_FILE: file,
    NIGHT_FAILED: String(failed),
    ISSUE_TITLE: 'Nightly Dynamic API conformance is failing',
    ISSUE_LABELS: 'conformance',
  };
  const fakeProcess = { env };
  // github-script runs the script as the body of an async function with these parameters.
  const AsyncFunction = (
    Object.getPrototypeOf(async function () {}) as {
      constructor: new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    }
  ).constructor;
  await new AsyncFunction('github', 'context', 'core', 'require', 'process', script)(
    github,
    context,
    core,
    createRequire(import.meta.url),
    fakeProcess,
  );
  rmSync(file, { force: true });
  return { issues, comments };
}

test(
  'tracking-issue: a failing night opens one issue with ' +
    'the marker, the next updates it, a green night closes ' +
    'it',
  async () => {
    const unrelated: Issue = { number: 1, body: 'something else', state: 'open', title: 'bug' };
    const first = await runTrackingScript([unrelated], true, '## Dynamic API conformance — ❌ failing\n');
    assert.equal(first.issues.length, 2);
    const opened = first.issues[1]!;
    assert.ok(opened.body.startsWith(TRACKING_MARKER), 'the hidden marker deduplicates the issue');
    assert.match(opened.body, /❌ failing[\s\S]*Latest failing run: https:\/\/github\.com\/o\/r\/actions\/runs\/77/);
    assert.deepEqual(opened.labels, ['conformance']);
    const second = await runTrackingScript(first.issues, true, '## second night\n');
    assert.equal(second.issues.length, 2, 'no second issue');
    assert.match(second.issues[1]!.body, /second night/);
    assert.deepEqual(
      second.comments.map((c) => c.issue),
      [opened.number],
    );
    const green = await runTrackingScript(second.issues, false, '## ✅ passing\n');
    assert.equal(green.issues[1]!.state, 'closed');
    assert.equal(green.issues[0]!.state, 'open', 'an unrelated issue is never touched');
    const quiet = await runTrackingScript(green.issues, false, '## ✅ passing\n');
    assert.equal(quiet.comments.length, 0, 'green and no open tracking issue: nothing to do');
    const crashed = await runTrackingScript([], true, undefined);
    assert.match(crashed.issues[0]!.body, /failed before it wrote a conformance summary/);
  },
);

test(
  'action.yml: a composite action runs the suite against ' +
    "the caller's sandbox, scans before it publishes " +
    'anything',
  () => {
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8'), { strict: true, uniqueKeys: true }) as {
      name: string;
      inputs: Record<string, { required?: boolean; default?: string }>;
      outputs: Record<string, unknown>;
      runs: { using: string; steps: (Step & { id?: string; env?: Record<string, string> })[] };
    };
    assert.equal(action.runs.using, 'composite');
    assert.equal(action.inputs['environment-id']?.required, true);
    assert.equal(action.inputs['api-token']?.required, true);
    assert.equal(action.inputs['fail-on']?.default, 'new');
    assert.equal(action.inputs['fail-on-drift']?.default, 'false');
    assert.ok(action.outputs.failed && action.outputs['summary-file']);
    assert.doesNotMatch(
      JSON.stringify(action),
      /secrets\./,
      'credentials come in as inputs, never read from secrets by the action',
    );
    const steps = action.runs.steps;
    const at = (re: RegExp): number => steps.findIndex((s) => re.test(s.run ?? '') || re.test(s.uses ?? ''));
    const install = at(/npm ci/);
    const restore = at(/^actions\/cache\/restore@v4$/);
    const mask = at(/--github-masks/);
    const suite = at(/npx playwright test/);
    const scan = at(/secrets:scan/);
    const summary = at(/>> "\$GITHUB_STEP_SUMMARY"/);
    const save = at(/^actions\/cache\/save@v4$/);
    const upload = at(/^actions\/upload-artifact@v4$/);
    const verdict = at(/exit "\$EXIT_CODE"/);
    assert.ok(
      [install, restore, mask, suite, scan, summary, save, upload, verdict].every(
        (i, n, all) => i >= 0 && (n === 0 || i > all[n - 1]!),
      ),
      `order: install ${install} restore ${restore} mask ${mask} suite ${suite} ` +
        `scan ${scan} summary ${summary} save ${save} upload ${upload} verdict ` +
        `${verdict}`,
    );
    assert.equal(steps[suite]!.env?.DYNAMIC_TARGET, 'live');
    assert.match(
      steps[suite]!.run!,
      /GITHUB_STEP_SUMMARY='' npx playwright test/,
      'the summary is published after the scan, not by the run',
    );
    assert.match(steps[suite]!.run!, /CONFORMANCE_PREVIOUS=/);
    assert.equal(
      steps.find((s) => s.uses === 'actions/cache/restore@v4')!.with?.key,
      steps.find((s) => s.uses === 'actions/cache/save@v4')!.with?.key,
    );
  },
);
