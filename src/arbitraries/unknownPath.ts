/**
 * Paths below the API base that match no path template of the spec (ERR-006): unknown top-level collections,
 * unknown sub-resources and extra segments under known paths, and random multi-segment paths. `isKnown` is the
 * spec's own matcher, so a generated path can never be a documented route.
 */
import fc from 'fast-check';

/** A matcher over the spec's path templates ({param} matches one non-empty segment). */
export function templateMatcher(templates: readonly string[]): (path: string) => boolean {
  const split = templates.map((t) => t.split('/').slice(1));
  return (path) => {
    const segs = path.split('/').slice(1);
    return split.some(
      (t) => t.length === segs.length && t.every((s, i) => (/^\{\w+\}$/.test(s) ? segs[i] !== '' : s === segs[i])),
    );
  };
}

export interface UnknownPath {
  kind: 'top-level' | 'sub-resource' | 'random';
  path: string;
}

export function unknownPath(
  knownPaths: readonly string[],
  isKnown: (path: string) => boolean,
): fc.Arbitrary<UnknownPath> {
  const word = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_-]{0,20}$/);
  const bases = knownPaths.length ? knownPaths : ['/'];
  return fc
    .oneof(
      word.map((w): UnknownPath => ({ kind: 'top-level', path: `/${w}` })),
      fc
        .tuple(fc.constantFrom(...bases), fc.array(word, { minLength: 1, maxLength: 3 }))
        .map(([b, ws]): UnknownPath => ({ kind: 'sub-resource', path: `${b.replace(/\/$/, '')}/${ws.join('/')}` })),
      fc
        .array(word, { minLength: 2, maxLength: 6 })
        .map((ws): UnknownPath => ({ kind: 'random', path: `/${ws.join('/')}` })),
    )
    .filter((p) => !isKnown(p.path));
}
