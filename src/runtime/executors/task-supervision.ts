/**
 * What both executors do to supervise a task's process, as a shim does for containerd: turn
 * an exit into an exit code, send signals that tolerate a process already gone, copy output
 * into the CRI log with a bound on how long it may keep flowing, collect an exec's output
 * under a deadline, wait for a task adopted from an earlier core, and kill what is still
 * running when the executor closes.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { constants } from 'node:os';
import type { Clock } from '../../common/clock.js';
import { wallClockNs } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import { isProcessAlive } from '../proc-info.js';
import type { ExecResult } from '../types.js';
import type { CriLogWriter } from './cri-log-writer.js';
import type { ExitStatus, Task, TaskRef } from './executor.js';

/** How long output may keep flowing after the main process exited (a grandchild holding the pipe). */
const outputDrainMs = 2000;
/** Polling interval for a task of an earlier core, which is not our child. */
const adoptedPollMs = 100;

/** Exit code of a process that exited with `code` or died of `signal` (128 + its number). */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : constants.signals[signal]);
}

/** Sends `signal` to process `pid`, ignoring a process that is gone. */
export function killProcess(pid: number, signal: NodeJS.Signals): void {
  sendSignal(pid, signal);
}

/** Sends `signal` to process group `pgid`, ignoring a group that is gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  sendSignal(-pgid, signal);
}

function sendSignal(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Copies `child`'s stdout and stderr into `logs` (nothing when undefined, the child's output
 * then being ignored). The returned function, called once the child has exited, waits for the
 * copy to end, at most {@link outputDrainMs}, closes the log and stops reading.
 */
export function pipeOutputToLog(
  child: ChildProcess,
  logs: CriLogWriter | undefined,
  clock: Clock,
  output: { stdout: Readable; stderr: Readable } = { stdout: child.stdout!, stderr: child.stderr! },
): () => Promise<void> {
  // Not a closure of this call: it would share the context that keeps `child` alive.
  if (logs === undefined) return nothingToDrain;
  const pumps = [logs.pump(output.stdout, 'stdout'), logs.pump(output.stderr, 'stderr')];
  return async () => {
    const drained = Promise.all(pumps).then(() => logs.close());
    await Promise.race([drained, clock.sleep(outputDrainMs)]);
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
}

const nothingToDrain = (): Promise<void> => Promise.resolve();

/** What {@link awaitExec} needs besides the child. */
export interface ExecWait {
  readonly clock: Clock;
  /** Container the command runs in, for messages. */
  readonly containerId: string;
  /** The command, for messages. */
  readonly argv: readonly string[];
  /** Deadline in milliseconds; none when ≤ 0. */
  readonly timeoutMs: number;
  /** Kills the exec'd process once the deadline has passed. */
  readonly onTimeout: () => void | Promise<void>;
}

/**
 * Collects the output of the exec'd `child` (spawned with piped stdout and stderr) and waits
 * until it closes. Rejects with DEADLINE_EXCEEDED when the deadline passed first (after
 * `onTimeout` killed it), FAILED_PRECONDITION when the child could not run.
 */
export async function awaitExec(child: ChildProcess, wait: ExecWait): Promise<ExecResult> {
  const what = `container "${wait.containerId}": exec ${JSON.stringify(wait.argv[0] ?? '')}`;
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => stdout.push(b));
  child.stderr?.on('data', (b: Buffer) => stderr.push(b));
  const timer = new AbortController();
  // An object, not a boolean: it is set in a callback the compiler cannot see run.
  const deadline = { passed: false };
  if (wait.timeoutMs > 0) {
    wait.clock
      .sleep(wait.timeoutMs, timer.signal)
      .then(() => {
        deadline.passed = true;
        return wait.onTimeout();
      })
      .catch(() => undefined);
  }
  let exitCode: number;
  try {
    exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', (err) =>
        reject(new ChurnError('FAILED_PRECONDITION', `${what}: ${err.message}`, { cause: err })),
      );
      child.once('close', (code, signal) => resolve(exitCodeOf(code, signal)));
    });
  } finally {
    timer.abort();
  }
  if (deadline.passed) {
    throw new ChurnError('DEADLINE_EXCEEDED', `${what} timed out after ${wait.timeoutMs} ms`);
  }
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode };
}

/**
 * Resolves once the process of `ref`, a task an earlier core started, is gone. It is not our
 * child, so its exit status is lost: /proc is polled, and the status says so (255, Unknown).
 */
export async function adoptedTaskExit(ref: TaskRef, clock: Clock): Promise<ExitStatus> {
  while (await isProcessAlive(ref.pid, ref.pidStartTime)) await clock.sleep(adoptedPollMs);
  return {
    exitCode: 255,
    finishedAtNs: wallClockNs(),
    reason: 'Unknown',
    message: 'exit status lost: the task was started by an earlier core',
  };
}

/** The tasks an executor started or adopted that have not exited yet. */
export class LiveTasks {
  readonly #tasks = new Set<Task>();

  /** Tracks `task` until it exits. */
  add(task: Task): void {
    this.#tasks.add(task);
    void task.exited.then(() => this.#tasks.delete(task));
  }

  /** SIGKILLs every live task and waits for their exits (what an executor's close does). */
  async killAll(): Promise<void> {
    const live = [...this.#tasks];
    await Promise.all(
      live.map(async (t) => {
        try {
          await t.kill('SIGKILL');
        } catch {
          // One failed kill must not keep the others from being killed.
        }
      }),
    );
    await Promise.all(live.map((t) => t.exited));
  }
}
