/**
 * The spec derivation CLI (`npm run specs:derive -- --from <file>`), run as a child process: an official-style OpenAPI
 * 3.0 YAML is accepted and gets the same overlay; a file that is not an OpenAPI document gets a readable error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/engine/config.js';

test('specs:derive --from accepts an official-style OpenAPI 3.0 YAML and applies the same overlay', () => {
  const out = mkdtempSync(join(tmpdir(), 'derive-'));
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/derive/index.ts'), '--from', join(ROOT, 'tests/unit/fixtures/public-api.sample.yaml'), '--out', out], { encoding: 'utf8' });
  assert.match(stdout, /3 operations \(1 admin, 2 \/sdk; api-token 1, user-jwt 1, none 1; 1 admin auth corrections\)/);
  const doc = JSON.parse(readFileSync(join(out, 'specs', 'dynamic-api.openapi.json'), 'utf8')) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, Record<string, unknown>> } };
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.paths['/environments/{environmentId}/webhooks']!.get!['x-dynamic-auth'], 'api-token');
  assert.equal(doc.paths['/sdk/{environmentId}/users']!.put!['x-dynamic-auth'], 'user-jwt');
  assert.deepEqual((doc.components.schemas.updateSelfRequestBody!.properties as Record<string, { type: unknown }>).alias!.type, ['string', 'null']);
  const bad = (() => {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/derive/index.ts'), '--from', join(ROOT, 'package.json'), '--out', out], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
  })();
  assert.match(bad, /is not an OpenAPI document/);
  assert.doesNotMatch(bad, /\n\s+at /, 'a readable message, not a stack trace');
  rmSync(out, { recursive: true, force: true });
});
