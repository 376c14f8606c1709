/**
 * Scenario file → {@link Scenario}: parse the YAML keeping positions, apply the command line's
 * overrides, validate the whole file against the schema, and report every problem at once,
 * each as `file:line:column key.path: message` (or `--flag key.path: message` when the value
 * came from the command line).
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { ChurnError } from '../common/errors.js';
import { flattenIssues } from './issues.js';
import { scenarioErrorMap } from './messages.js';
import { applyOverrides, type OverrideOrigin, type ScenarioOverrides } from './overrides.js';
import { scenarioSchema, type Scenario } from './schema.js';
import { formatKeyPath, parseYamlSource, type ValuePath } from './yaml-source.js';

/** One problem in a scenario: where (a position in the file, or a flag), which key, what. */
export interface ScenarioProblem {
  /** The file as the user named it. */
  readonly source: string;
  /** 1-based line and column in the file; undefined when the value came from a flag. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The overriding flag the value came from (`--concurrency`), if it did. */
  readonly flag: string | undefined;
  /** Key path, `load.phases[1].rampTo`; '' for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

/** A scenario that does not parse or validate; `problems` lists all of it. */
export class ScenarioError extends ChurnError {
  constructor(
    readonly source: string,
    readonly problems: readonly ScenarioProblem[],
  ) {
    super('SCENARIO_INVALID', formatProblems(source, problems));
  }
}

/** `file:line:column key.path: message`, or `--flag key.path: message`. */
export function formatProblem(problem: ScenarioProblem): string {
  const where =
    problem.flag ?? `${problem.source}:${String(problem.line)}:${String(problem.column)}`;
  return problem.path === ''
    ? `${where} ${problem.message}`
    : `${where} ${problem.path}: ${problem.message}`;
}

function formatProblems(source: string, problems: readonly ScenarioProblem[]): string {
  const lines = problems.map(formatProblem);
  if (lines.length === 1 && problems[0]!.flag === undefined) return lines[0]!;
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return `${source}: ${count}\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/**
 * Parses and validates scenario `text`; `sourceName` names it in messages and, without a
 * `name:` key, gives the scenario its name (basename without extension). Throws a
 * {@link ScenarioError} (code SCENARIO_INVALID) listing every problem.
 */
export function parseScenario(
  text: string,
  sourceName: string,
  overrides: ScenarioOverrides = {},
): Scenario {
  const source = parseYamlSource(text);
  const problem = (
    where: { line: number; column: number } | { flag: string },
    path: ValuePath,
    message: string,
  ): ScenarioProblem => ({
    source: sourceName,
    line: 'line' in where ? where.line : undefined,
    column: 'line' in where ? where.column : undefined,
    flag: 'flag' in where ? where.flag : undefined,
    path: formatKeyPath(path),
    message,
  });

  if (source.problems.length > 0) {
    throw new ScenarioError(
      sourceName,
      source.problems.map((p) => problem(p.position, p.path, p.message)),
    );
  }
  if (source.value === undefined || source.value === null) {
    throw new ScenarioError(sourceName, [
      problem(
        { line: 1, column: 1 },
        [],
        'the file is empty: a scenario is a mapping of keys (see docs/scenarios.md)',
      ),
    ]);
  }

  const applied = applyOverrides(source.value, overrides);
  const raw = applied.value;
  if (isRecord(raw) && raw['name'] === undefined) raw['name'] = nameFromSource(sourceName);
  if (isRecord(raw)) {
    for (const key of Object.keys(raw))
      if (extensionKey.test(key)) Reflect.deleteProperty(raw, key);
  }

  const problems = applied.problems.map((p) => problem({ flag: p.flag }, p.path, p.message));
  const result = scenarioSchema.safeParse(raw, { error: scenarioErrorMap });
  if (result.success && problems.length === 0) return result.data;

  if (!result.success) {
    for (const issue of flattenIssues(result.error.issues, scenarioSchema, raw)) {
      const flag = originOf(issue.path, applied.origins);
      const where = flag !== undefined ? { flag } : source.locate(issue.path, issue.target);
      problems.push(problem(where, issue.path, issue.message));
    }
  }
  throw new ScenarioError(sourceName, sortProblems(problems));
}

/** Top-level keys churn ignores (`x-phase: &p {…}`): a home for YAML anchors, as in compose files. */
export const extensionKey = /^x-/;

/** Options for {@link loadScenarioFile}. */
export interface LoadScenarioOptions {
  /** Directory a relative `path` is read from; the process's working directory by default. */
  readonly cwd?: string;
}

/**
 * Reads and validates the scenario file at `path` (named as given in messages). Throws a
 * {@link ScenarioError} listing every problem, or SCENARIO_INVALID when it cannot be read.
 */
export async function loadScenarioFile(
  path: string,
  overrides: ScenarioOverrides = {},
  options: LoadScenarioOptions = {},
): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(resolve(options.cwd ?? process.cwd(), path), 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : (err as NodeJS.ErrnoException).code === 'EISDIR'
          ? 'is a directory, not a scenario file'
          : (err as Error).message;
    throw new ChurnError('SCENARIO_INVALID', `${path}: cannot read scenario: ${reason}`, {
      cause: err,
    });
  }
  return parseScenario(text, path, overrides);
}

/** The scenario name a file gives when it has no `name:` (`My Test.yaml` → `my-test`). */
export function nameFromSource(sourceName: string): string {
  const stem = basename(sourceName, extname(sourceName))
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return stem === '' ? 'scenario' : stem;
}

function originOf(path: ValuePath, origins: readonly OverrideOrigin[]): string | undefined {
  return origins.find(
    (o) => o.path.length <= path.length && o.path.every((segment, i) => segment === path[i]),
  )?.flag;
}

/** Flag problems first (the command line is read first), then in file order. */
function sortProblems(problems: ScenarioProblem[]): ScenarioProblem[] {
  const rank = (p: ScenarioProblem): [number, number, number] =>
    p.flag !== undefined ? [0, 0, 0] : [1, p.line ?? 0, p.column ?? 0];
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const [ra, rb] = [rank(a.p), rank(b.p)];
      return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2] || a.i - b.i;
    })
    .map(({ p }) => p);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
