/**
 * The harness's own costs, measured in one run so the figures compare:
 * - the recorder's cost per recorded operation (success and failure), next to an empty
 *   `await` and to the HDR histogram options hdr.ts chose between;
 * - the open-loop scheduler's accuracy at 2 000 cycles/s against a runtime that answers at
 *   once (achieved rate over the time the releases took, scheduler lag percentiles, drops);
 * - the closed loop's ceiling against the same runtime (cycles/s the harness alone sustains);
 * - the fixed CPU of an idle run: a 20 s pause phase on `churn run`'s metrics path (RunMetrics
 *   with default flags: the sampler and its event-loop probe; the runner's status ticks)
 *   against the same runtime, CPU of this process from 8 s into the pause to its end, in ms
 *   per second (issue 13's goal: ≤ 1). 8 s lets V8's one-off memory-reducer collections after
 *   start-up pass; docs/performance.md says what the rest is.
 */
import { Bench } from 'tinybench';
import { build, initWebAssemblySync } from 'hdr-histogram-js';
import { systemClock } from '../src/common/clock.js';
import type {
  ContainerInfo,
  Driver,
  ExecOutcome,
  PodInfo,
  RuntimeInfo,
} from '../src/drivers/driver.js';
import type { CliIo } from '../src/cli/io.js';
import { metricsFlagsFromArgs, RunMetrics } from '../src/cli/metrics-session.js';
import { runScenario } from '../src/load/runner.js';
import { highestTrackableUs } from '../src/metrics/hdr.js';
import { Recorder } from '../src/metrics/recorder.js';
import { scenarioSchema } from '../src/scenario/schema.js';
import type { BenchContext, BenchRecord } from './bench-types.js';

/** Operations per tinybench iteration: one sample times a batch, so timer overhead vanishes. */
const batch = 1000;

/** A runtime that does nothing and answers at once: what remains is the harness. */
export class NoopDriver implements Driver {
  readonly kind = 'builtin' as const;
  #next = 0;
  /** Clock times of the first and the last RunPodSandbox: a cycle's first step, its release. */
  firstRunPodMs: number | undefined;
  lastRunPodMs: number | undefined;
  connect(): Promise<RuntimeInfo> {
    return Promise.resolve({
      runtimeName: 'noop',
      runtimeVersion: '0',
      runtimeApiVersion: 'v1',
      runtimeHandler: '',
    });
  }
  pullImage(image: string): Promise<string> {
    return Promise.resolve(image);
  }
  runPod(): Promise<string> {
    const nowMs = systemClock.now();
    this.firstRunPodMs ??= nowMs;
    this.lastRunPodMs = nowMs;
    return Promise.resolve(`p${this.#next++}`);
  }
  stopPod(): Promise<void> {
    return Promise.resolve();
  }
  removePod(): Promise<void> {
    return Promise.resolve();
  }
  createContainer(): Promise<string> {
    return Promise.resolve(`c${this.#next++}`);
  }
  startContainer(): Promise<void> {
    return Promise.resolve();
  }
  stopContainer(): Promise<void> {
    return Promise.resolve();
  }
  removeContainer(): Promise<void> {
    return Promise.resolve();
  }
  containerStatus(id: string): Promise<ContainerInfo> {
    return Promise.resolve({ id, podId: '', name: '', state: 'RUNNING', labels: {}, exitCode: 0 });
  }
  listContainers(): Promise<ContainerInfo[]> {
    return Promise.resolve([]);
  }
  listPods(): Promise<PodInfo[]> {
    return Promise.resolve([]);
  }
  exec(): Promise<ExecOutcome> {
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function perOpNs(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const result = task?.result;
  if (result === undefined || !('latency' in result))
    throw new Error(`bench task ${name} did not complete`);
  return (result.latency.mean * 1e6) / batch;
}

async function recorderCost(ctx: BenchContext): Promise<BenchRecord[]> {
  const recorder = new Recorder({ clock: systemClock });
  const slot = recorder.slot('bench', 'start');
  const failing = recorder.slot('bench', 'stop');
  const values = new Float64Array(4096);
  for (let i = 0; i < values.length; i++) values[i] = 200 + Math.exp((i % 97) / 8) * 50;
  initWebAssemblySync();
  const hdrOptions = [
    { name: 'hdr recordValue: wasm 32-bit (chosen)', wasm: true, bits: 32 as const },
    { name: 'hdr recordValue: js Int32', wasm: false, bits: 32 as const },
    { name: 'hdr recordValue: js Float64', wasm: false, bits: 64 as const },
    { name: 'hdr recordValue: js packed', wasm: false, bits: 'packed' as const },
  ].map((o) => ({
    ...o,
    histogram: build({
      bitBucketSize: o.bits,
      useWebAssembly: o.wasm,
      autoResize: false,
      highestTrackableValue: highestTrackableUs,
    }),
  }));

  const timeMs = Math.max(200, ctx.durationMs / 8);
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
  let nowMs = systemClock.now();
  bench.add('recorder success', () => {
    nowMs = systemClock.now();
    for (let i = 0; i < batch; i++) slot.success(values[i & 4095]!, nowMs);
  });
  bench.add('recorder failure', () => {
    nowMs = systemClock.now();
    for (let i = 0; i < batch; i++) failing.failure('UNAVAILABLE', nowMs);
  });
  const resolved = Promise.resolve();
  bench.add('empty await', async () => {
    for (let i = 0; i < batch; i++) await resolved;
  });
  for (const o of hdrOptions) {
    const h = o.histogram;
    bench.add(o.name, () => {
      for (let i = 0; i < batch; i++) h.recordValue(Math.round(values[i & 4095]!));
    });
  }
  ctx.log('recorder: measuring per-op cost');
  await bench.run();
  const records: BenchRecord[] = [
    {
      name: 'recorder: cost per recorded success',
      value: perOpNs(bench, 'recorder success'),
      unit: 'ns/op',
    },
    {
      name: 'recorder: cost per recorded failure',
      value: perOpNs(bench, 'recorder failure'),
      unit: 'ns/op',
    },
    {
      name: 'empty await (same run, for scale)',
      value: perOpNs(bench, 'empty await'),
      unit: 'ns/op',
    },
    ...hdrOptions.map((o) => ({ name: o.name, value: perOpNs(bench, o.name), unit: 'ns/op' })),
  ];
  for (const o of hdrOptions) o.histogram.destroy();
  recorder.release();
  return records;
}

async function openLoopAccuracy(ctx: BenchContext): Promise<BenchRecord[]> {
  const durationMs = Math.max(5000, ctx.durationMs);
  const ratePerSec = 2000;
  const scenario = scenarioSchema.parse({
    name: 'bench-open-loop',
    seed: 1,
    load: {
      phases: [{ duration: `${durationMs}ms`, arrivalRate: ratePerSec }],
      drainTimeout: '5s',
    },
  });
  const recorder = new Recorder({ clock: systemClock });
  ctx.log(`open loop: ${ratePerSec}/s for ${durationMs} ms against a no-op driver`);
  const driver = new NoopDriver();
  const result = await runScenario({
    scenario,
    driver,
    recorder,
    clock: systemClock,
    runId: 'bench',
  });
  recorder.release();
  const lag = result.snapshot.scheduling.lag.latencyUs;
  const cycle = result.snapshot.overall.cycle?.latencyUs;
  const planned = (ratePerSec * durationMs) / 1000;
  // The loop releases every planned arrival, late ones included, so dividing the count by the
  // planned duration always gives the planned rate. Over the time the releases actually took
  // (first to last; n arrivals span n − 1 gaps), a scheduler that falls behind shows.
  const releaseSpanMs = (driver.lastRunPodMs ?? NaN) - (driver.firstRunPodMs ?? NaN);
  const detail = {
    state: result.state,
    planned,
    started: result.cycles.started,
    dropped: result.cycles.dropped,
    releaseSpanMs: Math.round(releaseSpanMs),
    plannedSpanMs: durationMs - 1000 / ratePerSec,
  };
  return [
    {
      name: 'open loop 2000/s: achieved rate',
      value: (result.cycles.started - 1) / (releaseSpanMs / 1000),
      unit: 'cycles/s',
      ...detail,
    },
    {
      name: 'open loop 2000/s: completed cycles',
      value: result.cycles.succeeded,
      unit: 'cycles',
      ...detail,
    },
    { name: 'open loop 2000/s: dropped arrivals', value: result.cycles.dropped, unit: 'arrivals' },
    { name: 'open loop 2000/s: scheduler lag p50', value: (lag?.p50 ?? NaN) / 1000, unit: 'ms' },
    { name: 'open loop 2000/s: scheduler lag p99', value: (lag?.p99 ?? NaN) / 1000, unit: 'ms' },
    { name: 'open loop 2000/s: scheduler lag p99.9', value: (lag?.p999 ?? NaN) / 1000, unit: 'ms' },
    { name: 'open loop 2000/s: scheduler lag max', value: (lag?.max ?? NaN) / 1000, unit: 'ms' },
    {
      name: 'open loop 2000/s: cycle latency p99 (from intended start)',
      value: (cycle?.p99 ?? NaN) / 1000,
      unit: 'ms',
    },
  ];
}

async function closedLoopCeiling(ctx: BenchContext): Promise<BenchRecord[]> {
  const durationMs = Math.max(2000, ctx.durationMs / 2);
  const scenario = scenarioSchema.parse({
    name: 'bench-closed-loop',
    seed: 1,
    load: { phases: [{ duration: `${durationMs}ms`, concurrency: 4 }] },
  });
  const recorder = new Recorder({ clock: systemClock });
  ctx.log(`closed loop: 4 workers for ${durationMs} ms against a no-op driver`);
  const result = await runScenario({
    scenario,
    driver: new NoopDriver(),
    recorder,
    clock: systemClock,
    runId: 'bench',
  });
  recorder.release();
  return [
    {
      name: 'closed loop ceiling (4 workers, no-op driver, 7-step cycle)',
      value: result.cycles.succeeded / (durationMs / 1000),
      unit: 'cycles/s',
      state: result.state,
    },
  ];
}

const silentIo: CliIo = {
  stdout: { write: () => undefined, isTTY: false },
  stderr: { write: () => undefined, isTTY: false },
  env: {},
  cwd: process.cwd(),
  onStopSignal: () => () => undefined,
};

async function idleFixedCost(ctx: BenchContext): Promise<BenchRecord[]> {
  const pauseMs = 20_000;
  const fromMs = 8000;
  const scenario = scenarioSchema.parse({
    name: 'bench-idle',
    seed: 1,
    load: { phases: [{ pause: `${pauseMs}ms` }, { duration: '1ms', concurrency: 1 }] },
  });
  ctx.log(`idle run: a ${pauseMs} ms pause with RunMetrics' sampler and probe, no-op driver`);
  const metrics = await RunMetrics.start(metricsFlagsFromArgs({}), {
    scenario: scenario.name,
    driver: 'builtin',
    runId: 'bench-idle',
    churnVersion: 'bench',
    clock: systemClock,
    io: silentIo,
    verbose: false,
  });
  const ticks: { atMs: number; cpuUs: number }[] = [];
  try {
    const recorder = new Recorder({ clock: systemClock, observers: metrics.observers });
    await runScenario({
      scenario,
      driver: metrics.observe(new NoopDriver()),
      recorder,
      clock: systemClock,
      runId: 'bench-idle',
      onStatus: (status) => {
        const cpu = process.cpuUsage();
        ticks.push({ atMs: status.elapsedMs, cpuUs: cpu.user + cpu.system });
      },
    });
    await metrics.finish();
    recorder.release();
  } finally {
    await metrics.close();
  }
  const first = ticks.find((t) => t.atMs >= fromMs);
  const last = ticks.filter((t) => t.atMs <= pauseMs).pop();
  const value =
    first === undefined || last === undefined || last.atMs <= first.atMs
      ? Number.NaN
      : (last.cpuUs - first.cpuUs) / 1000 / ((last.atMs - first.atMs) / 1000);
  return [
    {
      name: 'idle run fixed CPU (pause phase: sampler, loop probe, status ticks)',
      value,
      unit: 'ms/s',
      spanMs: first === undefined || last === undefined ? 0 : Math.round(last.atMs - first.atMs),
      goal: { atMost: 1, why: 'an idle run costs at most 1 ms of CPU a second (issue 13)' },
    },
  ];
}

/** The harness benchmarks; see the module comment. */
export default async function harnessBench(ctx: BenchContext): Promise<BenchRecord[]> {
  return [
    ...(await recorderCost(ctx)),
    ...(await openLoopAccuracy(ctx)),
    ...(await closedLoopCeiling(ctx)),
    ...(await idleFixedCost(ctx)),
  ];
}
