/** The rate family (specs/rules/rate.json, @rate): every RATE-* check, in rule order. */
import type { Check } from '../../engine/types.js';
import { agreesWithModel } from './agreement.js';
import {
  concurrentBursts,
  multiWindow,
  perAddressBuckets,
  perEndpointBuckets,
  perEnvironmentBuckets,
  rejectedAttemptsCount,
  spoofedForwardedFor,
} from './buckets.js';
import { liveEtiquette } from './etiquette.js';
import {
  exactThreshold,
  retryAfterAccurate,
  retryAfterWellFormed,
  tooManyRequestsBody,
  tooManyRequestsNotCacheable,
  windowLength,
} from './thresholds.js';

/** Every RATE-* check, in rule order. */
export const RATE_CHECKS: Check[] = [
  exactThreshold,
  tooManyRequestsBody,
  retryAfterWellFormed,
  retryAfterAccurate,
  tooManyRequestsNotCacheable,
  windowLength,
  multiWindow,
  perAddressBuckets,
  perEnvironmentBuckets,
  perEndpointBuckets,
  spoofedForwardedFor,
  rejectedAttemptsCount,
  concurrentBursts,
  agreesWithModel,
  liveEtiquette,
];
