import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/common/clock.js';
import { isChurnError } from '../../../src/common/errors.js';
import { FaultInjector, type RuntimeFaults } from '../../../src/runtime/faults.js';

/** A clock whose sleeps return at once and are recorded. */
function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => 0,
    wallNowMs: () => 0,
    sleep: (ms: number) => {
      slept.push(ms);
      return Promise.resolve();
    },
  };
}

const startFaults = (errorRate: number, meanMs = 0, stddevMs = 0): RuntimeFaults => ({
  start: { latencyMs: { meanMs, stddevMs }, errorRate, code: 'UNAVAILABLE' },
});

describe('FaultInjector', () => {
  it('fails about errorRate of the calls with the chosen code', () => {
    const injector = new FaultInjector(startFaults(0.1), 42, fakeClock());
    const n = 20_000;
    let failures = 0;
    for (let i = 0; i < n; i++) {
      const { error } = injector.draw('start');
      if (error !== undefined) {
        failures += 1;
        expect(error.code).toBe('UNAVAILABLE');
      }
    }
    expect(failures / n).toBeGreaterThan(0.09);
    expect(failures / n).toBeLessThan(0.11);
  });

  it('draws the same sequence for the same seed and another for another seed', () => {
    const pattern = (seed: number): string => {
      const injector = new FaultInjector(startFaults(0.3, 10, 5), seed, fakeClock());
      return Array.from({ length: 200 }, () => {
        const d = injector.draw('start');
        return `${d.error === undefined ? '.' : 'x'}${d.delayMs.toFixed(3)}`;
      }).join(',');
    };
    expect(pattern(7)).toBe(pattern(7));
    expect(pattern(7)).not.toBe(pattern(8));
  });

  it('keeps each operation on its own sequence, whatever the interleaving', () => {
    const faults: RuntimeFaults = {
      start: { latencyMs: { meanMs: 0, stddevMs: 0 }, errorRate: 0.5, code: 'UNAVAILABLE' },
      stop: { latencyMs: { meanMs: 0, stddevMs: 0 }, errorRate: 0.5, code: 'INTERNAL' },
    };
    const alone = new FaultInjector(faults, 3, fakeClock());
    const mixed = new FaultInjector(faults, 3, fakeClock());
    const a: boolean[] = [];
    const b: boolean[] = [];
    for (let i = 0; i < 100; i++) a.push(alone.draw('start').error !== undefined);
    for (let i = 0; i < 100; i++) {
      mixed.draw('stop');
      b.push(mixed.draw('start').error !== undefined);
    }
    expect(b).toEqual(a);
  });

  it('draws latency from a normal distribution clamped at zero', () => {
    const injector = new FaultInjector(startFaults(0, 40, 10), 1, fakeClock());
    const samples = Array.from({ length: 20_000 }, () => injector.draw('start').delayMs);
    const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
    const sd = Math.sqrt(samples.reduce((s, x) => s + (x - mean) ** 2, 0) / samples.length);
    expect(mean).toBeGreaterThan(39.5);
    expect(mean).toBeLessThan(40.5);
    expect(sd).toBeGreaterThan(9.5);
    expect(sd).toBeLessThan(10.5);
    const clamped = new FaultInjector(startFaults(0, 1, 10), 1, fakeClock());
    const low = Array.from({ length: 2000 }, () => clamped.draw('start').delayMs);
    expect(Math.min(...low)).toBe(0);
    const fixed = new FaultInjector(startFaults(0, 25), 1, fakeClock());
    expect(fixed.draw('start').delayMs).toBe(25);
  });

  it('applies the latency through the clock, then throws the drawn error', async () => {
    const clock = fakeClock();
    const injector = new FaultInjector(startFaults(1, 30), 1, clock);
    const err: unknown = await injector.apply('start').catch((e: unknown) => e);
    expect(isChurnError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('start');
    expect(clock.slept).toEqual([30]);
    await injector.apply('stop'); // no fault configured
    expect(clock.slept).toEqual([30]);
  });

  it('refuses rates outside [0, 1] and negative latencies', () => {
    expect(() => new FaultInjector(startFaults(1.5), 1, fakeClock())).toThrow(/errorRate/);
    expect(() => new FaultInjector(startFaults(0, -1), 1, fakeClock())).toThrow(/latency/);
  });
});
