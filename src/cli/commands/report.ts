/**
 * `churn report`: render a report (terminal, HTML, Markdown, JUnit, JSON), and name baselines
 * (`churn report tag FILE NAME`, `untag NAME`, `tags`).
 */
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { ChurnError } from '../../common/errors.js';
import { locateReport } from '../../report/locate.js';
import { renderReportHtml } from '../../report/render/html.js';
import { renderReportJson } from '../../report/render/json.js';
import { renderJunit } from '../../report/render/junit.js';
import { renderReportMarkdown } from '../../report/render/markdown.js';
import { renderTerminalSummary } from '../../report/render/terminal.js';
import type { Report } from '../../report/schema.js';
import { readTags, removeTag, setTag } from '../../report/tags.js';
import { useColor } from '../color.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';

interface ReportArgs {
  readonly args: string[];
  readonly format: 'terminal' | 'html' | 'md' | 'junit' | 'json';
  readonly output: string | undefined;
  readonly 'report-dir': string;
}

/** The `report` command. */
export const reportCommand = defineCommand<ReportArgs>({
  command: 'report <args..>',
  describe: 'Render a report (terminal, html, md, junit, json), or tag one as a baseline',
  builder: (yargs) =>
    yargs
      .usage(
        'churn report FILE [--format terminal|html|md|junit|json] [-o OUT]\n' +
          'churn report tag FILE NAME    name a report (a baseline for compare)\n' +
          'churn report untag NAME       remove a name\n' +
          'churn report tags             list the names',
      )
      .positional('args', {
        describe: 'FILE (a report file or tag), or tag FILE NAME, untag NAME, tags',
        type: 'string',
        array: true,
        demandOption: true,
      })
      .option('format', {
        describe: 'output format',
        choices: ['terminal', 'html', 'md', 'junit', 'json'] as const,
        default: 'terminal' as const,
      })
      .option('output', { alias: 'o', describe: 'write the output to this file', type: 'string' })
      .option('report-dir', {
        describe: 'the report store (where tags live)',
        type: 'string',
        default: 'reports',
      })
      .example('churn report reports/smoke/20250131T120304Z_a1b2c3.json', 'the summary table')
      .example('churn report run.json --format html -o run.html', 'a self-contained HTML page')
      .example(
        'churn report run.json --format junit -o junit.xml',
        'thresholds as JUnit test cases',
      )
      .example('churn report tag reports/smoke/….json release-1.7', 'name a baseline')
      .epilogue(
        'Every report is read through one migrating reader: a truncated, non-JSON, malformed or newer-version ' +
          'file is refused with exit 2 and a message naming the file and field. HTML is one file with inline SVG ' +
          'charts and no network access. Formats and fields: docs/reports.md.',
      ),
  async run(args, io) {
    const dir = resolve(io.cwd, args['report-dir']);
    const [first, ...rest] = args.args;
    switch (first) {
      case 'tag':
        return tag(rest, dir, io);
      case 'untag':
        return untag(rest, dir, io);
      case 'tags':
        return listTags(rest, dir, io);
    }
    if (rest.length > 0) {
      throw new ChurnError(
        'USAGE',
        `churn report takes one report (got ${args.args.length}); to name one: churn report tag FILE NAME`,
      );
    }
    const { report } = await locateReport(first!, dir, io.cwd);
    const output = args.output;
    const text = render(report, args.format, output === undefined && useColor(io, io.stdout));
    if (output !== undefined) {
      const path = resolve(io.cwd, output);
      await writeFileAtomic(path, text);
      io.stderr.write(`wrote ${path}\n`);
    } else {
      io.stdout.write(text);
    }
    return ExitCode.ok;
  },
});

function render(report: Report, format: ReportArgs['format'], color: boolean): string {
  switch (format) {
    case 'terminal':
      return renderTerminalSummary(report, { color });
    case 'html':
      return renderReportHtml(report);
    case 'md':
      return renderReportMarkdown(report);
    case 'junit':
      return renderJunit(report);
    case 'json':
      return renderReportJson(report);
  }
}

async function tag(rest: readonly string[], dir: string, io: CliIo): Promise<number> {
  if (rest.length !== 2) {
    throw new ChurnError('USAGE', 'churn report tag FILE NAME: give the report and the name');
  }
  const [ref, name] = rest as [string, string];
  const located = await locateReport(ref, dir, io.cwd);
  const previous = await setTag(dir, name, located.path, {
    scenario: located.report.run.scenario,
    runId: located.report.run.id,
    taggedAt: new Date().toISOString(),
  });
  if (previous === undefined) {
    io.stdout.write(`tagged ${located.path} as ${name}\n`);
  } else if (previous.path === located.path) {
    io.stdout.write(`${name} already tags ${located.path}\n`);
  } else {
    io.stdout.write(`tag ${name} moved from ${previous.path} to ${located.path}\n`);
  }
  return ExitCode.ok;
}

async function untag(rest: readonly string[], dir: string, io: CliIo): Promise<number> {
  if (rest.length !== 1) throw new ChurnError('USAGE', 'churn report untag NAME: give one name');
  if (!(await removeTag(dir, rest[0]!))) {
    throw new ChurnError('USAGE', `no tag "${rest[0]!}" in ${dir}`);
  }
  io.stdout.write(`removed tag ${rest[0]!}\n`);
  return ExitCode.ok;
}

async function listTags(rest: readonly string[], dir: string, io: CliIo): Promise<number> {
  if (rest.length > 0) throw new ChurnError('USAGE', 'churn report tags takes no arguments');
  const tags = [...(await readTags(dir)).values()];
  if (tags.length === 0) {
    io.stdout.write(`no tags in ${dir} (churn report tag FILE NAME)\n`);
    return ExitCode.ok;
  }
  const width = Math.max(...tags.map((t) => t.name.length));
  for (const t of tags) {
    io.stdout.write(`${t.name.padEnd(width)}  ${t.scenario}  run ${t.runId}  ${t.path}\n`);
  }
  return ExitCode.ok;
}
