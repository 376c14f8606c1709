import { describe, expect, it } from 'vitest';
import { bucketOf, LoopLagTally } from '../../../src/metrics/loop-lag-tally.js';

function tally(delays: readonly number[]): LoopLagTally {
  const t = new LoopLagTally(20);
  for (const d of delays) t.record(d);
  return t;
}

describe('LoopLagTally', () => {
  it('records a late tick with the ticks its stall hid (d, d − tick, … > 0)', () => {
    const t = tally([100]);
    // 100, 80, 60, 40, 20: five values, max 100.
    expect(t.takeSpan()).toEqual({ p99Ms: 100, maxMs: 100 });
    expect(t.run()).toEqual({ p99Ms: 100, maxMs: 100 });
  });

  it.each([
    {
      name: 'a stall of 10% of the run moves the p99',
      // 250 ticks on time (~5 s) and one 500 ms stall: 25 values from 500 down to 20.
      delays: [...Array<number>(250).fill(0.5), 500],
      p99: [440, 500],
      max: 500,
    },
    {
      name: 'the same stall in a 10-minute run shows in the max, not the p99',
      delays: [...Array<number>(30_000).fill(0.5), 500],
      p99: [0.5, 0.5],
      max: 500,
    },
    {
      name: 'no ticks: zeros',
      delays: [],
      p99: [0, 0],
      max: 0,
    },
  ])('$name', ({ delays, p99, max }) => {
    const run = tally(delays).run();
    expect(run.maxMs).toBe(max);
    expect(run.p99Ms).toBeGreaterThanOrEqual(p99[0]!);
    expect(run.p99Ms).toBeLessThanOrEqual(p99[1]!);
  });

  it('takes spans one after another, the run keeps everything', () => {
    const t = tally([1, 2, 300]);
    expect(t.takeSpan().maxMs).toBe(300);
    t.record(3);
    expect(t.takeSpan()).toEqual({ p99Ms: 3, maxMs: 3 });
    expect(t.takeSpan()).toEqual({ p99Ms: 0, maxMs: 0 });
    expect(t.run().maxMs).toBe(300);
  });

  it('counts on-time ticks recorded at once as it counts them one by one', () => {
    const counted = new LoopLagTally(20);
    const single = new LoopLagTally(20);
    for (const [onTime, delayMs] of [
      [49, 3],
      [0, 120],
      [250, 0.4],
      [1, 500],
    ] as const) {
      counted.recordOnTime(onTime);
      for (let i = 0; i < onTime; i++) single.record(0);
      counted.record(delayMs);
      single.record(delayMs);
      expect(counted.takeSpan()).toEqual(single.takeSpan());
      expect(counted.run()).toEqual(single.run());
    }
    counted.recordOnTime(5000);
    for (let i = 0; i < 5000; i++) single.record(0);
    expect(counted.takeSpan()).toEqual({ p99Ms: 0, maxMs: 0 });
    expect(counted.run()).toEqual(single.run());
  });

  it('restarts the run: what came before (start-up) no longer counts, spans go on', () => {
    const t = tally([1, 300]);
    t.restartRun();
    expect(t.run()).toEqual({ p99Ms: 0, maxMs: 0 });
    t.record(4);
    expect(t.run()).toEqual({ p99Ms: 4, maxMs: 4 });
    expect(t.takeSpan().maxMs).toBe(300);
  });

  it('refuses a tick of 0', () => {
    expect(() => new LoopLagTally(0)).toThrow(/tickMs 0/);
  });
});

describe('bucketOf', () => {
  it.each([
    [0, 0],
    [0.04, 0.1],
    [12.31, 12.4],
    [999.95, 1000],
    [1000.2, 1001],
  ])('%d → %d', (ms, edge) => {
    expect(bucketOf(ms)).toBeCloseTo(edge, 9);
  });
});
