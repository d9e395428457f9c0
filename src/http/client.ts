/**
 * The suite's one HTTP client (undici pools, ≥ 2,000 req/s inside a test). It records every exchange with
 * credentials redacted by value (SEC-001), renders replayable curl lines that name credential variables instead
 * of values, never follows redirects and refuses credentials in URLs (SEC-002, SEC-004), counts requests against
 * the run budget and handles 429s by policy (live: honour Retry-After; mock: advance the mock clock).
 */
import { Pool } from 'undici';
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { redact, type Secret } from '../secrets/redact.js';

/** A header whose value is built from a credential at send time; reports show only the fingerprint. */
export interface SecretHeader { secret: Secret; render: (raw: string) => string }
export type HeaderValue = string | SecretHeader;

export function bearer(secret: Secret): SecretHeader {
  return { secret, render: (raw) => `Bearer ${raw}` };
}

export interface HttpRequest {
  method: string;
  /** Path below the API base URL (e.g. /environments/…), query string excluded. */
  path: string;
  query?: Record<string, string | string[]> | undefined;
  /** Header list; repeated names are sent as repeated lines. */
  headers?: [string, HeaderValue][] | undefined;
  /** JSON value (sent as application/json unless a content-type header is given), or a raw string/Buffer. */
  body?: unknown;
  rawBody?: string | Buffer | undefined;
  /** Loopback source address (127.0.0.x) for per-IP rate-limit independence. */
  localAddress?: string | undefined;
  /** What to do with a 429: return it (rate-limit checks), or retry per the client's policy. */
  on429?: 'return' | 'retry' | undefined;
  /** Set only by the check of AUTH-011; honoured only when the client allows it (mock target). */
  credentialInUrl?: boolean | undefined;
}

export interface Exchange {
  seq: number;
  request: { method: string; url: string; headers: [string, string][]; body?: string | undefined };
  response?: { status: number; headers: Record<string, string | string[]>; body: string } | undefined;
  error?: string | undefined;
  ms: number;
  curl: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  exchange: Exchange;
}

/** An exchange recorded raw and redacted only when someone reads it (failures, reports): redaction is not on the hot path. */
class Recorded {
  private cached: Exchange | undefined;
  constructor(readonly seq: number, private readonly build: () => Exchange) {}
  get value(): Exchange {
    this.cached ??= this.build();
    return this.cached;
  }
}

function response(status: number, headers: Record<string, string | string[] | undefined>, text: string, json: unknown, recorded: Recorded): HttpResponse {
  return { status, headers, text, json, get exchange() { return recorded.value; } };
}

export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
}

export interface HttpClientOptions {
  /** Base URL including /api/v0. */
  baseUrl: string;
  requestBudget: number;
  /** Retry policy for 429 (unless a request asks to see them): wait Retry-After (live) or ask the mock to advance its clock. */
  rateLimited: { kind: 'wait'; maxWaitSeconds: number; maxRetries: number } | { kind: 'advance-mock-clock'; controlUrl: string } | { kind: 'none' };
  connections?: number;
  /** True only against the embedded mock, whose credentials are dummies. */
  allowCredentialInUrl: boolean;
  /** Extra trusted CA certificates (PEM) for https targets; the system's CAs otherwise. */
  ca?: string | undefined;
}

/**
 * Transport errors a retry cannot cure: nothing listens, the name does not resolve, the certificate is not trusted.
 * Resets and timeouts (the connection was there) are retried; these fail at once.
 */
const PERMANENT_TRANSPORT_ERROR = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|CERT|certificate|self[- ]signed|ERR_TLS|ERR_SSL/i;

/** After this many transport errors in a row the target is treated as down: no more retries, each request fails once. */
const TRANSPORT_BREAKER = 5;

/** Thrown when a raw request cannot even open its connection: no answer to judge, so the check must not pass. */
export class TransportError extends Error {
  override name = 'TransportError';
}

const SECRET_IN_URL = /(dyn[_-]?[A-Za-z0-9]{16,})|(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.)/i;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class HttpClient {
  private readonly pools = new Map<string, Pool>();
  private readonly origin: string;
  private readonly basePath: string;
  private sent = 0;
  private seq = 0;
  /** Transport errors in a row (reset by any answer); at TRANSPORT_BREAKER retries stop. */
  private transportFailures = 0;
  /** Exchanges of the current recording window (cleared by takeExchanges). */
  private recorded: Recorded[] = [];
  private readonly keep: number;

  constructor(private readonly options: HttpClientOptions, keep = 2000) {
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.keep = keep;
  }

  get requestsSent(): number {
    return this.sent;
  }

  private pool(localAddress: string | undefined): Pool {
    const key = localAddress ?? '';
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(this.origin, {
        connections: this.options.connections ?? 32,
        pipelining: 1,
        keepAliveTimeout: 10_000,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
        ...(localAddress ? { localAddress } : {}),
        ...(this.options.ca !== undefined ? { connect: { ca: this.options.ca } } : {}),
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** The full URL path (base path + path + query) of a request. */
  urlPath(req: Pick<HttpRequest, 'path' | 'query'>): string {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) for (const item of Array.isArray(v) ? v : [v]) search.append(k, item);
    const qs = search.toString();
    return `${this.basePath}${req.path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends one request; transport errors are returned as status 0 with the (redacted) error in the exchange. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt += 1) {
      const res = await this.sendOnce(req);
      const policy = this.options.rateLimited;
      // Live: a transient transport error (reset, timeout) is retried twice with a short backoff — not a refused
      // connection, an unknown host or an untrusted certificate, and not once the target looks down; the mock
      // answers or it is a finding.
      if (res.status === 0) {
        this.transportFailures += 1;
        const transient = !PERMANENT_TRANSPORT_ERROR.test(res.exchange.error ?? '') && this.transportFailures < TRANSPORT_BREAKER;
        if (transient && policy.kind === 'wait' && attempt < 2) {
          await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
          continue;
        }
        return res;
      }
      this.transportFailures = 0;
      if (res.status !== 429 || req.on429 === 'return') return res;
      const retryAfter = Number(headerValue(res.headers['retry-after']) ?? '1');
      const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.ceil(retryAfter) : 1;
      if (policy.kind === 'none') return res;
      if (policy.kind === 'wait') {
        if (attempt >= policy.maxRetries || seconds > policy.maxWaitSeconds) return res;
        await new Promise((resolve) => setTimeout(resolve, (seconds + 1) * 1000));
      } else {
        if (attempt >= 5) return res;
        try {
          await fetch(`${policy.controlUrl}/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }) });
        } catch {
          return res;
        }
      }
    }
  }

  private async sendOnce(req: HttpRequest): Promise<HttpResponse> {
    if (this.sent >= this.options.requestBudget) throw new BudgetExceededError(`request budget of ${this.options.requestBudget} exhausted (DYNAMIC_REQUEST_BUDGET)`);
    const path = this.urlPath(req);
    // SEC-002: never a credential in a URL; only AUTH-011 on the mock (dummy credentials) may prove the API ignores one.
    if (SECRET_IN_URL.test(path) && !(req.credentialInUrl === true && this.options.allowCredentialInUrl)) {
      throw new Error(`refusing to send a credential-shaped value in a URL (${redact(path)})`);
    }
    const headers: string[] = [];
    let hasContentType = false;
    for (const [name, value] of req.headers ?? []) {
      if (name.toLowerCase() === 'content-type') hasContentType = true;
      headers.push(name, typeof value === 'string' ? value : value.render(value.secret.reveal()));
    }
    let body: string | Buffer | undefined = req.rawBody;
    const extraHeaders: [string, string][] = [];
    if (body === undefined && req.body !== undefined) {
      body = JSON.stringify(req.body);
      if (!hasContentType) {
        headers.push('content-type', 'application/json');
        extraHeaders.push(['content-type', 'application/json']);
      }
    }
    this.sent += 1;
    const seq = (this.seq += 1);
    const started = performance.now();
    const url = `${this.origin}${path}`;
    const requestView = (): Exchange['request'] & { curl: string } => {
      const shown: [string, string][] = [];
      const curlHeaders: string[] = [];
      for (const [name, value] of [...(req.headers ?? []), ...extraHeaders]) {
        if (typeof value === 'string') {
          shown.push([name, redact(value)]);
          curlHeaders.push(`-H ${shellQuote(`${name}: ${redact(value)}`)}`);
        } else {
          shown.push([name, value.render(value.secret.fingerprint)]);
          curlHeaders.push(`-H "${name}: ${value.render(`$${value.secret.envName}`).replace(/"/g, '\\"')}"`);
        }
      }
      const shownBody = body === undefined ? undefined : redact(typeof body === 'string' ? body.slice(0, 4000) : `<${body.length} bytes>`);
      const curl = `curl -sS -X ${req.method} ${shellQuote(redact(url))} ${curlHeaders.join(' ')}${shownBody !== undefined && typeof body === 'string' && body.length <= 4000 ? ` --data-raw ${shellQuote(shownBody)}` : ''}`.trim();
      return { method: req.method, url: redact(url), headers: shown, body: shownBody, curl };
    };
    try {
      const res = await this.pool(req.localAddress).request({ method: req.method, path, headers, body: body ?? null });
      const text = await res.body.text();
      const ms = performance.now() - started;
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const responseHeaders = res.headers as Record<string, string | string[]>;
      const status = res.statusCode;
      const recorded = this.record(new Recorded(seq, () => {
        const { curl, ...request } = requestView();
        return { seq, request, response: { status, headers: redactHeaders(responseHeaders), body: redact(text.slice(0, 4000)) }, ms, curl };
      }));
      return response(status, responseHeaders, text, json, recorded);
    } catch (error) {
      const ms = performance.now() - started;
      const code = (error as { code?: unknown }).code;
      const message = `${typeof code === 'string' ? `${code}: ` : ''}${String((error as Error).message ?? error)}`;
      const recorded = this.record(new Recorded(seq, () => {
        const { curl, ...request } = requestView();
        return { seq, request, error: redact(message), ms, curl };
      }));
      return response(0, {}, '', undefined, recorded);
    }
  }

  /**
   * Sends raw bytes over a fresh connection — TCP, or TLS for an https target — (for bytes fetch/undici refuse:
   * non-Latin-1 characters, CR/LF/NUL, duplicate header lines) and parses the status line and headers of the answer.
   * A connection the server closes without answering is status 0; one that cannot be opened throws TransportError.
   */
  async sendRaw(head: Buffer, label: string): Promise<HttpResponse> {
    if (this.sent >= this.options.requestBudget) throw new BudgetExceededError(`request budget of ${this.options.requestBudget} exhausted (DYNAMIC_REQUEST_BUDGET)`);
    this.sent += 1;
    const seq = (this.seq += 1);
    const url = new URL(this.origin);
    const started = performance.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let opened = false;
      const onOpen = (): void => {
        opened = true;
        socket.end(head);
      };
      const https = url.protocol === 'https:';
      const port = Number(url.port || (https ? 443 : 80));
      const socket: Socket = https
        ? tlsConnect({ host: url.hostname, port, ...(isIP(url.hostname) ? {} : { servername: url.hostname }), ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) }, onOpen)
        : connect({ host: url.hostname, port }, onOpen);
      socket.setTimeout(10_000, () => socket.destroy());
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', (error: Error & { code?: string }) => {
        if (!opened) reject(new TransportError(`raw request (${redact(label)}): could not connect to ${redact(this.origin)}: ${error.code ?? error.message}`));
        else resolve(Buffer.concat(chunks).toString('latin1'));
      });
      socket.on('close', () => {
        if (!opened) reject(new TransportError(`raw request (${redact(label)}): the connection to ${redact(this.origin)} closed before it opened`));
        else resolve(Buffer.concat(chunks).toString('latin1'));
      });
    });
    const [headPart = '', ...rest] = raw.split('\r\n\r\n');
    const lines = headPart.split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const text = rest.join('\r\n\r\n');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const ms = performance.now() - started;
    const recorded = this.record(new Recorded(seq, () => ({
      seq, request: { method: 'RAW', url: redact(`${this.origin} ${label}`), headers: [], body: redact(head.toString('latin1').slice(0, 2000)) },
      ...(status ? { response: { status, headers: redactHeaders(headers), body: redact(text.slice(0, 4000)) } } : { error: 'connection closed without an HTTP response' }),
      ms, curl: `# raw request (${label}); replay with FC_SEED/FC_PATH`,
    })));
    return response(status, headers, text, json, recorded);
  }

  private record(recorded: Recorded): Recorded {
    this.recorded.push(recorded);
    if (this.recorded.length > this.keep) this.recorded.splice(0, this.recorded.length - this.keep);
    return recorded;
  }

  /** Returns (redacted) and clears the recorded exchanges; with `wanted`, only those sequence numbers are kept. */
  takeExchanges(wanted?: ReadonlySet<number>): Exchange[] {
    const out = this.recorded.filter((r) => !wanted || wanted.has(r.seq)).map((r) => r.value);
    this.recorded = [];
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(redact) : redact(v);
  return out;
}

/** First value of a header. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
