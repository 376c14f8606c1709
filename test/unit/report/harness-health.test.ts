import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HarnessRunFigures } from '../../../src/metrics/process-metrics.js';
import type { ResourcePoint, ResourceSeriesData } from '../../../src/metrics/resource-series.js';
import { harnessByInterval, harnessOfRun } from '../../../src/report/harness-health.js';

function point(atMs: number, spanMs: number, over: Partial<ResourcePoint> = {}): ResourcePoint {
  return {
    atMs,
    spanMs,
    targetUp: null,
    targetPid: null,
    targetCpuSeconds: null,
    targetRssBytes: null,
    targetOpenFds: null,
    targetThreads: null,
    shims: null,
    shimRssBytes: null,
    harnessCpuSeconds: atMs / 10_000,
    harnessRssBytes: 1,
    harnessHeapUsedBytes: 1,
    harnessOpenFds: null,
    eventLoopLagP99Ms: 1,
    eventLoopLagMaxMs: 2,
    eventLoopLagSpanP99Ms: 2,
    eventLoopUtilization: 0.2,
    load1: 1,
    stealPct: 0,
    otherCpuPct: 10,
    ...over,
  };
}

/** Samples every second from the sampler's origin at clock 1000; the timeline starts at 1500. */
function series(points: ResourcePoint[]): ResourceSeriesData {
  return { originWallMs: 0, originMs: 1000, intervalMs: 1000, target: null, points };
}

describe('harnessByInterval', () => {
  it('scans in one pass what interval by interval it would find alone', () => {
    // Samples of varying spans (coarsened ones are wider) and intervals of varying widths,
    // both in time order: the one-pass scan must agree with each interval scanned on its own.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: -3000, max: 3000 }),
        (spans, widths, originMs) => {
          let atMs = 0;
          const pts = [point(0, 0)];
          spans.forEach((spanMs, i) => {
            atMs += spanMs;
            pts.push(point(atMs, spanMs, { eventLoopLagSpanP99Ms: i, load1: i % 3 }));
          });
          let startMs = 0;
          const intervals = widths.map((durationMs) => {
            const interval = { startMs, durationMs };
            startMs += durationMs;
            return interval;
          });
          const s = series(pts);
          expect(harnessByInterval(s, originMs, intervals)).toEqual(
            intervals.map((i) => harnessByInterval(s, originMs, [i])[0]),
          );
        },
      ),
    );
  });

  const points = [
    point(0, 0),
    point(1000, 1000),
    point(2000, 1000, { eventLoopLagMaxMs: 480, eventLoopLagSpanP99Ms: 480, otherCpuPct: 30 }),
    point(3000, 1000, { eventLoopUtilization: null, load1: 3 }),
  ];

  it('weighs each overlapping sample by its share of the interval', () => {
    // Timeline origin 1500: interval [0, 1000) is sampler time [500, 1500), overlapping the
    // samples ending at 1000 (half) and 2000 (half).
    const [a, b, c, d] = harnessByInterval(series(points), 1500, [
      { startMs: 0, durationMs: 1000 },
      { startMs: 1000, durationMs: 1000 },
      { startMs: 2000, durationMs: 500 },
      { startMs: 5000, durationMs: 1000 },
    ]);
    expect(a).toEqual({
      loopLagP99Ms: 480,
      loopLagMaxMs: 480,
      utilization: 0.2,
      // 0.1 s of CPU per sample, half of each.
      cpuSeconds: expect.closeTo(0.1, 9) as number,
      load1: 1,
      stealPct: 0,
      otherCpuPct: 20,
    });
    expect(b).toMatchObject({ loopLagMaxMs: 480, utilization: 0.2, load1: 2, otherCpuPct: 20 });
    expect(b!.cpuSeconds).toBeCloseTo(0.1, 9);
    // [2000, 2500) lies inside the last sample: its figures, a null utilization stays null.
    expect(c).toMatchObject({ loopLagMaxMs: 2, utilization: null, load1: 3 });
    expect(c!.cpuSeconds).toBeCloseTo(0.05, 9);
    // No sample overlaps.
    expect(d).toBeNull();
  });

  it('leaves out a sample of no span', () => {
    expect(
      harnessByInterval(series([point(0, 0)]), 1000, [{ startMs: 0, durationMs: 1000 }]),
    ).toEqual([null]);
  });
});

describe('harnessOfRun', () => {
  const run: HarnessRunFigures = {
    lagP99Ms: 12,
    lagMaxMs: 480,
    utilization: 0.3,
    cpuSeconds: 2,
    cpuWaitShare: 0.125,
  };

  it('keeps the run figures, averages contention over the samples, lists the intervals that stalled', () => {
    const h = harnessOfRun({
      run,
      lagBoundMs: 100,
      points: [
        point(0, 0, { load1: 50 }),
        point(1000, 1000, { load1: 1, stealPct: 2, otherCpuPct: null }),
        point(3000, 2000, { load1: 4, stealPct: 5, otherCpuPct: 10 }),
      ],
      intervals: [
        { startMs: 0, durationMs: 1000, harness: null },
        {
          startMs: 1000,
          durationMs: 1000,
          harness: {
            loopLagP99Ms: 480,
            loopLagMaxMs: 480,
            utilization: 1,
            cpuSeconds: 1,
            load1: 1,
            stealPct: 0,
            otherCpuPct: 0,
          },
        },
        {
          startMs: 2000,
          durationMs: 1000,
          harness: {
            loopLagP99Ms: 100,
            loopLagMaxMs: 100,
            utilization: 1,
            cpuSeconds: 1,
            load1: 1,
            stealPct: 0,
            otherCpuPct: 0,
          },
        },
      ],
    });
    expect(h).toEqual({
      lagBoundMs: 100,
      lagP99Ms: 12,
      lagMaxMs: 480,
      utilization: 0.3,
      cpuSeconds: 2,
      // A share of the run, as a percentage.
      cpuWaitPct: 12.5,
      // Weighted by span; the first sample (no span) does not count.
      contention: { load1Mean: 3, stealPct: 4, otherCpuPct: 10 },
      // At the bound is not over it.
      stalls: [{ atMs: 1000, spanMs: 1000, lagMaxMs: 480 }],
    });
  });

  it('has no CPU wait where the kernel did not say', () => {
    const { cpuWaitShare: _, ...unknown } = run;
    expect(
      harnessOfRun({ run: unknown, lagBoundMs: 100, points: [], intervals: [] }).cpuWaitPct,
    ).toBeNull();
  });
});
