/** `churn compare`: did the candidate get slower than the base, by more than noise? */
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { ChurnError } from '../../common/errors.js';
import { isOpName, type OpName } from '../../common/operations.js';
import { compareReports, type Comparison } from '../../report/compare/compare.js';
import type { LoadedReport } from '../../report/compare/samples.js';
import { compareStatistics, type CompareStatistic } from '../../report/compare/statistics.js';
import {
  findLatestRun,
  findPreviousGoodRun,
  locateReport,
  skippedRunsText,
  type LocatedReport,
} from '../../report/locate.js';
import { baselineChoiceText } from '../../report/compare/baseline.js';
import { assertUnmarked } from '../../report/run-health.js';
import { renderCompareHtml } from '../../report/render/compare-html.js';
import { renderCompareMarkdown } from '../../report/render/compare-markdown.js';
import { renderCompareTerminal, summaryLine } from '../../report/render/compare-terminal.js';
import { renderCompareJson } from '../../report/render/json.js';
import { useColor } from '../color.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { numberFlag, parsePercent } from '../number-flag.js';

interface CompareArgs {
  readonly reports: string[] | undefined;
  readonly base: string[] | undefined;
  readonly candidate: string[] | undefined;
  readonly baseline: string | undefined;
  readonly alpha: number;
  readonly 'min-effect': string;
  readonly format: 'terminal' | 'md' | 'json' | 'html';
  readonly output: string | undefined;
  readonly 'report-dir': string;
  readonly stat: string[] | undefined;
  readonly op: string[] | undefined;
  readonly by: 'auto' | 'runs' | 'intervals';
  readonly 'allow-marked': boolean;
  readonly 'across-runtimes': boolean;
}

/** The `compare` command. */
export const compareCommand = defineCommand<CompareArgs>({
  command: 'compare [reports..]',
  describe:
    'Compare two runs (or sets of runs): what changed, by how much, and is it more than noise',
  builder: (yargs) =>
    yargs
      .positional('reports', {
        describe: 'BASE CANDIDATE: report files or tags (or just CANDIDATE with --baseline)',
        type: 'string',
        array: true,
      })
      .option('base', {
        describe: 'base side: one or more report files or tags (repeated runs)',
        type: 'string',
        array: true,
      })
      .option('candidate', {
        describe: 'candidate side: one or more report files or tags',
        type: 'string',
        array: true,
      })
      .option('baseline', {
        describe:
          'base side from the store: "latest" (the newest earlier comparable run: complete, same scenario and load, same runtime, not marked) or a tag',
        type: 'string',
      })
      .option('alpha', {
        describe: 'significance level of the (Benjamini-Hochberg adjusted) p-values',
        type: 'string',
        coerce: numberFlag('--alpha'),
        default: 0.05,
      })
      .option('min-effect', {
        describe: 'smallest relative change that can be a regression or improvement, e.g. 5%',
        type: 'string',
        default: '5%',
      })
      .option('format', {
        describe: 'output format',
        choices: ['terminal', 'md', 'json', 'html'] as const,
        default: 'terminal' as const,
      })
      .option('output', { alias: 'o', describe: 'write the output to this file', type: 'string' })
      .option('report-dir', {
        describe: 'the report store (for tags and --baseline)',
        type: 'string',
        default: 'reports',
      })
      .option('stat', {
        describe: `statistics to compare (default all: ${compareStatistics.join(', ')})`,
        type: 'string',
        array: true,
      })
      .option('op', {
        describe: 'operations to compare (default all)',
        type: 'string',
        array: true,
      })
      .option('by', {
        describe:
          'samples for the test: one per run, one per timeline interval, or auto (runs when both sides have 2+)',
        choices: ['auto', 'runs', 'intervals'] as const,
        default: 'auto' as const,
      })
      .option('allow-marked', {
        describe:
          'compare runs marked harness-bound or overloaded (refused otherwise), and let --baseline latest pick them',
        type: 'boolean',
        default: false,
      })
      .option('across-runtimes', {
        describe:
          'compare runs of different runtimes (driver, runtime name or handler differ; refused otherwise), and let --baseline latest pick a run of another runtime',
        type: 'boolean',
        default: false,
      })
      .example('churn compare base.json candidate.json', 'compare two runs')
      .example(
        'churn compare --baseline latest',
        'the newest run against the newest earlier comparable one',
      )
      .example('churn compare release-1.7 reports/smoke/….json --format md', 'against a tag')
      .example(
        'churn compare --base a1.json a2.json a3.json --candidate b1.json b2.json b3.json',
        'repeated runs',
      )
      .example(
        'churn compare --across-runtimes builtin.json containerd.json',
        'the same scenario on the built-in core and on containerd over CRI',
      )
      .example(
        'churn compare --across-runtimes --base ctd{1..7}.json --candidate crio{1..7}.json',
        'containerd against CRI-O, 7 runs a side',
      )
      .epilogue(
        'Per operation, p50, p90, p99, p99.9, mean, throughput and error rate are compared. A verdict ' +
          '(regression or improvement, else ~) needs a Mann-Whitney U test significant at --alpha after ' +
          'Benjamini-Hochberg correction (across runs, or across timeline intervals when a side has one run; for a ' +
          'percentile the intervals hold too few values for, a permutation test over the intervals), a change of at ' +
          'least --min-effect, and for percentiles a block-bootstrap confidence interval (resampling whole intervals ' +
          'or runs, never single latencies) that excludes 0. ' +
          'In a closed loop throughput is judged on cycle only (every step runs at the cycle rate). ' +
          'Runs of different scenarios are refused (exit 2, naming the field), and so are runs marked harness-bound or ' +
          'overloaded unless --allow-marked (then a warning), and runs of different runtimes (driver, runtime name or ' +
          'handler) unless --across-runtimes: then the header says it is a cross-runtime comparison and names each ' +
          "side's runtime, and every run of one side must still share a runtime. " +
          'Other differing environments (kernel, runtime version…) and host contention are warnings. ' +
          'Exit 1 when a regression is found, 0 otherwise. Method and fields: docs/reports.md.',
      ),
  async run(args, io) {
    const dir = resolve(io.cwd, args['report-dir']);
    const { base, candidate, notes } = await sides(args, dir, io);
    if (!args['allow-marked']) assertUnmarked([...base, ...candidate], '--allow-marked');
    const compared = compareReports(base, candidate, {
      acrossRuntimes: args['across-runtimes'],
      alpha: args.alpha,
      minEffectPct: parsePercent(args['min-effect'], '--min-effect'),
      mode: args.by,
      ...(args.stat !== undefined ? { statistics: parseStats(args.stat) } : {}),
      ...(args.op !== undefined ? { ops: parseOps(args.op) } : {}),
    });
    const comparison: Comparison = { ...compared, notes: [...notes, ...compared.notes] };
    const output = args.output;
    const text = render(
      comparison,
      args.format,
      base,
      candidate,
      output === undefined && useColor(io, io.stdout),
    );
    if (output !== undefined) {
      const path = resolve(io.cwd, output);
      await writeFileAtomic(path, text);
      io.stderr.write(`${summaryLine(comparison)}\nwrote ${path}\n`);
    } else {
      io.stdout.write(text);
    }
    return comparison.regressions > 0 ? ExitCode.failed : ExitCode.ok;
  },
});

function render(
  comparison: Comparison,
  format: CompareArgs['format'],
  base: readonly LoadedReport[],
  candidate: readonly LoadedReport[],
  color: boolean,
): string {
  switch (format) {
    case 'terminal':
      return renderCompareTerminal(comparison, { color });
    case 'md':
      return renderCompareMarkdown(comparison);
    case 'json':
      return renderCompareJson(comparison);
    case 'html':
      return renderCompareHtml(comparison, base, candidate);
  }
}

async function sides(
  args: CompareArgs,
  dir: string,
  io: CliIo,
): Promise<{ base: LocatedReport[]; candidate: LocatedReport[]; notes: string[] }> {
  const positional = args.reports ?? [];
  const locate = (ref: string): Promise<LocatedReport> => locateReport(ref, dir, io.cwd);
  if (args.base !== undefined || args.candidate !== undefined) {
    if (positional.length > 0 || args.baseline !== undefined) {
      throw new ChurnError(
        'USAGE',
        'give the sides either as --base … --candidate … or as BASE CANDIDATE (or --baseline), not both',
      );
    }
    if (args.base === undefined || args.candidate === undefined) {
      throw new ChurnError('USAGE', '--base and --candidate go together: give both sides');
    }
    return {
      base: await Promise.all(args.base.map(locate)),
      candidate: await Promise.all(args.candidate.map(locate)),
      notes: [],
    };
  }
  if (args.baseline !== undefined) {
    if (positional.length > 1) {
      throw new ChurnError('USAGE', `with --baseline give one CANDIDATE, not ${positional.length}`);
    }
    const candidate =
      positional.length === 1 ? await locate(positional[0]!) : await findLatestRun(dir);
    if (candidate === undefined) {
      throw new ChurnError(
        'USAGE',
        `--baseline ${args.baseline}: the store ${dir} holds no report`,
      );
    }
    if (args.baseline !== 'latest')
      return { base: [await locate(args.baseline)], candidate: [candidate], notes: [] };
    const latest = await findPreviousGoodRun(dir, candidate.report, candidate.path, {
      allowMarked: args['allow-marked'],
      acrossRuntimes: args['across-runtimes'],
    });
    if (latest.found === undefined) {
      const skipped = skippedRunsText(latest.skipped, false);
      const otherRuntimes = latest.skipped.some((s) => s.reason.startsWith('other runtime'));
      throw new ChurnError(
        'USAGE',
        `--baseline latest: no earlier comparable run of scenario "${candidate.report.run.scenario}" in ${dir}${skipped === '' ? '' : ` (${skipped})`}` +
          (otherRuntimes ? '; --across-runtimes takes runs of other runtimes' : ''),
      );
    }
    return {
      base: [latest.found],
      candidate: [candidate],
      notes: [baselineChoiceText({ ...latest.found, skipped: latest.skipped })],
    };
  }
  if (positional.length !== 2) {
    throw new ChurnError(
      'USAGE',
      `compare needs BASE and CANDIDATE (got ${positional.length} report${positional.length === 1 ? '' : 's'}); or --baseline latest, or --base … --candidate …`,
    );
  }
  return {
    base: [await locate(positional[0]!)],
    candidate: [await locate(positional[1]!)],
    notes: [],
  };
}

function parseStats(list: readonly string[]): CompareStatistic[] {
  const names = list.flatMap((s) => s.split(',')).map((s) => s.trim().replace(/^p99\.9$/, 'p999'));
  for (const name of names) {
    if (!(compareStatistics as readonly string[]).includes(name)) {
      throw new ChurnError('USAGE', `--stat ${name}: use one of ${compareStatistics.join(', ')}`);
    }
  }
  return names as CompareStatistic[];
}

function parseOps(list: readonly string[]): OpName[] {
  const names = list.flatMap((s) => s.split(',')).map((s) => s.trim());
  for (const name of names) {
    if (!isOpName(name))
      throw new ChurnError('USAGE', `--op ${name}: not an operation churn records`);
  }
  return names as OpName[];
}
