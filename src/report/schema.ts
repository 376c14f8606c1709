/**
 * The report: one JSON file per run, the record `churn compare`, `history`, `merge` and the
 * renderers read. This zod schema is the one source of truth: the TypeScript types below are
 * its output, `schema/report.schema.json` is generated from it (scripts/gen-report-schema.ts)
 * and {@link readReport} (read.ts) validates every file against it.
 *
 * Conventions: latencies in milliseconds (`…Ms`), histograms in microseconds encoded as
 * compressed base64 (HdrHistogram V2, src/metrics/hdr.ts), absent values as `null`, times as
 * ISO 8601 UTC strings. `count` is successful operations (what the histogram holds), `errors`
 * the failed ones; attempts are their sum.
 *
 * Versioning (docs/reports.md): `schemaVersion` changes when a field is removed, renamed or
 * changes meaning; adding an optional field does not. Readers ignore keys they do not know, so a
 * newer churn's additive fields do not break an older reader; a file of a newer schemaVersion is
 * refused with a message saying so, and older versions are migrated on read (read.ts).
 */
import { z } from 'zod';
import { opNames, type OpName } from '../common/operations.js';
import { runMarks } from '../common/run-marks.js';
import type { Scenario } from '../scenario/schema.js';

/** The schema version this build writes (and the newest it reads). */
export const reportSchemaVersion = 1;

const count = z.number().int().min(0);
const nonNegative = z.number().min(0);
const isoTime = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, 'must be an ISO 8601 time')
  .meta({ id: 'Time', format: 'date-time', description: 'ISO 8601 time, UTC.' });
const stringMap = z.record(z.string(), z.string());
const countsByCode = z.record(z.string(), count);

/** What an encoded histogram looks like: base64 (the decoder checks the rest). */
const histogram = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be a base64 HdrHistogram (compressed V2 encoding)')
  .meta({
    id: 'Histogram',
    description:
      'HDR histogram of the latencies in microseconds (1 µs–1 h, 3 significant digits), HdrHistogram V2 compressed encoding in base64; any percentile can be recomputed from it.',
  });

const opName = z.enum(opNames);

const exitReason = z
  .enum(['completed', 'interrupted', 'aborted', 'broken', 'running'])
  .describe(
    'How the run ended: completed (plan or iterations cap), interrupted (SIGINT/SIGTERM/SIGHUP), aborted (an abortOnFail threshold), broken (the run could not go on); running for a checkpoint (run.checkpoint), written while the run went on. Anything but completed makes the report partial.',
  );

const checkpoint = z
  .object({
    at: isoTime.describe('When the checkpoint was taken (ISO 8601, UTC); also run.end.'),
    index: z.number().int().min(1).describe("The checkpoint's number in its run: 1 for the first."),
    intervalMs: nonNegative.describe(
      "The run's checkpoint interval (report.checkpointInterval), ms.",
    ),
  })
  .meta({
    id: 'Checkpoint',
    description:
      'A checkpoint: the report so far of a run that had not finished when it was written. It is still running, or it was killed before it could write its final report, which would have replaced this file.',
  });

const latencyMs = z
  .object({
    min: nonNegative.describe('Lowest recorded latency, ms.'),
    mean: nonNegative.describe('Mean latency, ms.'),
    p50: nonNegative.describe('Median, ms.'),
    p90: nonNegative.describe('90th percentile, ms.'),
    p95: nonNegative.describe('95th percentile, ms.'),
    p99: nonNegative.describe('99th percentile, ms.'),
    p999: nonNegative.describe('99.9th percentile, ms.'),
    max: nonNegative.describe('Highest recorded latency, ms.'),
  })
  .meta({
    id: 'LatencyMs',
    description: 'Latency summary in ms, every field computed from the histogram.',
  });

const reportOperation = z
  .object({
    count: count.describe('Successful operations (what the histogram holds).'),
    errors: count.describe('Failed operations (never in the histogram).'),
    errorsByCode: countsByCode.describe(
      'Failures by error code (gRPC status names, EXIT_CODE_MISMATCH), codes sorted.',
    ),
    throughputPerSec: nonNegative.describe('Successful operations per second of recorded time.'),
    latencyMs: latencyMs.nullable().describe('Latency summary; null when count is 0.'),
    histogram: histogram.nullable().describe('Histogram of the successes; null when count is 0.'),
  })
  .meta({ id: 'Operation', description: 'One operation: counts, errors, throughput and latency.' });

const operations = z
  .partialRecord(opName, reportOperation)
  .describe('Per operation (report keys are the operation names), in step order, cycle last.');

const run = z
  .object({
    id: z.string().min(1).describe('Run id; also the label on everything the run created.'),
    scenario: z.string().min(1).describe('Scenario name.'),
    start: isoTime.describe('When the run started (ISO 8601, UTC).'),
    end: isoTime.describe('When the run ended, cleanup included (ISO 8601, UTC).'),
    phasesStart: isoTime
      .nullable()
      .default(null)
      .describe(
        'When the first phase began, after connecting and pre-pulling (ISO 8601, UTC); with --start-at, the aligned instant of a cluster run. Null when no phase began.',
      ),
    durationMs: nonNegative.describe('From start to end, ms.'),
    recordedMs: nonNegative.describe(
      'Time the results cover (recorded phases and the drain after them), ms.',
    ),
    partial: z.boolean().describe('True unless the run completed its plan or iterations cap.'),
    exitReason,
    endedBy: z
      .enum(['plan', 'iterations'])
      .nullable()
      .describe('For a completed run: the plan ran out, or the iterations cap was reached.'),
    seed: z.number().int().describe('Seed of arrivals, workload mix and faults.'),
    error: z
      .object({
        code: z.string().describe('Error code (see docs/errors.md).'),
        message: z.string().describe('What broke, and where.'),
      })
      .nullable()
      .describe('What broke a broken run.'),
    abortedBy: z.string().nullable().describe('The threshold that aborted an aborted run.'),
    marks: z
      .array(z.enum(runMarks))
      .default([])
      .describe(
        "Verdicts on the run's figures: harness-bound (churn's event-loop lag p99 exceeded harness.lagBoundMs), overloaded (an open-loop run dropped more arrivals than the scenario's integrity.maxDroppedRatio). Empty for a fair run.",
      ),
    checkpoint: checkpoint
      .nullable()
      .default(null)
      .describe(
        'Set when this file is a checkpoint (exitReason running, partial), not the final report; null for a final report.',
      ),
  })
  .describe('The run itself.');

const environment = z
  .object({
    churnVersion: z.string().describe('churn version.'),
    gitCommit: z.string().nullable().describe("churn's git commit, when run from a clone."),
    node: z.string().describe('Node.js version.'),
    os: z.string().describe('process.platform, e.g. linux.'),
    kernel: z.string().describe('Kernel release, e.g. 6.1.0-18-amd64.'),
    arch: z.string().describe('CPU architecture, e.g. x64.'),
    cpuModel: z.string().describe('CPU model name.'),
    cpuCount: count.describe('Logical CPUs.'),
    cgroupVersion: z
      .literal([1, 2])
      .nullable()
      .describe('cgroup version of the host; null when unknown.'),
    driver: z.string().describe("The scenario's driver: builtin or cri."),
    runtime: z
      .object({
        name: z.string().nullable().describe('Runtime name, e.g. containerd.'),
        version: z.string().nullable().describe('Runtime version.'),
        apiVersion: z.string().nullable().describe('CRI API version.'),
        handler: z.string().nullable().describe("Runtime handler ('' for the default)."),
      })
      .describe('What the runtime said about itself; null fields when connecting failed.'),
    labels: stringMap.describe('report.labels and --label.'),
  })
  .describe('Where the run ran.');

const intervalSeries = z
  .object({
    count: count.describe('Successes in the interval.'),
    errors: count.describe('Failures in the interval.'),
    p50Ms: nonNegative.nullable().describe('Median, ms; null when count is 0.'),
    p90Ms: nonNegative.nullable().describe('90th percentile, ms; null when count is 0.'),
    p99Ms: nonNegative.nullable().describe('99th percentile, ms; null when count is 0.'),
    maxMs: nonNegative.nullable().describe('Maximum, ms; null when count is 0.'),
    histogram: histogram.nullable().describe("The interval's own histogram; null when count is 0."),
  })
  .meta({
    id: 'IntervalSeries',
    description: 'One operation (or the scheduler lag) in one interval.',
  });

const interval = z
  .object({
    startMs: nonNegative.describe(
      "Start, ms after the timeline's origin (the first recorded phase's start).",
    ),
    durationMs: nonNegative.describe('Width, ms; the last interval may be shorter.'),
    dropped: count.describe('Open-loop arrivals dropped in the interval.'),
    ops: z
      .partialRecord(opName, intervalSeries)
      .describe('Operations with any success or error in the interval.'),
    lag: intervalSeries
      .nullable()
      .describe('Scheduler lag of the arrivals released in the interval; null without open loop.'),
    harness: z
      .object({
        loopLagP99Ms: nonNegative
          .nullable()
          .describe("p99 of churn's stall-corrected event-loop lag in the interval, ms."),
        loopLagMaxMs: nonNegative.nullable().describe("Longest event-loop lag of churn's, ms."),
        utilization: nonNegative
          .nullable()
          .describe("Share of the interval churn's event loop was busy, 0..1."),
        cpuSeconds: nonNegative.nullable().describe("churn's CPU time in the interval, s."),
        load1: nonNegative.nullable().describe('Host 1-minute load average.'),
        stealPct: nonNegative.nullable().describe("CPU steal, % of the host's CPU."),
        otherCpuPct: nonNegative
          .nullable()
          .describe("CPU of processes neither churn nor the target, % of the host's CPU."),
      })
      .nullable()
      .default(null)
      .describe(
        'How healthy churn and the host were in the interval, from the resource samples (every second) that overlap it; null without samples.',
      ),
  })
  .describe('One interval of the timeline.');

const threshold = z
  .object({
    source: z.string().describe('The threshold as written, e.g. p99(start) < 250ms.'),
    metric: z
      .string()
      .describe(
        'p50 … p999, max, mean, error_rate, throughput, dropped, dropped_ratio, harness_lag_p99, leaked_pods, leaked_containers, leaked_processes, leaked_mounts, target_rss_slope, target_fds_slope or target_threads_slope.',
      ),
    op: opName.nullable().describe('The operation; null for run-wide metrics.'),
    comparator: z.enum(['<', '<=', '>', '>=', '==']).describe('Comparison operator.'),
    value: z
      .number()
      .describe(
        'The bound, in the metric base unit: ms for latency, a fraction for error_rate, per second for throughput, a count for dropped and leaked_…, % per hour for target_…_slope.',
      ),
    actual: z
      .number()
      .nullable()
      .describe('The measured value, same unit; null when there was nothing to measure.'),
    ok: z.boolean().describe('Whether the threshold held (false when actual is null).'),
    abortOnFail: z.boolean().describe('Whether a failure aborted the run early.'),
  })
  .describe('A threshold and how it fared over the whole run.');

const phase = z
  .looseObject({
    kind: z.enum(['closed', 'open', 'pause']).describe('Closed loop, open loop or a pause.'),
    name: z.string().describe('Phase name.'),
    durationMs: nonNegative.describe('Phase length, ms.'),
  })
  .describe('A load phase, resolved (concurrency or arrivalRate, rampTo, record, …).');

const step = z
  .looseObject({ kind: z.enum(['op', 'exec', 'sleep']).describe('Step kind.') })
  .describe('A cycle step, resolved: { kind: op, op }, { kind: exec, … } or { kind: sleep, … }.');

const workload = z
  .looseObject({
    name: z.string().describe('Workload name.'),
    weight: z.number().describe('Share of the cycles.'),
    image: z.string().describe('Image the containers run.'),
    command: z.array(z.string()).describe('Container command.'),
    steps: z.array(step).describe('The steps of a cycle.'),
  })
  .describe('A workload, resolved (every key of the scenario file, defaults filled in).');

/**
 * The resolved scenario as stored in a report. Only what churn reads back is checked
 * (comparability, rendering); the rest passes through as written.
 */
const resolvedScenario = z
  .looseObject({
    name: z.string().describe('Scenario name.'),
    description: z.string().describe('What the scenario exercises.'),
    target: z
      .looseObject({ driver: z.string().describe('builtin or cri.') })
      .describe('The runtime under test (driver, endpoint, runtimeHandler, …).'),
    faults: z
      .record(z.string(), z.unknown())
      .describe('Injected faults per operation (builtin driver).'),
    seed: z.number().int().optional().describe('Seed, when the scenario set one.'),
    workloads: z.array(workload).min(1).describe('The workloads, resolved.'),
    load: z
      .looseObject({
        phases: z.array(phase).describe('The phases, in order.'),
        maxInflight: z.number().describe('Open loop: concurrent cycles at most.'),
      })
      .describe('The load model (phases, maxInflight, iterations, drainTimeoutMs).'),
    thresholds: z.array(z.unknown()).describe('Thresholds as parsed.'),
    report: z
      .looseObject({
        labels: stringMap.describe('Labels of report.labels.'),
        intervalMs: z.number().describe('Timeline interval, ms.'),
      })
      .describe('Report settings (dir, labels, intervalMs).'),
  })
  .describe(
    'The resolved scenario the run followed (every default filled in), as src/scenario/schema.ts resolves it.',
  );

const mergedPart = z.object({
  id: z.string().describe('Run id of the part.'),
  start: isoTime.describe('Start of the part.'),
  end: isoTime.describe('End of the part.'),
  kernel: z.string().describe('Kernel of the host the part ran on.'),
  labels: stringMap.describe('Labels of the part.'),
  phasesStart: isoTime
    .nullable()
    .default(null)
    .describe("When the part's first phase began; null when none began or not recorded."),
  exitReason: exitReason
    .nullable()
    .default(null)
    .describe("How the part's run ended; null in older merges."),
  partial: z
    .boolean()
    .nullable()
    .default(null)
    .describe("Whether the part's report is partial; null in older merges."),
  cycles: z
    .object({
      succeeded: count.describe('Cycles of the part whose every step succeeded.'),
      failed: count.describe('Cycles of the part with a failed step.'),
      perSec: nonNegative
        .nullable()
        .default(null)
        .describe("The part's successful cycles per second; null: no cycle, or an older merge."),
      p50Ms: nonNegative
        .nullable()
        .default(null)
        .describe("The part's p50 cycle latency, ms; null: no cycle, or an older merge."),
      p90Ms: nonNegative
        .nullable()
        .default(null)
        .describe("The part's p90 cycle latency, ms; null: no cycle, or an older merge."),
      p99Ms: nonNegative.nullable().describe("The part's p99 cycle latency, ms; null: no cycle."),
      maxMs: nonNegative
        .nullable()
        .default(null)
        .describe("The part's longest cycle, ms; null: no cycle, or an older merge."),
    })
    .nullable()
    .default(null)
    .describe("The part's own cycle figures (a per-node breakdown); null in older merges."),
  operations: z
    .object({
      attempts: count.describe("The part's runtime operations (cycle excluded), failed or not."),
      errors: count.describe("The part's failed runtime operations."),
      errorsByCode: countsByCode.describe("The part's failed runtime operations by error code."),
    })
    .nullable()
    .default(null)
    .describe("The part's runtime operations and their errors; null in older merges."),
  thresholdsFailed: count
    .nullable()
    .default(null)
    .describe('Thresholds the part failed on its own figures; null in older merges.'),
});

const nullableCount = count.nullable();
const nullableBytes = nonNegative.nullable();

const resourcePoint = z
  .object({
    atMs: nonNegative.describe("End of the point's span, ms after resources.start."),
    spanMs: nonNegative.describe('Length of the span the point covers, ms (0 for the first).'),
    targetUp: z
      .boolean()
      .nullable()
      .describe(
        'Whether the target could be read (false if not at any sample); null: no target yet.',
      ),
    targetPid: count.nullable().describe('Pid of the target at the end of the span.'),
    targetCpuSeconds: nonNegative
      .nullable()
      .describe("CPU time of the target's own threads at the end of the span, s (cumulative)."),
    targetRssBytes: nullableBytes.describe('Peak resident memory of the target, bytes.'),
    targetOpenFds: nullableCount.describe('Peak open file descriptors of the target.'),
    targetThreads: nullableCount.describe('Peak threads of the target.'),
    shims: nullableCount.describe('Peak containerd shim processes of the target.'),
    shimRssBytes: nullableBytes.describe('Peak summed resident memory of the shims, bytes.'),
    harnessCpuSeconds: nonNegative.describe("churn's own CPU time at the end of the span, s."),
    harnessRssBytes: nonNegative.describe("Peak resident memory of churn's process, bytes."),
    harnessHeapUsedBytes: nonNegative.describe("Peak V8 heap of churn's process, bytes."),
    harnessOpenFds: nullableCount.describe("Peak open file descriptors of churn's process."),
    eventLoopLagP99Ms: nonNegative.describe(
      "Peak of the p99 of churn's event-loop delay over the last 60 s, ms.",
    ),
    eventLoopLagMaxMs: nonNegative.describe('Longest event-loop delay of churn, ms.'),
    eventLoopLagSpanP99Ms: nonNegative
      .nullable()
      .default(null)
      .describe(
        "p99 of churn's stall-corrected event-loop delay over the point's span (peak when merged), ms.",
      ),
    eventLoopUtilization: nonNegative
      .nullable()
      .default(null)
      .describe("Share of the span churn's event loop was busy, 0..1 (span-weighted mean)."),
    load1: nonNegative.nullable().default(null).describe('Host 1-minute load average.'),
    stealPct: nonNegative
      .nullable()
      .default(null)
      .describe("Host CPU steal, % of the host's CPU (span-weighted mean)."),
    otherCpuPct: nonNegative
      .nullable()
      .default(null)
      .describe(
        "CPU of processes neither churn nor the target (with its children and shims), % of the host's CPU (span-weighted mean).",
      ),
  })
  .meta({
    id: 'ResourcePoint',
    description:
      'One point of the resource series: counters as at its end, gauges at their peak within its span.',
  });

const resources = z
  .object({
    start: isoTime.describe('Origin of atMs: when sampling started (ISO 8601, UTC).'),
    intervalMs: nonNegative.describe(
      'Sampling period, ms; points cover multiples of it once coarsened.',
    ),
    target: z
      .object({
        name: z
          .string()
          .describe('The target label: containerd, churn-core, a process name, or churn.'),
        source: z
          .string()
          .describe(
            "How it was chosen: pid, process, driver (the pid the driver reported: the builtin core's process, a CRI daemon), or self (churn itself).",
          ),
      })
      .nullable()
      .describe('What was sampled as the runtime daemon; null when nothing was.'),
    points: z.array(resourcePoint).describe('The samples, oldest first.'),
  })
  .describe(
    'Resources of the runtime daemon (the target) and of churn, sampled every second; bounded: when 512 points exist neighbours merge and each point covers twice as long.',
  );

const harness = z
  .object({
    lagBoundMs: nonNegative.describe(
      "The bound on churn's event-loop lag p99 the run was judged by (integrity.maxHarnessLagP99), ms.",
    ),
    lagP99Ms: nonNegative.describe(
      "p99 of churn's event-loop lag over the run, ms: stall-corrected, so it reads the share of time the loop was late, not of ticks.",
    ),
    lagMaxMs: nonNegative.describe("Longest event-loop lag of churn's over the run, ms."),
    utilization: nonNegative
      .nullable()
      .describe("Share of the run churn's event loop was busy, 0..1; null when unknown."),
    cpuSeconds: nonNegative.describe("churn's CPU time over the run, s."),
    cpuWaitPct: nonNegative
      .nullable()
      .default(null)
      .describe(
        "Share of the run (the span its lag is judged over) churn's main thread was ready to run but waited for a CPU, % (its run-queue wait, /proc schedstat); null when unknown. High, the host's other work delayed churn's event loop, not churn's own.",
      ),
    contention: z
      .object({
        load1Mean: nonNegative.nullable().describe('Mean host 1-minute load average.'),
        stealPct: nonNegative.nullable().describe("Mean CPU steal, % of the host's CPU."),
        otherCpuPct: nonNegative
          .nullable()
          .describe("Mean CPU of processes neither churn nor the target, % of the host's CPU."),
      })
      .describe('How contended the host was, means over the resource samples; null when unknown.'),
    stalls: z
      .array(
        z.object({
          atMs: nonNegative.describe('Start of the interval, ms after the timeline origin.'),
          spanMs: nonNegative.describe('Width of the interval, ms.'),
          lagMaxMs: nonNegative.describe("Longest event-loop lag of churn's in it, ms."),
        }),
      )
      .describe("Timeline intervals in which churn's event-loop lag exceeded lagBoundMs."),
  })
  .meta({ id: 'Harness', description: "churn's own health over the run." });

const gaugeTrend = z
  .object({
    baseline: z.number().describe("The fitted line's value at the start of the span."),
    last: z.number().describe('The last reading.'),
    slopePerHour: z.number().describe('Slope of the least-squares line, units per hour.'),
    slopePctPerHour: z
      .number()
      .describe('The slope as a share of the baseline, % per hour (what target_…_slope reads).'),
  })
  .meta({ id: 'GaugeTrend', description: "A gauge's least-squares trend over a span." });

const leaks = z
  .object({
    pods: count
      .nullable()
      .describe("The run's pods still listed after the cleanup sweep; null: could not be listed."),
    containers: count
      .nullable()
      .describe("The run's containers still listed after the sweep; null: could not be listed."),
    podIds: z.array(z.string()).describe('Their ids (at most 50).'),
    containerIds: z.array(z.string()).describe('Their ids (at most 50).'),
    processes: count
      .nullable()
      .describe(
        "Processes left on the host: the runtime's shims and the built-in core's task processes whose container or pod is gone, and zombies of the runtime or its shims; only those that appeared during the run. null: the host was not scanned (notes say why).",
      ),
    mounts: count
      .nullable()
      .describe(
        "Mounts under the runtime's state directories that belong to no live container or pod, appeared during the run; null: not scanned.",
      ),
    processList: z
      .array(
        z.object({
          pid: count.describe('Process id.'),
          comm: z.string().describe('Command name (/proc/<pid>/comm).'),
          kind: z
            .enum(['shim', 'task', 'zombie'])
            .describe(
              "shim (containerd-shim, conmon), task (a process of the core's tasks) or zombie.",
            ),
          owner: z
            .string()
            .nullable()
            .describe('The container or pod it served, when it names one.'),
        }),
      )
      .describe('The leaked processes (at most 50).'),
    mountList: z.array(z.string()).describe('The leaked mount points (at most 50).'),
    preexisting: z
      .object({
        processes: count.describe('Orphaned processes found when the run started.'),
        mounts: count.describe('Orphaned mounts found when the run started.'),
      })
      .nullable()
      .describe(
        'What was orphaned already before the run (not counted as its leaks); null: no baseline.',
      ),
    roots: z
      .array(z.string())
      .describe("The runtime's state directories mounts were looked for under."),
    target: z
      .object({
        name: z.string().describe('The target label (containerd, churn-core, …).'),
        pid: count.describe('The process the trend is of (its latest, after a restart).'),
        fromMs: nonNegative.describe('First point of the trend, ms after resources.start.'),
        toMs: nonNegative.describe('Last point of the trend, ms after resources.start.'),
        points: count.describe('Resource points the trend is drawn through.'),
        rssBytes: gaugeTrend.nullable().describe('Resident memory, bytes; null: too few points.'),
        openFds: gaugeTrend.nullable().describe('Open file descriptors; null: too few points.'),
        threads: gaugeTrend.nullable().describe('Threads; null: too few points.'),
      })
      .nullable()
      .describe(
        "The runtime daemon's growth after warm-up (the resource target), as least-squares trends; null when no target was sampled.",
      ),
    checks: z
      .array(
        z.object({
          atMs: nonNegative.describe('When the check was taken, ms since the run started.'),
          pods: count.nullable().describe("The run's pods present (in-flight cycles' included)."),
          containers: count.nullable().describe("The run's containers present."),
          processes: count
            .nullable()
            .describe(
              "The runtime's shims, task processes and zombies that appeared since the run started (not judged as leaks: a steady soak keeps them flat); null: not scanned.",
            ),
          mounts: count
            .nullable()
            .describe(
              "The runtime's mounts under its state directories that appeared since the run started; null: not scanned.",
            ),
        }),
      )
      .describe('The checks during the run (leaks.checkInterval), oldest first.'),
    notes: z.array(z.string()).describe('What could not be checked, and why.'),
  })
  .meta({
    id: 'Leaks',
    description:
      'What the run left in the runtime and on the host after its own cleanup, and how the runtime daemon grew (docs/reports.md).',
  });

/** The report, schema version 1, as it is written and read. */
export const reportSchema = z
  .object({
    schemaVersion: z
      .literal(reportSchemaVersion)
      .describe('Version of this format; readers migrate older versions and refuse newer ones.'),
    run,
    environment,
    scenario: resolvedScenario,
    operations: operations.describe(
      'All workloads added together, per operation, in step order, cycle last.',
    ),
    workloads: z
      .record(
        z.string(),
        z
          .object({
            weight: z.number().describe("The workload's weight in the mix."),
            operations,
          })
          .describe('One workload (by name).'),
      )
      .describe('Per workload: its weight and the same figures as operations.'),
    cycles: z
      .object({
        started: count.describe('Cycles started.'),
        succeeded: count.describe('Cycles whose every step succeeded.'),
        failed: count.describe('Cycles with a failed step.'),
        cut: count.describe('Cycles cut off when the drain timed out.'),
        dropped: count.describe('Open-loop arrivals dropped (maxInflight reached).'),
        arrivals: count
          .nullable()
          .default(null)
          .describe(
            'Open-loop arrivals, released and dropped (the denominator of the dropped ratio); null in reports written before it was counted.',
          ),
      })
      .describe('Cycle counts over every phase, warm-up included.'),
    scheduling: z
      .object({
        dropped: count.describe('Open-loop arrivals dropped because maxInflight was reached.'),
        lagMs: latencyMs.nullable().describe('Scheduler lag (actual − intended start).'),
        lagHistogram: histogram.nullable().describe('Histogram of the scheduler lag.'),
        serviceTimeMs: latencyMs
          .nullable()
          .describe('Service time of open-loop cycles (from their actual start).'),
        serviceTimeHistogram: histogram.nullable().describe('Histogram of the service time.'),
      })
      .describe("Open-loop scheduling: drops, the scheduler's lag and the cycles' service time."),
    timeline: z
      .object({
        intervalMs: nonNegative.describe(
          'The configured interval (report.interval); later intervals are wider once the run has coarsened them.',
        ),
        intervals: z.array(interval).describe('The intervals, oldest first.'),
      })
      .describe(
        'Fixed intervals with per-operation counts, errors, percentiles and histograms; bounded: when 512 intervals exist neighbours merge and the width doubles.',
      ),
    thresholds: z.array(threshold).describe('Every threshold, evaluated over the whole run.'),
    cleanup: z
      .object({
        calls: count.describe('Cleanup calls of cycles.'),
        failures: count.describe('Cleanup calls that failed.'),
        failuresByCode: countsByCode.describe('Cleanup failures by error code.'),
        sweptPods: count.describe('Pods the final sweep found and removed.'),
        sweptContainers: count.describe('Containers the final sweep found and removed.'),
        remainingPods: count.describe('Pods still there after the sweep.'),
        remainingContainers: count.describe('Containers still there after the sweep.'),
      })
      .describe('What the cleanup did.'),
    warnings: z.array(z.string()).describe('Things a user should know about the run.'),
    outages: z
      .array(
        z.strictObject({
          startMs: nonNegative.describe(
            'When the first cycle that found the runtime unreachable (UNAVAILABLE) ended, ms since the run started.',
          ),
          endMs: nonNegative
            .nullable()
            .describe(
              'When the next cycle that succeeded ended, ms since the run started; null: the runtime never came back.',
            ),
          failedCycles: count.describe('Cycles that failed UNAVAILABLE in the outage.'),
        }),
      )
      .default([])
      .describe(
        'When the runtime was unreachable, as the run lived it: from the first failed cycle to the next successful one (recovery included).',
      ),
    resources: resources
      .nullable()
      .optional()
      .describe('Resource samples of the run; null or absent when none were taken.'),
    harness: harness
      .nullable()
      .default(null)
      .describe(
        'How healthy churn itself was over the run, and the bound it was judged by; null when not measured.',
      ),
    leaks: leaks
      .nullable()
      .default(null)
      .describe(
        'The leak audit after the cleanup; null when the run never reached its runtime, in merged reports, and in reports written before it existed.',
      ),
    mergedFrom: z
      .array(mergedPart)
      .nullable()
      .default(null)
      .describe(
        'For a report made by churn merge: the runs it adds up, in order; null for a single run.',
      ),
  })
  .meta({
    title: 'churn report',
    description:
      'The report of one churn run (or of several merged), schema version 1. See docs/reports.md.',
  });

/** Everything below `T` readonly: reports are values, never edited in place. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type Parsed = z.output<typeof reportSchema>;

/** How the run ended; anything but `completed` makes the report partial. */
export type ExitReason = Parsed['run']['exitReason'];
/** A latency summary, ms; every field derived from the histogram. */
export type LatencyMs = DeepReadonly<z.output<typeof latencyMs>>;
/** One operation, over all workloads or in one. */
export type ReportOperation = DeepReadonly<z.output<typeof reportOperation>>;
/** A checkpoint's facts: when, which, at what interval. */
export type ReportCheckpoint = DeepReadonly<z.output<typeof checkpoint>>;
/** The run itself. */
export type ReportRun = DeepReadonly<Parsed['run']>;
/** Where the run ran. */
export type ReportEnvironment = DeepReadonly<Parsed['environment']>;
/** One operation in one timeline interval. */
export type ReportIntervalSeries = DeepReadonly<z.output<typeof intervalSeries>>;
/** One interval of the timeline. */
export type ReportInterval = DeepReadonly<z.output<typeof interval>>;
/** A threshold and how it fared over the whole run. */
export type ReportThreshold = DeepReadonly<z.output<typeof threshold>>;
/** The resource series of a run. */
export type ReportResources = DeepReadonly<z.output<typeof resources>>;
/** churn's own health over a run. */
export type ReportHarness = DeepReadonly<z.output<typeof harness>>;
/** The leak audit of a run. */
export type ReportLeaks = DeepReadonly<z.output<typeof leaks>>;
/** churn's and the host's health in one interval. */
export type ReportIntervalHarness = NonNullable<ReportInterval['harness']>;
/** One run a merged report adds up. */
export type ReportMergedPart = DeepReadonly<z.output<typeof mergedPart>>;

/** A churn report, schema version 1; `scenario` is the resolved scenario the run followed. */
export type Report = DeepReadonly<Omit<Parsed, 'scenario' | 'operations'>> & {
  readonly scenario: Scenario;
  readonly operations: Readonly<Partial<Record<OpName, ReportOperation>>>;
};
