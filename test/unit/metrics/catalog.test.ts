// The metric catalog keeps its rules: base units, bounded labels, buckets fixed forever.
import { describe, expect, it } from 'vitest';
import {
  durationBucketsSeconds,
  findMetric,
  lagBucketsSeconds,
  metricCatalog,
  metricOfSeries,
  metricSpec,
  seriesNames,
} from '../../../src/metrics/catalog.js';

describe('metric catalog', () => {
  it('has the names DESIGN.md and issue 5 promise', () => {
    const names = metricCatalog.map((m) => m.name);
    for (const name of [
      'churn_operation_duration_seconds',
      'churn_operations_total',
      'churn_cycles_total',
      'churn_cycles_dropped_total',
      'churn_inflight_cycles',
      'churn_scheduler_lag_seconds',
      'churn_run_info',
      'churn_target_cpu_seconds_total',
      'churn_target_resident_memory_bytes',
      'churn_target_open_fds',
      'churn_target_threads',
      'churn_target_shims',
      'churn_target_shim_resident_memory_bytes',
      'churn_process_cpu_seconds_total',
      'churn_process_resident_memory_bytes',
      'churn_process_event_loop_lag_p99_seconds',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(metricSpec('churn_operation_duration_seconds').labels).toEqual([
      'scenario',
      'driver',
      'workload',
      'op',
    ]);
    expect(metricSpec('churn_operations_total').labels).toEqual([
      'scenario',
      'driver',
      'workload',
      'op',
      'outcome',
      'code',
    ]);
  });

  it('names every metric in base units, counters with _total', () => {
    for (const m of metricCatalog) {
      expect(m.name, m.name).toMatch(/^churn_[a-z][a-z0-9_]*[a-z0-9]$/);
      expect(m.name.endsWith('_total'), m.name).toBe(m.type === 'counter');
      expect(m.name, m.name).not.toMatch(/_(ms|milliseconds|us|kb|mb|percent)(_|$)/);
      if (m.type === 'histogram') expect(m.name, m.name).toMatch(/_seconds$/);
      expect(m.help.length, m.name).toBeGreaterThan(20);
      expect(m.help, m.name).not.toContain('\n');
    }
  });

  it('keeps labels bounded: no ids but the run id, and that only in churn_run_info', () => {
    for (const m of metricCatalog) {
      for (const label of m.labels) {
        expect(label, `${m.name}.${label}`).toMatch(/^[a-z][a-z_]*$/);
        expect(['le', 'instance', 'job', 'quantile'], `${m.name}.${label}`).not.toContain(label);
        if (/(^|_)(id|pid|uid)$/.test(label)) {
          expect([m.name, label]).toEqual(['churn_run_info', 'run_id']);
        }
      }
    }
  });

  it('fixes the duration buckets: R10 from 1 ms to 50 s, then 60 s', () => {
    // Changing these breaks aggregation with every earlier run: this list is the contract.
    const r10 = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8];
    const expected: number[] = [];
    for (const decade of [0.001, 0.01, 0.1, 1, 10]) {
      for (const step of r10) {
        const v = Number((decade * step).toPrecision(3));
        if (v <= 50) expected.push(v);
      }
    }
    expected.push(60);
    expect(durationBucketsSeconds).toEqual(expected);
    expect(durationBucketsSeconds[0]).toBe(0.001);
    expect(durationBucketsSeconds.at(-1)).toBe(60);
    expect(Object.isFrozen(durationBucketsSeconds)).toBe(true);
  });

  it('spaces the buckets logarithmically: every ratio between 1.19 and 1.29', () => {
    for (const bounds of [durationBucketsSeconds, lagBucketsSeconds]) {
      for (let i = 1; i < bounds.length; i++) {
        const ratio = bounds[i]! / bounds[i - 1]!;
        expect(ratio, `${bounds[i - 1]!} → ${bounds[i]!}`).toBeGreaterThan(1.19);
        expect(ratio, `${bounds[i - 1]!} → ${bounds[i]!}`).toBeLessThan(1.29);
      }
      // The le label is the bound's decimal text: never exponent notation.
      for (const b of bounds) expect(String(b)).toMatch(/^\d+(\.\d+)?$/);
    }
    expect(lagBucketsSeconds.slice(-durationBucketsSeconds.length)).toEqual(durationBucketsSeconds);
    expect(lagBucketsSeconds[0]).toBe(0.0001);
  });

  it('maps exposition series back to their metric', () => {
    expect(metricOfSeries('churn_operation_duration_seconds_bucket')?.name).toBe(
      'churn_operation_duration_seconds',
    );
    expect(metricOfSeries('churn_operation_duration_seconds_count')?.type).toBe('histogram');
    expect(metricOfSeries('churn_cycles_total')?.type).toBe('counter');
    // _count of a non-histogram is not a series of it.
    expect(metricOfSeries('churn_cycles_total_count')).toBeUndefined();
    expect(metricOfSeries('churn_nothing')).toBeUndefined();
    expect(findMetric('churn_nothing')).toBeUndefined();
    expect(() => metricSpec('churn_nothing')).toThrow(/not in the catalog/);
    expect(seriesNames(metricSpec('churn_scheduler_lag_seconds'))).toEqual([
      'churn_scheduler_lag_seconds_bucket',
      'churn_scheduler_lag_seconds_sum',
      'churn_scheduler_lag_seconds_count',
    ]);
    expect(seriesNames(metricSpec('churn_run_info'))).toEqual(['churn_run_info']);
  });
});
