/**
 * Secret-safety rules of the suite itself (specs/rules/secrets.json). These are suite properties, proved the same
 * way on both targets with canary credentials and loopback listeners the check starts itself: nothing here sends a
 * real credential anywhere but to the configured API (and only SEC-003's one sandbox read does that).
 * The full artifact scan of SEC-001 (every file of a passing, a failing and a transport-error run) is
 * tests/unit/secret-canary.test.ts; `npm run secrets:scan` is the CI gate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { checkApiUrl, ConfigError, parseConfig, ROOT, type SuiteConfig } from '../engine/config.js';
import type { Credentials } from '../engine/credentials.js';
import { bearer, type HttpRequest } from '../http/client.js';
import { findInText, needlesFor } from '../secrets/leaks.js';
import { redact, type Secret } from '../secrets/redact.js';
import { uuidFrom } from '../http/requests.js';
import {
  CleanupRegistry,
  burstRefused,
  verifySandbox,
  withCleanup,
  writesRefused,
  type SafetyTarget,
} from '../secrets/safety.js';
import type { Check, CheckContext } from '../engine/types.js';
import { ACCEPTED_API_URLS, REFUSED_API_URLS } from './support/api-urls.js';
import { canaryJwt, canaryToken, leakReport } from './support/canaries.js';
import { auditWorkflow } from './support/ci-workflows.js';
import { closedPort, echoingListener, listen, localClient, thrown } from './support/loopback.js';
import { traceSettingsFor } from './support/trace-settings.js';

/** The redaction layer of this run removes a credential from everything the suite writes (SEC-001). */
async function redactionOfCanaries(ctx: CheckContext): Promise<void> {
  const token = canaryToken();
  const jwt = canaryJwt();

  // Every string form of a Secret is its fingerprint.
  const forms = [
    String(token.secret),
    `${token.secret.toString()}`,
    JSON.stringify({ token: token.secret, nested: [jwt.secret] }),
    inspect(token.secret),
    inspect({ a: { b: jwt.secret } }, { depth: 5, showHidden: true }),
    format('%s %o %O %j', token.secret, jwt.secret, token.secret, jwt.secret),
  ].join('\n');
  const inForms = findInText(forms, [...token.needles, ...jwt.needles]);
  if (inForms.length)
    ctx.fail('Secret string forms', `a Secret's string form contains the credential (${leakReport(inForms)})`);
  else ctx.pass('Secret string forms');

  // redact() removes every encoding the scanner looks for, and fragments of a mutated credential.
  for (const c of [token, jwt]) {
    const v = c.raw;
    const text = [
      `Authorization: Bearer ${v}`,
      encodeURIComponent(v),
      JSON.stringify({ v }),
      JSON.stringify(JSON.stringify({ v })),
      Buffer.from(v).toString('base64'),
      Buffer.from(v).toString('base64url'),
      Buffer.from(`${v}:`).toString('base64'),
      `${v.slice(0, -3)}XYZ`,
      `prefix${v.slice(5, 40)}suffix`,
      v.slice(10),
    ].join(' | ');
    const left = findInText(redact(text), c.needles);
    const subject = `redact() on ${c === token ? 'a dyn_ token' : 'a JWT'} in every encoding`;
    if (left.length) ctx.fail(subject, `redact() left the canary in these encodings: ${leakReport(left)}`);
    else ctx.pass(subject);
  }

  // The client's record of an exchange with a server that echoes the credential everywhere holds no trace of it.
  const echo = await echoingListener();
  const client = localClient(echo.url);
  try {
    for (const c of [token, jwt]) {
      const res = await client.send({
        method: 'POST',
        path: '/environments/echo',
        headers: [['authorization', bearer(c.secret)]],
        body: { note: 'canary' },
      });
      const recorded = JSON.stringify([res.exchange, client.takeExchanges()]);
      const subject = `exchange with a server echoing ${c === token ? 'a dyn_ token' : 'a JWT'}`;
      if (echo.seen.at(-1)?.authorization !== `Bearer ${c.raw}`)
        ctx.fail(subject, 'the echo listener did not receive the canary credential; the check proves nothing', res);
      else {
        const left = findInText(recorded, c.needles);
        if (left.length)
          ctx.fail(subject, `the recorded exchange or its curl line contains the credential (${leakReport(left)})`);
        else ctx.pass(subject, res);
      }
    }
  } finally {
    await client.close();
    await echo.close();
  }

  // A transport error (nothing listening) is recorded without the credential.
  const port = await closedPort();
  const dead = localClient(`http://127.0.0.1:${port}/api/v0`);
  try {
    const res = await dead.send({
      method: 'GET',
      path: '/environments/closed',
      headers: [['authorization', bearer(token.secret)]],
    });
    const left = findInText(JSON.stringify(res.exchange), token.needles);
    if (res.status !== 0)
      ctx.fail('transport error record', `expected a transport error from a closed port, got ${res.status}`, res);
    else if (left.length)
      ctx.fail('transport error record', `the recorded transport error contains the credential (${leakReport(left)})`);
    else ctx.pass('transport error record');
  } finally {
    await dead.close();
  }

  // The credentials of this run are registered with the redaction layer.
  const creds = ctx.credentials;
  const secrets = [
    creds.apiToken,
    creds.otherEnvironmentToken,
    creds.limitedToken,
    creds.noScopeToken,
    creds.inactiveToken,
    creds.userJwt,
    creds.otherEnvironmentJwt,
  ].filter((s): s is Secret => s !== undefined);
  for (const secret of secrets) {
    // reveal() only to build the probe text; the value is never written anywhere.
    const value = secret.reveal();
    const probe =
      `Bearer ${value} ${encodeURIComponent(value)} ` +
      `${JSON.stringify({ value })} ` +
      `${Buffer.from(value).toString('base64')}`;
    const left = findInText(redact(probe), needlesFor(value, 0));
    const subject = `this run's ${secret.envName}`;
    if (left.length) ctx.fail(subject, `redact() does not remove this credential (${leakReport(left)})`);
    else ctx.pass(subject);
  }
}

/** The client refuses credential-shaped values in URLs before anything is sent (SEC-002). */
async function noCredentialsInUrls(ctx: CheckContext): Promise<void> {
  const token = canaryToken();
  const jwt = canaryJwt();
  const listener = await listen((_req, res) =>
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}'),
  );
  const client = localClient(listener.url);
  const cases: [string, HttpRequest][] = [
    ['dyn_ token in the path', { method: 'GET', path: `/environments/${token.raw}` }],
    ['dyn_ token in ?access_token=', { method: 'GET', path: '/environments', query: { access_token: token.raw } }],
    ['JWT in ?token=', { method: 'GET', path: '/sdk/x/users', query: { token: jwt.raw } }],
    [
      'credentialInUrl on a client that does not allow it',
      { method: 'GET', path: '/environments', query: { access_token: token.raw }, credentialInUrl: true },
    ],
  ];
  try {
    for (const [subject, request] of cases) {
      const before = listener.seen.length;
      const message = await thrown(() => client.send(request));
      if (message === undefined) ctx.fail(subject, 'the client sent the request instead of refusing it');
      else if (listener.seen.length !== before) ctx.fail(subject, 'the client refused only after sending the request');
      else if (findInText(message, [...token.needles, ...jwt.needles]).length)
        ctx.fail(subject, 'the refusal message contains the credential');
      else if (!/refusing/.test(message)) ctx.fail(subject, `the client failed for another reason: ${redact(message)}`);
      else ctx.pass(subject);
    }
  } finally {
    await client.close();
    await listener.close();
  }
  // The suite's own client: a credential in a query string is refused before the budget or the network sees it.
  const sentBefore = ctx.client.requestsSent;
  const asked = ctx.config.target === 'live';
  const message = await thrown(() =>
    ctx.client.send({
      method: 'GET',
      path: '/environments',
      query: { access_token: token.raw },
      ...(asked ? { credentialInUrl: true } : {}),
    }),
  );
  const subject = asked ? "the suite's client on live, even when a check asks" : "the suite's client";
  if (message === undefined || !/refusing/.test(message))
    ctx.fail(
      subject,
      `the suite's client did not refuse a credential in the query string${message ? `: ${redact(message)}` : ''}`,
    );
  else if (ctx.client.requestsSent !== sentBefore) ctx.fail(subject, 'the refused request was counted as sent');
  else ctx.pass(subject);
}

/** Writes and bursts on live need the opt-in and a verified sandbox; clean-up runs even after failures (SEC-003). */
async function safetyGates(ctx: CheckContext): Promise<void> {
  const simulated = (config: Partial<SuiteConfig>, credentials: Partial<Credentials> = {}): SafetyTarget => ({
    config: { ...ctx.config, target: 'live', ...config },
    credentials: { ...ctx.credentials, ...credentials },
    client: ctx.client,
  });
  const expectRefusal = async (
    subject: string,
    target: SafetyTarget,
    gate: 'writes' | 'burst',
    variable: RegExp,
    offline: boolean,
  ): Promise<void> => {
    const sent = ctx.client.requestsSent;
    const why = gate === 'writes' ? await writesRefused(target) : await burstRefused(target);
    if (why === undefined) ctx.fail(subject, `the ${gate} gate opened`);
    else if (!variable.test(why))
      ctx.fail(subject, `refused, but the message does not name the variable to change: ${why}`);
    else if (offline && ctx.client.requestsSent !== sent)
      ctx.fail(subject, 'the gate sent a request although the opt-in alone decides');
    else ctx.pass(subject);
  };

  await expectRefusal(
    'writes without DYNAMIC_ALLOW_WRITES',
    simulated({ allowWrites: false }),
    'writes',
    /DYNAMIC_ALLOW_WRITES/,
    true,
  );
  await expectRefusal(
    'bursts without DYNAMIC_RATE_LIMIT_BUDGET',
    simulated({ rateLimitBudget: undefined }),
    'burst',
    /DYNAMIC_RATE_LIMIT_BUDGET/,
    true,
  );
  await expectRefusal(
    'writes without DYNAMIC_PROJECT_ID',
    simulated({ allowWrites: true }, { projectId: undefined }),
    'writes',
    /DYNAMIC_PROJECT_ID/,
    true,
  );

  const { projectId } = ctx.credentials;
  if (!projectId) {
    const reason = ctx.credentials.missing.projectId ?? 'no project id';
    for (const subject of [
      'writes on an environment that is not the sandbox',
      'configured environment is a verified sandbox',
    ])
      ctx.skip(subject, `${reason}: the sandbox cannot be verified, so writes and bursts are refused`);
  } else {
    // Refused either because the project's sandbox is another environment or because the project cannot be read.
    await expectRefusal(
      'writes on an environment that is not the sandbox',
      simulated({ allowWrites: true }, { environmentId: uuidFrom('SEC-003 not a sandbox') }),
      'writes',
      /DYNAMIC_[A-Z_]+/,
      false,
    );
    await expectRefusal(
      'bursts on an environment that is not the sandbox',
      simulated({ rateLimitBudget: 10 }, { environmentId: uuidFrom('SEC-003 not a sandbox') }),
      'burst',
      /DYNAMIC_[A-Z_]+/,
      false,
    );
    if (ctx.mock) {
      const live = (await ctx.mock.seed()).environments.find((e) => e.name === 'live');
      if (!live) ctx.fail("writes on the project's live environment", 'the mock seed has no live environment');
      else
        await expectRefusal(
          "writes on the project's live environment",
          simulated({ allowWrites: true }, { environmentId: live.id }),
          'writes',
          /DYNAMIC_ENVIRONMENT_ID is the project's live environment/,
          false,
        );
    }
    const verification = await verifySandbox(ctx);
    const subject = 'configured environment is a verified sandbox';
    if (verification.verified) {
      ctx.pass(subject, verification.response);
      const open = simulated({ allowWrites: true, rateLimitBudget: 7 });
      const writes = await writesRefused(open);
      const burst = await burstRefused(open);
      if (writes || burst) ctx.fail('gates open with the opt-in on the verified sandbox', (writes ?? burst)!);
      else ctx.pass('gates open with the opt-in on the verified sandbox');
    } else if (ctx.config.target === 'mock') {
      // The mock serves its seeded environments: its sandbox must verify, or the gate cannot be trusted.
      ctx.fail(
        subject,
        `the mock's seeded sandbox did not verify: ${verification.reason}`,
        verification.response ? [verification.response] : undefined,
      );
    } else {
      ctx.skip(subject, `${verification.reason}; writes and bursts are refused`);
    }
  }

  // Clean-up: every registered step runs, newest first, even when the work and another step fail.
  const ran: string[] = [];
  const logged: string[] = [];
  const error = await thrown(() =>
    withCleanup(
      (cleanup) => {
        cleanup.register('first', () => Promise.resolve(ran.push('first')));
        cleanup.register('failing', () => Promise.reject(new Error('delete answered 500')));
        cleanup.register('last', () => Promise.resolve(ran.push('last')));
        return Promise.reject(new Error('check failed mid-way'));
      },
      (line) => logged.push(line),
    ),
  );
  if (error !== 'check failed mid-way')
    ctx.fail(
      'clean-up after a failure',
      `the work's own error was not rethrown (got ${error === undefined ? 'none' : redact(error)})`,
    );
  else if (ran.join(',') !== 'last,first')
    ctx.fail('clean-up after a failure', `expected clean-up steps 'last,first' to run, got '${ran.join(',')}'`);
  else if (!logged.some((l) => l.includes("'failing'")))
    ctx.fail('clean-up after a failure', 'the failing clean-up step was not reported');
  else ctx.pass('clean-up after a failure');

  // Registered deletions are sent (with their credential) by the clean-up client, and refusals are reported.
  const token = canaryToken();
  const listener = await listen((req, res) => res.writeHead(req.url?.includes('stuck') ? 500 : 204).end());
  try {
    const registry = new CleanupRegistry();
    const target = { config: { ...ctx.config, apiUrl: listener.url } };
    registry.registerDeletion(target, 'created token', {
      method: 'DELETE',
      path: '/environments/e/tokens/created',
      headers: [['authorization', bearer(token.secret)]],
    });
    registry.registerDeletion(target, 'stuck token', {
      method: 'DELETE',
      path: '/environments/e/tokens/stuck',
      headers: [['authorization', bearer(token.secret)]],
    });
    let problems: string[];
    try {
      problems = await registry.runAll();
    } catch (error) {
      problems = [];
      ctx.fail(
        'registered deletions',
        `clean-up stopped at a failing deletion instead of running the ` +
          `others: ${redact(error instanceof Error ? error.message : String(error))}`,
      );
      return;
    }
    const deleted = listener.seen.find((s) => s.url === '/api/v0/environments/e/tokens/created');
    if (!deleted || deleted.method !== 'DELETE' || deleted.authorization !== `Bearer ${token.raw}`)
      ctx.fail('registered deletions', 'the registered DELETE was not sent with its credential');
    else if (problems.length !== 1 || !problems[0]!.includes("'stuck token'") || !problems[0]!.includes('500'))
      ctx.fail('registered deletions', `expected one reported problem for 'stuck token', got ${problems.length}`);
    else if (registry.pending !== 0) ctx.fail('registered deletions', 'the registry kept tasks after running them');
    else ctx.pass('registered deletions');
  } finally {
    await listener.close();
  }
}

/** Credentials go only over https to Dynamic's hosts or to loopback; redirects are never followed (SEC-004). */
async function outboundHygiene(ctx: CheckContext): Promise<void> {
  const token = canaryToken();
  const env = (url: string): NodeJS.ProcessEnv => ({
    DYNAMIC_TARGET: 'live',
    DYNAMIC_API_URL: url,
    DYNAMIC_ENVIRONMENT_ID: uuidFrom('SEC-004'),
    DYNAMIC_API_TOKEN: token.raw,
    FC_SEED: '1',
  });
  for (const [label, url] of REFUSED_API_URLS) {
    const subject = `DYNAMIC_API_URL: ${label}`;
    try {
      parseConfig(env(url));
      ctx.fail(subject, 'the configuration accepted it');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof ConfigError)) ctx.fail(subject, `failed with an unexpected error: ${redact(message)}`);
      else if (!message.includes('DYNAMIC_API_URL'))
        ctx.fail(subject, 'refused, but the message does not name DYNAMIC_API_URL');
      else if (findInText(message, token.needles).length) ctx.fail(subject, 'the refusal message contains the token');
      else ctx.pass(subject);
    }
  }
  for (const url of ACCEPTED_API_URLS) {
    const subject = `DYNAMIC_API_URL accepted: ${new URL(url).host}`;
    const message = await thrown(() => Promise.resolve().then(() => parseConfig(env(url))));
    if (message) ctx.fail(subject, `refused: ${redact(message)}`);
    else ctx.pass(subject);
  }
  const configured = await thrown(() =>
    Promise.resolve().then(() => checkApiUrl(ctx.config.apiUrl, 'DYNAMIC_API_URL')),
  );
  if (configured) ctx.fail('configured DYNAMIC_API_URL', redact(configured));
  else ctx.pass('configured DYNAMIC_API_URL');

  // Redirects: a 30x to another loopback port is returned as is; the other port sees nothing, least of all the token.
  const elsewhere = await listen((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  const redirecting = await listen((req, res) => {
    const status = req.url?.includes('307') ? 307 : req.url?.includes('308') ? 308 : 302;
    res.writeHead(status, { location: `http://127.0.0.1:${elsewhere.port}/api/v0/landed` }).end();
  });
  const client = localClient(redirecting.url);
  try {
    for (const status of [302, 307, 308]) {
      const subject = `${status} redirect to another port`;
      const res = await client.send({
        method: 'POST',
        path: `/environments/redirect-${status}`,
        headers: [['authorization', bearer(token.secret)]],
        body: { probe: true },
      });
      if (res.status !== status)
        ctx.fail(subject, `expected the ${status} itself, got ${res.status || 'a transport error'}`, res);
      else if (elsewhere.seen.length)
        ctx.fail(
          subject,
          `the client followed the redirect` +
            (elsewhere.seen.some((s) => s.authorization) ? ' and sent Authorization to the new location' : ''),
          res,
        );
      else ctx.pass(subject, res);
    }
  } finally {
    await client.close();
    await redirecting.close();
    await elsewhere.close();
  }
}

/** Traces (which record Authorization headers) are off whenever the target is live (SEC-005). */
async function tracesOffForLive(ctx: CheckContext): Promise<void> {
  const token = canaryToken();
  const base: NodeJS.ProcessEnv = {
    FC_SEED: '1',
    CONFORMANCE_OUTPUT_DIR: join(ctx.config.outputDir, 'test-results'),
    DYNAMIC_DOCS_PROFILE: ctx.config.docsProfile,
  };
  const live = {
    ...base,
    DYNAMIC_TARGET: 'live',
    DYNAMIC_API_URL: 'https://app.dynamic.xyz/api/v0',
    DYNAMIC_ENVIRONMENT_ID: uuidFrom('SEC-005'),
    DYNAMIC_API_TOKEN: token.raw,
  };
  try {
    const settings = await traceSettingsFor(live);
    const projectTraces = settings.projects.filter((t) => t !== null && t !== 'off');
    if (settings.trace !== 'off')
      ctx.fail(
        'playwright.config.ts with DYNAMIC_TARGET=live',
        `use.trace is ${JSON.stringify(settings.trace)}, expected 'off'`,
      );
    else if (projectTraces.length)
      ctx.fail(
        'playwright.config.ts with DYNAMIC_TARGET=live',
        `a project turns traces back on: ${JSON.stringify(projectTraces)}`,
      );
    else ctx.pass('playwright.config.ts with DYNAMIC_TARGET=live');
  } catch (error) {
    ctx.fail('playwright.config.ts with DYNAMIC_TARGET=live', error instanceof Error ? error.message : String(error));
  }
  if (ctx.config.target === 'live') {
    // This very run: the worker was configured by the same file with the same variables.
    const settings = await traceSettingsFor({
      ...base,
      DYNAMIC_TARGET: 'live',
      DYNAMIC_API_URL: ctx.config.apiUrl,
      DYNAMIC_ENVIRONMENT_ID: ctx.credentials.environmentId,
      DYNAMIC_API_TOKEN: token.raw,
    });
    if (settings.trace !== 'off') ctx.fail('this live run', `use.trace is ${JSON.stringify(settings.trace)}`);
    else ctx.pass('this live run');
  }
}

/**
 * Live-credential CI jobs run only on schedule or manual dispatch, behind an environment, scanning before upload
 * (SEC-006).
 */
async function trustedTriggersOnly(ctx: CheckContext): Promise<void> {
  const dir = join(ROOT, '.github', 'workflows');
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch {
    files = [];
  }
  if (!files.length) {
    ctx.skip('.github/workflows', 'no workflow files in this checkout');
    return;
  }
  // Loaded here, not at module load: every Playwright worker imports this family, one rule reads YAML.
  const { parse: parseYaml } = await import('yaml');
  let liveJobs = 0;
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      ctx.fail(file, `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      continue;
    }
    for (const finding of auditWorkflow(file, doc)) {
      if (finding.live) liveJobs += 1;
      if (finding.problems.length) ctx.fail(finding.subject, finding.problems.join('; '));
      else ctx.pass(finding.subject);
    }
  }
  if (!liveJobs) ctx.log('SEC-006: no workflow job uses live credentials');
}

/**
 * SEC-001 (OWASP Logging Cheat Sheet; microsoft/playwright#31717): no credential value appears in any artifact — this
 * run's redaction layer, proved on canaries.
 */
export const noCredentialInArtifacts: Check = { rule: 'SEC-001', run: redactionOfCanaries };

/** SEC-002 (RFC 6750 2.3, 5.3): the suite never puts a credential in a URL. */
export const noCredentialInUrl: Check = { rule: 'SEC-002', run: noCredentialsInUrls };

/**
 * SEC-003 (Dynamic quickstart: use sandbox; RL-15): writes and bursts on live only with opt-in on a verified sandbox;
 * clean-up always runs.
 */
export const liveSafetyGates: Check = { rule: 'SEC-003', run: safetyGates };

/**
 * SEC-004 (RFC 6750 5.2, 5.3): credentials only over https to Dynamic's hosts or to loopback; redirects are not
 * followed.
 */
export const outboundCredentialHygiene: Check = { rule: 'SEC-004', run: outboundHygiene };

/** SEC-005 (microsoft/playwright#19992, #33069): traces are off whenever a real credential is used. */
export const tracesOff: Check = { rule: 'SEC-005', run: tracesOffForLive };

/**
 * SEC-006 (GitHub Docs: security hardening for GitHub Actions): live-credential CI jobs only on schedule/dispatch,
 * never on fork PRs.
 */
export const trustedCiTriggers: Check = { rule: 'SEC-006', run: trustedTriggersOnly };

/** Every SEC-* check, in rule order. */
export const SEC_CHECKS: Check[] = [
  noCredentialInArtifacts,
  noCredentialInUrl,
  liveSafetyGates,
  outboundCredentialHygiene,
  tracesOff,
  trustedCiTriggers,
];
