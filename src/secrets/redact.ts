/**
 * One redaction layer (SEC-001, SH-02): credentials live in Secret wrappers whose every string form is a
 * fingerprint, and every text the suite emits (exchanges, curl lines, failure messages, reports) passes
 * `redact()`, which removes registered secret values and their encodings by value, plus anything shaped
 * like a dyn_ token or a JWT.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

const registered = new Map<string, string>();
/** 12-character windows of long secrets: a mutated or truncated credential must not survive redaction either. */
const windows = new Map<string, string>();
const WINDOW = 12;
/** The first two UTF-16 units of every window (a filter: most positions of a text start no window). */
const windowHeads = new Set<number>();
const headOf = (text: string, i: number): number => (text.charCodeAt(i) << 16) | text.charCodeAt(i + 1);

function fingerprint(value: string): string {
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  if (value.startsWith('dyn_')) return `[dyn_…#${hash}]`;
  if (value.startsWith('eyJ')) return `[jwt…#${hash}]`;
  return `[secret#${hash}]`;
}

function variants(value: string): string[] {
  const out = new Set<string>([value]);
  out.add(encodeURIComponent(value));
  out.add(JSON.stringify(value).slice(1, -1));
  out.add(Buffer.from(value).toString('base64'));
  out.add(Buffer.from(value).toString('base64url'));
  out.add(Buffer.from(`${value}:`).toString('base64'));
  return [...out].filter((v) => v.length >= 8);
}

/** Registers a credential value so that it is removed from every output, in every encoding. */
export function registerSecret(value: string): void {
  if (value.length < 8) return;
  const fp = fingerprint(value);
  for (const v of variants(value)) registered.set(v, fp);
  if (value.length >= 2 * WINDOW)
    for (let i = 0; i + WINDOW <= value.length; i += 1) {
      windows.set(value.slice(i, i + WINDOW), fp);
      windowHeads.add(headOf(value, i));
    }
}

/** A credential. `value` is only read where the request is built; every other form is the fingerprint. */
export class Secret {
  readonly #value: string;
  readonly fingerprint: string;
  /** Shell variable a replay line uses instead of the value (e.g. DYNAMIC_API_TOKEN). */
  readonly envName: string;

  constructor(value: string, envName: string) {
    this.#value = value;
    this.fingerprint = fingerprint(value);
    this.envName = envName;
    registerSecret(value);
  }

  /** The raw value; only the HTTP client calls this. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return this.fingerprint;
  }

  toJSON(): string {
    return this.fingerprint;
  }

  [inspect.custom](): string {
    return `Secret(${this.fingerprint})`;
  }
}

const DYN_TOKEN = /dyn[_-]?[A-Za-z0-9]{16,}/gi;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;

/** Removes every registered secret (all encodings) and anything token- or JWT-shaped from a text. */
export function redact(text: string): string {
  let out = text;
  if (registered.size) {
    const sorted = [...registered.keys()].sort((a, b) => b.length - a.length);
    for (const value of sorted) if (out.includes(value)) out = out.split(value).join(registered.get(value));
    if (windows.size) {
      // Scan the text's own 12-character windows (O(text length)) rather than every registered window.
      const hits = new Map<string, string>();
      for (let i = 0; i + WINDOW <= out.length; i += 1) {
        if (!windowHeads.has(headOf(out, i))) continue;
        const fp = windows.get(out.slice(i, i + WINDOW));
        if (fp) hits.set(out.slice(i, i + WINDOW), fp);
      }
      for (const [piece, fp] of hits) out = out.split(piece).join(`[part of ${fp}]`);
    }
  }
  return out.replace(JWT_SHAPE, (m) => fingerprint(m)).replace(DYN_TOKEN, (m) => fingerprint(m));
}

/** Redacts any JSON-serialisable value. */
export function redactValue<T>(value: T): T {
  return JSON.parse(redact(JSON.stringify(value))) as T;
}
