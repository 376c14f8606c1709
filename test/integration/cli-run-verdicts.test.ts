// Verdicts of `churn run`, in-process: a stall injected into churn's own thread is read by the
// event-loop probe as the stall it was, marks the run harness-bound and fails it unless the
// scenario allows it; an open-loop run far beyond what the core can do is marked overloaded.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { systemClock } from '../../src/common/clock.js';
import { heartbeatOf } from '../../src/common/heartbeat.js';
import {
  harnessProbe,
  loopProbeIdleAfterMs,
  loopProbeIdleTickMs,
  loopProbeTickMs,
  type HarnessProbe,
} from '../../src/metrics/process-metrics.js';
import { procfs } from '../../src/metrics/procfs.js';
import type { Report } from '../../src/report/schema.js';
import { bufferIo } from '../support/cli-io.js';
import { tempDir } from '../support/core-fixtures.js';

/** The probe's timer period, ms (its fast tick; idle, it reads busy time to within one). */
const tickMs = loopProbeTickMs;
const stallMs = 500;

/** Blocks this thread for `ms`, as a starved harness would be. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

async function run(dir: string, scenario: string, options: { stall?: boolean } = {}) {
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, scenario);
  const io = bufferIo({ cwd: dir });
  if (options.stall === true) {
    // Stalls churn's thread once the run is under way: the first status line comes once the
    // core is up and cycles run (the run's lag counts from the core's connection, and a core
    // started from TypeScript sources can take seconds on a loaded machine).
    const watch = setInterval(() => {
      if (!/ · cycles \d+ ok/.test(io.stderr())) return;
      clearInterval(watch);
      busyWait(stallMs);
    }, 10);
    onTestFinished(() => clearInterval(watch));
  }
  const code = await runCli(['run', file, '--report-dir', 'out'], io.io);
  const path = /^report: (.+)$/m.exec(io.stdout())?.[1];
  expect(path, io.stderr()).toBeDefined();
  const report = JSON.parse(await readFile(path!, 'utf8')) as Report;
  return { code, stderr: io.stderr(), report };
}

/** One cycle every half second or so: little work for the core, a loop that is mostly idle. */
const quiet = (extra = ''): string =>
  [
    'name: stall',
    'workload:',
    '  steps: [run_pod, { sleep: 400ms }, stop_pod, remove_pod]',
    'load:',
    '  phases: [{ duration: 4s, concurrency: 1 }]',
    extra,
  ].join('\n');

/**
 * Busy-waits {@link stallMs}, lets the probe read it (`readWait`: until its next tick) and
 * checks it read what the stall did to a timer due at its start: no more than that plus one
 * fast tick, no less than that minus `belowMs` (the period of the tick the stall delayed).
 */
async function expectProbeReadsStall(
  probe: HarnessProbe,
  readWait: () => Promise<unknown>,
  belowMs: number,
): Promise<void> {
  // What the stall did to a timer due at its start, read independently of the probe: the
  // busy-wait, plus however long a loaded machine then took to run the loop again.
  const dueMs = performance.now();
  const lateness = new Promise<number>((resolve) =>
    setTimeout(() => resolve(performance.now() - dueMs), 0),
  );
  busyWait(stallMs);
  const heldMs = await lateness;
  expect(heldMs).toBeGreaterThanOrEqual(stallMs);
  await readWait();
  const sample = await probe.sample();
  const maxMs = sample.eventLoopLagMaxSeconds * 1000;
  const context = `probe ${maxMs} ms, held ${heldMs} ms`;
  expect(maxMs, context).toBeLessThanOrEqual(heldMs + tickMs);
  expect(maxMs, context).toBeGreaterThanOrEqual(heldMs - belowMs);
  expect(probe.run().lagMaxMs).toBeCloseTo(maxMs, 6);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the event-loop probe', () => {
  it('reads a 500 ms busy-wait as 500 ms ± one tick', async () => {
    const probe = harnessProbe(procfs);
    onTestFinished(() => probe.close());
    await probe.sample();
    await sleep(100);
    // Let the timer run once after the stall, then read the period that held it.
    await expectProbeReadsStall(probe, () => sleep(3 * tickMs), tickMs);
  });

  it('idle, reads a 500 ms busy-wait to within one idle tick', async () => {
    const probe = harnessProbe(procfs);
    onTestFinished(() => probe.close());
    // Idle (no runtime call for a second): the probe ticks on the heartbeat's 250 ms grid.
    await sleep(loopProbeIdleAfterMs + 100);
    await probe.sample();
    // Between two idle ticks, where the tick it delays was due up to one idle tick after it began.
    await heartbeatOf(systemClock).next(undefined, 1000 / loopProbeIdleTickMs);
    await sleep(loopProbeIdleTickMs / 2);
    await expectProbeReadsStall(
      probe,
      () => sleep(loopProbeIdleTickMs + 3 * tickMs),
      loopProbeIdleTickMs,
    );
  });
});

describe('churn run: harness-bound', () => {
  it('marks a run whose thread stalled for 500 ms harness-bound and exits 1, saying why', async () => {
    const dir = await tempDir();
    const { code, stderr, report } = await run(dir, quiet(), { stall: true });
    expect(report.harness).not.toBeNull();
    const harness = report.harness!;
    // The probe cannot read less than the stall, less one tick.
    expect(harness.lagMaxMs).toBeGreaterThanOrEqual(stallMs - tickMs);
    expect(harness.lagBoundMs).toBe(100);
    expect(harness.lagP99Ms).toBeGreaterThan(100);
    expect(harness.stalls.length).toBeGreaterThan(0);
    expect(Math.max(...harness.stalls.map((s) => s.lagMaxMs))).toBeCloseTo(harness.lagMaxMs, 6);
    expect(report.run.marks).toContain('harness-bound');
    expect(
      report.timeline.intervals.some((i) => (i.harness?.loopLagMaxMs ?? 0) >= stallMs - tickMs),
    ).toBe(true);
    expect(code).toBe(1);
    expect(stderr).toMatch(/churn: harness-bound: churn's event loop lagged .* at p99/);
    expect(stderr).toContain('integrity.allow: [harness-bound]');
    // The kernel's run-queue wait of churn's main thread (schedstat) is read and the verdict
    // names the larger cause; which one it is depends on the host's load (unit-tested).
    expect(harness.cpuWaitPct).toBeGreaterThanOrEqual(0);
    expect(harness.cpuWaitPct).toBeLessThanOrEqual(100);
    expect(stderr).toMatch(
      /(churn's own work delayed it more than the host's|the host's other work( \(load [\d.]+\))? delayed it more than churn's own)/,
    );
  });

  it('exits 0 when the scenario allows it, and still marks the run', async () => {
    const dir = await tempDir();
    const { code, stderr, report } = await run(
      dir,
      quiet('integrity:\n  allow: [harness-bound]\n'),
      { stall: true },
    );
    expect(report.harness!.lagMaxMs).toBeGreaterThanOrEqual(stallMs - tickMs);
    expect(report.run.marks).toContain('harness-bound');
    expect(stderr).not.toContain('harness-bound');
    expect(code).toBe(0);
  });
});

describe('churn run: overloaded', () => {
  it('marks an open-loop run that dropped most of its arrivals overloaded and exits 1, saying why', async () => {
    const dir = await tempDir();
    const { code, stderr, report } = await run(
      dir,
      [
        'name: flood',
        // Each cycle holds its slot for at least 100 ms, so two slots take at most 20 of the
        // 200 arrivals a second, on any machine: at least 90% are dropped.
        'workload:',
        '  steps: [run_pod, { sleep: 100ms }, stop_pod, remove_pod]',
        'load:',
        '  phases: [{ duration: 3s, arrivalRate: 200 }]',
        '  maxInflight: 2',
        'integrity:',
        '  allow: [harness-bound]',
        '',
      ].join('\n'),
    );
    expect(report.cycles.arrivals).toBeGreaterThan(0);
    expect(report.cycles.dropped / report.cycles.arrivals!).toBeGreaterThan(0.5);
    expect(report.run.marks).toContain('overloaded');
    expect(code).toBe(1);
    expect(stderr).toMatch(/churn: overloaded: [\d,]+ of [\d,]+ arrivals \(\d+(\.\d+)?%\) dropped/);
    expect(stderr).toContain('this is not a run of its scenario');
  });
});
