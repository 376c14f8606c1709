/**
 * The per-node view of a merged report: each part (a node of a cluster run) by name, and what
 * marks it — a part that failed, or one whose figures stand out from the other parts'.
 *
 * A part failed when its run did not complete (interrupted, aborted, broken, or only a
 * checkpoint) or it failed a threshold on its own figures. A part stands out, against the
 * other parts only (never itself, so one bad node of two still shows):
 * - latency: its p99 cycle latency is more than {@link outlierRules.p99Factor} times the
 *   median of the others' p99;
 * - errors: its error ratio (failed runtime operations over attempts) is more than
 *   {@link outlierRules.errorRatioFactor} times the others' pooled ratio plus
 *   {@link outlierRules.errorRatioMargin} (the per-node alert of dashboards/alerts.yaml asks the
 *   same of its 10-minute window);
 * - throughput: it finished fewer than {@link outlierRules.slowFraction} of the median of the
 *   others' cycles per second.
 * Figures an older merge did not keep (null) are left out of every comparison.
 */
import { formatPercent } from './render/format.js';
import type { ReportMergedPart } from './schema.js';

/** The bounds a part is judged by; see the module comment. */
export const outlierRules = {
  p99Factor: 2,
  errorRatioFactor: 3,
  errorRatioMargin: 0.001,
  slowFraction: 0.5,
} as const;

/** Why a part is marked: `failed` (its run or its thresholds) or `outlier` (it stands out). */
export interface PartMark {
  readonly kind: 'failed' | 'outlier';
  /** Which figure: `run`, `thresholds`, `p99`, `errors`, `throughput`. */
  readonly figure: 'run' | 'thresholds' | 'p99' | 'errors' | 'throughput';
  /** One sentence a reader understands on its own. */
  readonly text: string;
}

/** A part as the per-node view shows it. */
export interface PartView {
  readonly part: ReportMergedPart;
  /** The node's name (the part's `node` label), else the part's run id. */
  readonly name: string;
  /** Failed runtime operations over attempts; null when unknown or nothing was attempted. */
  readonly errorRatio: number | null;
  readonly marks: readonly PartMark[];
}

/** The parts of a merged report with their marks, in the report's order. */
export function judgeParts(parts: readonly ReportMergedPart[]): PartView[] {
  return parts.map((part, i) => {
    const others = parts.filter((_, j) => j !== i);
    return {
      part,
      name: part.labels['node'] ?? part.id,
      errorRatio: errorRatio(part),
      marks: [...failureMarks(part), ...outlierMarks(part, others)],
    };
  });
}

function errorRatio(part: ReportMergedPart): number | null {
  const ops = part.operations;
  return ops === null || ops.attempts === 0 ? null : ops.errors / ops.attempts;
}

function failureMarks(part: ReportMergedPart): PartMark[] {
  const marks: PartMark[] = [];
  if (part.exitReason === 'running') {
    marks.push({ kind: 'failed', figure: 'run', text: 'did not finish: only a checkpoint' });
  } else if (part.exitReason !== null && part.exitReason !== 'completed') {
    marks.push({ kind: 'failed', figure: 'run', text: `run ${part.exitReason}` });
  }
  if (part.thresholdsFailed !== null && part.thresholdsFailed > 0) {
    const n = part.thresholdsFailed;
    marks.push({
      kind: 'failed',
      figure: 'thresholds',
      text: `failed ${n} threshold${n === 1 ? '' : 's'} on its own figures`,
    });
  }
  return marks;
}

function outlierMarks(part: ReportMergedPart, others: readonly ReportMergedPart[]): PartMark[] {
  const marks: PartMark[] = [];
  const p99 = part.cycles?.p99Ms ?? null;
  const othersP99 = median(others.map((o) => o.cycles?.p99Ms ?? null));
  if (p99 !== null && othersP99 !== null && othersP99 > 0) {
    const factor = p99 / othersP99;
    if (factor > outlierRules.p99Factor) {
      marks.push({
        kind: 'outlier',
        figure: 'p99',
        text: `p99(cycle) ${round(factor)}× the other nodes' median`,
      });
    }
  }

  const ratio = errorRatio(part);
  const known = others.flatMap((o) => (o.operations === null ? [] : [o.operations]));
  const attempts = known.reduce((s, o) => s + o.attempts, 0);
  if (ratio !== null && known.length === others.length && attempts > 0) {
    const othersRatio = known.reduce((s, o) => s + o.errors, 0) / attempts;
    if (ratio > outlierRules.errorRatioFactor * othersRatio + outlierRules.errorRatioMargin) {
      marks.push({
        kind: 'outlier',
        figure: 'errors',
        text: `error ratio ${formatPercent(ratio)} vs ${formatPercent(othersRatio)} on the other nodes`,
      });
    }
  }

  const perSec = part.cycles?.perSec ?? null;
  const othersPerSec = median(others.map((o) => o.cycles?.perSec ?? null));
  if (perSec !== null && othersPerSec !== null && othersPerSec > 0) {
    if (perSec < outlierRules.slowFraction * othersPerSec) {
      marks.push({
        kind: 'outlier',
        figure: 'throughput',
        text: `${formatPercent(perSec / othersPerSec)} of the other nodes' median cycles/s`,
      });
    }
  }
  return marks;
}

/** Median of the known values; null when none is known. */
function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = known.length / 2;
  return known.length % 2 === 1 ? known[Math.floor(mid)]! : (known[mid - 1]! + known[mid]!) / 2;
}

function round(x: number): string {
  return String(Number(x.toFixed(1)));
}
