// The report's resource series stays bounded however long the run, and coarsening keeps
// what matters: counters as at the end of a point, gauges at their peak.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResourceSample } from '../../../src/metrics/resource-sample.js';
import { ResourceSeries } from '../../../src/metrics/resource-series.js';

function sample(atMs: number, rss: number, cpu: number, up = true): ResourceSample {
  return {
    atMs,
    target: {
      name: 'containerd',
      pid: 7,
      up,
      cpuSeconds: up ? cpu : undefined,
      rssBytes: up ? rss : undefined,
      openFds: up ? 10 : undefined,
      threads: up ? 5 : undefined,
      shims: up ? 2 : undefined,
      shimRssBytes: up ? 100 : undefined,
    },
    harness: {
      cpuSeconds: cpu / 2,
      rssBytes: rss / 2,
      heapUsedBytes: 1,
      openFds: 3,
      eventLoopLagP99Seconds: 0.001,
      eventLoopLagMaxSeconds: 0.002,
      eventLoopLagSpanP99Seconds: 0.002,
      eventLoopUtilization: 0.5,
    },
  };
}

describe('ResourceSeries', () => {
  it('keeps raw samples while there is room', () => {
    const series = new ResourceSeries({
      originMs: 500,
      originWallMs: 1e12,
      intervalMs: 1000,
      maxPoints: 8,
    });
    series.setTarget('containerd', 'driver');
    for (let i = 0; i < 3; i++) series.add(sample(500 + i * 1000, 100 + i, i));
    const data = series.data();
    expect(data).toMatchObject({
      originWallMs: 1e12,
      intervalMs: 1000,
      target: { name: 'containerd', source: 'driver' },
    });
    expect(
      data.points.map((p) => [p.atMs, p.spanMs, p.targetRssBytes, p.targetCpuSeconds]),
    ).toEqual([
      [0, 0, 100, 0],
      [1000, 1000, 101, 1],
      [2000, 1000, 102, 2],
    ]);
    expect(data.points[0]).toMatchObject({
      eventLoopLagP99Ms: 1,
      eventLoopLagMaxMs: 2,
      harnessOpenFds: 3,
    });
  });

  it('merges pairwise when full: counters at the end, gauges at their peak, spans added', () => {
    const series = new ResourceSeries({
      originMs: 0,
      originWallMs: 0,
      intervalMs: 1000,
      maxPoints: 4,
    });
    const rss = [5, 9, 1, 2, 8, 3];
    rss.forEach((r, i) => series.add(sample(i * 1000, r, i * 10, i !== 2)));
    const points = series.data().points;
    // 4 points merged into 2 (width 2 samples), then samples 4 and 5 make a third.
    expect(
      points.map((p) => [p.atMs, p.spanMs, p.targetRssBytes, p.targetCpuSeconds, p.targetUp]),
    ).toEqual([
      [1000, 1000, 9, 10, true],
      [3000, 2000, 2, 30, false],
      [5000, 2000, 8, 50, true],
    ]);
  });

  it('stays within maxPoints and loses no time or peak over a long run (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1e9 }), { minLength: 1, maxLength: 3000 }),
        fc.constantFrom(2, 4, 16, 64),
        (rss, maxPoints) => {
          const series = new ResourceSeries({
            originMs: 0,
            originWallMs: 0,
            intervalMs: 1000,
            maxPoints,
          });
          rss.forEach((r, i) => series.add(sample(i * 1000, r, i)));
          const points = series.data().points;
          expect(points.length).toBeLessThanOrEqual(maxPoints);
          expect(points.at(-1)!.atMs).toBe((rss.length - 1) * 1000);
          expect(points.at(-1)!.targetCpuSeconds).toBe(rss.length - 1);
          expect(points.reduce((a, p) => a + p.spanMs, 0)).toBe((rss.length - 1) * 1000);
          expect(Math.max(...points.map((p) => p.targetRssBytes!))).toBe(Math.max(...rss));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('marks points before a target is known as null', () => {
    const series = new ResourceSeries({ originMs: 0, originWallMs: 0, intervalMs: 1000 });
    series.add({ ...sample(0, 1, 1), target: undefined });
    expect(series.data().points[0]).toMatchObject({
      targetUp: null,
      targetRssBytes: null,
      shims: null,
    });
    expect(series.data().target).toBeNull();
  });

  it('refuses an odd maxPoints', () => {
    expect(
      () => new ResourceSeries({ originMs: 0, originWallMs: 0, intervalMs: 1000, maxPoints: 3 }),
    ).toThrow(/even/);
  });
});
