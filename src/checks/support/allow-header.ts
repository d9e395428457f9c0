/**
 * The Allow header of a 405 (ERR-007, RFC 9110 15.5.6 and 10.2.1): which methods ERR-007 may try on a path, the
 * methods an Allow header lists, and how that list differs from the declared methods.
 */
import { headerValue } from '../../http/client.js';

/** The methods ERR-007 tries on a path when the spec does not declare them. */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The methods of an Allow header (upper case). */
export function allowed(header: string | string[] | undefined): Set<string> {
  return new Set(
    (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((m) => m.trim().toUpperCase())
      .filter(Boolean),
  );
}

/**
 * How the methods of an Allow header differ from the declared ones (HEAD next to GET, and OPTIONS, are tolerated:
 * servers add them implicitly), in words; undefined when they list exactly the declared methods.
 */
export function allowMismatch(got: Set<string>, declared: Set<string>): string | undefined {
  const tolerated = new Set(['OPTIONS', ...(declared.has('GET') ? ['HEAD'] : [])]);
  const missing = [...declared].filter((m) => !got.has(m));
  const extra = [...got].filter((m) => !declared.has(m) && !tolerated.has(m));
  if (!missing.length && !extra.length) return undefined;
  return (
    `${missing.length ? `lacks ${missing.join(', ')}` : ''}${missing.length && extra.length ? ' and ' : ''}` +
    `${extra.length ? `lists undeclared ${extra.join(', ')}` : ''} (declared: ${[...declared].sort().join(', ')})`
  );
}

/**
 * ERR-007: what is wrong with the Allow header of a 405 to `method` (none, or not the declared methods), in words;
 * undefined when it lists exactly the declared methods.
 */
export function allowProblem(
  method: string,
  header: string | string[] | undefined,
  declared: Set<string>,
): string | undefined {
  const got = allowed(header);
  if (got.size === 0) return `${method}: 405 without an Allow header`;
  const mismatch = allowMismatch(got, declared);
  return mismatch ? `${method}: Allow '${headerValue(header) ?? ''}' ${mismatch}` : undefined;
}

/**
 * The undeclared methods ERR-007 sends to a path: only GET when the run is read-only (live without
 * DYNAMIC_ALLOW_WRITES); at most two, rotating with the path's index.
 */
export function undeclaredMethods(declared: Set<string>, readOnly: boolean, index: number): string[] {
  let undeclared = METHODS.filter((m) => !declared.has(m));
  if (readOnly) undeclared = undeclared.filter((m) => m === 'GET');
  // Two undeclared methods per path, rotating, so every method is tried across the API at about half the requests.
  if (undeclared.length > 2) undeclared = [0, 1].map((k) => undeclared[(index + k) % undeclared.length]!);
  return undeclared;
}
