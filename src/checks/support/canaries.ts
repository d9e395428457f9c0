/**
 * Canary credentials: credential-shaped values that are never real, registered for redaction as they are made.
 * ERR-009 uses seeded ones (the run's seed makes them differ between runs, and a replay gets the same ones);
 * SEC-001..SEC-005 use fresh random ones and report where a canary was found with `leakReport`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { needlesFor, type Needle } from '../../secrets/leaks.js';
import { Secret } from '../../secrets/redact.js';
import type { CheckContext } from '../../engine/types.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Deterministic alphanumerics from a label (the run's seed makes canaries differ between runs). */
function seededAlnum(label: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i += 1) {
    for (const byte of createHash('sha256').update(`${label}:${i}`).digest())
      if (out.length < length) out += ALNUM[byte % ALNUM.length];
  }
  return out;
}

/** Random alphanumerics. */
function randomAlnum(n: number): string {
  return [...randomBytes(n)].map((b) => ALNUM[b % 62]).join('');
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * ERR-009: seeded canary credentials of both kinds, registered for redaction; `windows` are the 8-character pieces
 * that must never come back.
 */
export function seededCanaries(ctx: CheckContext): { token: Secret; jwt: Secret; windows: Map<Secret, string[]> } {
  const tag = `${ctx.fc.seed}`;
  const { prefix, length } = ctx.spec.profile.token;
  const token = new Secret(
    `${prefix}${`CANARY${seededAlnum(`token:${tag}`, length)}`.slice(0, length)}`,
    'CANARY_API_TOKEN',
  );
  const payload = b64url({
    sub: `canary-${seededAlnum(`sub:${tag}`, 16)}`,
    environment_id: ctx.credentials.environmentId,
    scope: 'user:basic',
    exp: 4_102_444_800,
  });
  const signature = seededAlnum(`sig:${tag}`, 43);
  const jwt = new Secret(
    `${b64url({ alg: 'RS256', typ: 'JWT', kid: 'canary' })}.${payload}.${signature}`,
    'CANARY_USER_JWT',
  );
  const piecesOf = (distinctive: string): string[] =>
    Array.from({ length: Math.max(0, distinctive.length - 7) }, (_, i) => distinctive.slice(i, i + 8));
  // The JWT's header is the same for every RS256 JWT: only its payload and signature are distinctive.
  return {
    token,
    jwt,
    windows: new Map([
      [token, piecesOf(token.reveal())],
      [jwt, piecesOf(`${payload}.${signature}`)],
    ]),
  };
}

/** A fresh canary: its raw value, the Secret that registers it for redaction, and the needles the scanner uses. */
export interface Canary {
  raw: string;
  secret: Secret;
  needles: Needle[];
}

/** SEC-001..SEC-005: a fresh dyn_-shaped canary (never a real credential) and its needles. */
export function canaryToken(): Canary {
  const raw = `dyn_CANARY${randomAlnum(46)}`;
  return { raw, secret: new Secret(raw, 'CANARY_TOKEN'), needles: needlesFor(raw, 0) };
}

/** SEC-001, SEC-002: a fresh JWT-shaped canary. */
export function canaryJwt(): Canary {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const raw = [
    b64({ alg: 'RS256', typ: 'JWT' }),
    b64({ sub: `canary-${randomAlnum(12)}`, scope: 'user:basic' }),
    randomBytes(64).toString('base64url'),
  ].join('.');
  return { raw, secret: new Secret(raw, 'CANARY_JWT'), needles: needlesFor(raw, 0) };
}

/** SEC-001: the encodings a canary was found in, for a failure message. */
export function leakReport(found: { encoding: string }[]): string {
  return [...new Set(found.map((f) => f.encoding))].join(', ');
}
