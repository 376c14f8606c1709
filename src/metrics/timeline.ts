/**
 * The recorder's timeline: fixed-width intervals, each with per-operation counts, errors and
 * the interval's own HDR histogram (encoded), so percentiles over any span can be recomputed
 * later and a sliding window can be evaluated during the run.
 *
 * Memory stays bounded however long the run: when `maxIntervals` closed intervals exist, they
 * are merged pairwise and the width doubles (1 s, 2 s, 4 s, … for `report.interval: 1s`), so a
 * run keeps between maxIntervals/2 and maxIntervals intervals. Merging is exact: counts add and
 * histograms add.
 *
 * A coarsening does not merge its maxIntervals/2 pairs at once: the width doubles at once, and
 * each later close merges the next {@link pairsPerClose} pairs, oldest first, so the pairs are
 * merged long before the next coarsening. (At once, thousands of series merged in one burst
 * stalled the event loop and left garbage that glibc kept as RSS; see docs/performance.md.)
 * Whatever reads the intervals as data ({@link Timeline.intervals}) first merges what is left,
 * so every snapshot is what merging at once would give.
 *
 * Closed intervals hold encoded histograms (a few hundred bytes to a few KB each), not live
 * ones; only the open interval of each series holds a live (WebAssembly) histogram. Each keeps
 * its uncompressed V2 encoding, which merges add in plain JavaScript (hdr-v2.ts: no WebAssembly,
 * no zlib), and its compressed form for reports, made when the interval closes or is merged.
 */
import type { OpName } from '../common/operations.js';
import { assert } from '../common/assert.js';
import { addV2, valuesAtPercentilesV2 } from './hdr-v2.js';
import {
  addInto,
  compressV2,
  createHistogram,
  decodeV2,
  encodeHistogram,
  releaseHistogram,
  summarize,
  type LatencyHistogram,
  type LatencySummaryUs,
} from './hdr.js';

/** Latency of one interval, in microseconds. */
export interface IntervalLatencyUs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** One series (an operation, or the scheduler lag) in one interval. */
export interface IntervalSeries {
  /** Successful operations (the histogram's count). */
  readonly count: number;
  /** Failed operations (never in the histogram). */
  readonly errors: number;
  /** Undefined when count is 0. */
  readonly latencyUs: IntervalLatencyUs | undefined;
  /** The interval's histogram, compressed base64; undefined when count is 0. */
  readonly histogram: string | undefined;
}

/**
 * A series of a closed interval: {@link IntervalSeries} whose histogram is also kept
 * uncompressed, and compressed on first use when it was not yet.
 */
export class ClosedSeries implements IntervalSeries {
  readonly count: number;
  readonly errors: number;
  readonly latencyUs: IntervalLatencyUs | undefined;
  /** The histogram's uncompressed HdrHistogram V2 encoding; undefined when count is 0. */
  readonly v2: Uint8Array | undefined;
  #histogram: string | undefined;

  /** `histogram`, when given, is `v2` compressed. */
  constructor(
    counts: { readonly count: number; readonly errors: number },
    latencyUs: IntervalLatencyUs | undefined,
    v2: Uint8Array | undefined,
    histogram?: string,
  ) {
    this.count = counts.count;
    this.errors = counts.errors;
    this.latencyUs = latencyUs;
    this.v2 = v2;
    this.#histogram = histogram;
  }

  get histogram(): string | undefined {
    this.compress();
    return this.#histogram;
  }

  /** Makes the compressed histogram now, unless it is made or there is none. */
  compress(): void {
    if (this.#histogram === undefined && this.v2 !== undefined) {
      this.#histogram = compressV2(this.v2);
    }
  }

  /** A series with this one's histogram and `counts` (its sum with one without successes). */
  withCounts(counts: { readonly count: number; readonly errors: number }): ClosedSeries {
    return new ClosedSeries(counts, this.latencyUs, this.v2, this.#histogram);
  }

  /** The series as plain data; with `encode` false, without its histogram. */
  toSeries(encode: boolean): IntervalSeries {
    return {
      count: this.count,
      errors: this.errors,
      latencyUs: this.latencyUs,
      histogram: encode ? this.histogram : undefined,
    };
  }
}

/** One interval of the timeline, its series of type `S`. */
export interface IntervalOf<S extends IntervalSeries> {
  /** Start, in milliseconds after the timeline's origin. */
  readonly startMs: number;
  /** Width; the last interval of a snapshot may be shorter (it was still open). */
  readonly durationMs: number;
  /** Open-loop arrivals dropped in the interval. */
  readonly dropped: number;
  /** Operations with any success or error in the interval, in first-seen order. */
  readonly ops: Partial<Record<OpName, S>>;
  /** Open-loop scheduler lag, when any arrival was released in the interval. */
  readonly lag: S | undefined;
}

/** One interval of the timeline as plain data (a snapshot's). */
export type TimelineInterval = IntervalOf<IntervalSeries>;

/** A closed interval, as the timeline keeps it. */
export type ClosedInterval = IntervalOf<ClosedSeries>;

/** Options of a {@link Timeline}. */
export interface TimelineOptions {
  /** Width of the first intervals, ms. */
  readonly intervalMs: number;
  /** Closed intervals kept before they are merged pairwise; even, ≥ 2. */
  readonly maxIntervals: number;
  /** Origin (monotonic ms) of the first interval. */
  readonly originMs: number;
}

/** The open interval's state of one series. Written by the recorder's hot path. */
export class TimelineSeries {
  /** Successes in the open interval. */
  count = 0;
  /** Failures in the open interval. */
  errors = 0;
  /** Histogram of the open interval. */
  readonly hot: LatencyHistogram = createHistogram();

  /** The open interval's stats; `encode` false skips the histogram (cheap, for live use). */
  stats(encode: boolean): IntervalSeries | undefined {
    if (this.count === 0 && this.errors === 0) return undefined;
    return {
      count: this.count,
      errors: this.errors,
      latencyUs: this.count === 0 ? undefined : intervalLatency(this.hot),
      histogram: encode && this.count > 0 ? encodeHistogram(this.hot) : undefined,
    };
  }

  /** The open interval's series as a closed one, or undefined when empty. */
  close(): ClosedSeries | undefined {
    if (this.count === 0 && this.errors === 0) return undefined;
    if (this.count === 0) return new ClosedSeries(this, undefined, undefined);
    return new ClosedSeries(this, intervalLatency(this.hot), this.hot.encode());
  }

  /** Empties the open interval. */
  reset(): void {
    if (this.count > 0) this.hot.reset();
    this.count = 0;
    this.errors = 0;
  }

  release(): void {
    releaseHistogram(this.hot);
  }
}

/** A span of the timeline, for sliding-window evaluation (abortOnFail). */
export interface TimelineSpan {
  /** Start of the first interval in the span, ms after the origin. */
  readonly startMs: number;
  /** From the span's start to the time it was taken, ms. */
  readonly durationMs: number;
  /** Closed intervals in the span. */
  readonly closed: readonly ClosedInterval[];
}

/**
 * Pairs a coarsening merges per later close. With 2, the maxIntervals/2 pairs are merged after
 * maxIntervals/4 closes, when maxIntervals/4 closes remain before the next coarsening.
 */
const pairsPerClose = 2;

/** Intervals of fixed, doubling width; see the module comment. */
export class Timeline {
  readonly baseIntervalMs: number;
  readonly maxIntervals: number;
  /** Current width of an interval, ms. */
  widthMs: number;
  /** Monotonic ms at which the timeline starts. */
  originMs: number;
  /** Monotonic ms at which the open interval started. */
  openStartMs: number;
  /**
   * Monotonic ms at which the open interval ends. The recorder's hot path compares against it
   * and calls {@link roll} when it is reached; only this class writes it.
   */
  openEndMs: number;
  /** Arrivals dropped in the open interval. */
  dropped = 0;
  /** The scheduler lag of the open interval. */
  readonly lag = new TimelineSeries();
  readonly #series = new Map<OpName, TimelineSeries>();
  readonly #closed: ClosedInterval[] = [];
  /** Closed intervals before #pending: merged by the coarsening under way. */
  #merged = 0;
  /** Pairs of closed intervals (from #merged on) the coarsening under way is still to merge. */
  #pending = 0;

  constructor(options: TimelineOptions) {
    assert(options.intervalMs > 0, 'timeline interval must be positive');
    assert(
      options.maxIntervals >= 2 && options.maxIntervals % 2 === 0,
      'timeline maxIntervals must be even and at least 2',
    );
    this.baseIntervalMs = options.intervalMs;
    this.widthMs = options.intervalMs;
    this.maxIntervals = options.maxIntervals;
    this.originMs = options.originMs;
    this.openStartMs = options.originMs;
    this.openEndMs = options.originMs + options.intervalMs;
  }

  /** The series of `op`, created on first use. */
  series(op: OpName): TimelineSeries {
    let series = this.#series.get(op);
    if (series === undefined) {
      series = new TimelineSeries();
      this.#series.set(op, series);
    }
    return series;
  }

  /**
   * Closed intervals, oldest first. While a coarsening is under way, the oldest are merged and
   * the next ones not yet (see the module comment); {@link intervals} finishes it first.
   */
  get closed(): readonly ClosedInterval[] {
    return this.#closed;
  }

  /**
   * Every interval as plain data: the closed ones, then the open one ending at `nowMs` when it
   * holds anything; with `encode`, each series carries its compressed histogram.
   */
  intervals(nowMs: number, encode: boolean): TimelineInterval[] {
    this.#mergePending(Infinity);
    const out: TimelineInterval[] = this.#closed.map((interval) => {
      const ops: Partial<Record<OpName, IntervalSeries>> = {};
      for (const [op, series] of Object.entries(interval.ops) as [OpName, ClosedSeries][]) {
        ops[op] = series.toSeries(encode);
      }
      return { ...interval, ops, lag: interval.lag?.toSeries(encode) };
    });
    const open = this.openInterval(nowMs, encode);
    if (open !== undefined) out.push(open);
    return out;
  }

  /**
   * Moves the origin to `nowMs` while every closed interval is empty (they are dropped; what
   * the open interval holds stays in the first one). Returns false, changing nothing, once an
   * interval with data has closed.
   */
  rebase(nowMs: number): boolean {
    if (this.#closed.some((i) => !isEmpty(i))) return false;
    this.#closed.length = 0;
    this.#merged = 0;
    this.#pending = 0;
    this.widthMs = this.baseIntervalMs;
    this.originMs = nowMs;
    this.openStartMs = nowMs;
    this.openEndMs = nowMs + this.widthMs;
    return true;
  }

  /** Closes every interval that ended at or before `nowMs`. */
  roll(nowMs: number): void {
    while (nowMs >= this.openEndMs) {
      const closed = this.#closeOpen(this.widthMs);
      compressAll(closed);
      this.#closed.push(closed);
      this.#mergePending(pairsPerClose);
      this.openStartMs = this.openEndMs;
      if (this.#closed.length >= this.maxIntervals) this.#coarsen();
      this.openEndMs = this.openStartMs + this.widthMs;
    }
  }

  /** The open interval as an interval record ending at `nowMs`, or undefined when empty. */
  openInterval(nowMs: number, encode: boolean): TimelineInterval | undefined {
    const ops: Partial<Record<OpName, IntervalSeries>> = {};
    let any = this.dropped > 0;
    for (const [op, series] of this.#series) {
      const stats = series.stats(encode);
      if (stats !== undefined) {
        ops[op] = stats;
        any = true;
      }
    }
    const lag = this.lag.stats(encode);
    if (!any && lag === undefined) return undefined;
    return {
      startMs: this.openStartMs - this.originMs,
      durationMs: Math.max(0, Math.min(nowMs, this.openEndMs) - this.openStartMs),
      dropped: this.dropped,
      ops,
      lag,
    };
  }

  /** Closed intervals ending after `fromMs` (monotonic), for a sliding window ending now. */
  span(fromMs: number, nowMs: number): TimelineSpan {
    const fromOffset = fromMs - this.originMs;
    let first = this.#closed.length;
    while (first > 0) {
      const prev = this.#closed[first - 1]!;
      if (prev.startMs + prev.durationMs <= fromOffset) break;
      first--;
    }
    const closed = this.#closed.slice(first);
    const startMs = closed[0]?.startMs ?? this.openStartMs - this.originMs;
    return { startMs, durationMs: Math.max(0, nowMs - this.originMs - startMs), closed };
  }

  /** Series of the open interval, in first-seen order. */
  openSeries(): IterableIterator<[OpName, TimelineSeries]> {
    return this.#series.entries();
  }

  /** Frees every live histogram. */
  release(): void {
    for (const series of this.#series.values()) series.release();
    this.lag.release();
  }

  #closeOpen(durationMs: number): ClosedInterval {
    const ops: Partial<Record<OpName, ClosedSeries>> = {};
    for (const [op, series] of this.#series) {
      const closed = series.close();
      if (closed !== undefined) ops[op] = closed;
      series.reset();
    }
    const lag = this.lag.close();
    this.lag.reset();
    const interval: ClosedInterval = {
      startMs: this.openStartMs - this.originMs,
      durationMs,
      dropped: this.dropped,
      ops,
      lag,
    };
    this.dropped = 0;
    return interval;
  }

  /** Starts a coarsening: the width doubles now, the pairs merge over the next closes. */
  #coarsen(): void {
    this.#mergePending(Infinity);
    assert(this.#closed.length % 2 === 0, 'timeline coarsens an even number of intervals');
    this.#merged = 0;
    this.#pending = this.#closed.length / 2;
    this.widthMs *= 2;
  }

  /** Merges up to `pairs` pairs of the coarsening under way, oldest first. */
  #mergePending(pairs: number): void {
    for (let n = 0; n < pairs && this.#pending > 0; n++) {
      const at = this.#merged;
      const merged = mergeIntervals(this.#closed[at]!, this.#closed[at + 1]!);
      compressAll(merged);
      this.#closed.splice(at, 2, merged);
      this.#merged++;
      this.#pending--;
    }
  }
}

/** Makes the compressed histogram of every series of `interval` now. */
function compressAll(interval: ClosedInterval): void {
  for (const series of Object.values(interval.ops)) series.compress();
  interval.lag?.compress();
}

function isEmpty(interval: ClosedInterval): boolean {
  return (
    interval.dropped === 0 && interval.lag === undefined && Object.keys(interval.ops).length === 0
  );
}

/** Merges two adjacent intervals exactly (counts add, histograms add). */
function mergeIntervals(a: ClosedInterval, b: ClosedInterval): ClosedInterval {
  const ops: Partial<Record<OpName, ClosedSeries>> = {};
  const names = new Set<OpName>([
    ...(Object.keys(a.ops) as OpName[]),
    ...(Object.keys(b.ops) as OpName[]),
  ]);
  for (const op of names) ops[op] = mergeSeries(a.ops[op], b.ops[op]);
  return {
    startMs: a.startMs,
    durationMs: a.durationMs + b.durationMs,
    dropped: a.dropped + b.dropped,
    ops,
    lag: a.lag === undefined || b.lag === undefined ? (a.lag ?? b.lag) : mergeSeries(a.lag, b.lag),
  };
}

function mergeSeries(a: ClosedSeries | undefined, b: ClosedSeries | undefined): ClosedSeries {
  if (a === undefined) return b!;
  if (b === undefined) return a;
  const counts = { count: a.count + b.count, errors: a.errors + b.errors };
  if (a.v2 === undefined || b.v2 === undefined) {
    // At most one holds successes: its histogram is the sum's.
    return (a.v2 === undefined ? b : a).withCounts(counts);
  }
  const sum = addV2(a.v2, b.v2);
  const [p50, p90, p99, max] = valuesAtPercentilesV2(sum, latencyPercentiles);
  return new ClosedSeries(counts, { p50: p50!, p90: p90!, p99: p99!, max: max! }, sum);
}

/** The percentiles of {@link IntervalLatencyUs}, ascending. */
const latencyPercentiles = [50, 90, 99, 100] as const;

/** p50, p90, p99 and max of a non-empty histogram. */
export function intervalLatency(histogram: LatencyHistogram): IntervalLatencyUs {
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    max: histogram.getValueAtPercentile(100),
  };
}

/**
 * Adds the histograms of `op` over `span`'s closed intervals and `open` (the open series, or
 * undefined) and summarizes them; undefined when there is no success.
 */
export function summarizeSpan(
  span: TimelineSpan,
  pick: (interval: ClosedInterval) => ClosedSeries | undefined,
  open: TimelineSeries | undefined,
): LatencySummaryUs | undefined {
  let closedSum: Uint8Array | undefined;
  for (const interval of span.closed) {
    const v2 = pick(interval)?.v2;
    if (v2 !== undefined) closedSum = closedSum === undefined ? v2 : addV2(closedSum, v2);
  }
  const sum = closedSum === undefined ? createHistogram() : decodeV2(closedSum);
  try {
    if (open !== undefined && open.count > 0) addInto(sum, open.hot);
    return summarize(sum);
  } finally {
    releaseHistogram(sum);
  }
}
