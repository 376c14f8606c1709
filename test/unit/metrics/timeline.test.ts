import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeHistogram, recordUs } from '../../../src/metrics/hdr.js';
import { Timeline } from '../../../src/metrics/timeline.js';
import { withHistogram } from '../../support/histograms.js';

/** What one interval should hold: merging at once, as the timeline's contract says. */
interface ModelInterval {
  startMs: number;
  durationMs: number;
  values: number[];
  errors: number;
}

/** The timeline's contract, written the plain way: close, and merge every pair at once. */
class Model {
  readonly closed: ModelInterval[] = [];
  open: ModelInterval;
  widthMs: number;

  constructor(
    readonly intervalMs: number,
    readonly maxIntervals: number,
  ) {
    this.widthMs = intervalMs;
    this.open = { startMs: 0, durationMs: intervalMs, values: [], errors: 0 };
  }

  roll(nowMs: number): void {
    while (nowMs >= this.open.startMs + this.open.durationMs) {
      this.closed.push(this.open);
      const startMs = this.open.startMs + this.open.durationMs;
      if (this.closed.length >= this.maxIntervals) {
        const merged: ModelInterval[] = [];
        for (let i = 0; i < this.closed.length; i += 2) {
          const [a, b] = [this.closed[i]!, this.closed[i + 1]!];
          merged.push({
            startMs: a.startMs,
            durationMs: a.durationMs + b.durationMs,
            values: [...a.values, ...b.values],
            errors: a.errors + b.errors,
          });
        }
        this.closed.splice(0, this.closed.length, ...merged);
        this.widthMs *= 2;
      }
      this.open = { startMs, durationMs: this.widthMs, values: [], errors: 0 };
    }
  }
}

function percentilesOf(values: readonly number[]): number[] {
  return withHistogram(values, (h) => [50, 90, 99, 100].map((p) => h.getValueAtPercentile(p)));
}

/** Steps of a run: a success of some µs, a failure, or a read of the intervals, each at a time. */
const step = fc.record({
  advanceMs: fc.integer({ min: 0, max: 2_500 }),
  kind: fc.constantFrom('success', 'success', 'success', 'failure', 'read'),
  valueUs: fc.integer({ min: 1, max: 2_000_000 }),
});

describe('Timeline', () => {
  it('reads as merging every pair at once would give, whenever it is read', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).map((n) => 2 * n),
        fc.array(step, { minLength: 1, maxLength: 400 }),
        (maxIntervals, steps) => {
          const intervalMs = 1000;
          const timeline = new Timeline({ intervalMs, maxIntervals, originMs: 0 });
          const model = new Model(intervalMs, maxIntervals);
          let nowMs = 0;
          try {
            for (const s of steps) {
              nowMs += s.advanceMs;
              timeline.roll(nowMs);
              model.roll(nowMs);
              expect(timeline.closed.length).toBeLessThanOrEqual(maxIntervals);
              const series = timeline.series('cycle');
              if (s.kind === 'success') {
                series.count++;
                recordUs(series.hot, s.valueUs);
                model.open.values.push(s.valueUs);
              } else if (s.kind === 'failure') {
                series.errors++;
                model.open.errors++;
              } else {
                const read = timeline.intervals(nowMs, true);
                const closed = read.slice(0, model.closed.length);
                expect(closed.map((i) => [i.startMs, i.durationMs])).toEqual(
                  model.closed.map((i) => [i.startMs, i.durationMs]),
                );
                model.closed.forEach((want, k) => {
                  const got = closed[k]!.ops.cycle;
                  if (want.values.length === 0 && want.errors === 0) {
                    expect(got).toBeUndefined();
                    return;
                  }
                  expect(got?.count).toBe(want.values.length);
                  expect(got?.errors).toBe(want.errors);
                  if (want.values.length === 0) {
                    expect(got?.histogram).toBeUndefined();
                    return;
                  }
                  const [p50, p90, p99, max] = percentilesOf(want.values);
                  expect(got?.latencyUs).toEqual({ p50, p90, p99, max });
                  expect(got?.histogram).toBe(withHistogram(want.values, encodeHistogram));
                });
              }
            }
          } finally {
            timeline.release();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
