/** `churn merge`: add up reports of the same scenario (nodes, instances) exactly. */
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { locateReport } from '../../report/locate.js';
import { mergeOverlapWarning, mergeReports } from '../../report/merge.js';
import { renderReportJson } from '../../report/render/json.js';
import { renderTerminalSummary } from '../../report/render/terminal.js';
import { writeReport } from '../../report/store.js';
import { useColor } from '../color.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';

interface MergeArgs {
  readonly reports: string[];
  readonly output: string | undefined;
  readonly 'report-dir': string;
  readonly 'run-id': string | undefined;
  readonly quiet: boolean;
}

/** The `merge` command. */
export const mergeCommand = defineCommand<MergeArgs>({
  command: 'merge <reports..>',
  describe: 'Merge reports of the same scenario (several nodes or instances) into one, exactly',
  builder: (yargs) =>
    yargs
      .positional('reports', {
        describe: 'report files or tags, at least two',
        type: 'string',
        array: true,
        demandOption: true,
      })
      .option('output', {
        alias: 'o',
        describe: 'write the merged report here (default: into the report store)',
        type: 'string',
      })
      .option('report-dir', { describe: 'the report store', type: 'string', default: 'reports' })
      .option('run-id', { describe: 'run id of the merged report', type: 'string' })
      .option('quiet', { describe: 'print only the path', type: 'boolean', default: false })
      .example(
        'churn merge node-a.json node-b.json node-c.json -o cluster.json',
        'one report for three nodes',
      )
      .epilogue(
        'Histograms and counters add exactly; summaries are recomputed; throughput adds (the parts ran side by ' +
          'side); timelines are aligned on wall-clock time; thresholds are evaluated again. Reports of different ' +
          'scenarios are refused (exit 2, naming the field), and so is a run given twice or together with a ' +
          'merged report that already holds it (exit 2, naming both files). Parts that did not run at the same time ' +
          '(windows overlapping by less than half the shorter one) are named in a warning.',
      ),
  async run(args, io) {
    const dir = resolve(io.cwd, args['report-dir']);
    const parts = [];
    for (const ref of args.reports) parts.push(await locateReport(ref, dir, io.cwd));
    const merged = mergeReports(
      parts,
      args['run-id'] === undefined ? {} : { runId: args['run-id'] },
    );
    let path: string;
    if (args.output !== undefined) {
      path = resolve(io.cwd, args.output);
      await writeFileAtomic(path, renderReportJson(merged));
    } else {
      path = await writeReport(dir, merged);
    }
    // On stderr as well, so `--quiet` (only the path on stdout) still hears it.
    const overlap = mergeOverlapWarning(parts);
    if (overlap !== undefined) io.stderr.write(`churn merge: warning: ${overlap}\n`);
    if (!args.quiet)
      io.stdout.write(renderTerminalSummary(merged, { color: useColor(io, io.stdout) }));
    io.stdout.write(`${args.quiet ? '' : `\nmerged ${parts.length} reports: `}${path}\n`);
    return ExitCode.ok;
  },
});
