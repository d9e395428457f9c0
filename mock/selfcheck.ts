/**
 * Self-check of the mock's data layer (`node --import tsx mock/selfcheck.ts`, run by tests/unit/mock-selfcheck):
 * every schema under schemas/ compiles strictly and validates against its meta-schema (an unknown `$id` or an
 * unresolvable `$ref` fails), every JSON success sample of the 412 operations validates against its response schema
 * (SCHEMA-001), every stateful handler's answer validates too, and key derivation is deterministic. Prints one JSON
 * summary line; exit code 1 on any problem.
 */
import { MockState } from './app.js';
import { deriveEnvironmentKey } from './keys.js';
import type { SpecBundle } from './spec.js';

interface Summary {
  schemas: number;
  samples: number;
  stateful: number;
  deterministicKeys: boolean;
  problems: string[];
}

async function main(): Promise<Summary> {
  const state = new MockState({ seed: 'selfcheck' });
  const problems: string[] = [];
  const schemas = state.registry.compileAll();
  let samples = 0;
  for (const op of state.spec.operations) {
    if (op.success.kind === 'void') continue;
    samples++;
    const s = state.samples.forOperation(op);
    if (!s.valid) problems.push(`sample of ${op.operationId} does not validate`);
  }
  await state.keys.ready;
  const stateful = checkStateful(state, state.spec, problems);
  const env = state.seed.environments[0]!;
  const [a, b] = await Promise.all([deriveEnvironmentKey('x', env.id, 'k'), deriveEnvironmentKey('x', env.id, 'k')]);
  const deterministicKeys = a.jwk.n === b.jwk.n && a.pem === b.pem;
  if (!deterministicKeys) problems.push('key derivation is not deterministic');
  return { schemas, samples, stateful, deterministicKeys, problems };
}

/** Drives every stateful handler once (create, read, list, update) and validates each 2xx body. */
function checkStateful(state: MockState, spec: SpecBundle, problems: string[]): number {
  const env = state.seed.environments[0]!;
  const user = state.seed.users.find((u) => u.environmentId === env.id)!;
  const ids: Record<string, string> = { environmentId: env.id, userId: user.id, projectId: env.projectId };
  const order = [
    'createAllowlistByEnvironmentId',
    'createWebhook',
    'addOrigin',
    'postToken',
    'createUser',
    'postEntryByAllowlistId',
    'getEnvironmentById',
    'getEnvironmentsByProjectId',
    'updateProjectSettings',
    'getEnvironmentSettings',
    'getKeysForEnvironment',
    'getJwksByEnvironmentId',
    'getJwksJsonByEnvironmentId',
    'getTokens',
    'getEnvironmentUsers',
    'getUser',
    'updateUser',
    'getWebhooks',
    'getWebhook',
    'updateWebhookById',
    'getAllowlistsByEnvironmentId',
    'getAllowlistsById',
    'updateAllowlistById',
    'enableAllowlistById',
    'disableAllowlistById',
    'getEntriesByAllowlistId',
    'getOrigins',
  ];
  let checked = 0;
  for (const operationId of order) {
    const op = spec.operations.find((o) => o.operationId === operationId);
    if (!op) {
      problems.push(`operation ${operationId} missing from the spec`);
      continue;
    }
    const body = op.body ? bodyFor(state, operationId, op.body.schema) : undefined;
    const reply = state.handlers.run({
      op,
      params: ids,
      body,
      store: state.store,
      key: (id) => state.keys.get(id),
      keepOnDelete: false,
    });
    if (!reply || reply.kind !== 'json') {
      problems.push(`${operationId} did not answer JSON (${reply?.kind ?? 'sample'})`);
      continue;
    }
    const validate = state.registry.compile(op.success.schema ?? {});
    if (!validate(reply.body)) problems.push(`${operationId}: ${state.registry.ajv.errorsText(validate.errors)}`);
    checked++;
    const b = reply.body as Record<string, unknown>;
    if (operationId === 'createAllowlistByEnvironmentId') ids['allowlistId'] = String(b['id']);
    if (operationId === 'createWebhook') ids['webhookId'] = String(b['webhookId']);
  }
  return checked;
}

function bodyFor(state: MockState, operationId: string, schema: Record<string, unknown>): unknown {
  if (operationId === 'createWebhook' || operationId === 'updateWebhookById')
    return { url: 'https://example.invalid/hook', isEnabled: true, events: ['user.created'] };
  if (operationId === 'addOrigin') return { origin: 'https://app.example.invalid' };
  if (operationId === 'postToken') return { note: 'selfcheck', scopes: ['environment.users.read'] };
  const ref = typeof schema['$ref'] === 'string' ? schema['$ref'].replace('#/components/schemas/', '') : undefined;
  return ref ? state.samples.forModel(ref) : {};
}

main()
  .then((summary) => {
    console.log(JSON.stringify(summary));
    process.exit(summary.problems.length === 0 ? 0 : 1);
  })
  .catch((err: unknown) => {
    console.log(JSON.stringify({ problems: [err instanceof Error ? err.message : String(err)] }));
    process.exit(1);
  });
