/**
 * The spec derivation CLI (`npm run specs:derive -- --from <file>`), run as a child process: an official-style OpenAPI
 * 3.0 YAML is accepted and gets the same overlay; a file that is not an OpenAPI document gets a readable error;
 * `specs:check` names a drifted official document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/engine/config.js';

test('specs:derive --from merges an official-style OpenAPI 3.0 YAML with the clients, same overlay', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'derive-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const stdout = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts/derive/index.ts'),
      '--from',
      join(ROOT, 'tests/unit/fixtures/public-api.sample.yaml'),
      '--out',
      out,
    ],
    { encoding: 'utf8' },
  );
  assert.match(
    stdout,
    /412 operations \(189 admin, 223 \/sdk;.*official 3 \(3 shared, 0 official-only\), clients-only 409\)/,
  );
  type Doc = {
    openapi: string;
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };
  const doc = JSON.parse(readFileSync(join(out, 'specs', 'dynamic-api.openapi.json'), 'utf8')) as Doc;
  assert.equal(doc.openapi, '3.1.0');
  const webhooks = doc.paths['/environments/{environmentId}/webhooks']!.get!;
  assert.equal(webhooks['x-dynamic-auth'], 'api-token');
  assert.equal(webhooks['x-dynamic-source'], 'official+clients');
  assert.match(String(webhooks['x-dynamic-auth-conflict']), /declares no security/);
  assert.equal(doc.paths['/sdk/{environmentId}/users']!.put!['x-dynamic-auth'], 'user-jwt');
  assert.deepEqual(
    Object.keys(doc.paths['/sdk/{environmentId}/users']!.put!.responses as object).filter((s) => s.startsWith('2')),
    ['204'],
  );
  const body = (
    doc.paths['/sdk/{environmentId}/users']!.put!.requestBody as {
      content: Record<string, { schema: { properties: Record<string, { type: unknown }> } }>;
    }
  ).content['application/json']!.schema;
  assert.deepEqual(body.properties.alias!.type, ['string', 'null'], 'nullable: true read as a null type');
  assert.deepEqual(
    (doc.components.schemas.WebhooksResponse!.properties as Record<string, unknown>).webhooks !== undefined,
    true,
  );
  assert.equal(doc.paths['/environments/{environmentId}/users']!.get!['x-dynamic-source'], 'clients');
  const bad = (() => {
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'scripts/derive/index.ts'), '--from', join(ROOT, 'package.json'), '--out', out],
        { encoding: 'utf8', stdio: 'pipe' },
      );
      return '';
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
  })();
  assert.match(bad, /is not an OpenAPI document/);
  assert.doesNotMatch(bad, /\n\s+at /, 'a readable message, not a stack trace');
});

test('specs:check names a drifted official document (sha256 pin in specs/sources/sources.json)', (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'specs-check-'));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  for (const d of ['scripts', 'specs', 'schemas', 'src', 'package.json', 'tsconfig.json'])
    cpSync(join(ROOT, d), join(copy, d), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const file = join(copy, 'specs', 'sources', 'official', 'public-api.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n# edited\n`);
  let stderr = '';
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(copy, 'scripts/derive/index.ts'), '--check'], {
      cwd: copy,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (error) {
    stderr = String((error as { stderr?: string }).stderr);
  }
  assert.match(
    stderr,
    /official document specs\/sources\/official\/public-api.yaml has sha256 [0-9a-f]{64}, pinned 751e255d/,
  );
});
