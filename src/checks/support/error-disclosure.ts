/**
 * What an error answer must not show: a piece of the credential it was sent (ERR-009: `sendEchoProbes` sends the
 * canaries, `echoOf`/`echoProblems` look for them) and the server's internals — stack frames, tracebacks, file paths,
 * SQL, internal addresses, version banners (ERR-010, `leaksOf`).
 */
import { bearer, headerValue, type HeaderValue, type HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import type { Secret } from '../../secrets/redact.js';
import { liveWriteRisk } from '../../secrets/safety.js';
import { replaceableIdParams } from './operations.js';
import { isJsonOp, sendFor } from './send.js';

/** ERR-009: where a response echoes a piece of the credential (a description without the value), or undefined. */
export function echoOf(res: HttpResponse, pieces: string[]): string | undefined {
  const places: [string, string][] = [
    ['body', res.text],
    ...Object.entries(res.headers).map(([k, v]): [string, string] => [
      `header ${k}`,
      Array.isArray(v) ? v.join(', ') : (v ?? ''),
    ]),
  ];
  for (const [where, text] of places) {
    const hits = pieces.filter((p) => text.includes(p));
    if (hits.length) return `the ${where} echoes ${hits.length + 7} characters of the credential`;
  }
  return undefined;
}

/** A drive or Unix file path, or a source file with a line number. */
const FILE_PATH = new RegExp(
  [
    String.raw`(?:^|[\s"'(=])\/(?:home|usr|var|opt|srv|app|tmp|Users|root|workspace|src)\/[\w.@-]+`,
    String.raw`\b[A-Za-z]:\\[\w\\.-]+`,
    String.raw`\b[\w-]+\.(?:ts|js|mjs|cjs|py|rb|java|go|php):\d+`,
  ].join('|'),
);

/** A private IPv4 address (RFC 1918) or a loopback one. */
const INTERNAL_IP = new RegExp(
  String.raw`\b(?:10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|` +
    String.raw`172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|127\.\d{1,3}\.\d{1,3}\.\d{1,3})\b`,
);

/** Internals an error must not show (conformance-rules.md ES-08). */
const LEAKS: [string, RegExp][] = [
  ['a stack frame', /\bat (?:async )?\S+ \(.*:\d+:\d+\)|^\s*at \S+:\d+:\d+\s*$/m],
  ['a Python traceback', /Traceback \(most recent call last\)|\bTraceback\b/],
  ['node_modules', /node_modules/],
  ['an SQL state', /SQLSTATE/],
  ['an SQL statement', /\bSELECT\s+[\w*"`]|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b/],
  ['a file path', FILE_PATH],
  ['an internal IP address', INTERNAL_IP],
  ['an exception class with a stack', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|Error): [^\n]*\n\s+at /],
];

/** ERR-010: what an error response leaks (empty when nothing). */
export function leaksOf(res: HttpResponse): string[] {
  const found = LEAKS.filter(([, re]) => re.test(res.text)).map(([what]) => `the body shows ${what}`);
  if (res.headers['x-powered-by'] !== undefined) found.push('an X-Powered-By header');
  if (res.headers['x-aspnet-version'] !== undefined) found.push('an X-AspNet-Version header');
  const server = headerValue(res.headers.server);
  if (server && /\/\d+(?:\.\d+)+/.test(server)) found.push('a Server header with a version');
  return found;
}

/** One ERR-009 request: what was sent, the answer, and the pieces of its credential that must not come back. */
export interface EchoProbe {
  label: string;
  res: HttpResponse;
  pieces: string[];
}

/** ERR-009: the token of another environment and its 8-character pieces, when the run has one. */
export function otherEnvironmentProbe(token: Secret | undefined): { secret: Secret; pieces: string[] } | undefined {
  return (
    token && {
      secret: token,
      pieces: Array.from({ length: token.reveal().length - 7 }, (_, i) => token.reveal().slice(i, i + 8)),
    }
  );
}

/**
 * ERR-009: sends an operation its canary — as an invalid credential (401), or on an operation without auth riding
 * along on a request that fails validation — and, on an environment's api-token operation that is safe to send, the
 * token of another environment (403).
 */
export async function sendEchoProbes(
  ctx: CheckContext,
  op: Operation,
  canary: { token: Secret; jwt: Secret; windows: Map<Secret, string[]> },
  other: { secret: Secret; pieces: string[] } | undefined,
): Promise<EchoProbe[]> {
  const secret = op.auth === 'user-jwt' ? canary.jwt : canary.token;
  const header: HeaderValue = bearer(secret);
  const sent: EchoProbe[] = [];
  if (op.auth !== 'none') {
    sent.push({
      label: `${secret.envName} (${op.auth === 'user-jwt' ? '401 invalid JWT' : '401 unknown token'})`,
      res: await sendFor(ctx, op, { authorization: header }),
      pieces: canary.windows.get(secret)!,
    });
  } else {
    // No auth: the canary rides along on a request that fails validation.
    const ids = replaceableIdParams(op);
    const options: RequestOptions = ids.length
      ? { pathParams: { [ids[0]!.name]: 'not-a-uuid' } }
      : isJsonOp(op)
        ? { rawBody: '{"malformed": ', headers: [['content-type', 'application/json']] }
        : {};
    sent.push({
      label: `${secret.envName} on an invalid request`,
      res: await sendFor(ctx, op, { ...options, authorization: header }),
      pieces: canary.windows.get(secret)!,
    });
  }
  const hasEnv = op.parameters.some((p) => p.name === 'environmentId' && p.in === 'path');
  if (op.auth === 'api-token' && hasEnv && other && liveWriteRisk(ctx.config, op) === undefined) {
    sent.push({
      label: 'token of another environment (403)',
      res: await sendFor(ctx, op, { authorization: bearer(other.secret) }),
      pieces: other.pieces,
    });
  }
  return sent;
}

/** ERR-009: the echoes (and unanswered probes) among the answers, one sentence each. */
export function echoProblems(sent: EchoProbe[]): string[] {
  return sent.flatMap(({ label, res, pieces }) => {
    if (res.status === 0) return [`${label}: no response (${res.exchange.error ?? 'transport error'})`];
    const echo = echoOf(res, pieces);
    return echo ? [`${label} → ${res.status}: ${echo}`] : [];
  });
}
