/**
 * Threshold expressions: `p99(start) < 250ms`, `error_rate < 0.1%`, `error_rate(start) <= 1%`,
 * `throughput(cycle) > 20`, `dropped == 0`, `dropped_ratio < 1%`, `harness_lag_p99 < 50ms`,
 * and the leak audit's `leaked_containers == 0` (also `leaked_pods`, `leaked_processes`,
 * `leaked_mounts`) and `target_rss_slope < 5%/h` (also `target_fds_slope`,
 * `target_threads_slope`: growth of the runtime daemon after warm-up, % of its baseline per hour).
 * Parsed once at load time into a {@link Threshold};
 * an unknown metric or operation is an error then, never a silent pass at the end.
 */
import { isOpName, opNames, type OpName } from '../common/operations.js';
import { didYouMean } from './did-you-mean.js';
import { explainBadDuration, parseDurationMs, parseRatio } from './units.js';

/** Latency statistics a threshold can name; values are in milliseconds. */
export const latencyStats = ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'] as const;
/** A latency statistic; see {@link latencyStats}. */
export type LatencyStat = (typeof latencyStats)[number];

/** What the leak audit found left after the run's cleanup, as counts. */
export const leakCountMetrics = [
  'leaked_pods',
  'leaked_containers',
  'leaked_processes',
  'leaked_mounts',
] as const;
/** The runtime daemon's growth after warm-up, % of its baseline per hour. */
export const leakSlopeMetrics = [
  'target_rss_slope',
  'target_fds_slope',
  'target_threads_slope',
] as const;

/** Every metric a threshold can name. */
export const thresholdMetrics = [
  ...latencyStats,
  'error_rate',
  'throughput',
  'dropped',
  'dropped_ratio',
  'harness_lag_p99',
  ...leakCountMetrics,
  ...leakSlopeMetrics,
] as const;
/** Metrics of the whole run that take no operation. */
const runWideMetrics: readonly ThresholdMetric[] = [
  'dropped',
  'dropped_ratio',
  'harness_lag_p99',
  ...leakCountMetrics,
  ...leakSlopeMetrics,
];
/** A threshold metric; see {@link thresholdMetrics}. */
export type ThresholdMetric = (typeof thresholdMetrics)[number];

/** Comparison operators, as written. */
export type Comparator = '<' | '<=' | '>' | '>=' | '==';

/**
 * A parsed threshold. `value` is in the metric's base unit: milliseconds for latency and
 * harness_lag_p99, a fraction (0.001 for 0.1%) for error_rate and dropped_ratio, successful
 * operations per second of recorded time for throughput, a count for dropped and the leaked_
 * metrics, percent of the baseline per hour for the target_…_slope metrics (5 for `5%/h`). `op`
 * is undefined for run-wide metrics (error_rate over all operations, dropped, dropped_ratio,
 * harness_lag_p99, the leak metrics).
 */
export interface ThresholdExpr {
  readonly source: string;
  readonly metric: ThresholdMetric;
  readonly op: OpName | undefined;
  readonly comparator: Comparator;
  readonly value: number;
}

/** Result of {@link parseThreshold}: the expression, or a message saying what is wrong. */
export type ThresholdParse =
  | { readonly ok: true; readonly expr: ThresholdExpr }
  | { readonly ok: false; readonly message: string };

const pattern =
  /^\s*([A-Za-z_0-9]+)\s*(?:\(\s*([A-Za-z_0-9]*)\s*\))?\s*(<=|>=|==|<|>)\s*(\S+(?:\s*\S+)?)\s*$/;

/** Parses one threshold expression; see the module comment for the grammar. */
export function parseThreshold(source: string): ThresholdParse {
  const match = pattern.exec(source);
  if (match === null) {
    return fail(
      `cannot parse threshold "${source.trim()}": expected e.g. "p99(start) < 250ms" or "error_rate < 0.1%"`,
    );
  }
  const [, metricText, opText, comparatorText, valueText] = match as unknown as [
    string,
    string,
    string | undefined,
    Comparator,
    string,
  ];
  if (!(thresholdMetrics as readonly string[]).includes(metricText)) {
    return fail(
      `unknown threshold metric "${metricText}"${didYouMean(metricText, thresholdMetrics)}: use one of ${thresholdMetrics.join(', ')}`,
    );
  }
  const metric = metricText as ThresholdMetric;
  let op: OpName | undefined;
  if (opText !== undefined && opText !== '') {
    if (!isOpName(opText)) {
      return fail(
        `unknown operation "${opText}" in threshold "${source.trim()}"${didYouMean(opText, opNames)}: use one of ${opNames.join(', ')}`,
      );
    }
    op = opText;
  }
  const isLatency = (latencyStats as readonly string[]).includes(metric);
  if ((isLatency || metric === 'throughput') && op === undefined) {
    return fail(
      `threshold "${source.trim()}": ${metric} needs an operation, e.g. ${metric}(cycle)`,
    );
  }
  if (runWideMetrics.includes(metric) && op !== undefined) {
    return fail(
      `threshold "${source.trim()}": ${metric} is of the whole run and takes no operation`,
    );
  }
  let value: number | undefined;
  if (isLatency || metric === 'harness_lag_p99') {
    value = parseDurationMs(valueText);
    if (value === undefined) {
      return fail(`threshold "${source.trim()}": ${explainBadDuration(valueText)}`);
    }
  } else if (metric === 'error_rate' || metric === 'dropped_ratio') {
    value = parseRatio(valueText);
    if (value === undefined) {
      return fail(
        `threshold "${source.trim()}": "${valueText}" is not a ratio (e.g. 0.1% or 0.001)`,
      );
    }
    if (value > 1) {
      return fail(`threshold "${source.trim()}": "${valueText}" is more than 100%`);
    }
  } else if ((leakSlopeMetrics as readonly string[]).includes(metric)) {
    const slope = /^(-?\d+(?:\.\d+)?)\s*%\/h$/.exec(valueText);
    if (slope === null) {
      return fail(
        `threshold "${source.trim()}": "${valueText}" is not a growth per hour (e.g. 5%/h: percent of the baseline per hour)`,
      );
    }
    value = Number(slope[1]);
  } else {
    const text = metric === 'throughput' ? valueText.replace(/\s*\/s$/, '') : valueText;
    value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
    if (value === undefined) {
      return fail(`threshold "${source.trim()}": "${valueText}" is not a number`);
    }
  }
  return {
    ok: true,
    expr: { source: source.trim(), metric, op, comparator: comparatorText, value },
  };
}

/** True when `actual` satisfies the threshold's comparison. */
export function thresholdHolds(expr: ThresholdExpr, actual: number): boolean {
  switch (expr.comparator) {
    case '<':
      return actual < expr.value;
    case '<=':
      return actual <= expr.value;
    case '>':
      return actual > expr.value;
    case '>=':
      return actual >= expr.value;
    case '==':
      return actual === expr.value;
  }
}

function fail(message: string): ThresholdParse {
  return { ok: false, message };
}
