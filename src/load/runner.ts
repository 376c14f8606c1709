/**
 * Runs a whole scenario against a driver: connect, shared pods, the phases in order, drain,
 * cleanup, and a result that says how it ended.
 *
 * Stopping. Two signals, as containerd's stress tool has two contexts: `stop` ends scheduling
 * (the caller's signal on Ctrl-C, a failed abortOnFail threshold, the iterations cap, the end
 * of the plan), `cut` aborts the measured calls of cycles still in flight once
 * `load.drainTimeoutMs` has passed after a stop. Cleanup (each cycle's, the shared pods', the
 * final sweep) is given neither and so is never cancelled.
 *
 * Cleanup. At the end the runner lists every pod and container labelled with the run id and
 * removes them (what a cut-off call made after all, or a cycle cleanup that failed), then lists
 * again: anything still there makes the run `broken` (RUN_BROKEN), since it left garbage,
 * unless the scenario judges leftovers by a `leaked_pods` or `leaked_containers` threshold.
 *
 * Leaks. After the sweep the leak audit (leak-audit.ts) lists what the run left in the runtime
 * and on the host, against a baseline taken once the run connected, and every
 * `leaks.checkInterval` during the run; its figures feed the leak thresholds.
 *
 * Recording. Cycles started in a `record: false` phase go to no recorder slot; open-loop
 * cycles also record the scheduler lag and their service time. Recorded time runs from the
 * first recorded phase to the end of the drain, less later warm-up phases. The recorder is the
 * caller's: the runner does not release it.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import { ChurnError, toChurnError } from '../common/errors.js';
import { isAbortError, unboundedController } from '../common/abort.js';
import { heartbeatOf } from '../common/heartbeat.js';
import type { OpName } from '../common/operations.js';
import {
  deriveSeed,
  seededRandom,
  weightedIndex,
  type SeededRandom,
} from '../common/seeded-random.js';
import type { Driver, RuntimeInfo } from '../drivers/driver.js';
import type { OpSink, Recorder, RecorderSnapshot } from '../metrics/recorder.js';
import type { TargetTrend } from '../metrics/trend.js';
import type { Scenario, Workload } from '../scenario/schema.js';
import { formatDurationHuman } from '../scenario/units.js';
import { runClosedPhase, WorkerSlots } from './closed-loop.js';
import {
  checkSteps,
  podName,
  podSpec,
  runCycle,
  runIdLabel,
  workloadOps,
  type CleanupStats,
  type CycleEnv,
  type CycleSinks,
  type CycleWorkload,
  type SharedPod,
} from './cycle.js';
import { liveStage, type LiveStage, type LiveStatus } from './live-status.js';
import { runOpenPhase } from './open-loop.js';
import { Pacer } from './pacer.js';
import { pacerPlanOf, planRun, type RunPlan } from './phases.js';
import {
  evaluateThresholds,
  shouldAbort,
  statsFromSnapshot,
  statsFromWindow,
  type ThresholdResult,
} from './threshold-eval.js';
import { checkpointWarning, runCheckpoints, type CheckpointTally } from './checkpoints.js';
import { OutageTracker, type Outage } from './outages.js';
import { LeakAudit, leakFigures, type LeakAuditResult, type LeakHostProbe } from './leak-audit.js';
import { sweep } from './sweep.js';
import { sleepUntil } from './wait.js';

/** Options of {@link runScenario}. */
export interface RunOptions {
  readonly scenario: Scenario;
  readonly driver: Driver;
  /** Where the run is recorded; attach observers (Prometheus) before calling. */
  readonly recorder: Recorder;
  readonly clock: Clock;
  /** Labels every object the run creates (`churn.run-id`) and names them. */
  readonly runId: string;
  /** Aborts to stop the run (Ctrl-C): stop scheduling, drain, clean up, result `interrupted`. */
  readonly signal?: AbortSignal;
  /**
   * Aborts to cut in-flight cycles off at once instead of waiting for the drain timeout (a
   * second Ctrl-C). Their cleanup, the shared pods' removal and the final sweep still run.
   */
  readonly cutSignal?: AbortSignal;
  /** Called with a live status at most once per `statusIntervalMs`. */
  readonly onStatus?: (status: LiveStatus) => void;
  /** Status period and abortOnFail evaluation period, ms; at least 1000. Default 1000. */
  readonly statusIntervalMs?: number;
  /** Seed of arrivals and workload mix; default the scenario's, else random. */
  readonly seed?: number;
  /** Directory for pods with `logs: true`; default `<tmpdir>/churn-logs/<runId>`. */
  readonly logRoot?: string;
  /**
   * churn's event-loop lag p99 over the run so far, ms, for the `harness_lag_p99` threshold
   * (the resource sampler's); without it that threshold has nothing to measure.
   */
  readonly harnessLagP99Ms?: () => number | undefined;
  /**
   * Wall-clock instant (ms since the epoch) the phases start at, after connecting and
   * pre-pulling: every node of a cluster run starts together (`--start-at`). An instant already
   * past starts at once, with a warning when more than {@link lateStartToleranceMs} late.
   */
  readonly startAtWallMs?: number;
  /**
   * How the leak audit reads the host (/proc); without it only the runtime's objects are
   * audited (processes and mounts are not measured).
   */
  readonly leakHost?: LeakHostProbe;
  /**
   * The runtime daemon's growth from clock time `sinceMs` to now (the resource sampler's
   * series), for the leak audit's target slopes; without it they are not measured.
   */
  readonly targetTrend?: (sinceMs: number) => TargetTrend | undefined;
  /**
   * Checkpoints: every `intervalMs` (0: none) from the end of the set-up until scheduling
   * ends, the run so far goes to `write` (which writes the report, marked a checkpoint). One at
   * a time; a rejection becomes a warning, never a failure of the run; the run's result comes
   * after the last write has settled, so the final report always lands last.
   */
  readonly checkpoint?: {
    readonly intervalMs: number;
    readonly write: (progress: RunCheckpoint) => Promise<void>;
  };
}

/** How late past `startAtWallMs` the phases may begin before the report warns about it, ms. */
export const lateStartToleranceMs = 1000;

/** Cycle counts of a run, all phases (warm-up included). */
export interface RunCycles {
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  /** In flight when the drain timed out, and cut off: neither success nor error. */
  readonly cut: number;
  /** Open-loop arrivals dropped because maxInflight cycles were in flight. */
  readonly dropped: number;
  /** Open-loop arrivals: released (started) and dropped. */
  readonly arrivals: number;
}

/** What the run's cleanup did. */
export interface RunCleanup {
  /** Cleanup calls of cycles (not recorded as operations) and how many failed, by code. */
  readonly calls: number;
  readonly failures: number;
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** Objects found by the final sweep (labelled with the run id) and removed. */
  readonly sweptPods: number;
  readonly sweptContainers: number;
  /** Objects still there after the sweep; more than zero makes the run broken. */
  readonly remainingPods: number;
  readonly remainingContainers: number;
}

/** What every result holds. */
export interface RunResultBase {
  readonly runId: string;
  readonly seed: number;
  /** Wall-clock start and end, ms since the epoch. */
  readonly startWallMs: number;
  readonly endWallMs: number;
  /** From start to end (connect to cleanup), ms. */
  readonly durationMs: number;
  /** When the first phase began, ms since the epoch; undefined when none began. */
  readonly phasesStartWallMs: number | undefined;
  /** What the runtime said about itself; undefined when connecting failed. */
  readonly runtime: RuntimeInfo | undefined;
  readonly plan: RunPlan;
  /** Phases begun (a stopped run began fewer than planned). */
  readonly phasesRun: number;
  readonly cycles: RunCycles;
  readonly cleanup: RunCleanup;
  /** The recorder's final snapshot, with encoded histograms. */
  readonly snapshot: RecorderSnapshot;
  /** Every threshold evaluated over the whole run. */
  readonly thresholds: readonly ThresholdResult[];
  /** Things that did not stop the run but a user should know (e.g. a failed pre-pull). */
  readonly warnings: readonly string[];
  /**
   * When the runtime was unreachable: from the first cycle that failed UNAVAILABLE to the next
   * that succeeded, ms since the run's start (`endMs` null: it never came back).
   */
  readonly outages: readonly RunOutage[];
  /** What the leak audit found after the cleanup; null when the run never connected. */
  readonly leaks: LeakAuditResult | null;
}

/** What the final sweep found, removed and left. */
interface SweepOutcome {
  readonly sweptPods: number;
  readonly sweptContainers: number;
  readonly remainingPods: number;
  readonly remainingContainers: number;
}

/**
 * The run so far, handed to {@link RunOptions.checkpoint}'s `write`: state `running`, which
 * checkpoint it is, and every figure as of now (no sweep yet: its counts are 0).
 */
export type RunCheckpoint = RunResultBase & {
  readonly state: 'running';
  readonly checkpoint: { readonly index: number; readonly intervalMs: number };
};

/** One outage of a run; see {@link RunResultBase.outages}. */
export interface RunOutage {
  readonly startMs: number;
  readonly endMs: number | null;
  readonly failedCycles: number;
}

/**
 * How a run ended: `completed` (the plan or the iterations cap), `interrupted` (the signal),
 * `aborted` (an abortOnFail threshold), `broken` (could not connect or set up, or left objects
 * behind; `error` says which). Every state but completed makes a partial report.
 */
export type RunResult =
  | (RunResultBase & { readonly state: 'completed'; readonly endedBy: 'plan' | 'iterations' })
  | (RunResultBase & { readonly state: 'interrupted' })
  | (RunResultBase & { readonly state: 'aborted'; readonly abortedBy: ThresholdResult })
  | (RunResultBase & { readonly state: 'broken'; readonly error: ChurnError });

/** The state of a {@link RunResult}. */
export type RunState = RunResult['state'];

/**
 * Runs `options.scenario`; see the module comment. Throws (SCENARIO_INVALID) only for a
 * scenario whose steps cannot run, before touching the runtime; everything after is reported
 * in the result.
 */
export async function runScenario(options: RunOptions): Promise<RunResult> {
  for (const workload of options.scenario.workloads) {
    const problem = checkSteps(workload);
    if (problem !== undefined) throw new ChurnError('SCENARIO_INVALID', problem);
  }
  const statusIntervalMs = options.statusIntervalMs ?? 1000;
  if (!(statusIntervalMs >= 1000)) {
    throw new ChurnError(
      'USAGE',
      `statusIntervalMs must be at least 1000, got ${statusIntervalMs}`,
    );
  }
  return new Run(options, statusIntervalMs).execute();
}

const discardSink: OpSink = {
  success: () => undefined,
  failure: () => undefined,
};

interface WorkloadRun {
  readonly cycle: CycleWorkload;
  readonly sinks: CycleSinks;
  readonly discard: CycleSinks;
  /** The same array as `cycle.sharedPods`. */
  readonly sharedPods: SharedPod[];
}

type StopReason = 'plan' | 'signal' | 'threshold' | 'iterations' | 'broken';

class Run {
  readonly #o: RunOptions;
  readonly #clock: Clock;
  readonly #plan: RunPlan;
  readonly #seed: number;
  readonly #statusIntervalMs: number;
  // Every in-flight cycle listens on these two: as many listeners as maxInflight, by design.
  readonly #stop = unboundedController();
  readonly #cut = unboundedController();
  readonly #cleanup: CleanupStats = { calls: 0, failures: 0, failuresByCode: new Map() };
  readonly #env: CycleEnv;
  readonly #workloads: WorkloadRun[];
  readonly #cumulativeWeights: number[];
  readonly #mix: SeededRandom;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #warnings: string[] = [];
  readonly #outages = new OutageTracker();
  readonly #leaks: LeakAudit;
  /** Clock time the first recorded phase started (the end of warm-up). */
  #recordingStartMs: number | undefined;
  #stopReason: StopReason | undefined;
  /** A stop signal came before the drain ended (even after the plan had ended the scheduling). */
  #signalled = false;
  #abortedBy: ThresholdResult | undefined;
  #broken: ChurnError | undefined;
  #started = 0;
  #succeeded = 0;
  #failed = 0;
  #cutCount = 0;
  #dropped = 0;
  #arrivals = 0;
  #phaseIndex = -1;
  #phasesRun = 0;
  #phasesStartMs: number | undefined;
  #stage: LiveStage = 'running';
  #runtime: RuntimeInfo | undefined;

  constructor(options: RunOptions, statusIntervalMs: number) {
    this.#o = options;
    this.#clock = options.clock;
    this.#plan = planRun(options.scenario.load);
    this.#seed = options.seed ?? options.scenario.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.#statusIntervalMs = statusIntervalMs;
    this.#mix = seededRandom(deriveSeed(this.#seed, 0));
    this.#env = {
      driver: options.driver,
      clock: options.clock,
      runId: options.runId,
      scenarioName: options.scenario.name,
      cutSignal: this.#cut.signal,
      cleanup: this.#cleanup,
      logRoot: options.logRoot ?? join(tmpdir(), 'churn-logs', options.runId),
    };
    let total = 0;
    this.#cumulativeWeights = options.scenario.workloads.map((w) => (total += w.weight));
    this.#workloads = options.scenario.workloads.map((workload) => this.#workloadRun(workload));
    this.#leaks = new LeakAudit({
      driver: options.driver,
      runId: options.runId,
      clock: options.clock,
      host: options.leakHost,
      timeoutMs: options.scenario.leaks.timeoutMs,
      targetTrend: options.targetTrend,
    });
  }

  async execute(): Promise<RunResult> {
    const { signal } = this.#o;
    const clock = this.#clock;
    const startWallMs = clock.wallNowMs();
    const startMs = clock.now();
    const onSignal = (): void => {
      this.#signalled = true;
      this.#requestStop('signal');
    };
    signal?.addEventListener('abort', onSignal, { once: true });
    if (signal?.aborted === true) onSignal();
    const onCut = (): void => {
      this.#signalled = true;
      this.#requestStop('signal');
      this.#cutNow('cut off by the caller');
    };
    this.#o.cutSignal?.addEventListener('abort', onCut, { once: true });
    const statusDone = new AbortController();
    let statusLoop: Promise<void> | undefined;
    const checkpointsDone = new AbortController();
    let checkpointLoop: Promise<CheckpointTally> | undefined;
    try {
      if (!this.#stop.signal.aborted) {
        await this.#setUp(signal);
        if (this.#runtime !== undefined) await this.#leaks.begin(this.#runtime);
        await this.#waitForStartAt(signal);
        statusLoop = this.#statusLoop(statusDone.signal, startMs);
        checkpointLoop = this.#checkpoints(checkpointsDone.signal, startWallMs, startMs);
        await this.#runPhases();
        this.#requestStop('plan');
      }
    } catch (err) {
      if (signal?.aborted === true && isAbortError(err)) {
        this.#requestStop('signal');
      } else {
        this.#fail(toChurnError(err, 'RUN_BROKEN'));
      }
    }
    // Scheduling has ended: the final report is near, and replaces any checkpoint.
    checkpointsDone.abort();
    this.#stage = 'draining';
    await this.#drain();
    // A stop signal during the drain still interrupts the run: the user asked it to stop
    // before it had finished, whatever ended the scheduling.
    signal?.removeEventListener('abort', onSignal);
    this.#o.recorder.stopRecording(clock.now());
    this.#o.cutSignal?.removeEventListener('abort', onCut);
    this.#stage = 'cleaning';
    await this.#removeSharedPods();
    const runtime = this.#runtime;
    const swept = runtime === undefined ? undefined : await this.#sweep();
    const leaks =
      runtime === undefined ? null : await this.#leaks.finish(this.#recordingStartMs ?? startMs);
    statusDone.abort();
    await statusLoop;
    const tally = await checkpointLoop;
    const failedCheckpoints = tally === undefined ? undefined : checkpointWarning(tally);
    if (failedCheckpoints !== undefined) this.#warnings.push(failedCheckpoints);
    const endMs = clock.now();
    for (const o of this.#outages.outages()) this.#warnings.push(describeOutage(o, startMs));
    const base = this.#resultBase({
      startWallMs,
      startMs,
      endMs,
      swept,
      leaks,
      warnings: this.#warnings,
    });
    if (this.#broken !== undefined) return { ...base, state: 'broken', error: this.#broken };
    if (this.#abortedBy !== undefined)
      return { ...base, state: 'aborted', abortedBy: this.#abortedBy };
    if (this.#stopReason === 'signal' || this.#signalled) return { ...base, state: 'interrupted' };
    return {
      ...base,
      state: 'completed',
      endedBy: this.#stopReason === 'iterations' ? 'iterations' : 'plan',
    };
  }

  /** What every result (and every checkpoint) holds, as of `endMs`; see {@link RunResultBase}. */
  #resultBase(at: {
    readonly startWallMs: number;
    readonly startMs: number;
    readonly endMs: number;
    readonly swept: SweepOutcome | undefined;
    readonly leaks: LeakAuditResult | null;
    readonly warnings: readonly string[];
  }): RunResultBase {
    const { startWallMs, startMs, endMs, swept, leaks } = at;
    const snapshot = this.#o.recorder.snapshot({ histograms: true, nowMs: endMs });
    const thresholds = evaluateThresholds(
      this.#o.scenario.thresholds,
      statsFromSnapshot(snapshot, {
        arrivals: this.#arrivals,
        dropped: this.#dropped,
        harnessLagP99Ms: this.#o.harnessLagP99Ms?.(),
        leaks: leaks === null ? undefined : leakFigures(leaks),
      }),
    );
    return {
      runId: this.#o.runId,
      seed: this.#seed,
      startWallMs,
      endWallMs: startWallMs + (endMs - startMs),
      durationMs: endMs - startMs,
      phasesStartWallMs:
        this.#phasesStartMs === undefined
          ? undefined
          : startWallMs + (this.#phasesStartMs - startMs),
      runtime: this.#runtime,
      plan: this.#plan,
      phasesRun: this.#phasesRun,
      cycles: {
        started: this.#started,
        succeeded: this.#succeeded,
        failed: this.#failed,
        cut: this.#cutCount,
        dropped: this.#dropped,
        arrivals: this.#arrivals,
      },
      cleanup: {
        calls: this.#cleanup.calls,
        failures: this.#cleanup.failures,
        failuresByCode: Object.fromEntries([...this.#cleanup.failuresByCode].sort()),
        sweptPods: swept?.sweptPods ?? 0,
        sweptContainers: swept?.sweptContainers ?? 0,
        remainingPods: swept?.remainingPods ?? 0,
        remainingContainers: swept?.remainingContainers ?? 0,
      },
      snapshot,
      thresholds,
      warnings: at.warnings,
      outages: this.#outages.outages().map((o) => ({
        startMs: o.startMs - startMs,
        endMs: o.endMs === null ? null : o.endMs - startMs,
        failedCycles: o.failedCycles,
      })),
      leaks,
    };
  }

  /**
   * The checkpoint schedule (checkpoints.ts), when the caller asked for one: each checkpoint is
   * the run so far, state `running`, handed to the caller's `write`.
   */
  #checkpoints(
    done: AbortSignal,
    startWallMs: number,
    startMs: number,
  ): Promise<CheckpointTally> | undefined {
    const checkpoint = this.#o.checkpoint;
    if (checkpoint === undefined || !(checkpoint.intervalMs > 0)) return undefined;
    const { intervalMs, write } = checkpoint;
    return runCheckpoints({
      clock: this.#clock,
      intervalMs,
      done,
      take: (index) => {
        const endMs = this.#clock.now();
        const warnings = [
          ...this.#warnings,
          ...this.#outages.outages().map((o) => describeOutage(o, startMs)),
        ];
        const base = this.#resultBase({
          startWallMs,
          startMs,
          endMs,
          swept: undefined,
          leaks: null,
          warnings,
        });
        return write({ ...base, state: 'running', checkpoint: { index, intervalMs } });
      },
    });
  }

  #workloadRun(workload: Workload): WorkloadRun {
    const sinks: Partial<Record<OpName, OpSink>> = {};
    const discard: Partial<Record<OpName, OpSink>> = {};
    for (const op of workloadOps(workload)) {
      sinks[op] = this.#o.recorder.slot(workload.name, op);
      discard[op] = discardSink;
    }
    const sharedPods: SharedPod[] = [];
    return { cycle: { workload, sharedPods }, sinks, discard, sharedPods };
  }

  /** Connects, pre-pulls images and creates shared pods. Throws what stops the run. */
  async #setUp(signal: AbortSignal | undefined): Promise<void> {
    const { driver } = this.#o;
    try {
      this.#runtime = await driver.connect({ signal });
    } catch (err) {
      if (signal?.aborted === true) throw err;
      throw toChurnError(err, 'RUN_BROKEN').wrap(`cannot connect to the ${driver.kind} runtime`);
    }
    const images = [...new Set(this.#o.scenario.workloads.map((w) => w.image))];
    for (const image of images) {
      try {
        await driver.pullImage(image, { signal });
      } catch (err) {
        if (signal?.aborted === true) throw err;
        this.#warnings.push(
          `could not pull image "${image}" before the run: ${toChurnError(err).message}`,
        );
      }
    }
    for (const wr of this.#workloads) {
      const workload = wr.cycle.workload;
      if (workload.podPerCycle) continue;
      for (let k = 0; k < workload.pods; k++) {
        const spec = podSpec(this.#env, workload, podName(this.#o.runId, workload, k, true));
        const sink = wr.sinks.run_pod!;
        const t0 = this.#clock.now();
        try {
          const id = await driver.runPod(spec, { signal });
          const t1 = this.#clock.now();
          sink.success((t1 - t0) * 1000, t1);
          wr.sharedPods.push({ id, spec });
        } catch (err) {
          if (signal?.aborted === true) throw err;
          const error = toChurnError(err, 'RUN_BROKEN');
          sink.failure(error.code, this.#clock.now());
          throw error.wrap(`workload "${workload.name}": cannot create shared pod ${spec.name}`);
        }
      }
    }
  }

  /** Sleeps until `startAtWallMs` (see {@link RunOptions.startAtWallMs}). */
  async #waitForStartAt(signal: AbortSignal | undefined): Promise<void> {
    const startAt = this.#o.startAtWallMs;
    if (startAt === undefined) return;
    const waitMs = startAt - this.#clock.wallNowMs();
    if (waitMs > 0) {
      await this.#clock.sleep(waitMs, signal);
    } else if (-waitMs > lateStartToleranceMs) {
      this.#warnings.push(
        `the phases began ${Math.round(-waitMs)} ms after the start instant ${new Date(startAt).toISOString()} (connecting and pre-pulling took longer than the time left)`,
      );
    }
  }

  async #runPhases(): Promise<void> {
    const { scenario, recorder } = this.#o;
    const clock = this.#clock;
    const slots = new WorkerSlots();
    this.#phasesStartMs = clock.now();
    let recording = false;
    for (const [index, phase] of scenario.load.phases.entries()) {
      if (this.#stop.signal.aborted) break;
      this.#phaseIndex = index;
      this.#phasesRun++;
      const startMs = clock.now();
      if (phase.kind !== 'pause') {
        recording = phase.record;
        if (recording) this.#recordingStartMs ??= startMs;
        if (recording) recorder.startRecording(startMs);
        else recorder.stopRecording(startMs);
      }
      const record = recording;
      switch (phase.kind) {
        case 'pause':
          await sleepUntil(clock, startMs + phase.durationMs, this.#stop.signal);
          break;
        case 'closed':
          await runClosedPhase({
            phase,
            clock,
            startMs,
            stopSignal: this.#stop.signal,
            slots,
            startCycle: () => this.#launch(undefined, record),
            unreachable: (outcome) => outcome === true,
          });
          break;
        case 'open': {
          await runOpenPhase({
            // Stream 0 is the workload mix; phase i draws its arrivals from stream 1 + i.
            pacer: new Pacer(pacerPlanOf(phase, deriveSeed(this.#seed, 1 + index))),
            clock,
            startMs,
            durationMs: phase.durationMs,
            stopSignal: this.#stop.signal,
            maxInflight: scenario.load.maxInflight,
            inflight: () => this.#inflight.size,
            release: (intendedMs) => {
              const released = this.#launch(intendedMs, record) !== undefined;
              if (released) this.#arrivals++;
              return released;
            },
            drop: () => {
              this.#arrivals++;
              this.#dropped++;
              recorder.recordDropped(clock.now(), record);
            },
          });
          break;
        }
      }
    }
  }

  /**
   * Starts one cycle: closed loop with `intendedMs` undefined (intended = actual start), open
   * loop with the arrival's planned time. Undefined when the iterations cap is reached.
   * Resolves true when the cycle failed because the runtime was unreachable (UNAVAILABLE).
   */
  #launch(intendedMs: number | undefined, record: boolean): Promise<boolean> | undefined {
    const cap = this.#o.scenario.load.iterations;
    if (this.#stop.signal.aborted || (cap !== undefined && this.#started >= cap)) return undefined;
    const seq = this.#started++;
    if (cap !== undefined && this.#started >= cap) this.#requestStop('iterations');
    const clock = this.#clock;
    const recorder = this.#o.recorder;
    const nowMs = clock.now();
    const open = intendedMs !== undefined;
    const intended = intendedMs ?? nowMs;
    if (open && record) recorder.recordLag((nowMs - intended) * 1000, nowMs);
    const wr =
      this.#workloads.length === 1
        ? this.#workloads[0]!
        : this.#workloads[weightedIndex(this.#mix, this.#cumulativeWeights)]!;
    const cycle: Promise<boolean> = runCycle(
      this.#env,
      wr.cycle,
      record ? wr.sinks : wr.discard,
      seq,
      intended,
    )
      .then(
        (outcome) => {
          switch (outcome.state) {
            case 'succeeded':
              this.#succeeded++;
              this.#outages.reachable(clock.now(), outcome.startedMs);
              recorder.cycleFinished(wr.cycle.workload.name, 'success');
              if (open && record) {
                recorder.recordServiceTime((outcome.endedMs - outcome.startedMs) * 1000);
              }
              break;
            case 'failed':
              this.#failed++;
              recorder.cycleFinished(wr.cycle.workload.name, 'error');
              break;
            case 'cut':
              this.#cutCount++;
              break;
          }
          const unreachable = outcome.state === 'failed' && outcome.code === 'UNAVAILABLE';
          if (unreachable) this.#outages.unreachable(clock.now());
          return unreachable;
        },
        (err: unknown) => {
          // runCycle turns runtime failures into data; reaching here is a bug in churn.
          this.#fail(toChurnError(err, 'INTERNAL').wrap(`cycle ${seq}`));
          return false;
        },
      )
      .finally(() => {
        this.#inflight.delete(cycle);
        recorder.setInflight(this.#inflight.size);
      });
    this.#inflight.add(cycle);
    recorder.setInflight(this.#inflight.size);
    return cycle;
  }

  /** Waits for in-flight cycles up to the drain timeout, then cuts them off and waits again. */
  async #drain(): Promise<void> {
    const timeoutMs = this.#o.scenario.load.drainTimeoutMs;
    if (await this.#settleInflight(timeoutMs)) return;
    this.#cutNow('drain timeout: cycle cut off');
    if (!(await this.#settleInflight(timeoutMs))) {
      this.#warnings.push(
        `${this.#inflight.size} cycles still in flight ${timeoutMs} ms after being cut off; cleaning up around them`,
      );
    }
  }

  /** True when no cycle is in flight within `timeoutMs`. */
  async #settleInflight(timeoutMs: number): Promise<boolean> {
    if (this.#inflight.size === 0) return true;
    const clock = this.#clock;
    const timer = new AbortController();
    const deadlineState = { expired: false };
    const deadline = sleepUntil(clock, clock.now() + timeoutMs, timer.signal).then((reached) => {
      deadlineState.expired = reached;
    });
    while (this.#inflight.size > 0 && !deadlineState.expired) {
      await Promise.race([Promise.allSettled([...this.#inflight]), deadline]);
    }
    timer.abort();
    await deadline;
    return this.#inflight.size === 0;
  }

  async #removeSharedPods(): Promise<void> {
    const { driver } = this.#o;
    for (const wr of this.#workloads) {
      for (const pod of wr.sharedPods) {
        await this.#recordOnce(wr.sinks.stop_pod!, () => driver.stopPod(pod.id));
        await this.#recordOnce(wr.sinks.remove_pod!, () => driver.removePod(pod.id));
      }
      wr.sharedPods.length = 0;
    }
  }

  async #recordOnce(sink: OpSink, fn: () => Promise<unknown>): Promise<void> {
    const clock = this.#clock;
    const t0 = clock.now();
    try {
      await fn();
      const t1 = clock.now();
      sink.success((t1 - t0) * 1000, t1);
    } catch (err) {
      sink.failure(toChurnError(err).code, clock.now());
    }
  }

  /** Removes everything labelled with the run id, then checks nothing is left. */
  async #sweep(): Promise<SweepOutcome> {
    const { driver, runId } = this.#o;
    try {
      const { sweptPods, sweptContainers, remainingPods, remainingContainers } = await sweep(
        driver,
        { runId },
      );
      if (remainingContainers + remainingPods > 0) {
        const left = `cleanup left ${remainingPods} pods and ${remainingContainers} containers labelled ${runIdLabel}=${runId}; remove them with churn cleanup --run-id ${runId}`;
        // A scenario that gates on leaked objects judges them by its thresholds (exit 1): what
        // the runtime would not remove is its finding, not the run breaking.
        if (this.#o.scenario.thresholds.some((t) => judgesLeftovers.has(t.expr.metric))) {
          this.#warnings.push(left);
        } else {
          this.#fail(new ChurnError('RUN_BROKEN', left));
        }
      }
      return { sweptPods, sweptContainers, remainingPods, remainingContainers };
    } catch (err) {
      this.#fail(
        toChurnError(err, 'RUN_BROKEN').wrap(
          `cannot list what the run left (${runIdLabel}=${runId}); remove it with churn cleanup --run-id ${runId}`,
        ),
      );
      return { sweptPods: 0, sweptContainers: 0, remainingPods: 0, remainingContainers: 0 };
    }
  }

  async #statusLoop(done: AbortSignal, runStartMs: number): Promise<void> {
    const { onStatus, scenario, recorder } = this.#o;
    const clock = this.#clock;
    const abortSpecs = scenario.thresholds.filter((t) => t.abortOnFail);
    const leakCheckMs = scenario.leaks.checkIntervalMs;
    let nextLeakCheckMs = clock.now() + leakCheckMs;
    let lastMs = clock.now();
    let lastFinished = 0;
    let statusFailed = false;
    // On the clock's shared heartbeat: one wakeup a second with the sampler and the idle probe.
    const heartbeat = heartbeatOf(clock, this.#statusIntervalMs);
    while (await heartbeat.next(done).then(beats, aborted)) {
      const nowMs = clock.now();
      recorder.tick(nowMs);
      this.#checkOutage(nowMs);
      if (leakCheckMs > 0 && nowMs >= nextLeakCheckMs && this.#stage === 'running') {
        nextLeakCheckMs = nowMs + leakCheckMs;
        this.#leaks.check(nowMs - runStartMs);
      }
      if (
        abortSpecs.length > 0 &&
        !this.#stop.signal.aborted &&
        this.#phasesStartMs !== undefined
      ) {
        const hit = shouldAbort(abortSpecs, nowMs - this.#phasesStartMs, (windowMs) =>
          statsFromWindow(recorder.window(windowMs, nowMs)),
        );
        if (hit !== undefined) {
          this.#abortedBy = hit;
          this.#requestStop('threshold');
        }
      }
      if (onStatus !== undefined) {
        const finished = this.#succeeded + this.#failed;
        const spanMs = nowMs - lastMs;
        try {
          onStatus(
            this.#status(nowMs, spanMs > 0 ? ((finished - lastFinished) * 1000) / spanMs : 0),
          );
        } catch (err) {
          // A broken status line must not break the run; say so once.
          if (!statusFailed)
            this.#warnings.push(`live status failed: ${toChurnError(err).message}`);
          statusFailed = true;
        }
        lastMs = nowMs;
        lastFinished = finished;
      }
    }
  }

  #status(nowMs: number, cyclesPerSec: number): LiveStatus {
    const planned = this.#plan.phases[this.#phaseIndex];
    const cycleP99Us = this.#o.recorder.lastInterval()?.ops.cycle?.latencyUs?.p99;
    const elapsedMs = this.#phasesStartMs === undefined ? 0 : nowMs - this.#phasesStartMs;
    return {
      stage: liveStage({
        stage: this.#stage,
        stopRequested: this.#stop.signal.aborted,
        elapsedMs,
        totalMs: this.#plan.totalMs,
        inflight: this.#inflight.size,
      }),
      phase:
        planned === undefined
          ? undefined
          : {
              index: planned.index,
              count: this.#plan.phases.length,
              name: planned.name,
              kind: planned.kind,
              record: planned.record,
            },
      elapsedMs,
      totalMs: this.#plan.totalMs,
      cyclesPerSec,
      cycleP99Ms: cycleP99Us === undefined ? undefined : cycleP99Us / 1000,
      cycles: { started: this.#started, succeeded: this.#succeeded, failed: this.#failed },
      errors: this.#failed,
      inflight: this.#inflight.size,
      openLoop: this.#plan.phases.some((p) => p.kind === 'open'),
      dropped: this.#dropped,
      unreachableForMs: this.#outages.openForMs(nowMs),
    };
  }

  #cutNow(why: string): void {
    if (!this.#cut.signal.aborted) this.#cut.abort(new ChurnError('CANCELLED', why));
  }

  #requestStop(reason: StopReason): void {
    this.#stopReason ??= reason;
    if (!this.#stop.signal.aborted)
      this.#stop.abort(new ChurnError('CANCELLED', `run stopped: ${reason}`));
  }

  /** Stops the run as broken once the runtime has been unreachable longer than allowed. */
  #checkOutage(nowMs: number): void {
    const limitMs = this.#o.scenario.integrity.maxOutageMs;
    const downMs = this.#outages.openForMs(nowMs);
    if (limitMs === 0 || downMs <= limitMs || this.#stop.signal.aborted) return;
    this.#fail(
      new ChurnError(
        'UNAVAILABLE',
        `the runtime has been unreachable for ${seconds(downMs)}, longer than integrity.maxOutage (${formatDurationHuman(limitMs)}; --max-outage)`,
      ),
    );
  }

  #fail(error: ChurnError): void {
    this.#broken ??= error;
    this.#requestStop('broken');
  }
}

/** Threshold metrics by which a scenario judges the objects its cleanup could not remove. */
const judgesLeftovers: ReadonlySet<string> = new Set(['leaked_pods', 'leaked_containers']);

/** A warning line for one outage, times from the run's start. */
function describeOutage(o: Outage, runStartMs: number): string {
  const from = seconds(o.startMs - runStartMs);
  const failed = `${o.failedCycles.toLocaleString('en-US')} cycles failed UNAVAILABLE`;
  if (o.endMs === null)
    return `the runtime became unreachable ${from} into the run and never came back (${failed})`;
  return `the runtime was unreachable for ${seconds(o.endMs - o.startMs)} from ${from} into the run, until a cycle succeeded again (${failed})`;
}

/** `ms` to a tenth of a second, as people read it: `8.2s`, `1m5s`. */
function seconds(ms: number): string {
  return formatDurationHuman(Math.max(100, Math.round(ms / 100) * 100));
}

function beats(): boolean {
  return true;
}

function aborted(): boolean {
  return false;
}
