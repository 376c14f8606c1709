/** Number formatting shared by the renderers: latencies, rates, durations, threshold values. */
import type { ReportThreshold } from '../schema.js';

/** A latency in ms with 3 significant digits and a fitting unit: 850µs, 1.23ms, 123ms, 1.23s. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1) return `${significant(ms * 1000)}µs`;
  if (ms < 1000) return `${significant(ms)}ms`;
  return `${significant(ms / 1000)}s`;
}

/** A rate per second: 1 decimal below 100, whole numbers above. */
export function formatRate(perSec: number): string {
  return perSec < 100 ? perSec.toFixed(1) : Math.round(perSec).toString();
}

/** A duration for people: 850ms, 12.3s, 5m 07s, 2h 03m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSec = Math.round(ms / 1000);
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  const s = totalSec % 60;
  return h > 0 ? `${h}h ${pad2(m)}m` : `${m}m ${pad2(s)}s`;
}

/** A percentage of a fraction: 0.0123 → 1.23%. */
export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  if (pct === 0) return '0%';
  return `${pct < 0.01 ? pct.toExponential(1) : significant(pct)}%`;
}

/** A threshold's measured value in its metric's unit; `-` when nothing was measured. */
export function formatThresholdActual(t: Pick<ReportThreshold, 'metric' | 'actual'>): string {
  if (t.actual === null) return 'no data';
  switch (t.metric) {
    case 'error_rate':
    case 'dropped_ratio':
      return formatPercent(t.actual);
    case 'throughput':
      return `${formatRate(t.actual)}/s`;
    case 'dropped':
    case 'leaked_pods':
    case 'leaked_containers':
    case 'leaked_processes':
    case 'leaked_mounts':
      return String(t.actual);
    case 'target_rss_slope':
    case 'target_fds_slope':
    case 'target_threads_slope':
      return formatSlope(t.actual);
    default:
      return formatMs(t.actual);
  }
}

/** A growth per hour: +1.23%/h, -0.50%/h, 0%/h. */
export function formatSlope(pctPerHour: number): string {
  if (pctPerHour === 0) return '0%/h';
  const sign = pctPerHour > 0 ? '+' : '-';
  const abs = Math.abs(pctPerHour);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return `${sign}${abs.toFixed(digits)}%/h`;
}

function significant(value: number): string {
  if (value >= 100) return Math.round(value).toString();
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}

/** A compared value in its unit: ms → 1.23ms, per_sec → 12.3/s, ratio → 1.23%; `-` for none. */
export function formatValue(unit: 'ms' | 'per_sec' | 'ratio', value: number | null): string {
  if (value === null) return '-';
  switch (unit) {
    case 'ms':
      return formatMs(value);
    case 'per_sec':
      return `${formatRate(value)}/s`;
    case 'ratio':
      return formatPercent(value);
  }
}

/** A relative change: +12.3%, -4.50%, 0.0%; `new` for a change from zero; `-` for none. */
export function formatDeltaPct(
  deltaPct: number | null,
  base: number | null,
  candidate: number | null,
): string {
  if (deltaPct === null) {
    return base === 0 && candidate !== null && candidate > 0 ? 'new' : '-';
  }
  if (deltaPct === 0) return '0.0%';
  const abs = Math.abs(deltaPct);
  const text = abs >= 100 ? abs.toFixed(0) : abs >= 10 ? abs.toFixed(1) : abs.toFixed(2);
  return `${deltaPct > 0 ? '+' : '-'}${text}%`;
}

/** A p-value: 0.123, 0.003, <0.001; `-` when untested. */
export function formatP(p: number | null): string {
  if (p === null) return '-';
  if (p < 0.001) return '<0.001';
  return p.toFixed(3);
}

/** An ISO time as `2025-03-01 10:00:00Z` (seconds, UTC). */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
