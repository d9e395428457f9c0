import type { IncomingMessage } from 'node:http';

/** Documented body size limit (ERR-012): 1 MiB. */
export const BODY_LIMIT = 1024 * 1024;

/** The outcome of reading a request body. */
export type RawBody =
  | { readonly kind: 'empty' }
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'aborted' };

/** True if the request announces a body (Content-Length > 0 or a Transfer-Encoding). */
export function announcesBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te !== '') return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0' && cl !== '';
}

/**
 * Reads a request body up to `limit` bytes (ERR-012). A Content-Length over the limit is refused before reading; a
 * chunked body is refused as soon as it passes the limit. Over-limit bodies are never buffered: the rest of the
 * stream is discarded while the 413 is sent (the caller closes the connection).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<RawBody> {
  const cl = req.headers['content-length'];
  if (cl !== undefined && Number(cl) > limit) {
    if (!tooLargeToDrain(req)) discardRest(req);
    return Promise.resolve({ kind: 'too-large' });
  }
  if (!announcesBody(req)) return Promise.resolve({ kind: 'empty' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: RawBody): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish({ kind: 'too-large' });
        discardRest(req);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      finish(size === 0 ? { kind: 'empty' } : { kind: 'bytes', bytes: Buffer.concat(chunks, size) });
    const onError = (): void => finish({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

/** How much of an over-limit body is read and thrown away (so the client can read the 413) before hanging up. */
export const DISCARD_LIMIT = 16 * 1024 * 1024;

/**
 * Lets the rest of an over-limit body flow into the void, keeping the connection usable; past
 * {@link DISCARD_LIMIT} bytes the connection is closed instead.
 */
export function discardRest(req: IncomingMessage): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DISCARD_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** True if an announced Content-Length is too large to be worth draining (the 413 then closes the connection). */
export function tooLargeToDrain(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return cl !== undefined && Number(cl) > DISCARD_LIMIT;
}

/** Maximum nesting depth of JSON bodies (ERR-011: deeper bodies are a 400, never a crash). */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a JSON text (brackets outside strings), computed without recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91 /* { [ */) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 125 || c === 93 /* } ] */) depth--;
  }
  return max;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes strict UTF-8; undefined for invalid byte sequences. */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
