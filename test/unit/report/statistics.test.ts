// The statistics of compare as tables and properties: Mann-Whitney U against reference values,
// Benjamini-Hochberg against its definition, the block grid against summed histograms, the block
// bootstrap's determinism and coverage, the permutation test's calibration.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createHistogram,
  encodeHistogram,
  recordUs,
  releaseHistogram,
} from '../../../src/metrics/hdr.js';
import { benjaminiHochberg } from '../../../src/report/compare/benjamini-hochberg.js';
import { BlockGrid } from '../../../src/report/compare/block-grid.js';
import { blockBootstrapPercentiles } from '../../../src/report/compare/bootstrap.js';
import { permutationTestPercentiles } from '../../../src/report/compare/permutation.js';
import { mannWhitneyU, smallestPossibleP } from '../../../src/report/compare/mann-whitney.js';
import { normal, seededRandom } from '../../../src/common/seeded-random.js';
import { Distribution } from '../../../src/report/distribution.js';

describe('mannWhitneyU', () => {
  it.each([
    // Exact (no ties): complete separation of 5 and 5 is 2 of C(10,5) arrangements.
    [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 0, 2 / 252, true],
    [[1.1, 2.2, 3.3, 4.4], [5.5, 6.6, 7.7, 8.8, 9.9, 10.1], 0, 2 / 210, true],
    // R: wilcox.test(c(0.8,0.83,1.89,1.04,1.45,1.38,1.91,1.64,0.73,1.46), c(1.15,0.88,0.9,0.74,1.21)) → W = 35, p = 0.2544
    [
      [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
      [1.15, 0.88, 0.9, 0.74, 1.21],
      35,
      0.2544,
      true,
    ],
    // R with ties (normal approximation, continuity correction): W = 58, p = 0.1329
    [
      [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3],
      [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29],
      58,
      0.1329,
      false,
    ],
  ])('matches the reference (%j vs %j)', (a, b, u, p, exact) => {
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(u);
    expect(r.p).toBeCloseTo(p, 4);
    expect(r.exact).toBe(exact);
  });

  it('says nothing for empty or constant samples', () => {
    expect(mannWhitneyU([], [1, 2]).p).toBe(1);
    expect(mannWhitneyU([3, 3, 3], [3, 3]).p).toBe(1);
  });

  it('is symmetric, and p is a probability', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (a, b) => {
          const ab = mannWhitneyU(a, b);
          const ba = mannWhitneyU(b, a);
          expect(ab.p).toBeCloseTo(ba.p, 12);
          expect(ab.u + ba.u).toBeCloseTo(a.length * b.length, 9);
          expect(ab.p).toBeGreaterThan(0);
          expect(ab.p).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('gives uniform p-values when both samples come from one distribution', () => {
    const random = seededRandom(11);
    let below = 0;
    for (let i = 0; i < 2000; i++) {
      const a = Array.from({ length: 10 }, () => normal(random, 0, 1));
      const b = Array.from({ length: 10 }, () => normal(random, 0, 1));
      if (mannWhitneyU(a, b).p < 0.05) below++;
    }
    expect(below / 2000).toBeGreaterThan(0.03);
    expect(below / 2000).toBeLessThan(0.065);
  });

  it('knows the smallest p a sample size allows', () => {
    expect(smallestPossibleP(3, 3)).toBeCloseTo(0.1, 12);
    expect(smallestPossibleP(5, 5)).toBeCloseTo(2 / 252, 12);
    expect(smallestPossibleP(0, 5)).toBe(1);
  });
});

describe('benjaminiHochberg', () => {
  it('adjusts as the step-up definition says, leaving untested rows alone', () => {
    const adjusted = benjaminiHochberg([0.01, null, 0.04, 0.03, 0.5]);
    // m = 4: sorted 0.01, 0.03, 0.04, 0.5 → 0.04, 0.0533, 0.0533, 0.5
    expect(adjusted[0]).toBeCloseTo(0.04, 12);
    expect(adjusted[1]).toBeNull();
    expect(adjusted[2]).toBeCloseTo(0.0533333, 6);
    expect(adjusted[3]).toBeCloseTo(0.0533333, 6);
    expect(adjusted[4]).toBeCloseTo(0.5, 12);
  });

  it('never lowers a p-value, keeps the order and caps at 1', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }), (ps) => {
        const q = benjaminiHochberg(ps) as number[];
        ps.forEach((p, i) => {
          expect(q[i]).toBeGreaterThanOrEqual(p);
          expect(q[i]).toBeLessThanOrEqual(1);
          ps.forEach((p2, j) => {
            if (p < p2) expect(q[i]).toBeLessThanOrEqual(q[j]!);
          });
        });
      }),
    );
  });
});

function lognormalDistribution(seed: number, n: number, scale: number): Distribution {
  const random = seededRandom(seed);
  const h = createHistogram();
  try {
    for (let i = 0; i < n; i++) recordUs(h, 20_000 * scale * Math.exp(0.5 * normal(random, 0, 1)));
    return Distribution.fromEncoded(encodeHistogram(h), 'x');
  } finally {
    releaseHistogram(h);
  }
}

/** `count` blocks of `size` values each; block i's values are scaled by `scaleOf(i)`. */
function blocks(
  seed: number,
  count: number,
  size: number,
  scaleOf: (i: number) => number = () => 1,
): Distribution[] {
  return Array.from({ length: count }, (_, i) =>
    lognormalDistribution(seed * 1000 + i, size, scaleOf(i)),
  );
}

describe('BlockGrid', () => {
  it('reads the percentile of any weighted selection of blocks, and of the rest, exactly', () => {
    const base = blocks(1, 6, 200);
    const candidate = blocks(2, 5, 150, (i) => 1 + i / 10);
    const grid = BlockGrid.of(base, candidate);
    const all = [...base, ...candidate];
    const sumOf = (parts: Distribution[]): Distribution => Distribution.sum(parts);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 11, maxLength: 11 }),
        fc.constantFrom(50, 90, 99, 99.9),
        (ws, percentile) => {
          fc.pre(ws.some((w) => w > 0) && ws.some((w) => w === 0));
          const members = Int32Array.from(ws.flatMap((w, j) => (w > 0 ? [j] : [])));
          const weights = Float64Array.from(members, (j) => ws[j]!);
          const chosen = sumOf(all.flatMap((d, j) => Array<Distribution>(ws[j]!).fill(d)));
          const total = weights.reduce((t, w, i) => t + w * grid.totals[members[i]!]!, 0);
          expect(total).toBe(chosen.total);
          expect(grid.percentile(members, members.length, weights, total, percentile)).toBe(
            chosen.valueAtPercentile(percentile),
          );
          const rest = sumOf(all.filter((_, j) => ws[j] === 0));
          expect(grid.percentileOfOthers(members, members.length, rest.total, percentile)).toBe(
            rest.valueAtPercentile(percentile),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves out empty blocks and groups consecutive ones beyond maxBlocks', () => {
    const base = [...blocks(3, 10, 20), Distribution.empty()];
    const candidate = blocks(4, 3, 20);
    const grid = BlockGrid.of(base, candidate, 4);
    // 10 non-empty base blocks in runs of 3 (the longer side sets the length): 4 and 1.
    expect([grid.base, grid.candidate]).toEqual([4, 1]);
    expect([...grid.totals]).toEqual([60, 60, 60, 20, 60]);
  });
});

describe('blockBootstrapPercentiles', () => {
  const base = blocks(5, 12, 400);
  const slower = blocks(6, 12, 400, () => 1.25);

  it('is deterministic for a seed', () => {
    const options = { level: 0.95, seed: 42 };
    const grid = BlockGrid.of(base, slower);
    expect(blockBootstrapPercentiles(grid, [50, 99], options)).toEqual(
      blockBootstrapPercentiles(grid, [50, 99], options),
    );
  });

  it('brackets a known +25% change and excludes 0, and contains 0 for no change', () => {
    const changes = blockBootstrapPercentiles(BlockGrid.of(base, slower), [50, 90, 99], {
      level: 0.95,
      seed: 3,
    });
    for (const p of [50, 90, 99]) {
      const ci = changes.get(p)!;
      expect(ci.lowPct).toBeGreaterThan(0);
      expect(ci.lowPct).toBeLessThan(25);
      expect(ci.highPct).toBeGreaterThan(25);
      expect(ci.changePct).toBeGreaterThan(ci.lowPct);
      expect(ci.changePct).toBeLessThan(ci.highPct);
    }
    const same = blockBootstrapPercentiles(BlockGrid.of(base, blocks(9, 12, 400)), [50], {
      level: 0.95,
      seed: 3,
    }).get(50)!;
    expect(same.lowPct).toBeLessThan(0);
    expect(same.highPct).toBeGreaterThan(0);
  });

  it('widens the interval when blocks differ from each other (autocorrelated values)', () => {
    // The same values per block, but each block with its own level: the spread between blocks
    // must show in the interval, as resampling single values would hide it.
    const level = (seed: number) => (i: number) =>
      Math.exp(0.3 * normal(seededRandom(seed * 100 + i), 0, 1));
    const plain = blockBootstrapPercentiles(BlockGrid.of(base, blocks(9, 12, 400)), [99], {
      level: 0.95,
      seed: 1,
    }).get(99)!;
    const levelled = blockBootstrapPercentiles(
      BlockGrid.of(blocks(5, 12, 400, level(5)), blocks(9, 12, 400, level(9))),
      [99],
      { level: 0.95, seed: 1 },
    ).get(99)!;
    expect(levelled.highPct - levelled.lowPct).toBeGreaterThan(2 * (plain.highPct - plain.lowPct));
  });
});

describe('permutationTestPercentiles', () => {
  it(
    'gives uniform p-values when all blocks come from one distribution',
    { timeout: 60_000 },
    () => {
      let below = 0;
      const trials = 300;
      for (let t = 0; t < trials; t++) {
        const grid = BlockGrid.of(blocks(100 + t, 8, 30), blocks(500 + t, 8, 30));
        if (
          permutationTestPercentiles(grid, [90], { seed: t, permutations: 200 }).get(90)! < 0.05
        ) {
          below++;
        }
      }
      expect(below / trials).toBeGreaterThan(0.02);
      expect(below / trials).toBeLessThan(0.08);
    },
  );

  it('finds a clear shift, and never goes below 1 / (1 + permutations)', () => {
    const grid = BlockGrid.of(
      blocks(7, 10, 200),
      blocks(8, 10, 200, () => 1.3),
    );
    const p = permutationTestPercentiles(grid, [50, 99], { seed: 1, permutations: 999 });
    expect(p.get(50)).toBe(1 / 1000);
    expect(p.get(99)).toBeLessThan(0.01);
    expect(p.get(99)).toBeGreaterThanOrEqual(1 / 1000);
  });

  it('is deterministic for a seed', () => {
    const grid = BlockGrid.of(blocks(7, 6, 50), blocks(8, 6, 50));
    expect(permutationTestPercentiles(grid, [90], { seed: 4 })).toEqual(
      permutationTestPercentiles(grid, [90], { seed: 4 }),
    );
  });
});
