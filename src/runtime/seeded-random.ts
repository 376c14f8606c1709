/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32) so fault injection
 * is reproducible: the same seed gives the same sequence of draws.
 */

/** A source of uniform numbers in [0, 1) and of normal deviates. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Normal with the given mean and standard deviation (Box–Muller). */
  normal(mean: number, stddev: number): number;
}

/** A generator seeded with `seed` (any 32-bit integer; other numbers are truncated). */
export function createSeededRandom(seed: number): SeededRandom {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
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
  // Warm up so close seeds diverge at once.
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    normal(mean: number, stddev: number): number {
      if (stddev === 0) return mean;
      const u1 = 1 - next(); // (0, 1]: log is finite
      const u2 = next();
      return mean + stddev * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
  };
}

/** A 32-bit hash of `text` (FNV-1a), to derive independent seeds per name. */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
