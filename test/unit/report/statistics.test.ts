// The statistics of compare as tables and properties: Mann-Whitney U against reference values,
// Benjamini-Hochberg against its definition, the bootstrap's determinism and coverage.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createHistogram,
  encodeHistogram,
  recordUs,
  releaseHistogram,
} from '../../../src/metrics/hdr.js';
import { benjaminiHochberg } from '../../../src/report/compare/benjamini-hochberg.js';
import { bootstrapPercentileChange } from '../../../src/report/compare/bootstrap.js';
import { mannWhitneyU, smallestPossibleP } from '../../../src/report/compare/mann-whitney.js';
import { normal, seededRandom } from '../../../src/common/seeded-random.js';
import { betaDraw, gammaDraw } from '../../../src/report/compare/beta-draw.js';
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

describe('bootstrapPercentileChange', () => {
  const base = lognormalDistribution(1, 5000, 1);
  const slower = lognormalDistribution(2, 5000, 1.25);

  it('is deterministic for a seed', () => {
    const options = { level: 0.95, seed: 42 };
    expect(bootstrapPercentileChange(base, slower, 99, options)).toEqual(
      bootstrapPercentileChange(base, slower, 99, options),
    );
  });

  it('brackets a known +25% change and excludes 0, and is centred near 0 for no change', () => {
    for (const p of [50, 90, 99]) {
      const ci = bootstrapPercentileChange(base, slower, p, { level: 0.95, seed: 3 })!;
      expect(ci.lowPct).toBeGreaterThan(0);
      expect(ci.lowPct).toBeLessThan(25);
      expect(ci.highPct).toBeGreaterThan(25);
      expect(ci.p).toBeLessThan(0.001);
    }
    const same = lognormalDistribution(9, 5000, 1);
    const ci = bootstrapPercentileChange(base, same, 50, { level: 0.95, seed: 3 })!;
    expect(ci.lowPct).toBeLessThan(0);
    expect(ci.highPct).toBeGreaterThan(0);
  });

  it('has nothing to say about an empty side', () => {
    expect(
      bootstrapPercentileChange(base, Distribution.empty(), 99, { level: 0.95, seed: 1 }),
    ).toBeUndefined();
  });
});

describe('gamma and beta draws', () => {
  it('have the right means', () => {
    const r = seededRandom(8);
    let gammaSum = 0;
    let betaSum = 0;
    for (let i = 0; i < 20_000; i++) {
      gammaSum += gammaDraw(r, 3);
      betaSum += betaDraw(r, 2, 6);
    }
    expect(gammaSum / 20_000).toBeCloseTo(3, 1);
    expect(betaSum / 20_000).toBeCloseTo(0.25, 2);
  });
});
