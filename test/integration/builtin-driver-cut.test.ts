// Cutting calls off on the real builtin driver: a call given a signal fails with CANCELLED as
// soon as the signal aborts, even while the core waits out an injected latency or a stop grace
// period; cleanup (never given the signal) removes what is left; a closing core cuts injected
// latencies instead of waiting for them. Bounds are one-sided and far below the latencies.
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { systemClock } from '../../src/common/clock.js';
import { BuiltinDriver } from '../../src/drivers/builtin.js';
import { runIdLabel } from '../../src/load/cycle.js';
import { runScenario, type RunOptions } from '../../src/load/runner.js';
import { Recorder } from '../../src/metrics/recorder.js';
import type { RuntimeFaults } from '../../src/runtime/faults.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import {
  containerConfig,
  eventually,
  openCore,
  podConfig,
  tempDir,
} from '../support/core-fixtures.js';
import { containerSpec, podSpec, startedContainer } from '../support/driver-specs.js';
import { codeOf } from '../support/error-code.js';

/** Injected start latency and stop grace period: far longer than any test may take. */
const longMs = 300_000;
/** What "at once" must stay under: generous for a loaded machine, far below `longMs`. */
const promptMs = 20_000;

const startLatency: RuntimeFaults = {
  start: { latencyMs: { meanMs: longMs, stddevMs: 0 }, errorRate: 0, code: 'UNAVAILABLE' },
};

const since = (t0: number): number => performance.now() - t0;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connectedDriver(faults: RuntimeFaults = {}): Promise<BuiltinDriver> {
  const driver = new BuiltinDriver({ stateDir: await tempDir(), faults });
  onTestFinished(() => driver.close());
  await driver.connect();
  await driver.pullImage('host');
  return driver;
}

describe('BuiltinDriver: a call cut off by its signal', () => {
  it('fails with CANCELLED during an injected latency; cleanup and close do not wait for it', async () => {
    const driver = await connectedDriver(startLatency);
    const pod = podSpec('cut-start', { labels: { 'churn.test': 'cut-start' } });
    const podId = await driver.runPod(pod);
    const id = await driver.createContainer(podId, pod, containerSpec());

    const cut = new AbortController();
    const t0 = performance.now();
    const starting = codeOf(driver.startContainer(id, { signal: cut.signal }));
    await pause(50);
    cut.abort();
    expect(await starting).toBe('CANCELLED');
    expect(since(t0)).toBeLessThan(promptMs);

    // The core's start is still waiting out its latency; cleanup is not held up by it.
    const t1 = performance.now();
    await driver.stopPod(podId);
    await driver.removePod(podId);
    expect(await driver.listPods({ labelSelector: { 'churn.test': 'cut-start' } })).toEqual([]);
    expect(await driver.listContainers({})).toEqual([]);
    expect(since(t1)).toBeLessThan(promptMs);

    const t2 = performance.now();
    await driver.close();
    expect(since(t2)).toBeLessThan(promptMs);
  });

  it('fails with CANCELLED during a stop grace period, and a later stop kills at once', async () => {
    const driver = await connectedDriver();
    // SIGTERM stays ignored across exec: the task outlives any grace period.
    const { podId, id } = await startedContainer(driver, 'cut-stop', [
      'sh',
      '-c',
      'trap "" TERM; exec sleep 3600',
    ]);
    const { pid } = await driver.core.call('containerStatus', [id]);
    const comm = (): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    expect(await eventually(() => comm() === 'sleep')).toBe(true);

    const cut = new AbortController();
    const t0 = performance.now();
    const stopping = codeOf(driver.stopContainer(id, longMs / 1000, { signal: cut.signal }));
    await pause(50);
    cut.abort();
    expect(await stopping).toBe('CANCELLED');
    expect(since(t0)).toBeLessThan(promptMs);

    const t1 = performance.now();
    await driver.stopPod(podId);
    expect(await driver.containerStatus(id)).toMatchObject({ state: 'EXITED', exitCode: 137 });
    expect(since(t1)).toBeLessThan(promptMs);
    await driver.removePod(podId);
  });
});

describe('core close', () => {
  it('cuts a pending injected latency: the call fails and does not go on', async () => {
    const core = await openCore({ faults: startLatency });
    await core.pullImage('host');
    const podId = await core.runPodSandbox(podConfig(), '');
    const id = await core.createContainer(podId, containerConfig(), podConfig());
    const starting = codeOf(core.startContainer(id));
    await pause(50);

    const t0 = performance.now();
    await core.close();
    expect(await starting).toBe('UNAVAILABLE');
    expect(since(t0)).toBeLessThan(promptMs);
    expect((await core.containerStatus(id)).state).toBe('CREATED');
  });
});

describe('runner over the builtin driver: cycles cut off mid-call', () => {
  const cases = [
    { how: 'by the caller (a second Ctrl-C)', drainTimeout: '10m', by: 'cutSignal' as const },
    { how: 'by the drain timeout', drainTimeout: '500ms', by: 'signal' as const },
  ];

  it.each(cases)(
    'are counted cut, not recorded, and leave nothing behind when cut off $how',
    async ({ drainTimeout, by }) => {
      const driver = await connectedDriver(startLatency);
      const scenario = scenarioSchema.parse({
        name: 'cut',
        seed: 1,
        load: { drainTimeout, phases: [{ duration: '10m', concurrency: 2 }] },
      });
      const recorder = new Recorder({ clock: systemClock, intervalMs: scenario.report.intervalMs });
      onTestFinished(() => recorder.release());
      const runId = `cut${by}`;
      const controller = new AbortController();
      const options: RunOptions = {
        scenario,
        driver,
        recorder,
        clock: systemClock,
        runId,
        logRoot: await tempDir(),
        [by]: controller.signal,
      };
      const running = runScenario(options);

      // Both cycles have created their container, so both are inside their start call.
      const mine = { labelSelector: { [runIdLabel]: runId } };
      expect(
        await eventually(async () => (await driver.listContainers(mine)).length === 2, promptMs),
      ).toBe(true);
      const t0 = performance.now();
      controller.abort();
      const result = await running;
      expect(since(t0)).toBeLessThan(promptMs);

      expect(result.state).toBe('interrupted');
      expect(result.cycles).toEqual({
        started: 2,
        succeeded: 0,
        failed: 0,
        cut: 2,
        dropped: 0,
        arrivals: 0,
      });
      const start = result.snapshot.overall.start;
      expect(start?.count ?? 0).toBe(0);
      expect(start?.errors ?? 0).toBe(0);
      expect(result.warnings.filter((w) => w.includes('still in flight'))).toEqual([]);
      expect(result.cleanup).toMatchObject({
        failures: 0,
        remainingPods: 0,
        remainingContainers: 0,
      });
      expect(await driver.listPods(mine)).toEqual([]);
      expect(await driver.listContainers(mine)).toEqual([]);

      const t1 = performance.now();
      await driver.close();
      expect(since(t1)).toBeLessThan(promptMs);
    },
  );
});
