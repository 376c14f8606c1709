import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import {
  compressV2,
  decodeHistogram,
  encodeHistogram,
  highestTrackableUs,
  mergeEncoded,
  releaseHistogram,
  summarize,
  summarizeEncoded,
  toRecordableUs,
} from '../../../src/metrics/hdr.js';
import { isChurnError } from '../../../src/common/errors.js';
import { withHistogram } from '../../support/histograms.js';

const latencies = fc.array(fc.integer({ min: 1, max: 600_000_000 }), {
  minLength: 1,
  maxLength: 300,
});

describe('hdr', () => {
  it('clamps what it records into 1 µs … 1 h', () => {
    expect(toRecordableUs(0)).toBe(1);
    expect(toRecordableUs(0.4)).toBe(1);
    expect(toRecordableUs(Number.NaN)).toBe(1);
    expect(toRecordableUs(2.5)).toBe(3);
    expect(toRecordableUs(5e12)).toBe(highestTrackableUs);
    withHistogram([5e12], (h) =>
      expect(summarize(h)!.max).toBeGreaterThanOrEqual(highestTrackableUs),
    );
  });

  it('summarizes nothing as undefined', () => {
    withHistogram([], (h) => expect(summarize(h)).toBeUndefined());
  });

  it('reads the same percentiles as the pure-JS histogram of hdr-histogram-js', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        const js = build({ bitBucketSize: 32, highestTrackableValue: highestTrackableUs });
        for (const v of values) js.recordValue(v);
        withHistogram(values, (h) => {
          const s = summarize(h)!;
          expect(s.count).toBe(js.totalCount);
          for (const [p, got] of [
            [50, s.p50],
            [90, s.p90],
            [99, s.p99],
            [99.9, s.p999],
            [100, s.max],
          ] as const) {
            expect(got).toBe(js.getValueAtPercentile(p));
          }
          expect(s.mean).toBeCloseTo(js.mean, 6);
        });
      }),
      { numRuns: 50 },
    );
  });

  it('round-trips through its encoding and the library’s, both ways', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        withHistogram(values, (h) => {
          const ours = encodeHistogram(h);
          const theirs = decodeFromCompressedBase64(ours, 32, false);
          expect(theirs.totalCount).toBe(h.totalCount);
          expect(theirs.getValueAtPercentile(99)).toBe(h.getValueAtPercentile(99));
          const back = decodeHistogram(encodeIntoCompressedBase64(h));
          try {
            expect(summarize(back)).toEqual(summarize(h));
          } finally {
            releaseHistogram(back);
          }
          expect(summarizeEncoded(ours)).toEqual(summarize(h));
        });
      }),
      { numRuns: 30 },
    );
  });

  it('writes the bytes the library writes, also when the compressed form spans zlib chunks', () => {
    const wide = fc.array(fc.integer({ min: 1, max: 600_000_000 }), { maxLength: 5_000 });
    fc.assert(
      fc.property(wide, (values) => {
        withHistogram(values, (h) => {
          const ours = encodeHistogram(h);
          expect(ours).toBe(encodeIntoCompressedBase64(h));
          expect(compressV2(h.encode())).toBe(ours);
        });
      }),
      { numRuns: 30 },
    );
    // Large enough that the compressed payload is several of the 1 KB output chunks.
    let seed = 12345;
    const many = Array.from({ length: 50_000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 100_000);
    });
    withHistogram(many, (h) => {
      const ours = encodeHistogram(h);
      expect(Buffer.from(ours, 'base64').length).toBeGreaterThan(2 * 1024);
      expect(ours).toBe(encodeIntoCompressedBase64(h));
    });
  });

  it('merges exactly: the merge of parts equals the histogram of the whole', () => {
    fc.assert(
      fc.property(fc.array(latencies, { minLength: 1, maxLength: 5 }), (parts) => {
        const encoded = parts.map((p) => withHistogram(p, encodeHistogram));
        const merged = summarizeEncoded(mergeEncoded(encoded));
        const whole = withHistogram(parts.flat(), summarize);
        expect(merged).toEqual(whole);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses text that is not an encoded histogram, with REPORT_INVALID', () => {
    for (const bad of ['', 'garbage', Buffer.from('HISTFAAAAAAAAAAA').toString('base64')]) {
      let caught: unknown;
      try {
        decodeHistogram(bad);
      } catch (err) {
        caught = err;
      }
      expect(isChurnError(caught, 'REPORT_INVALID')).toBe(true);
    }
  });
});
