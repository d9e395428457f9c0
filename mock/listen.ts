/**
 * The mock's listening socket, opened before the heavy modules load (spec, validators, keys): `MOCK_INSTANCES` and
 * `npm run mock` can announce a port as taken at once, and a harness that waits for it (Playwright's webServer) goes
 * on loading its tests and starting its workers while the mock loads. Requests that arrive before the mock is
 * attached wait for it; none is answered by anything but the mock. Light on purpose: node:http and the settings only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { JSON_TYPE } from './respond.js';
import { isLoopback } from './settings.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A listening server whose request handler is attached later (`attach`); earlier requests wait for it. */
export interface EarlyServer {
  readonly server: Server;
  /** Origin, e.g. `http://127.0.0.1:4010`. */
  readonly url: string;
  /** Hands every waiting and later request to `handler`. */
  attach(handler: Handler): void;
}

/** Opens host:port (loopback only); rejects with the socket error (EADDRINUSE, …) when it cannot listen. */
export async function listenEarly(host: string, port: number): Promise<EarlyServer> {
  if (!isLoopback(host)) throw new Error(`host ${host} is not a loopback address; the mock only listens on loopback`);
  let handler: Handler | undefined;
  const waiting: [IncomingMessage, ServerResponse][] = [];
  const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    if (handler) handler(req, res);
    else waiting.push([req, res]);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => onClientError(err, socket));
  // Idle keep-alive connections are closed by the client, never by the server: a server-side idle timeout races
  // with a client reusing the connection at the same moment ("other side closed" on a loaded machine).
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    attach(h: Handler): void {
      handler = h;
      for (const [req, res] of waiting.splice(0)) h(req, res);
    },
  };
}

/** Answers requests node cannot parse (ERR-011, ERR-014): 431 for oversized headers, 400 otherwise; never 5xx. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({ error: tooLarge ? 'Request header fields too large' : 'Bad request' });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: ${JSON_TYPE}` +
      `\r\nCache-Control: no-store\r\nX-Content-Type-Options: ` +
      `nosniff\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
