/**
 * The resource samples of a run as a bounded time series, for the report.
 *
 * Bounded like the recorder's timeline: at most `maxPoints` points; when full, neighbours are
 * merged pairwise and from then on each point covers twice as many samples (1 s, 2 s, 4 s, …),
 * so an 8-hour run keeps a few hundred points. A merged point holds the counters (CPU seconds)
 * as at its end and the gauges (memory, descriptors, threads, shims, event-loop lag) at their
 * peak within it: a leak or a spike survives coarsening. Rates over the span (event-loop
 * utilization, load average, CPU steal, other processes' CPU) merge as means weighted by each
 * point's span. `targetUp` is false when the target
 * was unreadable at any sample of the point.
 */
import { assert } from '../common/assert.js';
import type { ResourceSample } from './resource-sample.js';

/** One point of the series. Fields are null when not known (no target, unreadable). */
export interface ResourcePoint {
  /** End of the span this point covers, ms after the series' origin. */
  readonly atMs: number;
  /** Length of that span, ms (0 for the first sample). */
  readonly spanMs: number;
  /** null: no target known yet. */
  readonly targetUp: boolean | null;
  readonly targetPid: number | null;
  readonly targetCpuSeconds: number | null;
  readonly targetRssBytes: number | null;
  readonly targetOpenFds: number | null;
  readonly targetThreads: number | null;
  readonly shims: number | null;
  readonly shimRssBytes: number | null;
  readonly harnessCpuSeconds: number;
  readonly harnessRssBytes: number;
  readonly harnessHeapUsedBytes: number;
  readonly harnessOpenFds: number | null;
  readonly eventLoopLagP99Ms: number;
  readonly eventLoopLagMaxMs: number;
  /** p99 of the stall-corrected delay over the point's span (peak when merged), ms. */
  readonly eventLoopLagSpanP99Ms: number;
  /** Share of the span churn's event loop was busy, 0..1. */
  readonly eventLoopUtilization: number | null;
  /** Host 1-minute load average. */
  readonly load1: number | null;
  /** Host CPU steal, % of the host's CPU. */
  readonly stealPct: number | null;
  /** CPU of processes neither churn nor the target, % of the host's CPU. */
  readonly otherCpuPct: number | null;
}

/** The series as the report keeps it. */
export interface ResourceSeriesData {
  /** Wall-clock time of the origin, ms since the epoch. */
  readonly originWallMs: number;
  /** Clock time of the origin (the sampler's clock), ms: aligns points with the timeline. */
  readonly originMs: number;
  /** Sampling period, ms (points may cover multiples of it after coarsening). */
  readonly intervalMs: number;
  /** What was sampled as the target; null when nothing was. */
  readonly target: { readonly name: string; readonly source: string } | null;
  readonly points: readonly ResourcePoint[];
}

/** Options of a {@link ResourceSeries}. */
export interface ResourceSeriesOptions {
  /** Clock time of the origin, ms (the sampler's clock). */
  readonly originMs: number;
  readonly originWallMs: number;
  readonly intervalMs: number;
  /** Points kept before merging pairwise; even, ≥ 2. Default 512. */
  readonly maxPoints?: number;
}

/** Collects samples into a bounded series; see the module comment. */
export class ResourceSeries {
  readonly #o: ResourceSeriesOptions;
  readonly #maxPoints: number;
  #points: ResourcePoint[] = [];
  /** Samples per point now. */
  #factor = 1;
  #pending: ResourcePoint | undefined;
  #pendingSamples = 0;
  #lastAtMs: number | undefined;
  #target: { name: string; source: string } | null = null;

  constructor(options: ResourceSeriesOptions) {
    const maxPoints = options.maxPoints ?? 512;
    assert(
      maxPoints >= 2 && maxPoints % 2 === 0,
      `maxPoints must be even and ≥ 2, got ${maxPoints}`,
    );
    this.#o = options;
    this.#maxPoints = maxPoints;
  }

  /** Names what the target samples are of (the latest name wins). */
  setTarget(name: string, source: string): void {
    this.#target = { name, source };
  }

  /** Adds a sample (taken at `sample.atMs`, not before the previous one). */
  add(sample: ResourceSample): void {
    const atMs = Math.max(0, sample.atMs - this.#o.originMs);
    const spanMs = this.#lastAtMs === undefined ? 0 : Math.max(0, atMs - this.#lastAtMs);
    this.#lastAtMs = atMs;
    const point = toPoint(sample, atMs, spanMs);
    this.#pending = this.#pending === undefined ? point : mergePoints(this.#pending, point);
    this.#pendingSamples++;
    if (this.#pendingSamples >= this.#factor) this.#flush();
  }

  /** The series so far, the partly filled last point included. */
  data(): ResourceSeriesData {
    const points = [...this.#points];
    if (this.#pending !== undefined) points.push(this.#pending);
    return {
      originWallMs: this.#o.originWallMs,
      originMs: this.#o.originMs,
      intervalMs: this.#o.intervalMs,
      target: this.#target,
      points,
    };
  }

  #flush(): void {
    this.#points.push(this.#pending!);
    this.#pending = undefined;
    this.#pendingSamples = 0;
    if (this.#points.length >= this.#maxPoints) {
      const merged: ResourcePoint[] = [];
      for (let i = 0; i + 1 < this.#points.length; i += 2) {
        merged.push(mergePoints(this.#points[i]!, this.#points[i + 1]!));
      }
      this.#points = merged;
      this.#factor *= 2;
    }
  }
}

function toPoint(sample: ResourceSample, atMs: number, spanMs: number): ResourcePoint {
  const t = sample.target;
  const h = sample.harness;
  return {
    atMs,
    spanMs,
    targetUp: t === undefined ? null : t.up,
    targetPid: t?.pid ?? null,
    targetCpuSeconds: t?.cpuSeconds ?? null,
    targetRssBytes: t?.rssBytes ?? null,
    targetOpenFds: t?.openFds ?? null,
    targetThreads: t?.threads ?? null,
    shims: t?.shims ?? null,
    shimRssBytes: t?.shimRssBytes ?? null,
    harnessCpuSeconds: h.cpuSeconds,
    harnessRssBytes: h.rssBytes,
    harnessHeapUsedBytes: h.heapUsedBytes,
    harnessOpenFds: h.openFds ?? null,
    eventLoopLagP99Ms: h.eventLoopLagP99Seconds * 1000,
    eventLoopLagMaxMs: h.eventLoopLagMaxSeconds * 1000,
    eventLoopLagSpanP99Ms: h.eventLoopLagSpanP99Seconds * 1000,
    eventLoopUtilization: h.eventLoopUtilization ?? null,
    load1: sample.contention?.load1 ?? null,
    stealPct: sample.contention?.stealPct ?? null,
    otherCpuPct: sample.contention?.otherCpuPct ?? null,
  };
}

/** Mean of two rates weighted by their spans; null only when both are. */
function spanMean(
  a: number | null,
  aSpanMs: number,
  b: number | null,
  bSpanMs: number,
): number | null {
  if (a === null) return b;
  if (b === null) return a;
  const total = aSpanMs + bSpanMs;
  return total > 0 ? (a * aSpanMs + b * bSpanMs) / total : (a + b) / 2;
}

/** The peak of two gauge readings; null only when both are. */
function peak(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** `a` then `b` as one point: counters as at the end, gauges at their peak. */
export function mergePoints(a: ResourcePoint, b: ResourcePoint): ResourcePoint {
  return {
    atMs: b.atMs,
    spanMs: a.spanMs + b.spanMs,
    targetUp:
      a.targetUp === null
        ? b.targetUp
        : b.targetUp === null
          ? a.targetUp
          : a.targetUp && b.targetUp,
    targetPid: b.targetPid ?? a.targetPid,
    targetCpuSeconds: b.targetCpuSeconds ?? a.targetCpuSeconds,
    targetRssBytes: peak(a.targetRssBytes, b.targetRssBytes),
    targetOpenFds: peak(a.targetOpenFds, b.targetOpenFds),
    targetThreads: peak(a.targetThreads, b.targetThreads),
    shims: peak(a.shims, b.shims),
    shimRssBytes: peak(a.shimRssBytes, b.shimRssBytes),
    harnessCpuSeconds: b.harnessCpuSeconds,
    harnessRssBytes: Math.max(a.harnessRssBytes, b.harnessRssBytes),
    harnessHeapUsedBytes: Math.max(a.harnessHeapUsedBytes, b.harnessHeapUsedBytes),
    harnessOpenFds: peak(a.harnessOpenFds, b.harnessOpenFds),
    eventLoopLagP99Ms: Math.max(a.eventLoopLagP99Ms, b.eventLoopLagP99Ms),
    eventLoopLagMaxMs: Math.max(a.eventLoopLagMaxMs, b.eventLoopLagMaxMs),
    eventLoopLagSpanP99Ms: Math.max(a.eventLoopLagSpanP99Ms, b.eventLoopLagSpanP99Ms),
    eventLoopUtilization: spanMean(
      a.eventLoopUtilization,
      a.spanMs,
      b.eventLoopUtilization,
      b.spanMs,
    ),
    load1: spanMean(a.load1, a.spanMs, b.load1, b.spanMs),
    stealPct: spanMean(a.stealPct, a.spanMs, b.stealPct, b.spanMs),
    otherCpuPct: spanMean(a.otherCpuPct, a.spanMs, b.otherCpuPct, b.spanMs),
  };
}
