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
      return formatPercent(t.actual);
    case 'throughput':
      return `${formatRate(t.actual)}/s`;
    case 'dropped':
      return String(t.actual);
    default:
      return formatMs(t.actual);
  }
}

function significant(value: number): string {
  if (value >= 100) return Math.round(value).toString();
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}
