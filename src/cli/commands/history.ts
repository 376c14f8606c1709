/** `churn history`: the runs in the report store, their key figures and trends; retention. */
import { relative, resolve } from 'node:path';
import { ChurnError } from '../../common/errors.js';
import { historyRow, scenarioHistories, type HistoryRow } from '../../report/history.js';
import { readReport } from '../../report/read.js';
import { renderHistory } from '../../report/render/history.js';
import { listStoredReports, pruneReports } from '../../report/store.js';
import { readTags } from '../../report/tags.js';
import { useColor } from '../color.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';

interface HistoryArgs {
  readonly scenario: string | undefined;
  /** Raw text, so that a bad value is echoed as typed. */
  readonly last: string | undefined;
  readonly 'report-dir': string;
  readonly json: boolean;
  readonly prune: boolean;
  readonly keep: string | undefined;
  readonly 'older-than': string | undefined;
  readonly 'dry-run': boolean | undefined;
}

/** The `history` command. */
export const historyCommand = defineCommand<HistoryArgs>({
  command: 'history',
  describe: 'List the runs in the report store with key figures and trends; prune old reports',
  builder: (yargs) =>
    yargs
      .option('scenario', { describe: 'only this scenario', type: 'string' })
      .option('last', { describe: 'only the newest N runs of each scenario', type: 'string' })
      .option('report-dir', { describe: 'the report store', type: 'string', default: 'reports' })
      .option('json', { describe: 'print the rows as JSON', type: 'boolean', default: false })
      .option('prune', {
        describe: 'remove old reports (with --keep and/or --older-than); tagged reports are kept',
        type: 'boolean',
        default: false,
      })
      .option('keep', {
        describe: 'prune: keep the newest N reports of each scenario',
        type: 'string',
      })
      .option('older-than', {
        describe: 'prune: remove reports that started longer ago than this, e.g. 30d, 12h',
        type: 'string',
      })
      .option('dry-run', {
        describe: 'prune: list what would be removed, remove nothing',
        type: 'boolean',
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
    if (args.prune) return prune(args, dir, io);
    const pruneOnly = (
      [
        ['--keep', args.keep],
        ['--older-than', args['older-than']],
        ['--dry-run', args['dry-run']],
      ] as const
    ).filter(([, value]) => value !== undefined);
    if (pruneOnly.length > 0) {
      const flags = pruneOnly.map(([flag]) => flag).join(', ');
      throw new ChurnError(
        'USAGE',
        `${flags} only ${pruneOnly.length === 1 ? 'applies' : 'apply'} to pruning: add --prune (e.g. churn history --prune ${pruneOnly.map(([flag]) => (flag === '--keep' ? '--keep 100' : flag === '--older-than' ? '--older-than 30d' : flag)).join(' ')})`,
      );
    }
    const last = args.last === undefined ? undefined : parseCount(args.last, '--last', 1);
    const stored = await listStoredReports(
      dir,
      args.scenario === undefined ? {} : { scenario: args.scenario },
    );
    if (stored.length === 0 && args.scenario !== undefined) {
      const known = [...new Set((await listStoredReports(dir)).map((s) => s.scenarioDir))].sort();
      const message = `no reports of scenario ${args.scenario} in ${relative(io.cwd, dir) || '.'}${known.length > 0 ? ` (scenarios: ${known.join(', ')})` : ' (the store is empty)'}\n`;
      if (args.json) {
        io.stdout.write(`${JSON.stringify({ scenarios: [] }, null, 2)}\n`);
        io.stderr.write(message);
      } else {
        io.stdout.write(message);
      }
      return ExitCode.ok;
    }
    const tagsByPath = new Map<string, string[]>();
    for (const t of (await readTags(dir)).values()) {
      tagsByPath.set(t.path, [...(tagsByPath.get(t.path) ?? []), t.name]);
    }
    const byScenario = new Map<string, typeof stored>();
    for (const s of stored)
      byScenario.set(s.scenarioDir, [...(byScenario.get(s.scenarioDir) ?? []), s]);
    const rows: HistoryRow[] = [];
    for (const entries of byScenario.values()) {
      const chosen = last === undefined ? entries : entries.slice(-last);
      for (const entry of chosen) {
        const path = resolve(entry.path);
        const shown = relative(io.cwd, path);
        // The listing shows summaries only: its histograms are not decoded (see readReport).
        const report = await readReport(path, shown, { checkHistograms: false });
        rows.push(historyRow(shown, report, tagsByPath.get(path) ?? []));
      }
    }
    const histories = scenarioHistories(rows);
    if (args.json) {
      io.stdout.write(`${JSON.stringify({ scenarios: histories }, null, 2)}\n`);
    } else {
      io.stdout.write(renderHistory(histories, { color: useColor(io, io.stdout) }));
    }
    return ExitCode.ok;
  },
});

async function prune(args: HistoryArgs, dir: string, io: CliIo): Promise<number> {
  if (args.keep === undefined && args['older-than'] === undefined) {
    throw new ChurnError('USAGE', '--prune needs --keep N and/or --older-than AGE (e.g. 30d)');
  }
  const keep = args.keep === undefined ? undefined : parseCount(args.keep, '--keep', 0);
  const tags = await readTags(dir);
  const dryRun = args['dry-run'] === true;
  const removed = await pruneReports(dir, {
    ...(keep !== undefined ? { keep } : {}),
    ...(args['older-than'] !== undefined ? { olderThanMs: parseAge(args['older-than']) } : {}),
    ...(args.scenario !== undefined ? { scenario: args.scenario } : {}),
    nowMs: Date.now(),
    protect: new Set([...tags.values()].map((t) => t.path)),
    dryRun,
  });
  const verb = dryRun ? 'would remove' : 'removed';
  for (const path of removed) io.stdout.write(`${verb} ${relative(io.cwd, path)}\n`);
  io.stdout.write(`${verb} ${removed.length} report${removed.length === 1 ? '' : 's'}\n`);
  return ExitCode.ok;
}

/** A whole number ≥ `min` from `text` as typed after `flag`. Throws USAGE echoing the text. */
export function parseCount(text: string, flag: string, min: number): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min) {
    throw new ChurnError(
      'USAGE',
      `${flag} ${JSON.stringify(text)}: give a whole number, ${min} or more`,
    );
  }
  return Number(trimmed);
}

/** `30d`, `12h`, `90m`, `45s` → ms. Throws USAGE. */
export function parseAge(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s)\s*$/.exec(text);
  if (m === null)
    throw new ChurnError('USAGE', `--older-than "${text}": write e.g. 30d, 12h or 90m`);
  const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
  return Number(m[1]) * unitMs;
}
