/** `churn validate FILE…`: checks scenario files without touching a runtime. */
import pc from 'picocolors';
import { isChurnError } from '../../common/errors.js';
import {
  loadScenarioFile,
  ScenarioError,
  formatProblem,
  type ScenarioProblem,
} from '../../scenario/load.js';
import type { Scenario } from '../../scenario/schema.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { useColor } from '../color.js';

interface ValidateArgs {
  readonly files: string[];
  readonly json: boolean;
}

/** What `churn validate --json` prints for one file. */
export type ValidateFileResult =
  | { readonly file: string; readonly ok: true; readonly scenario: ScenarioSummary }
  | { readonly file: string; readonly ok: false; readonly problems: readonly JsonProblem[] };

/** The key facts of a valid scenario, as `--json` prints them. */
export interface ScenarioSummary {
  readonly name: string;
  readonly driver: string;
  readonly phases: number;
  /** Sum of the phases' durations, pauses included. */
  readonly durationMs: number;
  readonly workloads: number;
  readonly thresholds: number;
}

interface JsonProblem {
  readonly line: number | null;
  readonly column: number | null;
  readonly flag: string | null;
  readonly path: string;
  readonly message: string;
  /** The problem as the terminal shows it. */
  readonly text: string;
}

/** The `validate` command. */
export const validateCommand = defineCommand<ValidateArgs>({
  command: 'validate <files..>',
  describe: 'Check scenario files (every problem with file:line:column), without running them',
  builder: (yargs) =>
    yargs
      .positional('files', {
        describe: 'scenario files (YAML) to check',
        type: 'string',
        array: true,
        demandOption: true,
      })
      .option('json', {
        describe: 'print a machine-readable result on stdout',
        type: 'boolean',
        default: false,
      })
      .example('churn validate scenarios/*.yaml', 'check every shipped scenario')
      .example('churn validate my.yaml --json', 'the result as JSON, for CI and editors')
      .epilogue(
        'Each file is parsed and checked in full: unknown keys (with a did-you-mean), wrong types, bad units, ' +
          'thresholds naming operations no workload performs, steps in an impossible order. ' +
          'Exit 0 when every file is valid, 2 otherwise. Keys and units: docs/scenarios.md.',
      ),
  async run(args, io) {
    const results: ValidateFileResult[] = [];
    for (const file of args.files) results.push(await validateFile(file, io));
    const ok = results.every((r) => r.ok);
    if (args.json) {
      io.stdout.write(`${JSON.stringify({ ok, files: results }, null, 2)}\n`);
    } else {
      for (const result of results) printResult(result, io);
    }
    return ok ? ExitCode.ok : ExitCode.badInput;
  },
});

async function validateFile(file: string, io: CliIo): Promise<ValidateFileResult> {
  try {
    const scenario = await loadScenarioFile(file, {}, { cwd: io.cwd });
    return { file, ok: true, scenario: summarize(scenario) };
  } catch (err) {
    if (err instanceof ScenarioError) {
      return { file, ok: false, problems: err.problems.map(jsonProblem) };
    }
    if (isChurnError(err)) {
      const problem = { line: null, column: null, flag: null, path: '', message: err.message };
      return { file, ok: false, problems: [{ ...problem, text: err.message }] };
    }
    throw err;
  }
}

function jsonProblem(problem: ScenarioProblem): JsonProblem {
  return {
    line: problem.line ?? null,
    column: problem.column ?? null,
    flag: problem.flag ?? null,
    path: problem.path,
    message: problem.message,
    text: formatProblem(problem),
  };
}

function summarize(scenario: Scenario): ScenarioSummary {
  return {
    name: scenario.name,
    driver: scenario.target.driver,
    phases: scenario.load.phases.length,
    durationMs: scenario.load.phases.reduce((sum, p) => sum + p.durationMs, 0),
    workloads: scenario.workloads.length,
    thresholds: scenario.thresholds.length,
  };
}

function printResult(result: ValidateFileResult, io: CliIo): void {
  if (result.ok) {
    const colors = pc.createColors(useColor(io, io.stdout));
    const s = result.scenario;
    const facts = [
      `${plural(s.phases, 'phase')}, ${humanDuration(s.durationMs)}`,
      plural(s.workloads, 'workload'),
      `driver ${s.driver}`,
      plural(s.thresholds, 'threshold'),
    ];
    io.stdout.write(`${colors.green('✓')} ${result.file} (${s.name}: ${facts.join('; ')})\n`);
    return;
  }
  const colors = pc.createColors(useColor(io, io.stderr));
  const lines = result.problems.map((p) => `  ${p.text}`);
  io.stderr.write(
    `${colors.red('✗')} ${result.file}: ${plural(result.problems.length, 'problem')}\n${lines.join('\n')}\n`,
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `6h 5m`, `1m 30s`, `10s`, `250ms`: a run's length for people. */
function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: [string, number][] = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms / 1000) * 1000;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join(' ');
}
