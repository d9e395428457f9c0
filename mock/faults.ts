import type { FaultSpec } from './spec.js';

/** Every fault id of specs/faults.json that the mock implements (each breaks exactly one rule on purpose). */
export const FAULT_IDS = [
  'accept-missing-token',
  'unauthenticated-as-403',
  'accept-empty-bearer',
  'accept-any-scheme',
  'scheme-case-sensitive',
  'accept-unknown-token',
  'accept-inactive-token',
  'ignore-token-environment',
  'forbidden-as-401',
  'ignore-documented-scopes',
  'ignore-inferred-scopes',
  'accept-jwt-as-api-token',
  'accept-query-token',
  'deny-valid-analytics',
  'no-www-authenticate',
  'error-param-without-credentials',
  'accept-duplicate-authorization',
  'accept-api-token-as-jwt',
  'require-auth-on-public',
  'accept-tab-separator',
  'validate-before-auth',
  'accept-uppercase-prefix',
  'accept-prefix-match',
  'strip-non-alphanumerics',
  'trim-token-whitespace',
  'accept-vendor-tokens',
  'distinct-malformed-answer',
  'case-insensitive-token',
  'nfkc-normalize-token',
  'reflect-request-headers',
  'accept-alg-none',
  'accept-hs256-public-key',
  'skip-signature-verification',
  'accept-empty-signature',
  'ignore-exp',
  'ignore-nbf',
  'accept-unknown-kid',
  'accept-other-environment-jwt',
  'ignore-user-basic-scope',
  'jwks-json-missing',
  'jwt-error-echoes-claims',
  'trust-embedded-jwk',
  'non-uuid-id-404',
  'ignore-query-validation',
  'ignore-body-validation',
  'malformed-json-500',
  'unknown-id-400',
  'unknown-path-no-code',
  'no-allow-header',
  'forbidden-body-object',
  'echo-credential-in-error',
  'stack-trace-in-error',
  'crash-on-deep-json',
  'no-body-limit',
  'ignore-content-type',
  'long-token-crash',
  'error-content-type-text',
  'drop-required-field',
  'wrong-field-type',
  'extra-enum-value',
  'wrong-content-type',
  'undocumented-status',
  'delete-keeps-resource',
  'no-cache-control',
  'no-rate-limit',
  'off-by-one-limit',
  'wrong-429-body',
  'no-retry-after',
  'garbage-retry-after',
  'short-retry-after',
  'cacheable-429',
  'long-window',
  'ignore-secondary-windows',
  'shared-ip-buckets',
  'shared-environment-buckets',
  'shared-endpoint-buckets',
  'trust-xff',
  'rejected-attempts-free',
  'racy-counter',
  'late-window-reset',
  'ignore-owner-on-reads',
  'ignore-owner-on-writes',
  'ignore-allowlist-owner',
  'ignore-organization-owner',
  'ignore-sdk-object-owner',
] as const;

/** A fault id the mock implements. */
export type FaultId = (typeof FAULT_IDS)[number];

const KNOWN: ReadonlySet<string> = new Set(FAULT_IDS);

/** True if `id` is a fault the mock implements. */
export function isFaultId(id: string): id is FaultId {
  return KNOWN.has(id);
}

/**
 * Checks that the catalogue (specs/faults.json) and the implementation agree exactly: a fault listed but not
 * implemented, or implemented but not listed, is a startup error.
 */
export function checkFaultCatalogue(catalogue: readonly FaultSpec[]): void {
  const listed = new Set(catalogue.map((f) => f.id));
  const missing = [...listed].filter((id) => !KNOWN.has(id));
  const extra = FAULT_IDS.filter((id) => !listed.has(id));
  if (missing.length > 0) throw new Error(`faults not implemented by the mock: ${missing.join(', ')}`);
  if (extra.length > 0) throw new Error(`faults implemented but not in specs/faults.json: ${extra.join(', ')}`);
}

/** Validates a list of fault ids; returns the first unknown id, or undefined if all are known. */
export function firstUnknownFault(ids: readonly string[]): string | undefined {
  return ids.find((id) => !KNOWN.has(id));
}

/** The set of active faults (`MOCK_FAULTS`, `POST /__mock/faults`). No fault is active by default. */
export class FaultSet {
  #active = new Set<FaultId>();
  /** True when no fault is active (lets the hot path skip all fault checks). */
  none = true;

  constructor(ids: readonly FaultId[] = []) {
    this.set(ids);
  }

  /** Replaces the active faults. */
  set(ids: readonly FaultId[]): void {
    this.#active = new Set(ids);
    this.none = this.#active.size === 0;
  }

  /** True if `id` is active. */
  on(id: FaultId): boolean {
    return !this.none && this.#active.has(id);
  }

  /** Active ids in catalogue order. */
  list(): FaultId[] {
    return FAULT_IDS.filter((id) => this.#active.has(id));
  }
}
