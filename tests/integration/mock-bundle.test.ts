/**
 * mock/run.mjs, the mock's launcher: it runs an entry point from an esbuild bundle of mock/*.ts named by a hash of
 * the sources, so an edit is never served from a stale bundle; a source that does not compile gets one line naming the
 * file, exit 2; an unknown entry point gets one line. `server.ts --prepare` fills the caches and exits. The tests run
 * a copy of mock/ (node_modules, specs/ and schemas/ linked), so edits never touch the working tree.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/engine/config.js';
import { runMockEntry, type EntryRun } from './support/mock-process.js';

const BUNDLES = join(ROOT, 'node_modules', '.cache', 'dynamic-conformance-mock', 'bundles');
let copy: string;
/** The bundles there before: the copy's own (named by its path) are removed afterwards. */
let existing: string[];

before(() => {
  mkdirSync(BUNDLES, { recursive: true });
  existing = readdirSync(BUNDLES);
  copy = mkdtempSync(join(tmpdir(), 'mock-bundle-'));
  cpSync(join(ROOT, 'mock'), join(copy, 'mock'), { recursive: true });
  for (const dir of ['node_modules', 'specs', 'schemas']) symlinkSync(join(ROOT, dir), join(copy, dir));
});
after(() => {
  rmSync(copy, { recursive: true, force: true });
  for (const f of readdirSync(BUNDLES)) if (!existing.includes(f)) rmSync(join(BUNDLES, f), { force: true });
});

/** Runs `node mock/run.mjs <entry> [args]` in the copy until it prints its listening line or exits. */
const run = (entry: string, ...args: string[]): Promise<EntryRun> =>
  runMockEntry(entry, { MOCK_PORT: '0' }, { args, cwd: copy, untilLine: /listening on/ });

const serverBundles = (): string[] => readdirSync(BUNDLES).filter((f) => /^server-[0-9a-f]{24}\.mjs$/.test(f));

test('an edited source gets a new bundle; a source that does not compile gets one line naming it, exit 2', async () => {
  const first = await run('server.ts');
  assert.match(first.stdout, /Dynamic mock listening on http:\/\/127\.0\.0\.1:\d+\/api\/v0/, first.stderr);
  const before = serverBundles();

  const keys = join(copy, 'mock', 'keys.ts');
  const source = readFileSync(keys, 'utf8');
  appendFileSync(keys, '\nconsole.log("edited copy of keys.ts");\n');
  const edited = await run('server.ts');
  assert.match(edited.stdout, /edited copy of keys\.ts/, 'the edit runs: not a stale bundle');
  assert.ok(
    serverBundles().some((f) => !before.includes(f)),
    'a bundle of its own for the edited sources',
  );

  writeFileSync(keys, `${source}\nconst broken: = 1;\n`);
  const broken = await run('server.ts');
  assert.equal(broken.code, 2);
  assert.match(
    broken.stderr,
    /^mock\/run\.mjs: cannot bundle mock\/server\.ts: .*mock\/keys\.ts:\d+: Unexpected "="\n$/,
  );
  assert.doesNotMatch(broken.stderr, /\n\s+at /, 'no stack trace');
  writeFileSync(keys, source);
});

test('an unknown entry point gets one line naming the choices, exit 2', async () => {
  const r = await run('app.ts');
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'mock/run.mjs: the first argument names the entry point: one of server.ts, simulator.ts, selfcheck.ts\n',
  );
});

test('server.ts --prepare fills the caches (validators, signing keys) and exits 0 without serving', async () => {
  const r = await run('server.ts', '--prepare');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Dynamic mock caches ready \(validators, signing keys of seed 1\) in \d+ ms\n$/);
  const cache = join(ROOT, 'node_modules', '.cache', 'dynamic-conformance-mock');
  assert.ok(
    readdirSync(cache).some((f) => /^validators-[0-9a-f]+\.cjs$/.test(f)),
    'the validators are cached',
  );
  assert.equal(readdirSync(join(cache, 'keys')).length >= 4, true, "the seed's four environment keys are cached");
});
