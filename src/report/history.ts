/**
 * `churn history`: the runs in the store with their key figures, and the trend of the cycle's
 * p99 and throughput across them. Pure: reports in, rows and trends out (render/history.ts
 * draws them).
 */
import { hostContention, isBusy, runMarks, type HostContention } from './run-health.js';
import type { Report, ReportCheckpoint } from './schema.js';

/** One run in the history. */
export interface HistoryRow {
  readonly path: string;
  readonly scenario: string;
  readonly runId: string;
  readonly start: string;
  readonly exitReason: Report['run']['exitReason'];
  readonly partial: boolean;
  /**
   * Set when the file is a checkpoint (a run still running, or killed before its final
   * report): when, which, at what interval; null for a final report.
   */
  readonly checkpoint: ReportCheckpoint | null;
  readonly recordedMs: number;
  readonly cycles: number;
  /**
   * The run completed but no cycle succeeded: `churn run` exited 1 ("the runtime did not do
   * the work"), whatever its thresholds said.
   */
  readonly noCycleSucceeded: boolean;
  /** Failed ÷ attempted runtime operations (cycle excluded); null when nothing was attempted. */
  readonly errorRate: number | null;
  readonly cycleP99Ms: number | null;
  readonly cyclesPerSec: number | null;
  readonly thresholdsFailed: number;
  readonly runtime: string;
  readonly tags: readonly string[];
  /** The run's marks (`harness-bound`, `overloaded`); [] for none or an older report. */
  readonly marks: readonly string[];
  /** Host contention over the run; null when the report did not record it. */
  readonly contention: HostContention | null;
  /** The host was busy during the run (see run-health.ts for the thresholds). */
  readonly busy: boolean;
}

/** How a figure moved from the previous run: up, down, or within ±`flatPct`. */
export type TrendArrow = '↑' | '↓' | '→' | ' ';

/** One scenario's runs, oldest first, and their trends. */
export interface ScenarioHistory {
  readonly scenario: string;
  readonly rows: readonly HistoryRow[];
  /** Per row: change of cycle p99 from the row before (worse is up). */
  readonly p99Arrows: readonly TrendArrow[];
  readonly throughputArrows: readonly TrendArrow[];
  /** The series the sparklines draw (null for runs without the figure). */
  readonly p99Series: readonly (number | null)[];
  readonly throughputSeries: readonly (number | null)[];
}

/** The history row of `report`, stored at `path`, with its tags. */
export function historyRow(path: string, report: Report, tags: readonly string[]): HistoryRow {
  const cycle = report.operations.cycle;
  let errors = 0;
  let attempts = 0;
  for (const [op, o] of Object.entries(report.operations)) {
    if (op === 'cycle') continue;
    errors += o.errors;
    attempts += o.count + o.errors;
  }
  const runtime = [report.environment.runtime.name, report.environment.runtime.version]
    .filter((x): x is string => x !== null && x !== '')
    .join(' ');
  const contention = hostContention(report);
  return {
    path,
    scenario: report.run.scenario,
    runId: report.run.id,
    start: report.run.start,
    exitReason: report.run.exitReason,
    partial: report.run.partial,
    checkpoint: report.run.checkpoint,
    recordedMs: report.run.recordedMs,
    cycles: cycle?.count ?? report.cycles.succeeded,
    noCycleSucceeded: report.cycles.succeeded === 0,
    errorRate: attempts === 0 ? null : errors / attempts,
    cycleP99Ms: cycle?.latencyMs?.p99 ?? null,
    cyclesPerSec: cycle === undefined ? null : cycle.throughputPerSec,
    thresholdsFailed: report.thresholds.filter((t) => !t.ok).length,
    runtime: runtime === '' ? 'unknown' : runtime,
    tags,
    marks: runMarks(report),
    contention,
    busy: contention !== null && isBusy(contention, report.environment.cpuCount),
  };
}

/** Groups rows by scenario (scenarios by name, runs oldest first) and computes the trends. */
export function scenarioHistories(rows: readonly HistoryRow[], flatPct = 5): ScenarioHistory[] {
  const byScenario = new Map<string, HistoryRow[]>();
  for (const row of rows)
    byScenario.set(row.scenario, [...(byScenario.get(row.scenario) ?? []), row]);
  return [...byScenario.keys()].sort().map((scenario) => {
    const list = [...byScenario.get(scenario)!].sort((a, b) => a.start.localeCompare(b.start));
    const p99Series = list.map((r) => r.cycleP99Ms);
    const throughputSeries = list.map((r) => r.cyclesPerSec);
    return {
      scenario,
      rows: list,
      p99Series,
      throughputSeries,
      p99Arrows: arrows(p99Series, flatPct),
      throughputArrows: arrows(throughputSeries, flatPct),
    };
  });
}

/** Each value against the one before it: ↑ more than flatPct higher, ↓ lower, → within. */
export function arrows(series: readonly (number | null)[], flatPct: number): TrendArrow[] {
  return series.map((value, i) => {
    const prev = i === 0 ? null : series[i - 1]!;
    if (value === null || prev === null || prev === 0) return ' ';
    const changePct = ((value - prev) / prev) * 100;
    return changePct > flatPct ? '↑' : changePct < -flatPct ? '↓' : '→';
  });
}

const sparkChars = '▁▂▃▄▅▆▇█';

/** A sparkline of `series` (min to max over ▁…█; a gap for null). */
export function sparkline(series: readonly (number | null)[]): string {
  const values = series.filter((v): v is number => v !== null);
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  return series
    .map((v) => {
      if (v === null) return ' ';
      if (max === min) return sparkChars[3]!;
      return sparkChars[Math.round(((v - min) / (max - min)) * (sparkChars.length - 1))]!;
    })
    .join('');
}
