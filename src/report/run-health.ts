/**
 * What a report says about the conditions it was measured in, read defensively: the run's
 * marks (`report.run.marks`: `harness-bound` when churn's own event loop lagged beyond its
 * bound, `overloaded` when an open-loop run dropped more than its allowed share of arrivals)
 * and the host's contention over the run (`report.harness.contention`: load average, CPU
 * steal, CPU of processes that are neither churn nor the target). Reports written before these
 * fields existed have neither: no marks, contention unknown (null), and nothing is said.
 *
 * Thresholds (documented in docs/reports.md, "Host contention"):
 * - two runs' contention **differed** when their other-processes CPU differs by 20 percentage
 *   points or more, their load average per CPU by 0.5 or more, or their steal by 5 points or more;
 * - a run was **busy** when other processes used 25 % of the host's CPU or more, the load
 *   average per CPU was 1 or more, or steal was 5 % or more.
 */
import { ChurnError } from '../common/errors.js';
import type { Report } from './schema.js';

/** Host contention over a run (means); null fields are unknown. */
export interface HostContention {
  /** 1-minute load average. */
  readonly load1Mean: number | null;
  /** CPU steal, percent. */
  readonly stealPct: number | null;
  /** Host CPU used by processes neither churn nor the target, percent of all CPUs. */
  readonly otherCpuPct: number | null;
}

/** The run's marks (e.g. `harness-bound`, `overloaded`); [] when the report has none. */
export function runMarks(report: Report): readonly string[] {
  const marks = (report.run as { readonly marks?: unknown }).marks;
  return Array.isArray(marks) ? marks.filter((m): m is string => typeof m === 'string') : [];
}

/** The host contention the report recorded; null when it recorded none (older reports). */
export function hostContention(report: Report): HostContention | null {
  const harness = (report as { readonly harness?: unknown }).harness;
  if (harness === null || typeof harness !== 'object') return null;
  const contention = (harness as { readonly contention?: unknown }).contention;
  if (contention === null || typeof contention !== 'object') return null;
  const c = contention as Record<string, unknown>;
  const num = (v: unknown): number | null =>
    typeof v === 'number' && Number.isFinite(v) ? v : null;
  const out = {
    load1Mean: num(c['load1Mean']),
    stealPct: num(c['stealPct']),
    otherCpuPct: num(c['otherCpuPct']),
  };
  return out.load1Mean === null && out.stealPct === null && out.otherCpuPct === null ? null : out;
}

/** Other-processes CPU that differs by this many percentage points or more has differed. */
export const otherCpuDifferPct = 20;
/** Load average per CPU that differs by this much or more has differed. */
export const loadPerCpuDiffer = 0.5;
/** CPU steal that differs by this many percentage points or more has differed. */
export const stealDifferPct = 5;
/** A run with other-processes CPU at or above this percentage was busy. */
export const busyOtherCpuPct = 25;
/** A run with a load average per CPU at or above this was busy. */
export const busyLoadPerCpu = 1;
/** A run with CPU steal at or above this percentage was busy. */
export const busyStealPct = 5;

/** `contention` (on a host of `cpuCount` CPUs) is busy; see the module comment. */
export function isBusy(contention: HostContention, cpuCount: number): boolean {
  const { load1Mean, stealPct, otherCpuPct } = contention;
  return (
    (otherCpuPct !== null && otherCpuPct >= busyOtherCpuPct) ||
    (load1Mean !== null && load1Mean / Math.max(cpuCount, 1) >= busyLoadPerCpu) ||
    (stealPct !== null && stealPct >= busyStealPct)
  );
}

/** One side of a comparison: its runs' contention averaged, on hosts of `cpuCount` CPUs. */
export interface SideContention {
  readonly contention: HostContention;
  readonly cpuCount: number;
}

/**
 * The mean contention of `reports` (each field over the reports that know it), with their
 * smallest CPU count; null when none of them recorded contention.
 */
export function sideContention(reports: readonly Report[]): SideContention | null {
  const known = reports.flatMap((r) => {
    const c = hostContention(r);
    return c === null ? [] : [{ c, cpus: r.environment.cpuCount }];
  });
  if (known.length === 0) return null;
  const mean = (get: (c: HostContention) => number | null): number | null => {
    const values = known.map((k) => get(k.c)).filter((v): v is number => v !== null);
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  };
  return {
    contention: {
      load1Mean: mean((c) => c.load1Mean),
      stealPct: mean((c) => c.stealPct),
      otherCpuPct: mean((c) => c.otherCpuPct),
    },
    cpuCount: Math.min(...known.map((k) => k.cpus)),
  };
}

/** Whether the two sides' contention differed; see the module comment. */
export function contentionDiffered(base: SideContention, candidate: SideContention): boolean {
  const a = base.contention;
  const b = candidate.contention;
  // The epsilon keeps a gap of exactly the threshold (0.7 − 0.2 per CPU) from rounding below it.
  const gap = (x: number | null, y: number | null): number =>
    x === null || y === null ? 0 : Math.abs(x - y) + 1e-9;
  const perCpu = (v: number | null, cpus: number): number | null =>
    v === null ? null : v / Math.max(cpus, 1);
  return (
    gap(a.otherCpuPct, b.otherCpuPct) >= otherCpuDifferPct ||
    gap(perCpu(a.load1Mean, base.cpuCount), perCpu(b.load1Mean, candidate.cpuCount)) >=
      loadPerCpuDiffer ||
    gap(a.stealPct, b.stealPct) >= stealDifferPct
  );
}

/** `load 0.4, other CPU 2%` (and `steal 3%` when either side had steal); `-` for unknown. */
export function formatContention(c: HostContention, withSteal: boolean): string {
  const num = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));
  const parts = [
    `load ${num(c.load1Mean, 1)}`,
    `other CPU ${c.otherCpuPct === null ? '-' : `${Math.round(c.otherCpuPct)}%`}`,
  ];
  if (withSteal) parts.push(`steal ${c.stealPct === null ? '-' : `${Math.round(c.stealPct)}%`}`);
  return parts.join(', ');
}

/**
 * The warning `churn compare` gives when the host's contention differed between the sides,
 * e.g. `host contention differed: base load 0.4, other CPU 2%; candidate load 2.1, other CPU
 * 61% — differences may be the host's`; undefined when it did not, or either side is unknown.
 */
export function contentionWarning(
  base: readonly Report[],
  candidate: readonly Report[],
): string | undefined {
  const a = sideContention(base);
  const b = sideContention(candidate);
  if (a === null || b === null || !contentionDiffered(a, b)) return undefined;
  const steal = [a, b].some((s) => (s.contention.stealPct ?? 0) >= 0.5);
  return `host contention differed: base ${formatContention(a.contention, steal)}; candidate ${formatContention(b.contention, steal)} — differences may be the host's`;
}

/** Warnings for marked runs, e.g. `a.json is marked harness-bound: …`; [] when none is. */
export function markWarnings(
  reports: readonly { readonly report: Report; readonly source: string }[],
): string[] {
  return reports.flatMap(({ report, source }) => {
    const marks = runMarks(report);
    return marks.length === 0
      ? []
      : [`${source} is marked ${marks.join(', ')}: ${marksMeaning(marks)}`];
  });
}

/** What `marks` mean for the figures, in a few words. */
export function marksMeaning(marks: readonly string[]): string {
  const parts: string[] = [];
  if (marks.includes('harness-bound'))
    parts.push("churn's own event loop stalled, so latencies may be churn's, not the runtime's");
  if (marks.includes('overloaded'))
    parts.push('it dropped more arrivals than allowed, so it did not run its scenario');
  if (parts.length === 0) parts.push('its figures are suspect');
  return parts.join('; ');
}

/**
 * Throws NOT_COMPARABLE naming the runs marked harness-bound or overloaded among `reports`
 * (their figures may be churn's or the overload's, not the runtime's); `override` is the flag
 * that compares anyway, named in the message.
 */
export function assertUnmarked(
  reports: readonly { readonly report: Report; readonly source: string }[],
  override: string,
): void {
  const marked = reports.filter((r) => runMarks(r.report).length > 0);
  if (marked.length === 0) return;
  const list = marked.map((r) => `${r.source} (${runMarks(r.report).join(', ')})`).join(', ');
  throw new ChurnError(
    'NOT_COMPARABLE',
    `cannot compare marked runs: ${list}: ${marksMeaning([...new Set(marked.flatMap((r) => runMarks(r.report)))])}; rerun on a quieter host, or compare anyway with ${override}`,
  );
}
