/**
 * `churn compare`'s method, split benchstat-style into parse (the reader, before this), group
 * (samples.ts), statistics (here) and render (render/compare-*.ts).
 *
 * For every operation × statistic (p50, p90, p99, p99.9, mean, throughput, error rate):
 * - the pooled value of each side (all its runs added up) and the relative change;
 * - a two-sided Mann-Whitney U test between the sides' samples: one value per run when both
 *   sides have several runs, else one value per timeline interval (re-binned to a common width);
 *   for a percentile whose intervals hold too few values to estimate it in each, a permutation
 *   test over the intervals instead (permutation.ts);
 * - for percentiles, a seeded block-bootstrap confidence interval of the change (bootstrap.ts):
 *   whole intervals (or runs) are resampled, never single latencies, which are autocorrelated
 *   within a run;
 * - Benjamini-Hochberg adjustment of the p-values over every row tested.
 * A row's verdict is `regression` or `improvement` only when the adjusted p is below alpha, the
 * change is at least the minimum effect, the test's direction agrees with the change, and (for
 * percentiles) the confidence interval excludes zero; otherwise `~`. Caveats (runs marked
 * harness-bound or overloaded, host contention that differed, too few samples, environments
 * that differ, partial runs) are warnings in the result, never exceptions.
 *
 * Both sides must have measured one runtime (driver, runtime name, handler), unless a
 * cross-runtime comparison is asked for (`acrossRuntimes`); even then each side's runs share
 * one (runtime-identity.ts), and the result names the sides' runtimes.
 */
import { ChurnError } from '../../common/errors.js';
import type { OpName } from '../../common/operations.js';
import { assertComparable, defaultImagesNote, environmentWarnings } from '../comparable.js';
import { checkpointNotice, isCheckpoint } from '../checkpoint.js';
import { contentionWarning, markWarnings, runMarks } from '../run-health.js';
import {
  checkSideRuntimes,
  runtimeIdentity,
  runtimeLabel,
  type SideRuntimes,
} from '../runtime-identity.js';
import { benjaminiHochberg } from './benjamini-hochberg.js';
import { BlockGrid } from './block-grid.js';
import {
  blockBootstrapPercentiles,
  type BootstrapChange,
  type ChangeInterval,
} from './bootstrap.js';
import { permutationTestPercentiles } from './permutation.js';
import { mannWhitneyU, smallestPossibleP } from './mann-whitney.js';
import {
  commonIntervalMs,
  groupSide,
  type LoadedReport,
  type OpSamples,
  type SampleMode,
} from './samples.js';
import { deriveSeed } from '../../common/seeded-random.js';
import {
  compareStatistics,
  statisticInfo,
  statisticValue,
  type CompareStatistic,
} from './statistics.js';

/** A row's verdict: worse, better, or no significant change (`~`). */
export type Verdict = 'regression' | 'improvement' | '~';

/**
 * The test behind a row's p: Mann-Whitney U over runs or intervals, or (for a percentile whose
 * intervals hold too few values to estimate it in each) a permutation test over the intervals.
 */
export type RowTest = 'mann-whitney' | 'permutation';

/** Options of {@link compareReports}. */
export interface CompareOptions {
  /** Significance level of the adjusted p-values; default 0.05. */
  readonly alpha?: number;
  /** Smallest relative change that counts, percent; default 5. */
  readonly minEffectPct?: number;
  /** How samples are formed; default `auto` (runs when both sides have ≥ 2 runs). */
  readonly mode?: SampleMode | 'auto';
  /** Statistics to compare; default all of {@link compareStatistics}. */
  readonly statistics?: readonly CompareStatistic[];
  /** Operations to compare; default every operation of either side. */
  readonly ops?: readonly OpName[];
  /** Bootstrap draws, and permutations of the permutation test, per operation; default 2000. */
  readonly bootstrapDraws?: number;
  /**
   * Allow the sides to have measured different runtimes (driver, runtime name, handler): a
   * cross-runtime comparison. Default false: such a mix is refused (NOT_COMPARABLE).
   */
  readonly acrossRuntimes?: boolean;
}

/** One operation × statistic. Values in ms (latency), per second, or a fraction (errors). */
export interface ComparisonRow {
  readonly op: OpName;
  readonly statistic: CompareStatistic;
  readonly unit: 'ms' | 'per_sec' | 'ratio';
  /** Pooled value of the base side; null when the side has no value (no success, say). */
  readonly base: number | null;
  readonly candidate: number | null;
  /** (candidate − base) / base × 100; null when either is missing or the base is 0. */
  readonly deltaPct: number | null;
  /** Block-bootstrap confidence interval of deltaPct (percentiles only), level 1 − alpha. */
  readonly ci: ChangeInterval | null;
  /** Benjamini-Hochberg adjusted p-value; null when not tested. */
  readonly p: number | null;
  /** The test's p-value before adjustment. */
  readonly pRaw: number | null;
  /** Which test gave p. */
  readonly test: RowTest | null;
  /**
   * Samples on each side: runs or intervals with values (Mann-Whitney), blocks of intervals
   * (permutation; consecutive intervals grouped when a side has more than 64).
   */
  readonly n: { readonly base: number; readonly candidate: number };
  readonly verdict: Verdict;
  /** Why a row could not be judged, e.g. `too few samples`. */
  readonly note: string | null;
}

/** A run that took part. */
export interface ComparisonRun {
  readonly source: string;
  readonly runId: string;
  readonly start: string;
  readonly partial: boolean;
  /** A checkpoint of a run still running or killed, not its final report. */
  readonly checkpoint: boolean;
  readonly runtime: string;
  /** The run's marks (`harness-bound`, `overloaded`); [] for none. */
  readonly marks: readonly string[];
}

/** The outcome of {@link compareReports}. */
export interface Comparison {
  readonly scenario: string;
  readonly mode: SampleMode;
  /** Width of the interval bins (intervals mode), ms; null in runs mode. */
  readonly binMs: number | null;
  readonly alpha: number;
  readonly minEffectPct: number;
  /** Rows tested (the size of the Benjamini-Hochberg family). */
  readonly tests: number;
  readonly base: readonly ComparisonRun[];
  readonly candidate: readonly ComparisonRun[];
  /** Each side's runtime when they differ (a cross-runtime comparison); null when they share one. */
  readonly acrossRuntimes: SideRuntimes | null;
  readonly rows: readonly ComparisonRow[];
  readonly warnings: readonly string[];
  /** How the comparison was made, beyond the method line (e.g. the closed-loop rule). */
  readonly notes: readonly string[];
  readonly regressions: number;
  readonly improvements: number;
}

/**
 * Compares `base` with `candidate` (one or more reports each); see the module comment. Throws
 * NOT_COMPARABLE (naming the field) when the runs followed different scenarios, or measured
 * different runtimes (see {@link CompareOptions.acrossRuntimes}); USAGE when a side is empty or
 * an option is out of range.
 */
export function compareReports(
  base: readonly LoadedReport[],
  candidate: readonly LoadedReport[],
  options: CompareOptions = {},
): Comparison {
  const alpha = options.alpha ?? 0.05;
  const minEffectPct = options.minEffectPct ?? 5;
  if (base.length === 0 || candidate.length === 0) {
    throw new ChurnError('USAGE', 'compare needs at least one report on each side');
  }
  if (!(alpha > 0 && alpha < 1)) {
    throw new ChurnError('USAGE', `alpha ${alpha} is not in (0, 1): use e.g. 0.05`);
  }
  if (!(minEffectPct >= 0)) {
    throw new ChurnError('USAGE', `min-effect ${minEffectPct}% is negative: use e.g. 5%`);
  }
  const all = [...base, ...candidate];
  // Runtimes first: a plain comparison of two runtimes is refused naming the flag that allows
  // it, before any scenario difference the drivers' defaults (the image) make.
  const across = options.acrossRuntimes ?? false;
  const runtimes = checkSideRuntimes(base, candidate, across) ?? null;
  for (const other of all.slice(1)) {
    assertComparable(all[0]!, other, 'compare', { acrossRuntimes: across });
  }

  // Marked runs first: their figures may not be the runtime's at all.
  const warnings = markWarnings(all);
  const contention = contentionWarning(
    base.map((b) => b.report),
    candidate.map((c) => c.report),
  );
  if (contention !== undefined) warnings.push(contention);
  if (runtimes === null) {
    warnings.push(...environmentWarnings(all));
  } else {
    // The runtimes differ on purpose; their versions can still differ within a side.
    warnings.push(
      ...environmentWarnings(all, 'host'),
      ...environmentWarnings(base, 'runtime'),
      ...environmentWarnings(candidate, 'runtime'),
    );
  }
  for (const { report, source } of all) {
    if (isCheckpoint(report)) {
      // Given explicitly (`latest` never picks one as the base): compared, and said loudly.
      warnings.unshift(`${source} is a ${checkpointNotice(report)}`);
    } else if (report.run.partial) {
      warnings.push(`${source} is a partial run (${report.run.exitReason})`);
    }
  }
  const mode: SampleMode =
    options.mode === undefined || options.mode === 'auto'
      ? base.length >= 2 && candidate.length >= 2
        ? 'runs'
        : 'intervals'
      : options.mode;
  const binMs = mode === 'intervals' ? commonIntervalMs(all) : null;
  const baseOps = groupSide(base, mode, binMs ?? 0);
  const candidateOps = groupSide(candidate, mode, binMs ?? 0);

  const ops = [...new Set([...baseOps.keys(), ...candidateOps.keys()])].filter(
    (op) => options.ops === undefined || options.ops.includes(op),
  );
  for (const op of ops) {
    if (!baseOps.has(op)) warnings.push(`${op} is only in the candidate`);
    else if (!candidateOps.has(op)) warnings.push(`${op} is only in the base`);
  }
  const statistics = options.statistics ?? compareStatistics;
  const closed = isClosedLoop(base[0]!.report);
  const notes: string[] = [];
  if (across && runtimes === null) {
    notes.push(
      `a cross-runtime comparison was asked for, but both sides ran ${runtimeLabel(runtimeIdentity(base[0]!.report))}`,
    );
  }
  const images =
    runtimes === null
      ? undefined
      : defaultImagesNote(base[0]!.report.scenario, candidate[0]!.report.scenario);
  if (images !== undefined) notes.push(images);
  if (closed && statistics.includes('throughput')) notes.push(closedLoopNote);

  /** Bootstrap intervals of every percentile of `op`, and permutation tests where needed. */
  function resample(
    op: OpName,
    b: OpSamples,
    c: OpSamples,
  ): Map<CompareStatistic, Resampled> | undefined {
    const percentileStats = statistics.filter((s) => statisticInfo[s].percentile !== undefined);
    if (percentileStats.length === 0) return undefined;
    const grid = BlockGrid.of(
      b.samples.map((s) => s.distribution),
      c.samples.map((s) => s.distribution),
    );
    if (grid.base < minBlocks || grid.candidate < minBlocks) return undefined;
    const percentileOf = (s: CompareStatistic): number => statisticInfo[s].percentile!;
    const draws = options.bootstrapDraws;
    const changes = blockBootstrapPercentiles(grid, percentileStats.map(percentileOf), {
      level: 1 - alpha,
      seed: deriveSeed(0, `${op}/bootstrap`),
      ...(draws !== undefined ? { draws } : {}),
    });
    const tested = percentileStats.filter(
      (s) => mode === 'intervals' && tooSparseForIntervals(percentileOf(s), b, c),
    );
    const pValues =
      tested.length === 0
        ? new Map<number, number>()
        : permutationTestPercentiles(grid, tested.map(percentileOf), {
            seed: deriveSeed(0, `${op}/permutation`),
            ...(draws !== undefined ? { permutations: draws } : {}),
          });
    const out = new Map<CompareStatistic, Resampled>();
    for (const s of percentileStats) {
      out.set(s, {
        change: changes.get(percentileOf(s))!,
        p: pValues.get(percentileOf(s)),
        blocks: { base: grid.base, candidate: grid.candidate },
      });
    }
    return out;
  }

  const draft = ops.flatMap((op) => {
    const b = baseOps.get(op);
    const c = candidateOps.get(op);
    const resampled = b === undefined || c === undefined ? undefined : resample(op, b, c);
    return statistics.map((statistic) =>
      closed && statistic === 'throughput' && op !== 'cycle'
        ? untestedRow(op, statistic, b, c, 'judged on cycle')
        : statisticRow(op, statistic, b, c, mode, alpha, resampled?.get(statistic)),
    );
  });
  const adjusted = benjaminiHochberg(draft.map((r) => r.pRaw));
  const tests = adjusted.filter((p) => p !== null).length;
  const rows: ComparisonRow[] = draft.map((row, i) => {
    const p = adjusted[i] ?? null;
    return { ...row, p, verdict: verdictOf(row, p, alpha, minEffectPct) };
  });

  warnings.push(...sampleWarnings(rows, mode, alpha, tests));
  const runs = (side: readonly LoadedReport[]): ComparisonRun[] =>
    side.map(({ report, source }) => ({
      source,
      runId: report.run.id,
      start: report.run.start,
      partial: report.run.partial,
      checkpoint: isCheckpoint(report),
      marks: runMarks(report),
      runtime:
        [report.environment.runtime.name, report.environment.runtime.version]
          .filter((x) => x !== null && x !== '')
          .join(' ') || 'unknown runtime',
    }));
  return {
    scenario: base[0]!.report.run.scenario,
    mode,
    binMs,
    alpha,
    minEffectPct,
    tests,
    base: runs(base),
    candidate: runs(candidate),
    acrossRuntimes: runtimes,
    rows,
    warnings,
    notes,
    regressions: rows.filter((r) => r.verdict === 'regression').length,
    improvements: rows.filter((r) => r.verdict === 'improvement').length,
  };
}

/** The note a closed-loop comparison carries; see the module comment. */
export const closedLoopNote =
  'closed loop: throughput judged on cycle only (every step runs at the cycle rate)';

/**
 * Whether every phase of `report`'s run that records cycles is closed loop (workers back to
 * back): then each step's throughput is the cycle rate. Phases that do not record, and pauses,
 * do not count; a run with any recorded open-loop phase is not closed loop.
 */
export function isClosedLoop(report: LoadedReport['report']): boolean {
  const recorded = report.scenario.load.phases.filter(
    (p) => p.kind !== 'pause' && (p as { record?: boolean }).record !== false,
  );
  return recorded.length > 0 && recorded.every((p) => p.kind === 'closed');
}

/** A row shown with both values but not tested (not in the Benjamini-Hochberg family). */
function untestedRow(
  op: OpName,
  statistic: CompareStatistic,
  base: OpSamples | undefined,
  candidate: OpSamples | undefined,
  note: string,
): DraftRow {
  const baseValue = base === undefined ? undefined : statisticValue(statistic, base.pooled);
  const candidateValue =
    candidate === undefined ? undefined : statisticValue(statistic, candidate.pooled);
  return {
    op,
    statistic,
    unit: statisticInfo[statistic].unit,
    base: baseValue ?? null,
    candidate: candidateValue ?? null,
    deltaPct: relativeChange(baseValue, candidateValue),
    ci: null,
    test: null,
    pRaw: null,
    n: { base: base?.samples.length ?? 0, candidate: candidate?.samples.length ?? 0 },
    note,
    candidateLarger: undefined,
  };
}

/** (candidate − base) / base × 100; 0 from 0 to 0; null when either is missing or base is 0. */
function relativeChange(
  baseValue: number | undefined,
  candidateValue: number | undefined,
): number | null {
  if (baseValue === undefined || candidateValue === undefined) return null;
  if (baseValue === 0) return candidateValue === 0 ? 0 : null;
  return ((candidateValue - baseValue) / baseValue) * 100;
}

/** What resampling found for one percentile row of an operation. */
interface Resampled {
  readonly change: BootstrapChange;
  /** Permutation p-value, for a percentile too sparse per interval for Mann-Whitney. */
  readonly p: number | undefined;
  readonly blocks: { readonly base: number; readonly candidate: number };
}

/** Fewest non-empty blocks (intervals or runs) a side needs for its spread to be estimated. */
const minBlocks = 2;

type DraftRow = Omit<ComparisonRow, 'p' | 'verdict'> & {
  /** The test says the candidate tends to be larger (true), smaller (false), or neither. */
  readonly candidateLarger: boolean | undefined;
};

function statisticRow(
  op: OpName,
  statistic: CompareStatistic,
  base: OpSamples | undefined,
  candidate: OpSamples | undefined,
  mode: SampleMode,
  alpha: number,
  resampled: Resampled | undefined,
): DraftRow {
  const info = statisticInfo[statistic];
  const values = (side: OpSamples | undefined): number[] =>
    (side?.samples ?? [])
      .map((s) => statisticValue(statistic, s))
      .filter((v): v is number => v !== undefined);
  const baseValues = values(base);
  const candidateValues = values(candidate);
  const baseValue = base === undefined ? undefined : statisticValue(statistic, base.pooled);
  const candidateValue =
    candidate === undefined ? undefined : statisticValue(statistic, candidate.pooled);

  const bootstrap = resampled?.change;
  const ci =
    bootstrap === undefined ? null : { lowPct: bootstrap.lowPct, highPct: bootstrap.highPct };

  let test: RowTest | null = null;
  let pRaw: number | null = null;
  let candidateLarger: boolean | undefined;
  let note: string | null = null;
  let n = { base: baseValues.length, candidate: candidateValues.length };
  const sparse =
    info.percentile !== undefined &&
    mode === 'intervals' &&
    base !== undefined &&
    candidate !== undefined &&
    tooSparseForIntervals(info.percentile, base, candidate);
  if (sparse) {
    // Too few values per interval for this percentile to be estimated in each: compare the
    // intervals added up, by a permutation test over whole intervals.
    const values = Math.min(base.pooled.distribution.total, candidate.pooled.distribution.total);
    if (values < valuesNeededPerInterval(info.percentile)) {
      // A percentile with fewer than ten values beyond it cannot be told from noise.
      note = 'too few values';
    } else if (resampled?.p === undefined) {
      // Fewer than two intervals with values on a side: no spread to judge a change against.
      note = 'too few samples';
    } else {
      test = 'permutation';
      pRaw = resampled.p;
      n = resampled.blocks;
      const change = resampled.change.changePct;
      candidateLarger = change > 0 ? true : change < 0 ? false : undefined;
      // As for Mann-Whitney: so few blocks have too few distinct splits to reach alpha.
      if (smallestPossibleP(n.base, n.candidate) >= alpha) note = 'too few samples';
    }
  } else if (n.base > 0 && n.candidate > 0) {
    test = 'mann-whitney';
    const result = mannWhitneyU(baseValues, candidateValues);
    pRaw = result.p;
    const middle = (result.n1 * result.n2) / 2;
    candidateLarger = result.u < middle ? true : result.u > middle ? false : undefined;
    if (smallestPossibleP(n.base, n.candidate) >= alpha) note = 'too few samples';
  } else {
    note = base === undefined || candidate === undefined ? 'only on one side' : 'no values';
  }
  return {
    op,
    statistic,
    unit: info.unit,
    base: baseValue ?? null,
    candidate: candidateValue ?? null,
    deltaPct: relativeChange(baseValue, candidateValue),
    ci,
    test,
    pRaw,
    n,
    note,
    candidateLarger,
  };
}

/**
 * Values an interval needs for its `percentile` to mean something: ten beyond it (20 for the
 * median, 1000 for p99, 10 000 for p99.9).
 */
export function valuesNeededPerInterval(percentile: number): number {
  return Math.ceil(10 / (1 - percentile / 100) - 1e-6);
}

/** The median interval of either side holds fewer values than the percentile needs. */
function tooSparseForIntervals(percentile: number, base: OpSamples, candidate: OpSamples): boolean {
  const needed = valuesNeededPerInterval(percentile);
  const median = (side: OpSamples): number => {
    const counts = side.samples.map((s) => s.distribution.total).sort((a, b) => a - b);
    return counts.length === 0 ? 0 : counts[Math.floor(counts.length / 2)]!;
  };
  return median(base) < needed || median(candidate) < needed;
}

/** See the module comment for the rule. */
function verdictOf(row: DraftRow, p: number | null, alpha: number, minEffectPct: number): Verdict {
  if (p === null || !(p < alpha) || row.base === null || row.candidate === null) return '~';
  // A change from zero (errors appearing, say) is as large as changes get.
  const effect =
    row.deltaPct ??
    (row.candidate > row.base ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
  if (Math.abs(effect) < minEffectPct || effect === 0) return '~';
  if (row.candidateLarger !== effect > 0) return '~';
  if (statisticInfo[row.statistic].percentile !== undefined) {
    if (row.ci === null) return '~';
    if (effect > 0 ? !(row.ci.lowPct > 0) : !(row.ci.highPct < 0)) return '~';
  }
  const worse = statisticInfo[row.statistic].higherIsWorse ? effect > 0 : effect < 0;
  return worse ? 'regression' : 'improvement';
}

function sampleWarnings(
  rows: readonly ComparisonRow[],
  mode: SampleMode,
  alpha: number,
  tests: number,
): string[] {
  const unit = mode === 'runs' ? 'runs' : 'intervals';
  /** Samples per side for a single change to reach `level`. */
  const needed = (level: number): number => {
    let n = 2;
    while (smallestPossibleP(n, n) > level && n < 1000) n++;
    return n;
  };
  const advice = (level: number): string =>
    mode === 'runs'
      ? `repeat each run at least ${needed(level)} times`
      : `record at least ${needed(level)} intervals per side: run longer, set a smaller report.interval (e.g. 250ms), or compare several runs per side`;
  const hopeless = new Map<string, string[]>();
  const weak = new Map<string, string[]>();
  for (const row of rows) {
    if (row.test === null || row.n.base === 0 || row.n.candidate === 0) continue;
    const key = `${row.n.base}+${row.n.candidate}`;
    const minP = smallestPossibleP(row.n.base, row.n.candidate);
    const target = minP >= alpha ? hopeless : minP > alpha / Math.max(tests, 1) ? weak : undefined;
    if (target === undefined) continue;
    const ops = target.get(key) ?? [];
    if (!ops.includes(row.op)) ops.push(row.op);
    target.set(key, ops);
  }
  const warnings: string[] = [];
  const unjudged = new Map<string, string[]>();
  for (const row of rows) {
    if (row.note !== 'too few values') continue;
    const label = statisticInfo[row.statistic].label;
    unjudged.set(label, [...(unjudged.get(label) ?? []), row.op]);
  }
  for (const [label, ops] of unjudged) {
    const percentile = compareStatistics.find((s) => statisticInfo[s].label === label)!;
    const needed = valuesNeededPerInterval(statisticInfo[percentile].percentile!);
    warnings.push(
      `${label} not judged (${ops.join(', ')}): it needs at least ${needed} values per side, ten beyond the percentile; run longer`,
    );
  }
  for (const [n, ops] of hopeless) {
    warnings.push(
      `too few samples to tell (n=${n} ${unit}: ${ops.join(', ')}): no change can reach p < ${alpha}; ${advice(alpha)}`,
    );
  }
  for (const [n, ops] of weak) {
    warnings.push(
      `few samples (n=${n} ${unit}: ${ops.join(', ')}): after correcting for ${tests} comparisons a change in a single statistic cannot reach p < ${alpha}; ${advice(alpha / Math.max(tests, 1))}`,
    );
  }
  return warnings;
}
