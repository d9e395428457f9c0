/**
 * Requests a server must refuse with a 4xx, never a 5xx: broken percent-encoding, oversized / out-of-range /
 * repeated query values and hostile bodies, with their 5xx judge (ERR-011); oversized JSON bodies of exact sizes
 * (ERR-012); and the non-JSON Content-Types a JSON operation is sent (ERR-013).
 */
import type { HttpRequest, HttpResponse } from '../../http/client.js';
import type { RequestOptions } from '../../http/requests.js';
import type { Operation } from '../../engine/spec.js';
import type { CheckContext } from '../../engine/types.js';
import { hostileBody } from '../../arbitraries/hostileBody.js';
import { checkProperty, runsPerOp, seedFor } from './property.js';
import { isJsonOp, sendRawBody } from './send.js';
import type { Verdict } from './status.js';

const PLACEHOLDER = 'zzplaceholderzz';

const BAD_ENCODINGS = ['%zz', '%E0%A4%A', '%C0%AF', '%00'];

/**
 * ERR-011: requests with broken percent-encoding in a path parameter and an oversized / out-of-range / repeated query
 * value; the variant rotates with the operation's index so the sweep covers every variant at one request each.
 */
export function encodingProbes(
  ctx: CheckContext,
  op: Operation,
  cred: Pick<RequestOptions, 'authorization'>,
  index: number,
): { label: string; request: HttpRequest }[] {
  const out: { label: string; request: HttpRequest }[] = [];
  const pathParam = op.parameters.find((p) => p.in === 'path' && !(op.auth !== 'none' && p.name === 'environmentId'));
  if (pathParam) {
    const bad = BAD_ENCODINGS[index % BAD_ENCODINGS.length]!;
    const base = ctx.requests.build(op, { ...cred, pathParams: { [pathParam.name]: PLACEHOLDER } });
    out.push({
      label: `path {${pathParam.name}} = ${bad}`,
      request: { ...base, path: base.path.replace(PLACEHOLDER, bad) },
    });
  }
  const query = op.parameters.find((p) => p.in === 'query');
  const base = ctx.requests.build(op, cred);
  const name = query?.name ?? 'unexpected';
  const variants: [string, string | string[]][] = [
    ['8 KB value', 'x'.repeat(8192)],
    ['1e999999', '1e999999'],
    ['repeated 50 times', Array.from({ length: 50 }, (_, i) => String(i))],
  ];
  const [label, value] = variants[index % variants.length]!;
  out.push({
    label: `query ${name} = ${label}`,
    request: { ...base, query: { ...(base.query ?? {}), [name]: value } },
  });
  return out;
}

/** ERR-011: a 5xx (or no answer) is the failure; any other status is fine. */
export function serverError(res: HttpResponse, label: string): Verdict {
  if (res.status === 0)
    return { ok: false, reason: `${label}: no response (${res.exchange.error ?? 'transport error'})`, res };
  if (res.status >= 500) return { ok: false, reason: `${label}: ${res.status}`, res };
  return { ok: true, res };
}

/**
 * ERR-011: the hostile-body property (deeply nested JSON, numbers beyond double range, invalid UTF-8, …) on a JSON
 * operation; `onAnswer` sees every answer that is not a 5xx. The first 5xx with its replay line, or undefined.
 */
export async function hostileBodyFailure(
  ctx: CheckContext,
  op: Operation,
  cred: Pick<RequestOptions, 'authorization'>,
  onAnswer: (res: HttpResponse) => void,
): Promise<{ reason: string; res: HttpResponse | undefined } | undefined> {
  const subject = `${op.key} (hostile bodies)`;
  let bodyFail: Verdict | undefined;
  const run = await checkProperty(
    ctx,
    [hostileBody(ctx.requests.body(op))],
    async (h) => {
      const v = serverError(await sendRawBody(ctx, op, cred, h.body), h.label);
      if (!v.ok) bodyFail = v;
      else onAnswer(v.res);
      return v.ok;
    },
    { numRuns: runsPerOp(ctx, 3), seed: seedFor(ctx, subject) },
  );
  if (run.failed && bodyFail && !bodyFail.ok)
    return { reason: `${bodyFail.reason} (replay: ${run.replay})`, res: bodyFail.res };
  if (run.failed && !run.interrupted)
    throw run.error instanceof Error ? run.error : new Error(`${subject}: property failed without a verdict`);
  return undefined;
}

const MIB = 1024 * 1024;

/** ERR-012: a JSON text of exactly `bytes` bytes. */
export function paddedJson(bytes: number): string {
  const head = '{"padding":"';
  const tail = '"}';
  return `${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`;
}

/**
 * ERR-012: the oversized bodies to send — about 2 MiB to the first JSON POST of each credential kind (api-token,
 * user-jwt, none), and 1 MiB + 1 byte to the first of them.
 */
export function oversizedBodyCases(
  operations: readonly Operation[],
): { op: Operation; bytes: number; label: string }[] {
  const picks = (['api-token', 'user-jwt', 'none'] as const)
    .map((kind) => operations.find((o) => o.auth === kind && o.method === 'POST' && isJsonOp(o)))
    .filter((o): o is Operation => o !== undefined);
  return [
    ...picks.map((op) => ({ op, bytes: 2 * MIB, label: `${op.key} (2 MiB body)` })),
    ...picks.slice(0, 1).map((op) => ({ op, bytes: MIB + 1, label: `${op.key} (1 MiB + 1 byte)` })),
  ];
}

/** ERR-013: the Content-Types a JSON body is sent under ('(none)': no Content-Type header). */
export const NON_JSON_TYPES = [
  'text/plain',
  'application/xml',
  'text/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=conformance',
  'text/html',
  'application/octet-stream',
  '(none)',
];
