import { createHmac, createPublicKey, sign as rsaSign, timingSafeEqual } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { EnvironmentKey } from './keys.js';
import { issuerFor } from './seed.js';

/** JWT claims / header objects as JSON. */
export type JsonObject = Record<string, unknown>;

function b64json(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/**
 * Signs `header.payload` with the environment's private key using RS256 (RSASSA-PKCS1-v1_5 + SHA-256), whatever
 * the header says: `POST /__mock/jwt` header overrides (odd kid, extra members) are signed as given.
 */
export function signJwt(key: EnvironmentKey, header: JsonObject, payload: JsonObject): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const sig = rsaSign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

/** Default access-token claims of a user (MinifiedDynamicJwt required claims + scope, iat, exp). */
export function defaultClaims(
  key: EnvironmentKey,
  userId: string,
  nowSeconds: number,
  ids: { sid: string; credentialId: string },
): JsonObject {
  const iat = Math.floor(nowSeconds);
  return {
    kid: key.kid,
    aud: 'http://localhost:3000',
    iss: issuerFor(key.environmentId),
    sub: userId,
    sid: ids.sid,
    environment_id: key.environmentId,
    last_verified_credential_id: ids.credentialId,
    scope: 'user:basic',
    iat,
    exp: iat + 3600,
  };
}

/** Default protected header of a user JWT. */
export function defaultHeader(key: EnvironmentKey): JsonObject {
  return { alg: 'RS256', typ: 'JWT', kid: key.kid };
}

/** Applies overrides: a `null` value deletes the member (`POST /__mock/jwt`). */
export function applyOverrides(base: JsonObject, overrides: JsonObject | undefined): JsonObject {
  const out: JsonObject = { ...base };
  if (overrides) {
    for (const [k, v] of Object.entries(overrides)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
  }
  return out;
}

/** Decoded but unverified compact JWS parts; undefined if the token is not three base64url JSON segments. */
export interface DecodedJwt {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly signingInput: string;
  readonly signature: string;
}

function parseSegment(seg: string): JsonObject | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(seg)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and decodes a compact JWT without verifying anything (used only by fault paths and error echoes). */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const header = parseSegment(parts[0]!);
  const payload = parseSegment(parts[1]!);
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: `${parts[0]!}.${parts[1]!}`, signature: parts[2]! };
}

/** Verifies an HS256 signature with `secret` (only the `accept-hs256-public-key` fault uses this). */
export function verifyHs256(decoded: DecodedJwt, secret: string): boolean {
  const mac = createHmac('sha256', secret).update(decoded.signingInput).digest();
  const sig = Buffer.from(decoded.signature, 'base64url');
  return sig.length === mac.length && timingSafeEqual(sig, mac);
}

/** Imports a public JWK found in a JWT header (only the `trust-embedded-jwk` fault uses this). */
export function importEmbeddedJwk(jwk: unknown): KeyObject | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}
