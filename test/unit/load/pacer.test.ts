import { describe, expect, it } from 'vitest';
import {
  cumulativeArrivals,
  expectedArrivals,
  Pacer,
  timeOfCumulativeMs,
  type PacerPlan,
} from '../../../src/load/pacer.js';

const ramp: PacerPlan = {
  kind: 'rate',
  durationMs: 60_000,
  fromPerSec: 10,
  toPerSec: 50,
  arrivals: 'uniform',
  seed: 1,
};

function allArrivals(pacer: Pacer): number[] {
  const times: number[] = [];
  for (let n = 0; ; n++) {
    const t = pacer.arrivalMs(n);
    if (t === undefined) return times;
    times.push(t);
  }
}

describe('pacer', () => {
  it('integrates a linear ramp: 60 s from 10/s to 50/s plans 1800 arrivals', () => {
    expect(cumulativeArrivals(ramp, 60_000)).toBeCloseTo(1800, 9);
    expect(cumulativeArrivals(ramp, 30_000)).toBeCloseTo(10 * 30 + (40 * 30 * 30) / 120, 9);
    expect(expectedArrivals(ramp)).toBe(1800);
    expect(allArrivals(new Pacer(ramp))).toHaveLength(1800);
  });

  it('plans arrival times that match the integral of the rate to within one arrival', () => {
    const times = allArrivals(new Pacer(ramp));
    // Every arrival sits where the integral reaches its index…
    times.forEach((t, n) => expect(cumulativeArrivals(ramp, t)).toBeCloseTo(n, 6));
    // …so at any instant the arrivals so far are within one of the integral.
    for (let t = 0; t <= 60_000; t += 37) {
      const released = times.filter((a) => a <= t).length;
      expect(Math.abs(released - cumulativeArrivals(ramp, t))).toBeLessThanOrEqual(1);
    }
    // Spacing follows the rate: 100 ms at the start, 20 ms at the end.
    expect(times[1]! - times[0]!).toBeCloseTo(100, 0);
    expect(times[1799]! - times[1798]!).toBeCloseTo(20, 0);
  });

  it.each([
    { name: 'flat', from: 20, to: 20, durationMs: 10_000, expected: 200 },
    { name: 'ramp down to zero', from: 40, to: 0, durationMs: 10_000, expected: 200 },
    { name: 'ramp from a fraction', from: 0.5, to: 1.5, durationMs: 60_000, expected: 60 },
    { name: 'non-integer total', from: 3, to: 3, durationMs: 1500, expected: 5 },
  ])(
    'uniform $name: $expected arrivals, times invert the integral',
    ({ from, to, durationMs, expected }) => {
      const plan: PacerPlan = {
        kind: 'rate',
        durationMs,
        fromPerSec: from,
        toPerSec: to,
        arrivals: 'uniform',
        seed: 0,
      };
      const times = allArrivals(new Pacer(plan));
      expect(times).toHaveLength(expected);
      expect(expectedArrivals(plan)).toBe(expected);
      expect(times[0]).toBe(0);
      times.forEach((t, n) => {
        expect(t).toBeLessThan(durationMs);
        expect(cumulativeArrivals(plan, t)).toBeCloseTo(n, 6);
        if (n > 0) expect(t).toBeGreaterThan(times[n - 1]!);
      });
    },
  );

  it('answers ghz-style (elapsed, done) → (wait, stop)', () => {
    const pacer = new Pacer({
      kind: 'rate',
      durationMs: 1000,
      fromPerSec: 10,
      toPerSec: 10,
      arrivals: 'uniform',
      seed: 0,
    });
    expect(pacer.pace(0, 0)).toEqual({ waitMs: 0, stop: false });
    expect(pacer.pace(0, 1)).toEqual({ waitMs: 100, stop: false });
    expect(pacer.pace(150, 2)).toEqual({ waitMs: 50, stop: false });
    expect(pacer.pace(450, 2)).toEqual({ waitMs: 0, stop: false });
    expect(pacer.pace(950, 10)).toEqual({ waitMs: 0, stop: true });
  });

  it('a pause plans no arrival', () => {
    const pause: PacerPlan = { kind: 'pause', durationMs: 5000 };
    expect(new Pacer(pause).pace(0, 0)).toEqual({ waitMs: 0, stop: true });
    expect(expectedArrivals(pause)).toBe(0);
    expect(timeOfCumulativeMs(pause, 1)).toBeUndefined();
  });

  describe('poisson', () => {
    const poisson = (seed: number, durationMs = 1_000_000, from = 10, to = 10): PacerPlan => ({
      kind: 'rate',
      durationMs,
      fromPerSec: from,
      toPerSec: to,
      arrivals: 'poisson',
      seed,
    });

    it('is reproducible: the same seed gives the same arrivals, another seed others', () => {
      const a = allArrivals(new Pacer(poisson(42, 60_000)));
      const b = allArrivals(new Pacer(poisson(42, 60_000)));
      const c = allArrivals(new Pacer(poisson(43, 60_000)));
      expect(a).toEqual(b);
      expect(c).not.toEqual(a);
      // Asking out of order gives the same answers as asking in order.
      const pacer = new Pacer(poisson(42, 60_000));
      expect(pacer.arrivalMs(100)).toBe(a[100]);
      expect(pacer.arrivalMs(5)).toBe(a[5]);
    });

    it.each([1, 2, 3, 42, 2024])('seed %i: mean rate within 2% over 10 000 arrivals', (seed) => {
      const pacer = new Pacer(poisson(seed, 2_000_000));
      const times = Array.from({ length: 10_000 }, (_, n) => pacer.arrivalMs(n)!);
      const meanRate = 10_000 / (times[9_999]! / 1000);
      expect(Math.abs(meanRate - 10) / 10).toBeLessThan(0.02);
      // Inter-arrival gaps look exponential: their coefficient of variation is near 1.
      const gaps = times.slice(1).map((t, n) => t - times[n]!);
      const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
      const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
      expect(sd / mean).toBeGreaterThan(0.9);
      expect(sd / mean).toBeLessThan(1.1);
    });

    it('follows a ramp: the count by t tracks the integral', () => {
      const plan = poisson(7, 600_000, 10, 30);
      const times = allArrivals(new Pacer(plan));
      expect(Math.abs(times.length - expectedArrivals(plan)) / expectedArrivals(plan)).toBeLessThan(
        0.02,
      );
      const half = times.filter((t) => t < 300_000).length;
      expect(
        Math.abs(half - cumulativeArrivals(plan, 300_000)) / cumulativeArrivals(plan, 300_000),
      ).toBeLessThan(0.03);
    });
  });
});
