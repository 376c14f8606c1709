/**
 * `churn merge`: several reports of the same scenario (one per node, or per instance) added up
 * into one report, exactly: counts and errors add, histograms add (every churn histogram has the
 * same layout), and every summary is recomputed from the added histograms.
 *
 * The parts are taken to have run side by side (nodes of one cluster): throughput adds, the
 * merged run spans from the earliest start to the latest end and its recorded time is the
 * longest part's, and the timelines are aligned on wall-clock time (each part's intervals are
 * shifted by its start's offset from the earliest start, then binned to the widest interval
 * width, coarsened further if needed to stay within 512 intervals). Thresholds are evaluated
 * again on the merged figures. `mergedFrom` lists the parts. Parts whose windows do not
 * overlap by half the shorter one are named in a warning (merge-overlap.ts).
 */
import { runMarks } from '../common/run-marks.js';
import { createHash } from 'node:crypto';
import { ChurnError } from '../common/errors.js';
import { opNames, type OpName } from '../common/operations.js';
import { mergeEncoded, summarizeEncoded } from '../metrics/hdr.js';
import { latencyMs } from './build.js';
import { checkpointNotice, isCheckpoint } from './checkpoint.js';
import { assertComparable, environmentWarnings } from './comparable.js';
import { overlapWarning } from './merge-overlap.js';
import type {
  ExitReason,
  LatencyMs,
  Report,
  ReportInterval,
  ReportIntervalSeries,
  ReportMergedPart,
  ReportOperation,
  ReportThreshold,
} from './schema.js';

/** A report to merge and where it came from (for messages). */
export interface MergeInput {
  readonly report: Report;
  readonly source: string;
}

/** Options of {@link mergeReports}. */
export interface MergeOptions {
  /** Run id of the merged report; by default `merged-` and a hash of the parts' ids. */
  readonly runId?: string;
  /** Most intervals the merged timeline keeps. Default 512 (as the recorder). */
  readonly maxIntervals?: number;
}

// A checkpoint's run had not finished (still running, or killed): worse than completed,
// milder than a run that ended stopped or broken.
const severity: Readonly<Record<ExitReason, number>> = {
  completed: 0,
  running: 1,
  interrupted: 2,
  aborted: 3,
  broken: 4,
};

/**
 * Merges `parts` (at least two) into one report; see the module comment. Throws
 * NOT_COMPARABLE (naming the field) for parts of different scenarios, USAGE for fewer than two.
 */
export function mergeReports(parts: readonly MergeInput[], options: MergeOptions = {}): Report {
  if (parts.length < 2) throw new ChurnError('USAGE', 'merge needs at least two reports');
  assertDistinctRuns(parts);
  const first = parts[0]!;
  for (const other of parts.slice(1)) assertComparable(first, other, 'merge');
  const reports = parts.map((p) => p.report);

  const startMs = Math.min(...reports.map((r) => Date.parse(r.run.start)));
  const endMs = Math.max(...reports.map((r) => Date.parse(r.run.end)));
  const worst = reports.reduce((a, r) =>
    severity[r.run.exitReason] > severity[a.run.exitReason] ? r : a,
  );
  const mergedFrom: ReportMergedPart[] = reports.flatMap((r) => r.mergedFrom ?? [mergedPart(r)]);
  const runId =
    options.runId ??
    `merged-${createHash('sha256')
      .update(mergedFrom.map((p) => p.id).join(','))
      .digest('hex')
      .slice(0, 8)}`;

  const labels: Record<string, string> = {};
  for (const r of [...reports].reverse()) Object.assign(labels, r.environment.labels);
  const overlap = mergeOverlapWarning(parts);
  const warnings = [
    ...new Set([
      ...(overlap === undefined ? [] : [overlap]),
      ...parts
        .filter((p) => isCheckpoint(p.report))
        .map((p) => `${p.source}: ${checkpointNotice(p.report)}`),
      ...environmentWarnings(parts).map((w) => `parts' ${w}`),
      ...reports.flatMap((r) => r.warnings.map((w) => `${r.run.id}: ${w}`)),
    ]),
  ];

  const operations = mergeOperations(reports.map((r) => r.operations));
  const workloads: Record<
    string,
    { weight: number; operations: Partial<Record<OpName, ReportOperation>> }
  > = {};
  const workloadNames = [...new Set(reports.flatMap((r) => Object.keys(r.workloads)))];
  for (const name of workloadNames) {
    const present = reports.flatMap((r) => {
      const w = r.workloads[name];
      return w === undefined ? [] : [w];
    });
    workloads[name] = {
      weight: present[0]!.weight,
      operations: mergeOperations(present.map((w) => w.operations)),
    };
  }
  const lagHistogram = mergeHistograms(reports.map((r) => r.scheduling.lagHistogram));
  const serviceHistogram = mergeHistograms(reports.map((r) => r.scheduling.serviceTimeHistogram));
  const dropped = sum(reports, (r) => r.scheduling.dropped);
  const recordedMs = Math.max(...reports.map((r) => r.run.recordedMs));

  const merged: Report = {
    schemaVersion: first.report.schemaVersion,
    run: {
      id: runId,
      scenario: first.report.run.scenario,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      phasesStart: earliest(mergedFrom.map((p) => p.phasesStart)),
      durationMs: endMs - startMs,
      recordedMs,
      partial: reports.some((r) => r.run.partial),
      exitReason: worst.run.exitReason,
      endedBy: reports.every((r) => r.run.exitReason === 'completed')
        ? first.report.run.endedBy
        : null,
      seed: first.report.run.seed,
      error: reports.find((r) => r.run.error !== null)?.run.error ?? null,
      abortedBy: reports.find((r) => r.run.abortedBy !== null)?.run.abortedBy ?? null,
      // A mark of any part marks the whole.
      marks: runMarks.filter((m) => reports.some((r) => r.run.marks.includes(m))),
      // Set when the merged exit reason is a part's `running`: that part's checkpoint.
      checkpoint: worst.run.checkpoint,
    },
    environment: { ...first.report.environment, labels },
    scenario: first.report.scenario,
    operations,
    workloads,
    cycles: {
      started: sum(reports, (r) => r.cycles.started),
      succeeded: sum(reports, (r) => r.cycles.succeeded),
      failed: sum(reports, (r) => r.cycles.failed),
      cut: sum(reports, (r) => r.cycles.cut),
      dropped: sum(reports, (r) => r.cycles.dropped),
      arrivals: reports.every((r) => r.cycles.arrivals !== null)
        ? sum(reports, (r) => r.cycles.arrivals ?? 0)
        : null,
    },
    scheduling: {
      dropped,
      lagMs: summaryOf(lagHistogram),
      lagHistogram,
      serviceTimeMs: summaryOf(serviceHistogram),
      serviceTimeHistogram: serviceHistogram,
    },
    timeline: {
      intervalMs: Math.max(...reports.map((r) => r.timeline.intervalMs)),
      intervals: mergeTimelines(reports, startMs, options.maxIntervals ?? 512),
    },
    thresholds: first.report.thresholds.map((t) => reevaluate(t, operations, dropped, reports)),
    cleanup: {
      calls: sum(reports, (r) => r.cleanup.calls),
      failures: sum(reports, (r) => r.cleanup.failures),
      failuresByCode: addCounts(reports.map((r) => r.cleanup.failuresByCode)),
      sweptPods: sum(reports, (r) => r.cleanup.sweptPods),
      sweptContainers: sum(reports, (r) => r.cleanup.sweptContainers),
      remainingPods: sum(reports, (r) => r.cleanup.remainingPods),
      remainingContainers: sum(reports, (r) => r.cleanup.remainingContainers),
    },
    warnings,
    // Each run's outages, on the merged report's clock.
    outages: reports
      .flatMap((r) => {
        const shiftMs = Date.parse(r.run.start) - startMs;
        return r.outages.map((o) => ({
          startMs: o.startMs + shiftMs,
          endMs: o.endMs === null ? null : o.endMs + shiftMs,
          failedCycles: o.failedCycles,
        }));
      })
      .sort((a, b) => a.startMs - b.startMs),
    // Each part sampled its own node's daemon: there is no sum of them to keep.
    resources: null,
    // Each part's harness is its own process's; they do not add up.
    harness: null,
    leaks: mergeLeaks(reports),
    mergedFrom,
  };
  return merged;
}

/** What a merged report keeps of one single-run part: its own figures, for a per-node view. */
export function mergedPart(r: Report): ReportMergedPart {
  const cycle = r.operations.cycle;
  const runtimeOps = Object.entries(r.operations).filter(([op]) => op !== 'cycle');
  return {
    id: r.run.id,
    start: r.run.start,
    end: r.run.end,
    kernel: r.environment.kernel,
    labels: r.environment.labels,
    phasesStart: r.run.phasesStart,
    exitReason: r.run.exitReason,
    partial: r.run.partial,
    cycles: {
      succeeded: r.cycles.succeeded,
      failed: r.cycles.failed,
      perSec: cycle?.throughputPerSec ?? null,
      p50Ms: cycle?.latencyMs?.p50 ?? null,
      p90Ms: cycle?.latencyMs?.p90 ?? null,
      p99Ms: cycle?.latencyMs?.p99 ?? null,
      maxMs: cycle?.latencyMs?.max ?? null,
    },
    operations: {
      attempts: sum(runtimeOps, ([, o]) => o.count + o.errors),
      errors: sum(runtimeOps, ([, o]) => o.errors),
      errorsByCode: addCounts(runtimeOps.map(([, o]) => o.errorsByCode)),
    },
    thresholdsFailed: r.thresholds.filter((t) => !t.ok).length,
  };
}

/**
 * The warning for `parts` that did not run at the same time (see merge-overlap.ts), each part
 * by its own start and end; undefined when they did.
 */
export function mergeOverlapWarning(parts: readonly MergeInput[]): string | undefined {
  return overlapWarning(
    parts.map(({ report, source }) => ({
      source,
      startMs: Date.parse(report.run.start),
      endMs: Date.parse(report.run.end),
    })),
  );
}

/**
 * Throws NOT_COMPARABLE when a run would be counted twice: the same run given twice, or a
 * merged report together with one of its parts (its `mergedFrom`). A run is its id and start,
 * so the nodes of one Job that share a `--run-id` are still different runs.
 */
export function assertDistinctRuns(parts: readonly MergeInput[]): void {
  const seen = new Map<string, MergeInput>();
  for (const part of parts) {
    const runs = part.report.mergedFrom ?? [
      { id: part.report.run.id, start: part.report.run.start },
    ];
    for (const run of runs) {
      const key = `${run.id}@${run.start}`;
      const earlier = seen.get(key);
      if (earlier === undefined) {
        seen.set(key, part);
        continue;
      }
      const describe = (p: MergeInput): string =>
        p.report.mergedFrom == null
          ? p.source
          : `${p.source} (merged from ${p.report.mergedFrom.map((m) => m.id).join(', ')})`;
      const same = earlier === part || earlier.source === part.source;
      throw new ChurnError(
        'NOT_COMPARABLE',
        `cannot merge: run ${run.id} (started ${run.start}) would count twice: it is in ${
          same
            ? `${describe(part)}, given more than once`
            : `${describe(earlier)} and in ${describe(part)}`
        }; give each run once (a merged report already holds its parts)`,
      );
    }
  }
}

function sum<T>(items: readonly T[], get: (item: T) => number): number {
  return items.reduce((s, item) => s + get(item), 0);
}

/** Counts by code added, codes sorted. */
function addCounts(
  maps: readonly Readonly<Record<string, number>>[],
): Readonly<Record<string, number>> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, v] of Object.entries(m)) out.set(k, (out.get(k) ?? 0) + v);
  const sorted: Record<string, number> = {};
  for (const k of [...out.keys()].sort()) sorted[k] = out.get(k)!;
  return sorted;
}

/** The encoded sum of the non-null histograms; null when all are null. */
function mergeHistograms(encoded: readonly (string | null)[]): string | null {
  const present = encoded.filter((h): h is string => h !== null);
  if (present.length === 0) return null;
  return present.length === 1 ? present[0]! : mergeEncoded(present);
}

function summaryOf(histogram: string | null): LatencyMs | null {
  return histogram === null ? null : latencyMs(summarizeEncoded(histogram));
}

/** Operation maps added up, in the first map's order, new operations after, `cycle` last. */
function mergeOperations(
  maps: readonly Readonly<Partial<Record<OpName, ReportOperation>>>[],
): Partial<Record<OpName, ReportOperation>> {
  const order = [...new Set(maps.flatMap((m) => Object.keys(m) as OpName[]))].sort(
    (a, b) => (a === 'cycle' ? 1 : 0) - (b === 'cycle' ? 1 : 0),
  );
  const out: Partial<Record<OpName, ReportOperation>> = {};
  for (const op of order) {
    const present = maps.flatMap((m) => (m[op] === undefined ? [] : [m[op]]));
    const histogram = mergeHistograms(present.map((o) => o.histogram));
    out[op] = {
      count: sum(present, (o) => o.count),
      errors: sum(present, (o) => o.errors),
      errorsByCode: addCounts(present.map((o) => o.errorsByCode)),
      throughputPerSec: sum(present, (o) => o.throughputPerSec),
      latencyMs: summaryOf(histogram),
      histogram,
    };
  }
  return out;
}

/** The parts' timelines on one wall-clock axis, binned to a common width; see the module comment. */
function mergeTimelines(
  reports: readonly Report[],
  startMs: number,
  maxIntervals: number,
): ReportInterval[] {
  const placed = reports.flatMap((r) => {
    const offsetMs = Date.parse(r.run.start) - startMs;
    return r.timeline.intervals.map((i) => ({ ...i, startMs: i.startMs + offsetMs }));
  });
  if (placed.length === 0) return [];
  let widthMs = Math.max(...reports.flatMap((r) => r.timeline.intervals.map((i) => i.durationMs)));
  const endMs = Math.max(...placed.map((i) => i.startMs + i.durationMs));
  while (Math.ceil(endMs / widthMs) > maxIntervals) widthMs *= 2;

  const bins = new Map<number, (typeof placed)[number][]>();
  for (const interval of placed) {
    const key = Math.floor(interval.startMs / widthMs + 1e-9);
    bins.set(key, [...(bins.get(key) ?? []), interval]);
  }
  return [...bins.keys()]
    .sort((a, b) => a - b)
    .map((key): ReportInterval => {
      const members = bins.get(key)!;
      const binStart = key * widthMs;
      const ops: Partial<Record<OpName, ReportIntervalSeries>> = {};
      for (const op of opNames) {
        const series = members.flatMap((m) => (m.ops[op] === undefined ? [] : [m.ops[op]]));
        if (series.length > 0) ops[op] = mergeSeries(series);
      }
      const lags = members.flatMap((m) => (m.lag === null ? [] : [m.lag]));
      return {
        startMs: binStart,
        durationMs: Math.min(
          widthMs,
          Math.max(...members.map((m) => m.startMs + m.durationMs)) - binStart,
        ),
        dropped: sum(members, (m) => m.dropped),
        ops: orderCycleLast(ops, members),
        lag: lags.length === 0 ? null : mergeSeries(lags),
        harness: null,
      };
    });
}

/** `ops` in the order the members list them (step order), cycle last. */
function orderCycleLast(
  ops: Partial<Record<OpName, ReportIntervalSeries>>,
  members: readonly ReportInterval[],
): Partial<Record<OpName, ReportIntervalSeries>> {
  const order = [...new Set(members.flatMap((m) => Object.keys(m.ops) as OpName[]))].sort(
    (a, b) => (a === 'cycle' ? 1 : 0) - (b === 'cycle' ? 1 : 0),
  );
  const out: Partial<Record<OpName, ReportIntervalSeries>> = {};
  for (const op of order) if (ops[op] !== undefined) out[op] = ops[op];
  return out;
}

function mergeSeries(series: readonly ReportIntervalSeries[]): ReportIntervalSeries {
  const histogram = mergeHistograms(series.map((s) => s.histogram));
  const summary = histogram === null ? undefined : summarizeEncoded(histogram);
  return {
    count: sum(series, (s) => s.count),
    errors: sum(series, (s) => s.errors),
    p50Ms: summary === undefined ? null : summary.p50 / 1000,
    p90Ms: summary === undefined ? null : summary.p90 / 1000,
    p99Ms: summary === undefined ? null : summary.p99 / 1000,
    maxMs: summary === undefined ? null : summary.max / 1000,
    histogram,
  };
}

/** A threshold's actual value and outcome on the merged figures (see load/threshold-eval.ts). */
function reevaluate(
  t: ReportThreshold,
  operations: Partial<Record<OpName, ReportOperation>>,
  dropped: number,
  parts: readonly Report[],
): ReportThreshold {
  let actual: number | null = null;
  if (t.metric === 'dropped') {
    actual = dropped;
  } else if (t.metric === 'dropped_ratio') {
    // Over the parts' arrivals; unknown when a part did not count them.
    const known = parts.every((r) => r.cycles.arrivals !== null);
    const arrivals = sum(parts, (r) => r.cycles.arrivals ?? 0);
    const partsDropped = sum(parts, (r) => r.cycles.dropped);
    actual = known && arrivals > 0 ? partsDropped / arrivals : null;
  } else if (t.metric === 'harness_lag_p99') {
    // Each part's harness is its own process: the merged run is as healthy as its worst part.
    const lags = parts.map(
      (r) => r.thresholds.find((p) => p.source === t.source)?.actual ?? r.harness?.lagP99Ms,
    );
    const known = lags.filter((l): l is number => typeof l === 'number');
    actual = known.length === lags.length ? Math.max(...known) : null;
  } else if (t.metric.startsWith('leaked_') || t.metric.endsWith('_slope')) {
    // Each part audited its own node: leaks add up, a daemon's growth is its worst node's.
    const values = parts.map((r) => r.thresholds.find((p) => p.source === t.source)?.actual);
    const known = values.filter((v): v is number => typeof v === 'number');
    if (known.length === values.length) {
      actual = t.metric.startsWith('leaked_')
        ? known.reduce((a, b) => a + b, 0)
        : Math.max(...known);
    }
  } else if (t.metric === 'error_rate') {
    const ops =
      t.op === null ? (Object.keys(operations) as OpName[]).filter((o) => o !== 'cycle') : [t.op];
    const errors = ops.reduce((s, o) => s + (operations[o]?.errors ?? 0), 0);
    const attempts = ops.reduce(
      (s, o) => s + (operations[o]?.count ?? 0) + (operations[o]?.errors ?? 0),
      0,
    );
    actual = attempts === 0 ? null : errors / attempts;
  } else if (t.metric === 'throughput') {
    actual = t.op === null ? null : (operations[t.op]?.throughputPerSec ?? null);
  } else if (t.op !== null) {
    const latency = operations[t.op]?.latencyMs;
    actual = latency?.[t.metric as keyof LatencyMs] ?? null;
  }
  return { ...t, actual, ok: actual !== null && holds(t.comparator, actual, t.value) };
}

/**
 * The parts' leak audits added up (each audited its own node): counts summed, unknown when a
 * part's is; lists joined (each still at most 50); no trend, as each part sampled its own
 * daemon. Null when a part had no audit.
 */
function mergeLeaks(reports: readonly Report[]): Report['leaks'] {
  const audits = reports.map((r) => r.leaks);
  if (audits.some((a) => a === null)) return null;
  const all = audits as readonly NonNullable<Report['leaks']>[];
  const total = (field: (a: NonNullable<Report['leaks']>) => number | null): number | null =>
    all.every((a) => field(a) !== null) ? all.reduce((n, a) => n + (field(a) ?? 0), 0) : null;
  const joined = <T>(list: (a: NonNullable<Report['leaks']>) => readonly T[]): T[] =>
    all.flatMap(list).slice(0, 50);
  return {
    pods: total((a) => a.pods),
    containers: total((a) => a.containers),
    podIds: joined((a) => a.podIds),
    containerIds: joined((a) => a.containerIds),
    processes: total((a) => a.processes),
    mounts: total((a) => a.mounts),
    processList: joined((a) => a.processList),
    mountList: joined((a) => a.mountList),
    preexisting: all.every((a) => a.preexisting !== null)
      ? {
          processes: all.reduce((n, a) => n + (a.preexisting?.processes ?? 0), 0),
          mounts: all.reduce((n, a) => n + (a.preexisting?.mounts ?? 0), 0),
        }
      : null,
    roots: [...new Set(all.flatMap((a) => a.roots))],
    target: null,
    checks: [],
    notes: reports.flatMap((r) => (r.leaks?.notes ?? []).map((n) => `${r.run.id}: ${n}`)),
  };
}

function holds(comparator: ReportThreshold['comparator'], actual: number, bound: number): boolean {
  switch (comparator) {
    case '<':
      return actual < bound;
    case '<=':
      return actual <= bound;
    case '>':
      return actual > bound;
    case '>=':
      return actual >= bound;
    case '==':
      return actual === bound;
  }
}

/** The earliest of ISO instants, null when there is none. */
function earliest(instants: readonly (string | null)[]): string | null {
  const ms = instants.filter((i): i is string => i !== null).map((i) => Date.parse(i));
  return ms.length === 0 ? null : new Date(Math.min(...ms)).toISOString();
}
