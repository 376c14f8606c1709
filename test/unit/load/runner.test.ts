import { afterEach, describe, expect, it } from 'vitest';
import { runScenario, type RunOptions, type RunResult } from '../../../src/load/runner.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import { scenarioSchema, type Scenario } from '../../../src/scenario/schema.js';
import type { LiveStatus } from '../../../src/load/live-status.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeDriver, type FakeDriverOptions } from '../../support/fake-driver.js';
import { runIdLabel } from '../../../src/load/cycle.js';
import type { CallOptions } from '../../../src/drivers/driver.js';
import { isChurnError } from '../../../src/common/errors.js';

const recorders: Recorder[] = [];
afterEach(() => {
  for (const r of recorders.splice(0)) r.release();
});

function scenario(input: Record<string, unknown>): Scenario {
  return scenarioSchema.parse({ name: 'test', seed: 7, ...input });
}

interface Harness {
  readonly clock: FakeClock;
  readonly driver: FakeDriver;
  readonly recorder: Recorder;
  readonly statuses: LiveStatus[];
}

function harness(sc: Scenario, driverOptions: Omit<FakeDriverOptions, 'clock'> = {}): Harness {
  const clock = new FakeClock({ startMs: 0 });
  const recorder = new Recorder({ clock, intervalMs: sc.report.intervalMs });
  recorders.push(recorder);
  return { clock, driver: new FakeDriver({ clock, ...driverOptions }), recorder, statuses: [] };
}

function run(h: Harness, sc: Scenario, extra: Partial<RunOptions> = {}): Promise<RunResult> {
  return runScenario({
    scenario: sc,
    driver: h.driver,
    recorder: h.recorder,
    clock: h.clock,
    runId: 'r1',
    onStatus: (s) => h.statuses.push(s),
    ...extra,
  });
}

/** Each of the 7 default steps takes `ms`. */
const everyOp = (ms: number): FakeDriverOptions['latencyMs'] => ({
  run_pod: ms,
  create: ms,
  start: ms,
  stop: ms,
  remove: ms,
  stop_pod: ms,
  remove_pod: ms,
});

function expectNothingLeft(h: Harness, result: RunResult): void {
  expect(h.driver.pods.size).toBe(0);
  expect(h.driver.containers.size).toBe(0);
  expect(result.cleanup.remainingPods + result.cleanup.remainingContainers).toBe(0);
}

describe('runner: closed loop', () => {
  it('runs exactly `iterations` cycles', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '1h', concurrency: 4 }], iterations: 100 },
    });
    const h = harness(sc, { latencyMs: everyOp(5) });
    const result = await run(h, sc);
    expect(result.state).toBe('completed');
    expect(result.state === 'completed' && result.endedBy).toBe('iterations');
    expect(result.cycles).toEqual({
      started: 100,
      succeeded: 100,
      failed: 0,
      cut: 0,
      dropped: 0,
      arrivals: 0,
    });
    expect(h.driver.count('run_pod')).toBe(100);
    for (const op of [
      'run_pod',
      'create',
      'start',
      'stop',
      'remove',
      'stop_pod',
      'remove_pod',
      'cycle',
    ] as const) {
      expect(result.snapshot.overall[op]).toMatchObject({ count: 100, errors: 0 });
    }
    expect(Object.keys(result.snapshot.overall)).toEqual([
      'run_pod',
      'create',
      'start',
      'stop',
      'remove',
      'stop_pod',
      'remove_pod',
      'cycle',
    ]);
    expect(result.durationMs).toBeLessThan(60_000);
    expectNothingLeft(h, result);
  });

  it('runs exactly `iterations` cycles against a runtime that answers at once', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '1h', concurrency: 3 }], iterations: 1000 },
    });
    const h = harness(sc);
    const result = await run(h, sc);
    expect(result.cycles.started).toBe(1000);
    expect(result.snapshot.overall.cycle?.count).toBe(1000);
    expectNothingLeft(h, result);
  });

  it('runs exactly iterationsPerWorker × workers per phase, and ends the phase early', async () => {
    const sc = scenario({
      load: {
        phases: [
          { duration: '1h', concurrency: 2, iterationsPerWorker: 3 },
          { duration: '1h', concurrency: 3, iterationsPerWorker: 2 },
        ],
      },
    });
    const h = harness(sc, { latencyMs: everyOp(10) });
    const result = await run(h, sc);
    expect(result.cycles.started).toBe(12);
    expect(result.snapshot.overall.cycle?.count).toBe(12);
    expect(result.phasesRun).toBe(2);
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it('keeps workers back to back for the phase: 2 workers × 70 ms cycles × 10 s = 286 cycles', async () => {
    const sc = scenario({ load: { phases: [{ duration: '10s', concurrency: 2 }] } });
    const h = harness(sc, { latencyMs: everyOp(10) });
    const result = await run(h, sc);
    // Each worker starts cycles at 0, 70, …, 9940 ms: 143 each.
    expect(result.cycles.started).toBe(286);
    expect(result.snapshot.overall.cycle?.latencyUs?.p50).toBe(70_015);
    expect(result.snapshot.overall.start?.latencyUs?.max).toBe(10_007);
  });

  it('ramps workers up across a phase and never overlaps phases', async () => {
    let inflight = 0;
    let maxInflight = 0;
    const sc = scenario({
      load: {
        phases: [
          { duration: '10s', concurrency: 1, rampTo: 4 },
          { duration: '5s', concurrency: 2 },
        ],
      },
    });
    const h = harness(sc, { latencyMs: { run_pod: 100, remove_pod: 100 } });
    h.recorder.attach({
      inflight: (n) => {
        inflight = n;
        maxInflight = Math.max(maxInflight, inflight);
      },
    });
    const statuses: number[] = [];
    const result = await run(h, sc, { onStatus: (s) => statuses.push(s.inflight) });
    expect(maxInflight).toBe(4);
    expect(statuses[0]).toBe(1);
    expect(statuses[8]).toBe(4);
    expect(statuses[12]).toBe(2);
    expect(result.state).toBe('completed');
  });
});

describe('runner: open loop', () => {
  it('measures cycle latency from the intended start: a 1 s runtime stall shows in the cycles scheduled during it', async () => {
    const sc = scenario({ load: { phases: [{ duration: '5s', arrivalRate: 100 }] } });
    const h = harness(sc, { latencyMs: everyOp(1) });
    void h.clock.sleep(2000).then(() => h.driver.stallUntil(h.clock.now() + 1000));
    const result = await run(h, sc);
    const cycle = result.snapshot.overall.cycle!;
    expect(result.cycles.started).toBe(500);
    expect(cycle.count).toBe(500);
    // About 100 cycles were scheduled during the stall, waiting 1000 ms down to 0 ms for it.
    expect(cycle.latencyUs!.max).toBeGreaterThanOrEqual(1_000_000);
    expect(cycle.latencyUs!.p99).toBeGreaterThan(900_000);
    expect(cycle.latencyUs!.p90).toBeGreaterThan(150_000);
    expect(cycle.latencyUs!.p50).toBeLessThan(20_000);
    // The stall holds the first call of each such cycle: run_pod shows it from its own start.
    expect(result.snapshot.overall.run_pod!.latencyUs!.max).toBeGreaterThanOrEqual(990_000);
    expect(result.snapshot.scheduling.lag.latencyUs!.max).toBeLessThan(1000);
  });

  it('measures cycle latency from the intended start: a stalled event loop shows as lag and latency, not a lower rate', async () => {
    const sc = scenario({ load: { phases: [{ duration: '5s', arrivalRate: 100 }] } });
    const h = harness(sc, { latencyMs: everyOp(1) });
    const driver = h.driver;
    const startContainer = driver.startContainer.bind(driver);
    let stalled = false;
    driver.startContainer = async (id: string, options?: CallOptions): Promise<void> => {
      if (!stalled && h.clock.now() >= 2000) {
        stalled = true;
        h.clock.jump(1000); // a synchronous 1 s stall: no timer fires meanwhile
      }
      return startContainer(id, options);
    };
    const result = await run(h, sc);
    const snap = result.snapshot;
    expect(result.cycles.started).toBe(500);
    expect(snap.scheduling.lag.latencyUs!.max).toBeGreaterThanOrEqual(990_000);
    expect(snap.scheduling.lag.latencyUs!.count).toBe(500);
    expect(snap.overall.cycle!.latencyUs!.p99).toBeGreaterThan(900_000);
    // Service time (from the actual start) does not show the scheduler's delay.
    expect(snap.scheduling.serviceTime.latencyUs!.p99).toBeLessThan(20_000);
    expect(snap.scheduling.serviceTime.latencyUs!.count).toBe(500);
  });

  it('maxInflight: 5 against a slow runtime counts drops exactly and never delays', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '2s', arrivalRate: 10 }], maxInflight: 5 },
    });
    const h = harness(sc, { latencyMs: { run_pod: 1050 } });
    const result = await run(h, sc);
    // Arrivals every 100 ms; each cycle takes 1050 ms: 0–400 run, 500–1000 drop,
    // 1100–1500 run, 1600–1900 drop.
    expect(result.cycles).toEqual({
      started: 10,
      succeeded: 10,
      failed: 0,
      cut: 0,
      dropped: 10,
      arrivals: 20,
    });
    expect(result.snapshot.scheduling.dropped).toBe(10);
    expect(result.snapshot.timeline.reduce((s, i) => s + i.dropped, 0)).toBe(10);
    expect(h.driver.calls.filter((c) => c.op === 'run_pod').map((c) => c.atMs)).toEqual([
      0, 100, 200, 300, 400, 1100, 1200, 1300, 1400, 1500,
    ]);
    expect(result.snapshot.scheduling.lag.latencyUs!.max).toBe(1);
  });

  it('stops at the iterations cap', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '10s', arrivalRate: 100 }], iterations: 50 },
    });
    const h = harness(sc, { latencyMs: everyOp(1) });
    const result = await run(h, sc);
    expect(result.cycles.started).toBe(50);
    expect(result.state === 'completed' && result.endedBy).toBe('iterations');
    expect(result.durationMs).toBeLessThan(1000);
  });
});

describe('runner: failures and cleanup', () => {
  it('a cycle failing at start (10%) cleans up; errors count on start only, none in its histogram', async () => {
    const sc = scenario({
      workload: { containersPerPod: 2 },
      load: { phases: [{ duration: '1h', concurrency: 4 }], iterations: 200 },
    });
    const h = harness(sc, {
      latencyMs: everyOp(1),
      fail: (op, call) => (op === 'start' && call % 10 === 3 ? 'UNAVAILABLE' : undefined),
    });
    const result = await run(h, sc);
    const o = result.snapshot.overall;
    // 400 start calls would be made; the 40 failing ones each cut a cycle short, saving its
    // second start when it was the first container's.
    const startCalls = h.driver.count('start');
    const failures = h.driver.calls
      .filter((c) => c.op === 'start')
      .filter((_, i) => i % 10 === 3).length;
    expect(o.start).toMatchObject({
      count: startCalls - failures,
      errors: failures,
      errorsByCode: { UNAVAILABLE: failures },
    });
    expect(o.start!.latencyUs!.count).toBe(startCalls - failures);
    expect(o.cycle).toMatchObject({
      count: 200 - failures,
      errors: failures,
      errorsByCode: { UNAVAILABLE: failures },
    });
    expect(result.cycles).toMatchObject({
      started: 200,
      succeeded: 200 - failures,
      failed: failures,
    });
    for (const op of ['run_pod', 'create', 'stop', 'remove', 'stop_pod', 'remove_pod'] as const) {
      expect(o[op]!.errors).toBe(0);
    }
    expect(o.stop_pod!.count).toBe(200 - failures);
    // Everything created was removed by the cycles' own cleanup.
    expect(h.driver.created.pods).toBe(200);
    expect(result.cleanup).toMatchObject({
      calls: failures * 2,
      failures: 0,
      sweptPods: 0,
      sweptContainers: 0,
    });
    expectNothingLeft(h, result);
  });

  it('shared pods: created once, recorded, removed at the end; failed cycles remove their containers', async () => {
    const sc = scenario({
      workload: { podPerCycle: false, pods: 2 },
      load: { phases: [{ duration: '1h', concurrency: 2 }], iterations: 50 },
    });
    const h = harness(sc, {
      latencyMs: { create: 1, start: 1, stop: 1, remove: 1 },
      fail: (op, call) => (op === 'start' && call % 10 === 3 ? 'INTERNAL' : undefined),
    });
    const result = await run(h, sc);
    const o = result.snapshot.overall;
    expect(Object.keys(o)).toEqual([
      'run_pod',
      'create',
      'start',
      'stop',
      'remove',
      'stop_pod',
      'remove_pod',
      'cycle',
    ]);
    expect(o.run_pod!.count).toBe(2);
    expect(o.remove_pod!.count).toBe(2);
    expect(o.start!.errors).toBe(5);
    expect(o.cycle!.count).toBe(45);
    expect(h.driver.created.pods).toBe(2);
    expect(new Set(h.driver.calls.filter((c) => c.op === 'create').map((c) => c.id)).size).toBe(50);
    expectNothingLeft(h, result);
  });

  it('counts an exec with the wrong exit code as an error of exec', async () => {
    const sc = scenario({
      workload: {
        steps: [
          'run_pod',
          'create',
          'start',
          { exec: { command: ['false'] } },
          'stop',
          'remove',
          'stop_pod',
          'remove_pod',
        ],
      },
      load: { phases: [{ duration: '1h', concurrency: 1 }], iterations: 3 },
    });
    const h = harness(sc, { execExitCode: 1 });
    const result = await run(h, sc);
    expect(result.snapshot.overall.exec).toMatchObject({
      count: 0,
      errors: 3,
      errorsByCode: { EXIT_CODE_MISMATCH: 3 },
    });
    expect(result.snapshot.overall.cycle).toMatchObject({ count: 0, errors: 3 });
    expectNothingLeft(h, result);
  });

  it('labels every object with the run id, scenario and workload, names unique per cycle', async () => {
    const sc = scenario({ load: { phases: [{ duration: '1h', concurrency: 2 }], iterations: 6 } });
    const h = harness(sc);
    const labels: Record<string, string>[] = [];
    const names: string[] = [];
    const runPod = h.driver.runPod.bind(h.driver);
    h.driver.runPod = (spec, options) => {
      labels.push({ ...spec.labels });
      names.push(spec.name);
      return runPod(spec, options);
    };
    await run(h, sc);
    expect(new Set(names).size).toBe(6);
    for (const l of labels)
      expect(l).toMatchObject({
        [runIdLabel]: 'r1',
        'churn.scenario': 'test',
        'churn.workload': 'default',
      });
  });

  it('sweeps what escaped the cycles, and calls the run broken when something stays', async () => {
    const sc = scenario({ load: { phases: [{ duration: '1h', concurrency: 1 }], iterations: 2 } });
    const h = harness(sc, { fail: (op) => (op === 'remove_pod' ? 'INTERNAL' : undefined) });
    const result = await run(h, sc);
    expect(result.state).toBe('broken');
    expect(result.state === 'broken' && result.error.code).toBe('RUN_BROKEN');
    expect(result.cleanup).toMatchObject({ sweptPods: 2, remainingPods: 2 });
  });

  it('a scenario gating on leaked objects judges what stays by its thresholds, not as broken', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '1h', concurrency: 1 }], iterations: 2 },
      thresholds: ['leaked_pods == 0', 'leaked_containers == 0', 'leaked_processes == 0'],
    });
    const h = harness(sc, { fail: (op) => (op === 'remove_pod' ? 'INTERNAL' : undefined) });
    const result = await run(h, sc);
    expect(result.state).toBe('completed');
    expect(result.cleanup).toMatchObject({ remainingPods: 2 });
    expect(result.leaks).toMatchObject({ pods: 2, processes: null });
    expect(result.leaks?.podIds).toHaveLength(2);
    expect(result.warnings.some((w) => w.startsWith('cleanup left 2 pods'))).toBe(true);
    expect(result.thresholds.map((t) => [t.source, t.actual, t.ok])).toEqual([
      ['leaked_pods == 0', 2, false],
      // The stop_pod of each pod stopped its containers and removing them worked.
      ['leaked_containers == 0', 0, true],
      // Without a host probe the host is not scanned: nothing to measure, so it fails.
      ['leaked_processes == 0', undefined, false],
    ]);
  });

  it('a run that left nothing reports zero leaks', async () => {
    const sc = scenario({ load: { phases: [{ duration: '1h', concurrency: 2 }], iterations: 10 } });
    const h = harness(sc);
    const result = await run(h, sc);
    expect(result.leaks).toMatchObject({ pods: 0, containers: 0, podIds: [], notes: [] });
    expectNothingLeft(h, result);
  });

  it('a runtime that cannot be reached makes a broken run that touched nothing', async () => {
    const sc = scenario({ load: { phases: [{ duration: '1h', concurrency: 1 }] } });
    const h = harness(sc, { connectError: 'UNAVAILABLE' });
    const result = await run(h, sc);
    expect(result.state).toBe('broken');
    expect(result.state === 'broken' && result.error.code).toBe('UNAVAILABLE');
    expect(h.driver.calls.map((c) => c.op)).toEqual(['connect']);
    expect(result.runtime).toBeUndefined();
  });
});

describe('runner: phases, stop and thresholds', () => {
  it('keeps record: false phases out of the results', async () => {
    const sc = scenario({
      load: {
        phases: [
          { duration: '2s', concurrency: 2, record: false },
          { duration: '3s', concurrency: 2 },
        ],
      },
    });
    const h = harness(sc, { latencyMs: everyOp(10) });
    // Observers (the Prometheus exporter) hear of every cycle, warm-up included.
    const finished: string[] = [];
    h.recorder.attach({
      cycleFinished: (workload, outcome) => finished.push(`${workload} ${outcome}`),
    });
    const result = await run(h, sc);
    // Warm-up: each worker starts at 0, 70, …, 1960 (29 cycles). Recorded: the slot frees at
    // 2030, then 2030, 2100, …, 4970 (43 cycles each).
    expect(result.cycles.started).toBe(58 + 86);
    expect(result.cycles.succeeded).toBe(58 + 86);
    expect(finished).toHaveLength(58 + 86);
    expect(new Set(finished)).toEqual(new Set([`${sc.workloads[0]!.name} success`]));
    expect(result.snapshot.overall.cycle?.count).toBe(86);
    expect(result.snapshot.overall.run_pod?.count).toBe(86);
    expect(result.snapshot.recordedMs).toBe(3040);
    expect(result.snapshot.originMs).toBe(2000);
  });

  it('stop signal: stops scheduling, drains in-flight cycles, cleans up, and says interrupted', async () => {
    const sc = scenario({ load: { phases: [{ duration: '1h', concurrency: 4 }] } });
    const h = harness(sc, { latencyMs: everyOp(100) });
    const stop = new AbortController();
    void h.clock.sleep(5000).then(() => stop.abort());
    const result = await run(h, sc, { signal: stop.signal });
    expect(result.state).toBe('interrupted');
    // Cycles in flight at 5 s finished: every started cycle succeeded.
    expect(result.cycles).toMatchObject({ started: 32, succeeded: 32, cut: 0 });
    expect(result.snapshot.overall.cycle?.count).toBe(32);
    expect(result.durationMs).toBe(5600);
    expectNothingLeft(h, result);
  });

  it('a stop signal while the last cycles drain still interrupts the run', async () => {
    const sc = scenario({ load: { phases: [{ duration: '10s', concurrency: 2 }] } });
    const h = harness(sc, { latencyMs: everyOp(100) });
    const stop = new AbortController();
    // The plan ends at 10 s; the cycles in flight then run until 10.5 s.
    void h.clock.sleep(10_200).then(() => stop.abort());
    const result = await run(h, sc, { signal: stop.signal });
    expect(result.state).toBe('interrupted');
    expectNothingLeft(h, result);
  });

  it('stop signal with a drain timeout: cycles still running are cut off, not counted, and cleaned up', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '1h', concurrency: 3 }], drainTimeout: '500ms' },
    });
    const h = harness(sc, { latencyMs: { run_pod: 10, create: 10, start: 10, stop: 10_000 } });
    const stop = new AbortController();
    void h.clock.sleep(1000).then(() => stop.abort());
    const result = await run(h, sc, { signal: stop.signal });
    expect(result.state).toBe('interrupted');
    expect(result.cycles).toMatchObject({ started: 3, succeeded: 0, failed: 0, cut: 3 });
    expect(result.snapshot.overall.stop).toBeDefined();
    expect(result.snapshot.overall.stop).toMatchObject({ count: 0, errors: 0 });
    expect(result.snapshot.overall.cycle).toMatchObject({ count: 0, errors: 0 });
    // Cleanup was not cancelled: it stopped and removed the pods (1000 + 500 ms, then cleanup).
    expect(result.durationMs).toBeGreaterThanOrEqual(1500);
    expectNothingLeft(h, result);
  });

  it('a signal before the start touches nothing', async () => {
    const sc = scenario({});
    const h = harness(sc);
    const result = await run(h, sc, { signal: AbortSignal.abort() });
    expect(result.state).toBe('interrupted');
    expect(h.driver.calls).toEqual([]);
  });

  it('aborts on a failing abortOnFail threshold, evaluated on a sliding window after its delay', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '1h', concurrency: 2 }] },
      thresholds: [
        { threshold: 'error_rate < 10%', abortOnFail: true, delay: '2s', window: '3s' },
        'p99(cycle) < 1s',
      ],
    });
    const h = harness(sc, {
      latencyMs: everyOp(10),
      fail: (op) => (op === 'start' && h.clock.now() >= 10_000 ? 'DEADLINE_EXCEEDED' : undefined),
    });
    const result = await run(h, sc);
    expect(result.state).toBe('aborted');
    if (result.state !== 'aborted') return;
    expect(result.abortedBy.source).toBe('error_rate < 10%');
    expect(result.abortedBy.actual).toBeGreaterThan(0.1);
    expect(result.durationMs).toBeGreaterThan(10_000);
    expect(result.durationMs).toBeLessThan(13_000);
    expect(result.thresholds.map((t) => [t.source, t.ok])).toEqual([
      ['error_rate < 10%', true],
      ['p99(cycle) < 1s', true],
    ]);
    expectNothingLeft(h, result);
  });

  it('evaluates every threshold at the end with its actual value', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '1h', concurrency: 1 }], iterations: 10 },
      thresholds: [
        'p99(start) < 5ms',
        'p50(cycle) <= 70ms',
        'error_rate == 0',
        'throughput(cycle) > 100',
        'dropped == 0',
      ],
    });
    const h = harness(sc, { latencyMs: everyOp(10) });
    const result = await run(h, sc);
    expect(result.thresholds.map((t) => [t.source, t.ok])).toEqual([
      ['p99(start) < 5ms', false],
      ['p50(cycle) <= 70ms', false],
      ['error_rate == 0', true],
      ['throughput(cycle) > 100', false],
      ['dropped == 0', true],
    ]);
    expect(result.thresholds[0]!.actual).toBeCloseTo(10.007, 3);
    expect(result.thresholds[3]!.actual).toBeCloseTo(10 / 0.7, 3);
  });

  it('mixes weighted workloads by a seeded choice', async () => {
    const input = {
      workloads: [
        { name: 'heavy', weight: 3 },
        { name: 'light', weight: 1, steps: ['run_pod', 'stop_pod', 'remove_pod'] },
      ],
      load: { phases: [{ duration: '1h', concurrency: 2 }], iterations: 400 },
    };
    const counts = async (seed: number): Promise<[number, number]> => {
      const sc = scenario({ ...input, seed });
      const h = harness(sc);
      const result = await run(h, sc);
      const w = result.snapshot.workloads;
      expect(w.map((x) => x.name)).toEqual(['heavy', 'light']);
      expect(w[1]!.ops.create).toBeUndefined();
      return [w[0]!.ops.cycle!.count, w[1]!.ops.cycle!.count];
    };
    const a = await counts(1);
    expect(a[0] + a[1]).toBe(400);
    expect(a[0] / 400).toBeGreaterThan(0.68);
    expect(a[0] / 400).toBeLessThan(0.82);
    expect(await counts(1)).toEqual(a);
    expect(await counts(2)).not.toEqual(a);
  });

  it('emits a live status at most once a second', async () => {
    const sc = scenario({ load: { phases: [{ duration: '5s', concurrency: 2 }] } });
    const h = harness(sc, { latencyMs: everyOp(10) });
    await run(h, sc);
    expect(h.statuses.length).toBeGreaterThanOrEqual(4);
    expect(h.statuses.length).toBeLessThanOrEqual(6);
    const s = h.statuses[2]!;
    expect(s).toMatchObject({
      stage: 'running',
      phase: { index: 0, count: 1, name: 'phase-1', kind: 'closed', record: true },
      elapsedMs: 3000,
      totalMs: 5000,
      inflight: 2,
      dropped: 0,
      errors: 0,
    });
    // 2 workers × 70 ms cycles: 14 or 15 cycles per worker finish in any one second.
    expect(s.cyclesPerSec).toBeGreaterThanOrEqual(28);
    expect(s.cyclesPerSec).toBeLessThanOrEqual(30);
    expect(s.cycleP99Ms).toBeCloseTo(70, 0);
  });

  it('shows draining once the plan time is up with cycles still in flight', async () => {
    const sc = scenario({ load: { phases: [{ duration: '2s', concurrency: 2 }] } });
    // Each cycle takes 3.5 s: both workers' first cycles outlive the 2 s plan.
    const h = harness(sc, { latencyMs: { start: 3500 } });
    await run(h, sc);
    const late = h.statuses.filter((s) => s.elapsedMs >= 2000 && s.inflight > 0);
    expect(late.length).toBeGreaterThan(0);
    for (const s of late) expect(s.stage).toBe('draining');
    expect(h.statuses.filter((s) => s.elapsedMs < 2000).map((s) => s.stage)).toEqual(
      h.statuses.filter((s) => s.elapsedMs < 2000).map(() => 'running'),
    );
    expect(h.statuses.every((s) => !s.openLoop)).toBe(true);
  });

  it('tells an open loop and its drops', async () => {
    const sc = scenario({
      load: { phases: [{ duration: '3s', arrivalRate: 20 }], maxInflight: 2 },
    });
    const h = harness(sc, { latencyMs: { start: 1000 } });
    const result = await run(h, sc);
    expect(result.cycles.dropped).toBeGreaterThan(0);
    expect(h.statuses.every((s) => s.openLoop)).toBe(true);
    expect(h.statuses.at(-1)!.dropped).toBeGreaterThan(0);
  });

  it('refuses steps a cycle cannot run, before touching the runtime', async () => {
    const sc = scenario({});
    const bad: Scenario = {
      ...sc,
      workloads: [{ ...sc.workloads[0]!, steps: [{ kind: 'op', op: 'start' }] }],
    };
    const h = harness(sc);
    await expect(run(h, bad)).rejects.toSatisfy((err) => isChurnError(err, 'SCENARIO_INVALID'));
    expect(h.driver.calls).toEqual([]);
  });
});

describe('runner: second stop', () => {
  it('a cut signal cuts in-flight cycles off at once; their cleanup still runs', async () => {
    const sc = scenario({ load: { phases: [{ duration: '1h', concurrency: 2 }] } });
    const h = harness(sc, { latencyMs: { run_pod: 10, create: 10, start: 60_000 } });
    const stop = new AbortController();
    const cut = new AbortController();
    void h.clock.sleep(1000).then(() => stop.abort());
    void h.clock.sleep(2000).then(() => cut.abort());
    const result = await run(h, sc, { signal: stop.signal, cutSignal: cut.signal });
    expect(result.state).toBe('interrupted');
    expect(result.cycles).toMatchObject({ started: 2, succeeded: 0, failed: 0, cut: 2 });
    expect(result.durationMs).toBe(2000);
    expectNothingLeft(h, result);
  });
});

describe('runner: --start-at', () => {
  const sc = (): Scenario =>
    scenario({ load: { phases: [{ duration: '1h', concurrency: 1 }], iterations: 3 } });

  it('begins the phases at the instant, after connecting', async () => {
    const s = sc();
    const h = harness(s, { latencyMs: everyOp(1) });
    const startAt = h.clock.wallNowMs() + 5000;
    const result = await run(h, s, { startAtWallMs: startAt });
    expect(result.phasesStartWallMs).toBe(startAt);
    expect(result.startWallMs).toBeLessThan(startAt);
    expect(result.warnings.filter((w) => w.includes('start instant'))).toEqual([]);
  });

  it('starts at once and warns when the instant is more than 1 s past', async () => {
    const s = sc();
    const h = harness(s, { latencyMs: everyOp(1) });
    const startAt = h.clock.wallNowMs() - 3000;
    const result = await run(h, s, { startAtWallMs: startAt });
    expect(result.phasesStartWallMs).toBe(result.startWallMs);
    expect(result.warnings.some((w) => w.includes('3000 ms after the start instant'))).toBe(true);
  });

  it('without it, the phases begin once connected', async () => {
    const s = sc();
    const h = harness(s, { latencyMs: everyOp(1) });
    const result = await run(h, s);
    expect(result.phasesStartWallMs).toBe(result.startWallMs);
  });
});
