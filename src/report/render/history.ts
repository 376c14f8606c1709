/**
 * `churn history` for a terminal: per scenario a header with sparklines of the cycle's p99
 * and throughput (oldest → newest), then one line per run with its key figures, an arrow for
 * each trend figure against the run before it, and the host column (marks, `busy`).
 */
import pc from 'picocolors';
import { sparkline, type HistoryRow, type ScenarioHistory } from '../history.js';
import { formatMs, formatPercent, formatRate, formatTime } from './format.js';

/** Renders `histories` (see history.ts); colour only when asked. */
export function renderHistory(
  histories: readonly ScenarioHistory[],
  options: { readonly color?: boolean } = {},
): string {
  const c = pc.createColors(options.color ?? false);
  if (histories.length === 0) return 'no reports in the store\n';
  const out: string[] = [];
  for (const h of histories) {
    if (out.length > 0) out.push('');
    out.push(
      `${c.bold(h.scenario)} · ${h.rows.length} run${h.rows.length === 1 ? '' : 's'} · cycle p99 ${sparkline(h.p99Series)} · cycles/s ${sparkline(h.throughputSeries)}`,
    );
    const headers = [
      'start',
      'run',
      'state',
      'cycles',
      'errors',
      'cycle p99',
      '',
      'cycles/s',
      '',
      'thresholds',
      'host',
      'tags',
    ];
    const rows = h.rows.map((r, i) => [
      formatTime(r.start),
      r.runId,
      stateOf(r),
      String(r.cycles),
      r.errorRate === null ? '-' : formatPercent(r.errorRate),
      formatMs(r.cycleP99Ms),
      h.p99Arrows[i]!,
      r.cyclesPerSec === null ? '-' : formatRate(r.cyclesPerSec),
      h.throughputArrows[i]!,
      r.thresholdsFailed === 0 ? 'ok' : `${r.thresholdsFailed} failed`,
      hostOf(r),
      r.tags.join(','),
    ]);
    const widths = headers.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
    const right = new Set([3, 4, 5, 7]);
    const line = (cells: readonly string[]): string =>
      cells
        .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    out.push(c.dim(line(headers)));
    rows.forEach((cells, i) => {
      const r = h.rows[i]!;
      const text = line(cells);
      out.push(
        !r.partial && r.noCycleSucceeded
          ? c.red(text)
          : r.partial || r.thresholdsFailed > 0 || r.marks.length > 0
            ? c.yellow(text)
            : text,
      );
    });
  }
  const rows = histories.flatMap((h) => h.rows);
  const legend = [
    ...(rows.some((r) => r.partial) ? ['* partial run.'] : []),
    ...(rows.some((r) => r.checkpoint !== null || r.exitReason === 'running')
      ? [
          'checkpoint: the last checkpoint of a run that had not finished when it was written (still running, or killed before its final report).',
        ]
      : []),
    ...(rows.some((r) => !r.partial && r.noCycleSucceeded)
      ? ['failed: completed, but no cycle succeeded (exit 1).']
      : []),
    ...(rows.some((r) => r.busy)
      ? [
          "busy: the host was busy (other processes ≥ 25% CPU, load ≥ 1 per CPU or steal ≥ 5%): figures may be the host's.",
        ]
      : []),
    ...(rows.some((r) => r.marks.includes('harness-bound'))
      ? ["harness-bound: churn's own event loop stalled beyond its bound."]
      : []),
    ...(rows.some((r) => r.marks.includes('overloaded'))
      ? ['overloaded: more arrivals dropped than allowed.']
      : []),
    'Arrows: change from the run before (↑ higher, ↓ lower, → within 5%).',
  ];
  out.push('', c.dim(legend.join(' ')));
  return `${out.join('\n')}\n`;
}

/** The host column: the run's marks and `busy`, `-` when neither (or unknown). */
function hostOf(r: HistoryRow): string {
  const parts = [...r.marks, ...(r.busy ? ['busy'] : [])];
  return parts.length === 0 ? '-' : parts.join(',');
}

/**
 * The state column: how the run ended, `*` when partial, `checkpoint*` for a checkpoint, `failed`
 * when no cycle succeeded.
 */
function stateOf(r: HistoryRow): string {
  if (r.checkpoint !== null || r.exitReason === 'running') return 'checkpoint*';
  if (r.partial) return `${r.exitReason}*`;
  return r.noCycleSucceeded ? 'failed' : r.exitReason;
}
