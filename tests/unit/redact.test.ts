/** SEC-001's redaction layer: by value, in every encoding, including pieces of mutated credentials. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { redact, redactValue, Secret } from '../../src/secrets/redact.js';

const value = `dyn_${'Q7x'.repeat(18)}ab`;
const secret = new Secret(value, 'DYNAMIC_API_TOKEN');

test('a Secret never shows its value: toString, JSON, inspect, template strings', () => {
  for (const shown of [String(secret), JSON.stringify({ secret }), inspect(secret), `${secret.toString()}`])
    assert.ok(!shown.includes(value) && !shown.includes(value.slice(4, 20)), shown);
  assert.equal(secret.reveal(), value);
});

test('redact removes the value in raw, URL-encoded, JSON-escaped, base64 and Basic forms', () => {
  const texts = [
    value,
    encodeURIComponent(value),
    JSON.stringify(value),
    Buffer.from(value).toString('base64'),
    Buffer.from(`${value}:`).toString('base64'),
    Buffer.from(value).toString('base64url'),
  ];
  for (const t of texts) assert.ok(!redact(`before ${t} after`).includes(t), t);
});

test('redact removes pieces of a mutated credential (prefix changed, truncated, case-flipped tail)', () => {
  for (const mutated of [`DYN_${value.slice(4)}`, value.slice(0, -1), `${value.slice(0, 30)}Z${value.slice(31)}`]) {
    const out = redact(`counterexample: ["${mutated}"]`);
    assert.ok(!out.includes(value.slice(4, 16)) && !out.includes(value.slice(30, 42)), out);
  }
});

test('redact removes any dyn_-shaped token and any JWT-shaped value, even unregistered', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
  const out = redact(`dyn_abcdefghijklmnopqrstuvwxyz0123 and ${jwt}`);
  assert.doesNotMatch(out, /dyn_abcdefghijkl|eyJhbGci/);
  assert.deepEqual(redactValue({ a: [value] }).a[0]!.includes(value), false);
});
