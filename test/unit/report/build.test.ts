import { afterEach, describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/report/build.js';
import type { HostInfo } from '../../../src/report/host-info.js';
import type { Report } from '../../../src/report/schema.js';
import { runScenario, type RunResult } from '../../../src/load/runner.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import { summarizeEncoded } from '../../../src/metrics/hdr.js';
import { scenarioSchema, type Scenario } from '../../../src/scenario/schema.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeDriver, type FakeDriverOptions } from '../../support/fake-driver.js';
import type { OpName } from '../../../src/common/operations.js';

const host: HostInfo = {
  churnVersion: '0.1.0',
  gitCommit: 'abc123',
  node: 'v20.0.0',
  os: 'linux',
  kernel: '6.1.0',
  arch: 'x64',
  cpuModel: 'Test CPU',
  cpuCount: 2,
  cgroupVersion: 2,
};

const recorders: Recorder[] = [];
afterEach(() => {
  for (const r of recorders.splice(0)) r.release();
});

async function runAndBuild(
  input: Record<string, unknown>,
  driverOptions: Omit<FakeDriverOptions, 'clock'> = {},
  signal?: AbortSignal,
): Promise<{ report: Report; result: RunResult; scenario: Scenario }> {
  const scenario = scenarioSchema.parse({ name: 'rep', seed: 3, ...input });
  const clock = new FakeClock({ startMs: 0 });
  const recorder = new Recorder({ clock, intervalMs: scenario.report.intervalMs });
  recorders.push(recorder);
  const driver = new FakeDriver({ clock, ...driverOptions });
  const result = await runScenario({ scenario, driver, recorder, clock, runId: 'run1', signal });
  return {
    report: buildReport({ outcome: result, scenario, host, labels: { release: '2.0' } }),
    result,
    scenario,
  };
}

const everyOp = (ms: number): FakeDriverOptions['latencyMs'] => ({
  run_pod: ms,
  create: ms,
  start: ms * 2,
  stop: ms,
  remove: ms,
  stop_pod: ms,
  remove_pod: ms,
});

describe('buildReport', () => {
  it('builds a complete v1 report from a run', async () => {
    const { report, result } = await runAndBuild(
      {
        load: { phases: [{ duration: '5s', concurrency: 2 }] },
        thresholds: ['p99(start) < 50ms', 'error_rate < 0.5%'],
        report: { labels: { release: '1.0', team: 'x' } },
      },
      {
        latencyMs: everyOp(10),
        fail: (op, call) => (op === 'start' && call % 20 === 5 ? 'UNAVAILABLE' : undefined),
      },
    );
    expect(report.schemaVersion).toBe(1);
    expect(report.run).toEqual({
      id: 'run1',
      scenario: 'rep',
      start: '2025-01-01T00:00:00.000Z',
      // The fake driver connects in no time: the phases begin with the run.
      phasesStart: '2025-01-01T00:00:00.000Z',
      end: new Date(Date.UTC(2025, 0, 1) + result.durationMs).toISOString(),
      durationMs: result.durationMs,
      recordedMs: result.snapshot.recordedMs,
      partial: false,
      exitReason: 'completed',
      endedBy: 'plan',
      seed: 3,
      error: null,
      abortedBy: null,
      marks: [],
      checkpoint: null,
    });
    expect(report.environment).toEqual({
      ...host,
      driver: 'builtin',
      runtime: { name: 'fake', version: '1.0.0', apiVersion: 'v1', handler: '' },
      labels: { release: '2.0', team: 'x' },
    });
    expect(Object.keys(report.operations)).toEqual([
      'run_pod',
      'create',
      'start',
      'stop',
      'remove',
      'stop_pod',
      'remove_pod',
      'cycle',
    ]);
    const start = report.operations.start!;
    expect(start.errors).toBeGreaterThan(0);
    expect(start.errorsByCode).toEqual({ UNAVAILABLE: start.errors });
    expect(start.throughputPerSec).toBeCloseTo(start.count / (report.run.recordedMs / 1000), 9);
    expect(start.latencyMs!.p50).toBeCloseTo(20, 1);
    expect(report.workloads.default!.weight).toBe(1);
    expect(report.workloads.default!.operations.start).toEqual(start);
    expect(report.cycles).toEqual(result.cycles);
    expect(report.thresholds).toEqual([
      {
        source: 'p99(start) < 50ms',
        metric: 'p99',
        op: 'start',
        comparator: '<',
        value: 50,
        actual: start.latencyMs!.p99,
        ok: true,
        abortOnFail: false,
      },
      expect.objectContaining({ source: 'error_rate < 0.5%', op: null, ok: false }),
    ]);
    expect(report.scheduling).toEqual({
      dropped: 0,
      lagMs: null,
      lagHistogram: null,
      serviceTimeMs: null,
      serviceTimeHistogram: null,
    });
    // Every value survives JSON: nulls, never undefined (the resolved scenario aside).
    const { scenario: _scenario, ...rest } = report;
    expect(JSON.parse(JSON.stringify(rest))).toStrictEqual(rest);
  });

  it('survives a round trip: every percentile recomputed from the encoded histograms equals the summary', async () => {
    const { report } = await runAndBuild(
      { load: { phases: [{ duration: '3s', arrivalRate: 50 }] } },
      { latencyMs: { run_pod: (n) => 1 + (n % 17), start: (n) => 3 + ((n * 7) % 23) } },
    );
    const check = (
      encoded: string | null,
      ms: Report['operations']['start'] extends infer T
        ? T extends { latencyMs: infer L }
          ? L
          : never
        : never,
    ): void => {
      const us = summarizeEncoded(encoded!)!;
      expect(ms).toEqual({
        min: us.min / 1000,
        mean: us.mean / 1000,
        p50: us.p50 / 1000,
        p90: us.p90 / 1000,
        p95: us.p95 / 1000,
        p99: us.p99 / 1000,
        p999: us.p999 / 1000,
        max: us.max / 1000,
      });
    };
    for (const o of Object.values(report.operations)) check(o.histogram, o.latencyMs);
    check(report.scheduling.lagHistogram, report.scheduling.lagMs);
    check(report.scheduling.serviceTimeHistogram, report.scheduling.serviceTimeMs);
    // Timeline intervals: counts add up to the totals, and each interval's p99 is its histogram's.
    for (const [op, o] of Object.entries(report.operations) as [OpName, { count: number }][]) {
      const sum = report.timeline.intervals.reduce((s, i) => s + (i.ops[op]?.count ?? 0), 0);
      expect(sum).toBe(o.count);
    }
    for (const interval of report.timeline.intervals) {
      for (const series of Object.values(interval.ops)) {
        if (series.histogram === null) continue;
        expect(series.p99Ms).toBe(summarizeEncoded(series.histogram)!.p99 / 1000);
      }
    }
    expect(report.timeline.intervalMs).toBe(1000);
  });

  it('marks an interrupted run partial', async () => {
    const stop = new AbortController();
    stop.abort();
    const { report } = await runAndBuild({}, {}, stop.signal);
    expect(report.run).toMatchObject({ partial: true, exitReason: 'interrupted', endedBy: null });
    // The ops the scenario performs are listed, with nothing in them.
    expect(Object.values(report.operations).map((o) => [o.count, o.errors, o.histogram])).toEqual(
      Array.from({ length: 8 }, () => [0, 0, null]),
    );
  });

  it('records what broke a broken run', async () => {
    const { report } = await runAndBuild({}, { connectError: 'UNAVAILABLE' });
    expect(report.run).toMatchObject({ partial: true, exitReason: 'broken' });
    expect(report.run.error?.code).toBe('UNAVAILABLE');
    expect(report.environment.runtime).toEqual({
      name: null,
      version: null,
      apiVersion: null,
      handler: null,
    });
  });
});
