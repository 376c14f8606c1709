import { describe, expect, it } from 'vitest';
import {
  parseThreshold,
  thresholdHolds,
  type ThresholdExpr,
} from '../../../src/scenario/threshold.js';

function parsed(source: string): ThresholdExpr {
  const result = parseThreshold(source);
  if (!result.ok) throw new Error(result.message);
  return result.expr;
}

describe('parseThreshold', () => {
  it.each([
    ['p99(start) < 250ms', 'p99', 'start', '<', 250],
    ['p999(cycle)<=1s', 'p999', 'cycle', '<=', 1000],
    ['  mean( stop ) > 1.5 ms ', 'mean', 'stop', '>', 1.5],
    ['max(remove_pod) >= 2m', 'max', 'remove_pod', '>=', 120_000],
    ['error_rate < 0.1%', 'error_rate', undefined, '<', 0.001],
    ['error_rate(exec) <= 0.05', 'error_rate', 'exec', '<=', 0.05],
    ['throughput(cycle) > 20', 'throughput', 'cycle', '>', 20],
    ['throughput(start) > 12.5/s', 'throughput', 'start', '>', 12.5],
    ['dropped == 0', 'dropped', undefined, '==', 0],
    ['dropped_ratio < 1%', 'dropped_ratio', undefined, '<', 0.01],
    ['dropped_ratio <= 0.05', 'dropped_ratio', undefined, '<=', 0.05],
    ['harness_lag_p99 < 50ms', 'harness_lag_p99', undefined, '<', 50],
    ['harness_lag_p99 <= 1s', 'harness_lag_p99', undefined, '<=', 1000],
    ['leaked_containers == 0', 'leaked_containers', undefined, '==', 0],
    ['leaked_pods <= 1', 'leaked_pods', undefined, '<=', 1],
    ['leaked_processes == 0', 'leaked_processes', undefined, '==', 0],
    ['leaked_mounts < 3', 'leaked_mounts', undefined, '<', 3],
    ['target_rss_slope < 5%/h', 'target_rss_slope', undefined, '<', 5],
    ['target_fds_slope <= 0.5 %/h', 'target_fds_slope', undefined, '<=', 0.5],
    ['target_threads_slope > -10%/h', 'target_threads_slope', undefined, '>', -10],
  ])('%j', (source, metric, op, comparator, value) => {
    expect(parsed(source)).toEqual({ source: source.trim(), metric, op, comparator, value });
  });

  it.each([
    [
      'p99 start < 5ms',
      'cannot parse threshold "p99 start < 5ms": expected e.g. "p99(start) < 250ms" or "error_rate < 0.1%"',
    ],
    [
      'p98(start) < 5ms',
      'unknown threshold metric "p98" (did you mean "p90", "p95" or "p99"?): use one of p50, p90, p95, p99, p999, max, mean, error_rate, throughput, dropped, dropped_ratio, harness_lag_p99, leaked_pods, leaked_containers, leaked_processes, leaked_mounts, target_rss_slope, target_fds_slope, target_threads_slope',
    ],
    [
      'p99(Start) < 5ms',
      'unknown operation "Start" in threshold "p99(Start) < 5ms" (did you mean "start"?): use one of pull, run_pod, create, start, exec, status, list, stop, remove, stop_pod, remove_pod, cycle',
    ],
    ['p99 < 5ms', 'threshold "p99 < 5ms": p99 needs an operation, e.g. p99(cycle)'],
    [
      'throughput > 5',
      'threshold "throughput > 5": throughput needs an operation, e.g. throughput(cycle)',
    ],
    [
      'dropped(start) == 0',
      'threshold "dropped(start) == 0": dropped is of the whole run and takes no operation',
    ],
    [
      'harness_lag_p99(start) < 50ms',
      'threshold "harness_lag_p99(start) < 50ms": harness_lag_p99 is of the whole run and takes no operation',
    ],
    [
      'harness_lag_p99 < 50',
      'threshold "harness_lag_p99 < 50": "50" has no unit: write e.g. 50s or 50ms',
    ],
    ['dropped_ratio < 120%', 'threshold "dropped_ratio < 120%": "120%" is more than 100%'],
    ['p99(start) < 5', 'threshold "p99(start) < 5": "5" has no unit: write e.g. 5s or 5ms'],
    [
      'p99(start) < 5secs',
      'threshold "p99(start) < 5secs": "5secs" has an unknown unit "secs": use us, ms, s, m or h (did you mean "5s"?)',
    ],
    [
      'error_rate < lots',
      'threshold "error_rate < lots": "lots" is not a ratio (e.g. 0.1% or 0.001)',
    ],
    ['error_rate < 101%', 'threshold "error_rate < 101%": "101%" is more than 100%'],
    ['dropped < few', 'threshold "dropped < few": "few" is not a number'],
    [
      'leaked_container == 0',
      'unknown threshold metric "leaked_container" (did you mean "leaked_containers"?): use one of p50, p90, p95, p99, p999, max, mean, error_rate, throughput, dropped, dropped_ratio, harness_lag_p99, leaked_pods, leaked_containers, leaked_processes, leaked_mounts, target_rss_slope, target_fds_slope, target_threads_slope',
    ],
    [
      'leaked_containers(start) == 0',
      'threshold "leaked_containers(start) == 0": leaked_containers is of the whole run and takes no operation',
    ],
    ['leaked_mounts == none', 'threshold "leaked_mounts == none": "none" is not a number'],
    [
      'target_rss_slope < 5%',
      'threshold "target_rss_slope < 5%": "5%" is not a growth per hour (e.g. 5%/h: percent of the baseline per hour)',
    ],
    [
      'target_rss_slope < 5',
      'threshold "target_rss_slope < 5": "5" is not a growth per hour (e.g. 5%/h: percent of the baseline per hour)',
    ],
  ])('refuses %j', (source, message) => {
    expect(parseThreshold(source)).toEqual({ ok: false, message });
  });
});

describe('thresholdHolds', () => {
  it.each([
    ['p99(start) < 250ms', 249, true],
    ['p99(start) < 250ms', 250, false],
    ['p99(start) <= 250ms', 250, true],
    ['throughput(cycle) > 20', 20, false],
    ['throughput(cycle) >= 20', 20, true],
    ['dropped == 0', 0, true],
    ['dropped == 0', 1, false],
  ])('%j with %d is %s', (source, actual, holds) => {
    expect(thresholdHolds(parsed(source), actual)).toBe(holds);
  });
});
