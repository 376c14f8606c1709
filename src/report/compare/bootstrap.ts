/**
 * Block bootstrap confidence intervals of percentile changes: the unit of resampling is a block
 * (a timeline interval, or a whole run when both sides have several; see block-grid.ts), never
 * a single latency.
 *
 * Latencies within a run are not independent: a busy minute on a shared machine slows many
 * operations at once. Resampling single latencies as if they were independent makes a
 * percentile's spread look tiny, and any small shift between two unchanged runs "significant".
 * Resampling blocks keeps whatever a block's values share.
 *
 * One draw: for each side, pick as many of its blocks as it has, with replacement, add their
 * histograms, and read the percentile of the sum. The interval is the (1 − level)/2 and
 * (1 + level)/2 quantiles of the drawn log(candidate / base), as a relative change in percent.
 * Seeded, so the same inputs always give the same interval.
 */
import { seededRandom, type SeededRandom } from '../../common/seeded-random.js';
import type { BlockGrid } from './block-grid.js';

/** A confidence interval of a relative change, percent (e.g. −2.1 … +8.4). */
export interface ChangeInterval {
  readonly lowPct: number;
  readonly highPct: number;
}

/** What the bootstrap finds for one percentile. */
export interface BootstrapChange extends ChangeInterval {
  /** The change with every block counted once (the sides as observed), percent. */
  readonly changePct: number;
}

/** Options of {@link blockBootstrapPercentiles}. */
export interface BootstrapOptions {
  /** Confidence level, e.g. 0.95. */
  readonly level: number;
  /** Bootstrap draws. Default 2000. */
  readonly draws?: number;
  readonly seed: number;
}

/**
 * Per percentile (0–100), the observed change and the block-bootstrap interval of
 * (candidate's percentile / base's − 1) × 100 at `options.level`. Both sides of `grid` need a
 * block at least.
 */
export function blockBootstrapPercentiles(
  grid: BlockGrid,
  percentiles: readonly number[],
  options: BootstrapOptions,
): Map<number, BootstrapChange> {
  const draws = options.draws ?? 2000;
  const random = seededRandom(options.seed);
  const nb = grid.base;
  const nc = grid.candidate;
  const base = Int32Array.from({ length: nb }, (_, j) => j);
  const candidate = Int32Array.from({ length: nc }, (_, j) => nb + j);
  const sumOf = (members: Int32Array): number => members.reduce((s, j) => s + grid.totals[j]!, 0);
  const baseTotal = sumOf(base);
  const candidateTotal = sumOf(candidate);
  const observed = percentiles.map((p) =>
    Math.log(
      grid.percentile(candidate, nc, null, candidateTotal, p) /
        grid.percentile(base, nb, null, baseTotal, p),
    ),
  );
  const ratios = percentiles.map(() => new Float64Array(draws));
  const baseDraw = new Resample(base);
  const candidateDraw = new Resample(candidate);
  for (let d = 0; d < draws; d++) {
    baseDraw.draw(random, grid.totals);
    candidateDraw.draw(random, grid.totals);
    for (let i = 0; i < percentiles.length; i++) {
      const p = percentiles[i]!;
      // Histogram values are ≥ 1 µs, so the logarithm is finite.
      ratios[i]![d] = Math.log(candidateDraw.percentile(grid, p) / baseDraw.percentile(grid, p));
    }
  }
  const tail = (1 - options.level) / 2;
  const pct = (x: number): number => (Math.exp(x) - 1) * 100;
  const out = new Map<number, BootstrapChange>();
  percentiles.forEach((p, i) => {
    const sorted = ratios[i]!.sort();
    out.set(p, {
      changePct: pct(observed[i]!),
      lowPct: pct(sorted[Math.floor(tail * (draws - 1))]!),
      highPct: pct(sorted[Math.ceil((1 - tail) * (draws - 1))]!),
    });
  });
  return out;
}

/** One side's resample, reused draw after draw: the blocks drawn and how often. */
class Resample {
  readonly #blocks: Int32Array;
  readonly #counts: Float64Array;
  /** The distinct blocks of the current draw, and their multiplicities. */
  readonly #members: Int32Array;
  readonly #weights: Float64Array;
  #size = 0;
  #total = 0;

  constructor(blocks: Int32Array) {
    this.#blocks = blocks;
    this.#counts = new Float64Array(blocks.length);
    this.#members = new Int32Array(blocks.length);
    this.#weights = new Float64Array(blocks.length);
  }

  /** Draws as many of the side's blocks as it has, with replacement. */
  draw(random: SeededRandom, totals: Float64Array): void {
    const n = this.#blocks.length;
    const counts = this.#counts;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const k = Math.floor(random.next() * n);
      counts[k] = counts[k]! + 1;
    }
    let size = 0;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const c = counts[k]!;
      if (c === 0) continue;
      const block = this.#blocks[k]!;
      this.#members[size] = block;
      this.#weights[size] = c;
      size++;
      total += c * totals[block]!;
    }
    this.#size = size;
    this.#total = total;
  }

  /** The `percentile` of the current draw's blocks added up, µs. */
  percentile(grid: BlockGrid, percentile: number): number {
    return grid.percentile(this.#members, this.#size, this.#weights, this.#total, percentile);
  }
}
