import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReport, type RunOutcome } from '../../../src/report/build.js';
import { renderTerminalSummary } from '../../../src/report/render/terminal.js';
import {
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
} from '../../../src/report/render/format.js';
import { compactIso, reportPath, safeSegment } from '../../../src/report/store.js';
import type { HostInfo } from '../../../src/report/host-info.js';
import type { Report } from '../../../src/report/schema.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';
import { FakeClock } from '../../support/fake-clock.js';
import { nothingLeftCleanup } from '../../support/synthetic-report.js';

const host: HostInfo = {
  churnVersion: '0.1.0',
  gitCommit: null,
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

/** A report from fixed records: 100 cycles over 10 s, 5 starts failed, 3 arrivals dropped. */
function fixedReport(overrides: Partial<RunOutcome> = {}): Report {
  const scenario = scenarioSchema.parse({
    name: 'demo',
    load: { phases: [{ duration: '10s', arrivalRate: 10 }] },
    thresholds: ['p99(start) < 5ms', 'error_rate < 1%', 'throughput(cycle) > 5', 'dropped == 0'],
  });
  const clock = new FakeClock({ auto: false, startMs: 0 });
  const rec = new Recorder({ clock });
  recorders.push(rec);
  rec.startRecording(0);
  const ops = [
    'run_pod',
    'create',
    'start',
    'stop',
    'remove',
    'stop_pod',
    'remove_pod',
    'cycle',
  ] as const;
  const slots = ops.map((op) => rec.slot('default', op));
  for (let i = 0; i < 105; i++) {
    const t = i * 95;
    rec.recordLag(200 + i * 10, t);
    slots[0]!.success(1500 + i * 10, t);
    slots[1]!.success(800 + i * 5, t);
    if (i % 21 === 20) {
      slots[2]!.failure('UNAVAILABLE', t);
      slots[7]!.failure('UNAVAILABLE', t);
      continue;
    }
    slots[2]!.success(2000 + i * 50, t);
    for (const s of slots.slice(3, 7)) s.success(300 + i, t);
    slots[7]!.success(12_000 + i * 100, t);
    rec.recordServiceTime(11_000 + i * 100);
  }
  for (let i = 0; i < 3; i++) rec.recordDropped(9000 + i);
  rec.stopRecording(10_000);
  const snapshot = rec.snapshot({ histograms: true, nowMs: 10_000 });
  const outcome: RunOutcome = {
    state: 'completed',
    endedBy: 'plan',
    runId: 'a1b2c3',
    seed: 1,
    startWallMs: Date.UTC(2025, 0, 31, 12, 3, 4, 567),
    endWallMs: Date.UTC(2025, 0, 31, 12, 3, 14, 800),
    durationMs: 10_233,
    runtime: {
      runtimeName: 'churn-core',
      runtimeVersion: '0.1.0',
      runtimeApiVersion: 'v1',
      runtimeHandler: '',
    },
    cycles: { started: 105, succeeded: 100, failed: 5, cut: 0, dropped: 3, arrivals: null },
    cleanup: { ...nothingLeftCleanup, calls: 10 },
    snapshot,
    thresholds: [
      {
        source: 'p99(start) < 5ms',
        metric: 'p99',
        op: 'start',
        comparator: '<',
        value: 5,
        actual: snapshot.overall.start!.latencyUs!.p99 / 1000,
        ok: false,
        abortOnFail: false,
      },
      {
        source: 'error_rate < 1%',
        metric: 'error_rate',
        op: undefined,
        comparator: '<',
        value: 0.01,
        actual: 5 / 735,
        ok: true,
        abortOnFail: false,
      },
      {
        source: 'throughput(cycle) > 5',
        metric: 'throughput',
        op: 'cycle',
        comparator: '>',
        value: 5,
        actual: 10,
        ok: true,
        abortOnFail: false,
      },
      {
        source: 'dropped == 0',
        metric: 'dropped',
        op: undefined,
        comparator: '==',
        value: 0,
        actual: 3,
        ok: false,
        abortOnFail: false,
      },
    ],
    warnings: [],
    ...overrides,
  };
  return buildReport({ outcome, scenario, host });
}

describe('terminal summary', () => {
  it('renders the table in step order with cycle last, errors by code, scheduling and thresholds', () => {
    const text = renderTerminalSummary(fixedReport());
    expect(text).toBe(EXPECTED);
  });

  it('colours only when asked', () => {
    const report = fixedReport();
    expect(renderTerminalSummary(report)).not.toContain('\u001b[');
    const colored = renderTerminalSummary(report, { color: true });
    expect(colored).toContain('\u001b[31m✗');
    expect(stripVTControlCharacters(colored)).toBe(EXPECTED);
  });

  it('says how a partial run ended', () => {
    const report = fixedReport({
      state: 'broken',
      error: { code: 'RUN_BROKEN', message: 'cleanup left 1 pods' },
      warnings: ['could not pull image "x"'],
    });
    const text = renderTerminalSummary(report);
    expect(text.split('\n')[0]).toBe(
      'churn · demo · run a1b2c3 · broken (partial) in 10.2s (recorded 10.0s)',
    );
    expect(text).toContain('error RUN_BROKEN: cleanup left 1 pods\n');
    expect(text).toContain('warning: could not pull image "x"\n');
  });
});

describe('formatting', () => {
  it.each([
    [0.0123, '12.3µs'],
    [0.85, '850µs'],
    [1.234, '1.23ms'],
    [12.34, '12.3ms'],
    [123.4, '123ms'],
    [1234, '1.23s'],
    [123_456, '123s'],
    [null, '-'],
  ])('formatMs(%s) = %s', (ms, text) => expect(formatMs(ms)).toBe(text));

  it('formats rates, durations and percentages', () => {
    expect([formatRate(9.96), formatRate(99.94), formatRate(1234.5)]).toEqual([
      '10.0',
      '99.9',
      '1235',
    ]);
    expect([
      formatDuration(850),
      formatDuration(12_345),
      formatDuration(307_000),
      formatDuration(7_380_000),
    ]).toEqual(['850ms', '12.3s', '5m 07s', '2h 03m']);
    expect([formatPercent(0), formatPercent(0.0123), formatPercent(0.5)]).toEqual([
      '0%',
      '1.23%',
      '50.0%',
    ]);
  });
});

describe('store paths', () => {
  it('puts a report under <dir>/<scenario>/<start>_<run-id>.json', () => {
    const report = fixedReport();
    expect(compactIso('2025-01-31T12:03:04.567Z')).toBe('20250131T120304Z');
    expect(reportPath('reports', report)).toBe('reports/demo/20250131T120304Z_a1b2c3.json');
    expect(safeSegment('../etc/passwd')).toBe('__etc_passwd');
    expect(safeSegment('')).toBe('_');
  });
});

const EXPECTED = [
  'churn · demo · run a1b2c3 · completed in 10.2s (recorded 10.0s)',
  'churn-core 0.1.0 · driver builtin',
  '',
  'operation   count  errors  ops/s     p50     p90     p99   p99.9     max',
  'run_pod       105       0   10.5  2.02ms  2.44ms  2.53ms  2.54ms  2.54ms',
  'create        105       0   10.5  1.06ms  1.27ms  1.31ms  1.32ms  1.32ms',
  'start         100       5   10.0  4.55ms  6.65ms  7.10ms  7.15ms  7.15ms',
  'stop          100       0   10.0   351µs   393µs   402µs   403µs   403µs',
  'remove        100       0   10.0   351µs   393µs   402µs   403µs   403µs',
  'stop_pod      100       0   10.0   351µs   393µs   402µs   403µs   403µs',
  'remove_pod    100       0   10.0   351µs   393µs   402µs   403µs   403µs',
  'cycle         100       5   10.0  17.1ms  21.3ms  22.2ms  22.3ms  22.3ms',
  '',
  'errors by code',
  '  start  UNAVAILABLE  5',
  '',
  'scheduling (open loop)',
  '  dropped 3',
  '  scheduler lag  p50 720µs  p99 1.23ms  max 1.24ms',
  '  service time   p50 16.1ms  p99 21.2ms  max 21.3ms',
  '',
  'thresholds',
  '  ✗ p99(start) < 5ms       actual 7.10ms',
  '  ✓ error_rate < 1%        actual 0.68%',
  '  ✓ throughput(cycle) > 5  actual 10.0/s',
  '  ✗ dropped == 0           actual 3',
  '',
].join('\n');
