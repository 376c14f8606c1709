/**
 * A latency distribution read from an encoded HDR histogram, as plain sorted arrays: what
 * compare, merge checks and the renderers compute percentiles and means from.
 *
 * Decoding reads the V2 encoding directly (inflate, header, ZigZag LEB128 counts) into the
 * non-empty buckets only: no counts array of the full 1 µs–1 h range is ever allocated, which
 * makes it about 50× cheaper than decoding into a histogram object, and garbage collected. Percentiles follow
 * HdrHistogram's definition exactly (the highest value equivalent to the bucket holding the
 * ceil(p/100 · count)-th value), so they equal the summaries the recorder wrote; the mean uses
 * each bucket's median equivalent value, as HdrHistogram does. Values are microseconds.
 */
import { inflateSync } from 'node:zlib';
import { ChurnError } from '../common/errors.js';

/** One non-empty bucket: values `lowestUs … lowestUs + sizeUs − 1` and how many fell in it. */
export interface DistributionBucket {
  readonly lowestUs: number;
  readonly sizeUs: number;
  readonly count: number;
}

/** A latency distribution in µs; see the module comment. */
export class Distribution {
  /** Values recorded. */
  readonly total: number;
  readonly #lowest: Float64Array;
  readonly #size: Float64Array;
  readonly #cumulative: Float64Array;

  private constructor(buckets: readonly DistributionBucket[]) {
    const n = buckets.length;
    this.#lowest = new Float64Array(n);
    this.#size = new Float64Array(n);
    this.#cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const b = buckets[i]!;
      this.#lowest[i] = b.lowestUs;
      this.#size[i] = b.sizeUs;
      sum += b.count;
      this.#cumulative[i] = sum;
    }
    this.total = sum;
  }

  /** A distribution of the given buckets (any order; equal buckets add). */
  static fromBuckets(buckets: Iterable<DistributionBucket>): Distribution {
    const byLowest = new Map<number, { sizeUs: number; count: number }>();
    for (const b of buckets) {
      if (b.count <= 0) continue;
      const prev = byLowest.get(b.lowestUs);
      if (prev === undefined) byLowest.set(b.lowestUs, { sizeUs: b.sizeUs, count: b.count });
      else prev.count += b.count;
    }
    const sorted = [...byLowest.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([lowestUs, b]) => ({ lowestUs, sizeUs: b.sizeUs, count: b.count }));
    return new Distribution(sorted);
  }

  /**
   * Decodes an encoded histogram (HdrHistogram V2, compressed, base64). Throws REPORT_INVALID
   * naming `where` (e.g. `run.json: operations.start.histogram`) when it is not one.
   */
  static fromEncoded(text: string, where: string): Distribution {
    try {
      return new Distribution(decodeBuckets(text));
    } catch (err) {
      throw new ChurnError(
        'REPORT_INVALID',
        `${where}: not an encoded HDR histogram (${(err as Error).message})`,
        { cause: err },
      );
    }
  }

  /**
   * Checks that `text` is an encoded HDR histogram (decodes it without keeping it): what the
   * report reader does for every histogram. Throws REPORT_INVALID naming `where`.
   */
  static check(text: string, where: string): void {
    try {
      walkEncoded(text);
    } catch (err) {
      throw new ChurnError(
        'REPORT_INVALID',
        `${where}: not an encoded HDR histogram (${(err as Error).message})`,
        { cause: err },
      );
    }
  }

  /** The sum of `parts` (exact: every histogram churn writes has the same layout). */
  static sum(parts: readonly Distribution[]): Distribution {
    if (parts.length === 1) return parts[0]!;
    return Distribution.fromBuckets(parts.flatMap((p) => [...p.buckets()]));
  }

  /** The empty distribution. */
  static empty(): Distribution {
    return new Distribution([]);
  }

  /** The non-empty buckets, lowest first. */
  *buckets(): IterableIterator<DistributionBucket> {
    let prev = 0;
    for (let i = 0; i < this.#lowest.length; i++) {
      const cumulative = this.#cumulative[i]!;
      yield { lowestUs: this.#lowest[i]!, sizeUs: this.#size[i]!, count: cumulative - prev };
      prev = cumulative;
    }
  }

  /**
   * The value at `percentile` (0–100), µs, as HdrHistogram's getValueAtPercentile: the highest
   * equivalent value of the bucket holding the ⌈p/100·total⌉-th value (the lowest for 0); 0 when
   * empty.
   */
  valueAtPercentile(percentile: number): number {
    if (this.total === 0) return 0;
    const index = this.#indexOfRank(rankAtPercentile(percentile, this.total));
    return percentile === 0 ? this.#lowest[index]! : this.#highestOf(index);
  }

  /** The value of the `rank`-th smallest recorded value (1-based), µs: its highest equivalent. */
  valueAtRank(rank: number): number {
    if (this.total === 0) return 0;
    return this.#highestOf(this.#indexOfRank(Math.min(Math.max(rank, 1), this.total)));
  }

  /** Mean, µs (median equivalent value of each bucket, as HdrHistogram); 0 when empty. */
  get mean(): number {
    if (this.total === 0) return 0;
    let sum = 0;
    let prev = 0;
    for (let i = 0; i < this.#lowest.length; i++) {
      const count = this.#cumulative[i]! - prev;
      prev = this.#cumulative[i]!;
      sum += (this.#lowest[i]! + Math.floor(this.#size[i]! / 2)) * count;
    }
    return sum / this.total;
  }

  /** Lowest recorded value (its lowest equivalent), µs; 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.#lowest[0]!;
  }

  /** Highest recorded value (its highest equivalent), µs; 0 when empty. */
  get max(): number {
    return this.total === 0 ? 0 : this.#highestOf(this.#lowest.length - 1);
  }

  #highestOf(index: number): number {
    return this.#lowest[index]! + this.#size[index]! - 1;
  }

  /** Index of the first bucket whose cumulative count reaches `rank`. */
  #indexOfRank(rank: number): number {
    const cumulative = this.#cumulative;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! >= rank) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * The rank (1-based) HdrHistogram reads `percentile` at among `total` values:
 * max(⌈p/100·total − ulp⌉, 1), the ulp guarding against floating-point overshoot.
 */
export function rankAtPercentile(percentile: number, total: number): number {
  const fp = (Math.min(percentile, 100) / 100) * total;
  const ulp = fp === 0 ? 0 : Math.pow(2, Math.floor(Math.log2(fp)) - 52);
  return Math.max(Math.ceil(fp - ulp), 1);
}

const compressedCookieBase = 0x1c849304;
const encodingCookieBase = 0x1c849303;
/** Bytes before the counts in the V2 encoding. */
const headerBytes = 40;

/**
 * The non-empty buckets of an encoded histogram. The V2 layout: cookie, payload length,
 * normalizing offset (unused), significant digits, lowest discernible value, highest trackable
 * value, conversion ratio, then counts as ZigZag LEB128 varints, a negative one being a run of
 * that many empty buckets. Bucket i covers values valueFromIndex(i) … + 2^(bucket+unit) − 1.
 */
function decodeBuckets(text: string): DistributionBucket[] {
  const buckets: DistributionBucket[] = [];
  walkEncoded(text, (lowestUs, sizeUs, count) => buckets.push({ lowestUs, sizeUs, count }));
  return buckets;
}

/**
 * Decodes `text` (see {@link decodeBuckets}), calling `onBucket` for every non-empty bucket in
 * order, if given; throws an Error saying what is wrong when it is not a V2 histogram.
 */
function walkEncoded(
  text: string,
  onBucket?: (lowestUs: number, sizeUs: number, count: number) => void,
): void {
  const data = Buffer.from(text.trim(), 'base64');
  if (data.length < 8) throw new Error('too short');
  if ((data.readInt32BE(0) & ~0xf0) !== compressedCookieBase) throw new Error('unknown cookie');
  const compressedLength = data.readInt32BE(4);
  if (compressedLength < 0 || 8 + compressedLength > data.length) throw new Error('truncated');
  const raw = inflateSync(data.subarray(8, 8 + compressedLength));
  if (raw.length < headerBytes || (raw.readInt32BE(0) & ~0xf0) !== encodingCookieBase) {
    throw new Error('bad V2 header');
  }
  const payloadLength = raw.readInt32BE(4);
  const digits = raw.readInt32BE(12);
  const lowestDiscernible = Number(raw.readBigInt64BE(16));
  if (digits < 1 || digits > 5 || !(lowestDiscernible >= 1)) throw new Error('bad V2 header');
  if (payloadLength < 0 || headerBytes + payloadLength > raw.length) throw new Error('truncated');

  const subBucketCountMagnitude = Math.ceil(Math.log2(2 * 10 ** digits));
  const halfMagnitude = Math.max(subBucketCountMagnitude, 1) - 1;
  const halfCount = 2 ** halfMagnitude;
  const unitMagnitude = Math.floor(Math.log2(lowestDiscernible));

  let index = 0;
  let pos = headerBytes;
  const end = headerBytes + payloadLength;
  while (pos < end) {
    // ZigZag LEB128, up to 9 bytes; multiplication keeps values beyond 32 bits exact.
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 9; i++) {
      if (pos >= end) throw new Error('truncated count');
      const byte = raw[pos++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) break;
    }
    const count = value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    if (count < 0) {
      index += -count;
      continue;
    }
    if (count > 0 && onBucket !== undefined) {
      let bucketIndex = Math.floor(index / halfCount) - 1;
      let subBucketIndex = (index % halfCount) + halfCount;
      if (bucketIndex < 0) {
        subBucketIndex -= halfCount;
        bucketIndex = 0;
      }
      const sizeUs = 2 ** (bucketIndex + unitMagnitude);
      onBucket(subBucketIndex * sizeUs, sizeUs, count);
    }
    index++;
  }
}
