import { describe, expect, it } from 'vitest';
import { backoffBaseMs, backoffCapMs, backoffDelayMs } from '../../../src/load/closed-loop.js';
import { runClosedPhase, WorkerSlots } from '../../../src/load/closed-loop.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('backoffDelayMs', () => {
  it('is zero before any failure', () => {
    expect(backoffDelayMs(0, () => 0.5)).toBe(0);
  });

  it('doubles from the base and stays within [delay/2, delay]', () => {
    expect(backoffDelayMs(1, () => 0)).toBe(backoffBaseMs / 2);
    expect(backoffDelayMs(1, () => 0.999999)).toBeCloseTo(backoffBaseMs, 3);
    expect(backoffDelayMs(3, () => 0)).toBe((backoffBaseMs * 4) / 2);
  });

  it('is capped however long the outage lasts', () => {
    for (const failures of [10, 50, 1000]) {
      expect(backoffDelayMs(failures, () => 0.999999)).toBeLessThanOrEqual(backoffCapMs);
      expect(backoffDelayMs(failures, () => 0)).toBe(backoffCapMs / 2);
    }
  });
});

describe('runClosedPhase with an unreachable runtime', () => {
  const phase = {
    kind: 'closed',
    name: 'p',
    durationMs: 10_000,
    concurrency: 1,
    rampTo: 1,
    record: true,
    iterationsPerWorker: undefined,
  } as const;

  it('backs off between failing cycles instead of looping hot, and resumes after', async () => {
    const clock = new FakeClock({ startMs: 0 });
    const starts: number[] = [];
    const result = await runClosedPhase({
      phase,
      clock,
      startMs: 0,
      stopSignal: new AbortController().signal,
      slots: new WorkerSlots(),
      startCycle: () => {
        starts.push(clock.now());
        return Promise.resolve(clock.now() < 6000 ? 'down' : 'up');
      },
      unreachable: (outcome) => outcome === 'down',
      random: () => 0,
    });
    const failing = starts.filter((t) => t < 6000);
    // 50, 100, 200, 400, 800, 1600, then 2500 ms apart: 8 attempts in 6 s, not thousands.
    expect(failing.length).toBe(8);
    expect(starts.length).toBeGreaterThan(failing.length);
    expect(result.endedBy).toBe('time');
  });
});
