/**
 * .env.example documents every variable src/engine/config.ts reads (CI and GITHUB_* excepted: CI systems set them),
 * each with a one-line comment right above it, and `.env` is git-ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/engine/config.js';

const source = readFileSync(join(ROOT, 'src', 'engine', 'config.ts'), 'utf8');
const example = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n');

test('.env.example lists every variable the configuration reads, each under a comment', () => {
  const read = new Set(
    [...source.matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]+)|\b(?:int|flag|optional)\(env, '([A-Z][A-Z0-9_]+)'/g)].map(
      (m) => m[1] ?? m[2]!,
    ),
  );
  read.delete('CI');
  // GITHUB_* are set by GitHub Actions itself (the step summary file, the run's URL), never by a user.
  for (const name of [...read]) if (name.startsWith('GITHUB_')) read.delete(name);
  assert.ok(read.size >= 20, `found ${read.size} variables in src/engine/config.ts`);
  for (const name of read) {
    const at = example.findIndex((line) => line.startsWith(`${name}=`));
    assert.ok(at > 0, `${name} is missing from .env.example`);
    let comment = at - 1;
    while (comment > 0 && /^[A-Z][A-Z0-9_]+=/.test(example[comment]!)) comment -= 1;
    assert.match(example[comment]!, /^# \S/, `${name} has no comment above it`);
  }
});

test('.env is git-ignored and the example holds no credential', () => {
  assert.match(readFileSync(join(ROOT, '.gitignore'), 'utf8'), /^\.env$/m);
  assert.doesNotMatch(example.join('\n'), /^DYNAMIC_[A-Z_]*(TOKEN|JWT)=\S/m);
});
