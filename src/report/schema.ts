/**
 * The report: one JSON file per run, the record `churn compare`, `history`, `merge` and the
 * renderers read. Version 1. Keys follow DESIGN.md's contract (schemaVersion, run, environment,
 * operations.<op> with count, errors, errorsByCode and latency percentiles) and issue 6's field
 * list: encoded HDR histograms everywhere a latency is summarized, so any percentile can be
 * recomputed, and a timeline of intervals.
 *
 * Conventions: latencies in milliseconds (`…Ms`), histograms in microseconds encoded as
 * compressed base64 (src/metrics/hdr.ts), absent values as `null` (never omitted), times as ISO
 * 8601 UTC strings. `count` is successful operations (what the histogram holds), `errors` the
 * failed ones; attempts are their sum.
 */
import type { OpName } from '../common/operations.js';
import type { Scenario } from '../scenario/schema.js';

/** The schema version this build writes. */
export const reportSchemaVersion = 1;

/** How the run ended; anything but `completed` makes the report partial. */
export type ExitReason = 'completed' | 'interrupted' | 'aborted' | 'broken';

/** A latency summary, ms; every field derived from the histogram. */
export interface LatencyMs {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** One operation, over all workloads or in one. */
export interface ReportOperation {
  /** Successful operations. */
  readonly count: number;
  /** Failed operations (never in the histogram). */
  readonly errors: number;
  /** Failures by error code (gRPC status names, EXIT_CODE_MISMATCH), codes sorted. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Successful operations per second of recorded time. */
  readonly throughputPerSec: number;
  /** null when count is 0. */
  readonly latencyMs: LatencyMs | null;
  /** HDR histogram of the successes (µs, compressed base64); null when count is 0. */
  readonly histogram: string | null;
}

/** The run itself. */
export interface ReportRun {
  readonly id: string;
  /** Scenario name. */
  readonly scenario: string;
  /** ISO 8601 UTC. */
  readonly start: string;
  readonly end: string;
  readonly durationMs: number;
  /** Time the results cover (recorded phases and the drain after them), ms. */
  readonly recordedMs: number;
  /** True unless the run completed its plan (or its iterations cap). */
  readonly partial: boolean;
  readonly exitReason: ExitReason;
  /** For a completed run: the plan ran out, or the iterations cap was reached. */
  readonly endedBy: 'plan' | 'iterations' | null;
  /** Seed of arrivals and workload mix; rerun with it to get the same schedule. */
  readonly seed: number;
  /** What broke a broken run. */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** The threshold that aborted an aborted run. */
  readonly abortedBy: string | null;
}

/** Where the run ran. */
export interface ReportEnvironment {
  readonly churnVersion: string;
  readonly gitCommit: string | null;
  readonly node: string;
  /** `process.platform`, e.g. linux. */
  readonly os: string;
  /** Kernel release, e.g. 6.1.0-18-amd64. */
  readonly kernel: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly cgroupVersion: 1 | 2 | null;
  /** The scenario's driver: builtin or cri. */
  readonly driver: string;
  /** What the runtime said about itself; null fields when connecting failed. */
  readonly runtime: {
    readonly name: string | null;
    readonly version: string | null;
    readonly apiVersion: string | null;
    readonly handler: string | null;
  };
  /** `report.labels` and `--label`. */
  readonly labels: Readonly<Record<string, string>>;
}

/** One operation in one timeline interval. */
export interface ReportIntervalSeries {
  readonly count: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  /** The interval's own histogram (µs, compressed base64); null when count is 0. */
  readonly histogram: string | null;
}

/** One interval of the timeline. */
export interface ReportInterval {
  /** After the timeline's origin (the first recorded phase's start), ms. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly dropped: number;
  readonly ops: Partial<Record<OpName, ReportIntervalSeries>>;
  /** Scheduler lag of the arrivals released in the interval; null without open loop. */
  readonly lag: ReportIntervalSeries | null;
}

/** A threshold and how it fared over the whole run. */
export interface ReportThreshold {
  readonly source: string;
  readonly metric: string;
  readonly op: OpName | null;
  readonly comparator: string;
  /** The bound, in the metric's base unit: ms for latency, a fraction for error_rate. */
  readonly value: number;
  /** The measured value, same unit; null when there was nothing to measure (then not ok). */
  readonly actual: number | null;
  readonly ok: boolean;
  readonly abortOnFail: boolean;
}

/** A churn report, schema version 1. */
export interface Report {
  readonly schemaVersion: typeof reportSchemaVersion;
  readonly run: ReportRun;
  readonly environment: ReportEnvironment;
  /** The resolved scenario the run followed. */
  readonly scenario: Scenario;
  /** All workloads added together, in step order, `cycle` last. */
  readonly operations: Partial<Record<OpName, ReportOperation>>;
  readonly workloads: Readonly<
    Record<
      string,
      {
        readonly weight: number;
        readonly operations: Partial<Record<OpName, ReportOperation>>;
      }
    >
  >;
  /** Cycle counts over every phase, warm-up included. */
  readonly cycles: {
    readonly started: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly cut: number;
    readonly dropped: number;
  };
  /** Open-loop scheduling: drops, the scheduler's lag and the cycles' service time. */
  readonly scheduling: {
    readonly dropped: number;
    readonly lagMs: LatencyMs | null;
    readonly lagHistogram: string | null;
    readonly serviceTimeMs: LatencyMs | null;
    readonly serviceTimeHistogram: string | null;
  };
  readonly timeline: {
    /** The configured interval (`report.interval`); later intervals may be wider (coarsened). */
    readonly intervalMs: number;
    readonly intervals: readonly ReportInterval[];
  };
  readonly thresholds: readonly ReportThreshold[];
  /** What the cleanup did: cycle cleanup calls, the final sweep, what remained. */
  readonly cleanup: {
    readonly calls: number;
    readonly failures: number;
    readonly failuresByCode: Readonly<Record<string, number>>;
    readonly sweptPods: number;
    readonly sweptContainers: number;
    readonly remainingPods: number;
    readonly remainingContainers: number;
  };
  readonly warnings: readonly string[];
}
