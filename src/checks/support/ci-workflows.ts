/**
 * SEC-006: the audit of a GitHub Actions workflow — its triggers, which jobs hold live credentials, and what such a
 * job must keep (trusted triggers only, an environment, a secret scan before any artifact upload).
 */

const TRUSTED_TRIGGERS = new Set(['schedule', 'workflow_dispatch']);

/** The triggers of a workflow (`on:` as a string, a list or a map). */
export function workflowTriggers(doc: unknown): string[] {
  const on = (doc as { on?: unknown } | null)?.on;
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  if (on && typeof on === 'object') return Object.keys(on);
  return [];
}

interface Step {
  uses?: string;
  run?: string;
  name?: string;
}
interface Job {
  environment?: unknown;
  steps?: Step[];
  env?: Record<string, unknown>;
}

/** A job that holds live credentials: it (or its workflow's env) references secrets.DYNAMIC_* or targets live. */
function isLiveJob(workflow: { env?: Record<string, unknown> }, job: Job): boolean {
  const text = JSON.stringify([workflow.env ?? {}, job]);
  return (
    /secrets\s*\.\s*DYNAMIC_|secrets\[\s*['"]DYNAMIC_/.test(text) ||
    /"DYNAMIC_TARGET":"live"/.test(JSON.stringify([workflow.env ?? {}, job.env ?? {}]))
  );
}

/**
 * SEC-006 findings per job of one workflow: live jobs only on trusted triggers, behind an environment, scan before
 * upload.
 */
export function auditWorkflow(file: string, doc: unknown): { subject: string; live: boolean; problems: string[] }[] {
  const workflow = (doc ?? {}) as { env?: Record<string, unknown>; jobs?: Record<string, Job> };
  const triggers = workflowTriggers(doc);
  return Object.entries(workflow.jobs ?? {}).map(([id, job]) => {
    const live = isLiveJob(workflow, job);
    const problems: string[] = [];
    if (live) {
      const untrusted = triggers.filter((t) => !TRUSTED_TRIGGERS.has(t));
      if (untrusted.length) problems.push(`runs with live credentials on untrusted triggers: ${untrusted.join(', ')}`);
      if (!job.environment)
        problems.push('has no environment: (the sandbox secrets must sit behind a GitHub environment)');
      const steps = job.steps ?? [];
      const scanAt = steps.findIndex((s) => /secrets:scan|secret-scan/.test(s.run ?? ''));
      steps.forEach((s, i) => {
        if (/^actions\/upload-artifact@/.test(s.uses ?? '') && (scanAt === -1 || scanAt > i))
          problems.push(
            `uploads artifacts (step ${i + 1}${s.name ? ` '${s.name}'` : ''}) without a secret scan before it`,
          );
      });
    }
    return { subject: `${file} › ${id}`, live, problems };
  });
}
