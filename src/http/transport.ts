/**
 * Transport faults (issue #13, item 6): a request that got no complete HTTP answer — a reset, a keep-alive connection
 * the other side closed (the idle-timeout race of every front), a timeout before any response byte, a body cut short,
 * a refused connection — says nothing about the API's promises. This module names such faults, decides which requests
 * may be sent again (RFC 9110 §9.2.2 idempotent methods, or nothing reached the server), and renders the
 * `transport:` reason under which the runner records an unanswered subject as *inconclusive (transport)*.
 */

/** What went wrong. `refused`, `unresolved` and `tls` cannot be cured by a retry. */
export type TransportFaultKind =
  | 'reset'
  | 'closed'
  | 'timeout'
  | 'truncated'
  | 'refused'
  | 'unresolved'
  | 'tls'
  | 'other';

/**
 * Where it went wrong: `connect` — the connection never opened, so no byte of the request reached the server;
 * `request` — after the connection opened, before any response byte; `response` — inside the response.
 */
export type TransportPhase = 'connect' | 'request' | 'response';

/** A request's transport fault, as the client saw it after its last attempt. */
export interface TransportFault {
  kind: TransportFaultKind;
  phase: TransportPhase;
  /** The error code (ECONNRESET, UND_ERR_SOCKET …) when there is one. */
  code: string | undefined;
  /** The error message, redacted by the caller before it is shown. */
  message: string;
  /** Attempts made (1 = not retried). */
  attempts: number;
}

/** Methods RFC 9110 §9.2.2 defines as idempotent: sending one again cannot change the outcome of the first. */
export const SAFE_TO_REPEAT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Faults a retry cannot cure: nothing listens, the name does not resolve, the certificate is not trusted. */
const PERMANENT: ReadonlySet<TransportFaultKind> = new Set(['refused', 'unresolved', 'tls']);

function codeOf(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | undefined)?.code;
  if (typeof direct === 'string') return direct;
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof cause === 'string' ? cause : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message && !error.message.includes(cause.message)
      ? `${error.message} (${cause.message})`
      : error.message;
  }
  return String(error);
}

const TLS = /CERT|certificate|self[- ]signed|ERR_TLS|ERR_SSL|EPROTO/i;

/**
 * Classifies an error of the HTTP client (undici) or of a raw socket. `phase` is what the caller knows: `connect` when
 * the connection never opened, `response` when part of the answer had arrived; the default `request` is refined to
 * `connect` by the connect-time codes.
 */
export function classifyTransportError(
  error: unknown,
  phase: TransportPhase = 'request',
): Omit<TransportFault, 'attempts'> {
  const code = codeOf(error);
  const message = messageOf(error);
  const text = `${code ?? ''} ${message}`;
  let kind: TransportFaultKind;
  let where = phase;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') {
    kind = 'refused';
    where = 'connect';
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    kind = 'unresolved';
    where = 'connect';
  } else if (TLS.test(text)) {
    kind = 'tls';
    where = 'connect';
  } else if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    kind = 'timeout';
    where = 'connect';
  } else if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'ETIMEDOUT' ||
    /timeout/i.test(text)
  ) {
    kind = 'timeout';
    if (code === 'UND_ERR_BODY_TIMEOUT') where = 'response';
  } else if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') {
    kind = phase === 'response' ? 'truncated' : 'reset';
  } else if (code === 'UND_ERR_SOCKET' || /other side closed|socket hang up|closed/i.test(message)) {
    kind = phase === 'response' ? 'truncated' : 'closed';
  } else if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    kind = 'truncated';
  } else kind = 'other';
  return { kind, phase: where, code, message };
}

/**
 * Whether a request that met `fault` may be sent again: never for a fault a retry cannot cure; always when nothing
 * reached the server (the connection never opened); otherwise only for methods safe to repeat.
 */
export function mayRetry(fault: Pick<TransportFault, 'kind' | 'phase'>, method: string): boolean {
  if (PERMANENT.has(fault.kind)) return false;
  if (fault.phase === 'connect') return true;
  return SAFE_TO_REPEAT.has(method.toUpperCase());
}

/** True for faults a retry cannot cure (the target is unreachable, not flaky). */
export function isPermanent(fault: Pick<TransportFault, 'kind'>): boolean {
  return PERMANENT.has(fault.kind);
}

const PHASE_TEXT: Record<TransportPhase, string> = {
  connect: 'the connection never opened',
  request: 'before any response byte',
  response: 'inside the response',
};

/**
 * The reason under which an unanswered subject is recorded: `transport: reset (ECONNRESET) before any response byte
 * …`.
 */
export function transportReason(fault: TransportFault): string {
  const tries = fault.attempts > 1 ? `, after ${fault.attempts} attempts` : ', not retried';
  return (
    `transport: ${fault.kind}` +
    (fault.code ? ` (${fault.code})` : '') +
    ` ${PHASE_TEXT[fault.phase]}${tries}; no answer to judge`
  );
}

/**
 * The run's verdict on transport trouble: it fails the run only when the share of requests left without an answer
 * (after retries) exceeds `thresholdPercent` (`DYNAMIC_TRANSPORT_FAILURE_THRESHOLD`).
 */
export function transportVerdict(
  requests: number,
  unanswered: number,
  thresholdPercent: number,
): { percent: number; exceeded: boolean } {
  const percent = requests > 0 ? (100 * unanswered) / requests : 0;
  return { percent, exceeded: unanswered > 0 && percent > thresholdPercent };
}
