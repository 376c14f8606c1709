import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Recorder, type RecorderObserver } from '../../../src/metrics/recorder.js';
import { summarizeEncoded, type LatencySummaryUs } from '../../../src/metrics/hdr.js';
import type { OpName } from '../../../src/common/operations.js';
import { FakeClock } from '../../support/fake-clock.js';

const recorders: Recorder[] = [];
function recorder(
  options: { intervalMs?: number; maxIntervals?: number; clock?: FakeClock } = {},
): {
  rec: Recorder;
  clock: FakeClock;
} {
  const clock = options.clock ?? new FakeClock({ auto: false, startMs: 0 });
  const rec = new Recorder({
    clock,
    intervalMs: options.intervalMs,
    maxIntervals: options.maxIntervals,
  });
  recorders.push(rec);
  return { rec, clock };
}
afterEach(() => {
  for (const r of recorders.splice(0)) r.release();
});

/** Nearest-rank percentile of sorted values: what HDR's getValueAtPercentile approximates. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** HDR with 3 significant digits is off by less than 1 part in 1000 (≥ 1 µs apart below 2048). */
function expectWithinPrecision(actual: number, exact: number): void {
  expect(Math.abs(actual - exact)).toBeLessThanOrEqual(Math.max(exact / 1000, 0));
}

const latencies = fc.array(fc.integer({ min: 1, max: 3_600_000_000 }), {
  minLength: 1,
  maxLength: 400,
});

describe('Recorder', () => {
  it('reports percentiles that agree with an exact computation (per workload and overall)', () => {
    fc.assert(
      fc.property(latencies, latencies, (a, b) => {
        const { rec, clock } = recorder();
        const sa = rec.slot('a', 'start');
        const sb = rec.slot('b', 'start');
        for (const v of a) sa.success(v, clock.now());
        for (const v of b) sb.success(v, clock.now());
        const snap = rec.snapshot();
        const check = (got: LatencySummaryUs | undefined, values: number[]): void => {
          const sorted = [...values].sort((x, y) => x - y);
          expect(got?.count).toBe(values.length);
          expectWithinPrecision(got!.p50, exactPercentile(sorted, 50));
          expectWithinPrecision(got!.p90, exactPercentile(sorted, 90));
          expectWithinPrecision(got!.p95, exactPercentile(sorted, 95));
          expectWithinPrecision(got!.p99, exactPercentile(sorted, 99));
          expectWithinPrecision(got!.p999, exactPercentile(sorted, 99.9));
          expectWithinPrecision(got!.max, sorted[sorted.length - 1]!);
          expectWithinPrecision(got!.min, sorted[0]!);
          const mean = values.reduce((s, v) => s + v, 0) / values.length;
          expect(Math.abs(got!.mean - mean)).toBeLessThanOrEqual(mean / 1000 + 1);
        };
        check(snap.workloads[0]!.ops.start!.latencyUs, a);
        check(snap.workloads[1]!.ops.start!.latencyUs, b);
        check(snap.overall.start!.latencyUs, [...a, ...b]);
        rec.release();
      }),
      { numRuns: 60 },
    );
  });

  it('counts failures by code and never puts them in a latency histogram', () => {
    const { rec, clock } = recorder();
    const slot = rec.slot('w', 'start');
    slot.success(1000, clock.now());
    slot.failure('UNAVAILABLE', clock.now());
    slot.success(3000, clock.now());
    slot.failure('UNAVAILABLE', clock.now());
    slot.failure('DEADLINE_EXCEEDED', clock.now());
    const snap = rec.snapshot({ histograms: true });
    const start = snap.overall.start!;
    expect(start.count).toBe(2);
    expect(start.errors).toBe(3);
    expect(start.errorsByCode).toEqual({ DEADLINE_EXCEEDED: 1, UNAVAILABLE: 2 });
    expect(start.latencyUs?.count).toBe(2);
    expect(start.latencyUs?.max).toBe(3001);
    expect(summarizeEncoded(start.histogram!)?.count).toBe(2);
    const interval = snap.timeline[0]!.ops.start!;
    expect(interval).toMatchObject({ count: 2, errors: 3 });
  });

  it('an operation that only failed has no latency and no histogram', () => {
    const { rec, clock } = recorder();
    rec.slot('w', 'create').failure('NOT_FOUND', clock.now());
    const snap = rec.snapshot({ histograms: true });
    expect(snap.overall.create).toEqual({
      count: 0,
      errors: 1,
      errorsByCode: { NOT_FOUND: 1 },
      latencyUs: undefined,
      histogram: undefined,
    });
  });

  it('keeps ops in first-seen order per workload and overall', () => {
    const { rec } = recorder();
    const order: OpName[] = ['run_pod', 'create', 'start', 'stop', 'remove', 'cycle'];
    for (const op of order) rec.slot('w1', op);
    rec.slot('w2', 'exec');
    const snap = rec.snapshot();
    expect(Object.keys(snap.workloads[0]!.ops)).toEqual(order);
    expect(Object.keys(snap.overall)).toEqual([...order, 'exec']);
  });

  it('splits the run into intervals whose counts add up to the totals', () => {
    const { rec } = recorder({ intervalMs: 1000 });
    const slot = rec.slot('w', 'start');
    // Records arrive in time order; each goes to the interval open when it arrives.
    for (let t = 0; t < 5000; t += 100) {
      slot.success(t + 1, t);
      if (t === 2500) slot.failure('UNKNOWN', t);
      if (t === 3100) rec.recordDropped(t);
    }
    rec.tick(5000);
    const snap = rec.snapshot({ histograms: true, nowMs: 5000 });
    expect(
      snap.timeline.map((i) => [i.startMs, i.durationMs, i.ops.start?.count, i.dropped]),
    ).toEqual([
      [0, 1000, 10, 0],
      [1000, 1000, 10, 0],
      [2000, 1000, 10, 0],
      [3000, 1000, 10, 1],
      [4000, 1000, 10, 0],
    ]);
    expect(snap.timeline[2]!.ops.start!.errors).toBe(1);
    // Each interval's histogram is its own: interval 2 holds 2001…2901 µs.
    const third = summarizeEncoded(snap.timeline[2]!.ops.start!.histogram!)!;
    expect(third.min).toBe(2001);
    expect(third.max).toBeGreaterThanOrEqual(2901);
    expect(third.max).toBeLessThan(2905);
  });

  it('coarsens the timeline: bounded interval count, exact merged counts and histograms', () => {
    const { rec } = recorder({ intervalMs: 1000, maxIntervals: 4 });
    const slot = rec.slot('w', 'cycle');
    const values: number[] = [];
    for (let t = 0; t < 40_000; t += 250) {
      const v = 1000 + ((t * 7919) % 50_000);
      values.push(v);
      slot.success(v, t);
    }
    rec.tick(40_000);
    const snap = rec.snapshot({ histograms: true, nowMs: 40_000 });
    expect(snap.timeline.length).toBeLessThanOrEqual(4);
    // Intervals tile the run from the origin without gaps.
    let expectStart = 0;
    for (const interval of snap.timeline) {
      expect(interval.startMs).toBe(expectStart);
      expectStart += interval.durationMs;
    }
    expect(expectStart).toBe(40_000);
    const counts = snap.timeline.map((i) => i.ops.cycle?.count ?? 0);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(values.length);
    // A merged interval's histogram is exactly the histogram of its values.
    const first = snap.timeline[0]!;
    const inFirst = values.filter((_, k) => k * 250 < first.durationMs).sort((a, b) => a - b);
    const merged = summarizeEncoded(first.ops.cycle!.histogram!)!;
    expect(merged.count).toBe(inFirst.length);
    expectWithinPrecision(merged.p99, exactPercentile(inFirst, 99));
    expect(first.ops.cycle!.latencyUs!.p99).toBe(merged.p99);
  });

  it('keeps a 12-hour run within the default bound of 512 intervals', () => {
    const { rec } = recorder({ intervalMs: 1000 });
    const slot = rec.slot('w', 'cycle');
    const hours12 = 12 * 3_600_000;
    for (let t = 0; t < hours12; t += 5000) {
      slot.success(1000 + (t % 7000), t);
      rec.tick(t);
    }
    const snap = rec.snapshot({ nowMs: hours12 });
    expect(snap.timeline.length).toBeLessThanOrEqual(512);
    expect(snap.timeline.length).toBeGreaterThan(256);
    expect(snap.timeline[0]!.durationMs).toBe(128_000);
    expect(snap.timeline.reduce((n, i) => n + (i.ops.cycle?.count ?? 0), 0)).toBe(hours12 / 5000);
  });

  it('starts the timeline at the first recorded phase, keeping what came before', () => {
    const { rec } = recorder({ intervalMs: 1000 });
    rec.slot('w', 'run_pod').success(500, 100);
    rec.tick(3000); // a warm-up phase: nothing recorded, intervals may close empty
    rec.startRecording(7000);
    rec.slot('w', 'start').success(500, 7500);
    const snap = rec.snapshot({ nowMs: 8200 });
    expect(snap.originMs).toBe(7000);
    expect(snap.timeline[0]!.ops.run_pod?.count).toBe(1);
    expect(snap.timeline[0]!.ops.start?.count).toBe(1);
  });

  it('counts recorded time across start and stop', () => {
    const { rec } = recorder();
    rec.startRecording(1000);
    rec.stopRecording(3000);
    rec.stopRecording(3500);
    rec.startRecording(5000);
    expect(rec.recordedMs(5500)).toBe(2500);
    rec.startRecording(5200);
    expect(rec.recordedMs(6000)).toBe(3000);
  });

  it('gives a sliding window over the recent intervals', () => {
    const { rec } = recorder({ intervalMs: 1000 });
    const slot = rec.slot('w', 'start');
    for (let t = 0; t < 10_000; t += 100) {
      if (t < 5000) slot.success(1000, t);
      else slot.success(50_000, t);
      if (t >= 8000) slot.failure('UNAVAILABLE', t);
    }
    const view = rec.window(3000, 10_000);
    expect(view.counts('start')).toEqual({ count: 30, errors: 20 });
    expect(view.counts('stop')).toEqual({ count: 0, errors: 0 });
    expect(view.latencyUs('start')?.p50).toBeGreaterThanOrEqual(50_000);
    expect(view.durationMs).toBeGreaterThanOrEqual(3000);
    const all = rec.window(60_000, 10_000);
    expect(all.counts('start').count).toBe(100);
    expect(all.latencyUs('start')?.p50).toBe(1000);
  });

  it('calls observers once per slot and then on every record', () => {
    const seen: string[] = [];
    const observer: RecorderObserver = {
      slot: (workload, op) => ({
        success: (us) => seen.push(`${workload}/${op} ok ${us}`),
        failure: (code) => seen.push(`${workload}/${op} ${code}`),
      }),
      dropped: () => seen.push('dropped'),
      lag: (us) => seen.push(`lag ${us}`),
      inflight: (n) => seen.push(`inflight ${n}`),
    };
    const { rec, clock } = recorder();
    const early = rec.slot('w', 'start');
    rec.attach(observer);
    const late = rec.slot('w', 'stop');
    early.success(12, clock.now());
    late.failure('NOT_FOUND', clock.now());
    rec.recordDropped(clock.now());
    rec.recordLag(7, clock.now());
    rec.setInflight(3);
    expect(seen).toEqual(['w/start ok 12', 'w/stop NOT_FOUND', 'dropped', 'lag 7', 'inflight 3']);
  });

  it('records scheduler lag and service time as their own series', () => {
    const { rec, clock } = recorder();
    rec.recordLag(1500, clock.now());
    rec.recordLag(500, clock.now());
    rec.recordServiceTime(20_000);
    const snap = rec.snapshot({ histograms: true });
    expect(snap.scheduling.lag.latencyUs?.count).toBe(2);
    expect(snap.scheduling.lag.latencyUs?.max).toBe(1500);
    expect(snap.scheduling.serviceTime.latencyUs?.count).toBe(1);
    expect(snap.timeline[0]!.lag?.count).toBe(2);
    expect(snap.overall).toEqual({});
  });
});
