/**
 * The engine's precompiled-validator cache when several processes start at once (the workers of a first run): they
 * wait while the lock's holder lives; once it is gone one takes the lock over and compiles, the others wait for its
 * file and load it; a lock left by a process that exited is taken over at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/engine/config.js';
import { SchemaRegistry } from '../../src/engine/schemas.js';
import { SCHEMA_BASE } from '../../src/engine/spec.js';

const created: string[] = [];
after(() => {
  for (const file of created) rmSync(file, { recursive: true, force: true });
});

/** A child that builds a registry (schemas in `dir`, plus one inline schema) and prints its source and file. */
function registryProcess(inline: unknown, dir: string): { child: ChildProcess; result: Promise<string> } {
  const code =
    `import { SchemaRegistry } from ${JSON.stringify(join(ROOT, 'src/engine/schemas.ts'))};` +
    `const r = new SchemaRegistry(${JSON.stringify(dir)}, ` +
    `{ inline: [${JSON.stringify(inline)}] }); console.log(r.source, r.cacheFile);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<string>((resolve) => child.once('exit', () => resolve(out.trim())));
  return { child, result };
}

test('three processes wait while the holder lives; once it is gone one compiles, two load its file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'schemas-lock-'));
  created.push(dir);
  writeFileSync(join(dir, 'one.schema.json'), JSON.stringify({ $id: `${SCHEMA_BASE}lock/one.schema.json` }));
  const inline = { type: 'number', description: `lock holder ${process.pid} ${Date.now()}` };
  const file = new SchemaRegistry(dir, { precompiled: false, inline: [inline] }).cacheFile;
  created.push(file, `${file}.lock`);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  writeFileSync(`${file}.lock`, String(holder.pid));

  const waiting = [1, 2, 3].map(() => registryProcess(inline, dir).result);
  let exited = 0;
  for (const w of waiting) void w.then(() => (exited += 1));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(exited, 0, 'all three still wait while the holder lives');
  assert.ok(!existsSync(file), 'and none compiled');

  holder.kill('SIGKILL');
  const outputs = await Promise.all(waiting);
  const sources = outputs.map((o) => o.split(' ')[0]).sort();
  assert.deepEqual(sources, ['cache', 'cache', 'compiled'], outputs.join('\n'));
  assert.ok(existsSync(file), 'the one that took the lock over wrote the file');
  assert.ok(!existsSync(`${file}.lock`), 'and released the lock');
});

test('a lock left by a process that exited is taken over at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schemas-lock-'));
  created.push(dir);
  writeFileSync(
    join(dir, 'one.schema.json'),
    JSON.stringify({ $id: `${SCHEMA_BASE}lock/two.schema.json`, description: `${process.pid} ${Date.now()}` }),
  );
  const file = new SchemaRegistry(dir, { precompiled: false }).cacheFile;
  created.push(file);
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(`${file}.lock`, String(gone));
  const started = Date.now();
  assert.equal(new SchemaRegistry(dir).source, 'compiled');
  assert.ok(Date.now() - started < 5000, 'no long wait for a dead holder');
  assert.ok(!existsSync(`${file}.lock`));
});
