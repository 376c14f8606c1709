/**
 * A permutation test of percentile changes over blocks (timeline intervals; see block-grid.ts):
 * does the candidate's percentile differ from the base's by more than splitting the same blocks
 * at random would give?
 *
 * Under "no change" the blocks of both sides are exchangeable, so the observed statistic —
 * |log(candidate's percentile / base's)|, each side's blocks added up — is one draw from the
 * statistics of random splits of all blocks into groups of the sides' sizes. The two-sided
 * p-value is (1 + splits at least as extreme) / (1 + splits drawn): valid for any sample size
 * and any statistic, including tail percentiles dominated by a few busy intervals, where a
 * bootstrap standard error is not to be trusted. The smallest p is 1 / (1 + permutations).
 * Seeded, so the same inputs always give the same p.
 */
import { seededRandom } from '../../common/seeded-random.js';
import type { BlockGrid } from './block-grid.js';

/** Options of {@link permutationTestPercentiles}. */
export interface PermutationOptions {
  /** Random splits drawn. Default 2000. */
  readonly permutations?: number;
  readonly seed: number;
}

/** Per percentile (0–100), the two-sided permutation p-value of its change; see the module comment. */
export function permutationTestPercentiles(
  grid: BlockGrid,
  percentiles: readonly number[],
  options: PermutationOptions,
): Map<number, number> {
  const permutations = options.permutations ?? 2000;
  const random = seededRandom(options.seed);
  const nb = grid.base;
  const n = grid.blocks;
  const all = grid.totals.reduce((s, t) => s + t, 0);
  // order[0 … nb) is the base group, the rest the candidate group.
  const order = Int32Array.from({ length: n }, (_, j) => j);
  const statistics = (): number[] => {
    let baseTotal = 0;
    for (let i = 0; i < nb; i++) baseTotal += grid.totals[order[i]!]!;
    return percentiles.map((p) =>
      Math.abs(
        Math.log(
          grid.percentileOfOthers(order, nb, all - baseTotal, p) /
            grid.percentile(order, nb, null, baseTotal, p),
        ),
      ),
    );
  };
  // A split as extreme as the observed one, up to rounding, counts as at least as extreme.
  const observed = statistics().map((s) => s * (1 - 1e-9));
  const extreme = percentiles.map(() => 0);
  for (let r = 0; r < permutations; r++) {
    // A partial Fisher–Yates shuffle: its first nb form the base group.
    for (let i = 0; i < nb; i++) {
      const k = i + Math.floor(random.next() * (n - i));
      const swap = order[i]!;
      order[i] = order[k]!;
      order[k] = swap;
    }
    statistics().forEach((s, i) => {
      if (s >= observed[i]!) extreme[i] = extreme[i]! + 1;
    });
  }
  const out = new Map<number, number>();
  percentiles.forEach((p, i) => out.set(p, (1 + extreme[i]!) / (1 + permutations)));
  return out;
}
