/**
 * Uncompressed HdrHistogram V2 encodings read and written in plain JavaScript: the sum of two
 * and the values at percentiles of one, without a live histogram, WebAssembly or zlib.
 *
 * Why this exists: the timeline merges thousands of interval histograms at once when it
 * coarsens (timeline.ts). Done through decoded WebAssembly histograms and node:zlib, each merge
 * left a 16 KB zlib output buffer and a zlib stream for the garbage collector; a coarsening
 * stalled the event loop for seconds and glibc kept the peak, so churn's RSS stepped up ~30 MB.
 * Summing two encodings here walks them once and allocates only the result.
 *
 * An encoding (as hdr-histogram-js and HdrHistogram's other ports write it) is a 40-byte
 * big-endian header (cookie, payload length, normalizing index offset, significant digits,
 * lowest discernible value, highest trackable value, integer-to-double ratio) and a payload of
 * ZigZag LEB128-64b9B words: a word ≥ 0 is the count at the next index, a word −n (n ≥ 2)
 * skips n empty indexes. The payload ends at the highest non-empty index. Counts above 2^53
 * (never reached by a latency histogram) are refused.
 */
import { assert } from '../common/assert.js';

const headerBytes = 40;
/** V2 (uncompressed) cookie with its word-size nibble masked out. */
const v2CookieBase = 0x1c849303;

/** Where the words of one encoding's payload are, and the next index they describe. */
class WordReader {
  pos = headerBytes;
  readonly end: number;
  /** The index the next count word is for. */
  nextIndex = 0;
  /** Index and count of the non-empty index {@link advance} stopped at. */
  index = -1;
  count = 0;

  constructor(readonly bytes: Uint8Array) {
    assert(bytes.length >= headerBytes, 'HDR V2 encoding shorter than its header');
    assert(
      (readInt32(bytes, 0) & ~0xf0) === v2CookieBase,
      'not an uncompressed HDR V2 encoding (cookie)',
    );
    this.end = headerBytes + readInt32(bytes, 4);
    assert(this.end <= bytes.length, 'HDR V2 encoding shorter than its payload length');
  }

  /** Moves to the next non-empty index; false at the end of the payload. */
  advance(): boolean {
    while (this.pos < this.end) {
      const word = this.#word();
      if (word < 0) {
        this.nextIndex -= word;
      } else if (word === 0) {
        this.nextIndex++;
      } else {
        this.index = this.nextIndex++;
        this.count = word;
        return true;
      }
    }
    return false;
  }

  #word(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    // Up to 8 bytes of 7 bits (a 9th, of 8 bits, would carry values beyond 2^56). The first
    // four fit 28 bits and take bit operations. Reading past the end gives undefined, which
    // ends the word; the check after it catches that.
    let byte = bytes[pos++]!;
    let value = byte & 0x7f;
    for (let shift = 7; byte >= 0x80 && shift < 28; shift += 7) {
      byte = bytes[pos++]!;
      value |= (byte & 0x7f) << shift;
    }
    for (let scale = 2 ** 28; byte >= 0x80 && scale < 2 ** 56; scale *= 128) {
      byte = bytes[pos++]!;
      value += (byte & 0x7f) * scale;
    }
    assert(pos <= this.end && byte < 0x80, 'HDR V2 payload ends inside a word');
    assert(value <= Number.MAX_SAFE_INTEGER, 'HDR V2 word beyond 2^53');
    this.pos = pos;
    // ZigZag: even → n / 2, odd → −(n + 1) / 2.
    if (value < 2 ** 31) return (value >>> 1) ^ -(value & 1);
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }
}

/**
 * Where {@link WordWriter} writes before it copies out the result: one buffer for the process,
 * grown when an encoding needs more, so a sum allocates nothing but its result.
 */
let scratch = new Uint8Array(16 * 1024);

/** Writes the V2 run-length form of (index, count) pairs into {@link scratch}. */
class WordWriter {
  pos = headerBytes;
  /** The index the next count word would be for. */
  #nextIndex = 0;

  /** Records `count` (> 0) at `index` (≥ every index written before, + 1). */
  put(index: number, count: number): void {
    const gap = index - this.#nextIndex;
    // One empty index is written as a zero count, longer runs as −run (as the encoders do).
    if (gap === 1) this.#word(0);
    else if (gap > 1) this.#word(-gap);
    this.#word(count);
    this.#nextIndex = index + 1;
  }

  /** Ends the payload: an empty histogram still holds the count of index 0. */
  finish(header: Uint8Array): Uint8Array {
    if (this.#nextIndex === 0) this.#word(0);
    const out = scratch.slice(0, this.pos);
    out.set(header.subarray(0, headerBytes));
    writeInt32(out, 4, this.pos - headerBytes);
    return out;
  }

  #word(word: number): void {
    assert(Number.isSafeInteger(word), 'HDR V2 word beyond 2^53');
    if (this.pos + 9 > scratch.length) {
      const grown = new Uint8Array(scratch.length * 2);
      grown.set(scratch.subarray(0, this.pos));
      scratch = grown;
    }
    let value = word >= 0 ? word * 2 : -word * 2 - 1;
    let pos = this.pos;
    while (value >= 2 ** 31) {
      scratch[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    // Below 2^31 the rest takes bit operations.
    while (value >= 0x80) {
      scratch[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    scratch[pos++] = value;
    this.pos = pos;
  }
}

function readInt32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function writeInt32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

function sameLayout(a: Uint8Array, b: Uint8Array): boolean {
  // Bytes 8–39: normalizing offset, digits, lowest, highest and ratio; 0–3 the cookie.
  for (let i = 0; i < headerBytes; i++) if (i >= 8 || i < 4) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The V2 encoding of the sum of two V2 encodings of the same layout (same cookie, digits,
 * lowest and highest value): byte for byte what the histogram library writes for the sum.
 * Throws (an assertion) when the layouts differ or an encoding is malformed.
 */
export function addV2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const left = new WordReader(a);
  const right = new WordReader(b);
  assert(sameLayout(a, b), 'HDR V2 encodings of different layouts cannot be added');
  const out = new WordWriter();
  let hasLeft = left.advance();
  let hasRight = right.advance();
  while (hasLeft || hasRight) {
    if (hasLeft && (!hasRight || left.index < right.index)) {
      out.put(left.index, left.count);
      hasLeft = left.advance();
    } else if (hasRight && (!hasLeft || right.index < left.index)) {
      out.put(right.index, right.count);
      hasRight = right.advance();
    } else {
      out.put(left.index, left.count + right.count);
      hasLeft = left.advance();
      hasRight = right.advance();
    }
  }
  return out.finish(a);
}

/** Total count of a V2 encoding. */
export function totalCountV2(v2: Uint8Array): number {
  const reader = new WordReader(v2);
  let total = 0;
  while (reader.advance()) total += reader.count;
  return total;
}

/**
 * Values at `percentiles` (ascending, 0–100) of a V2 encoding, as the histogram's
 * getValueAtPercentile gives them: the highest value equivalent to the bucket that holds the
 * percentile's count (the lowest for percentile 0); 0 for each when the histogram is empty.
 */
export function valuesAtPercentilesV2(v2: Uint8Array, percentiles: readonly number[]): number[] {
  for (let i = 1; i < percentiles.length; i++) {
    assert(percentiles[i - 1]! <= percentiles[i]!, 'percentiles must be ascending');
  }
  const total = totalCountV2(v2);
  const out = percentiles.map(() => 0);
  if (total === 0) return out;
  const layout = layoutOf(v2);
  const ranks = percentiles.map((p) => countAtPercentile(p, total));
  const reader = new WordReader(v2);
  let cumulative = 0;
  let next = 0;
  while (next < percentiles.length && reader.advance()) {
    cumulative += reader.count;
    while (next < percentiles.length && cumulative >= ranks[next]!) {
      out[next] = bucketValue(layout, reader.index, percentiles[next] === 0);
      next++;
    }
  }
  return out;
}

/** The rank a percentile asks for, rounded up as HdrHistogram does (guarding 1 ulp of error). */
function countAtPercentile(percentile: number, total: number): number {
  const exact = (Math.min(percentile, 100) / 100) * total;
  const ulp = exact === 0 ? 0 : 2 ** (Math.floor(Math.log2(exact)) - 52);
  return Math.max(Math.ceil(exact - ulp), 1);
}

interface Layout {
  /** log2 of the lowest discernible value, rounded down. */
  readonly unitMagnitude: number;
  /** log2 of half the sub-bucket count. */
  readonly subBucketHalfCountMagnitude: number;
}

function layoutOf(v2: Uint8Array): Layout {
  const digits = readInt32(v2, 12);
  // The lowest value is an int64; latency histograms keep it far below 2^31.
  assert(readInt32(v2, 16) === 0, 'HDR V2 lowest discernible value beyond 2^31');
  const lowest = readInt32(v2, 20);
  assert(lowest >= 1 && digits >= 0 && digits <= 5, 'HDR V2 header out of range');
  // Unit resolution up to 2·10^digits, in a power-of-two number of sub-buckets.
  const subBucketCountMagnitude = Math.ceil(Math.log2(2 * 10 ** digits));
  return {
    unitMagnitude: Math.floor(Math.log2(lowest)),
    subBucketHalfCountMagnitude: subBucketCountMagnitude - 1,
  };
}

/**
 * The value of counts index `index`: bucket 0 holds 2·half sub-buckets of width 2^unit, every
 * later bucket k the upper half, of width 2^(unit+k). `lowest` picks the bucket's lowest value,
 * otherwise its highest.
 */
function bucketValue(layout: Layout, index: number, lowest: boolean): number {
  const half = 2 ** layout.subBucketHalfCountMagnitude;
  let bucket = Math.floor(index / half) - 1;
  let subBucket = (index % half) + half;
  if (bucket < 0) {
    subBucket -= half;
    bucket = 0;
  }
  const width = 2 ** (bucket + layout.unitMagnitude);
  const value = subBucket * width;
  return lowest ? value : value + width - 1;
}
