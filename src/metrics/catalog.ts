/**
 * Every Prometheus metric churn exports: name, type, labels and help. A public contract
 * (DESIGN.md): dashboards, alert rules and users' queries are written against these names, so
 * extend the catalog, never rename. docs/metrics.md is generated from it and the shipped
 * dashboards and alert rules are checked against it (test/unit/metrics/catalog-files.test.ts).
 *
 * Rules the catalog keeps, and why:
 * - Base units in names (`_seconds`, `_bytes`, `_total` for counters).
 * - Bounded labels only. Per-run values (the run id, runtime version) appear in
 *   `churn_run_info` alone; never a container or pod id anywhere.
 * - Latency is a histogram with bucket bounds fixed in this file, the same for every run and
 *   every release, so histograms of any two runs or instances add up in
 *   `histogram_quantile(…, sum by (le) (…))`. Never precomputed percentiles.
 * - Failed operations are counted in `churn_operations_total` (outcome `error`, by code) and
 *   never enter a latency histogram.
 */
import { ChurnError } from '../common/errors.js';

/** Prometheus metric types churn uses. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Which part of churn a metric describes. */
export type MetricGroup = 'run' | 'harness' | 'target';

/** One metric of the catalog. */
export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  /** Label names, in the order they are documented (Prometheus adds `instance` and `job`). */
  readonly labels: readonly string[];
  /** One sentence: what is measured, in which unit. */
  readonly help: string;
  readonly group: MetricGroup;
}

/**
 * Upper bounds (seconds) of `churn_operation_duration_seconds`: the Renard R10 series (ten
 * log-spaced steps per decade, ratio ≈ 1.26) from 1 ms to 50 s, then 60 s; +Inf is implicit.
 * Fixed forever: changing one bound breaks aggregation with every earlier run. Durations under
 * 1 ms land in the first bucket, over 60 s in +Inf.
 */
export const durationBucketsSeconds: readonly number[] = Object.freeze([
  0.001, 0.00125, 0.0016, 0.002, 0.0025, 0.00315, 0.004, 0.005, 0.0063, 0.008, 0.01, 0.0125, 0.016,
  0.02, 0.025, 0.0315, 0.04, 0.05, 0.063, 0.08, 0.1, 0.125, 0.16, 0.2, 0.25, 0.315, 0.4, 0.5, 0.63,
  0.8, 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8, 10, 12.5, 16, 20, 25, 31.5, 40, 50, 60,
]);

/**
 * Upper bounds (seconds) of `churn_scheduler_lag_seconds`: the duration buckets extended down
 * to 0.1 ms (open-loop lag is usually well under a millisecond). Fixed forever, as above.
 */
export const lagBucketsSeconds: readonly number[] = Object.freeze([
  0.0001,
  0.000125,
  0.00016,
  0.0002,
  0.00025,
  0.000315,
  0.0004,
  0.0005,
  0.00063,
  0.0008,
  ...durationBucketsSeconds,
]);

/** Labels of every per-operation metric. */
const opLabels = ['scenario', 'driver', 'workload', 'op'] as const;
/** Labels of run-wide metrics. */
const runLabels = ['scenario', 'driver'] as const;

/** Every metric churn exports; see the module comment. */
export const metricCatalog: readonly MetricSpec[] = Object.freeze([
  {
    name: 'churn_run_info',
    type: 'gauge',
    labels: [
      'scenario',
      'driver',
      'runtime',
      'runtime_version',
      'handler',
      'churn_version',
      'run_id',
    ],
    help: 'Always 1; its labels describe the run: scenario, driver, runtime name and version (empty until connected), runtime handler, churn version and run id (the only metric with the run id).',
    group: 'run',
  },
  {
    name: 'churn_run_active',
    type: 'gauge',
    labels: runLabels,
    help: '1 while the run schedules or drains cycles, 0 once it has ended (while /metrics lingers and in the final push).',
    group: 'run',
  },
  {
    name: 'churn_operation_duration_seconds',
    type: 'histogram',
    labels: opLabels,
    help: 'Latency of successful operations in seconds (op cycle: a whole cycle, from its intended start); failures are not in it. Buckets fixed across runs (1 ms to 60 s, ten per decade).',
    group: 'run',
  },
  {
    name: 'churn_operations_total',
    type: 'counter',
    labels: [...opLabels, 'outcome', 'code'],
    help: 'Operations finished, by outcome (success or error) and code (OK for a success, else the error code such as UNAVAILABLE or DEADLINE_EXCEEDED).',
    group: 'run',
  },
  {
    name: 'churn_cycles_total',
    type: 'counter',
    labels: ['scenario', 'driver', 'workload', 'outcome'],
    help: "Cycles finished in every phase, warm-up included (as the report's cycles block counts them), by outcome (success: every step succeeded; error: a step failed). Cycles cut off at the end of a run are in neither.",
    group: 'run',
  },
  {
    name: 'churn_cycles_dropped_total',
    type: 'counter',
    labels: runLabels,
    help: 'Open-loop arrivals not started because maxInflight cycles were in flight, in every phase, warm-up included.',
    group: 'run',
  },
  {
    name: 'churn_inflight_cycles',
    type: 'gauge',
    labels: runLabels,
    help: 'Cycles in flight now.',
    group: 'run',
  },
  {
    name: 'churn_scheduler_lag_seconds',
    type: 'histogram',
    labels: runLabels,
    help: 'Open-loop scheduler lag in seconds: actual start minus intended start of each released arrival. Buckets fixed across runs (0.1 ms to 60 s).',
    group: 'run',
  },
  {
    name: 'churn_process_cpu_seconds_total',
    type: 'counter',
    labels: [],
    help: "CPU time (user + system) of churn's own process, in seconds.",
    group: 'harness',
  },
  {
    name: 'churn_process_resident_memory_bytes',
    type: 'gauge',
    labels: [],
    help: "Resident memory of churn's own process, in bytes.",
    group: 'harness',
  },
  {
    name: 'churn_process_heap_used_bytes',
    type: 'gauge',
    labels: [],
    help: "V8 heap in use by churn's own process, in bytes.",
    group: 'harness',
  },
  {
    name: 'churn_process_open_fds',
    type: 'gauge',
    labels: [],
    help: "Open file descriptors of churn's own process.",
    group: 'harness',
  },
  {
    name: 'churn_process_event_loop_lag_p99_seconds',
    type: 'gauge',
    labels: [],
    help: "99th percentile of churn's event-loop delay (a 20 ms timer's lateness) over the last 60 s, in seconds: above a few ms the harness itself distorts latencies. A lone stall shows in the max, not here.",
    group: 'harness',
  },
  {
    name: 'churn_process_event_loop_lag_max_seconds',
    type: 'gauge',
    labels: [],
    help: 'Longest event-loop delay of churn over the last sampling interval (1 s), in seconds.',
    group: 'harness',
  },
  {
    name: 'churn_target_up',
    type: 'gauge',
    labels: ['target'],
    help: 'The sampled runtime daemon (label target: containerd, churn-core, or the --target-process name) could be read at the last sample and the run reaches it: 1; 0 when it is gone or during an outage (cycles failing UNAVAILABLE).',
    group: 'target',
  },
  {
    name: 'churn_target_cpu_seconds_total',
    type: 'counter',
    labels: ['target'],
    help: "CPU time (user + system) of the runtime daemon's own threads, in seconds (resets when the daemon restarts).",
    group: 'target',
  },
  {
    name: 'churn_target_resident_memory_bytes',
    type: 'gauge',
    labels: ['target'],
    help: 'Resident memory of the runtime daemon, in bytes.',
    group: 'target',
  },
  {
    name: 'churn_target_open_fds',
    type: 'gauge',
    labels: ['target'],
    help: 'Open file descriptors of the runtime daemon.',
    group: 'target',
  },
  {
    name: 'churn_target_threads',
    type: 'gauge',
    labels: ['target'],
    help: 'Threads of the runtime daemon.',
    group: 'target',
  },
  {
    name: 'churn_target_shims',
    type: 'gauge',
    labels: ['target'],
    help: "Shim processes of the daemon: containerd's (comm containerd-shim*) or CRI-O's conmons, its children or those naming its socket (containerd) or its socket's directory (CRI-O). 0 for runtimes without shims.",
    group: 'target',
  },
  {
    name: 'churn_target_shim_resident_memory_bytes',
    type: 'gauge',
    labels: ['target'],
    help: "Resident memory of the daemon's shim processes added together, in bytes.",
    group: 'target',
  },
] satisfies MetricSpec[]);

const byName: ReadonlyMap<string, MetricSpec> = new Map(metricCatalog.map((m) => [m.name, m]));

/** The catalog entry of `name`, or undefined when churn exports no such metric. */
export function findMetric(name: string): MetricSpec | undefined {
  return byName.get(name);
}

/**
 * The catalog entry of a series name as it appears in the exposition: `name` itself, or for a
 * histogram also `name_bucket`, `name_sum` and `name_count`.
 */
export function metricOfSeries(series: string): MetricSpec | undefined {
  const direct = byName.get(series);
  if (direct !== undefined) return direct;
  const match = /^(.*)_(bucket|sum|count)$/.exec(series);
  if (match === null) return undefined;
  const spec = byName.get(match[1]!);
  return spec?.type === 'histogram' ? spec : undefined;
}

/** Names of the series a metric appears as in the exposition. */
export function seriesNames(spec: MetricSpec): readonly string[] {
  return spec.type === 'histogram'
    ? [`${spec.name}_bucket`, `${spec.name}_sum`, `${spec.name}_count`]
    : [spec.name];
}

/** The catalog entry of `name`; throws when there is none (a bug in churn). */
export function metricSpec(name: string): MetricSpec {
  const spec = byName.get(name);
  if (spec === undefined) throw new ChurnError('INTERNAL', `metric ${name} is not in the catalog`);
  return spec;
}
