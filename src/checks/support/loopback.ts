/**
 * The loopback harness of the SEC checks (SEC-001..SEC-004): HTTP listeners on ephemeral 127.0.0.1 ports that record
 * what they get (one echoes the credential back), a closed port, a client like the suite's pointed at them, and
 * `thrown` to read a refusal.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../http/client.js';

/** One request a listener got. */
export interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** A running loopback listener. */
export interface Listener {
  port: number;
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A loopback HTTP listener on an ephemeral port that records every request it gets. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listener> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/api/v0`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * SEC-001: a listener that answers 401 and echoes the Authorization it got everywhere it can — headers, a cookie,
 * WWW-Authenticate, and the body raw, base64, URL-encoded, in part and JSON-nested.
 */
export function echoingListener(): Promise<Listener> {
  return listen((req, res) => {
    const auth = req.headers.authorization ?? '';
    const value = auth.replace(/^Bearer\s+/i, '');
    res.writeHead(401, {
      'content-type': 'application/json',
      'x-echo': auth,
      'set-cookie': `session=${value}`,
      'www-authenticate': `Bearer realm="canary", error="invalid_token", error_description="unknown token ${value}"`,
    });
    res.end(
      JSON.stringify({
        error: `Invalid authentication credentials: ${auth}`,
        base64: Buffer.from(value).toString('base64'),
        url: encodeURIComponent(value),
        partial: value.slice(3, 40),
        nested: JSON.stringify({ auth }),
      }),
    );
  });
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const l = await listen((_req, res) => res.end());
  await l.close();
  return l.port;
}

/** A client like the suite's, pointed at a loopback listener. */
export function localClient(baseUrl: string): HttpClient {
  return new HttpClient({
    baseUrl,
    requestBudget: 50,
    rateLimited: { kind: 'none' },
    allowCredentialInUrl: false,
    connections: 2,
  });
}

/** Calls `fn` and returns the message it threw (undefined when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
