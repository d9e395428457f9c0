/**
 * WWW-Authenticate (RFC 9110 11.6.1; RFC 6750 3): parsing challenges and finding the Bearer one (AUTH-013..015).
 */
import type { HttpResponse } from '../../http/client.js';

export interface Challenge {
  scheme: string;
  /** auth-params in order, names as sent. */
  params: [string, string][];
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses a WWW-Authenticate field value into challenges (RFC 9110 11.6.1: `#challenge`, `challenge = auth-scheme
 * [ 1*SP ( token68 / #auth-param ) ]`, `auth-param = token BWS "=" BWS ( token / quoted-string )`). Returns the
 * challenges, or a message naming the first syntax error.
 */
export function parseChallenges(value: string): { challenges: Challenge[] } | { error: string } {
  const s = value;
  let i = 0;
  const ows = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i += 1;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i += 1;
    return s.slice(start, i);
  };
  const quoted = (): string | undefined => {
    if (s[i] !== '"') return undefined;
    i += 1;
    let out = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') i += 1;
      if (i < s.length) out += s[i];
      i += 1;
    }
    if (s[i] !== '"') return undefined;
    i += 1;
    return out;
  };
  /** Is an auth-param (token BWS "=" — but not a token68's trailing "=" padding) next? */
  const paramAhead = (): boolean => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=[ \t]*([^=]|$)/.exec(s.slice(i));
    if (!m) return false;
    // "abc=" followed by end/comma is a token68, not a param with an empty value.
    return !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+=*[ \t]*(,|$)/.test(s.slice(i)) || /=[ \t]*[^ \t,=]/.test(m[0]);
  };
  const challenges: Challenge[] = [];
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t' || s[i] === ',') i += 1;
    if (i >= s.length) break;
    const scheme = token();
    if (!scheme) return { error: `expected an auth-scheme at offset ${i} of ${JSON.stringify(value)}` };
    const challenge: Challenge = { scheme, params: [] };
    challenges.push(challenge);
    if (i >= s.length || s[i] === ',') continue;
    if (s[i] !== ' ') return { error: `expected SP after the auth-scheme '${scheme}' at offset ${i}` };
    while (s[i] === ' ') i += 1;
    if (i >= s.length || s[i] === ',') continue;
    if (!paramAhead()) {
      const m = TOKEN68.exec(s.slice(i));
      if (!m) return { error: `expected token68 or auth-param at offset ${i}` };
      challenge.token68 = m[0];
      i += m[0].length;
      ows();
      if (i < s.length && s[i] !== ',') return { error: `unexpected text after token68 at offset ${i}` };
      continue;
    }
    for (;;) {
      const name = token();
      ows();
      if (s[i] !== '=') return { error: `expected '=' after auth-param '${name}' at offset ${i}` };
      i += 1;
      ows();
      const v = s[i] === '"' ? quoted() : token();
      if (v === undefined) return { error: `unterminated quoted-string for auth-param '${name}'` };
      if (v === '' && s[i - 1] !== '"') return { error: `empty value for auth-param '${name}' at offset ${i}` };
      challenge.params.push([name, v]);
      ows();
      if (i >= s.length) break;
      if (s[i] !== ',') return { error: `expected ',' after auth-param '${name}' at offset ${i}` };
      while (s[i] === ',' || s[i] === ' ' || s[i] === '\t') i += 1;
      if (i >= s.length || !paramAhead()) break;
    }
  }
  return { challenges };
}

/**
 * The Bearer challenge of a response (RFC 9110 11.6.1 / RFC 6750 3): the scheme matched case-insensitively, and no
 * auth-param repeated. Returns the challenge or a failure reason.
 */
export function bearerChallenge(res: HttpResponse): { challenge: Challenge } | { reason: string } {
  const raw = res.headers['www-authenticate'];
  if (raw === undefined || (Array.isArray(raw) && !raw.length)) return { reason: 'no WWW-Authenticate header' };
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  const parsed = parseChallenges(value);
  if ('error' in parsed) return { reason: `WWW-Authenticate does not parse (RFC 9110 11.6.1): ${parsed.error}` };
  const bearerOnes = parsed.challenges.filter((c) => c.scheme.toLowerCase() === 'bearer');
  if (!bearerOnes.length)
    return {
      reason:
        `WWW-Authenticate has no Bearer challenge (schemes: ` +
        `${parsed.challenges.map((c) => c.scheme).join(', ') || 'none'}` +
        `)`,
    };
  if (bearerOnes.length > 1) return { reason: 'WWW-Authenticate repeats the Bearer challenge' };
  const challenge = bearerOnes[0]!;
  const seen = new Set<string>();
  for (const [name] of challenge.params) {
    const key = name.toLowerCase();
    if (seen.has(key))
      return { reason: `the Bearer challenge repeats the auth-param '${name}' (RFC 6750 3: each at most once)` };
    seen.add(key);
  }
  return { challenge };
}

/** The value of an auth-param (case-insensitive name). */
export function challengeParam(challenge: Challenge, name: string): string | undefined {
  return challenge.params.find(([n]) => n.toLowerCase() === name)?.[1];
}
