/**
 * churn's own health in a report: per timeline interval (`timeline.intervals[].harness`) and
 * over the run (`harness`), from the resource sampler's series and its run-wide figures. Pure.
 *
 * The resource samples (every second) and the timeline's intervals have their own origins on
 * the same clock; a point covers (atMs − spanMs, atMs] of the sampler's time. An interval
 * takes every point that overlaps it, each weighted by the share of the point inside the
 * interval: lag p99 and max at their peak, churn's CPU as the overlapping share of each
 * point's CPU, utilization and contention as overlap-weighted means. A point of no span (the
 * first sample) says nothing about a span and is left out.
 */
import type { HarnessRunFigures } from '../metrics/process-metrics.js';
import type { ResourcePoint, ResourceSeriesData } from '../metrics/resource-series.js';
import type { ReportHarness, ReportIntervalHarness } from './schema.js';

/** A span of the timeline, ms after its origin. */
export interface IntervalSpan {
  readonly startMs: number;
  readonly durationMs: number;
}

interface Weighted {
  sum: number;
  weight: number;
}

function addWeighted(w: Weighted, value: number | null, weight: number): void {
  if (value === null || weight <= 0) return;
  w.sum += value * weight;
  w.weight += weight;
}

function meanOf(w: Weighted): number | null {
  return w.weight > 0 ? w.sum / w.weight : null;
}

/**
 * The harness figures of each interval (same order); null for an interval no sample overlaps.
 * `timelineOriginMs` and `series.originMs` are times of the same clock.
 */
export function harnessByInterval(
  series: ResourceSeriesData,
  timelineOriginMs: number,
  intervals: readonly IntervalSpan[],
): (ReportIntervalHarness | null)[] {
  const shift = series.originMs - timelineOriginMs;
  const spans = series.points.map((p, i) => {
    const endMs = p.atMs + shift;
    const previous = i > 0 ? series.points[i - 1]! : undefined;
    return {
      point: p,
      startMs: endMs - p.spanMs,
      endMs,
      cpuSeconds:
        previous === undefined ? 0 : Math.max(0, p.harnessCpuSeconds - previous.harnessCpuSeconds),
    };
  });
  // Spans follow one another in time, and so do the intervals (oldest first): each interval
  // starts its scan at the first span that does not end before it and stops at the first that
  // starts after it, so the whole is linear, not intervals × points (512 × 512 in a soak's
  // report, built again at every checkpoint).
  let first = 0;
  let previousStartMs = -Infinity;
  return intervals.map((interval) => {
    const s = interval.startMs;
    const e = interval.startMs + interval.durationMs;
    if (s < previousStartMs) first = 0;
    previousStartMs = s;
    while (first < spans.length && spans[first]!.endMs <= s) first++;
    let any = false;
    let lagP99 = 0;
    let lagMax = 0;
    let cpu = 0;
    const utilization: Weighted = { sum: 0, weight: 0 };
    const load1: Weighted = { sum: 0, weight: 0 };
    const steal: Weighted = { sum: 0, weight: 0 };
    const other: Weighted = { sum: 0, weight: 0 };
    for (let k = first; k < spans.length; k++) {
      const span = spans[k]!;
      if (span.startMs >= e) break;
      const p: ResourcePoint = span.point;
      if (p.spanMs <= 0) continue;
      const overlapMs = Math.min(e, span.endMs) - Math.max(s, span.startMs);
      if (overlapMs <= 0) continue;
      any = true;
      const share = overlapMs / p.spanMs;
      lagP99 = Math.max(lagP99, p.eventLoopLagSpanP99Ms);
      lagMax = Math.max(lagMax, p.eventLoopLagMaxMs);
      cpu += span.cpuSeconds * share;
      addWeighted(utilization, p.eventLoopUtilization, overlapMs);
      addWeighted(load1, p.load1, overlapMs);
      addWeighted(steal, p.stealPct, overlapMs);
      addWeighted(other, p.otherCpuPct, overlapMs);
    }
    if (!any) return null;
    return {
      loopLagP99Ms: lagP99,
      loopLagMaxMs: lagMax,
      utilization: meanOf(utilization),
      cpuSeconds: cpu,
      load1: meanOf(load1),
      stealPct: meanOf(steal),
      otherCpuPct: meanOf(other),
    };
  });
}

/** Inputs of {@link harnessOfRun}. */
export interface HarnessOfRunInput {
  /** The sampler's run-wide figures. */
  readonly run: HarnessRunFigures;
  /** The scenario's bound on the lag p99 (integrity.maxHarnessLagP99), ms. */
  readonly lagBoundMs: number;
  readonly points: readonly ResourcePoint[];
  /** The timeline's intervals with their harness figures. */
  readonly intervals: readonly (IntervalSpan & {
    readonly harness: ReportIntervalHarness | null;
  })[];
}

/** The report's `harness`: run-wide figures, mean contention, and the intervals that stalled. */
export function harnessOfRun(input: HarnessOfRunInput): ReportHarness {
  const load1: Weighted = { sum: 0, weight: 0 };
  const steal: Weighted = { sum: 0, weight: 0 };
  const other: Weighted = { sum: 0, weight: 0 };
  for (const p of input.points) {
    addWeighted(load1, p.load1, p.spanMs);
    addWeighted(steal, p.stealPct, p.spanMs);
    addWeighted(other, p.otherCpuPct, p.spanMs);
  }
  return {
    lagBoundMs: input.lagBoundMs,
    lagP99Ms: input.run.lagP99Ms,
    lagMaxMs: input.run.lagMaxMs,
    utilization: input.run.utilization,
    cpuSeconds: input.run.cpuSeconds,
    cpuWaitPct: input.run.cpuWaitShare === undefined ? null : input.run.cpuWaitShare * 100,
    contention: {
      load1Mean: meanOf(load1),
      stealPct: meanOf(steal),
      otherCpuPct: meanOf(other),
    },
    stalls: input.intervals.flatMap((i) =>
      i.harness?.loopLagMaxMs !== undefined &&
      i.harness.loopLagMaxMs !== null &&
      i.harness.loopLagMaxMs > input.lagBoundMs
        ? [{ atMs: i.startMs, spanMs: i.durationMs, lagMaxMs: i.harness.loopLagMaxMs }]
        : [],
    ),
  };
}
