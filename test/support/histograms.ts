/** Latency histograms made for a test and released after it. */
import {
  createHistogram,
  recordUs,
  releaseHistogram,
  type LatencyHistogram,
} from '../../src/metrics/hdr.js';

/** Calls `fn` with a histogram of `values` (µs, as the recorder records them), then frees it. */
export function withHistogram<T>(values: readonly number[], fn: (h: LatencyHistogram) => T): T {
  const h = createHistogram();
  try {
    for (const v of values) recordUs(h, v);
    return fn(h);
  } finally {
    releaseHistogram(h);
  }
}
