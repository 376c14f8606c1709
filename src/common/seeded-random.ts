/**
 * Seeded pseudo-random numbers (sfc32, seeded through splitmix32): the same seed gives the same
 * draws on every machine, so fault injection, Poisson arrivals and the workload mix of a run
 * can be reproduced. Not for anything secret.
 *
 * Independent streams (one per faulted operation, one per open-loop phase, …) come from one
 * seed through {@link deriveSeed}, so the draws of one stream do not depend on how often the
 * others are drawn from.
 */

/** A seeded source of uniform numbers in [0, 1). */
export interface SeededRandom {
  /** The next number in [0, 1). */
  next(): number;
}

/** A generator seeded with `seed` (any integer; taken modulo 2^32). */
export function seededRandom(seed: number): SeededRandom {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    return mix32(s);
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  // sfc32's authors discard the first draws so that close seeds diverge at once.
  for (let i = 0; i < 12; i++) next();
  return { next };
}

/**
 * The seed of stream `stream` of `seed`: streams named by different numbers or strings (an
 * operation's name, say) get unrelated seeds.
 */
export function deriveSeed(seed: number, stream: number | string): number {
  const key = typeof stream === 'string' ? fnv1a32(stream) : stream >>> 0;
  return mix32((seed ^ Math.imul(key + 1, 0x9e3779b1)) >>> 0);
}

/** An exponentially distributed number with mean 1. */
export function exponential(random: SeededRandom): number {
  // 1 − u is in (0, 1], so the logarithm is finite.
  return -Math.log(1 - random.next());
}

/** A normally distributed number with `mean` and `stddev` (Box–Muller; `mean` when stddev is 0). */
export function normal(random: SeededRandom, mean: number, stddev: number): number {
  if (stddev === 0) return mean;
  const u1 = 1 - random.next(); // (0, 1]: the logarithm is finite
  const u2 = random.next();
  return mean + stddev * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
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

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix32(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a of `text`'s UTF-16 code units. */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
