/**
 * Playwright globalSetup (runner process, once per run). On the live target it starts the run's shared state
 * (src/engine/run-state.ts: the one pacer of all workers, the run-wide request budget), prints the pacing plan,
 * verifies the environment as the project's sandbox and — when no DYNAMIC_USER_JWT is given — obtains the run's
 * user JWT through the sandbox test account (src/engine/test-account.ts), likewise for the other environment. Workers
 * find the service through DYNAMIC_RUN_STATE_URL. On the mock target it does nothing. Returns the teardown (closes the
 * service; the final figures stay readable for the reporter in this process).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportRunStateLocator, loadConfig, type SuiteConfig } from './config.js';
import { loadSpec, type LoadedSpec } from './spec.js';
import { redact } from '../secrets/redact.js';
import {
  formatPlan,
  LocalPacer,
  planFromPrevious,
  planRun,
  RunPacing,
  RunStateService,
  type JwtProvenance,
  type PolicyFigures,
  type RunJwts,
  type RunPlan,
} from './run-state.js';

/** Fraction of every documented limit the pacer uses (a margin for clock skew and network latency). */
export const PACING_MARGIN = 0.9;

/**
 * The plan's estimate: the previous run's actual per-policy mix when the output folder holds its report.json (same
 * profile), else the budget spread over the operations a live run addresses (its samples are GET operations of every
 * tag, with /sdk user-JWT operations capped).
 */
function plan(config: SuiteConfig, spec: LoadedSpec, pacing: RunPacing): RunPlan {
  const previous = join(config.outputDir, 'conformance-report', 'report.json');
  if (existsSync(previous)) {
    try {
      const report = JSON.parse(readFileSync(previous, 'utf8')) as {
        target?: string;
        profile?: string;
        pacing?: { requests?: number; policies?: PolicyFigures[] };
      };
      const lines =
        report.target === 'live' && report.profile === spec.profile.id ? report.pacing?.policies : undefined;
      const total = report.pacing?.requests ?? 0;
      if (lines?.length && total > 0) return planFromPrevious(lines, total, config.requestBudget, PACING_MARGIN);
    } catch {
      // an unreadable previous report only means no history: fall through to the spec-based estimate
    }
  }
  const reads = spec.operations.filter((o) => o.method === 'GET');
  const requests = reads.map((o) => ({
    method: o.method,
    path: fill(o.path, config),
    share: o.auth === 'user-jwt' ? 0.5 : 1,
  }));
  return planRun(
    pacing.policies,
    config.requestBudget,
    PACING_MARGIN,
    requests,
    "estimate: the budget spread over the live sample's operations",
  );
}

function fill(path: string, config: SuiteConfig): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'environmentId' ? (config.live?.environmentId ?? 'environment') : `sample-${name}`,
  );
}

/** A JWT the configuration gives: workers read it from their own configuration, so only the provenance travels. */
function given(variable: string): RunJwts['user'] {
  return { source: 'given', detail: `${variable} is set` };
}

function unavailable(detail: string): RunJwts['user'] {
  return { source: 'unavailable', detail };
}

/** The line the console prints for a JWT's provenance (never the value). */
export function describeJwt(label: string, j: JwtProvenance): string {
  return `${label}: ${j.source} — ${j.detail}`;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const config = loadConfig();
  if (config.target !== 'live' || !config.live) return () => Promise.resolve();
  // Live only, so a run against the mock does not load the HTTP client in the runner process.
  const [{ liveCredentials }, { HttpClient }, { verifySandbox }, { obtainJwtFromTestAccount }] = await Promise.all([
    import('./credentials.js'),
    import('../http/client.js'),
    import('../secrets/safety.js'),
    import('./test-account.js'),
  ]);
  const spec = loadSpec(config.docsProfile);
  const pacing = new RunPacing(spec.operations, spec.profile, config.requestBudget, PACING_MARGIN);
  const service = new RunStateService(pacing);
  await service.start();
  exportRunStateLocator(`${service.url}#${service.key}`);
  pacing.plan = plan(config, spec, pacing);
  process.stdout.write(`${formatPlan(pacing.plan)}\n`);

  const credentials = liveCredentials(config);
  const client = new HttpClient({
    baseUrl: config.apiUrl,
    requestBudget: config.requestBudget,
    rateLimited: { kind: 'wait', maxWaitSeconds: 60, maxRetries: 2 },
    allowCredentialInUrl: false,
    pacer: new LocalPacer(pacing),
    singleSource: true,
  });
  try {
    const live = config.live;
    const needUser = !live.userJwt;
    const needOther =
      !live.otherEnvironmentJwt && live.otherEnvironmentId !== undefined && live.otherEnvironmentToken !== undefined;
    const verification = needUser || needOther ? await verifySandbox({ config, credentials, client }) : undefined;
    let user: RunJwts['user'];
    if (live.userJwt) user = given('DYNAMIC_USER_JWT');
    else if (!verification?.verified)
      user = unavailable(
        `DYNAMIC_USER_JWT is not set and no JWT was obtained: ${verification?.reason ?? 'not verified'}`,
      );
    else {
      const got = await obtainJwtFromTestAccount(
        client,
        credentials.environmentId,
        credentials.apiToken,
        'DYNAMIC_USER_JWT',
        true,
      );
      user =
        'jwt' in got
          ? { source: 'test-account', detail: got.detail, value: got.jwt.reveal() }
          : unavailable(`DYNAMIC_USER_JWT is not set and the sandbox test account gave no JWT: ${got.reason}`);
    }
    let other: RunJwts['other'];
    if (live.otherEnvironmentJwt) other = given('DYNAMIC_OTHER_ENVIRONMENT_JWT');
    else if (!live.otherEnvironmentId || !credentials.otherEnvironmentToken)
      other = unavailable(
        'DYNAMIC_OTHER_ENVIRONMENT_JWT is not set (nor DYNAMIC_OTHER_ENVIRONMENT_ID and _TOKEN to obtain one)',
      );
    else if (!verification?.verified)
      other = unavailable(
        `DYNAMIC_OTHER_ENVIRONMENT_JWT is not set and no JWT was obtained: ${verification?.reason ?? 'not verified'}`,
      );
    else {
      const got = await obtainJwtFromTestAccount(
        client,
        live.otherEnvironmentId,
        credentials.otherEnvironmentToken,
        'DYNAMIC_OTHER_ENVIRONMENT_JWT',
        false,
      );
      other =
        'jwt' in got
          ? {
              source: 'test-account',
              detail: got.detail.replace('sandbox test account', "other environment's test account"),
              value: got.jwt.reveal(),
            }
          : unavailable(
              `DYNAMIC_OTHER_ENVIRONMENT_JWT is not set and the ` +
                `other environment's test account gave no JWT: ` +
                `${got.reason}`,
            );
    }
    pacing.jwts = { user, other };
    process.stdout.write(
      `${redact(describeJwt('user JWT', user))}\n${redact(describeJwt('other-environment JWT', other))}\n`,
    );
  } finally {
    await client.close();
  }
  return async () => {
    await service.close();
  };
}
