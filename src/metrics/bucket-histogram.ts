/**
 * A Prometheus histogram cheap enough for the recorder's hot path.
 *
 * prom-client's own `histogram.labels(…).observe(v)` validates and hashes the label set and
 * allocates on every call (about 0.7 µs here, bench/metrics.bench.ts), as does a counter's
 * `inc()`. So each label set gets a {@link BucketCounts} resolved once, whose `observeUs` is a
 * binary search over fixed bounds and three additions; {@link BucketHistogram}, a prom-client
 * `Histogram` registered in churn's own registry, reads the cells when scraped. Its own
 * `observe`/`labels` are not used and throw, so nothing can be recorded where it is not seen.
 */
import {
  Histogram,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';
import { ChurnError } from '../common/errors.js';

/** Counts of one label set of a histogram with fixed bounds. Written on the hot path. */
export class BucketCounts {
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  /** Sum of the observed values, in microseconds. */
  sumUs = 0;
  count = 0;
  readonly #boundsUs: Float64Array;

  /** `boundsUs`: the upper bounds in µs, ascending (shared by every cell of a histogram). */
  constructor(boundsUs: Float64Array) {
    this.#boundsUs = boundsUs;
    this.counts = new Float64Array(boundsUs.length + 1);
  }

  /** Counts one value of `valueUs` microseconds (negative or NaN counts as 0). */
  observeUs(valueUs: number): void {
    const value = valueUs >= 0 ? valueUs : 0;
    const bounds = this.#boundsUs;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo]!++;
    this.sumUs += value;
    this.count++;
  }
}

/** Options of a {@link BucketHistogram}. */
export interface BucketHistogramOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds in seconds, ascending; +Inf is implicit. */
  readonly bucketsSeconds: readonly number[];
  readonly registry: Registry;
}

interface Cell {
  /** Label values, shared by all its lines (prom-client caches their formatting by identity). */
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: BucketCounts;
}

interface ExpositionValue extends MetricValueWithName<string> {
  readonly sharedLabels?: Readonly<Record<string, string>>;
}

/**
 * prom-client's typings declare `type` as a numeric enum while its code (and the registry that
 * writes `# TYPE`) uses the string; this is the string, typed as the typings want.
 */
const histogramType = 'histogram' as unknown as MetricType;

/** A prom-client histogram whose values live in {@link BucketCounts} cells; see the module comment. */
export class BucketHistogram extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #boundsUs: Float64Array;
  readonly #leLabels: readonly Readonly<Record<string, string>>[];
  readonly #cells = new Map<string, Cell>();
  readonly #labelNames: readonly string[];

  constructor(options: BucketHistogramOptions) {
    super({
      name: options.name,
      help: options.help,
      labelNames: [...options.labelNames],
      buckets: [...options.bucketsSeconds],
      registers: [options.registry],
    });
    this.#name = options.name;
    this.#help = options.help;
    this.#labelNames = options.labelNames;
    // prom-client assigns observe per instance; nothing may record past the cells.
    this.observe = () => {
      throw new ChurnError('INTERNAL', `${options.name}: use cell(labels), not observe()`);
    };
    this.#boundsUs = Float64Array.from(options.bucketsSeconds, (s) => Math.round(s * 1e6));
    this.#leLabels = [...options.bucketsSeconds.map((s) => ({ le: String(s) })), { le: '+Inf' }];
  }

  /**
   * The cell of one label set (every label name, in any order), created at zero on first call:
   * call once per label set, not per observation.
   */
  cell(labels: Readonly<Record<string, string>>): BucketCounts {
    const values = this.#labelNames.map((name) => {
      const value = labels[name];
      if (value === undefined) {
        throw new ChurnError('INTERNAL', `${this.#name}: label ${name} missing`);
      }
      return value;
    });
    const key = values.join('\u0000');
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      const own: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => (own[name] = values[i]!));
      cell = { labels: own, counts: new BucketCounts(this.#boundsUs) };
      this.#cells.set(key, cell);
    }
    return cell.counts;
  }

  /** The exposition lines, label sets of each cell shared (what /metrics and a push write). */
  getForPromString(): Promise<MetricObjectWithValues<ExpositionValue>> {
    return Promise.resolve(this.#object(true));
  }

  /** Values with full label sets (prom-client's JSON form). */
  override get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return Promise.resolve(this.#object(false));
  }

  /** Not used: record through {@link BucketHistogram.cell}. */
  override labels(): never {
    throw new ChurnError('INTERNAL', `${this.#name}: use cell(labels), not labels()`);
  }

  /** Not used: record through {@link BucketHistogram.cell}. */
  override zero(): never {
    throw new ChurnError('INTERNAL', `${this.#name}: use cell(labels), not zero()`);
  }

  #object(shared: boolean): MetricObjectWithValues<ExpositionValue> {
    const values: ExpositionValue[] = [];
    const bucketName = `${this.#name}_bucket`;
    for (const { labels, counts } of this.#cells.values()) {
      const line = (metricName: string, extra: Record<string, string>, value: number): void => {
        values.push(
          shared
            ? { metricName, labels: extra, sharedLabels: labels, value }
            : { metricName, labels: { ...labels, ...extra }, value },
        );
      };
      let cumulative = 0;
      for (let i = 0; i < this.#leLabels.length; i++) {
        cumulative += counts.counts[i]!;
        line(bucketName, this.#leLabels[i]!, cumulative);
      }
      line(`${this.#name}_sum`, {}, counts.sumUs / 1e6);
      line(`${this.#name}_count`, {}, counts.count);
    }
    return {
      name: this.#name,
      help: this.#help,
      type: histogramType,
      values,
      aggregator: 'sum',
      collect: () => undefined,
    };
  }
}
