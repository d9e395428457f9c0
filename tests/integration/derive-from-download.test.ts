/**
 * `specs:derive --from <public-api.yaml>` on a fresh download (issue 12): Dynamic publishes the document as OpenAPI
 * 3.0.1 with `nullable: true`; the committed archive is relabelled 3.2 with 3.1-style types. Deriving from a 3.0.1
 * rendition of the archive must give the committed spec, apart from the source's name. Runs the CLI as a child.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from '../../src/engine/config.js';

/** The archive in the published dialect: `openapi: 3.0.1`, `type: [X, 'null']` → `type: X, nullable: true`. */
function as301(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(as301);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'enum' ? v : as301(v);
  if (Array.isArray(out.type) && out.type.length === 2 && (out.type as string[]).includes('null')) {
    out.type = (out.type as string[]).find((t) => t !== 'null');
    out.nullable = true;
  }
  return out;
}

test('specs:derive --from a 3.0.1 (nullable) download gives the committed spec', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'derive-download-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const archive = parse(readFileSync(join(ROOT, 'specs', 'sources', 'official', 'public-api.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const download = join(dir, 'public-api.yaml');
  writeFileSync(download, stringify({ ...(as301(archive) as Record<string, unknown>), openapi: '3.0.1' }));
  const out = join(dir, 'out');
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts/derive/index.ts'), '--from', download, '--out', out],
    { encoding: 'utf8' },
  );
  console.log(stdout.trim());
  assert.match(stdout, /419 operations .* official 275 \(268 shared, 7 official-only\), clients-only 144/);
  const name = (text: string): string =>
    text
      .replace(/public-api\.yaml@sha256:[0-9a-f]{12}/g, 'public-api.yaml@sha256:…')
      .replace(/"sha256": "[0-9a-f]{64}"/g, '"sha256": "…"')
      .replace(/"label": "[^"]*"/g, '"label": "…"');
  const fresh = name(readFileSync(join(out, 'specs', 'dynamic-api.openapi.json'), 'utf8'));
  const committed = name(readFileSync(join(ROOT, 'specs', 'dynamic-api.openapi.json'), 'utf8'));
  assert.equal(fresh.length, committed.length);
  assert.ok(fresh === committed, 'the derived spec equals the committed one apart from the source name');
});
