import { afterEach, describe, expect, it } from 'vitest';
import { OutageTracker } from '../../../src/load/outages.js';
import { runScenario, type RunResult } from '../../../src/load/runner.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import { scenarioSchema, type Scenario } from '../../../src/scenario/schema.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeDriver, type FakeDriverOptions } from '../../support/fake-driver.js';

describe('OutageTracker', () => {
  it('opens at the first unreachable cycle, counts them, closes at the next success', () => {
    const t = new OutageTracker();
    t.reachable(5);
    expect(t.outages()).toEqual([]);
    t.unreachable(10);
    t.unreachable(20);
    expect(t.openForMs(25)).toBe(15);
    expect(t.outages()).toEqual([{ startMs: 10, endMs: null, failedCycles: 2 }]);
    t.reachable(40);
    expect(t.openForMs(50)).toBe(0);
    t.unreachable(60);
    t.reachable(61);
    expect(t.outages()).toEqual([
      { startMs: 10, endMs: 40, failedCycles: 2 },
      { startMs: 60, endMs: 61, failedCycles: 1 },
    ]);
  });
});

const recorders: Recorder[] = [];
afterEach(() => {
  for (const r of recorders.splice(0)) r.release();
});

/** A closed-loop run of `sc` whose runtime is unreachable (run_pod UNAVAILABLE) while `down`. */
function runWithOutage(
  sc: Scenario,
  down: (nowMs: number) => boolean,
): Promise<{ result: RunResult; driver: FakeDriver }> {
  const clock = new FakeClock({ startMs: 0 });
  const recorder = new Recorder({ clock, intervalMs: sc.report.intervalMs });
  recorders.push(recorder);
  const options: Omit<FakeDriverOptions, 'clock'> = {
    latencyMs: { run_pod: 5, create: 5, start: 5, stop: 5, remove: 5, stop_pod: 5, remove_pod: 5 },
    fail: (op) => (op === 'run_pod' && down(clock.now()) ? 'UNAVAILABLE' : undefined),
  };
  const driver = new FakeDriver({ clock, ...options });
  return runScenario({ scenario: sc, driver, recorder, clock, runId: 'r1' }).then((result) => ({
    result,
    driver,
  }));
}

describe('runner: outages', () => {
  it('records an outage from its first failed cycle to the next success, and warns of it', async () => {
    const sc = scenarioSchema.parse({
      name: 't',
      seed: 1,
      load: { phases: [{ duration: '30s', concurrency: 4 }] },
    });
    const { result } = await runWithOutage(sc, (now) => now >= 10_000 && now < 18_000);
    expect(result.state).toBe('completed');
    expect(result.outages).toHaveLength(1);
    const [o] = result.outages;
    expect(o!.startMs).toBeGreaterThanOrEqual(10_000);
    expect(o!.startMs).toBeLessThan(10_100);
    // It ends with the first success after the runtime is back, within one capped backoff.
    expect(o!.endMs).toBeGreaterThanOrEqual(18_000);
    expect(o!.endMs).toBeLessThan(18_000 + 5_000 + 100);
    // Backed off: a few attempts per worker per second, not a hot loop (4 workers, 8 s).
    expect(o!.failedCycles).toBeGreaterThan(4);
    expect(o!.failedCycles).toBeLessThan(4 * 8 * 5);
    expect(result.cycles.failed).toBe(o!.failedCycles);
    expect(result.warnings.join('\n')).toMatch(
      /the runtime was unreachable for \d+(\.\d+)?s from 10(\.\d+)?s into the run, until a cycle succeeded again \(\d+ cycles failed UNAVAILABLE\)/,
    );
  });

  it('stops the run as broken once the runtime stays unreachable longer than maxOutage', async () => {
    const sc = scenarioSchema.parse({
      name: 't',
      seed: 1,
      load: { phases: [{ duration: '1h', concurrency: 2 }] },
      integrity: { maxOutage: '20s' },
    });
    const { result } = await runWithOutage(sc, (now) => now >= 5_000);
    expect(result.state).toBe('broken');
    if (result.state !== 'broken') return;
    expect(result.error.code).toBe('UNAVAILABLE');
    expect(result.error.message).toMatch(
      /the runtime has been unreachable for 2\ds, longer than integrity.maxOutage \(20s; --max-outage\)/,
    );
    // Stopped within a status period of the limit, not at the end of the hour.
    expect(result.durationMs).toBeLessThan(5_000 + 20_000 + 1_000 + 35_000);
    expect(result.outages).toEqual([expect.objectContaining({ endMs: null }) as unknown]);
    expect(result.warnings.join('\n')).toContain('never came back');
  });

  it('goes on through any outage with maxOutage 0', async () => {
    const sc = scenarioSchema.parse({
      name: 't',
      seed: 1,
      load: { phases: [{ duration: '2m', concurrency: 1 }] },
      integrity: { maxOutage: '0s' },
    });
    const { result } = await runWithOutage(sc, (now) => now >= 1_000 && now < 100_000);
    expect(result.state).toBe('completed');
    expect(result.outages).toHaveLength(1);
    expect(result.outages[0]!.endMs).toBeGreaterThanOrEqual(100_000);
  });

  it('is not ended by a cycle that started before it', () => {
    const t = new OutageTracker();
    t.unreachable(1000);
    t.reachable(1500, 900); // in flight since before the outage
    expect(t.openForMs(2000)).toBe(1000);
    t.reachable(2500, 2100);
    expect(t.outages()).toEqual([{ startMs: 1000, endMs: 2500, failedCycles: 1 }]);
  });
});
