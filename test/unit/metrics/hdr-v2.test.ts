import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isChurnError } from '../../../src/common/errors.js';
import {
  createHistogram,
  decodeV2,
  highestTrackableUs,
  releaseHistogram,
  type LatencyHistogram,
} from '../../../src/metrics/hdr.js';
import { addV2, totalCountV2, valuesAtPercentilesV2 } from '../../../src/metrics/hdr-v2.js';

/** Values with counts; counts up to 2^30 so that sums of two stay in a 32-bit bucket. */
const recorded = fc.array(
  fc.tuple(
    fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: highestTrackableUs })),
    fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 ** 30 })),
  ),
  { maxLength: 200 },
);

function withCounts<T>(
  values: readonly (readonly [number, number])[],
  fn: (h: LatencyHistogram) => T,
): T {
  const h = createHistogram();
  try {
    for (const [value, count] of values) h.recordValueWithCount(value, count);
    return fn(h);
  } finally {
    releaseHistogram(h);
  }
}

/** The library's encoding of the sum of two encodings (decode both, add, encode). */
function librarySum(a: Uint8Array, b: Uint8Array): Uint8Array {
  const sum = decodeV2(a);
  const other = decodeV2(b);
  try {
    sum.add(other);
    return sum.encode();
  } finally {
    releaseHistogram(sum);
    releaseHistogram(other);
  }
}

const percentiles = fc
  .array(
    fc.oneof(
      fc.constantFrom(0, 50, 90, 99, 99.9, 100),
      fc.double({ min: 0, max: 100, noNaN: true }),
    ),
    { maxLength: 8 },
  )
  .map((ps) => [...ps].sort((x, y) => x - y));

describe('hdr-v2', () => {
  it('adds two encodings into the bytes the histogram library writes for their sum', () => {
    fc.assert(
      fc.property(recorded, recorded, (a, b) => {
        const ea = withCounts(a, (h) => h.encode());
        const eb = withCounts(b, (h) => h.encode());
        const ours = addV2(ea, eb);
        expect(Buffer.from(ours).toString('hex')).toBe(
          Buffer.from(librarySum(ea, eb)).toString('hex'),
        );
        expect(Buffer.from(ours).toString('hex')).toBe(
          Buffer.from(withCounts([...a, ...b], (h) => h.encode())).toString('hex'),
        );
        expect(totalCountV2(ours)).toBe([...a, ...b].reduce((sum, [, count]) => sum + count, 0));
      }),
      { numRuns: 200 },
    );
  });

  it('adds the encodings of a reused (reset) histogram as those of a fresh one', () => {
    fc.assert(
      fc.property(recorded, recorded, recorded, (before, a, b) => {
        const reused = createHistogram();
        try {
          for (const [value, count] of before) reused.recordValueWithCount(value, count);
          reused.reset();
          for (const [value, count] of a) reused.recordValueWithCount(value, count);
          const ea = reused.encode();
          const eb = withCounts(b, (h) => h.encode());
          expect(Buffer.from(addV2(ea, eb)).toString('hex')).toBe(
            Buffer.from(librarySum(ea, eb)).toString('hex'),
          );
        } finally {
          releaseHistogram(reused);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('reads the values at percentiles the histogram library reads', () => {
    fc.assert(
      fc.property(recorded, percentiles, (values, ps) => {
        withCounts(values, (h) => {
          const got = valuesAtPercentilesV2(h.encode(), ps);
          expect(got).toEqual(ps.map((p) => h.getValueAtPercentile(p)));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('rounds a percentile’s rank up as the library does, not past a float error', () => {
    // (99.9 / 100) × 1000 is 999.0000000000001 in floating point: the rank is 999, not 1000.
    const values = Array.from({ length: 1000 }, (_, i) => [i + 1, 1] as const);
    withCounts(values, (h) => {
      expect(h.getValueAtPercentile(99.9)).toBe(999);
      expect(valuesAtPercentilesV2(h.encode(), [99.9])).toEqual([999]);
    });
  });

  it('reads 0 at every percentile of an empty histogram, and its count as 0', () => {
    withCounts([], (h) => {
      expect(valuesAtPercentilesV2(h.encode(), [0, 50, 100])).toEqual([0, 0, 0]);
      expect(totalCountV2(h.encode())).toBe(0);
      const twice = addV2(h.encode(), h.encode());
      expect(Buffer.from(twice).toString('hex')).toBe(Buffer.from(h.encode()).toString('hex'));
    });
  });

  it('refuses a truncated encoding, another layout and descending percentiles (INTERNAL)', () => {
    const encoded = withCounts(
      [
        [100, 1],
        [200_000, 70_000],
      ],
      (h) => h.encode(),
    );
    const other = withCounts([[100, 1]], (h) => {
      const copy = h.encode();
      copy[15] = 2; // significant digits 3 → 2
      return copy;
    });
    const attempts: (() => unknown)[] = [
      () => addV2(encoded.subarray(0, encoded.length - 1), encoded),
      () => addV2(encoded.subarray(0, 20), encoded),
      () => addV2(encoded, other),
      () => totalCountV2(new Uint8Array(40)),
      () => valuesAtPercentilesV2(encoded, [90, 50]),
    ];
    for (const attempt of attempts) {
      let caught: unknown;
      try {
        attempt();
      } catch (err) {
        caught = err;
      }
      expect(isChurnError(caught, 'INTERNAL')).toBe(true);
    }
  });
});
