/**
 * One cycle of a workload, through the Driver interface: its steps in order, each timed and
 * recorded as its operation, then a cleanup of whatever the cycle created and did not remove.
 *
 * - A step that fails is recorded as an error of its operation (by code, never in a latency
 *   histogram) and cuts the cycle short; the cycle then counts as an error of `cycle` with the
 *   same code. An exec whose exit code is not the expected one fails with
 *   {@link exitCodeMismatch}.
 * - `cycle` latency is recorded only when every step succeeded, from the cycle's intended
 *   start (open loop: its planned arrival; closed loop: its actual start) to the end of its
 *   last step; cleanup is not part of it.
 * - Cleanup runs after the steps whether they succeeded or not, and is never given the cut
 *   signal: a stop (Ctrl-C, drain timeout) interrupts measured calls, never the removal of what
 *   they made (the two-context pattern of containerd's stress tool). Cleanup calls are not
 *   recorded as operations; they are counted in {@link CleanupStats}.
 * - A cycle interrupted by the cut signal is neither a success nor an error: `cut`.
 *
 * Every pod and container is labelled with the run id ({@link runIdLabel}), the scenario and
 * the workload, and named uniquely per cycle, so whatever escapes (a call cut off after the
 * runtime acted) is found and removed by the runner's final sweep.
 */
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import { assert } from '../common/assert.js';
import { toChurnError } from '../common/errors.js';
import type { OpName, RuntimeOp } from '../common/operations.js';
import type { ContainerSpec, Driver, PodSpec } from '../drivers/driver.js';
import type { OpSink } from '../metrics/recorder.js';
import type { Step, Workload } from '../scenario/schema.js';

/** Label every object of a run carries: its run id. */
export const runIdLabel = 'churn.run-id';
/** Label with the scenario name. */
export const scenarioLabel = 'churn.scenario';
/** Label with the workload name. */
export const workloadLabel = 'churn.workload';
/** Pod namespace of churn's pods. */
export const podNamespace = 'churn';
/** Error code of an exec whose exit code differs from the expected one. */
export const exitCodeMismatch = 'EXIT_CODE_MISMATCH';

/** Sinks of a workload's operations, `cycle` included; see {@link workloadOps}. */
export type CycleSinks = Readonly<Partial<Record<OpName, OpSink>>>;

/** Counters of cleanup calls (not recorded as operations). */
export interface CleanupStats {
  calls: number;
  failures: number;
  readonly failuresByCode: Map<string, number>;
}

/** A long-lived pod shared by cycles of a workload with podPerCycle: false. */
export interface SharedPod {
  readonly id: string;
  readonly spec: PodSpec;
}

/** What every cycle of a run shares. */
export interface CycleEnv {
  readonly driver: Driver;
  readonly clock: Clock;
  readonly runId: string;
  readonly scenarioName: string;
  /**
   * Aborts the measured calls of cycles still in flight when the drain times out. Cleanup is
   * never given it.
   */
  readonly cutSignal: AbortSignal;
  readonly cleanup: CleanupStats;
  /** Directory under which pods with `logs: true` get their log directory. */
  readonly logRoot: string;
}

/** A workload as cycles run it. */
export interface CycleWorkload {
  readonly workload: Workload;
  /** Shared pods (podPerCycle: false), used round-robin by cycle number. */
  readonly sharedPods: readonly SharedPod[];
}

/** How a cycle ended. Times are the clock's, ms. */
export type CycleOutcome =
  | { readonly state: 'succeeded'; readonly startedMs: number; readonly endedMs: number }
  | {
      readonly state: 'failed';
      readonly op: OpName;
      readonly code: string;
      readonly startedMs: number;
      readonly endedMs: number;
    }
  | { readonly state: 'cut'; readonly startedMs: number; readonly endedMs: number };

/** Operations a workload's cycles record, in step order, then `cycle`. */
export function workloadOps(workload: Workload): OpName[] {
  const ops: OpName[] = [];
  const add = (op: OpName): void => {
    if (!ops.includes(op)) ops.push(op);
  };
  if (!workload.podPerCycle) add('run_pod');
  for (const step of workload.steps) if (step.kind !== 'sleep') add(step.op);
  if (!workload.podPerCycle) {
    add('stop_pod');
    add('remove_pod');
  }
  add('cycle');
  return ops;
}

/**
 * Checks that a workload's steps can run in order (a pod before containers, a container
 * before start, …): the few rules the cycle relies on. Scenario loading checks the full CRI
 * semantics (scenario/schema.ts); this is the runner's safety net for scenarios built in code.
 * Returns what is wrong, or undefined.
 */
export function checkSteps(workload: Workload): string | undefined {
  let pod: 'none' | 'live' | 'stopped' | 'removed' | 'shared' = workload.podPerCycle
    ? 'none'
    : 'shared';
  let containers = false;
  for (const [i, step] of workload.steps.entries()) {
    if (step.kind === 'sleep') continue;
    const where = `workload "${workload.name}": step ${i + 1} (${step.op})`;
    switch (step.op) {
      case 'run_pod':
        if (pod === 'shared')
          return `${where}: the workload's pods are shared (podPerCycle: false)`;
        if (pod === 'live' || pod === 'stopped') {
          return `${where}: the cycle already has a pod, remove_pod it first`;
        }
        pod = 'live';
        break;
      case 'stop_pod':
      case 'remove_pod':
        if (pod === 'shared')
          return `${where}: the workload's pods are shared (podPerCycle: false)`;
        if (pod === 'none') return `${where}: needs a pod, put run_pod before it`;
        if (pod === 'removed') return `${where}: the pod is already removed`;
        if (step.op === 'remove_pod') {
          pod = 'removed';
          containers = false;
        } else {
          pod = 'stopped';
        }
        break;
      case 'create':
        if (pod === 'none') return `${where}: needs a pod, put run_pod before it`;
        if (pod === 'removed') return `${where}: the pod is already removed`;
        containers = true;
        break;
      case 'start':
      case 'exec':
      case 'status':
      case 'stop':
      case 'remove':
        if (!containers) return `${where}: needs a container, put create before it`;
        if (step.op === 'remove') containers = false;
        break;
      case 'pull':
      case 'list':
        break;
    }
  }
  return undefined;
}

/** The labels every object of a workload carries. */
export function objectLabels(
  runId: string,
  scenarioName: string,
  workload: Workload,
): Record<string, string> {
  return {
    ...workload.labels,
    [runIdLabel]: runId,
    [scenarioLabel]: scenarioName,
    [workloadLabel]: workload.name,
  };
}

/** The spec of a pod named `name` (unique in the run; see {@link podName}), uid the same. */
export function podSpec(env: CycleEnv, workload: Workload, name: string): PodSpec {
  return {
    name,
    uid: name,
    namespace: podNamespace,
    attempt: 0,
    labels: objectLabels(env.runId, env.scenarioName, workload),
    annotations: workload.annotations,
    hostNetwork: workload.hostNetwork,
    logDirectory: workload.logs ? join(env.logRoot, name) : '',
  };
}

/** Name of the pod of cycle `seq`, or of shared pod `seq`. */
export function podName(runId: string, workload: Workload, seq: number, shared = false): string {
  return `churn-${runId}-${workload.name}-${shared ? 'shared-' : ''}${seq}`;
}

interface PodState {
  readonly id: string;
  readonly spec: PodSpec;
  readonly shared: boolean;
  removed: boolean;
}

interface ContainerState {
  readonly id: string;
  removed: boolean;
}

/**
 * Runs cycle number `seq` of `cw` and cleans up after it. Never rejects for a runtime
 * failure: failures are recorded in `sinks` and returned as the outcome.
 */
export async function runCycle(
  env: CycleEnv,
  cw: CycleWorkload,
  sinks: CycleSinks,
  seq: number,
  intendedStartMs: number,
): Promise<CycleOutcome> {
  const run = new CycleRun(env, cw, sinks, seq);
  const startedMs = env.clock.now();
  for (const step of cw.workload.steps) {
    if (env.cutSignal.aborted) {
      run.cut = true;
      break;
    }
    if (!(await run.step(step))) break;
  }
  const endedMs = env.clock.now();
  const cycleSink = sinks.cycle;
  let outcome: CycleOutcome;
  if (run.cut) {
    outcome = { state: 'cut', startedMs, endedMs };
  } else if (run.failure !== undefined) {
    cycleSink?.failure(run.failure.code, endedMs);
    outcome = { state: 'failed', ...run.failure, startedMs, endedMs };
  } else {
    cycleSink?.success((endedMs - intendedStartMs) * 1000, endedMs);
    outcome = { state: 'succeeded', startedMs, endedMs };
  }
  await run.cleanup();
  return outcome;
}

class CycleRun {
  cut = false;
  failure: { op: OpName; code: string } | undefined;
  readonly #env: CycleEnv;
  readonly #cw: CycleWorkload;
  readonly #sinks: CycleSinks;
  readonly #seq: number;
  readonly #call: { readonly signal: AbortSignal };
  #pod: PodState | undefined;
  readonly #containers: ContainerState[] = [];
  #created = 0;
  #podsCreated = 0;

  constructor(env: CycleEnv, cw: CycleWorkload, sinks: CycleSinks, seq: number) {
    this.#env = env;
    this.#cw = cw;
    this.#sinks = sinks;
    this.#seq = seq;
    this.#call = { signal: env.cutSignal };
    const shared = cw.sharedPods;
    if (!cw.workload.podPerCycle && shared.length > 0) {
      const pod = shared[seq % shared.length]!;
      this.#pod = { id: pod.id, spec: pod.spec, shared: true, removed: false };
    }
  }

  /** Runs one step; false when the cycle must stop (failure or cut). */
  async step(step: Step): Promise<boolean> {
    const { driver } = this.#env;
    const call = this.#call;
    const workload = this.#cw.workload;
    if (step.kind === 'sleep') {
      try {
        await this.#env.clock.sleep(step.durationMs, this.#env.cutSignal);
        return true;
      } catch {
        this.cut = true;
        return false;
      }
    }
    if (step.kind === 'exec') {
      const timeoutSec = Math.ceil(step.timeoutMs / 1000);
      for (const c of this.#live()) {
        const ok = await this.#measure(
          'exec',
          () => driver.exec(c.id, step.command, timeoutSec, call),
          (outcome) => (outcome.exitCode === step.expectExitCode ? undefined : exitCodeMismatch),
        );
        if (!ok) return false;
      }
      return true;
    }
    switch (step.op) {
      case 'pull':
        return this.#measure('pull', () => driver.pullImage(workload.image, call));
      case 'run_pod': {
        const base = podName(this.#env.runId, workload, this.#seq);
        const name = this.#podsCreated === 0 ? base : `${base}-${this.#podsCreated}`;
        this.#podsCreated++;
        const spec = podSpec(this.#env, workload, name);
        return this.#measure('run_pod', async () => {
          const id = await driver.runPod(spec, call);
          this.#pod = { id, spec, shared: false, removed: false };
        });
      }
      case 'create': {
        const pod = this.#pod;
        assert(
          pod !== undefined && !pod.removed,
          'create without a pod (checkSteps lets none through)',
        );
        for (let i = 0; i < workload.containersPerPod; i++) {
          const spec = this.#containerSpec();
          const ok = await this.#measure('create', async () => {
            const id = await driver.createContainer(pod.id, pod.spec, spec, call);
            this.#containers.push({ id, removed: false });
          });
          if (!ok) return false;
        }
        return true;
      }
      case 'start':
        return this.#eachLive('start', (id) => driver.startContainer(id, call));
      case 'status':
        return this.#eachLive('status', (id) => driver.containerStatus(id, call));
      case 'stop': {
        const timeoutSec = Math.ceil(workload.stopTimeoutMs / 1000);
        return this.#eachLive('stop', (id) => driver.stopContainer(id, timeoutSec, call));
      }
      case 'remove':
        for (const c of this.#live()) {
          const ok = await this.#measure('remove', () => driver.removeContainer(c.id, call));
          if (!ok) return false;
          c.removed = true;
        }
        return true;
      case 'list': {
        const pod = this.#pod;
        const filter =
          pod === undefined || pod.removed
            ? { labelSelector: { [runIdLabel]: this.#env.runId } }
            : { podId: pod.id };
        return this.#measure('list', () => driver.listContainers(filter, call));
      }
      case 'stop_pod': {
        const pod = this.#pod;
        assert(pod !== undefined, 'stop_pod without a pod (checkSteps lets none through)');
        return this.#measure('stop_pod', () => driver.stopPod(pod.id, call));
      }
      case 'remove_pod': {
        const pod = this.#pod;
        assert(pod !== undefined, 'remove_pod without a pod (checkSteps lets none through)');
        const ok = await this.#measure('remove_pod', () => driver.removePod(pod.id, call));
        if (ok) {
          pod.removed = true;
          // Removing a pod removes its containers.
          for (const c of this.#containers) c.removed = true;
        }
        return ok;
      }
    }
  }

  /** Removes what the cycle created and did not remove; never cancelled, never recorded. */
  async cleanup(): Promise<void> {
    const { driver } = this.#env;
    const pod = this.#pod;
    if (pod !== undefined && !pod.shared && !pod.removed) {
      // Stopping a pod stops its containers; removing it removes them.
      await this.#cleanupCall(() => driver.stopPod(pod.id));
      await this.#cleanupCall(() => driver.removePod(pod.id));
      return;
    }
    for (const c of this.#live()) {
      await this.#cleanupCall(() => driver.stopContainer(c.id, 0));
      await this.#cleanupCall(() => driver.removeContainer(c.id));
    }
  }

  #live(): ContainerState[] {
    return this.#containers.filter((c) => !c.removed);
  }

  async #eachLive(op: RuntimeOp, fn: (id: string) => Promise<unknown>): Promise<boolean> {
    for (const c of this.#live()) {
      if (!(await this.#measure(op, () => fn(c.id)))) return false;
    }
    return true;
  }

  #containerSpec(): ContainerSpec {
    const workload = this.#cw.workload;
    const name = `${workload.name}-${this.#seq}-c${this.#created++}`;
    return {
      name,
      attempt: 0,
      image: workload.image,
      command: workload.command,
      args: workload.args,
      workingDir: workload.workingDir,
      env: workload.env,
      labels: objectLabels(this.#env.runId, this.#env.scenarioName, workload),
      annotations: workload.annotations,
      logPath: workload.logs ? `${name}.log` : '',
    };
  }

  /**
   * Times `fn` and records it under `op`: a success with its latency, or a failure with its
   * code (also when `check` returns one). Returns whether the cycle may go on.
   */
  async #measure<T>(
    op: RuntimeOp,
    fn: () => Promise<T>,
    check?: (result: T) => string | undefined,
  ): Promise<boolean> {
    const { clock, cutSignal } = this.#env;
    const sink = this.#sinks[op];
    assert(sink !== undefined, `no recorder slot for ${op}`);
    const t0 = clock.now();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      if (cutSignal.aborted) {
        this.cut = true;
        return false;
      }
      const code = toChurnError(err).code;
      sink.failure(code, clock.now());
      this.failure = { op, code };
      return false;
    }
    const t1 = clock.now();
    const code = check?.(result);
    if (code !== undefined) {
      sink.failure(code, t1);
      this.failure = { op, code };
      return false;
    }
    sink.success((t1 - t0) * 1000, t1);
    return true;
  }

  async #cleanupCall(fn: () => Promise<unknown>): Promise<void> {
    const stats = this.#env.cleanup;
    stats.calls++;
    try {
      await fn();
    } catch (err) {
      const code = toChurnError(err).code;
      stats.failures++;
      stats.failuresByCode.set(code, (stats.failuresByCode.get(code) ?? 0) + 1);
    }
  }
}
