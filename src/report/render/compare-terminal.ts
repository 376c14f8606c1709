/**
 * The terminal table of `churn compare`: one row per operation × statistic with both values,
 * the change, its bootstrap interval (percentiles), p, n and the verdict; then a summary line,
 * a legend of the method, notes (e.g. the closed-loop throughput rule) and the warnings. Colour only when asked (on a TTY).
 * A cross-runtime comparison says so in its title, and names each side's runtime below it.
 */
import pc from 'picocolors';
import type { Comparison, ComparisonRow } from '../compare/compare.js';
import { statisticInfo } from '../compare/statistics.js';
import { runtimeLabel } from '../runtime-identity.js';
import { formatDeltaPct, formatP, formatTime, formatValue } from './format.js';

/** Options of {@link renderCompareTerminal}. */
export interface CompareTerminalOptions {
  /** ANSI colours. Default false. */
  readonly color?: boolean;
}

const headers = ['op', 'stat', 'base', 'candidate', 'delta', 'CI', 'p', 'n', 'verdict'];

/** Renders `comparison` for a terminal. */
export function renderCompareTerminal(
  comparison: Comparison,
  options: CompareTerminalOptions = {},
): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [];
  lines.push(
    c.bold(`${compareTitle(comparison)} · scenario ${comparison.scenario}`) +
      ` · ${methodLine(comparison)}`,
  );
  const runtimes = acrossRuntimesLine(comparison);
  if (runtimes !== undefined) lines.push(c.bold(runtimes));
  for (const [label, runs] of [
    ['base', comparison.base],
    ['candidate', comparison.candidate],
  ] as const) {
    for (const run of runs) {
      const line = c.dim(
        `${label.padEnd(9)}  ${run.source}  run ${run.runId}  ${formatTime(run.start)}  ${run.runtime}${run.checkpoint ? '  (checkpoint, partial)' : run.partial ? '  (partial)' : ''}`,
      );
      // A marked run is said where the run is named, not only among the warnings at the end.
      lines.push(
        run.marks.length === 0
          ? line
          : `${line}  ${c.bold(c.red(`MARKED ${run.marks.join(', ')}`))}`,
      );
    }
  }
  lines.push('');

  const cells = comparison.rows.map((row, i) => rowCells(row, comparison.rows[i - 1]));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  // The last column is not padded, so lines end without trailing blanks, coloured or not.
  const pad = (cell: string, i: number): string =>
    i === 8 ? cell : i <= 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
  lines.push(c.dim(headers.map(pad).join('  ').trimEnd()));
  comparison.rows.forEach((row, k) => {
    const paint =
      row.verdict === 'regression'
        ? (s: string) => c.bold(c.red(s))
        : row.verdict === 'improvement'
          ? (s: string) => c.green(s)
          : (s: string) => s;
    const text = cells[k]!.map((cell, i) => {
      const padded = pad(cell, i);
      if (i === 8) return row.verdict === '~' ? c.dim(padded) : paint(padded);
      if (i === 4 && row.verdict !== '~') return paint(padded);
      return padded;
    });
    lines.push(text.join('  ').trimEnd());
  });
  lines.push('');
  lines.push(summaryLine(comparison, c));
  lines.push(c.dim(legend(comparison)));
  for (const note of comparison.notes) lines.push(`note: ${note}`);
  for (const warning of comparison.warnings) lines.push(c.yellow(`warning: ${warning}`));
  return `${lines.join('\n')}\n`;
}

function rowCells(row: ComparisonRow, previous: ComparisonRow | undefined): string[] {
  return [
    previous?.op === row.op ? '' : row.op,
    statisticInfo[row.statistic].label,
    formatValue(row.unit, row.base),
    formatValue(row.unit, row.candidate),
    formatDeltaPct(row.deltaPct, row.base, row.candidate),
    row.ci === null ? '' : formatCi(row.ci),
    formatP(row.p),
    formatN(row),
    row.verdict + (row.note === null ? '' : ` (${row.note})`),
  ];
}

/** `-2.1% … +8.4%`. */
export function formatCi(ci: { readonly lowPct: number; readonly highPct: number }): string {
  return `${formatDeltaPct(ci.lowPct, 1, 1)} … ${formatDeltaPct(ci.highPct, 1, 1)}`;
}

/** `10+10`, or `10+10 perm` when the permutation test over intervals decided. */
export function formatN(row: ComparisonRow): string {
  const n = `${row.n.base}+${row.n.candidate}`;
  return row.test === 'permutation' ? `${n} perm` : n;
}

/** `churn compare`, or `churn compare across runtimes` for a cross-runtime comparison. */
export function compareTitle(comparison: Comparison): string {
  return comparison.acrossRuntimes === null ? 'churn compare' : 'churn compare across runtimes';
}

/**
 * `cross-runtime comparison: base containerd (driver cri) vs candidate cri-o (driver cri)`;
 * undefined when both sides ran one runtime.
 */
export function acrossRuntimesLine(comparison: Comparison): string | undefined {
  const runtimes = comparison.acrossRuntimes;
  if (runtimes === null) return undefined;
  return `cross-runtime comparison: base ${runtimeLabel(runtimes.base)} vs candidate ${runtimeLabel(runtimes.candidate)}`;
}

/** How samples were formed, e.g. `1 vs 1 run, per 1s interval`. */
export function methodLine(comparison: Comparison): string {
  const runs = `${comparison.base.length} vs ${comparison.candidate.length} run${comparison.base.length + comparison.candidate.length > 2 ? 's' : ''}`;
  return comparison.mode === 'runs'
    ? `${runs}, one sample per run`
    : `${runs}, one sample per ${formatSeconds(comparison.binMs ?? 0)} interval`;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The counted verdicts, e.g. `1 regression (start p99) · 0 improvements · 56 tests …`. */
export function summaryLine(
  comparison: Comparison,
  c: ReturnType<typeof pc.createColors> = pc.createColors(false),
): string {
  const list = (verdict: string): string => {
    const rows = comparison.rows.filter((r) => r.verdict === verdict);
    return rows.length === 0
      ? ''
      : ` (${rows.map((r) => `${r.op} ${statisticInfo[r.statistic].label}`).join(', ')})`;
  };
  const reg = `${comparison.regressions} regression${comparison.regressions === 1 ? '' : 's'}${list('regression')}`;
  const imp = `${comparison.improvements} improvement${comparison.improvements === 1 ? '' : 's'}${list('improvement')}`;
  return `${comparison.regressions > 0 ? c.bold(c.red(reg)) : reg} · ${comparison.improvements > 0 ? c.green(imp) : imp} · ${comparison.tests} tests, α=${comparison.alpha}, min effect ${comparison.minEffectPct}%`;
}

/** One line saying how p, n and CI were computed. */
export function legend(comparison: Comparison): string {
  const unit = comparison.mode === 'runs' ? 'runs' : 'intervals';
  const ci = `CI: ${Math.round((1 - comparison.alpha) * 100)}% bootstrap interval of the change, resampling whole ${unit}.`;
  const rule =
    'A verdict needs p < α, |delta| ≥ min effect and, for percentiles, a CI that excludes 0.';
  const test =
    comparison.mode === 'runs'
      ? 'p: Mann-Whitney U over runs (n = runs per side)'
      : 'p: Mann-Whitney U over intervals (n = intervals per side), or for a percentile its intervals hold too few values for, a permutation test over the intervals ("perm")';
  return `${test}, Benjamini-Hochberg adjusted. ${ci} ${rule}`;
}
