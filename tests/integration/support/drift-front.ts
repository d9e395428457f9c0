/**
 * Test support: a loopback front in front of a mock that makes its answers drift from the spec the way a real API
 * might — an undocumented property in every JSON object body of a 2xx, an undocumented response header on every
 * answer, and (for one operation) an undocumented 2xx status. Everything else passes through byte for byte,
 * /__mock/ control calls included. The values it adds are canaries: they must never appear in any report.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DRIFT_PROPERTY = 'driftCanaryField';
export const DRIFT_HEADER = 'x-drift-canary';
export const DRIFT_VALUE = 'Zq8vW3nRt5Lp0xKyB7';
export const DRIFT_STATUS = 203;

export interface DriftFront {
  apiUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the front on 127.0.0.1 (a free port) forwarding to `target` (the mock's origin). `statusPath` is the
 * request path (without query) whose 200 answers become DRIFT_STATUS.
 */
export async function startDriftFront(target: string, statusPath: string): Promise<DriftFront> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            let payload = Buffer.concat(body);
            let status = up.statusCode ?? 502;
            const answer: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(up.headers))
              if (v !== undefined && k !== 'content-length' && k !== 'transfer-encoding') answer[k] = v;
            const api = (req.url ?? '').startsWith('/api/');
            if (api) {
              answer[DRIFT_HEADER] = DRIFT_VALUE;
              const json = /json/.test(String(up.headers['content-type'] ?? ''));
              if (json && status >= 200 && status < 300) {
                try {
                  const value = JSON.parse(payload.toString('utf8')) as unknown;
                  if (value && typeof value === 'object' && !Array.isArray(value)) {
                    payload = Buffer.from(JSON.stringify({ ...value, [DRIFT_PROPERTY]: DRIFT_VALUE }));
                  }
                } catch {
                  // not JSON after all: pass it through
                }
              }
              if (status === 200 && (req.url ?? '').split('?')[0] === statusPath) status = DRIFT_STATUS;
            }
            answer['content-length'] = String(payload.length);
            res.writeHead(status, answer);
            res.end(payload);
          });
        },
      );
      out.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/v0`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
