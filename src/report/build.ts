/**
 * Builds a {@link Report} from a run's outcome, its scenario and the host's facts. Pure.
 *
 * report/ may not import load/, so the outcome is described here structurally
 * ({@link RunOutcome}); the runner's `RunResult` fits it as it is.
 */
import type { OpName } from '../common/operations.js';
import type { LatencySummaryUs } from '../metrics/hdr.js';
import type { OpSnapshot, RecorderSnapshot } from '../metrics/recorder.js';
import type { HarnessRunFigures } from '../metrics/process-metrics.js';
import type { ResourceSeriesData } from '../metrics/resource-series.js';
import type { IntervalSeries, TimelineInterval } from '../metrics/timeline.js';
import type { Scenario } from '../scenario/schema.js';
import { harnessByInterval, harnessOfRun } from './harness-health.js';
import type { HostInfo } from './host-info.js';
import { decideMarks } from './verdicts.js';
import {
  reportSchemaVersion,
  type ExitReason,
  type LatencyMs,
  type Report,
  type ReportInterval,
  type ReportIntervalSeries,
  type ReportOperation,
  type ReportThreshold,
} from './schema.js';

/** A threshold's outcome as the runner returns it. */
export interface ThresholdOutcome {
  readonly source: string;
  readonly metric: string;
  readonly op: OpName | undefined;
  readonly comparator: ReportThreshold['comparator'];
  readonly value: number;
  readonly actual: number | undefined;
  readonly ok: boolean;
  readonly abortOnFail: boolean;
}

/** What a report is built from: the runner's result (`RunResult` is one). */
export interface RunOutcome {
  readonly state: ExitReason;
  readonly endedBy?: 'plan' | 'iterations';
  readonly abortedBy?: ThresholdOutcome;
  readonly error?: { readonly code: string; readonly message: string };
  readonly runId: string;
  readonly seed: number;
  readonly startWallMs: number;
  readonly endWallMs: number;
  /** When the first phase began, ms since the epoch; undefined when none began. */
  readonly phasesStartWallMs?: number | undefined;
  readonly durationMs: number;
  readonly runtime:
    | {
        readonly runtimeName: string;
        readonly runtimeVersion: string;
        readonly runtimeApiVersion: string;
        readonly runtimeHandler: string;
      }
    | undefined;
  readonly cycles: Report['cycles'];
  readonly cleanup: Report['cleanup'];
  /** The recorder's final snapshot, taken with histograms. */
  readonly snapshot: RecorderSnapshot;
  readonly thresholds: readonly ThresholdOutcome[];
  readonly warnings: readonly string[];
  /** Outages of the runtime, ms since the run's start; none when absent. */
  readonly outages?: Report['outages'];
  /** The leak audit; null or absent when there was none. */
  readonly leaks?: Report['leaks'];
  /**
   * Set for a checkpoint (state `running`): which one, and the run's checkpoint interval, ms.
   * The checkpoint's time is `endWallMs`.
   */
  readonly checkpoint?: { readonly index: number; readonly intervalMs: number };
}

/** Inputs of {@link buildReport}. */
export interface BuildReportInput {
  readonly outcome: RunOutcome;
  readonly scenario: Scenario;
  readonly host: HostInfo;
  /** Labels on top of `scenario.report.labels` (e.g. `--label k=v`); these win. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The resource sampler's series; the report's `resources` is null without it. */
  readonly resources?: ResourceSeriesData;
  /** churn's event loop and CPU over the run (the sampler's); `harness` is null without it. */
  readonly harness?: HarnessRunFigures;
}

/** Builds the report of a run; see the module comment. */
export function buildReport(input: BuildReportInput): Report {
  const { outcome, scenario, host } = input;
  const snapshot = outcome.snapshot;
  const recordedSec = snapshot.recordedMs / 1000;
  const operations = (
    ops: Partial<Record<OpName, OpSnapshot>>,
  ): Partial<Record<OpName, ReportOperation>> => {
    const out: Partial<Record<OpName, ReportOperation>> = {};
    for (const [op, s] of Object.entries(ops) as [OpName, OpSnapshot][]) {
      out[op] = {
        count: s.count,
        errors: s.errors,
        errorsByCode: s.errorsByCode,
        throughputPerSec: recordedSec > 0 ? s.count / recordedSec : 0,
        latencyMs: latencyMs(s.latencyUs),
        histogram: s.histogram ?? null,
      };
    }
    return orderOps(out);
  };
  const workloads: Record<
    string,
    { weight: number; operations: Partial<Record<OpName, ReportOperation>> }
  > = {};
  for (const w of snapshot.workloads) {
    workloads[w.name] = {
      weight: scenario.workloads.find((sw) => sw.name === w.name)?.weight ?? 1,
      operations: operations(w.ops),
    };
  }
  const intervals = snapshot.timeline.map(interval);
  const healthOf =
    input.resources === undefined
      ? intervals.map(() => null)
      : harnessByInterval(input.resources, snapshot.originMs, intervals);
  const timelineIntervals = intervals.map((i, n) => ({ ...i, harness: healthOf[n] ?? null }));
  const harness =
    input.harness === undefined
      ? null
      : harnessOfRun({
          run: input.harness,
          lagBoundMs: scenario.integrity.maxHarnessLagP99Ms,
          points: input.resources?.points ?? [],
          intervals: timelineIntervals,
        });
  const marks = decideMarks({
    harnessLagP99Ms: harness?.lagP99Ms,
    maxHarnessLagP99Ms: scenario.integrity.maxHarnessLagP99Ms,
    arrivals: outcome.cycles.arrivals ?? 0,
    dropped: outcome.cycles.dropped,
    maxDroppedRatio: scenario.integrity.maxDroppedRatio,
  });
  return {
    schemaVersion: reportSchemaVersion,
    run: {
      id: outcome.runId,
      scenario: scenario.name,
      start: new Date(outcome.startWallMs).toISOString(),
      end: new Date(outcome.endWallMs).toISOString(),
      phasesStart:
        outcome.phasesStartWallMs === undefined
          ? null
          : new Date(outcome.phasesStartWallMs).toISOString(),
      durationMs: outcome.durationMs,
      recordedMs: snapshot.recordedMs,
      partial: outcome.state !== 'completed',
      exitReason: outcome.state,
      endedBy: outcome.state === 'completed' ? (outcome.endedBy ?? 'plan') : null,
      seed: outcome.seed,
      error:
        outcome.error === undefined
          ? null
          : { code: outcome.error.code, message: outcome.error.message },
      abortedBy: outcome.abortedBy?.source ?? null,
      marks,
      checkpoint:
        outcome.checkpoint === undefined
          ? null
          : {
              at: new Date(outcome.endWallMs).toISOString(),
              index: outcome.checkpoint.index,
              intervalMs: outcome.checkpoint.intervalMs,
            },
    },
    environment: {
      churnVersion: host.churnVersion,
      gitCommit: host.gitCommit,
      node: host.node,
      os: host.os,
      kernel: host.kernel,
      arch: host.arch,
      cpuModel: host.cpuModel,
      cpuCount: host.cpuCount,
      cgroupVersion: host.cgroupVersion,
      driver: scenario.target.driver,
      runtime: {
        name: outcome.runtime?.runtimeName ?? null,
        version: outcome.runtime?.runtimeVersion ?? null,
        apiVersion: outcome.runtime?.runtimeApiVersion ?? null,
        handler: outcome.runtime?.runtimeHandler ?? null,
      },
      labels: { ...scenario.report.labels, ...input.labels },
    },
    scenario,
    operations: operations(snapshot.overall),
    workloads,
    cycles: outcome.cycles,
    scheduling: {
      dropped: snapshot.scheduling.dropped,
      lagMs: latencyMs(snapshot.scheduling.lag.latencyUs),
      lagHistogram: snapshot.scheduling.lag.histogram ?? null,
      serviceTimeMs: latencyMs(snapshot.scheduling.serviceTime.latencyUs),
      serviceTimeHistogram: snapshot.scheduling.serviceTime.histogram ?? null,
    },
    timeline: {
      intervalMs: snapshot.intervalMs,
      intervals: timelineIntervals,
    },
    thresholds: outcome.thresholds.map((t): ReportThreshold => ({
      source: t.source,
      metric: t.metric,
      op: t.op ?? null,
      comparator: t.comparator,
      value: t.value,
      actual: t.actual ?? null,
      ok: t.ok,
      abortOnFail: t.abortOnFail,
    })),
    cleanup: outcome.cleanup,
    warnings: outcome.warnings,
    outages: outcome.outages ?? [],
    resources:
      input.resources === undefined
        ? null
        : {
            start: new Date(input.resources.originWallMs).toISOString(),
            intervalMs: input.resources.intervalMs,
            target: input.resources.target,
            points: input.resources.points,
          },
    harness,
    leaks: outcome.leaks ?? null,
    mergedFrom: null,
  };
}

/** µs summary → ms summary; null for none. */
export function latencyMs(us: LatencySummaryUs | undefined): LatencyMs | null {
  if (us === undefined) return null;
  return {
    min: us.min / 1000,
    mean: us.mean / 1000,
    p50: us.p50 / 1000,
    p90: us.p90 / 1000,
    p95: us.p95 / 1000,
    p99: us.p99 / 1000,
    p999: us.p999 / 1000,
    max: us.max / 1000,
  };
}

/** `cycle` goes last; the others keep their (step) order. */
function orderOps<T>(ops: Partial<Record<OpName, T>>): Partial<Record<OpName, T>> {
  const cycle = ops.cycle;
  if (cycle === undefined) return ops;
  const out: Partial<Record<OpName, T>> = {};
  for (const [op, value] of Object.entries(ops) as [OpName, T][])
    if (op !== 'cycle') out[op] = value;
  out.cycle = cycle;
  return out;
}

function interval(i: TimelineInterval): Omit<ReportInterval, 'harness'> {
  const ops: Partial<Record<OpName, ReportIntervalSeries>> = {};
  for (const [op, s] of Object.entries(i.ops) as [OpName, IntervalSeries][])
    ops[op] = intervalSeries(s);
  return {
    startMs: i.startMs,
    durationMs: i.durationMs,
    dropped: i.dropped,
    ops: orderOps(ops),
    lag: i.lag === undefined ? null : intervalSeries(i.lag),
  };
}

function intervalSeries(s: IntervalSeries): ReportIntervalSeries {
  const l = s.latencyUs;
  return {
    count: s.count,
    errors: s.errors,
    p50Ms: l === undefined ? null : l.p50 / 1000,
    p90Ms: l === undefined ? null : l.p90 / 1000,
    p99Ms: l === undefined ? null : l.p99 / 1000,
    maxMs: l === undefined ? null : l.max / 1000,
    histogram: s.histogram ?? null,
  };
}
