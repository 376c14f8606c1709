/**
 * A scenario file's YAML with its positions kept: the parsed value for validation, the syntax
 * errors with their line and column, and a way back from a key path (`load.phases[1].rampTo`)
 * to where that key or value is written, so every validation error can point at the line.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';

/** A 1-based line and column in the file. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A path into the parsed value: mapping keys and sequence indexes. */
export type ValuePath = readonly (string | number)[];

/** A problem found while reading the YAML itself, before any key is validated. */
export interface SyntaxProblem {
  readonly position: SourcePosition;
  /** Key path of the problem when known (duplicate keys), else empty. */
  readonly path: ValuePath;
  readonly message: string;
}

/** What {@link locate} points at: the value at the path, its key, or the mapping holding it. */
export type LocateTarget = 'value' | 'key' | 'parent';

/** A parsed YAML file that remembers where everything is written. */
export interface YamlSource {
  /** The document as plain data (undefined for an empty file); meaningless if `problems`. */
  readonly value: unknown;
  /** Syntax errors, duplicate keys and unresolved tags, in file order. */
  readonly problems: readonly SyntaxProblem[];
  /**
   * Where `path` is written. `key` points at the last key itself (for unknown keys), `parent`
   * at the mapping that holds it (for missing keys), `value` at its value. A path that goes
   * beyond what the file writes (a key filled in by a default) falls back to the deepest part
   * of it that the file has.
   */
  locate(path: ValuePath, target: LocateTarget): SourcePosition;
}

/** Aliases resolved at most this many times: a guard against "billion laughs" files. */
const maxAliasCount = 1000;

/** Parses `text` as one YAML document, keeping positions; never throws on bad input. */
export function parseYamlSource(text: string): YamlSource {
  const lineCounter = new LineCounter();
  // Merge keys (<<: *base) let scenarios share settings between phases or workloads.
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };

  const problems: SyntaxProblem[] = [...doc.errors, ...doc.warnings]
    .map((error) => syntaxProblem(doc, error, position))
    .sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);

  let value: unknown;
  if (problems.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (err) {
      problems.push({
        position: { line: 1, column: 1 },
        path: [],
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }

  return {
    value: value ?? undefined,
    problems,
    locate(path, target) {
      const trail = walk(doc, path);
      const wanted = target === 'parent' ? path.length - 1 : path.length;
      // The deepest step of the path the file actually writes, no deeper than wanted.
      const depth = Math.min(wanted, trail.length - 1);
      const step = trail[depth]!;
      const offset =
        target === 'key' && depth === path.length && step.key !== undefined
          ? step.key.range?.[0]
          : (step.node?.range?.[0] ?? step.key?.range?.[0]);
      return position(offset ?? firstContentOffset(doc));
    },
  };
}

interface Step {
  /** The node at this depth of the path (a value), if the file writes one. */
  readonly node: Node | undefined;
  /** The key node this value is written under, when it is a mapping entry. */
  readonly key: Node | undefined;
}

/** Nodes along `path`, starting with the document's root; stops where the file stops. */
function walk(doc: Document, path: ValuePath): Step[] {
  const trail: Step[] = [{ node: resolved(doc, doc.contents ?? undefined), key: undefined }];
  for (const segment of path) {
    const parent = trail[trail.length - 1]!.node;
    if (isMap(parent)) {
      const pair = parent.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair === undefined) break;
      trail.push({ node: resolved(doc, pair.value as Node | null), key: pair.key as Node });
    } else if (isSeq(parent) && typeof segment === 'number') {
      const item = parent.items[segment];
      if (item === undefined) break;
      trail.push({ node: resolved(doc, item as Node | null), key: undefined });
    } else {
      break;
    }
  }
  return trail;
}

function resolved(doc: Document, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return node.resolve(doc) ?? node;
  return node;
}

function firstContentOffset(doc: Document): number {
  return doc.contents?.range?.[0] ?? 0;
}

function syntaxProblem(
  doc: Document,
  error: YAMLError,
  position: (offset: number) => SourcePosition,
): SyntaxProblem {
  const at = position(error.pos[0]);
  if (error.code === 'DUPLICATE_KEY') {
    const found = findKey(doc, error.pos[0]);
    if (found !== undefined) {
      const first =
        found.first === undefined ? '' : ` (first written at line ${position(found.first).line})`;
      return { position: at, path: found.path, message: `duplicate key${first}` };
    }
    return { position: at, path: [], message: 'duplicate key in a mapping' };
  }
  if (error.code === 'MULTIPLE_DOCS') {
    return {
      position: at,
      path: [],
      message:
        'a scenario file holds one YAML document, but a second one starts here: remove it, or put each scenario in a file of its own',
    };
  }
  const message = (error.message.split('\n')[0] ?? error.message).replace(
    / at line \d+, column \d+:?$/,
    '',
  );
  return { position: at, path: [], message: `YAML: ${message}` };
}

/** The path of the key written at `offset`, and the offset of the first key of that name. */
function findKey(
  doc: Document,
  offset: number,
): { path: ValuePath; first: number | undefined } | undefined {
  const search = (node: unknown, path: (string | number)[]): ReturnType<typeof findKey> => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const keyPath = [...path, String(pair.key.value)];
        if (pair.key.range?.[0] === offset) {
          const name = String(pair.key.value);
          const first = node.items.find((p) => isScalar(p.key) && String(p.key.value) === name);
          const firstOffset = isScalar(first?.key) ? first.key.range?.[0] : undefined;
          return { path: keyPath, first: firstOffset === offset ? undefined : firstOffset };
        }
        const inner = search(pair.value, keyPath);
        if (inner !== undefined) return inner;
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) {
        const inner = search(item, [...path, i]);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  };
  return search(doc.contents, []);
}

/** Formats a key path as users write it: `load.phases[1].rampTo`; '' for the whole document. */
export function formatKeyPath(path: ValuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
