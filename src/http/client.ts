/**
 * The suite's one HTTP client (undici pools, ≥ 2,000 req/s inside a test). It records every exchange with
 * credentials redacted by value (SEC-001), renders replayable curl lines that name credential variables instead
 * of values, never follows redirects and refuses credentials in URLs (SEC-002, SEC-004), counts requests against
 * the run budget and handles 429s by policy (live: honour Retry-After; mock: advance the mock clock).
 * Transport faults (issue #13): a reset, a closed keep-alive connection or a timeout before any response byte is
 * retried when the request is safe to repeat (src/http/transport.ts), on every target; a request still without an
 * answer carries `transport` (its fault), which the runner records as inconclusive (transport), never as a verdict.
 */
import { Pool, request as undiciRequest, type Dispatcher } from 'undici';
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { redact, type Secret } from '../secrets/redact.js';
import type { Pacer } from './pacer.js';
import { ResponseReader } from './raw-response.js';
import { classifyTransportError, mayRetry, type TransportFault } from './transport.js';

/** A header whose value is built from a credential at send time; reports show only the fingerprint. */
export interface SecretHeader {
  secret: Secret;
  render: (raw: string) => string;
}
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
  /**
   * A request of the budgeted live rate-limit probe (DYNAMIC_RATE_LIMIT_BUDGET): the pacer enters it in its schedule
   * but does not hold it back, and its 429s are planned. Every other live request is paced; its 429s are unplanned.
   */
  rateProbe?: boolean | undefined;
}

export interface Exchange {
  seq: number;
  request: { method: string; url: string; headers: [string, string][]; body?: string | undefined };
  response?: { status: number; headers: Record<string, string | string[]>; body: string } | undefined;
  error?: string | undefined;
  /** The transport fault of a request left without an answer (after retries). */
  transport?:
    | { kind: TransportFault['kind']; phase: TransportFault['phase']; code: string | undefined; attempts: number }
    | undefined;
  ms: number;
  curl: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  /** The exchange's sequence number, readable without building (and redacting) the exchange itself. */
  seq?: number;
  exchange: Exchange;
  /** Set (status 0) when the request got no complete answer, after the client's retries: nothing to judge. */
  transport?: TransportFault | undefined;
}

/** A client's transport counters (per check and per run in both reports). */
export interface TransportCounts {
  /** Attempts that met a transport fault. */
  failedAttempts: number;
  /** Of those, attempts sent again. */
  retried: number;
  /** Requests answered after at least one retry. */
  recovered: number;
  /** Requests still without an answer after retries. */
  unanswered: number;
}

/**
 * An exchange recorded raw and redacted only when someone reads it (failures, reports): redaction is not on the hot
 * path.
 */
class Recorded {
  private cached: Exchange | undefined;
  constructor(
    readonly seq: number,
    private readonly build: () => Exchange,
  ) {}
  get value(): Exchange {
    this.cached ??= this.build();
    return this.cached;
  }
}

/** An answer as checks read it; its JSON is parsed when first read (many checks judge the status alone). */
function response(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  recorded: Recorded,
  transport?: TransportFault,
): HttpResponse {
  let json: { value: unknown } | undefined;
  return {
    status,
    headers,
    text,
    get json() {
      json ??= { value: parseJson(text) };
      return json.value;
    },
    seq: recorded.seq,
    get exchange() {
      return recorded.value;
    },
    ...(transport ? { transport } : {}),
  };
}

export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
}

export interface HttpClientOptions {
  /** Base URL including /api/v0. */
  baseUrl: string;
  requestBudget: number;
  /**
   * Retry policy for 429 (unless a request asks to see them): wait Retry-After (live) or ask the mock to advance its
   * clock.
   */
  rateLimited:
    | { kind: 'wait'; maxWaitSeconds: number; maxRetries: number }
    | { kind: 'advance-mock-clock'; controlUrl: string }
    | { kind: 'none' };
  connections?: number;
  /** True only against the embedded mock, whose credentials are dummies. */
  allowCredentialInUrl: boolean;
  /** Extra trusted CA certificates (PEM) for https targets; the system's CAs otherwise. */
  ca?: string | undefined;
  /** Live: the run's one pacer (src/engine/run-state.ts); every request waits for its send slot. */
  pacer?: Pacer | undefined;
  /** Live: every request from one source address, as a CI runner sends (requests' localAddress is ignored). */
  singleSource?: boolean | undefined;
  /** Retries of a transport fault (requests safe to repeat) and the backoff step; default 2 × 50 ms. */
  transportRetry?: { retries: number; backoffMs: number } | undefined;
}

/**
 * After this many transport errors in a row the target is treated as down: no more retries, each request fails once.
 */
const TRANSPORT_BREAKER = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const SECRET_IN_URL = /(dyn[_-]?[A-Za-z0-9]{16,})|(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.)/i;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * What `send` puts on the wire for one request, in one fixed shape: requests are built in many places with different
 * fields, and a hot path that read them directly had its optimized code thrown away at each new shape (measured: the
 * function recompiled ~8 times per worker, ~1 CPU-s per run).
 */
interface Outgoing {
  method: string;
  /** Base path + path + query. */
  path: string;
  body: string | Buffer | undefined;
  localAddress: string | undefined;
  rateProbe: boolean;
  /** The request as built, for its exchange (rendered, redacted, only when read). */
  request: HttpRequest;
  /** Headers the client added (content-type of a JSON body). */
  added: [string, string][];
}

/** The wire form of a request; SEC-002: refuses a credential-shaped value in its URL. */
function outgoing(req: HttpRequest, path: string, allowCredentialInUrl: boolean): Outgoing {
  // SEC-002: never a credential in a URL; only AUTH-011 on the mock (dummy credentials) may prove the API ignores one.
  if (SECRET_IN_URL.test(path) && !(req.credentialInUrl === true && allowCredentialInUrl)) {
    throw new Error(`refusing to send a credential-shaped value in a URL (${redact(path)})`);
  }
  let body: string | Buffer | undefined = req.rawBody;
  const added: [string, string][] = [];
  if (body === undefined && req.body !== undefined) {
    body = JSON.stringify(req.body);
    if (!(req.headers ?? []).some(([name]) => name.toLowerCase() === 'content-type'))
      added.push(['content-type', 'application/json']);
  }
  return {
    method: req.method,
    path,
    body,
    localAddress: req.localAddress,
    rateProbe: req.rateProbe === true,
    request: req,
    added,
  };
}

/**
 * The header lines as sent: a flat name/value list with credentials revealed, built for the send and never kept (the
 * recorded exchange renders its own, redacted).
 */
function wireHeaders(out: Outgoing): string[] {
  const headers: string[] = [];
  for (const [name, value] of out.request.headers ?? [])
    headers.push(name, typeof value === 'string' ? value : value.render(value.secret.reveal()));
  for (const [name, value] of out.added) headers.push(name, value);
  return headers;
}

/** A request as reports show it (SEC-001: values redacted, credentials as fingerprints) and its curl line. */
function requestView(origin: string, out: Outgoing): Exchange['request'] & { curl: string } {
  const url = `${origin}${out.path}`;
  const { body } = out;
  const shown: [string, string][] = [];
  const curlHeaders: string[] = [];
  for (const [name, value] of [...(out.request.headers ?? []), ...out.added]) {
    if (typeof value === 'string') {
      shown.push([name, redact(value)]);
      curlHeaders.push(`-H ${shellQuote(`${name}: ${redact(value)}`)}`);
    } else {
      shown.push([name, value.render(value.secret.fingerprint)]);
      curlHeaders.push(`-H "${name}: ${value.render(`$${value.secret.envName}`).replace(/"/g, '\\"')}"`);
    }
  }
  const shownBody =
    body === undefined ? undefined : redact(typeof body === 'string' ? body.slice(0, 4000) : `<${body.length} bytes>`);
  const curl = (
    `curl -sS -X ${out.method} ${shellQuote(redact(url))} ` +
    `${curlHeaders.join(' ')}` +
    (shownBody !== undefined && typeof body === 'string' && body.length <= 4000
      ? ` --data-raw ${shellQuote(shownBody)}`
      : '')
  ).trim();
  return { method: out.method, url: redact(url), headers: shown, body: shownBody, curl };
}

/** The recorded exchange of an answered request (built only when read). */
function answeredExchange(
  origin: string,
  out: Outgoing,
  seq: number,
  ms: number,
  status: number,
  headers: Record<string, string | string[]>,
  text: string,
): Exchange {
  const { curl, ...request } = requestView(origin, out);
  return {
    seq,
    request,
    response: { status, headers: redactHeaders(headers), body: redact(text.slice(0, 4000)) },
    ms,
    curl,
  };
}

/** A request's answer as undici delivered it: the final status, its parsed header fields and the body as text. */
interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  text: string;
}

/** Why a request got no answer: undici's error, before the answer's head arrived ('request') or after it. */
interface NoAnswer {
  error: unknown;
  phase: 'request' | 'response';
}

/**
 * The body's bytes as text, as undici's `body.text()` decodes them: UTF-8, a leading byte order mark dropped (the
 * WHATWG "UTF-8 decode").
 */
function decodeBody(chunks: Buffer[]): string {
  if (chunks.length === 0) return '';
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const start = bytes.length > 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

/**
 * One request through undici's dispatcher API, its body collected as it arrives. undici's `request()` wraps the same
 * dispatch in an async resource and a response stream per request, which cost the suite ~25 % of the client's CPU
 * per request (measured against a server in another process, 8 in flight: 37–40 against 27–31 µs). Interim (1xx)
 * heads are skipped, as `request()` does; a request without an answer resolves to its `NoAnswer`.
 */
function dispatch(pool: Pool, options: Dispatcher.DispatchOptions): Promise<Answer | NoAnswer> {
  return new Promise((resolve) => {
    let head: { status: number; headers: Record<string, string | string[]> } | undefined;
    const chunks: Buffer[] = [];
    pool.dispatch(options, {
      // Present so undici reads this as a handler of its current API (without it: the legacy one).
      onRequestStart() {},
      onResponseStart(_controller, status, headers) {
        if (status >= 200) head = { status, headers: headers as Record<string, string | string[]> };
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (head) resolve({ status: head.status, headers: head.headers, text: decodeBody(chunks) });
        else resolve({ error: new Error('the response ended without a final status'), phase: 'request' });
      },
      onResponseError(_controller, error) {
        resolve({ error, phase: head ? 'response' : 'request' });
      },
    });
  });
}

/** The body as JSON, or undefined when it is empty or not JSON. */
function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class HttpClient {
  private readonly pools = new Map<string, Pool>();
  private unplanned = 0;
  /** Live: what is left of the current rule's share of the run's request budget (undefined = no share set). */
  private allowance: { left: number; of: number; budget: number } | undefined;
  private readonly origin: string;
  private readonly basePath: string;
  private sent = 0;
  private seq = 0;
  /** Transport errors in a row (reset by any answer); at TRANSPORT_BREAKER retries stop. */
  private transportFailures = 0;
  private readonly transportCounts: TransportCounts = { failedAttempts: 0, retried: 0, recovered: 0, unanswered: 0 };
  /** Exchanges of the current recording window (cleared by takeExchanges). */
  private recorded: Recorded[] = [];
  private readonly keep: number;

  constructor(
    private readonly options: HttpClientOptions,
    keep = 2000,
  ) {
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.keep = keep;
  }

  get requestsSent(): number {
    return this.sent;
  }

  /** 429s this client received on requests that were not a budgeted rate-limit probe (paced live runs: should be 0). */
  get unplanned429(): number {
    return this.unplanned;
  }

  /** Live: the current rule's share of the run's request budget (undefined clears it). */
  setAllowance(share: number | undefined): void {
    this.allowance = share === undefined ? undefined : { left: share, of: share, budget: this.options.requestBudget };
  }

  /** Waits for the pacer's send slot (live); the run's budget refusal becomes a BudgetExceededError. */
  private async pace(method: string, path: string, probe: boolean): Promise<void> {
    if (this.allowance) {
      if (this.allowance.left <= 0) {
        throw new BudgetExceededError(
          `this rule's share of the request budget is spent (${this.allowance.of} of ` +
            `DYNAMIC_REQUEST_BUDGET=${this.allowance.budget}, shared by the run's rules)`,
        );
      }
      this.allowance.left -= 1;
    }
    const refusal = await this.options.pacer?.acquire(method, path, probe);
    if (refusal !== undefined) throw new BudgetExceededError(refusal);
  }

  /** Tells the pacer about a 429 (it holds the request's buckets closed until Retry-After) and counts it. */
  private async settle(
    method: string,
    path: string,
    status: number,
    retryAfter: string | undefined,
    probe: boolean,
  ): Promise<void> {
    if (status !== 429) return;
    if (!probe && this.options.pacer) this.unplanned += 1;
    await this.options.pacer?.settle(method, path, status, retryAfter, probe);
  }

  /** The transport counters so far (a copy). */
  get transport(): TransportCounts {
    return { ...this.transportCounts };
  }

  /**
   * After an attempt: whether to send it again (a transport fault, safe to repeat, retries left, target not down),
   * counting it either way. A request left without an answer gets its attempt count.
   */
  private async retryTransport(res: HttpResponse, method: string, retriesSoFar: number): Promise<boolean> {
    const fault = res.transport;
    if (!fault) {
      this.transportFailures = 0;
      if (retriesSoFar > 0) this.transportCounts.recovered += 1;
      return false;
    }
    this.transportCounts.failedAttempts += 1;
    this.transportFailures += 1;
    const { retries, backoffMs } = this.options.transportRetry ?? { retries: 2, backoffMs: 50 };
    if (retriesSoFar < retries && this.transportFailures < TRANSPORT_BREAKER && mayRetry(fault, method)) {
      this.transportCounts.retried += 1;
      await sleep(backoffMs * (retriesSoFar + 1));
      return true;
    }
    this.transportCounts.unanswered += 1;
    fault.attempts = retriesSoFar + 1;
    return false;
  }

  private pool(requested: string | undefined): Pool {
    const localAddress = this.options.singleSource ? undefined : requested;
    const key = localAddress ?? '';
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(this.origin, {
        connections: this.options.connections ?? 32,
        pipelining: 1,
        // Well below the 5 s idle timeout of Node-based fronts (undici's default 4 s leaves too little margin on a
        // loaded machine, where event-loop lag turns the gap into "other side closed" races: measured 50 in 900
        // requests behind the test front), so the client drops an idle connection before the server does; the
        // remaining race is a transport fault, retried when safe.
        keepAliveTimeout: 2_000,
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
    for (const [k, v] of Object.entries(req.query ?? {}))
      for (const item of Array.isArray(v) ? v : [v]) search.append(k, item);
    const qs = search.toString();
    return `${this.basePath}${req.path}${qs ? `?${qs}` : ''}`;
  }

  /**
   * Sends one request. A transport fault is retried when the request is safe to repeat (src/http/transport.ts); one
   * still without an answer is returned as status 0 with `transport` set and the (redacted) error in the exchange.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let transportRetries = 0;
    for (let attempt = 0; ;) {
      const res = await this.sendOnce(req);
      const policy = this.options.rateLimited;
      if (await this.retryTransport(res, req.method, transportRetries)) {
        transportRetries += 1;
        continue;
      }
      if (res.transport) return res;
      transportRetries = 0;
      if (res.status !== 429 || req.on429 === 'return') return res;
      const retryAfter = Number(headerValue(res.headers['retry-after']) ?? '1');
      const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.ceil(retryAfter) : 1;
      if (policy.kind === 'none') return res;
      if (policy.kind === 'wait') {
        if (attempt >= policy.maxRetries || seconds > policy.maxWaitSeconds) return res;
        await sleep((seconds + 1) * 1000);
      } else {
        if (attempt >= 5) return res;
        try {
          const answer = await undiciRequest(`${policy.controlUrl}/clock`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ advanceSeconds: seconds }),
          });
          await answer.body.dump();
        } catch {
          return res;
        }
      }
      attempt += 1;
    }
  }

  private async sendOnce(req: HttpRequest): Promise<HttpResponse> {
    if (this.sent >= this.options.requestBudget)
      throw new BudgetExceededError(
        `request budget of ${this.options.requestBudget} exhausted (DYNAMIC_REQUEST_BUDGET)`,
      );
    const out = outgoing(req, this.urlPath(req), this.options.allowCredentialInUrl);
    await this.pace(out.method, req.path, out.rateProbe);
    this.sent += 1;
    const seq = (this.seq += 1);
    const started = performance.now();
    let answer: Answer | NoAnswer;
    try {
      answer = await dispatch(this.pool(out.localAddress), {
        method: out.method,
        path: out.path,
        headers: wireHeaders(out),
        body: out.body ?? null,
      });
    } catch (error) {
      return this.unanswered(out, seq, started, error, 'request');
    }
    if ('error' in answer) return this.unanswered(out, seq, started, answer.error, answer.phase);
    const ms = performance.now() - started;
    const { status, headers, text } = answer;
    if (status === 429)
      await this.settle(out.method, req.path, status, headerValue(headers['retry-after']), out.rateProbe);
    const recorded = this.record(
      new Recorded(seq, () => answeredExchange(this.origin, out, seq, ms, status, headers, text)),
    );
    return response(status, headers, text, recorded);
  }

  /** A request left without an answer (this attempt): status 0, its fault, the (redacted) error in the exchange. */
  private unanswered(
    out: Outgoing,
    seq: number,
    started: number,
    error: unknown,
    phase: 'request' | 'response',
  ): HttpResponse {
    const ms = performance.now() - started;
    const fault: TransportFault = { ...classifyTransportError(error, phase), attempts: 1 };
    const message = `${fault.code ? `${fault.code}: ` : ''}${fault.message}`;
    const recorded = this.record(
      new Recorded(seq, () => {
        const { curl, ...request } = requestView(this.origin, out);
        const transport = { kind: fault.kind, phase: fault.phase, code: fault.code, attempts: fault.attempts };
        return { seq, request, error: redact(message), transport, ms, curl };
      }),
    );
    return response(0, {}, '', recorded, fault);
  }

  /**
   * Sends raw bytes over a fresh connection — TCP, or TLS for an https target — (for bytes fetch/undici refuse:
   * non-Latin-1 characters, CR/LF/NUL, duplicate header lines) and reads the answer as an HTTP/1.1 client does
   * (src/http/raw-response.ts: every RFC 9112 framing, 1xx interim responses, trailers). Transport faults follow the
   * same retry rule as `send`; one left without an answer is status 0 with `transport` set (a connection that never
   * opened is phase `connect`: never read as "rejected"). Bytes that are not HTTP are status 0 without `transport`.
   */
  async sendRaw(head: Buffer, label: string): Promise<HttpResponse> {
    const method = /^([A-Z]+) /.exec(head.subarray(0, 16).toString('latin1'))?.[1] ?? 'GET';
    for (let retries = 0; ; retries += 1) {
      const res = await this.sendRawOnce(head, label, method);
      if (!(await this.retryTransport(res, method, retries))) return res;
    }
  }

  private async sendRawOnce(head: Buffer, label: string, method: string): Promise<HttpResponse> {
    if (this.sent >= this.options.requestBudget)
      throw new BudgetExceededError(
        `request budget of ${this.options.requestBudget} exhausted (DYNAMIC_REQUEST_BUDGET)`,
      );
    const [rawMethod = 'GET', rawTarget = '/'] = head
      .toString('latin1', 0, Math.min(head.length, 4096))
      .split('\r\n')[0]!
      .split(' ');
    const rawPath = rawTarget.split('?')[0]!;
    const belowBase = rawPath.startsWith(this.basePath) ? rawPath.slice(this.basePath.length) : rawPath;
    await this.pace(rawMethod, belowBase, false);
    this.sent += 1;
    const seq = (this.seq += 1);
    const url = new URL(this.origin);
    const started = performance.now();
    const reader = new ResponseReader(method);
    const ended = await new Promise<{ opened: boolean; error: Error | undefined; timedOut: boolean }>((resolve) => {
      let opened = false;
      let timedOut = false;
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve({ opened, error, timedOut });
      };
      const onOpen = (): void => {
        opened = true;
        socket.end(head);
      };
      const https = url.protocol === 'https:';
      const port = Number(url.port || (https ? 443 : 80));
      const socket: Socket = https
        ? tlsConnect(
            {
              host: url.hostname,
              port,
              ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
              ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
            },
            onOpen,
          )
        : connect({ host: url.hostname, port }, onOpen);
      socket.setTimeout(10_000, () => {
        timedOut = true;
        finish();
      });
      // The answer is complete as soon as its framing says so; the connection need not close first.
      socket.on('data', (c: Buffer) => {
        if (reader.push(c)) finish();
      });
      socket.on('error', (error: Error) => finish(error));
      socket.on('end', () => finish());
      socket.on('close', () => finish());
    });
    const read = reader.done ? reader.end() : ended.opened ? reader.end() : { kind: 'no-response' as const };
    const ms = performance.now() - started;
    // Redacted only when the exchange is read (like `send`'s): not on the hot path.
    const requestView = (): { method: string; url: string; headers: [string, string][]; body: string } => ({
      method: 'RAW',
      url: redact(`${this.origin} ${label}`),
      headers: [],
      body: redact(head.toString('latin1').slice(0, 2000)),
    });
    const curl = `# raw request (${label}); replay with FC_SEED/FC_PATH`;
    if (read.kind === 'response') {
      const { status, headers } = read.response;
      const text = read.response.body.toString('utf8');
      const recorded = this.record(
        new Recorded(seq, () => ({
          seq,
          request: requestView(),
          response: { status, headers: redactHeaders(headers), body: redact(text.slice(0, 4000)) },
          ms,
          curl,
        })),
      );
      return response(status, headers, text, recorded);
    }
    if (read.kind === 'malformed') {
      const recorded = this.record(
        new Recorded(seq, () => ({
          seq,
          request: requestView(),
          error: redact(`not an HTTP/1.1 response: ${read.reason}`),
          ms,
          curl,
        })),
      );
      return response(0, {}, '', recorded);
    }
    let fault: TransportFault;
    if (!ended.opened) {
      fault = {
        ...classifyTransportError(
          ended.error ?? Object.assign(new Error('the connection closed before it opened'), { code: 'ECONNRESET' }),
          'connect',
        ),
        attempts: 1,
      };
      if (ended.timedOut) fault = { ...fault, kind: 'timeout', phase: 'connect' };
    } else if (read.kind === 'truncated') {
      fault = {
        ...classifyTransportError(ended.error ?? new Error(read.reason), 'response'),
        kind: 'truncated',
        attempts: 1,
      };
    } else if (ended.timedOut) {
      fault = {
        kind: 'timeout',
        phase: 'request',
        code: undefined,
        message: 'no response byte within 10 s',
        attempts: 1,
      };
    } else if (ended.error) {
      fault = { ...classifyTransportError(ended.error, 'request'), attempts: 1 };
    } else {
      fault = {
        kind: 'closed',
        phase: 'request',
        code: undefined,
        message: 'connection closed without an HTTP response',
        attempts: 1,
      };
    }
    const recorded = this.record(
      new Recorded(seq, () => ({
        seq,
        request: requestView(),
        error: redact(`${fault.code ? `${fault.code}: ` : ''}${fault.message}`),
        transport: { kind: fault.kind, phase: fault.phase, code: fault.code, attempts: fault.attempts },
        ms,
        curl,
      })),
    );
    return response(0, {}, '', recorded, fault);
  }

  private record(recorded: Recorded): Recorded {
    this.recorded.push(recorded);
    // Trimmed in batches (amortised O(1) per request); only the last `keep` are ever read.
    if (this.recorded.length > 2 * this.keep) this.recorded.splice(0, this.recorded.length - this.keep);
    return recorded;
  }

  /**
   * Returns (redacted) and clears the last `keep` recorded exchanges; with `wanted`, only those sequence numbers are
   * kept.
   */
  takeExchanges(wanted?: ReadonlySet<number>): Exchange[] {
    const out = this.recorded
      .slice(-this.keep)
      .filter((r) => !wanted || wanted.has(r.seq))
      .map((r) => r.value);
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
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(redact) : redact(v);
  return out;
}

/** First value of a header. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
