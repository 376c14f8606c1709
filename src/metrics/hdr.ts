/**
 * The one place churn makes HDR histograms: latencies in microseconds, 1 µs to 1 hour, 3
 * significant digits, so every histogram in a run, a report or a merge has the same layout and
 * adds exactly.
 *
 * Implementation: hdr-histogram-js's WebAssembly build with 32-bit counts, the fastest of its
 * correct options on this project's 2-core machine (bench/harness.bench.ts measures it):
 * recordValue costs about 22 ns with WASM against about 130 ns for the pure-JS Int32/Float64
 * histograms and about 900 ns for the packed one, and percentile reads are about 4x faster. The price is that WASM memory is not garbage collected: every
 * histogram made here must be given back with {@link releaseHistogram}.
 *
 * Encoding is the standard HdrHistogram V2 compressed form (big-endian cookie, length, zlib
 * deflate of the V2 encoding) in base64, byte-compatible with hdr-histogram-js's
 * `encodeIntoCompressedBase64` and HdrHistogram's other ports; the deflate runs in node:zlib.
 * Uncompressed V2 encodings are added and read in plain JavaScript by hdr-v2.ts.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Histogram } from 'hdr-histogram-js';
// Its WebAssembly module alone: the package's main entry also loads the JavaScript histograms
// and the log writer, whose module builds an Intl.NumberFormat (~13 ms of CPU at start-up).
import { initWebAssemblySync, WasmHistogram } from 'hdr-histogram-js/dist/wasm/index.js';
import { ChurnError } from '../common/errors.js';

/** Lowest value a histogram tells apart, in microseconds. Smaller values are recorded as it. */
export const lowestTrackableUs = 1;
/** Highest value a histogram holds, in microseconds (1 hour). Larger values are clamped to it. */
export const highestTrackableUs = 3_600_000_000;
/** Decimal digits of precision: a recorded value is off by at most 1 part in 1000. */
export const significantDigits = 3;

/** A latency histogram in microseconds. Release it with {@link releaseHistogram}. */
export interface LatencyHistogram extends Histogram {
  /** The uncompressed HdrHistogram V2 encoding. */
  encode(): Uint8Array;
}

/** Latency summary of a histogram, in microseconds; every field derived from the counts. */
export interface LatencySummaryUs {
  readonly count: number;
  /** Lowest equivalent value of the smallest recorded value. */
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  /** Highest equivalent value of the largest recorded value (percentile 100). */
  readonly max: number;
}

/** V2 compressed encoding cookie, with the word-size nibble hdr-histogram-js writes. */
const compressedCookie = 0x1c849314;
const compressedCookieBase = 0x1c849304;

/**
 * Output chunk of node:zlib calls. Its default (16 KB) is a fresh buffer per call, freed only
 * by the next garbage collection: thousands of calls in a row (a timeline coarsening, a report)
 * then leave tens of MB for glibc to keep. 1 KB comes from Buffer's pool and holds a typical
 * encoding; larger ones take more chunks. The compressed bytes are the same for any size.
 */
const zlibChunkBytes = 1024;

let wasmReady = false;

function ensureWasm(): void {
  if (!wasmReady) {
    initWebAssemblySync();
    wasmReady = true;
  }
}

/** Makes an empty latency histogram (µs, 1 µs–1 h, 3 digits). */
export function createHistogram(): LatencyHistogram {
  ensureWasm();
  return WasmHistogram.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: lowestTrackableUs,
    highestTrackableValue: highestTrackableUs,
    numberOfSignificantValueDigits: significantDigits,
    useWebAssembly: true,
  });
}

/**
 * The integer a latency of `valueUs` microseconds is recorded as: rounded, at least
 * {@link lowestTrackableUs} (sub-microsecond and NaN become 1) and at most
 * {@link highestTrackableUs}.
 */
export function toRecordableUs(valueUs: number): number {
  if (valueUs >= lowestTrackableUs) {
    return valueUs < highestTrackableUs ? Math.round(valueUs) : highestTrackableUs;
  }
  return lowestTrackableUs;
}

/** Records one latency of `valueUs` microseconds (see {@link toRecordableUs}). */
export function recordUs(histogram: LatencyHistogram, valueUs: number): void {
  histogram.recordValue(toRecordableUs(valueUs));
}

/** Adds every count of `source` to `target` (exact: same layout everywhere). */
export function addInto(target: LatencyHistogram, source: LatencyHistogram): void {
  target.add(source);
}

/** A new histogram holding the same counts as `source`. */
export function copyHistogram(source: LatencyHistogram): LatencyHistogram {
  const copy = createHistogram();
  copy.add(source);
  return copy;
}

/** Frees the histogram's WebAssembly memory; it cannot be used afterwards. */
export function releaseHistogram(histogram: LatencyHistogram): void {
  histogram.destroy();
}

/** The value at `percentile` (0–100) in microseconds: the highest equivalent value, 0 if empty. */
export function valueAtPercentileUs(histogram: LatencyHistogram, percentile: number): number {
  return histogram.getValueAtPercentile(percentile);
}

/** Summary of `histogram`, or undefined when it holds no value. */
export function summarize(histogram: LatencyHistogram): LatencySummaryUs | undefined {
  const count = histogram.totalCount;
  if (count === 0) return undefined;
  return {
    count,
    min: histogram.getValueAtPercentile(0),
    mean: histogram.mean,
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.getValueAtPercentile(100),
  };
}

/** Encodes `histogram` as compressed base64 (HdrHistogram V2 compressed, as hdr-histogram-js). */
export function encodeHistogram(histogram: LatencyHistogram): string {
  return compressV2(histogram.encode());
}

/** Compressed base64 (as {@link encodeHistogram}) of an uncompressed V2 encoding. */
export function compressV2(v2: Uint8Array): string {
  const compressed = deflateSync(v2, { chunkSize: zlibChunkBytes });
  const out = Buffer.allocUnsafe(8 + compressed.length);
  out.writeInt32BE(compressedCookie | 0, 0);
  out.writeInt32BE(compressed.length, 4);
  compressed.copy(out, 8);
  return out.toString('base64');
}

/**
 * Decodes a compressed base64 histogram (as {@link encodeHistogram} or hdr-histogram-js write
 * it). Throws REPORT_INVALID when `text` is not one. Release the result.
 */
export function decodeHistogram(text: string): LatencyHistogram {
  ensureWasm();
  let bytes: Buffer;
  try {
    const data = Buffer.from(text.trim(), 'base64');
    if (data.length < 8) throw new Error('too short');
    const cookie = data.readInt32BE(0);
    if ((cookie & ~0xf0) !== compressedCookieBase) throw new Error('unknown encoding cookie');
    const length = data.readInt32BE(4);
    if (length < 0 || 8 + length > data.length) throw new Error('truncated');
    bytes = inflateSync(data.subarray(8, 8 + length), { chunkSize: zlibChunkBytes });
  } catch (err) {
    throw new ChurnError(
      'REPORT_INVALID',
      `not an encoded HDR histogram: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return decodeV2(bytes);
}

/**
 * Decodes an uncompressed V2 encoding (as `histogram.encode()` or hdr-v2.ts write it). Throws
 * REPORT_INVALID when `bytes` is not one. Release the result.
 */
export function decodeV2(bytes: Uint8Array): LatencyHistogram {
  ensureWasm();
  let histogram: Histogram;
  try {
    histogram = WasmHistogram.decode(bytes, 32);
  } catch (err) {
    throw new ChurnError(
      'REPORT_INVALID',
      `not an encoded HDR histogram: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!(histogram instanceof WasmHistogram)) {
    throw new ChurnError('INTERNAL', 'hdr-histogram-js decoded into a non-WebAssembly histogram');
  }
  return histogram;
}

/** Decodes, adds and re-encodes: the encoded sum of `encoded` (an empty histogram for none). */
export function mergeEncoded(encoded: readonly string[]): string {
  const sum = createHistogram();
  try {
    for (const text of encoded) {
      const part = decodeHistogram(text);
      try {
        sum.add(part);
      } finally {
        part.destroy();
      }
    }
    return encodeHistogram(sum);
  } finally {
    sum.destroy();
  }
}

/** Summary of an encoded histogram, or undefined when it is empty. */
export function summarizeEncoded(text: string): LatencySummaryUs | undefined {
  const histogram = decodeHistogram(text);
  try {
    return summarize(histogram);
  } finally {
    histogram.destroy();
  }
}
