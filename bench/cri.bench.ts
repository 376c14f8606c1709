/**
 * The price of CRI, measured in one run on the same cycle (run_pod, create, start, stop 0s,
 * remove, stop_pod, remove_pod; one `sleep 3600` container per pod) at the same concurrency:
 *
 *   1. the core behind the builtin driver (its own process, IPC) vs `churn serve` in its own process over CRI
 *      (cri driver), executor `process`: what gRPC costs;
 *   2. `churn serve --executor runc` vs the private containerd with runc (busybox image);
 *   3. churn's own CPU time per cycle while driving containerd, on churn's REAL run path: the
 *      runner (`runScenario`) with a recorder and the resource sampling every `churn run`
 *      does (RunMetrics without exporter: the sampler reading containerd, its shims and churn
 *      itself every second, and its event-loop probe), at concurrency 1 and 4, for at least
 *      20 s. CPU is process.cpuUsage (user + system) of this process over `runScenario`
 *      (connect to final sweep) per successful cycle, and again over the second half of the
 *      load phase alone, once V8 has optimized the hot code (the figure a long run tends to).
 *      Next to it, clearly named: the driver-only loop (bare driver calls, no runner, recorder
 *      or sampler), and the real path's fixed CPU per second (a pause phase: runner, recorder,
 *      status ticks, sampler and event-loop probe with no cycle), which slow cycles divide by
 *      fewer.
 *
 * For scale: the reference Go stress tool does ~7 cycles/s at concurrency 1 and ~10/s at 2–4
 * against this containerd, spending ~12 ms of its own CPU per cycle.
 *
 * Parts that cannot run here (no root, no containerd, no runc executor) are skipped with a
 * note on stderr, never faked.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriDriver } from '../src/drivers/cri.js';
import type { Driver, PodSpec } from '../src/drivers/driver.js';
import { createDriver } from '../src/drivers/registry.js';
import type { CliIo } from '../src/cli/io.js';
import { metricsFlagsFromArgs, RunMetrics } from '../src/cli/metrics-session.js';
import { systemClock } from '../src/common/clock.js';
import { runScenario, type RunResult } from '../src/load/runner.js';
import { Recorder } from '../src/metrics/recorder.js';
import { scenarioSchema } from '../src/scenario/schema.js';
import {
  busyboxRef,
  containerdPaths,
  runningPid,
  startContainerd,
  stopContainerd,
} from '../scripts/containerd.js';
import { spawnServe, stopServe } from './serve-process.js';
import type { BenchContext, BenchRecord } from './bench-types.js';

const concurrency = 4;

/** What a closed-loop run of cycles measured. */
interface CycleRun {
  readonly cycles: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** This process's CPU time (user + system) during the run, in microseconds. */
  readonly cpuUs: number;
  /** First error seen, for the log. */
  readonly firstError: string | undefined;
}

/** Runs cycles on `driver` with `workers` workers back to back for `durationMs`. */
async function runCycles(
  driver: Driver,
  options: { workers: number; durationMs: number; image: string; tag: string },
): Promise<CycleRun> {
  const runId = `bench-${options.tag}-${process.pid}-${Date.now()}`;
  const labels = { 'churn.bench/run': runId };
  let cycles = 0;
  let errors = 0;
  let firstError: string | undefined;
  let serial = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const name = `${runId}-${serial++}`;
      const pod: PodSpec = {
        name,
        uid: name,
        namespace: 'churn-bench',
        attempt: 0,
        labels,
        annotations: {},
        hostNetwork: true,
        logDirectory: '',
      };
      let podId: string | undefined;
      try {
        podId = await driver.runPod(pod);
        const id = await driver.createContainer(podId, pod, {
          name: 'c',
          attempt: 0,
          image: options.image,
          command: ['sleep', '3600'],
          args: [],
          workingDir: '',
          env: {},
          labels,
          annotations: {},
          logPath: '',
        });
        await driver.startContainer(id);
        await driver.stopContainer(id, 0);
        await driver.removeContainer(id);
        await driver.stopPod(podId);
        await driver.removePod(podId);
        cycles++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        if (podId !== undefined) await driver.removePod(podId).catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  // Whatever a failed cycle left, by label.
  for (const pod of await driver.listPods({ labelSelector: labels }).catch(() => [])) {
    await driver.stopPod(pod.id).catch(() => undefined);
    await driver.removePod(pod.id).catch(() => undefined);
  }
  return { cycles, errors, elapsedMs, cpuUs: cpu.user + cpu.system, firstError };
}

/** A CliIo that discards output and never signals: what RunMetrics needs, nothing more. */
const silentIo: CliIo = {
  stdout: { write: () => undefined, isTTY: false },
  stderr: { write: () => undefined, isTTY: false },
  env: {},
  cwd: process.cwd(),
  onStopSignal: () => () => undefined,
};

/** CPU (µs, since the run started) and cycles succeeded at one status tick. */
interface StatusTick {
  /** Since the first phase began, ms. */
  readonly atMs: number;
  readonly cpuUs: number;
  readonly cycles: number;
}

/**
 * One run on churn's real path, wired as `churn run` wires it (src/cli/run-session.ts):
 * RunMetrics with the default flags (the resource sampler and its event-loop probe on, no
 * exporter), the driver built from the scenario's target and observed by RunMetrics (so
 * connecting makes the daemon the sampler's target), a Recorder, and `runScenario` with a
 * status callback (as the live status line has). CPU is this process's over `runScenario`.
 */
async function runOnRealPath(options: {
  endpoint: string;
  image: string;
  phases: readonly Record<string, unknown>[];
  tag: string;
}): Promise<{
  readonly result: RunResult;
  readonly cpuUs: number;
  readonly totalMs: number;
  readonly ticks: readonly StatusTick[];
  readonly shimsMax: number;
}> {
  const runId = `bench-${options.tag}-${Date.now().toString(36)}`;
  const scenario = scenarioSchema.parse({
    name: 'bench-cri-real-path',
    target: { driver: 'cri', endpoint: options.endpoint, runtimeHandler: 'runc' },
    workload: { image: options.image, command: ['sleep', '3600'], stopTimeout: '0s' },
    load: { phases: options.phases },
  });
  const metrics = await RunMetrics.start(metricsFlagsFromArgs({}), {
    scenario: scenario.name,
    driver: scenario.target.driver,
    runId,
    churnVersion: 'bench',
    clock: systemClock,
    io: silentIo,
    verbose: false,
  });
  try {
    const driver = metrics.observe(
      await createDriver(scenario.target, { faults: scenario.faults }),
    );
    const recorder = new Recorder({
      clock: systemClock,
      intervalMs: scenario.report.intervalMs,
      observers: metrics.observers,
    });
    const ticks: StatusTick[] = [];
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const result = await runScenario({
      scenario,
      driver,
      recorder,
      clock: systemClock,
      runId,
      onStatus: (status) => {
        const cpu = process.cpuUsage(cpuStart);
        ticks.push({
          atMs: status.elapsedMs,
          cpuUs: cpu.user + cpu.system,
          cycles: status.cycles.succeeded,
        });
      },
    });
    const totalMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    await driver.close();
    const measured = await metrics.finish();
    recorder.release();
    return {
      result,
      cpuUs: cpu.user + cpu.system,
      totalMs,
      ticks,
      shimsMax: Math.max(0, ...measured.resources.points.map((p) => p.shims ?? 0)),
    };
  } finally {
    await metrics.close();
  }
}

/** Cycles, CPU (µs) and time (ms) between two status ticks. */
interface TickSpan {
  readonly cycles: number;
  readonly cpuUs: number;
  readonly elapsedMs: number;
}

/** From the first tick at or after `fromMs` to the last tick at or before `toMs`. */
function spanBetween(ticks: readonly StatusTick[], fromMs: number, toMs: number): TickSpan {
  const first = ticks.find((t) => t.atMs >= fromMs);
  const last = ticks.filter((t) => t.atMs <= toMs).pop();
  if (first === undefined || last === undefined || last.atMs <= first.atMs) {
    return { cycles: 0, cpuUs: 0, elapsedMs: 0 };
  }
  return {
    cycles: last.cycles - first.cycles,
    cpuUs: last.cpuUs - first.cpuUs,
    elapsedMs: last.atMs - first.atMs,
  };
}

/** A closed-loop run on the real path: the whole run, and its second half (JIT warm). */
interface RealPathRun extends CycleRun {
  /** Connect to final sweep, ms. */
  readonly totalMs: number;
  /** Most shims the sampler counted at once (they must be seen: the sampler is measured). */
  readonly shimsMax: number;
  /** The second half of the load phase. */
  readonly warm: TickSpan;
}

/**
 * `workers` closed-loop workers for `durationMs` on the real path (see {@link runOnRealPath});
 * `elapsedMs` is the recorded time (the load phase), for the rate.
 */
export async function runRealPath(options: {
  endpoint: string;
  image: string;
  workers: number;
  durationMs: number;
  tag: string;
}): Promise<RealPathRun> {
  const run = await runOnRealPath({
    endpoint: options.endpoint,
    image: options.image,
    phases: [{ duration: `${options.durationMs}ms`, concurrency: options.workers }],
    tag: options.tag,
  });
  const { result } = run;
  const firstError =
    result.state === 'broken'
      ? result.error.message
      : Object.entries(result.snapshot.overall)
          .filter(([, op]) => op.errors > 0)
          .map(([name, op]) => `${name}: ${JSON.stringify(op.errorsByCode)}`)[0];
  return {
    cycles: result.cycles.succeeded,
    errors: result.cycles.failed,
    elapsedMs: result.snapshot.recordedMs,
    totalMs: run.totalMs,
    cpuUs: run.cpuUs,
    firstError,
    shimsMax: run.shimsMax,
    warm: spanBetween(run.ticks, options.durationMs / 2, options.durationMs),
  };
}

/**
 * The fixed part of the real path's CPU: a run whose first phase is a pause of `pauseMs`
 * (the runner, recorder, status ticks, sampler and event-loop probe all running, no cycle),
 * measured from 4 s into the pause (after connect and the sampler's first full scans) to its
 * end, in ms of CPU per second. Slow cycles divide it by fewer.
 */
export async function fixedCpuMsPerSec(
  endpoint: string,
  image: string,
  pauseMs: number,
): Promise<number> {
  const run = await runOnRealPath({
    endpoint,
    image,
    phases: [{ pause: `${pauseMs}ms` }, { duration: '1ms', concurrency: 1 }],
    tag: 'fixed',
  });
  const span = spanBetween(run.ticks, 4000, pauseMs);
  return span.elapsedMs > 0 ? span.cpuUs / 1000 / (span.elapsedMs / 1000) : Number.NaN;
}

function rate(run: CycleRun): number {
  return run.cycles / (run.elapsedMs / 1000);
}

function record(
  name: string,
  run: CycleRun,
  workers: number,
  extra: Record<string, unknown> = {},
): BenchRecord {
  return {
    name,
    value: rate(run),
    unit: 'cycles/s',
    concurrency: workers,
    cycles: run.cycles,
    errors: run.errors,
    ...extra,
  };
}

/** The bench; see the module comment. */
export default async function criBench(ctx: BenchContext): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const durationMs = ctx.durationMs;
  const tmp = await mkdtemp(join(tmpdir(), 'churn-bench-cri-'));
  try {
    // 1. In-process core vs the same core over CRI.
    const builtin = await createDriver({
      driver: 'builtin',
      endpoint: '',
      runtimeHandler: '',
      callTimeout: 60_000,
      executor: 'process',
      stateDir: join(tmp, 'builtin'),
    });
    await builtin.connect();
    await builtin.pullImage('host');
    const inProcess = await runCycles(builtin, {
      workers: concurrency,
      durationMs,
      image: 'host',
      tag: 'builtin',
    });
    await builtin.close();
    ctx.log(
      `builtin (core process, IPC): ${rate(inProcess).toFixed(1)} cycles/s, ${inProcess.errors} errors ${inProcess.firstError ?? ''}`,
    );

    const served = await spawnServe(join(tmp, 'serve-process'), ['--executor', 'process']);
    let overCri: CycleRun;
    try {
      const cri = new CriDriver({
        endpoint: served.endpoint,
        runtimeHandler: '',
        callTimeoutMs: 60_000,
      });
      await cri.connect();
      await cri.pullImage('host');
      overCri = await runCycles(cri, {
        workers: concurrency,
        durationMs,
        image: 'host',
        tag: 'serve',
      });
      await cri.close();
    } finally {
      await stopServe(served.child);
    }
    ctx.log(
      `churn serve over CRI: ${rate(overCri).toFixed(1)} cycles/s, ${overCri.errors} errors ${overCri.firstError ?? ''}`,
    );
    records.push(
      record('core via the builtin driver (IPC, executor process)', inProcess, concurrency),
    );
    records.push(
      record('core over CRI (churn serve + cri driver, executor process)', overCri, concurrency),
    );
    records.push({
      name: 'price of gRPC: over-CRI rate / builtin-driver rate',
      value: rate(overCri) / rate(inProcess),
      unit: 'ratio',
      concurrency,
    });
    records.push({
      name: 'churn client CPU per cycle, cri driver → churn serve',
      value: overCri.cpuUs / 1000 / Math.max(1, overCri.cycles),
      unit: 'ms/cycle',
      concurrency,
    });

    // 2 and 3 need the private containerd (root).
    if (process.getuid?.() !== 0) {
      ctx.log('skipping containerd comparisons: they need root');
      return records;
    }
    const paths = containerdPaths();
    const wasRunning = (await runningPid(paths)) !== undefined;
    try {
      await startContainerd(paths);
    } catch (err) {
      ctx.log(`skipping containerd comparisons: ${(err as Error).message}`);
      return records;
    }
    try {
      const containerd = new CriDriver({
        endpoint: paths.endpoint,
        runtimeHandler: 'runc',
        callTimeoutMs: 60_000,
      });
      const info = await containerd.connect();
      await containerd.pullImage(busyboxRef);
      const pid = info.pid;
      const daemonCpuBefore = pid === undefined ? undefined : await processCpuMs(pid);
      const onContainerd = await runCycles(containerd, {
        workers: concurrency,
        durationMs,
        image: busyboxRef,
        tag: 'containerd',
      });
      const daemonCpuAfter = pid === undefined ? undefined : await processCpuMs(pid);
      ctx.log(
        `containerd runc, driver-only loop: ${rate(onContainerd).toFixed(1)} cycles/s, ${onContainerd.errors} errors ${onContainerd.firstError ?? ''}`,
      );
      const single = await runCycles(containerd, {
        workers: 1,
        durationMs,
        image: busyboxRef,
        tag: 'containerd-1',
      });
      await containerd.close();
      ctx.log(
        `containerd runc, driver-only loop, concurrency 1: ${rate(single).toFixed(1)} cycles/s`,
      );

      records.push(
        record(
          `containerd ${info.runtimeVersion} handler runc (cri driver)`,
          onContainerd,
          concurrency,
        ),
      );
      records.push(
        record(`containerd ${info.runtimeVersion} handler runc (cri driver)`, single, 1),
      );
      if (daemonCpuBefore !== undefined && daemonCpuAfter !== undefined) {
        records.push({
          name: 'containerd daemon CPU per cycle (without shims)',
          value: (daemonCpuAfter - daemonCpuBefore) / Math.max(1, onContainerd.cycles),
          unit: 'ms/cycle',
          concurrency,
        });
      }

      // 3. churn's own CPU per cycle on its real run path, and the driver-only loop beside it.
      // At least 20 s: V8 keeps optimizing churn's and grpc-js's code for the first ten or so
      // seconds at these rates, so a shorter run measures mostly the JIT warming up.
      const realMs = Math.max(durationMs, 20_000);
      for (const workers of [1, concurrency]) {
        const real = await runRealPath({
          endpoint: paths.endpoint,
          image: busyboxRef,
          workers,
          durationMs: realMs,
          tag: `real-${workers}`,
        });
        const perCycleMs = real.cpuUs / 1000 / Math.max(1, real.cycles);
        const warmPerCycleMs = real.warm.cpuUs / 1000 / Math.max(1, real.warm.cycles);
        ctx.log(
          `churn run path → containerd, concurrency ${workers}: ${rate(real).toFixed(1)} cycles/s, ${perCycleMs.toFixed(1)} ms CPU/cycle (second half ${warmPerCycleMs.toFixed(1)}), ${real.errors} errors ${real.firstError ?? ''}`,
        );
        const loop = workers === 1 ? single : onContainerd;
        const details = {
          concurrency: workers,
          durationMs: realMs,
          cycles: real.cycles,
          errors: real.errors,
          cyclesPerSec: Number(rate(real).toFixed(2)),
          shimsMax: real.shimsMax,
          reference: 'Go stress tool: ~12 ms/cycle',
        };
        records.push({
          name: 'churn CPU per cycle → containerd (run path: runner+recorder+sampler)',
          value: perCycleMs,
          unit: 'ms/cycle',
          goal: {
            atMost: 12,
            why: 'the reference Go stress tool spends ~12 ms/cycle; churn should spend less (issue 3)',
          },
          ...details,
        });
        records.push({
          name: 'churn CPU per cycle → containerd (run path, second half: JIT warm)',
          value: warmPerCycleMs,
          unit: 'ms/cycle',
          concurrency: workers,
          cycles: real.warm.cycles,
          cyclesPerSec: Number(
            (real.warm.cycles / Math.max(0.001, real.warm.elapsedMs / 1000)).toFixed(2),
          ),
        });
        records.push({
          name: 'churn run path → containerd: cycles/s',
          value: rate(real),
          unit: 'cycles/s',
          ...details,
        });
        records.push({
          name: 'churn CPU per cycle → containerd (driver-only loop, no runner/recorder/sampler)',
          value: loop.cpuUs / 1000 / Math.max(1, loop.cycles),
          unit: 'ms/cycle',
          concurrency: workers,
          durationMs,
          cycles: loop.cycles,
          cyclesPerSec: Number(rate(loop).toFixed(2)),
        });
      }
      const fixedMs = await fixedCpuMsPerSec(paths.endpoint, busyboxRef, 15_000);
      ctx.log(`churn run path with no cycles (pause phase): ${fixedMs.toFixed(1)} ms CPU/s`);
      records.push({
        name: 'churn run path fixed CPU, no cycles (runner+recorder+sampler idle)',
        value: fixedMs,
        unit: 'ms/s',
      });

      let runcServe: { child: ChildProcess; endpoint: string } | undefined;
      try {
        runcServe = await spawnServe(join(tmp, 'serve-runc'), [
          '--executor',
          'runc',
          '--images',
          paths.images,
        ]);
      } catch (err) {
        ctx.log(
          `skipping churn serve --executor runc: ${(err as Error).message.split('\n')[0] ?? ''}`,
        );
      }
      if (runcServe !== undefined) {
        try {
          const cri = new CriDriver({
            endpoint: runcServe.endpoint,
            runtimeHandler: '',
            callTimeoutMs: 60_000,
          });
          await cri.connect();
          await cri.pullImage(busyboxRef);
          const onRunc = await runCycles(cri, {
            workers: concurrency,
            durationMs,
            image: busyboxRef,
            tag: 'serve-runc',
          });
          await cri.close();
          ctx.log(
            `churn serve runc: ${rate(onRunc).toFixed(1)} cycles/s, ${onRunc.errors} errors ${onRunc.firstError ?? ''}`,
          );
          records.push(record('churn serve --executor runc (cri driver)', onRunc, concurrency));
          records.push({
            name: 'churn serve runc rate / containerd runc rate',
            value: rate(onRunc) / rate(onContainerd),
            unit: 'ratio',
            concurrency,
          });
        } finally {
          await stopServe(runcServe.child);
        }
      }
    } finally {
      if (!wasRunning) await stopContainerd(paths);
    }
    return records;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc. */
async function processCpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock
    // ticks of USER_HZ, which is 100 on Linux.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return undefined;
  }
}
