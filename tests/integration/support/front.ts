/**
 * A test front: a loopback TCP proxy in front of the mock that behaves like the fronts a real API sits behind, so a
 * suite run can prove that transport trouble is never reported as a conformance failure (issue #13, item 6):
 *
 * - it closes a keep-alive connection after `idleTimeoutMs` (default 5 s, Node's default `keepAliveTimeout`) without a
 *   byte in either direction: a client reusing it at that moment meets "other side closed" (the keep-alive race);
 * - it drops a seeded ~`dropRate` (default 1 %) of requests: when a request's head is complete the connection is reset
 *   (RST) before any response byte reaches the client (the request's earlier bytes may have reached the mock).
 *
 * Bytes pass through unchanged (raw requests with CR/LF, duplicate or non-ASCII header lines included); requests are
 * found with http-parser-js, and a connection whose bytes it cannot parse is piped on without further counting.
 * The upstream connection is opened from the client's own loopback address, so per-IP rate limits bind as without the
 * front. `/__mock/` requests (the harness's control API, which no real front carries) are counted but never dropped.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { HTTPParser } from 'http-parser-js';

export interface FrontOptions {
  /** The server behind the front. */
  upstream: { host: string; port: number };
  /** Port to listen on (127.0.0.1); 0 picks a free one. */
  port?: number;
  /** Idle time after which a connection is closed (ms). Default 5000. */
  idleTimeoutMs?: number;
  /** Share of requests dropped (0..1). Default 0.01. */
  dropRate?: number;
  /** Seed of the drop sequence. Default 1. */
  seed?: number;
}

export interface FrontStats {
  connections: number;
  /** Requests whose head was complete (parsed), plus one per connection whose bytes could not be parsed. */
  requests: number;
  /** Requests reset before any response byte. */
  dropped: number;
  /** Connections closed for being idle. */
  idleCloses: number;
  /** Requests to `/__mock/`. */
  controlRequests: number;
  /** `METHOD path` of each dropped request, in order. */
  droppedRequests: string[];
}

export interface Front {
  url: string;
  port: number;
  stats(): FrontStats;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so the drop sequence is the same for a seed on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RequestParser {
  execute(chunk: Buffer): number | Error;
  [key: number]: unknown;
}

/** Starts the front on 127.0.0.1. */
export async function startFront(options: FrontOptions): Promise<Front> {
  const idleMs = options.idleTimeoutMs ?? 5000;
  const dropRate = options.dropRate ?? 0.01;
  const draw = prng(options.seed ?? 1);
  const stats: FrontStats = {
    connections: 0,
    requests: 0,
    dropped: 0,
    idleCloses: 0,
    controlRequests: 0,
    droppedRequests: [],
  };
  const open = new Set<Socket>();

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    stats.connections += 1;
    open.add(client);
    const local = client.remoteAddress?.replace(/^::ffff:/, '');
    const upstream = connect({
      host: options.upstream.host,
      port: options.upstream.port,
      allowHalfOpen: true,
      ...(local?.startsWith('127.') ? { localAddress: local } : {}),
    });
    open.add(upstream);
    let idle: NodeJS.Timeout | undefined;
    const closeBoth = (): void => {
      clearTimeout(idle);
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        stats.idleCloses += 1;
        closeBoth();
      }, idleMs);
    };
    touch();
    let parser: RequestParser | undefined = new HTTPParser(HTTPParser.REQUEST) as unknown as RequestParser;
    let drop = false;
    parser[HTTPParser.kOnHeadersComplete] = (info: { url: string; method: number }): void => {
      stats.requests += 1;
      const url = info.url;
      if (url.startsWith('/__mock/') || url === '/__mock') {
        stats.controlRequests += 1;
        return;
      }
      if (draw() < dropRate) {
        drop = true;
        stats.dropped += 1;
        stats.droppedRequests.push(`${HTTPParser.methods[info.method] ?? '?'} ${url}`);
      }
    };
    client.on('data', (chunk: Buffer) => {
      // A request is in flight: like Node's keepAliveTimeout, the idle clock runs only between a response and the next
      // request (a slow answer on a loaded machine is not an idle connection).
      clearTimeout(idle);
      if (parser) {
        const result = parser.execute(chunk);
        if (result instanceof Error) {
          // Not parseable as HTTP (raw CR/LF cases…): count it once and pipe the rest as it comes.
          stats.requests += 1;
          parser = undefined;
        }
      }
      if (drop) {
        // Reset before any response byte: the client sees ECONNRESET / "other side closed".
        upstream.destroy();
        client.resetAndDestroy();
        open.delete(client);
        open.delete(upstream);
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      touch();
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', () => {
      clearTimeout(idle);
      open.delete(upstream);
      if (!client.writableEnded) client.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: () => ({ ...stats, droppedRequests: [...stats.droppedRequests] }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
