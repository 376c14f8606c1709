// Distributions decoded from encoded histograms read the same percentiles, mean, min and max as
// the recorder's histograms (property test), and add exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { encodeHistogram, summarize } from '../../../src/metrics/hdr.js';
import { Distribution, rankAtPercentile } from '../../../src/report/distribution.js';
import { withHistogram } from '../../support/histograms.js';

function encoded(values: readonly number[]): string {
  return withHistogram(values, encodeHistogram);
}

function summaryOf(values: readonly number[]) {
  return withHistogram(values, (h) => summarize(h)!);
}

const latencies = fc.array(fc.integer({ min: 1, max: 3_600_000_000 }), {
  minLength: 1,
  maxLength: 400,
});

describe('Distribution', () => {
  it('reads the percentiles, mean, min and max the recorder summarizes', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        const s = summaryOf(values);
        const d = Distribution.fromEncoded(encoded(values), 'x');
        expect(d.total).toBe(s.count);
        expect(d.valueAtPercentile(0)).toBe(s.min);
        expect(d.min).toBe(s.min);
        for (const [p, want] of [
          [50, s.p50],
          [90, s.p90],
          [95, s.p95],
          [99, s.p99],
          [99.9, s.p999],
          [100, s.max],
        ] as const) {
          expect(d.valueAtPercentile(p)).toBe(want);
        }
        expect(d.max).toBe(s.max);
        expect(d.mean).toBeCloseTo(s.mean, 6);
      }),
      { numRuns: 150 },
    );
  });

  it('adds exactly: the sum of two is the distribution of all the values', () => {
    fc.assert(
      fc.property(latencies, latencies, (a, b) => {
        const sum = Distribution.sum([
          Distribution.fromEncoded(encoded(a), 'a'),
          Distribution.fromEncoded(encoded(b), 'b'),
        ]);
        expect([...sum.buckets()]).toEqual([
          ...Distribution.fromEncoded(encoded([...a, ...b]), 'ab').buckets(),
        ]);
      }),
      { numRuns: 60 },
    );
  });

  it('reads values by rank', () => {
    const d = Distribution.fromEncoded(encoded([10, 20, 30, 40]), 'x');
    expect([1, 2, 3, 4, 9].map((r) => d.valueAtRank(r))).toEqual([10, 20, 30, 40, 40]);
  });

  it('is empty for nothing, and refuses what is not a histogram', () => {
    const empty = Distribution.empty();
    expect([empty.total, empty.valueAtPercentile(99), empty.mean]).toEqual([0, 0, 0]);
    for (const bad of ['', 'aGVsbG8gd29ybGQ=', encoded([5]).slice(0, 20)]) {
      let error: unknown;
      try {
        Distribution.fromEncoded(bad, 'r.json: operations.start.histogram');
      } catch (err) {
        error = err;
      }
      expect(isChurnError(error, 'REPORT_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(
        /^r\.json: operations\.start\.histogram: not an encoded HDR histogram/,
      );
    }
  });

  it('ranks percentiles as HdrHistogram does', () => {
    expect([0, 50, 99, 99.9, 100].map((p) => rankAtPercentile(p, 1000))).toEqual([
      1, 500, 990, 999, 1000,
    ]);
    expect(rankAtPercentile(99, 7)).toBe(7);
  });
});
