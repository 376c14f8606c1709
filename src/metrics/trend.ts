/**
 * Growth of the runtime daemon's gauges (resident memory, open descriptors, threads) over a
 * run, from the resource series: the least-squares slope of each gauge after warm-up, as a
 * share of its baseline per hour (`%/h`). A daemon that leaks grows steadily; one that does not
 * stays flat once warm, so a soak is judged by `target_rss_slope < 5%/h` rather than by a
 * single reading at the end.
 *
 * The baseline is the fitted line's value at the first point after warm-up, not that point
 * itself, so one noisy sample does not set the scale. Points are the series' (a coarsened point
 * holds its span's peak, which keeps a leak's shape). Only points of the daemon's current
 * process count: after a restart the trend starts again from the new process.
 */
import type { ResourcePoint, ResourceSeriesData } from './resource-series.js';

/** A gauge's trend over a span. */
export interface GaugeTrend {
  /** The fitted line's value at the start of the span. */
  readonly baseline: number;
  /** The last reading. */
  readonly last: number;
  /** Slope of the fitted line, units per hour. */
  readonly slopePerHour: number;
  /** The slope as a share of the baseline, % per hour. */
  readonly slopePctPerHour: number;
}

/** One reading of a gauge at a time, ms. */
export interface GaugeReading {
  readonly atMs: number;
  readonly value: number;
}

/** Fewest readings a trend is drawn through. */
export const minTrendPoints = 3;
/**
 * Shortest span a trend is drawn over, ms: a slope per hour read off less than a minute is
 * mostly the daemon warming up and noise (a 12 s smoke run read +5,900%/h of RSS).
 */
export const minTrendSpanMs = 60_000;

const msPerHour = 3_600_000;

/**
 * The least-squares trend of `readings` (in time order); undefined with fewer than
 * {@link minTrendPoints} readings, a span under {@link minTrendSpanMs}, or a baseline that is
 * not above zero (no share of it to speak of).
 */
export function gaugeTrend(readings: readonly GaugeReading[]): GaugeTrend | undefined {
  const n = readings.length;
  if (n < minTrendPoints) return undefined;
  const t0 = readings[0]!.atMs;
  const spanMs = readings[n - 1]!.atMs - t0;
  if (!(spanMs >= minTrendSpanMs)) return undefined;
  let sumT = 0;
  let sumV = 0;
  for (const r of readings) {
    sumT += r.atMs - t0;
    sumV += r.value;
  }
  const meanT = sumT / n;
  const meanV = sumV / n;
  let cov = 0;
  let varT = 0;
  for (const r of readings) {
    const dt = r.atMs - t0 - meanT;
    cov += dt * (r.value - meanV);
    varT += dt * dt;
  }
  const slopePerMs = varT > 0 ? cov / varT : 0;
  const baseline = meanV - slopePerMs * meanT;
  if (!(baseline > 0)) return undefined;
  const slopePerHour = slopePerMs * msPerHour;
  return {
    baseline,
    last: readings[n - 1]!.value,
    slopePerHour,
    slopePctPerHour: (slopePerHour / baseline) * 100,
  };
}

/** The target's gauges' trends after warm-up; see the module comment. */
export interface TargetTrend {
  /** The target label (containerd, churn-core, …). */
  readonly name: string;
  readonly pid: number;
  /** First and last point the trend is drawn through, ms after the series' origin. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Points drawn through. */
  readonly points: number;
  /** Each gauge's trend; null when it cannot be drawn (too few points, too short, unread). */
  readonly rssBytes: GaugeTrend | null;
  readonly openFds: GaugeTrend | null;
  readonly threads: GaugeTrend | null;
}

/**
 * The target's trend in `series` from clock time `sinceMs` (the end of warm-up) on, through the
 * points of its latest process; undefined when no target was sampled there.
 */
export function targetTrend(
  series: ResourceSeriesData,
  sinceMs: number,
  untilMs = Infinity,
): TargetTrend | undefined {
  if (series.target === null) return undefined;
  const fromAtMs = sinceMs - series.originMs;
  const toAtMs = untilMs - series.originMs;
  const up = series.points.filter(
    (p) => p.targetUp === true && p.targetPid !== null && p.atMs >= fromAtMs && p.atMs <= toAtMs,
  );
  const pid = up[up.length - 1]?.targetPid;
  if (pid === undefined || pid === null) return undefined;
  const points = up.filter((p) => p.targetPid === pid);
  const readings = (gauge: (p: ResourcePoint) => number | null): GaugeReading[] => {
    const out: GaugeReading[] = [];
    for (const p of points) {
      const value = gauge(p);
      if (value !== null) out.push({ atMs: p.atMs, value });
    }
    return out;
  };
  return {
    name: series.target.name,
    pid,
    fromMs: points[0]!.atMs,
    toMs: points[points.length - 1]!.atMs,
    points: points.length,
    rssBytes: gaugeTrend(readings((p) => p.targetRssBytes)) ?? null,
    openFds: gaugeTrend(readings((p) => p.targetOpenFds)) ?? null,
    threads: gaugeTrend(readings((p) => p.targetThreads)) ?? null,
  };
}
