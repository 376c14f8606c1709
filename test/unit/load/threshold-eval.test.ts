import { describe, expect, it } from 'vitest';
import {
  evaluateThreshold,
  shouldAbort,
  statsFromWindow,
  type ThresholdStats,
} from '../../../src/load/threshold-eval.js';
import type { WindowView } from '../../../src/metrics/recorder.js';
import { parseThreshold } from '../../../src/scenario/threshold.js';
import type { ThresholdSpec } from '../../../src/scenario/schema.js';
import type { OpName } from '../../../src/common/operations.js';
import type { LatencySummaryUs } from '../../../src/metrics/hdr.js';

function spec(
  source: string,
  abort: Partial<Pick<ThresholdSpec, 'abortOnFail' | 'delayMs' | 'windowMs'>> = {},
): ThresholdSpec {
  const parsed = parseThreshold(source);
  if (!parsed.ok) throw new Error(parsed.message);
  return { expr: parsed.expr, abortOnFail: false, delayMs: 0, windowMs: 30_000, ...abort };
}

const latency = (p99Ms: number): LatencySummaryUs => ({
  count: 100,
  min: 1000,
  mean: 20_000,
  p50: 15_000,
  p90: 40_000,
  p95: 60_000,
  p99: p99Ms * 1000,
  p999: p99Ms * 2000,
  max: p99Ms * 3000,
});

const counts = new Map<OpName, { count: number; errors: number }>([
  ['start', { count: 980, errors: 20 }],
  ['create', { count: 1000, errors: 0 }],
  ['cycle', { count: 980, errors: 20 }],
]);

/** 10 s of figures: start 980 ok / 20 failed (p99 200 ms), create 1000 ok, cycle 980 / 20. */
const stats: ThresholdStats = {
  durationMs: 10_000,
  dropped: 3,
  droppedRatio: 3 / 1003,
  harnessLagP99Ms: 12.5,
  leaks: {
    leaked_pods: 0,
    leaked_containers: 2,
    leaked_processes: 1,
    leaked_mounts: 0,
    target_rss_slope: 3.5,
    target_fds_slope: -1.25,
  },
  counts: (op: OpName) => counts.get(op) ?? { count: 0, errors: 0 },
  latencyUs: (op: OpName) =>
    op === 'start' ? latency(200) : op === 'cycle' ? latency(900) : undefined,
};

describe('threshold evaluation', () => {
  it.each([
    ['p99(start) < 250ms', 200, true],
    ['p99(start) < 200ms', 200, false],
    ['p99(start) <= 200ms', 200, true],
    ['p999(start) < 1s', 400, true],
    ['max(start) < 500ms', 600, false],
    ['mean(start) < 20ms', 20, false],
    ['p50(start) == 15ms', 15, true],
    ['p90(cycle) < 50ms', 40, true],
    ['p95(cycle) < 50ms', 60, false],
    // 20 errors in 2000 attempts of runtime ops; the failed cycles are not counted twice.
    ['error_rate < 1%', 0.01, false],
    ['error_rate <= 1%', 0.01, true],
    ['error_rate(start) < 2.5%', 0.02, true],
    ['error_rate(cycle) < 1%', 0.02, false],
    ['error_rate(create) == 0', 0, true],
    ['throughput(start) > 90', 98, true],
    ['throughput(cycle) >= 100', 98, false],
    ['throughput(stop) > 0', 0, false],
    ['dropped == 0', 3, false],
    ['dropped < 5', 3, true],
    ['dropped_ratio < 1%', 3 / 1003, true],
    ['dropped_ratio < 0.1%', 3 / 1003, false],
    ['harness_lag_p99 < 20ms', 12.5, true],
    ['harness_lag_p99 < 10ms', 12.5, false],
    ['leaked_containers == 0', 2, false],
    ['leaked_containers <= 2', 2, true],
    ['leaked_pods == 0', 0, true],
    ['leaked_processes == 0', 1, false],
    ['leaked_mounts == 0', 0, true],
    ['target_rss_slope < 5%/h', 3.5, true],
    ['target_rss_slope < 3%/h', 3.5, false],
    ['target_fds_slope < 0%/h', -1.25, true],
    ['target_fds_slope > -1%/h', -1.25, false],
  ] as const)('%s → actual %d, ok %s', (source, actual, ok) => {
    const result = evaluateThreshold(spec(source), stats);
    expect(result.actual).toBeCloseTo(actual, 9);
    expect(result.ok).toBe(ok);
    expect(result.source).toBe(source);
  });

  it.each([
    'p99(stop) < 1s',
    'error_rate(stop) < 1%',
    'dropped_ratio < 1%',
    'harness_lag_p99 < 1s',
    'target_threads_slope < 5%/h',
  ])('%s with nothing measured has no value and fails', (source) => {
    const result = evaluateThreshold(spec(source), {
      ...stats,
      droppedRatio: undefined,
      harnessLagP99Ms: undefined,
    });
    expect(result).toMatchObject({ actual: undefined, ok: false });
  });

  it('the leak metrics have no value without an audit (and so fail)', () => {
    for (const source of ['leaked_containers == 0', 'target_rss_slope < 5%/h']) {
      expect(evaluateThreshold(spec(source), { ...stats, leaks: undefined })).toMatchObject({
        actual: undefined,
        ok: false,
      });
    }
  });

  it('aborts on the first failing abortOnFail threshold once its delay has passed', () => {
    const specs = [
      spec('p99(start) < 100ms'),
      spec('p99(cycle) < 500ms', { abortOnFail: true, delayMs: 60_000 }),
      spec('p99(stop) < 1ms', { abortOnFail: true }),
      spec('error_rate < 1%', { abortOnFail: true, windowMs: 5000 }),
    ];
    const windows: number[] = [];
    const windowOf = (ms: number): ThresholdStats => {
      windows.push(ms);
      return stats;
    };
    expect(shouldAbort(specs, 59_000, windowOf)?.source).toBe('error_rate < 1%');
    expect(windows).toEqual([30_000, 5000]);
    expect(shouldAbort(specs, 60_000, windowOf)?.source).toBe('p99(cycle) < 500ms');
    expect(
      shouldAbort([spec('p99(stop) < 1ms', { abortOnFail: true })], 0, windowOf),
    ).toBeUndefined();
  });

  it('a sliding window has a dropped_ratio, not a harness lag', () => {
    const view: WindowView = {
      startMs: 0,
      durationMs: 5000,
      dropped: 30,
      ops: ['cycle'],
      counts: (op) => (op === 'cycle' ? { count: 60, errors: 10 } : { count: 0, errors: 0 }),
      latencyUs: () => undefined,
    };
    const window = statsFromWindow(view);
    // 30 dropped of 30 + 70 cycles that ended in the window; harness lag is not windowed.
    expect(window.droppedRatio).toBeCloseTo(0.3, 9);
    expect(window.harnessLagP99Ms).toBeUndefined();
    expect(
      shouldAbort(
        [
          spec('dropped_ratio < 10%', { abortOnFail: true }),
          spec('harness_lag_p99 < 1ms', { abortOnFail: true }),
        ],
        60_000,
        () => window,
      )?.source,
    ).toBe('dropped_ratio < 10%');
  });
});
