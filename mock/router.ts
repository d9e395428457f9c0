import type { OperationInfo } from './spec.js';

interface Node {
  readonly literal: Map<string, Node>;
  param: { readonly name: string; readonly node: Node } | undefined;
  /** Operations by upper-case method, set where a path template ends. */
  ops: Map<string, OperationInfo> | undefined;
  allow: string | undefined;
}

/** Result of routing a request path + method (ARCHITECTURE.md step 1). */
export type RouteResult =
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | {
      readonly kind: 'operation';
      readonly op: OperationInfo;
      readonly params: Readonly<Record<string, string>>;
      readonly badEncoding: readonly string[];
    };

function newNode(): Node {
  return { literal: new Map(), param: undefined, ops: undefined, allow: undefined };
}

/**
 * Matches method + path against the spec's path templates (ERR-006, ERR-007): a segment trie where literal
 * segments win over `{param}` segments, with backtracking. Unknown path → not-found; known path with an undeclared
 * method → method-not-allowed with the `Allow` value (declared methods, upper case, sorted).
 */
export class Router {
  readonly #root = newNode();

  constructor(operations: readonly OperationInfo[]) {
    for (const op of operations) {
      let node = this.#root;
      for (const seg of op.path.split('/').slice(1)) {
        const m = /^\{([^}]+)\}$/.exec(seg);
        if (m) {
          const name = m[1]!;
          if (node.param === undefined) node.param = { name, node: newNode() };
          else if (node.param.name !== name) throw new Error(`router: conflicting parameter names at ${op.path}`);
          node = node.param.node;
        } else {
          let next = node.literal.get(seg);
          if (next === undefined) {
            next = newNode();
            node.literal.set(seg, next);
          }
          node = next;
        }
      }
      node.ops ??= new Map();
      if (node.ops.has(op.method)) throw new Error(`router: duplicate ${op.method} ${op.path}`);
      node.ops.set(op.method, op);
      node.allow = [...node.ops.keys()].sort().join(', ');
    }
  }

  /** Routes `path` (below the base path, starting with '/', no query string). */
  match(method: string, path: string): RouteResult {
    if (path.length === 0 || path.charCodeAt(0) !== 47 /* / */) return { kind: 'not-found' };
    const segs = path.split('/');
    const values: string[] = [];
    const names: string[] = [];
    const node = this.#walk(this.#root, segs, 1, names, values);
    if (node === undefined || node.ops === undefined) return { kind: 'not-found' };
    const op = node.ops.get(method);
    if (op === undefined) return { kind: 'method-not-allowed', allow: node.allow ?? '' };
    const params: Record<string, string> = {};
    const badEncoding: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const raw = values[i]!;
      let value = raw;
      if (raw.includes('%')) {
        try {
          value = decodeURIComponent(raw);
        } catch {
          badEncoding.push(names[i]!);
        }
      }
      params[names[i]!] = value;
    }
    return { kind: 'operation', op, params, badEncoding };
  }

  #walk(node: Node, segs: readonly string[], i: number, names: string[], values: string[]): Node | undefined {
    if (i === segs.length) return node.ops !== undefined ? node : undefined;
    const seg = segs[i]!;
    const lit = node.literal.get(seg);
    if (lit !== undefined) {
      const found = this.#walk(lit, segs, i + 1, names, values);
      if (found !== undefined) return found;
    }
    if (node.param !== undefined && seg.length > 0) {
      names.push(node.param.name);
      values.push(seg);
      const found = this.#walk(node.param.node, segs, i + 1, names, values);
      if (found !== undefined) return found;
      names.pop();
      values.pop();
    }
    return undefined;
  }
}
