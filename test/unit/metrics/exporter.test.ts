// The exporter, fed by a real Recorder: what /metrics shows equals what the recorder (and so
// the report) counts; failures stay out of the histogram; labels stay bounded.
import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpName } from '../../../src/common/operations.js';
import { maxCodesPerOp, MetricsExporter } from '../../../src/metrics/exporter.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import type { ResourceSample } from '../../../src/metrics/resource-sample.js';
import { FakeClock } from '../../support/fake-clock.js';
import { parseExposition, type ExpositionSample } from '../../support/prometheus.js';

const recorders: Recorder[] = [];
afterEach(() => {
  for (const r of recorders.splice(0)) r.release();
});

function setUp(): { exporter: MetricsExporter; recorder: Recorder; clock: FakeClock } {
  const clock = new FakeClock({ auto: false, startMs: 0 });
  const exporter = new MetricsExporter({
    scenario: 'unit',
    driver: 'cri',
    runId: 'r1',
    churnVersion: '9.9.9',
  });
  const recorder = new Recorder({ clock, observers: [exporter] });
  recorders.push(recorder);
  return { exporter, recorder, clock };
}

async function scrape(exporter: MetricsExporter): Promise<ExpositionSample[]> {
  return parseExposition(await exporter.metrics());
}

function sum(
  samples: ExpositionSample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

describe('MetricsExporter', () => {
  it('shows every slot at zero before anything is recorded', async () => {
    const { exporter, recorder } = setUp();
    for (const op of ['start', 'cycle'] as OpName[]) recorder.slot('w', op);
    const s = await scrape(exporter);
    expect(sum(s, 'churn_operation_duration_seconds_count', { op: 'start' })).toBe(0);
    expect(s.filter((x) => x.name === 'churn_operations_total').map((x) => x.labels)).toEqual([
      {
        scenario: 'unit',
        driver: 'cri',
        workload: 'w',
        op: 'start',
        outcome: 'success',
        code: 'OK',
      },
      {
        scenario: 'unit',
        driver: 'cri',
        workload: 'w',
        op: 'cycle',
        outcome: 'success',
        code: 'OK',
      },
    ]);
    expect(
      s.filter((x) => x.name === 'churn_cycles_total').map((x) => [x.labels['outcome'], x.value]),
    ).toEqual([
      ['success', 0],
      ['error', 0],
    ]);
    expect(sum(s, 'churn_cycles_dropped_total')).toBe(0);
    expect(sum(s, 'churn_scheduler_lag_seconds_count')).toBe(0);
    expect(sum(s, 'churn_run_active')).toBe(1);
  });

  it('counts what the recorder counts: successes in the histogram, failures by code beside it', async () => {
    const { exporter, recorder, clock } = setUp();
    const start = recorder.slot('a', 'start');
    const startB = recorder.slot('b', 'start');
    const cycle = recorder.slot('a', 'cycle');
    for (let i = 0; i < 50; i++) start.success(1000 + i * 1000, clock.now());
    for (let i = 0; i < 7; i++) start.failure('UNAVAILABLE', clock.now());
    start.failure('DEADLINE_EXCEEDED', clock.now());
    for (let i = 0; i < 5; i++) startB.success(2_000_000, clock.now());
    for (let i = 0; i < 9; i++) {
      cycle.success(40_000, clock.now());
      recorder.cycleFinished('a', 'success');
    }
    for (let i = 0; i < 2; i++) {
      cycle.failure('UNAVAILABLE', clock.now());
      recorder.cycleFinished('a', 'error');
    }
    recorder.recordDropped(clock.now());
    recorder.recordDropped(clock.now());
    recorder.recordLag(300, clock.now());
    recorder.setInflight(3);

    const s = await scrape(exporter);
    const snap = recorder.snapshot();
    for (const [op, figures] of Object.entries(snap.overall)) {
      expect(sum(s, 'churn_operation_duration_seconds_count', { op }), op).toBe(figures.count);
      expect(sum(s, 'churn_operations_total', { op, outcome: 'success', code: 'OK' }), op).toBe(
        figures.count,
      );
      for (const [code, n] of Object.entries(figures.errorsByCode)) {
        expect(
          sum(s, 'churn_operations_total', { op, outcome: 'error', code }),
          `${op} ${code}`,
        ).toBe(n);
      }
      expect(sum(s, 'churn_operations_total', { op, outcome: 'error' }), op).toBe(figures.errors);
    }
    expect(sum(s, 'churn_operation_duration_seconds_count', { workload: 'b', op: 'start' })).toBe(
      5,
    );
    // The 50 successes of a/start: 1 ms … 50 ms; 7 + 1 failures are in no bucket.
    expect(
      sum(s, 'churn_operation_duration_seconds_bucket', { workload: 'a', op: 'start', le: '+Inf' }),
    ).toBe(50);
    expect(
      sum(s, 'churn_operation_duration_seconds_bucket', { workload: 'a', op: 'start', le: '0.01' }),
    ).toBe(10);
    expect(
      sum(s, 'churn_operation_duration_seconds_sum', { workload: 'a', op: 'start' }),
    ).toBeCloseTo((50 * 51) / 2 / 1000, 9);
    expect(sum(s, 'churn_cycles_total', { outcome: 'success' })).toBe(9);
    expect(sum(s, 'churn_cycles_total', { outcome: 'error' })).toBe(2);
    expect(sum(s, 'churn_cycles_dropped_total')).toBe(2);
    expect(sum(s, 'churn_inflight_cycles')).toBe(3);
    expect(sum(s, 'churn_scheduler_lag_seconds_count')).toBe(1);
    expect(sum(s, 'churn_scheduler_lag_seconds_bucket', { le: '0.000315' })).toBe(1);
    expect(sum(s, 'churn_scheduler_lag_seconds_bucket', { le: '0.00025' })).toBe(0);
  });

  it("counts cycles and drops of every phase, warm-up included, as the report's cycles block does", async () => {
    const { exporter, recorder, clock } = setUp();
    const cycle = recorder.slot('w', 'cycle');
    // A warm-up (record: false): nothing in the recorded figures, but cycles finish and drop.
    for (let i = 0; i < 4; i++) recorder.cycleFinished('w', 'success');
    recorder.cycleFinished('w', 'error');
    recorder.recordDropped(clock.now(), false);
    // A recorded phase.
    cycle.success(40_000, clock.now());
    recorder.cycleFinished('w', 'success');
    recorder.recordDropped(clock.now());

    const s = await scrape(exporter);
    expect(sum(s, 'churn_cycles_total', { outcome: 'success' })).toBe(5);
    expect(sum(s, 'churn_cycles_total', { outcome: 'error' })).toBe(1);
    expect(sum(s, 'churn_cycles_dropped_total')).toBe(2);
    expect(sum(s, 'churn_operation_duration_seconds_count', { op: 'cycle' })).toBe(1);
    expect(recorder.dropped).toBe(1);
  });

  it('keeps error codes bounded: odd codes and codes past the limit count as OTHER', async () => {
    const { exporter, recorder, clock } = setUp();
    const slot = recorder.slot('w', 'exec');
    slot.failure('not a code: container 4f1e…', clock.now());
    for (let i = 0; i < maxCodesPerOp + 5; i++) slot.failure(`CODE_${i}`, clock.now());
    slot.failure('CODE_0', clock.now());
    const s = await scrape(exporter);
    const codes = s
      .filter((x) => x.name === 'churn_operations_total' && x.labels['outcome'] === 'error')
      .map((x) => x.labels['code']!);
    expect(codes.length).toBeLessThanOrEqual(maxCodesPerOp + 1);
    expect(codes).toContain('OTHER');
    expect(sum(s, 'churn_operations_total', { code: 'OTHER' })).toBe(1 + 6);
    expect(sum(s, 'churn_operations_total', { code: 'CODE_0' })).toBe(2);
    expect(sum(s, 'churn_operations_total', { outcome: 'error' })).toBe(maxCodesPerOp + 7);
  });

  it('names the run in churn_run_info only, and the runtime once connected', async () => {
    const { exporter, recorder } = setUp();
    recorder.slot('w', 'start');
    let s = await scrape(exporter);
    expect(s.find((x) => x.name === 'churn_run_info')?.labels).toEqual({
      scenario: 'unit',
      driver: 'cri',
      runtime: '',
      runtime_version: '',
      handler: '',
      churn_version: '9.9.9',
      run_id: 'r1',
    });
    exporter.setRuntime({ runtime: 'containerd', runtimeVersion: '1.6.20', handler: 'runc' });
    exporter.setActive(false);
    s = await scrape(exporter);
    const info = s.filter((x) => x.name === 'churn_run_info');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({
      value: 1,
      labels: { runtime: 'containerd', runtime_version: '1.6.20', handler: 'runc' },
    });
    expect(sum(s, 'churn_run_active')).toBe(0);
    for (const sample of s) {
      if (sample.name !== 'churn_run_info')
        expect(Object.values(sample.labels)).not.toContain('r1');
    }
  });

  it('exports the latest resource sample; a target that is gone shows up 0 and no figures', async () => {
    const { exporter } = setUp();
    let s = await scrape(exporter);
    expect(s.some((x) => x.name.startsWith('churn_target_'))).toBe(false);
    const harness = {
      cpuSeconds: 1.5,
      rssBytes: 100e6,
      heapUsedBytes: 20e6,
      openFds: 30,
      eventLoopLagP99Seconds: 0.002,
      eventLoopLagMaxSeconds: 0.01,
      eventLoopLagSpanP99Seconds: 0.01,
      eventLoopUtilization: 0.2,
    };
    const sample: ResourceSample = {
      atMs: 0,
      harness,
      target: {
        name: 'containerd',
        pid: 42,
        up: true,
        cpuSeconds: 12.5,
        rssBytes: 50e6,
        openFds: 80,
        threads: 30,
        shims: 4,
        shimRssBytes: 40e6,
      },
    };
    exporter.setResources(sample);
    s = await scrape(exporter);
    const target = { target: 'containerd' };
    expect(sum(s, 'churn_target_up', target)).toBe(1);
    expect(sum(s, 'churn_target_cpu_seconds_total', target)).toBe(12.5);
    expect(sum(s, 'churn_target_resident_memory_bytes', target)).toBe(50e6);
    expect(sum(s, 'churn_target_open_fds', target)).toBe(80);
    expect(sum(s, 'churn_target_threads', target)).toBe(30);
    expect(sum(s, 'churn_target_shims', target)).toBe(4);
    expect(sum(s, 'churn_target_shim_resident_memory_bytes', target)).toBe(40e6);
    expect(sum(s, 'churn_process_cpu_seconds_total')).toBe(1.5);
    expect(sum(s, 'churn_process_resident_memory_bytes')).toBe(100e6);
    expect(sum(s, 'churn_process_event_loop_lag_p99_seconds')).toBe(0.002);

    // An outage (the run's cycles fail UNAVAILABLE): down, though the process can be read.
    exporter.setReachable(false);
    s = await scrape(exporter);
    expect(sum(s, 'churn_target_up', target)).toBe(0);
    expect(sum(s, 'churn_target_resident_memory_bytes', target)).toBe(50e6);
    exporter.setReachable(true);
    s = await scrape(exporter);
    expect(sum(s, 'churn_target_up', target)).toBe(1);

    exporter.setResources({
      atMs: 1000,
      harness,
      target: {
        name: 'containerd',
        pid: 42,
        up: false,
        cpuSeconds: undefined,
        rssBytes: undefined,
        openFds: undefined,
        threads: undefined,
        shims: undefined,
        shimRssBytes: undefined,
      },
    });
    s = await scrape(exporter);
    expect(sum(s, 'churn_target_up', target)).toBe(0);
    expect(
      s.filter((x) => x.name.startsWith('churn_target_') && x.name !== 'churn_target_up'),
    ).toEqual([]);
  });

  it("uses its own registry: nothing lands in prom-client's global one", async () => {
    const before = (await globalRegistry.metrics()).length;
    const { exporter, recorder, clock } = setUp();
    recorder.slot('w', 'start').success(1000, clock.now());
    expect(exporter.registry).not.toBe(globalRegistry);
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('churn_'))).toEqual(
      [],
    );
    expect((await globalRegistry.metrics()).length).toBe(before);
    // Two exporters (two runs in one process) do not collide.
    expect(() => setUp()).not.toThrow();
  });
});
