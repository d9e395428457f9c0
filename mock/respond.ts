import type { ServerResponse } from 'node:http';

/** Content type of every JSON response (ERR-015, SCHEMA-002). */
export const JSON_TYPE = 'application/json; charset=utf-8';
/** Content type of text operations and of the `error-content-type-text` / `wrong-content-type` faults. */
export const TEXT_TYPE = 'text/plain; charset=utf-8';

/** Extra response headers. */
export type Headers = Record<string, string>;

/**
 * Writes a complete response with the headers every response carries (SCHEMA-005): `Content-Type`,
 * `Cache-Control: no-store` (unless `cacheControl` is null, i.e. a fault dropped it), `X-Content-Type-Options:
 * nosniff`. Node's http module never adds `X-Powered-By`.
 */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer | undefined,
  extra?: Headers,
  cacheControl: string | null = 'no-store',
): void {
  const headers: Record<string, string | number> = { 'content-type': contentType, 'x-content-type-options': 'nosniff' };
  if (cacheControl !== null) headers['cache-control'] = cacheControl;
  if (extra) Object.assign(headers, extra);
  if (body === undefined) {
    if (status !== 204 && status !== 304) headers['content-length'] = 0;
    res.writeHead(status, headers);
    res.end();
    return;
  }
  headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, headers);
  res.end(body);
}

/** Writes a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extra?: Headers,
  cacheControl: string | null = 'no-store',
): void {
  send(res, status, JSON_TYPE, JSON.stringify(value), extra, cacheControl);
}
