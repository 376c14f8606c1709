// The runtime daemon's growth as a least-squares slope in % of its baseline per hour: exact on
// straight lines, robust to noise around a flat line, and drawn only where it means something.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResourcePoint, ResourceSeriesData } from '../../../src/metrics/resource-series.js';
import {
  gaugeTrend,
  minTrendSpanMs,
  targetTrend,
  type GaugeReading,
} from '../../../src/metrics/trend.js';

/** `n` readings every `stepMs` from 0, of `value(i)`. */
function readings(n: number, stepMs: number, value: (i: number) => number): GaugeReading[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: i * stepMs, value: value(i) }));
}

/** Equal to a relative 1e-9 (floating-point sums of large values). */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}

describe('gaugeTrend', () => {
  it.each([
    // 100 MB growing 5 MB an hour: +5%/h.
    ['+5%/h', 100e6, 5e6, 5],
    ['flat', 48, 0, 0],
    ['-10%/h', 200, -20, -10],
  ])('a straight line %s', (_, baseline, perHour, pctPerHour) => {
    const stepMs = 60_000;
    const trend = gaugeTrend(readings(61, stepMs, (i) => baseline + (perHour * i) / 60))!;
    expect(trend.baseline).toBeCloseTo(baseline, 6);
    expect(trend.slopePerHour).toBeCloseTo(perHour, 6);
    expect(trend.slopePctPerHour).toBeCloseTo(pctPerHour, 9);
    expect(trend.last).toBeCloseTo(baseline + perHour, 6);
  });

  it('is measured against the fitted start, not the first (noisy) reading', () => {
    // Flat at 1000 but the first reading spikes: the slope stays small and the baseline ~1000.
    const values = readings(21, 5000, (i) => (i === 0 ? 1500 : 1000));
    const trend = gaugeTrend(values)!;
    expect(trend.baseline).toBeGreaterThan(1000);
    expect(trend.baseline).toBeLessThan(1100);
    expect(trend.last).toBe(1000);
  });

  it('has no value with too few readings, too short a span or no baseline to speak of', () => {
    expect(gaugeTrend(readings(2, 60_000, () => 10))).toBeUndefined();
    expect(gaugeTrend(readings(5, (minTrendSpanMs - 1) / 4, () => 10))).toBeUndefined();
    expect(gaugeTrend(readings(5, minTrendSpanMs / 4, () => 10))).toBeDefined();
    expect(gaugeTrend(readings(10, 60_000, () => 0))).toBeUndefined();
  });

  it('adding a line adds its slope; scaling the gauge leaves the %/h as it is', () => {
    fc.assert(
      fc.property(
        // Readings well above zero, so the fitted baseline is too and its share is well-defined.
        fc.array(fc.double({ min: 10_000, max: 11_000, noNaN: true }), {
          minLength: 3,
          maxLength: 100,
        }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: 0.5, max: 1000, noNaN: true }),
        (values, perHour, scale) => {
          const stepMs = 60_000;
          const base = gaugeTrend(readings(values.length, stepMs, (i) => values[i]!))!;
          const tilted = gaugeTrend(
            readings(values.length, stepMs, (i) => values[i]! + (perHour * i * stepMs) / 3_600_000),
          )!;
          expectNear(tilted.slopePerHour, base.slopePerHour + perHour);
          expectNear(tilted.baseline, base.baseline);
          const scaled = gaugeTrend(readings(values.length, stepMs, (i) => values[i]! * scale))!;
          expectNear(scaled.slopePctPerHour, base.slopePctPerHour);
        },
      ),
    );
  });
});

function point(atMs: number, over: Partial<ResourcePoint> = {}): ResourcePoint {
  return {
    atMs,
    spanMs: 1000,
    targetUp: true,
    targetPid: 100,
    targetCpuSeconds: 1,
    targetRssBytes: 1000 + atMs / 1000,
    targetOpenFds: 50,
    targetThreads: 10,
    shims: 0,
    shimRssBytes: 0,
    harnessCpuSeconds: 1,
    harnessRssBytes: 1,
    harnessHeapUsedBytes: 1,
    harnessOpenFds: 1,
    eventLoopLagP99Ms: 1,
    eventLoopLagMaxMs: 1,
    eventLoopLagSpanP99Ms: 1,
    eventLoopUtilization: 0.1,
    load1: 1,
    stealPct: 0,
    otherCpuPct: 0,
    ...over,
  };
}

function series(points: ResourcePoint[]): ResourceSeriesData {
  return {
    originWallMs: 0,
    originMs: 5000,
    intervalMs: 1000,
    target: { name: 'containerd', source: 'driver' },
    points,
  };
}

describe('targetTrend', () => {
  it('is drawn after warm-up through the points of the latest process only', () => {
    const points = [
      // Warm-up (before clock 5000 + 10 000): a steep climb that must not count.
      ...Array.from({ length: 10 }, (_, i) => point(i * 1000, { targetRssBytes: i * 1e6 })),
      // After warm-up, pid 100: flat fds, rss +1 byte a second, a point every 5 s.
      ...Array.from({ length: 20 }, (_, i) => point(10_000 + i * 5000)),
      // A sample where the target was down is skipped.
      point(110_000, { targetUp: false, targetPid: null, targetRssBytes: null }),
    ];
    const trend = targetTrend(series(points), 15_000)!;
    expect(trend).toMatchObject({ name: 'containerd', pid: 100, fromMs: 10_000, toMs: 105_000 });
    expect(trend.points).toBe(20);
    expect(trend.rssBytes!.slopePerHour).toBeCloseTo(3600, 6);
    expect(trend.openFds!.slopePctPerHour).toBe(0);

    // The daemon restarted as pid 200 at 30 s: the trend starts again from its points.
    const restarted = points.map((p) => (p.atMs >= 30_000 ? { ...p, targetPid: 200 } : p));
    expect(targetTrend(series(restarted), 15_000)).toMatchObject({ pid: 200, fromMs: 30_000 });
  });

  it('has none without a target, and null gauges where the span is too short', () => {
    expect(targetTrend({ ...series([point(0)]), target: null }, 0)).toBeUndefined();
    expect(targetTrend(series([]), 0)).toBeUndefined();
    const short = targetTrend(series([point(0), point(1000), point(2000)]), 0)!;
    expect(short.rssBytes).toBeNull();
    expect(short.points).toBe(3);
  });
});
