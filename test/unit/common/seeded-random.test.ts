import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveSeed,
  exponential,
  normal,
  seededRandom,
  weightedIndex,
  type SeededRandom,
} from '../../../src/common/seeded-random.js';

const draws = (random: SeededRandom, n: number): number[] =>
  Array.from({ length: n }, () => random.next());

const meanOf = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

const sdOf = (xs: readonly number[]): number => {
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
};

describe('seededRandom', () => {
  it('gives the same draws for the same seed, and others for another seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = draws(seededRandom(seed), 50);
        expect(draws(seededRandom(seed), 50)).toEqual(a);
        expect(draws(seededRandom(seed + 1), 50)).not.toEqual(a);
      }),
    );
  });

  it('draws in [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        for (const x of draws(seededRandom(seed), 200)) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(1);
        }
      }),
    );
  });

  it('fills ten equal buckets evenly (chi-square far below its 99.9% point)', () => {
    const n = 100_000;
    const counts = new Array<number>(10).fill(0);
    for (const x of draws(seededRandom(2024), n)) counts[Math.floor(x * 10)]! += 1;
    const expected = n / 10;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(χ² > 27.9) = 0.001.
    expect(chi2).toBeLessThan(27.9);
  });
});

describe('deriveSeed', () => {
  it('gives distinct seeds to distinct numbered and named streams of one seed', () => {
    const seeds = new Set<number>();
    for (let stream = 0; stream < 1000; stream++) seeds.add(deriveSeed(7, stream));
    for (const name of ['pull', 'run_pod', 'create', 'start', 'stop', 'remove']) {
      seeds.add(deriveSeed(7, name));
    }
    expect(seeds.size).toBe(1006);
  });

  it('is a function of seed and stream, and 32-bit', () => {
    fc.assert(
      fc.property(fc.integer(), fc.oneof(fc.nat(), fc.string()), (seed, stream) => {
        const derived = deriveSeed(seed, stream);
        expect(deriveSeed(seed, stream)).toBe(derived);
        expect(Number.isInteger(derived)).toBe(true);
        expect(derived).toBeGreaterThanOrEqual(0);
        expect(derived).toBeLessThan(2 ** 32);
      }),
    );
  });

  it('makes streams whose draws are uncorrelated', () => {
    const a = draws(seededRandom(deriveSeed(1, 0)), 20_000);
    const b = draws(seededRandom(deriveSeed(1, 1)), 20_000);
    const ma = meanOf(a);
    const mb = meanOf(b);
    const cov = meanOf(a.map((x, i) => (x - ma) * (b[i]! - mb)));
    const correlation = cov / (sdOf(a) * sdOf(b));
    // Standard error of a correlation of 20 000 independent pairs is about 0.007.
    expect(Math.abs(correlation)).toBeLessThan(0.04);
  });
});

describe('distributions', () => {
  it('exponential has mean 1 and standard deviation 1', () => {
    const random = seededRandom(3);
    const xs = Array.from({ length: 100_000 }, () => exponential(random));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(meanOf(xs) - 1)).toBeLessThan(0.02);
    expect(Math.abs(sdOf(xs) - 1)).toBeLessThan(0.03);
  });

  it('normal has the asked mean and standard deviation, and is exact for stddev 0', () => {
    const random = seededRandom(4);
    const xs = Array.from({ length: 100_000 }, () => normal(random, 40, 10));
    expect(Math.abs(meanOf(xs) - 40)).toBeLessThan(0.2);
    expect(Math.abs(sdOf(xs) - 10)).toBeLessThan(0.2);
    // About 68.3% within one standard deviation.
    const within = xs.filter((x) => Math.abs(x - 40) < 10).length / xs.length;
    expect(Math.abs(within - 0.6827)).toBeLessThan(0.01);
    expect(normal(random, 25, 0)).toBe(25);
  });

  it('weightedIndex picks in proportion to the weights', () => {
    const random = seededRandom(5);
    const cumulative = [1, 4, 10]; // weights 1, 3, 6
    const n = 60_000;
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[weightedIndex(random, cumulative)]! += 1;
    // Standard errors are at most 0.002 here.
    expect(Math.abs(counts[0]! / n - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(counts[1]! / n - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(counts[2]! / n - 0.6)).toBeLessThan(0.01);
  });

  it('weightedIndex maps each draw to the bucket it falls in', () => {
    const fixed = (u: number): SeededRandom => ({ next: () => u });
    const cumulative = [2, 3, 7];
    expect(weightedIndex(fixed(0), cumulative)).toBe(0);
    expect(weightedIndex(fixed(1.99 / 7), cumulative)).toBe(0);
    expect(weightedIndex(fixed(2 / 7), cumulative)).toBe(1);
    expect(weightedIndex(fixed(3 / 7), cumulative)).toBe(2);
    expect(weightedIndex(fixed(0.9999), cumulative)).toBe(2);
    expect(weightedIndex(fixed(0.5), [5])).toBe(0);
  });
});
