/**
 * The recorder: latency histograms and error counts per (workload, operation), the open-loop
 * scheduling figures, and a timeline of fixed intervals.
 *
 * Hot path. The load generator resolves an {@link OpSlot} per (workload, op) once, before the
 * run, and calls `success(latencyUs, nowMs)` or `failure(code, nowMs)` on it for every
 * operation: two WebAssembly histogram records, a few counter increments and a comparison,
 * no allocation (failures with a code seen before allocate nothing either). Failures never
 * enter a latency histogram.
 *
 * Overall figures (all workloads) are computed by adding the workloads' histograms when a
 * snapshot is taken, not recorded twice. The timeline records per operation over all
 * workloads.
 *
 * Observers (the Prometheus exporter) attach with {@link RecorderObserver}: each slot asks
 * every observer once for a per-slot sink, so an observer can pre-resolve its label set and
 * pay nothing per record but its own update.
 */
import type { Clock } from '../common/clock.js';
import { assert } from '../common/assert.js';
import type { OpName } from '../common/operations.js';
import {
  addInto,
  createHistogram,
  encodeHistogram,
  recordUs,
  releaseHistogram,
  summarize,
  toRecordableUs,
  type LatencyHistogram,
  type LatencySummaryUs,
} from './hdr.js';
import {
  summarizeSpan,
  Timeline,
  type ClosedInterval,
  type TimelineInterval,
  type TimelineSeries,
  type TimelineSpan,
} from './timeline.js';

/** Per-slot sink an observer returns; called on every record of that slot. */
export interface SlotObserver {
  /** A successful operation that took `latencyUs` microseconds. */
  success(latencyUs: number): void;
  /** A failed operation, with its error code. */
  failure(code: string): void;
}

/** Something that wants every record as it happens (e.g. the Prometheus exporter). */
export interface RecorderObserver {
  /** Called once per (workload, op) slot when it is created or when the observer attaches. */
  slot?(workload: string, op: OpName): SlotObserver | undefined;
  /** An open-loop arrival was dropped (maxInflight reached), in any phase, warm-up included. */
  dropped?(): void;
  /** A cycle of `workload` finished, successfully or not, in any phase, warm-up included. */
  cycleFinished?(workload: string, outcome: CycleOutcome): void;
  /** An open-loop arrival was released `lagUs` after its intended time. */
  lag?(lagUs: number): void;
  /** Cycles in flight changed to `count`. */
  inflight?(count: number): void;
}

/** How a cycle that ran to its end went: every step succeeded, or one failed. */
export type CycleOutcome = 'success' | 'error';

/** Options of a {@link Recorder}. */
export interface RecorderOptions {
  readonly clock: Clock;
  /** Width of the timeline's intervals, ms (scenario `report.interval`). Default 1000. */
  readonly intervalMs?: number;
  /**
   * Closed timeline intervals kept before neighbours are merged pairwise and the width
   * doubles; even, ≥ 2. Default 512.
   */
  readonly maxIntervals?: number;
  readonly observers?: readonly RecorderObserver[];
}

/** Where the load generator records one operation; see {@link OpSlot}. */
export interface OpSink {
  /** A success that took `latencyUs` µs and ended at `nowMs` (the recorder's clock). */
  success(latencyUs: number, nowMs: number): void;
  /** A failure with error `code`, at `nowMs`. */
  failure(code: string, nowMs: number): void;
}

/** Totals of one operation. */
export interface OpCounts {
  /** Successful operations. */
  readonly count: number;
  /** Failed operations. */
  readonly errors: number;
}

/** One operation in a snapshot. */
export interface OpSnapshot extends OpCounts {
  /** Failures by error code, codes sorted. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Latency of the successes, µs; undefined when there were none. */
  readonly latencyUs: LatencySummaryUs | undefined;
  /** Histogram of the successes, compressed base64; when asked for and count > 0. */
  readonly histogram: string | undefined;
}

/** A latency series (scheduler lag, service time) in a snapshot. */
export interface SeriesSnapshot {
  readonly latencyUs: LatencySummaryUs | undefined;
  readonly histogram: string | undefined;
}

/** Everything the recorder holds, as plain data. */
export interface RecorderSnapshot {
  /** Clock time the snapshot was taken at. */
  readonly takenAtMs: number;
  /** Clock time of the timeline's origin (the first recorded phase's start). */
  readonly originMs: number;
  /** Time spent recording (recorded phases and what followed them), ms. */
  readonly recordedMs: number;
  /** The timeline's configured interval width, ms. */
  readonly intervalMs: number;
  /** Per workload, in the order workloads were first seen; ops in first-seen order. */
  readonly workloads: readonly {
    readonly name: string;
    readonly ops: Partial<Record<OpName, OpSnapshot>>;
  }[];
  /** All workloads added together, ops in first-seen order. */
  readonly overall: Partial<Record<OpName, OpSnapshot>>;
  readonly scheduling: {
    /** Open-loop arrivals dropped because maxInflight cycles were in flight. */
    readonly dropped: number;
    /** Actual start minus intended start of released arrivals. */
    readonly lag: SeriesSnapshot;
    /** Successful open-loop cycles from their actual start. */
    readonly serviceTime: SeriesSnapshot;
  };
  /** Closed intervals, then the open one (shorter) when it holds anything. */
  readonly timeline: readonly TimelineInterval[];
}

/** Counts and latency over a recent window (sliding-window thresholds, live status). */
export interface WindowView {
  /** Start of the window's first interval, ms after the origin. */
  readonly startMs: number;
  /** Time the window covers, ms (at least the asked-for width once the run is that long). */
  readonly durationMs: number;
  readonly dropped: number;
  /** Operations with any record in the window. */
  readonly ops: readonly OpName[];
  /** Counts of `op` in the window (zeros when absent). */
  counts(op: OpName): OpCounts;
  /** Latency of `op`'s successes in the window, µs; computed on first call. */
  latencyUs(op: OpName): LatencySummaryUs | undefined;
}

const zeroCounts: OpCounts = { count: 0, errors: 0 };

/** The recording slot of one (workload, op). Create with {@link Recorder.slot}. */
export class OpSlot implements OpSink {
  /** Successes. */
  count = 0;
  /** Failures. */
  errors = 0;
  /** Failures by code. */
  readonly errorsByCode = new Map<string, number>();
  /** Latency of the successes, µs. */
  readonly histogram: LatencyHistogram = createHistogram();
  readonly #series: TimelineSeries;
  readonly #timeline: Timeline;
  #observers: SlotObserver[] = [];

  constructor(
    readonly workload: string,
    readonly op: OpName,
    timeline: Timeline,
  ) {
    this.#timeline = timeline;
    this.#series = timeline.series(op);
  }

  success(latencyUs: number, nowMs: number): void {
    const timeline = this.#timeline;
    if (nowMs >= timeline.openEndMs) timeline.roll(nowMs);
    const value = toRecordableUs(latencyUs);
    this.histogram.recordValue(value);
    this.#series.hot.recordValue(value);
    this.count++;
    this.#series.count++;
    const observers = this.#observers;
    for (let i = 0; i < observers.length; i++) observers[i]!.success(latencyUs);
  }

  failure(code: string, nowMs: number): void {
    const timeline = this.#timeline;
    if (nowMs >= timeline.openEndMs) timeline.roll(nowMs);
    this.errors++;
    this.#series.errors++;
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
    const observers = this.#observers;
    for (let i = 0; i < observers.length; i++) observers[i]!.failure(code);
  }

  /** @internal Adds an observer's sink. */
  addObserver(observer: SlotObserver): void {
    this.#observers = [...this.#observers, observer];
  }
}

/** Records a run; see the module comment. */
export class Recorder {
  readonly #clock: Clock;
  readonly #timeline: Timeline;
  readonly #workloads = new Map<string, Map<OpName, OpSlot>>();
  readonly #observers: RecorderObserver[] = [];
  #lagTotal: LatencyHistogram | undefined;
  #serviceTotal: LatencyHistogram | undefined;
  #dropped = 0;
  #recordedMs = 0;
  #recordingSinceMs: number | undefined;
  #everRecorded = false;
  #released = false;

  constructor(options: RecorderOptions) {
    this.#clock = options.clock;
    this.#timeline = new Timeline({
      intervalMs: options.intervalMs ?? 1000,
      maxIntervals: options.maxIntervals ?? 512,
      originMs: options.clock.now(),
    });
    for (const observer of options.observers ?? []) this.attach(observer);
  }

  /** The slot of (`workload`, `op`), created on first call (call before the run, not per op). */
  slot(workload: string, op: OpName): OpSlot {
    assert(!this.#released, 'recorder used after release');
    let ops = this.#workloads.get(workload);
    if (ops === undefined) {
      ops = new Map();
      this.#workloads.set(workload, ops);
    }
    let slot = ops.get(op);
    if (slot === undefined) {
      slot = new OpSlot(workload, op, this.#timeline);
      ops.set(op, slot);
      for (const observer of this.#observers) {
        const sink = observer.slot?.(workload, op);
        if (sink !== undefined) slot.addObserver(sink);
      }
    }
    return slot;
  }

  /** Adds an observer; it is told about existing slots at once. */
  attach(observer: RecorderObserver): void {
    this.#observers.push(observer);
    for (const [workload, ops] of this.#workloads) {
      for (const [op, slot] of ops) {
        const sink = observer.slot?.(workload, op);
        if (sink !== undefined) slot.addObserver(sink);
      }
    }
  }

  /**
   * Counts one dropped open-loop arrival at `nowMs`: in the recorded figures when `recorded`
   * (a recorded phase), and for observers in every phase.
   */
  recordDropped(nowMs: number, recorded = true): void {
    if (recorded) {
      const timeline = this.#timeline;
      if (nowMs >= timeline.openEndMs) timeline.roll(nowMs);
      this.#dropped++;
      timeline.dropped++;
    }
    for (const observer of this.#observers) observer.dropped?.();
  }

  /**
   * Tells observers a cycle of `workload` finished, in any phase (the recorded figures have it
   * already, as the `cycle` operation of recorded phases).
   */
  cycleFinished(workload: string, outcome: CycleOutcome): void {
    for (const observer of this.#observers) observer.cycleFinished?.(workload, outcome);
  }

  /** Records the scheduler lag of one released open-loop arrival (actual − intended start). */
  recordLag(lagUs: number, nowMs: number): void {
    const timeline = this.#timeline;
    if (nowMs >= timeline.openEndMs) timeline.roll(nowMs);
    const value = toRecordableUs(lagUs);
    (this.#lagTotal ??= createHistogram()).recordValue(value);
    timeline.lag.hot.recordValue(value);
    timeline.lag.count++;
    for (const observer of this.#observers) observer.lag?.(lagUs);
  }

  /** Records the service time of one successful open-loop cycle (from its actual start). */
  recordServiceTime(serviceUs: number): void {
    recordUs((this.#serviceTotal ??= createHistogram()), serviceUs);
  }

  /** Tells observers how many cycles are in flight. */
  setInflight(count: number): void {
    for (const observer of this.#observers) observer.inflight?.(count);
  }

  /**
   * Starts counting recorded time (a recorded phase begins). The first call moves the
   * timeline's origin to `nowMs` unless an interval has already closed.
   */
  startRecording(nowMs = this.#clock.now()): void {
    if (!this.#everRecorded) {
      this.#everRecorded = true;
      this.#timeline.rebase(nowMs);
    }
    this.#recordingSinceMs ??= nowMs;
  }

  /** Stops counting recorded time (a warm-up phase begins, or the run ends). */
  stopRecording(nowMs = this.#clock.now()): void {
    if (this.#recordingSinceMs !== undefined) {
      this.#recordedMs += Math.max(0, nowMs - this.#recordingSinceMs);
      this.#recordingSinceMs = undefined;
    }
  }

  /** Recorded time so far, ms. */
  recordedMs(nowMs = this.#clock.now()): number {
    const open = this.#recordingSinceMs === undefined ? 0 : nowMs - this.#recordingSinceMs;
    return this.#recordedMs + Math.max(0, open);
  }

  /**
   * Closes the timeline intervals that have ended by `nowMs` (call about once a second). A
   * no-op until recording starts, so a warm-up does not push the origin away.
   */
  tick(nowMs = this.#clock.now()): void {
    if (this.#everRecorded) this.#timeline.roll(nowMs);
  }

  /** Dropped arrivals so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Clock time of the timeline's origin. */
  get originMs(): number {
    return this.#timeline.originMs;
  }

  /** Totals per operation over all workloads; cheap (no histogram work). */
  counts(): Partial<Record<OpName, OpCounts>> {
    const out: Partial<Record<OpName, { count: number; errors: number }>> = {};
    for (const ops of this.#workloads.values()) {
      for (const [op, slot] of ops) {
        const sum = (out[op] ??= { count: 0, errors: 0 });
        sum.count += slot.count;
        sum.errors += slot.errors;
      }
    }
    return out;
  }

  /** The most recently closed timeline interval, if any. */
  lastInterval(): ClosedInterval | undefined {
    const closed = this.#timeline.closed;
    return closed[closed.length - 1];
  }

  /**
   * A view of the last `windowMs` (whole intervals overlapping it, plus the open one): what
   * sliding-window thresholds evaluate. Once intervals have coarsened beyond `windowMs` the
   * window is one or two intervals wide.
   */
  window(windowMs: number, nowMs = this.#clock.now()): WindowView {
    const timeline = this.#timeline;
    if (this.#everRecorded) timeline.roll(nowMs);
    const span = timeline.span(nowMs - windowMs, nowMs);
    const open = new Map<OpName, TimelineSeries>(timeline.openSeries());
    return new SpanView(span, open, timeline.dropped);
  }

  /**
   * Everything as plain data. With `histograms` every operation and series carries its
   * encoded histogram (what the report needs; costs ~0.1–0.3 ms per operation).
   */
  snapshot(
    options: { readonly histograms?: boolean; readonly nowMs?: number } = {},
  ): RecorderSnapshot {
    const nowMs = options.nowMs ?? this.#clock.now();
    const encode = options.histograms ?? false;
    this.#timeline.roll(nowMs);
    const workloads: { name: string; ops: Partial<Record<OpName, OpSnapshot>> }[] = [];
    const overallHistograms = new Map<OpName, LatencyHistogram>();
    const overallCounts = new Map<
      OpName,
      { count: number; errors: number; byCode: Map<string, number> }
    >();
    try {
      for (const [name, ops] of this.#workloads) {
        const snapshotOps: Partial<Record<OpName, OpSnapshot>> = {};
        for (const [op, slot] of ops) {
          snapshotOps[op] = opSnapshot(
            slot.count,
            slot.errors,
            slot.errorsByCode,
            slot.histogram,
            encode,
          );
          const sum = overallCounts.get(op) ?? {
            count: 0,
            errors: 0,
            byCode: new Map<string, number>(),
          };
          sum.count += slot.count;
          sum.errors += slot.errors;
          for (const [code, n] of slot.errorsByCode)
            sum.byCode.set(code, (sum.byCode.get(code) ?? 0) + n);
          overallCounts.set(op, sum);
          let histogram = overallHistograms.get(op);
          if (histogram === undefined) {
            histogram = createHistogram();
            overallHistograms.set(op, histogram);
          }
          if (slot.count > 0) addInto(histogram, slot.histogram);
        }
        workloads.push({ name, ops: snapshotOps });
      }
      const overall: Partial<Record<OpName, OpSnapshot>> = {};
      for (const [op, sum] of overallCounts) {
        overall[op] = opSnapshot(
          sum.count,
          sum.errors,
          sum.byCode,
          overallHistograms.get(op)!,
          encode,
        );
      }
      const timeline = this.#timeline.intervals(nowMs, encode);
      return {
        takenAtMs: nowMs,
        originMs: this.#timeline.originMs,
        recordedMs: this.recordedMs(nowMs),
        intervalMs: this.#timeline.baseIntervalMs,
        workloads,
        overall,
        scheduling: {
          dropped: this.#dropped,
          lag: seriesSnapshot(this.#lagTotal, encode),
          serviceTime: seriesSnapshot(this.#serviceTotal, encode),
        },
        timeline,
      };
    } finally {
      for (const histogram of overallHistograms.values()) releaseHistogram(histogram);
    }
  }

  /** Frees every histogram (WebAssembly memory). The recorder cannot be used afterwards. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const ops of this.#workloads.values()) {
      for (const slot of ops.values()) releaseHistogram(slot.histogram);
    }
    this.#timeline.release();
    if (this.#lagTotal !== undefined) releaseHistogram(this.#lagTotal);
    if (this.#serviceTotal !== undefined) releaseHistogram(this.#serviceTotal);
  }
}

function opSnapshot(
  count: number,
  errors: number,
  byCode: ReadonlyMap<string, number>,
  histogram: LatencyHistogram,
  encode: boolean,
): OpSnapshot {
  const errorsByCode: Record<string, number> = {};
  for (const code of [...byCode.keys()].sort()) errorsByCode[code] = byCode.get(code)!;
  return {
    count,
    errors,
    errorsByCode,
    latencyUs: count > 0 ? summarize(histogram) : undefined,
    histogram: encode && count > 0 ? encodeHistogram(histogram) : undefined,
  };
}

function seriesSnapshot(histogram: LatencyHistogram | undefined, encode: boolean): SeriesSnapshot {
  if (histogram === undefined || histogram.totalCount === 0) {
    return { latencyUs: undefined, histogram: undefined };
  }
  return {
    latencyUs: summarize(histogram),
    histogram: encode ? encodeHistogram(histogram) : undefined,
  };
}

class SpanView implements WindowView {
  readonly startMs: number;
  readonly durationMs: number;
  readonly dropped: number;
  readonly ops: readonly OpName[];
  readonly #span: TimelineSpan;
  readonly #open: ReadonlyMap<OpName, TimelineSeries>;
  readonly #counts = new Map<OpName, OpCounts>();
  readonly #latency = new Map<OpName, LatencySummaryUs | undefined>();

  constructor(span: TimelineSpan, open: ReadonlyMap<OpName, TimelineSeries>, openDropped: number) {
    this.#span = span;
    this.#open = open;
    this.startMs = span.startMs;
    this.durationMs = span.durationMs;
    let dropped = openDropped;
    for (const interval of span.closed) {
      dropped += interval.dropped;
      for (const [op, series] of Object.entries(interval.ops) as [
        OpName,
        { count: number; errors: number },
      ][]) {
        this.#add(op, series.count, series.errors);
      }
    }
    for (const [op, series] of open) {
      if (series.count > 0 || series.errors > 0) this.#add(op, series.count, series.errors);
    }
    this.dropped = dropped;
    this.ops = [...this.#counts.keys()];
  }

  counts(op: OpName): OpCounts {
    return this.#counts.get(op) ?? zeroCounts;
  }

  latencyUs(op: OpName): LatencySummaryUs | undefined {
    if (this.#latency.has(op)) return this.#latency.get(op);
    const summary = summarizeSpan(this.#span, (interval) => interval.ops[op], this.#open.get(op));
    this.#latency.set(op, summary);
    return summary;
  }

  #add(op: OpName, count: number, errors: number): void {
    const prev = this.#counts.get(op) ?? zeroCounts;
    this.#counts.set(op, { count: prev.count + count, errors: prev.errors + errors });
  }
}
