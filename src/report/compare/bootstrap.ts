/**
 * Bootstrap confidence interval of the relative change of a percentile between two latency
 * distributions, computed from the histograms alone.
 *
 * A bootstrap resample of n values from a distribution F has, as its k-th smallest value,
 * F⁻¹(U) where U is the k-th smallest of n uniforms, i.e. U ~ Beta(k, n − k + 1). So each draw
 * of a resampled percentile costs two gamma variates and a binary search in the histogram,
 * not n draws: exact for the discrete histogram, and cheap for millions of values. Seeded, so
 * the same inputs always give the same interval.
 */
import type { Distribution } from '../distribution.js';
import { rankAtPercentile } from '../distribution.js';
import { normalUpperTail } from './mann-whitney.js';
import { seededRandom, type SeededRandom } from '../../common/seeded-random.js';
import { betaDraw } from './beta-draw.js';

/** A confidence interval of a relative change, percent (e.g. −2.1 … +8.4). */
export interface ChangeInterval {
  readonly lowPct: number;
  readonly highPct: number;
}

/** What {@link bootstrapPercentileChange} finds. */
export interface BootstrapChange extends ChangeInterval {
  /**
   * Two-sided p-value of "no change": from the bootstrap distribution of the log ratio,
   * z = mean / standard deviation (1 when the draws never vary).
   */
  readonly p: number;
}

/** Options of {@link bootstrapPercentileChange}. */
export interface BootstrapOptions {
  /** Confidence level, e.g. 0.95. */
  readonly level: number;
  /** Bootstrap draws. Default 2000. */
  readonly draws?: number;
  readonly seed: number;
}

/**
 * Percentile-bootstrap interval of (candidate's p-th percentile / base's − 1) × 100 at
 * `options.level`, and a p-value; undefined when either side is empty.
 */
export function bootstrapPercentileChange(
  base: Distribution,
  candidate: Distribution,
  percentile: number,
  options: BootstrapOptions,
): BootstrapChange | undefined {
  if (base.total === 0 || candidate.total === 0) return undefined;
  const draws = options.draws ?? 2000;
  const random = seededRandom(options.seed);
  const logRatios = new Float64Array(draws);
  let sum = 0;
  for (let i = 0; i < draws; i++) {
    // Histogram values are ≥ 1 µs, so the ratio is finite and positive.
    const b = resampledPercentile(base, percentile, random);
    const c = resampledPercentile(candidate, percentile, random);
    logRatios[i] = Math.log(c / b);
    sum += logRatios[i]!;
  }
  const mean = sum / draws;
  let squares = 0;
  for (const x of logRatios) squares += (x - mean) * (x - mean);
  const sd = Math.sqrt(squares / Math.max(draws - 1, 1));
  logRatios.sort();
  const tail = (1 - options.level) / 2;
  const pct = (x: number): number => (Math.exp(x) - 1) * 100;
  return {
    lowPct: pct(logRatios[Math.floor(tail * (draws - 1))]!),
    highPct: pct(logRatios[Math.ceil((1 - tail) * (draws - 1))]!),
    p: sd > 0 ? Math.min(1, 2 * normalUpperTail(Math.abs(mean) / sd)) : mean === 0 ? 1 : 0,
  };
}

/** The p-th percentile of one bootstrap resample of `d` (same size as `d`). */
function resampledPercentile(d: Distribution, percentile: number, random: SeededRandom): number {
  const n = d.total;
  const k = rankAtPercentile(percentile, n);
  return d.valueAtFraction(betaDraw(random, k, n - k + 1));
}
