/**
 * Raw requests: the bytes of an HTTP/1.1 request written verbatim (UTF-8), for what undici refuses or normalises —
 * non-Latin-1 characters, CR/LF/NUL, duplicate Authorization lines. HttpClient.sendRaw sends them.
 */
import type { HeaderValue, HttpRequest } from './client.js';

/**
 * The bytes of `req` (path already encoded by HttpClient.urlPath) with extra Authorization lines, `Connection: close`.
 */
export function rawRequestBytes(
  req: HttpRequest,
  urlPath: string,
  host: string,
  authorization: readonly HeaderValue[],
): Buffer {
  const lines: string[] = [`${req.method} ${urlPath} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  const render = (v: HeaderValue): string => (typeof v === 'string' ? v : v.render(v.secret.reveal()));
  for (const [name, value] of req.headers ?? []) lines.push(`${name}: ${render(value)}`);
  for (const value of authorization) lines.push(`Authorization: ${render(value)}`);
  let body: Buffer | undefined;
  if (req.rawBody !== undefined) body = Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody);
  else if (req.body !== undefined) {
    body = Buffer.from(JSON.stringify(req.body));
    const typed = (req.headers ?? []).some(([n]) => n.toLowerCase() === 'content-type');
    if (!typed) lines.push('Content-Type: application/json');
  }
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return body === undefined ? head : Buffer.concat([head, body]);
}
