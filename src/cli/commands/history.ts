/** `churn history`: the runs in the report store, their key figures and trends; retention. */
import { relative, resolve } from 'node:path';
import { ChurnError } from '../../common/errors.js';
import { historyRow, scenarioHistories, type HistoryRow } from '../../report/history.js';
import { readReport } from '../../report/read.js';
import { renderHistory } from '../../report/render/history.js';
import { listStoredReports, pruneReports } from '../../report/store.js';
import { readTags } from '../../report/tags.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';

interface HistoryArgs {
  readonly scenario: string | undefined;
  readonly last: number | undefined;
  readonly 'report-dir': string;
  readonly json: boolean;
  readonly prune: boolean;
  readonly keep: number | undefined;
  readonly 'older-than': string | undefined;
  readonly 'dry-run': boolean;
}

/** The `history` command. */
export const historyCommand = defineCommand<HistoryArgs>({
  command: 'history',
  describe: 'List the runs in the report store with key figures and trends; prune old reports',
  builder: (yargs) =>
    yargs
      .option('scenario', { describe: 'only this scenario', type: 'string' })
      .option('last', { describe: 'only the newest N runs of each scenario', type: 'number' })
      .option('report-dir', { describe: 'the report store', type: 'string', default: 'reports' })
      .option('json', { describe: 'print the rows as JSON', type: 'boolean', default: false })
      .option('prune', {
        describe: 'remove old reports (with --keep and/or --older-than); tagged reports are kept',
        type: 'boolean',
        default: false,
      })
      .option('keep', {
        describe: 'prune: keep the newest N reports of each scenario',
        type: 'number',
      })
      .option('older-than', {
        describe: 'prune: remove reports that started longer ago than this, e.g. 30d, 12h',
        type: 'string',
      })
      .option('dry-run', {
        describe: 'prune: list what would be removed, remove nothing',
        type: 'boolean',
        default: false,
      })
      .example('churn history', 'every scenario, every run')
      .example('churn history --scenario soak-nightly --last 14', 'the last two weeks of a nightly')
      .example('churn history --prune --keep 100', 'retention: the newest 100 per scenario')
      .example(
        'churn history --prune --older-than 30d --dry-run',
        'what a 30-day retention removes',
      ),
  async run(args, io) {
    const dir = resolve(io.cwd, args['report-dir']);
    if (args.prune) {
      if (args.keep === undefined && args['older-than'] === undefined) {
        throw new ChurnError('USAGE', '--prune needs --keep N and/or --older-than AGE (e.g. 30d)');
      }
      if (args.keep !== undefined && !(Number.isInteger(args.keep) && args.keep >= 0)) {
        throw new ChurnError('USAGE', `--keep ${args.keep}: give a whole number, 0 or more`);
      }
      const tags = await readTags(dir);
      const removed = await pruneReports(dir, {
        ...(args.keep !== undefined ? { keep: args.keep } : {}),
        ...(args['older-than'] !== undefined ? { olderThanMs: parseAge(args['older-than']) } : {}),
        ...(args.scenario !== undefined ? { scenario: args.scenario } : {}),
        nowMs: Date.now(),
        protect: new Set([...tags.values()].map((t) => t.path)),
        dryRun: args['dry-run'],
      });
      const verb = args['dry-run'] ? 'would remove' : 'removed';
      for (const path of removed) io.stdout.write(`${verb} ${relative(io.cwd, path)}\n`);
      io.stdout.write(`${verb} ${removed.length} report${removed.length === 1 ? '' : 's'}\n`);
      return ExitCode.ok;
    }
    if (args.last !== undefined && !(Number.isInteger(args.last) && args.last > 0)) {
      throw new ChurnError('USAGE', `--last ${args.last}: give a whole number, 1 or more`);
    }
    const stored = await listStoredReports(
      dir,
      args.scenario === undefined ? {} : { scenario: args.scenario },
    );
    const tagsByPath = new Map<string, string[]>();
    for (const t of (await readTags(dir)).values()) {
      tagsByPath.set(t.path, [...(tagsByPath.get(t.path) ?? []), t.name]);
    }
    const byScenario = new Map<string, typeof stored>();
    for (const s of stored)
      byScenario.set(s.scenarioDir, [...(byScenario.get(s.scenarioDir) ?? []), s]);
    const rows: HistoryRow[] = [];
    for (const entries of byScenario.values()) {
      const chosen = args.last === undefined ? entries : entries.slice(-args.last);
      for (const entry of chosen) {
        const path = resolve(entry.path);
        const shown = relative(io.cwd, path);
        rows.push(historyRow(shown, await readReport(path, shown), tagsByPath.get(path) ?? []));
      }
    }
    const histories = scenarioHistories(rows);
    if (args.json) {
      io.stdout.write(`${JSON.stringify({ scenarios: histories }, null, 2)}\n`);
    } else {
      io.stdout.write(renderHistory(histories, { color: io.stdout.isTTY }));
    }
    return ExitCode.ok;
  },
});

/** `30d`, `12h`, `90m`, `45s` → ms. Throws USAGE. */
export function parseAge(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s)\s*$/.exec(text);
  if (m === null)
    throw new ChurnError('USAGE', `--older-than "${text}": write e.g. 30d, 12h or 90m`);
  const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
  return Number(m[1]) * unitMs;
}
