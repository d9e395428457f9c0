/**
 * src/generators/string-cache.ts: pattern strings computed by one process are read by the next instead of being
 * computed again; a damaged file is never trusted; processes writing at once keep each other's entries; the file name
 * changes with what the values depend on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringCache, cacheFileFor } from '../../src/generators/string-cache.js';
import { validString } from '../../src/generators/valid.js';

function tempFile(): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'string-cache-'));
  return { file: join(dir, 'strings.json'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const never = (): string => {
  throw new Error('computed although cached');
};

test('a value computed once is read back by a later process, "none found" included', () => {
  const { file, done } = tempFile();
  try {
    const first = new StringCache(file);
    let computed = 0;
    assert.equal(
      first.get('a', () => (computed++, 'x1')),
      'x1',
    );
    assert.equal(
      first.get('a', () => (computed++, 'other')),
      'x1',
    );
    assert.equal(
      first.get('none', () => (computed++, undefined)),
      undefined,
    );
    assert.equal(computed, 2);
    first.save();
    const later = new StringCache(file);
    assert.equal(later.get('a', never), 'x1');
    assert.equal(later.get('none', never), undefined);
  } finally {
    done();
  }
});

test('a damaged file is ignored: the value is computed, and the file is rewritten whole', () => {
  for (const damaged of ['{"a":', '["x1"]', '{"a":1}', 'null']) {
    const { file, done } = tempFile();
    try {
      writeFileSync(file, damaged);
      const cache = new StringCache(file);
      assert.equal(
        cache.get('a', () => 'fresh'),
        'fresh',
        damaged,
      );
      cache.save();
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { a: 'fresh' }, damaged);
    } finally {
      done();
    }
  }
});

test('two processes saving at once keep both their entries', () => {
  const { file, done } = tempFile();
  try {
    const one = new StringCache(file);
    const two = new StringCache(file);
    one.get('a', () => 'A');
    two.get('b', () => 'B');
    one.save();
    two.save();
    const later = new StringCache(file);
    assert.deepEqual([later.get('a', never), later.get('b', never)], ['A', 'B']);
  } finally {
    done();
  }
});

test('the file name hashes what the values depend on (fast-check version, the generating source)', () => {
  const a = cacheFileFor('/c', 'pattern-strings', ['4.11.0', 'source']);
  assert.equal(cacheFileFor('/c', 'pattern-strings', ['4.11.0', 'source']), a);
  assert.notEqual(cacheFileFor('/c', 'pattern-strings', ['4.11.1', 'source']), a);
  assert.notEqual(cacheFileFor('/c', 'pattern-strings', ['4.11.0', 'source edited']), a);
  assert.match(a, /^\/c\/pattern-strings-[0-9a-f]{24}\.json$/);
});

test('validString: the same string for a pattern and label, cached or not, and it matches the pattern', () => {
  const schema = { type: 'string', pattern: '^[\\p{L}\\p{N}_-]{3,20}$' };
  const value = validString(schema, 'string-cache test');
  assert.match(value ?? '', /^[\p{L}\p{N}_-]{3,20}$/u);
  assert.equal(validString({ ...schema }, 'string-cache test'), value);
  assert.notEqual(validString(schema, 'another label'), undefined);
});
