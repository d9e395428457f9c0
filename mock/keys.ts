import { checkPrime, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MOCK_CACHE_DIR, writeCacheFile } from './cache-files.js';
import { Drbg } from './seed.js';

/** Public RS256 key as served in the environment JWKS (JwksKey). */
export interface PublicJwk {
  readonly kid: string;
  readonly alg: 'RS256';
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly n: string;
  readonly e: string;
}

/** An environment's signing key pair (JWT-010: "the signing key is unique per environment"). */
export interface EnvironmentKey {
  readonly environmentId: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: PublicJwk;
  /** SPKI PEM of the public key (`GET /environments/{environmentId}/keys` serves it base64-encoded). */
  readonly pem: string;
}

const E = 65537n;
const SMALL_PRIMES: readonly number[] = (() => {
  const out: number[] = [];
  for (let n = 3; out.length < 1500; n += 2) {
    let prime = true;
    for (const p of out) {
      if (p * p > n) break;
      if (n % p === 0) {
        prime = false;
        break;
      }
    }
    if (prime) out.push(n);
  }
  return out;
})();

function isPrime(c: bigint, checks: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    checkPrime(c, { checks }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Deterministic 1024-bit prime from a byte stream: sieve by small primes, then OpenSSL's primality test. */
async function derivePrime(rng: Drbg): Promise<bigint> {
  const bytes = rng.bytes(128);
  bytes[0] = bytes[0]! | 0xc0; // two top bits: the product has exactly 2048 bits
  bytes[127] = bytes[127]! | 1;
  const base = BigInt(`0x${bytes.toString('hex')}`);
  const residues = SMALL_PRIMES.map((p) => Number(base % BigInt(p)));
  for (let off = 0; ; off += 2) {
    let composite = false;
    for (let i = 0; i < SMALL_PRIMES.length; i++) {
      if ((residues[i]! + off) % SMALL_PRIMES[i]! === 0) {
        composite = true;
        break;
      }
    }
    if (composite) continue;
    const c = base + BigInt(off);
    if ((c - 1n) % E === 0n) continue;
    if ((await isPrime(c, 1)) && (await isPrime(c, 0))) return c;
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((s0 % m) + m) % m;
}

function b64uInt(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/**
 * Derives an environment's RSA-2048 key pair from `MOCK_SEED` (deterministic: same seed ⇒ same key ⇒ same JWKS
 * and byte-identical RS256 signatures). Primality tests run on the libuv thread pool, so deriving both
 * environments' keys does not block the event loop; they still cost ~0.2 CPU-s per key, so every derived key is
 * kept in node_modules/.cache/dynamic-conformance-mock/keys/, keyed by seed, environment, kid and this file's
 * source (a changed derivation never reads an old key), and a later mock process reads it instead.
 */
export function deriveEnvironmentKey(seed: string, environmentId: string, kid: string): Promise<EnvironmentKey> {
  // The key is a pure function of its inputs (and immutable): the instances of one multi-instance mock share it.
  const cacheKey = `${seed}\u0000${environmentId}\u0000${kid}`;
  let key = derived.get(cacheKey);
  if (key === undefined) {
    key = cachedOrDerived(seed, environmentId, kid);
    derived.set(cacheKey, key);
  }
  return key;
}

const derived = new Map<string, Promise<EnvironmentKey>>();

/** The private key's RSA parameters (JWK members, base64url). */
type PrivateJwk = Record<'kty' | 'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', string>;

const KEY_CACHE_DIR = `${MOCK_CACHE_DIR}keys/`;

/** This file's source (read once): a changed derivation names other cache files. */
let derivationSource: Buffer | undefined;

function keyCacheFile(seed: string, environmentId: string, kid: string): string | undefined {
  try {
    derivationSource ??= readFileSync(fileURLToPath(import.meta.url));
    const hash = createHash('sha256')
      .update(derivationSource)
      .update(JSON.stringify([seed, environmentId, kid]));
    return `${KEY_CACHE_DIR}${hash.digest('hex').slice(0, 32)}.json`;
  } catch {
    return undefined;
  }
}

/** A cached key when its file holds a consistent RSA key (n = p·q), else undefined. */
function readCachedKey(file: string): PrivateJwk | undefined {
  try {
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as PrivateJwk;
    const int = (v: string): bigint => BigInt(`0x${Buffer.from(v, 'base64url').toString('hex') || '0'}`);
    return int(jwk.p) * int(jwk.q) === int(jwk.n) && int(jwk.e) === E ? jwk : undefined;
  } catch {
    return undefined;
  }
}

async function cachedOrDerived(seed: string, environmentId: string, kid: string): Promise<EnvironmentKey> {
  const file = keyCacheFile(seed, environmentId, kid);
  const cached = file === undefined ? undefined : readCachedKey(file);
  if (cached) {
    try {
      return keyFrom(environmentId, kid, cached);
    } catch {
      // Not a usable key after all: derived again below (and the file rewritten).
    }
  }
  const jwk = await derivePrivateJwk(seed, environmentId);
  if (file !== undefined) writeCacheFile(file, JSON.stringify(jwk));
  return keyFrom(environmentId, kid, jwk);
}

async function derivePrivateJwk(seed: string, environmentId: string): Promise<PrivateJwk> {
  const rng = new Drbg(seed, `rsa:${environmentId}`);
  const [p, q] = await Promise.all([derivePrime(rng), derivePrime(new Drbg(seed, `rsa2:${environmentId}`))]);
  if (p === q) throw new Error('degenerate key');
  const n = p * q;
  const d = modInverse(E, (p - 1n) * (q - 1n));
  return {
    kty: 'RSA',
    n: b64uInt(n),
    e: b64uInt(E),
    d: b64uInt(d),
    p: b64uInt(p),
    q: b64uInt(q),
    dp: b64uInt(d % (p - 1n)),
    dq: b64uInt(d % (q - 1n)),
    qi: b64uInt(modInverse(q, p)),
  };
}

function keyFrom(environmentId: string, kid: string, jwkPrivate: PrivateJwk): EnvironmentKey {
  const privateKey = createPrivateKey({ key: jwkPrivate, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    environmentId,
    kid,
    privateKey,
    publicKey,
    jwk: { kid, alg: 'RS256', kty: 'RSA', use: 'sig', n: jwkPrivate.n, e: jwkPrivate.e },
    pem,
  };
}
