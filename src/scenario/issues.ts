/**
 * Turns zod's issues into one problem per thing the user must fix, each with the key path it
 * is about and what in the file to point at: an unknown key becomes one problem per key with
 * a did-you-mean drawn from the keys the schema allows there; a union mismatch becomes the
 * message of the branch the value was meant for (a threshold string gets the threshold
 * parser's message), never "Invalid input".
 */
import type { z } from 'zod';
import { closestMatches, formatSuggestions } from './did-you-mean.js';
import { describeValue, typeName } from './messages.js';
import type { LocateTarget, ValuePath } from './yaml-source.js';

/** One problem, before it is given a position. */
export interface FlatIssue {
  readonly path: ValuePath;
  readonly message: string;
  /** What to point at: the value, the key itself (unknown keys), the parent (missing keys). */
  readonly target: LocateTarget;
}

type Schema = z.core.$ZodType;
type Issue = z.core.$ZodIssue;

/** Flattens `issues` from parsing `input` with `schema` into problems, in issue order. */
export function flattenIssues(
  issues: readonly Issue[],
  schema: Schema,
  input: unknown,
): FlatIssue[] {
  const out: FlatIssue[] = [];
  const seen = new Set<string>();
  /** Keys suggested for misspelt ones, by the path of the mapping they are missing from. */
  const suggested: { mapping: ValuePath; key: string }[] = [];
  const add = (issue: FlatIssue): void => {
    const id = JSON.stringify([issue.path, issue.message]);
    if (seen.has(id)) return;
    seen.add(id);
    out.push(issue);
  };
  /**
   * Reports a mapping that gives several single-key forms of a union at once (`{ sleep: 5ms,
   * exec: … }` for a step that is `{ sleep }` or `{ exec }`) as one problem; false otherwise.
   */
  const severalForms = (path: ValuePath, value: unknown): boolean => {
    if (valueKind(value) !== 'object') return false;
    const forms = singleKeyForms(schema, path, input);
    if (forms === undefined) return false;
    const keys = Object.keys(value as object);
    if (keys.filter((k) => forms.includes(k)).length < 2) return false;
    const noun = itemNoun(path);
    add({
      path,
      target: 'value',
      message: `${noun.withArticle} has exactly one key, but this one has ${keys.length}: ${keys.join(', ')} (write each as a ${noun.name} of its own)`,
    });
    return true;
  };
  const visit = (issue: Issue, base: ValuePath): void => {
    const path = [...base, ...issue.path.map(pathSegment)];
    const value = valueAt(input, path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        if (severalForms(path, value)) return;
        const allowed = allowedKeys(schema, path, input);
        for (const key of issue.keys) {
          const matches = closestMatches(key, allowed);
          for (const match of matches) suggested.push({ mapping: path, key: match });
          add({
            path: [...path, key],
            target: 'key',
            message:
              matches.length > 0
                ? `unknown key${formatSuggestions(matches)}`
                : allowed.length === 0
                  ? 'unknown key'
                  : `unknown key: use one of ${allowed.join(', ')}`,
          });
        }
        return;
      }
      case 'invalid_union': {
        if (severalForms(path, value)) return;
        const branch = chooseBranch(issue.errors, value);
        if (branch === undefined) {
          add({
            path,
            target: value === undefined ? 'parent' : 'value',
            message:
              value === undefined
                ? 'is required'
                : `expected ${expectedTypes(issue.errors)}, got ${describeValue(value)}`,
          });
          return;
        }
        for (const inner of branch) visit(inner, path);
        return;
      }
      case 'invalid_key': {
        const first = issue.issues[0];
        add({ path, target: 'key', message: first?.message ?? issue.message });
        return;
      }
      default:
        add({ path, target: value === undefined ? 'parent' : 'value', message: issue.message });
    }
  };
  for (const issue of issues) visit(issue, []);
  return out.filter((issue) => !explainedBySuggestion(issue, suggested));
}

/**
 * True for a problem that a did-you-mean already explains: the key `concurrency` is missing
 * from a mapping (or the mapping's own check says it needs one) because it is spelt
 * `concurency` there.
 */
function explainedBySuggestion(
  issue: FlatIssue,
  suggested: readonly { mapping: ValuePath; key: string }[],
): boolean {
  return suggested.some(({ mapping, key }) =>
    issue.target === 'parent'
      ? samePath(issue.path, [...mapping, key])
      : samePath(issue.path, mapping) && issue.message.split(/\W+/).includes(key),
  );
}

function samePath(a: ValuePath, b: ValuePath): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

function pathSegment(segment: PropertyKey): string | number {
  return typeof segment === 'number' ? segment : String(segment);
}

/** True when a branch failed because `value` is of another type altogether. */
function isTypeMismatch(branch: readonly Issue[], value: unknown): boolean {
  return branch.some(
    (i) =>
      i.path.length === 0 &&
      (i.code === 'invalid_type' ||
        (i.code === 'invalid_value' && i.values.every((v) => typeof v !== typeof value))),
  );
}

/**
 * The keys of the single-key mappings the union at `path` of `input` takes (`exec`, `sleep`
 * for a step); undefined unless the schema there is a union with at least two mapping options,
 * each of exactly one key.
 */
function singleKeyForms(schema: Schema, path: ValuePath, input: unknown): string[] | undefined {
  let current: Schema | undefined = schema;
  let value = input;
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = childSchema(current, segment, value);
    value = valueAt(value, [segment]);
  }
  if (current === undefined) return undefined;
  const union = unwrap(current)._zod.def;
  if (union.type !== 'union') return undefined;
  const keys: string[] = [];
  for (const option of (union as z.core.$ZodUnionDef).options) {
    const def = unwrap(option)._zod.def;
    if (def.type !== 'object') continue;
    const shapeKeys = Object.keys((def as z.core.$ZodObjectDef).shape);
    if (shapeKeys.length !== 1) return undefined;
    keys.push(shapeKeys[0]!);
  }
  return keys.length >= 2 ? keys : undefined;
}

/** What an item of the list at `path` is called: `step` in `steps[1]`, else `item`. */
function itemNoun(path: ValuePath): { name: string; withArticle: string } {
  const list =
    path.length >= 2 && typeof path[path.length - 1] === 'number'
      ? path[path.length - 2]
      : undefined;
  const name = typeof list === 'string' && /^[a-z]+s$/i.test(list) ? list.slice(0, -1) : 'item';
  return { name, withArticle: `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}` };
}

/**
 * The branch of a failed union that the value was meant for: among the branches that accept
 * the value's type, the one with the fewest unknown keys at its top (so `{ exec: … }` is taken
 * for an exec step, not a sleep step), then the fewest problems. Undefined when no branch
 * accepts the type.
 */
function chooseBranch(
  branches: readonly (readonly Issue[])[],
  value: unknown,
): readonly Issue[] | undefined {
  let best: readonly Issue[] | undefined;
  let bestScore: [number, number] = [Infinity, Infinity];
  for (const branch of branches) {
    if (isTypeMismatch(branch, value)) continue;
    const unknownKeys = branch
      .filter((i) => i.code === 'unrecognized_keys' && i.path.length === 0)
      .reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 0), 0);
    const score: [number, number] = [unknownKeys, branch.length];
    if (score[0] < bestScore[0] || (score[0] === bestScore[0] && score[1] < bestScore[1])) {
      best = branch;
      bestScore = score;
    }
  }
  return best;
}

/** `a string or a mapping`, from the type each branch of a union expected. */
function expectedTypes(branches: readonly (readonly Issue[])[]): string {
  const names: string[] = [];
  for (const branch of branches) {
    for (const issue of branch) {
      if (issue.path.length !== 0) continue;
      let name: string | undefined;
      if (issue.code === 'invalid_type') name = typeName(issue.expected);
      if (issue.code === 'invalid_value') name = `one of ${issue.values.join(', ')}`;
      if (name !== undefined && !names.includes(name)) names.push(name);
    }
  }
  return names.length === 0 ? 'another form' : names.join(' or ');
}

function valueAt(value: unknown, path: ValuePath): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** The keys the schema allows in the mapping at `path` of `input`. */
function allowedKeys(schema: Schema, path: ValuePath, input: unknown): string[] {
  let current: Schema | undefined = schema;
  let value = input;
  for (const segment of path) {
    if (current === undefined) return [];
    current = childSchema(current, segment, value);
    value = valueAt(value, [segment]);
  }
  if (current === undefined) return [];
  const target = pickOption(current, value);
  const def = target._zod.def;
  if (def.type === 'object') return Object.keys((def as z.core.$ZodObjectDef).shape);
  if (def.type === 'record') {
    const keyDef = unwrap((def as z.core.$ZodRecordDef).keyType)._zod.def;
    if (keyDef.type === 'enum') {
      return Object.values((keyDef as z.core.$ZodEnumDef).entries).map(String);
    }
  }
  return [];
}

/** The schema of `segment` inside `schema`, given the value it validates. */
function childSchema(schema: Schema, segment: string | number, value: unknown): Schema | undefined {
  const target = pickOption(schema, value);
  const def = target._zod.def;
  switch (def.type) {
    case 'object':
      return (def as z.core.$ZodObjectDef).shape[String(segment)];
    case 'array':
      return (def as z.core.$ZodArrayDef).element;
    case 'record':
      return (def as z.core.$ZodRecordDef).valueType;
    default:
      return undefined;
  }
}

/** Strips wrappers (optional, default, pipes …) down to the schema that checks the shape. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as z.core.$ZodTypeDef & {
      innerType?: Schema;
      in?: Schema;
    };
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) current = def.in;
    else return current;
  }
}

/** For a union, the option meant for `value` (same type, most keys in common); else itself. */
function pickOption(schema: Schema, value: unknown): Schema {
  const target = unwrap(schema);
  const def = target._zod.def;
  if (def.type !== 'union') return target;
  const options = (def as z.core.$ZodUnionDef).options.map((o) => pickOption(o, value));
  const kind = valueKind(value);
  const sameKind = options.filter((o) => schemaKind(o) === kind);
  if (sameKind.length <= 1 || kind !== 'object') return sameKind[0] ?? target;
  const keys = Object.keys(value as object);
  let best = sameKind[0]!;
  let bestOverlap = -1;
  for (const option of sameKind) {
    const optionDef = option._zod.def;
    const shape = optionDef.type === 'object' ? (optionDef as z.core.$ZodObjectDef).shape : {};
    const overlap = keys.filter((k) => k in shape).length;
    if (overlap > bestOverlap) {
      best = option;
      bestOverlap = overlap;
    }
  }
  return best;
}

function valueKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

function schemaKind(schema: Schema): string {
  const type = schema._zod.def.type;
  switch (type) {
    case 'record':
      return 'object';
    case 'enum':
    case 'literal':
      return 'string';
    default:
      return type;
  }
}
