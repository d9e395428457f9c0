/**
 * The per-run store: Playwright replaces a worker after a failed test; what the probes saw must survive that (the mock
 * probes are 15,000 requests; the live probe must not cool down and burst again). One run = one runner process, so
 * the key includes the workers' parent pid. Only statuses, four headers and 429 bodies (redacted) are written.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headerValue, type HttpResponse } from '../../http/client.js';
import { redact } from '../../secrets/redact.js';
import { admitted } from './requests.js';

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const STORED_HEADERS = ['retry-after', 'cache-control', 'date', 'content-type'];
const STORE_DIR = join(tmpdir(), 'dynamic-conformance-rate');

/** The run: the runner process (the workers' parent) and, on Linux, its start time (pids are reused). */
function runId(): string {
  let started = '';
  try {
    started = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19] ?? '';
  } catch {
    started = '';
  }
  return `${process.ppid}@${started}`;
}

function storePath(kind: string, key: string): string {
  return join(STORE_DIR, `${kind}-${createHash('sha256').update(`${runId()} ${key}`).digest('hex').slice(0, 20)}.json`);
}

export function loadRun<T>(kind: string, key: string): T | undefined {
  try {
    return JSON.parse(readFileSync(storePath(kind, key), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function saveRun(kind: string, key: string, value: unknown): void {
  try {
    mkdirSync(STORE_DIR, { recursive: true });
    for (const f of readdirSync(STORE_DIR)) {
      const file = join(STORE_DIR, f);
      if (Date.now() - statSync(file).mtimeMs > 6 * 3600_000) unlinkSync(file);
    }
    writeFileSync(storePath(kind, key), JSON.stringify(value));
  } catch {
    // A store that cannot be written only costs a repeated probe after a worker restart.
  }
}

export function stored(res: HttpResponse): StoredResponse {
  const keep = !admitted(res);
  const headers: Record<string, string> = {};
  if (keep) {
    for (const h of STORED_HEADERS) {
      const v = headerValue(res.headers[h]);
      if (v !== undefined) headers[h] = redact(v);
    }
  }
  return { status: res.status, headers, text: keep ? redact(res.text.slice(0, 2000)) : '' };
}

export function restored(s: StoredResponse): HttpResponse {
  let json: unknown;
  try {
    json = s.text ? JSON.parse(s.text) : undefined;
  } catch {
    json = undefined;
  }
  return {
    status: s.status,
    headers: s.headers,
    text: s.text,
    json,
    exchange: {
      seq: -1,
      request: { method: '', url: '(recorded by an earlier worker of this run)', headers: [] },
      ms: 0,
      curl: '',
    },
  };
}
