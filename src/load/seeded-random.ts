/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the same arrivals
 * and the same workload mix on every machine. Not for anything secret.
 */

/** A seeded source of uniform numbers in [0, 1). */
export interface SeededRandom {
  /** The next number in [0, 1). */
  next(): number;
}

/** A generator seeded with `seed` (any integer; taken modulo 2^32). */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A seed derived from `seed` and `stream`, so independent streams do not share numbers. */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** An exponentially distributed number with mean 1, from `random`. */
export function exponential(random: SeededRandom): number {
  // 1 − u is in (0, 1], so the logarithm is finite.
  return -Math.log(1 - random.next());
}

/**
 * Picks an index with probability proportional to its weight, given the running sums of the
 * weights (`cumulativeWeights[i]` = w₀ + … + wᵢ, all weights > 0).
 */
export function weightedIndex(random: SeededRandom, cumulativeWeights: readonly number[]): number {
  const total = cumulativeWeights[cumulativeWeights.length - 1] ?? 0;
  const target = random.next() * total;
  let lo = 0;
  let hi = cumulativeWeights.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulativeWeights[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
