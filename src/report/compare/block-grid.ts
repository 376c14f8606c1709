/**
 * The blocks of a comparison — timeline intervals when a side has one run, whole runs when both
 * sides have several — laid on one grid of histogram buckets, so that the percentile of any
 * weighted selection of blocks (a bootstrap resample, a permutation's group) is found without
 * building a histogram: a binary search over the grid whose every probe adds up weight ×
 * cumulative count over the blocks. What the bootstrap and the permutation test resample.
 *
 * Blocks are the base side's first (indices 0 … base − 1), then the candidate's. Empty blocks
 * are left out; when a side has more than `maxBlocks`, consecutive blocks of both sides are
 * added together in runs of the same length (longer blocks for a longer series, as block
 * bootstraps do), which bounds the cost of a long soak's 512 intervals.
 */
import { Distribution, rankAtPercentile } from '../distribution.js';

/** Default most blocks per side. */
export const defaultMaxBlocks = 64;

/** See the module comment. */
export class BlockGrid {
  /** Non-empty blocks of each side, after grouping. */
  readonly base: number;
  readonly candidate: number;
  /** base + candidate. */
  readonly blocks: number;
  /** Values in each block. */
  readonly totals: Float64Array;
  readonly #buckets: number;
  /** Highest equivalent value of each grid bucket, µs. */
  readonly #highestUs: Float64Array;
  /**
   * Bucket-major: at k·blocks + j, the values of block j in grid buckets 0 … k. A probe of the
   * binary search reads one contiguous run of numbers.
   */
  readonly #cumulative: Float64Array;
  /** At k: the values of all blocks in grid buckets 0 … k. */
  readonly #columnTotals: Float64Array;

  private constructor(base: readonly Distribution[], candidate: readonly Distribution[]) {
    const parts = [...base, ...candidate];
    const n = parts.length;
    this.base = base.length;
    this.candidate = candidate.length;
    this.blocks = n;
    const highestByLowest = new Map<number, number>();
    for (const part of parts) {
      for (const bucket of part.buckets())
        highestByLowest.set(bucket.lowestUs, bucket.lowestUs + bucket.sizeUs - 1);
    }
    const lowests = [...highestByLowest.keys()].sort((x, y) => x - y);
    const indexOf = new Map(lowests.map((lowest, i) => [lowest, i]));
    const u = lowests.length;
    this.#buckets = u;
    this.#highestUs = Float64Array.from(lowests, (lowest) => highestByLowest.get(lowest)!);
    const cumulative = new Float64Array(n * u);
    this.totals = new Float64Array(n);
    parts.forEach((part, j) => {
      for (const bucket of part.buckets())
        cumulative[indexOf.get(bucket.lowestUs)! * n + j] = bucket.count;
      for (let k = 1; k < u; k++) {
        cumulative[k * n + j] = cumulative[k * n + j]! + cumulative[(k - 1) * n + j]!;
      }
      this.totals[j] = part.total;
    });
    this.#cumulative = cumulative;
    this.#columnTotals = new Float64Array(u);
    for (let k = 0; k < u; k++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += cumulative[k * n + j]!;
      this.#columnTotals[k] = sum;
    }
  }

  /** The grid of `base` and `candidate` blocks; see the module comment. */
  static of(
    base: readonly Distribution[],
    candidate: readonly Distribution[],
    maxBlocks: number = defaultMaxBlocks,
  ): BlockGrid {
    const b = base.filter((d) => d.total > 0);
    const c = candidate.filter((d) => d.total > 0);
    const size = Math.max(1, Math.ceil(Math.max(b.length, c.length) / maxBlocks));
    return new BlockGrid(group(b, size), group(c, size));
  }

  /**
   * The `percentile` (0–100, HdrHistogram's definition), µs, of the blocks `members[0 … count)`
   * added up, member i counted `weights[i]` times (once each when `weights` is null); `total` is
   * their weighted count of values (> 0).
   */
  percentile(
    members: Int32Array,
    count: number,
    weights: Float64Array | null,
    total: number,
    percentile: number,
  ): number {
    const cumulative = this.#cumulative;
    return this.#valueAtRank(rankAtPercentile(percentile, total), (column) => {
      let below = 0;
      if (weights === null) {
        for (let i = 0; i < count; i++) below += cumulative[column + members[i]!]!;
      } else {
        for (let i = 0; i < count; i++) below += weights[i]! * cumulative[column + members[i]!]!;
      }
      return below;
    });
  }

  /**
   * The `percentile`, µs, of every block but `members[0 … count)`, each counted once; `total`
   * is their count of values. Costs as much as the members, not as the rest (a permutation's
   * second group).
   */
  percentileOfOthers(
    members: Int32Array,
    count: number,
    total: number,
    percentile: number,
  ): number {
    const cumulative = this.#cumulative;
    const columnTotals = this.#columnTotals;
    const n = this.blocks;
    return this.#valueAtRank(rankAtPercentile(percentile, total), (column) => {
      let below = columnTotals[column / n]!;
      for (let i = 0; i < count; i++) below -= cumulative[column + members[i]!]!;
      return below;
    });
  }

  /**
   * The highest value, µs, of the lowest bucket whose count of values at or below it reaches
   * `rank`; `countAtOrBelow(column)` gives that count for the bucket whose blocks start at
   * `column` (bucket index × blocks) in the cumulative table.
   */
  #valueAtRank(rank: number, countAtOrBelow: (column: number) => number): number {
    const n = this.blocks;
    let lo = 0;
    let hi = this.#buckets - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (countAtOrBelow(mid * n) >= rank) hi = mid;
      else lo = mid + 1;
    }
    return this.#highestUs[lo]!;
  }
}

/** Consecutive runs of `size` parts added together. */
function group(parts: readonly Distribution[], size: number): Distribution[] {
  if (size === 1) return [...parts];
  const out: Distribution[] = [];
  for (let i = 0; i < parts.length; i += size) out.push(Distribution.sum(parts.slice(i, i + size)));
  return out;
}
