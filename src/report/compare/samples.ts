/**
 * The "group" step of a comparison: from each side's reports, per operation, the samples the
 * test ranks and the pooled figures the table shows.
 *
 * - `runs` mode (each side has several runs): one sample per run, its whole-run figures.
 * - `intervals` mode (a side has one run): one sample per timeline interval of every run on
 *   the side, after re-binning both sides to one common width (the widest interval of any
 *   report, since long runs coarsen theirs), so per-interval percentiles rest on comparable
 *   numbers of values. Bins covering less than half the width (the run's tail) are left out.
 *
 * Every histogram is decoded here; a bad one is a REPORT_INVALID naming the file and field.
 */
import type { OpName } from '../../common/operations.js';
import { Distribution } from '../distribution.js';
import type { Report } from '../schema.js';
import type { OpSample } from './statistics.js';

/** A report and where it came from (for messages). */
export interface LoadedReport {
  readonly report: Report;
  /** The file (or tag) it was read from. */
  readonly source: string;
}

/** How samples are formed; see the module comment. */
export type SampleMode = 'runs' | 'intervals';

/** One side's figures for one operation. */
export interface OpSamples {
  /** What the statistical test ranks. */
  readonly samples: readonly OpSample[];
  /** Everything on the side added up: what the table shows, what the bootstrap resamples. */
  readonly pooled: OpSample;
}

/** The widest timeline interval of any of `reports`, ms (0 when none has intervals). */
export function commonIntervalMs(reports: readonly LoadedReport[]): number {
  let width = 0;
  for (const { report } of reports) {
    for (const interval of report.timeline.intervals) width = Math.max(width, interval.durationMs);
  }
  return width;
}

/** Per operation, the samples of one side. */
export function groupSide(
  side: readonly LoadedReport[],
  mode: SampleMode,
  binMs: number,
): Map<OpName, OpSamples> {
  const out = new Map<OpName, { samples: OpSample[]; pooled: OpSample[] }>();
  const entry = (op: OpName): { samples: OpSample[]; pooled: OpSample[] } => {
    let e = out.get(op);
    if (e === undefined) {
      e = { samples: [], pooled: [] };
      out.set(op, e);
    }
    return e;
  };
  for (const { report, source } of side) {
    for (const [op, o] of Object.entries(report.operations) as [
      OpName,
      NonNullable<Report['operations'][OpName]>,
    ][]) {
      const whole: OpSample = {
        count: o.count,
        errors: o.errors,
        durationMs: report.run.recordedMs,
        distribution:
          o.histogram === null
            ? Distribution.empty()
            : Distribution.fromEncoded(o.histogram, `${source}: operations.${op}.histogram`),
      };
      const e = entry(op);
      e.pooled.push(whole);
      if (mode === 'runs') e.samples.push(whole);
    }
    if (mode === 'intervals') {
      for (const [op, samples] of binSamples(report, source, binMs))
        entry(op).samples.push(...samples);
    }
  }
  const result = new Map<OpName, OpSamples>();
  for (const [op, e] of out) result.set(op, { samples: e.samples, pooled: pool(e.pooled) });
  return result;
}

/** All of `parts` added up. */
export function pool(parts: readonly OpSample[]): OpSample {
  return {
    count: parts.reduce((s, p) => s + p.count, 0),
    errors: parts.reduce((s, p) => s + p.errors, 0),
    durationMs: parts.reduce((s, p) => s + p.durationMs, 0),
    distribution: Distribution.sum(parts.map((p) => p.distribution)),
  };
}

/**
 * The report's timeline re-binned to `binMs`-wide bins (by interval start), per operation one
 * sample per bin that covers at least half a bin. An operation absent from a bin counts as 0
 * successes and 0 errors there.
 */
function binSamples(report: Report, source: string, binMs: number): Map<OpName, OpSample[]> {
  interface Bin {
    coveredMs: number;
    ops: Map<OpName, { count: number; errors: number; parts: Distribution[] }>;
  }
  const bins = new Map<number, Bin>();
  const ops = new Set<OpName>(Object.keys(report.operations) as OpName[]);
  report.timeline.intervals.forEach((interval, i) => {
    const key = binMs > 0 ? Math.floor(interval.startMs / binMs + 1e-9) : i;
    let bin = bins.get(key);
    if (bin === undefined) {
      bin = { coveredMs: 0, ops: new Map() };
      bins.set(key, bin);
    }
    bin.coveredMs += interval.durationMs;
    for (const [op, series] of Object.entries(interval.ops) as [
      OpName,
      NonNullable<Report['timeline']['intervals'][number]['ops'][OpName]>,
    ][]) {
      ops.add(op);
      let s = bin.ops.get(op);
      if (s === undefined) {
        s = { count: 0, errors: 0, parts: [] };
        bin.ops.set(op, s);
      }
      s.count += series.count;
      s.errors += series.errors;
      if (series.histogram !== null) {
        s.parts.push(
          Distribution.fromEncoded(
            series.histogram,
            `${source}: timeline.intervals[${i}].ops.${op}.histogram`,
          ),
        );
      }
    }
  });
  const out = new Map<OpName, OpSample[]>();
  for (const op of ops) out.set(op, []);
  for (const key of [...bins.keys()].sort((a, b) => a - b)) {
    const bin = bins.get(key)!;
    if (bin.coveredMs < binMs / 2) continue;
    for (const op of ops) {
      const s = bin.ops.get(op);
      out.get(op)!.push({
        count: s?.count ?? 0,
        errors: s?.errors ?? 0,
        durationMs: bin.coveredMs,
        distribution: s === undefined ? Distribution.empty() : Distribution.sum(s.parts),
      });
    }
  }
  return out;
}
