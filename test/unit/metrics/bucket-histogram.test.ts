// BucketHistogram: counts like a Prometheus histogram (le inclusive, cumulative buckets, sum
// and count), in churn's own registry, and nothing can be recorded past its cells.
import fc from 'fast-check';
import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketCounts, BucketHistogram } from '../../../src/metrics/bucket-histogram.js';
import { durationBucketsSeconds } from '../../../src/metrics/catalog.js';
import { parseExposition } from '../../support/prometheus.js';

const boundsUs = Float64Array.from(durationBucketsSeconds, (s) => Math.round(s * 1e6));

function histogram(registry = new Registry()): BucketHistogram {
  return new BucketHistogram({
    name: 'test_duration_seconds',
    help: 'test',
    labelNames: ['op'],
    bucketsSeconds: durationBucketsSeconds,
    registry,
  });
}

describe('BucketCounts', () => {
  it('puts each value in the first bucket whose bound is ≥ it (le is inclusive)', () => {
    const cell = new BucketCounts(boundsUs);
    cell.observeUs(1000); // exactly 1 ms: bucket le=0.001
    cell.observeUs(1000.5); // just above: le=0.00125
    cell.observeUs(0); // below everything: le=0.001
    cell.observeUs(60_000_000); // exactly 60 s: le=60
    cell.observeUs(60_000_001); // above: +Inf
    expect(cell.counts[0]).toBe(2);
    expect(cell.counts[1]).toBe(1);
    expect(cell.counts[durationBucketsSeconds.length - 1]).toBe(1);
    expect(cell.counts[durationBucketsSeconds.length]).toBe(1);
    expect(cell.count).toBe(5);
  });

  it('counts negative and NaN values as 0', () => {
    const cell = new BucketCounts(boundsUs);
    cell.observeUs(-5);
    cell.observeUs(Number.NaN);
    expect(cell.counts[0]).toBe(2);
    expect(cell.sumUs).toBe(0);
  });

  it('agrees with counting each bucket directly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e8, noNaN: true }), { maxLength: 300 }),
        (values) => {
          const cell = new BucketCounts(boundsUs);
          for (const v of values) cell.observeUs(v);
          let cumulative = 0;
          for (let i = 0; i <= durationBucketsSeconds.length; i++) {
            cumulative += cell.counts[i]!;
            // Bounds are whole microseconds (1 ms and up, three significant digits).
            const leUs =
              i < durationBucketsSeconds.length ? durationBucketsSeconds[i]! * 1e6 : Infinity;
            expect(cumulative).toBe(values.filter((v) => v <= Math.round(leUs)).length);
          }
          expect(cell.count).toBe(values.length);
          expect(cell.sumUs).toBeCloseTo(
            values.reduce((a, b) => a + b, 0),
            3,
          );
        },
      ),
    );
  });
});

describe('BucketHistogram', () => {
  it('exposes cumulative buckets, +Inf, _sum and _count per label set', async () => {
    const registry = new Registry();
    const h = histogram(registry);
    const start = h.cell({ op: 'start' });
    expect(h.cell({ op: 'start' })).toBe(start);
    h.cell({ op: 'stop' }); // exists at zero
    start.observeUs(2000); // 2 ms
    start.observeUs(30_000); // 30 ms
    start.observeUs(90_000_000); // 90 s
    const text = await registry.metrics();
    expect(text).toContain('# TYPE test_duration_seconds histogram');
    const samples = parseExposition(text);
    const of = (op: string, name: string, le?: string): number | undefined =>
      samples.find(
        (s) =>
          s.name === name && s.labels['op'] === op && (le === undefined || s.labels['le'] === le),
      )?.value;
    expect(of('start', 'test_duration_seconds_bucket', '0.0016')).toBe(0);
    expect(of('start', 'test_duration_seconds_bucket', '0.002')).toBe(1);
    expect(of('start', 'test_duration_seconds_bucket', '0.0315')).toBe(2);
    expect(of('start', 'test_duration_seconds_bucket', '60')).toBe(2);
    expect(of('start', 'test_duration_seconds_bucket', '+Inf')).toBe(3);
    expect(of('start', 'test_duration_seconds_count')).toBe(3);
    expect(of('start', 'test_duration_seconds_sum')).toBeCloseTo(90.032, 9);
    expect(of('stop', 'test_duration_seconds_count')).toBe(0);
    expect(of('stop', 'test_duration_seconds_bucket', '+Inf')).toBe(0);
    // Every bucket of every label set, in bound order.
    const les = samples
      .filter((s) => s.name === 'test_duration_seconds_bucket' && s.labels['op'] === 'start')
      .map((s) => s.labels['le']);
    expect(les).toEqual([...durationBucketsSeconds.map(String), '+Inf']);
    const json = await h.get();
    expect(
      json.values.find((v) => v.labels['le'] === '+Inf' && v.labels['op'] === 'start')?.value,
    ).toBe(3);
  });

  it('registers in the registry it is given, never the global one', () => {
    const registry = new Registry();
    histogram(registry);
    expect(registry.getSingleMetric('test_duration_seconds')).toBeDefined();
    expect(globalRegistry.getSingleMetric('test_duration_seconds')).toBeUndefined();
  });

  it("refuses prom-client's own recording paths and missing labels", () => {
    const h = histogram();
    expect(() => h.observe({ op: 'x' }, 1)).toThrow(/cell\(labels\)/);
    expect(() => h.labels()).toThrow(/cell\(labels\)/);
    expect(() => h.zero()).toThrow(/cell\(labels\)/);
    expect(() => h.cell({})).toThrow(/label op missing/);
  });
});
