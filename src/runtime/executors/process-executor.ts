/**
 * Executor `process`: a container's task is a child process of the core, unprivileged, no
 * namespaces. The executable is resolved inside the image's rootfs, the working directory is
 * inside it too, and the process leads its own process group so that signals reach whatever
 * it forked. When the main process exits, what is left of its group is killed (as a container's
 * pid namespace dies with its init). Node reaps every child: no zombies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ChurnError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { wallClockNs } from '../../common/clock.js';
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

/** How long output may keep flowing after the main process exited (a grandchild holding the pipe). */
const outputDrainMs = 2000;
/** Polling interval for a task of an earlier core, which is not our child. */
const adoptedPollMs = 100;
/** Entries of the executable cache before it is cleared. */
const maxCachedCommands = 4096;

/** Signal numbers for exit codes (128 + n). */
const signalNumbers: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Exit code of a process that exited with `code` or died of `signal`. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (signalNumbers[signal] ?? 0));
}

/** Sends `signal` to process group `pgid`, ignoring a group that is gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** The `process` executor; see the module comment. */
export class ProcessExecutor implements Executor {
  readonly name = 'process' as const;
  readonly #clock: Clock;
  readonly #live = new Set<Task>();
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
    if (this.#closed) throw new ChurnError('UNAVAILABLE', 'executor is closed');
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
    const pumps =
      logs === undefined
        ? []
        : [logs.pump(child.stdout!, 'stdout'), logs.pump(child.stderr!, 'stderr')];
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        const status: ExitStatus = {
          exitCode: exitCodeOf(code, signal),
          finishedAtNs: wallClockNs(),
        };
        // What the main process left behind dies with it.
        killGroup(pid, 'SIGKILL');
        if (logs === undefined) {
          resolve(status);
          return;
        }
        const drained = Promise.all(pumps).then(() => logs.close());
        void Promise.race([drained, this.#clock.sleep(outputDrainMs)]).then(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve(status);
        });
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
    this.#track(task);
    return task;
  }

  async exec(
    spec: TaskSpec,
    _task: Task,
    argv: readonly string[],
    timeoutMs: number,
  ): Promise<ExecResult> {
    if (argv.length === 0) throw new ChurnError('INVALID_ARGUMENT', 'exec: empty command');
    const { file, cwd } = await this.#prepare(spec, argv);
    const child = await spawnChecked(file, argv, {
      cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid!;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => stdout.push(b));
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    const stop = new AbortController();
    const deadline = { passed: false };
    if (timeoutMs > 0) {
      this.#clock.sleep(timeoutMs, stop.signal).then(
        () => {
          deadline.passed = true;
          killGroup(pid, 'SIGKILL');
        },
        () => undefined,
      );
    }
    const exitCode = await new Promise<number>((resolve) => {
      child.once('close', (code, signal) => resolve(exitCodeOf(code, signal)));
    });
    stop.abort();
    killGroup(pid, 'SIGKILL');
    if (deadline.passed) {
      throw new ChurnError(
        'DEADLINE_EXCEEDED',
        `container "${spec.containerId}": exec ${JSON.stringify(argv[0])} timed out after ${timeoutMs} ms`,
      );
    }
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode };
  }

  async recover(_spec: TaskSpec, ref: TaskRef): Promise<Task | undefined> {
    if (!(await isProcessAlive(ref.pid, ref.pidStartTime))) return undefined;
    const stop = new AbortController();
    // Not our child: its exit status is lost; poll until it is gone.
    const exited = (async (): Promise<ExitStatus> => {
      try {
        while (await isProcessAlive(ref.pid, ref.pidStartTime)) {
          await this.#clock.sleep(adoptedPollMs, stop.signal);
        }
      } catch {
        // Closing: the executor killed it.
      }
      killGroup(ref.pid, 'SIGKILL');
      return {
        exitCode: 255,
        finishedAtNs: wallClockNs(),
        reason: 'Unknown',
        message: 'exit status lost: the task was started by an earlier core',
      };
    })();
    const task: Task = {
      ref,
      startedAtNs: 0n,
      exited,
      kill: async (signal) => {
        if (await isProcessAlive(ref.pid, ref.pidStartTime)) killGroup(ref.pid, signal);
      },
    };
    this.#track(task);
    void exited.then(() => stop.abort());
    return task;
  }

  async usage(task: Task): Promise<TaskUsage> {
    const stat = await readProcStat(task.ref.pid);
    return { cpuNs: stat?.cpuNs ?? 0n, memoryBytes: stat?.rssBytes ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const live = [...this.#live];
    await Promise.all(live.map((t) => t.kill('SIGKILL')));
    await Promise.all(live.map((t) => t.exited));
  }

  #track(task: Task): void {
    this.#live.add(task);
    void task.exited.then(() => this.#live.delete(task));
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
