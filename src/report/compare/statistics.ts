/**
 * The statistics a comparison looks at, per operation, and how each is computed from a
 * distribution and counts: which way is worse, what unit it is in, whether it is a percentile
 * (which gets a bootstrap confidence interval).
 */
import type { Distribution } from '../distribution.js';

/** Statistics compared, in display order. */
export const compareStatistics = [
  'p50',
  'p90',
  'p99',
  'p999',
  'mean',
  'throughput',
  'error_rate',
] as const;

/** One statistic; see {@link compareStatistics}. */
export type CompareStatistic = (typeof compareStatistics)[number];

/** How a statistic is measured and read. */
export interface StatisticInfo {
  /** ms for latency, per_sec for throughput, ratio (a fraction) for error_rate. */
  readonly unit: 'ms' | 'per_sec' | 'ratio';
  /** Higher values are worse (latency, errors) or better (throughput). */
  readonly higherIsWorse: boolean;
  /** The percentile (0–100) for percentile statistics. */
  readonly percentile: number | undefined;
  /** As shown in tables. */
  readonly label: string;
}

/** What each statistic is; see {@link StatisticInfo}. */
export const statisticInfo: Readonly<Record<CompareStatistic, StatisticInfo>> = {
  p50: { unit: 'ms', higherIsWorse: true, percentile: 50, label: 'p50' },
  p90: { unit: 'ms', higherIsWorse: true, percentile: 90, label: 'p90' },
  p99: { unit: 'ms', higherIsWorse: true, percentile: 99, label: 'p99' },
  p999: { unit: 'ms', higherIsWorse: true, percentile: 99.9, label: 'p99.9' },
  mean: { unit: 'ms', higherIsWorse: true, percentile: undefined, label: 'mean' },
  throughput: { unit: 'per_sec', higherIsWorse: false, percentile: undefined, label: 'ops/s' },
  error_rate: { unit: 'ratio', higherIsWorse: true, percentile: undefined, label: 'errors' },
};

/** What one sample (a run, or an interval) holds for one operation. */
export interface OpSample {
  /** Successful operations. */
  readonly count: number;
  readonly errors: number;
  /** Time the sample covers, ms. */
  readonly durationMs: number;
  /** Latency of the successes. */
  readonly distribution: Distribution;
}

/** The value of `statistic` in `sample` (ms, per second, or a fraction); undefined when none. */
export function statisticValue(statistic: CompareStatistic, sample: OpSample): number | undefined {
  const info = statisticInfo[statistic];
  switch (statistic) {
    case 'throughput':
      return sample.durationMs > 0 ? sample.count / (sample.durationMs / 1000) : undefined;
    case 'error_rate': {
      const attempts = sample.count + sample.errors;
      return attempts > 0 ? sample.errors / attempts : undefined;
    }
    case 'mean':
      return sample.distribution.total > 0 ? sample.distribution.mean / 1000 : undefined;
    default:
      return sample.distribution.total > 0
        ? sample.distribution.valueAtPercentile(info.percentile!) / 1000
        : undefined;
  }
}
