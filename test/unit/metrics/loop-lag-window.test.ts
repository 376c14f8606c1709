// Event-loop lag statistics, fed made-up tick times and delays: the p99 covers a 60 s window
// (so one stall among many good ticks moves the max, not the p99); the max covers one period.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { lagWindowMs, LoopLagWindow } from '../../../src/metrics/loop-lag-window.js';

const tickMs = 10;

/** Ticks every 10 ms from `fromMs` (exclusive) to `toMs` (inclusive), each `delayMs` late. */
function ticks(window: LoopLagWindow, fromMs: number, toMs: number, delayMs = 0.2): void {
  for (let at = fromMs + tickMs; at <= toMs; at += tickMs) window.record(at, delayMs);
}

describe('LoopLagWindow', () => {
  it('reads one stall among a minute of good ticks in the max, not in the p99', () => {
    const w = new LoopLagWindow();
    ticks(w, 0, 59_000);
    w.record(59_500, 490); // the loop was stuck ~half a second
    ticks(w, 59_500, 60_000);
    const lag = w.take(60_000);
    expect(lag.maxMs).toBe(490);
    expect(lag.p99Ms).toBe(0.2);
    expect(lag.p99Ms).toBeLessThan(lag.maxMs);
  });

  it('gives the max per period but keeps the stall in the window for the p99', () => {
    const w = new LoopLagWindow();
    ticks(w, 0, 1_000);
    w.record(1_200, 190);
    expect(w.take(1_200).maxMs).toBe(190);
    ticks(w, 1_200, 2_200, 0.5);
    const next = w.take(2_200);
    expect(next.maxMs).toBe(0.5); // the stall was in the previous period
    // ~200 ticks in the window so far: rank ⌈0.99·n⌉ reaches the second-highest delay.
    expect(next.p99Ms).toBe(0.5);
  });

  it('equals the max when the window holds at most 100 ticks (why it is not one second)', () => {
    const w = new LoopLagWindow(1_000);
    ticks(w, 0, 500);
    w.record(990, 480);
    const lag = w.take(1_000);
    expect(lag.p99Ms).toBe(lag.maxMs);
  });

  it('rises when more than 1 % of the window is slow, and falls once that has left the window', () => {
    const w = new LoopLagWindow();
    // 60 s with every 20th tick 80 ms late: 5 % of ticks are slow.
    for (let at = tickMs, i = 0; at <= 60_000; at += tickMs, i++) {
      w.record(at, i % 20 === 0 ? 80 : 0.3);
    }
    expect(w.take(60_000).p99Ms).toBe(80);
    ticks(w, 60_000, 120_000, 0.3);
    expect(w.take(120_000)).toEqual({ p99Ms: 0.3, maxMs: 0.3 });
  });

  it('reads zero when nothing was recorded in the window', () => {
    const w = new LoopLagWindow();
    expect(w.take(5_000)).toEqual({ p99Ms: 0, maxMs: 0 });
    w.record(5_010, 3);
    expect(w.take(5_010 + lagWindowMs)).toEqual({ p99Ms: 0, maxMs: 3 });
    expect(w.take(5_010 + lagWindowMs + 1_000)).toEqual({ p99Ms: 0, maxMs: 0 });
  });

  it('rejects a window that is not positive', () => {
    for (const windowMs of [0, -1, Number.NaN]) {
      let thrown: unknown;
      try {
        new LoopLagWindow(windowMs);
      } catch (err) {
        thrown = err;
      }
      expect(isChurnError(thrown, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('agrees with a nearest-rank p99 of the delays in the window, and max per period', () => {
    const windowMs = 1_000;
    const step = fc.record({
      gapMs: fc.integer({ min: 0, max: 400 }),
      delayMs: fc.double({ min: 0, max: 1_000, noNaN: true }),
      take: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400 }), (steps) => {
        const w = new LoopLagWindow(windowMs);
        const all: { atMs: number; delayMs: number }[] = [];
        let atMs = 0;
        let periodMax = 0;
        for (const s of steps) {
          atMs += s.gapMs;
          w.record(atMs, s.delayMs);
          all.push({ atMs, delayMs: s.delayMs });
          periodMax = Math.max(periodMax, s.delayMs);
          if (!s.take) continue;
          const inWindow = all
            .filter((d) => d.atMs > atMs - windowMs)
            .map((d) => d.delayMs)
            .sort((a, b) => a - b);
          const rank = Math.ceil(0.99 * inWindow.length);
          expect(w.take(atMs)).toEqual({ p99Ms: inWindow[rank - 1], maxMs: periodMax });
          periodMax = 0;
        }
      }),
    );
  });

  it('reads on-time ticks recorded as one run as it reads them one by one', () => {
    const step = fc.record({
      gapMs: fc.integer({ min: 0, max: 400 }),
      delayMs: fc.double({ min: 0.01, max: 1_000, noNaN: true }),
      onTime: fc.integer({ min: 0, max: 60 }),
      take: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
        const counted = new LoopLagWindow(1_000);
        const single = new LoopLagWindow(1_000);
        let atMs = 0;
        for (const s of steps) {
          atMs += s.gapMs;
          counted.recordOnTime(atMs, s.onTime);
          for (let i = 0; i < s.onTime; i++) single.record(atMs, 0);
          counted.record(atMs, s.delayMs);
          single.record(atMs, s.delayMs);
          if (s.take) expect(counted.take(atMs)).toEqual(single.take(atMs));
        }
      }),
    );
  });
});
