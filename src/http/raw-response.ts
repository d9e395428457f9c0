/**
 * Reads an HTTP/1.1 response from raw bytes the way a real client does (RFC 9112), for the raw-socket requests of
 * AUTH-015, TOKEN-009 and TOKEN-010 (the bytes undici refuses to send). Parsing is http-parser-js (pinned), not string
 * splitting: every framing RFC 9112 allows is read — Content-Length, chunked (extensions, trailers), a
 * transfer-coding list ending in chunked, close-delimited bodies, 1xx interim responses before the final one, HEAD /
 * 204 / 304 / 1xx without a body, repeated and obs-folded header lines — so a server that frames its answer
 * differently from the mock but correctly is never misread (no false alarm).
 *
 * Feed bytes with {@link ResponseReader.push} as they arrive (it says when the final response is complete, so the
 * caller may close the connection), and call {@link ResponseReader.end} at end of stream.
 */
import { HTTPParser } from 'http-parser-js';

/** How the final response's body was delimited (RFC 9112 §6.3). */
export type Framing = 'content-length' | 'chunked' | 'close-delimited' | 'no-body';

/** A header line as received (name as sent, value without surrounding whitespace). */
export type HeaderLine = [name: string, value: string];

/** A 1xx response received before the final one (RFC 9110 §15.2). */
export interface InterimResponse {
  status: number;
  reason: string;
  rawHeaders: HeaderLine[];
}

/** A complete final response. */
export interface ParsedResponse {
  status: number;
  reason: string;
  /** `1.1` or `1.0`. */
  httpVersion: string;
  /** Every header line in order (repeated names kept). */
  rawHeaders: HeaderLine[];
  /** Lower-case names; a repeated name gives an array (as undici reports headers). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Trailer fields of a chunked body. */
  trailers: HeaderLine[];
  interim: InterimResponse[];
  framing: Framing;
  /** The server lets the connection persist after this response (no `Connection: close`, not close-delimited). */
  keepAlive: boolean;
}

/** What a byte stream turned out to hold. */
export type ReadResult =
  | { kind: 'response'; response: ParsedResponse }
  /** The stream ended before any byte arrived (a transport outcome, not an answer). */
  | { kind: 'no-response' }
  /** The stream ended inside a message (a transport outcome: the answer is incomplete). */
  | { kind: 'truncated'; bytes: number; reason: string }
  /** The bytes are not an HTTP/1.x response (an answer, but not one that can be judged as HTTP). */
  | { kind: 'malformed'; bytes: number; reason: string };

/** The parts of http-parser-js's parser this module drives (its published typings use computed keys). */
interface Parser {
  execute(chunk: Buffer): number | Error;
  finish(): void | Error;
  isChunked: boolean;
  body_bytes: number | null;
  [key: number]: unknown;
}

interface HeadInfo {
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  statusCode: number;
  statusMessage: string;
}

/** RFC 9112 §9.3: HTTP/1.1 persists unless `close`; HTTP/1.0 only with `keep-alive`. */
function persists(info: HeadInfo, connection: readonly string[]): boolean {
  if (connection.includes('close')) return false;
  return (
    info.versionMajor > 1 || (info.versionMajor === 1 && info.versionMinor >= 1) || connection.includes('keep-alive')
  );
}

// Field values are octets; obs-text (0x80-0xFF) must survive as Latin-1, as in undici/llhttp (the parser's default,
// 'ascii', clears the high bit). This module is the parser's only user in the suite.
HTTPParser.encoding = 'latin1';

class Malformed extends Error {}

const CHUNK_SIZE_LINE = /^[0-9A-Fa-f]+[ \t]*(;.*)?$/;

function pairs(flat: readonly string[]): HeaderLine[] {
  const out: HeaderLine[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function headerMap(lines: readonly HeaderLine[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of lines) {
    const key = name.toLowerCase();
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function listValues(lines: readonly HeaderLine[], name: string): string[] {
  return lines
    .filter(([n]) => n.toLowerCase() === name)
    .flatMap(([, v]) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');
}

/**
 * An incremental reader of the response to one request. `requestMethod` matters: the answer to HEAD has no body
 * whatever its headers say (RFC 9112 §6.3 (1)).
 */
export class ResponseReader {
  readonly #head: boolean;
  readonly #parser: Parser;
  #received = 0;
  #interim: InterimResponse[] = [];
  #current: Omit<ParsedResponse, 'body' | 'trailers' | 'interim'> | undefined;
  #body: Buffer[] = [];
  #trailers: HeaderLine[] = [];
  #final: ParsedResponse | undefined;
  #error: ReadResult | undefined;

  constructor(requestMethod = 'GET') {
    this.#head = requestMethod.toUpperCase() === 'HEAD';
    const parser = new HTTPParser(HTTPParser.RESPONSE) as unknown as Parser;
    this.#parser = parser;
    // A chunk-size line must be hex digits (+ extensions); the parser alone would read garbage as the last chunk.
    const internals = parser as unknown as { consumeLine: () => string | undefined; state: string };
    const consumeLine = internals.consumeLine;
    internals.consumeLine = function (this: typeof internals): string | undefined {
      const line = consumeLine.call(this);
      if (this.state === 'BODY_CHUNKHEAD' && line !== undefined && !CHUNK_SIZE_LINE.test(line)) {
        throw new Malformed(`invalid chunk-size line ${JSON.stringify(line.slice(0, 40))}`);
      }
      return line;
    };
    parser[HTTPParser.kOnHeadersComplete] = (info: HeadInfo): boolean => this.#onHead(info);
    parser[HTTPParser.kOnBody] = (chunk: Buffer, offset: number, length: number): void => {
      if (this.#current !== undefined) this.#body.push(Buffer.from(chunk.subarray(offset, offset + length)));
    };
    parser[HTTPParser.kOnHeaders] = (trailers: string[]): void => {
      this.#trailers.push(...pairs(trailers));
    };
    parser[HTTPParser.kOnMessageComplete] = (): void => this.#onComplete();
  }

  /** True once the final (non-1xx) response is complete, or the bytes turned out not to be HTTP. */
  get done(): boolean {
    return this.#final !== undefined || this.#error !== undefined;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  #onHead(info: HeadInfo): boolean {
    const parser = this.#parser;
    if (this.#final !== undefined) return true; // bytes after the final response are not read
    const rawHeaders = pairs(info.headers);
    const status = info.statusCode;
    if (status >= 100 && status < 200 && status !== 101) {
      // RFC 9110 §15.2: a 1xx never has content, whatever its headers say; the final response follows.
      this.#interim.push({ status, reason: info.statusMessage, rawHeaders });
      parser.isChunked = false;
      parser.body_bytes = 0;
      return true;
    }
    const codings = listValues(rawHeaders, 'transfer-encoding');
    const lengths = listValues(rawHeaders, 'content-length');
    const noBody = this.#head || status === 204 || status === 304 || status === 101;
    let framing: Framing;
    if (noBody) framing = 'no-body';
    else if (codings.length > 0) {
      // RFC 9112 §6.3 (3)/(4): Transfer-Encoding overrides Content-Length; chunked only as the final coding,
      // otherwise the body runs to the end of the connection.
      const chunked = codings[codings.length - 1] === 'chunked';
      parser.isChunked = chunked;
      parser.body_bytes = null;
      framing = chunked ? 'chunked' : 'close-delimited';
    } else if (lengths.length > 0) {
      // RFC 9110 §8.6: a list of identical decimal values is one length; anything else is unrecoverable framing.
      if (!lengths.every((v) => /^\d+$/.test(v)) || new Set(lengths.map(Number)).size !== 1) {
        throw new Malformed(`invalid Content-Length ${JSON.stringify(lengths.join(', ').slice(0, 40))}`);
      }
      parser.body_bytes = Number(lengths[0]);
      framing = Number(lengths[0]) === 0 ? 'no-body' : 'content-length';
    } else {
      parser.body_bytes = null;
      framing = 'close-delimited';
    }
    this.#current = {
      status,
      reason: info.statusMessage,
      httpVersion: `${info.versionMajor}.${info.versionMinor}`,
      rawHeaders,
      headers: headerMap(rawHeaders),
      framing,
      keepAlive: persists(info, listValues(rawHeaders, 'connection')) && framing !== 'close-delimited',
    };
    return noBody;
  }

  #onComplete(): void {
    const current = this.#current;
    if (current === undefined || this.#final !== undefined) return; // a 1xx ended; the final response follows
    this.#final = { ...current, body: Buffer.concat(this.#body), trailers: this.#trailers, interim: this.#interim };
  }

  /** Feeds bytes as they arrive; returns {@link done}. Bytes after the final response are ignored. */
  push(chunk: Buffer): boolean {
    if (this.done || chunk.length === 0) return this.done;
    this.#received += chunk.length;
    let result: number | Error;
    try {
      result = this.#parser.execute(chunk);
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    }
    if (result instanceof Error && this.#final === undefined) {
      this.#error = { kind: 'malformed', bytes: this.#received, reason: parseErrorText(result) };
    }
    return this.done;
  }

  /** The stream ended: completes a close-delimited body and returns what the bytes held. */
  end(): ReadResult {
    if (this.#error) return this.#error;
    if (this.#final === undefined && this.#received > 0) {
      const result = this.#parser.finish();
      if (result instanceof Error && this.#final === undefined) {
        const where = this.#current === undefined ? 'before the final response head was complete' : 'inside the body';
        return {
          kind: 'truncated',
          bytes: this.#received,
          reason: `connection closed ${where} (${this.#received} bytes)`,
        };
      }
    }
    if (this.#final !== undefined) return { kind: 'response', response: this.#final };
    if (this.#received === 0) return { kind: 'no-response' };
    const interim = this.#interim.length ? ` after ${this.#interim.length} interim (1xx) response(s)` : '';
    return {
      kind: 'truncated',
      bytes: this.#received,
      reason: `connection closed before the final response${interim} (${this.#received} bytes)`,
    };
  }
}

function parseErrorText(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code} (${error.message})` : error.message;
}

/** Reads a whole byte stream (all chunks, then end of stream) as the response to a `requestMethod` request. */
export function readResponse(bytes: Buffer | readonly Buffer[], requestMethod = 'GET'): ReadResult {
  const reader = new ResponseReader(requestMethod);
  for (const chunk of Buffer.isBuffer(bytes) ? [bytes] : bytes) if (reader.push(chunk)) break;
  return reader.end();
}
