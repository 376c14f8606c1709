/**
 * Executor `process`: a container's task is a child process of the core, unprivileged, no
 * namespaces. The executable is resolved inside the image's rootfs, the working directory is
 * inside it too, and the process leads its own process group so that signals reach whatever
 * it forked. When the main process exits, what is left of its group is killed (as a container's
 * pid namespace dies with its init). Node reaps every child: no zombies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock } from '../../common/clock.js';
import { wallClockNs } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import { isProcessAlive, readProcStat, readProcStatSync } from '../proc-info.js';
import { resolveInRoot } from '../rootfs-path.js';
import type { ExecResult } from '../types.js';
import { resolveCommand } from './command-path.js';
import { CriLogWriter } from './cri-log-writer.js';
import type {
  ExitStatus,
  Executor,
  SandboxSpec,
  Task,
  TaskRef,
  TaskSpec,
  TaskUsage,
} from './executor.js';
import {
  adoptedTaskExit,
  awaitExec,
  exitCodeOf,
  killGroup,
  LiveTasks,
  pipeOutputToLog,
} from './task-supervision.js';

/** Entries of the executable cache before it is cleared. */
const maxCachedCommands = 4096;

/** The `process` executor; see the module comment. */
export class ProcessExecutor implements Executor {
  readonly name = 'process' as const;
  readonly #clock: Clock;
  readonly #live = new LiveTasks();
  readonly #commands = new Map<string, string>();
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Pods have no process of their own here: nothing to share but the host. */
  createSandbox(_sandbox: SandboxSpec): Promise<TaskRef | undefined> {
    return Promise.resolve(undefined);
  }

  /** Nothing to lose, so a pod stays as it was. */
  recoverSandbox(_sandbox: SandboxSpec, _ref: TaskRef | undefined): Promise<boolean> {
    return Promise.resolve(true);
  }

  removeSandbox(_podId: string): Promise<void> {
    return Promise.resolve();
  }

  async start(spec: TaskSpec): Promise<Task> {
    if (this.#closed) throw new ChurnError('UNAVAILABLE', 'executor process is closed');
    const { file, cwd } = await this.#prepare(spec, spec.argv);
    const logs = spec.logPath === '' ? undefined : await CriLogWriter.open(spec.logPath);
    let child: ChildProcess;
    try {
      child = await spawnChecked(file, spec.argv, {
        cwd,
        env: spec.env,
        stdio: logs === undefined ? 'ignore' : ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      await logs?.close();
      throw err;
    }
    const pid = child.pid!;
    const startedAtNs = wallClockNs();
    const drainOutput = pipeOutputToLog(child, logs, this.#clock);
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        const status: ExitStatus = {
          exitCode: exitCodeOf(code, signal),
          finishedAtNs: wallClockNs(),
        };
        // What the main process left behind dies with it.
        killGroup(pid, 'SIGKILL');
        void drainOutput().then(() => resolve(status));
      });
    });
    const stat = readProcStatSync(pid);
    const task: Task = {
      ref: { executor: 'process', pid, pidStartTime: stat?.startTime ?? '' },
      startedAtNs,
      exited,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) killGroup(pid, signal);
        return Promise.resolve();
      },
    };
    this.#live.add(task);
    return task;
  }

  async exec(
    spec: TaskSpec,
    _task: Task,
    argv: readonly string[],
    timeoutMs: number,
  ): Promise<ExecResult> {
    if (argv.length === 0) {
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `container "${spec.containerId}": exec needs a command`,
      );
    }
    const { file, cwd } = await this.#prepare(spec, argv);
    const child = await spawnChecked(file, argv, {
      cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid!;
    try {
      return await awaitExec(child, {
        clock: this.#clock,
        containerId: spec.containerId,
        argv,
        timeoutMs,
        onTimeout: () => killGroup(pid, 'SIGKILL'),
      });
    } finally {
      // What the command left behind dies with it.
      killGroup(pid, 'SIGKILL');
    }
  }

  async recover(_spec: TaskSpec, ref: TaskRef): Promise<Task | undefined> {
    if (!(await isProcessAlive(ref.pid, ref.pidStartTime))) return undefined;
    const exited = adoptedTaskExit(ref, this.#clock).then((status) => {
      killGroup(ref.pid, 'SIGKILL');
      return status;
    });
    const task: Task = {
      ref,
      startedAtNs: 0n,
      exited,
      kill: async (signal) => {
        if (await isProcessAlive(ref.pid, ref.pidStartTime)) killGroup(ref.pid, signal);
      },
    };
    this.#live.add(task);
    return task;
  }

  async usage(task: Task): Promise<TaskUsage> {
    const stat = await readProcStat(task.ref.pid);
    return { cpuNs: stat?.cpuNs ?? 0n, memoryBytes: stat?.rssBytes ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#live.killAll();
  }

  /** The host executable and working directory for `argv` in `spec`'s rootfs (cached). */
  async #prepare(spec: TaskSpec, argv: readonly string[]): Promise<{ file: string; cwd: string }> {
    const key = `${spec.rootfs}\0${spec.cwd}\0${argv[0] ?? ''}\0${spec.env.find((e) => e.startsWith('PATH=')) ?? ''}`;
    let file = this.#commands.get(key);
    if (file === undefined) {
      file = await resolveCommand(spec.rootfs, argv[0]!, spec.env, spec.cwd);
      if (this.#commands.size >= maxCachedCommands) this.#commands.clear();
      this.#commands.set(key, file);
    }
    const cwd = spec.rootfs === '/' ? spec.cwd : await resolveInRoot(spec.rootfs, spec.cwd);
    return { file, cwd };
  }
}

interface SpawnOptions {
  readonly cwd: string;
  readonly env: readonly string[];
  readonly stdio: 'ignore' | ['ignore', 'pipe', 'pipe'];
}

/** Spawns `file` with `argv` (argv[0] as the process's name) in its own process group. */
function spawnChecked(
  file: string,
  argv: readonly string[],
  options: SpawnOptions,
): Promise<ChildProcess> {
  const env: Record<string, string> = {};
  for (const kv of options.env) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const child = spawn(file, argv.slice(1), {
    argv0: argv[0],
    cwd: options.cwd,
    env,
    stdio: options.stdio,
    detached: true,
  });
  if (child.pid !== undefined) return Promise.resolve(child);
  return new Promise((_resolve, reject) => {
    child.once('error', (err) =>
      reject(
        new ChurnError(
          'FAILED_PRECONDITION',
          `cannot run ${argv[0] ?? file} (${file}): ${err.message}`,
          {
            cause: err,
          },
        ),
      ),
    );
  });
}
