/**
 * Issue 12 "Done when", as assertions over the committed spec and the committed official document: 275/275 official
 * operations present, none the document secures classed `none`, every auth contradiction recorded, success sets
 * agreeing on ≥ 266/268 shared operations, ≥ 95 % of shared operations documenting every official error status, the
 * payload-403 body accepted, ≤ 5 % of official constraints lost. Each measure is also shown able to fail.
 * Prints the measured numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ROOT } from '../../src/engine/config.js';
import { SchemaRegistry } from '../../src/engine/schemas.js';
import { toRegistrySchema } from '../../src/engine/spec.js';
import { loadOfficial, parseOfficial } from '../../scripts/derive/official.js';
import { reconcile } from '../../scripts/derive/measure.js';

const OFFICIAL_FILE = join(ROOT, 'specs', 'sources', 'official', 'public-api.yaml');
const official = loadOfficial(OFFICIAL_FILE);
const specText = readFileSync(join(ROOT, 'specs', 'dynamic-api.openapi.json'), 'utf8');
const spec = JSON.parse(specText) as Record<string, unknown>;
const registry = new SchemaRegistry();
const validates = (schema: Record<string, unknown>, value: unknown): boolean =>
  registry.validate(toRegistrySchema(schema), value).valid;
const n = reconcile(official, spec, validates);
type Op = Record<string, unknown> & { responses: Record<string, Record<string, unknown>> };
const opAt = (doc: Record<string, unknown>, method: string, path: string): Op =>
  (doc.paths as Record<string, Record<string, Op>>)[path]![method]!;

test('every official operation is in the spec: 275/275, plus the client-only ones', () => {
  console.log(
    `official operations present: ${n.present}/${n.officialOperations}; spec total ` +
      `${Object.values(spec.paths as object).reduce((a: number, i) => a + Object.keys(i as object).length, 0)}`,
  );
  assert.equal(n.officialOperations, 275);
  assert.deepEqual(n.missing, []);
  for (const [m, p] of [
    ['post', '/environments/{environmentId}/users/sessions/revoke'],
    ['put', '/environments/{environmentId}/walletConnect/projects'],
    ['get', '/environments/{environmentId}/waas/{walletId}/signaturePolicy/{policyId}'],
  ] as const) {
    assert.equal(opAt(spec, m, p)['x-dynamic-source'], 'official');
  }
});

test(
  'no operation the document secures is classed none; ' +
    'every auth contradiction carries ' +
    'x-dynamic-auth-conflict',
  () => {
    console.log(
      `secured but none: ${n.securedClassedNone.length}; conflicts recorded: ${n.conflicts.total} (` +
        `${n.conflicts.enforce} enforce, ${n.conflicts.report} report); unrecorded: ` +
        `${n.unrecordedConflicts.length}`,
    );
    assert.deepEqual(n.securedClassedNone, []);
    assert.deepEqual(n.unrecordedConflicts, []);
    const ops = Object.values(spec.paths as Record<string, Record<string, Op>>).flatMap((i) => Object.values(i));
    const conflicted = ops.filter((o) => typeof o['x-dynamic-auth-conflict'] === 'string');
    for (const o of conflicted) {
      assert.match(
        String(o['x-dynamic-auth-conflict']),
        /official document .*published clients.*Classed (api-token|user-jwt|none)/s,
        String(o.operationId),
      );
      assert.ok(['enforce', 'report'].includes(String(o['x-dynamic-auth-conflict-live'])), String(o.operationId));
    }
    const adminCorrected = conflicted.filter(
      (o) =>
        o['x-dynamic-surface'] === 'admin' &&
        (o['x-dynamic-declared-security'] as { official?: string }).official === 'none',
    );
    assert.equal(
      adminCorrected.length,
      59,
      '53 shared + 6 official-only admin operations the document leaves without security',
    );
    assert.equal(adminCorrected.filter((o) => o['x-dynamic-source'] === 'official+clients').length, 53);
    const sdk11 = [
      'getAccountBalances',
      'getEndUserOauthAccessToken',
      'getPasskeyRegistrationOptions',
      'getPasskeyAuthenticationSigninOptions',
      'getDelegatedAccessEncryptionPublicKey',
      'getBackupToken',
      'postMultichainAccountBalances',
      'scanUrl',
      'upgradeEmbeddedWalletToV2',
      'signinWithPasskey',
      'optimizeTransaction',
    ];
    const byId = new Map(ops.map((o) => [String(o.operationId), o]));
    for (const id of sdk11)
      assert.ok(typeof byId.get(id)?.['x-dynamic-auth-conflict'] === 'string', `${id} is reviewed`);
    assert.equal(byId.get('getEndUserOauthAccessToken')!['x-dynamic-auth'], 'user-jwt');
    assert.equal(byId.get('optimizeTransaction')!['x-dynamic-auth'], 'user-jwt');
  },
);

test('success-status sets agree on ≥ 266/268 shared operations; creates answer 201', () => {
  console.log(
    `success sets agree: ${n.successAgree}/${n.shared}; differ: ` +
      n.successDisagree.map((d) => `${d.key} [${d.official.join(',')}] vs [${d.spec.join(',')}]`).join('; '),
  );
  assert.equal(n.shared, 268);
  assert.ok(n.successAgree >= 266, `${n.successAgree}/268`);
  assert.ok(opAt(spec, 'post', '/environments/{environmentId}/tokens').responses['201'], 'postToken answers 201');
  assert.equal(opAt(spec, 'post', '/environments/{environmentId}/tokens').responses['200'], undefined);
});

test(
  'each shared operation documents every error status the ' +
    'document lists (≥ 95 %); the rest is a labelled standard ' +
    'layer',
  () => {
    console.log(`error statuses complete: ${n.errorCoverage.complete}/${n.errorCoverage.total}`);
    assert.ok(n.errorCoverage.complete >= 0.95 * n.errorCoverage.total);
    const origins = opAt(spec, 'get', '/environments/{environmentId}/origins');
    for (const r of Object.values(origins.responses))
      assert.ok(['documented', 'standard', 'clients'].includes(String(r['x-dynamic-layer'])));
    const signin = opAt(spec, 'post', '/sdk/{environmentId}/emailVerifications/signin');
    assert.equal(signin.responses['429']!['x-dynamic-layer'], 'documented', 'a 429 the document lists is documented');
    const revoke = opAt(spec, 'post', '/environments/{environmentId}/users/sessions/revoke');
    assert.equal(revoke.responses['202']!['x-dynamic-layer'], 'documented');
    assert.equal(
      revoke.responses['404']!['x-dynamic-layer'],
      'standard',
      'a status the document is silent on is the standard layer',
    );
  },
);

test('the payload-403 operations accept the documented ForbiddenWithErrorAndPayload body', () => {
  console.log(`payload-403 accepting: ${n.payload403.accepting}/${n.payload403.total}`);
  assert.ok(n.payload403.total >= 36);
  assert.deepEqual(n.payload403.rejecting, []);
});

test('≤ 5 % of the official constraints are lost (uuid, patterns, lengths, formats, integers)', () => {
  console.log(`constraints kept: ${n.constraints.kept}/${n.constraints.official}; lost ${n.constraints.lost.length}`);
  assert.ok(n.constraints.official > 1000);
  assert.ok(n.constraints.lost.length <= 0.05 * n.constraints.official, n.constraints.lost.slice(0, 10).join('\n'));
});

test(
  'the drift listed in issue 12 is gone: enums, ' +
    'SignMessageEvmMessage, membershipEnvironmentIds, ' +
    'text/html, UUID params',
  () => {
    const models = (spec.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
    assert.ok((models.ChainEnum!.enum as string[]).includes('STELLAR'));
    assert.ok((models.WalletAddressType!.enum as string[]).includes('ton'));
    assert.ok((models.WaasBackupOptionsEnum!.enum as string[]).includes('iCloud'));
    assert.ok(!(models.WaasBackupOptionsEnum!.enum as string[]).includes('icloud'), 'the document spelling wins');
    assert.ok(Array.isArray(models.SignMessageEvmMessage!.anyOf), 'string or {raw}');
    const membership = opAt(spec, 'get', '/membershipEnvironmentIds').responses['200']!.content as Record<
      string,
      { schema: Record<string, unknown> }
    >;
    assert.equal(membership['application/json']!.schema.$ref, '#/components/schemas/MembershipEnvironmentIds');
    assert.equal(models.MembershipEnvironmentIds!.type, 'array');
    for (const p of [
      '/sdk/{environmentId}/telegram/auth',
      '/sdk/{environmentId}/providers/{providerType}/authorizeHtml',
    ]) {
      assert.ok(
        (opAt(spec, 'get', p).responses['200']!.content as Record<string, unknown>)['text/html'],
        `${p} is text/html`,
      );
    }
    const customField = opAt(spec, 'put', '/custom/fields/{customFieldId}');
    const cf = (customField.parameters as { name: string; schema: Record<string, unknown> }[]).find(
      (p) => p.name === 'customFieldId',
    )!;
    assert.notEqual(cf.schema.format, 'uuid', 'customFieldId is a string in the document');
    let uuidParams = 0;
    for (const item of Object.values(spec.paths as Record<string, Record<string, Op>>))
      for (const o of Object.values(item)) {
        if (o['x-dynamic-source'] === 'clients') continue;
        for (const p of (o.parameters ?? []) as { in: string; name: string; schema: Record<string, unknown> }[])
          if (p.in === 'path' && p.schema.format === 'uuid') {
            uuidParams++;
            assert.equal(p.schema.pattern, '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
          }
      }
    assert.ok(uuidParams > 300, `${uuidParams} UUID path parameters on official operations`);
  },
);

test(
  'the measures can fail: a dropped pattern, a 200 ' +
    'instead of 201, a missing 409, a string-only 403 are ' +
    'caught',
  () => {
    const broken = JSON.parse(specText) as Record<string, unknown>;
    const models = (broken.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
    delete models.uuid!.pattern;
    const post = opAt(broken, 'post', '/environments/{environmentId}/tokens');
    post.responses['200'] = post.responses['201']!;
    delete post.responses['201'];
    const withConflict = Object.values(broken.paths as Record<string, Record<string, Op>>)
      .flatMap((i) => Object.entries(i).map(([, o]) => o))
      .find((o) => Object.keys(o.responses).includes('409'))!;
    delete withConflict.responses['409'];
    const payload = Object.values(broken.paths as Record<string, Record<string, Op>>)
      .flatMap((i) => Object.values(i))
      .find((o) =>
        JSON.stringify(o.responses['403']?.['x-dynamic-source'] ?? '').includes('ForbiddenWithErrorAndPayload'),
      )!;
    payload.responses['403'] = {
      description: 'x',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Forbidden' } } },
    };
    const m = reconcile(official, broken, validates);
    assert.ok(m.constraints.lost.some((c) => c.startsWith('uuid ')));
    assert.ok(m.successDisagree.some((d) => d.key === 'POST /environments/{environmentId}/tokens'));
    assert.ok(m.errorCoverage.incomplete.some((i) => i.missing.includes(409)));
    assert.equal(m.payload403.rejecting.length, 1);
  },
);

test("the published 3.0.1 dialect (nullable: true) reads the same as the archive's 3.1-style types", () => {
  // A fresh download of public-api.yaml is OpenAPI 3.0.1 with `nullable`; rebuild that form from the archive.
  const raw = parseYaml(readFileSync(OFFICIAL_FILE, 'utf8')) as unknown;
  const to30 = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(to30);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === 'enum' ? x : to30(x);
    if (Array.isArray(out.type) && (out.type as string[]).includes('null') && out.type.length === 2) {
      out.type = (out.type as string[]).find((t) => t !== 'null');
      out.nullable = true;
    }
    return out;
  };
  const doc30 = { ...(to30(raw) as Record<string, unknown>), openapi: '3.0.1' };
  const a = parseOfficial(stringify(doc30), 'public-api.yaml (3.0.1 form)');
  assert.equal(a.operations.length, 275);
  assert.equal(JSON.stringify([...a.schemas]), JSON.stringify([...official.schemas]));
  assert.equal(JSON.stringify(a.operations), JSON.stringify(official.operations));
});

test('docs-2026 reads the 429 body as "usually {error}, not guaranteed": report-only on live, with its source', () => {
  const profile = JSON.parse(readFileSync(join(ROOT, 'specs', 'profiles', 'docs-2026.json'), 'utf8')) as {
    tooManyRequests: { body: unknown; reading: Record<string, unknown> };
  };
  const r = profile.tooManyRequests.reading;
  assert.equal(r.guaranteed, false);
  assert.equal(r.live, 'report');
  assert.equal(r.source, 'https://www.dynamic.xyz/docs/platform/rate-limits');
  assert.deepEqual(r.usually, profile.tooManyRequests.body, 'the mock keeps sending the documented body');
});

test('RATE-002 is report-only on live wherever a profile reads the 429 body as not guaranteed', () => {
  const rules = (
    JSON.parse(readFileSync(join(ROOT, 'specs', 'rules', 'rate.json'), 'utf8')) as {
      rules: { id: string; targets: { live: string } }[];
    }
  ).rules;
  const profile = JSON.parse(readFileSync(join(ROOT, 'specs', 'profiles', 'docs-2026.json'), 'utf8')) as {
    tooManyRequests: { reading: { guaranteed: boolean; live: string } };
  };
  assert.equal(profile.tooManyRequests.reading.guaranteed, false);
  assert.equal(rules.find((r) => r.id === 'RATE-002')!.targets.live, profile.tooManyRequests.reading.live);
});
