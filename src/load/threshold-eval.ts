/**
 * Evaluates the scenario's thresholds against recorded figures: the whole run at the end, or
 * a sliding window during it (abortOnFail).
 *
 * What each metric means (values in the units thresholds are written in):
 * - `p50`…`p999`, `max`, `mean` (op): latency of the operation's successes, ms.
 * - `error_rate`: failed ÷ attempted over every runtime operation, `cycle` excluded: a failed
 *   cycle is already counted as the error of the step that failed, so counting it again would
 *   weigh every failure twice.
 * - `error_rate(op)`: failed ÷ attempted of that operation (`cycle` allowed: failed cycles ÷
 *   cycles).
 * - `throughput(op)`: successful operations per second of recorded time.
 * - `dropped`: open-loop arrivals dropped because maxInflight cycles were running.
 * - `dropped_ratio`: dropped ÷ open-loop arrivals (released and dropped); over a sliding
 *   window, dropped ÷ (dropped + cycles that ended in it). No arrival: nothing to measure.
 * - `harness_lag_p99`: p99 of churn's own event-loop lag (stall-corrected, ms) over the run.
 *   It is a figure of the whole run only: during the run (abortOnFail) it is not evaluated.
 * - `leaked_pods`, `leaked_containers`, `leaked_processes`, `leaked_mounts`: what the leak audit
 *   found left after the run's cleanup (leak-audit.ts); `target_rss_slope`, `target_fds_slope`,
 *   `target_threads_slope`: the runtime daemon's growth after warm-up, % of its baseline per
 *   hour. Figures of the whole run only, like harness_lag_p99.
 *
 * A threshold with nothing to measure (no success of the op for a latency, no attempt for an
 * error rate) has no actual value and fails: a run that never started a container does not
 * pass `p99(start) < 250ms`. During the run such a threshold is skipped instead (see
 * {@link shouldAbort}).
 */
import type { LatencySummaryUs } from '../metrics/hdr.js';
import type { OpCounts, RecorderSnapshot, WindowView } from '../metrics/recorder.js';
import { opNames, type OpName } from '../common/operations.js';
import type { ThresholdSpec } from '../scenario/schema.js';
import {
  leakCountMetrics,
  leakSlopeMetrics,
  thresholdHolds,
  type LatencyStat,
} from '../scenario/threshold.js';

/** Figures a threshold reads. */
export interface ThresholdStats {
  /** Time the figures cover, ms (throughput's denominator). */
  readonly durationMs: number;
  readonly dropped: number;
  /** Dropped ÷ open-loop arrivals; undefined when there was no arrival. */
  readonly droppedRatio: number | undefined;
  /** p99 of churn's event-loop lag, ms; undefined when not measured. */
  readonly harnessLagP99Ms: number | undefined;
  /** The leak audit's figures; undefined when there was none (or during the run). */
  readonly leaks: LeakFigures | undefined;
  /** Counts of `op` over all workloads (zeros when absent). */
  counts(op: OpName): OpCounts;
  /** Latency of `op`'s successes, µs; undefined when none. */
  latencyUs(op: OpName): LatencySummaryUs | undefined;
}

/** The outcome of one threshold. */
export interface ThresholdResult {
  /** The threshold as written, e.g. `p99(start) < 250ms`. */
  readonly source: string;
  readonly metric: ThresholdSpec['expr']['metric'];
  readonly op: OpName | undefined;
  readonly comparator: ThresholdSpec['expr']['comparator'];
  /** The bound, in the metric's base unit (ms, fraction, per second, count). */
  readonly value: number;
  /** The measured value in the same unit; undefined when there was nothing to measure. */
  readonly actual: number | undefined;
  readonly ok: boolean;
  readonly abortOnFail: boolean;
}

/** Evaluates every threshold against `stats`. */
export function evaluateThresholds(
  specs: readonly ThresholdSpec[],
  stats: ThresholdStats,
): ThresholdResult[] {
  return specs.map((spec) => evaluateThreshold(spec, stats));
}

/** Evaluates one threshold against `stats`. */
export function evaluateThreshold(spec: ThresholdSpec, stats: ThresholdStats): ThresholdResult {
  const { expr } = spec;
  const actual = measure(expr.metric, expr.op, stats);
  return {
    source: expr.source,
    metric: expr.metric,
    op: expr.op,
    comparator: expr.comparator,
    value: expr.value,
    actual,
    ok: actual !== undefined && thresholdHolds(expr, actual),
    abortOnFail: spec.abortOnFail,
  };
}

/**
 * The first abortOnFail threshold that fails on its sliding window, once `elapsedMs` of the
 * run has passed its delay; thresholds with nothing to measure in the window are skipped.
 */
export function shouldAbort(
  specs: readonly ThresholdSpec[],
  elapsedMs: number,
  windowOf: (windowMs: number) => ThresholdStats,
): ThresholdResult | undefined {
  for (const spec of specs) {
    if (!spec.abortOnFail || elapsedMs < spec.delayMs) continue;
    const result = evaluateThreshold(spec, windowOf(spec.windowMs));
    if (result.actual !== undefined && !result.ok) return result;
  }
  return undefined;
}

/**
 * The leak audit's figures thresholds read, each undefined when it was not measured (the host
 * could not be scanned, too short a run for a slope).
 */
export type LeakFigures = Readonly<
  Partial<Record<(typeof leakCountMetrics)[number] | (typeof leakSlopeMetrics)[number], number>>
>;

const leakMetrics: readonly string[] = [...leakCountMetrics, ...leakSlopeMetrics];

function isLeakMetric(metric: string): metric is keyof LeakFigures {
  return leakMetrics.includes(metric);
}

function measure(
  metric: ThresholdSpec['expr']['metric'],
  op: OpName | undefined,
  stats: ThresholdStats,
): number | undefined {
  switch (metric) {
    case 'dropped':
      return stats.dropped;
    case 'dropped_ratio':
      return stats.droppedRatio;
    case 'harness_lag_p99':
      return stats.harnessLagP99Ms;
    case 'error_rate': {
      let errors = 0;
      let attempts = 0;
      for (const name of op === undefined ? runtimeOpNames : [op]) {
        const c = stats.counts(name);
        errors += c.errors;
        attempts += c.count + c.errors;
      }
      return attempts === 0 ? undefined : errors / attempts;
    }
    case 'throughput': {
      if (op === undefined || stats.durationMs <= 0) return undefined;
      return stats.counts(op).count / (stats.durationMs / 1000);
    }
    default: {
      if (isLeakMetric(metric)) return stats.leaks?.[metric];
      if (op === undefined) return undefined;
      const latency = stats.latencyUs(op);
      return latency === undefined ? undefined : latency[latencyField[metric]] / 1000;
    }
  }
}

const runtimeOpNames: readonly OpName[] = opNames.filter((op) => op !== 'cycle');

const latencyField: Readonly<Record<LatencyStat, keyof LatencySummaryUs>> = {
  p50: 'p50',
  p90: 'p90',
  p95: 'p95',
  p99: 'p99',
  p999: 'p999',
  max: 'max',
  mean: 'mean',
};

/** What a whole run's figures take besides the recorder's snapshot. */
export interface RunWideFigures {
  /** Open-loop arrivals and drops of the whole run (unrecorded phases included). */
  readonly arrivals: number;
  readonly dropped: number;
  /** churn's event-loop lag p99 over the run, ms; undefined when not measured. */
  readonly harnessLagP99Ms: number | undefined;
  /** The leak audit's figures; undefined when no audit ran. */
  readonly leaks?: LeakFigures | undefined;
}

/**
 * The figures of a whole run, from a recorder snapshot (recorded time, overall ops) and `run`
 * (dropped_ratio and harness_lag_p99; without it they have nothing to measure).
 */
export function statsFromSnapshot(
  snapshot: RecorderSnapshot,
  run?: RunWideFigures,
): ThresholdStats {
  return {
    durationMs: snapshot.recordedMs,
    dropped: snapshot.scheduling.dropped,
    droppedRatio: run === undefined ? undefined : ratioOf(run.dropped, run.arrivals),
    harnessLagP99Ms: run?.harnessLagP99Ms,
    leaks: run?.leaks,
    counts: (op) => snapshot.overall[op] ?? { count: 0, errors: 0 },
    latencyUs: (op) => snapshot.overall[op]?.latencyUs,
  };
}

/** The figures of a sliding window. */
export function statsFromWindow(view: WindowView): ThresholdStats {
  return {
    durationMs: view.durationMs,
    dropped: view.dropped,
    droppedRatio: ratioOf(
      view.dropped,
      view.dropped + view.counts('cycle').count + view.counts('cycle').errors,
    ),
    harnessLagP99Ms: undefined,
    leaks: undefined,
    counts: (op) => view.counts(op),
    latencyUs: (op) => view.latencyUs(op),
  };
}

function ratioOf(dropped: number, arrivals: number): number | undefined {
  return arrivals > 0 ? dropped / arrivals : undefined;
}
