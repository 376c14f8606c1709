/**
 * Executor `process`: a container's task is a child process of the core, with no namespaces of
 * its own; or, with the option `supervised` (the core's default), a process under a
 * supervisor of its own, not a child of the core (task-supervisor.ts: a child per live task
 * makes every exit cost O(live tasks) in libuv). The executable is resolved inside the image's
 * rootfs, the working directory is inside it too, and the process leads its own process group
 * so that signals reach whatever it forked. Node, or its supervisor, reaps it: no zombies.
 *
 * Its user (task-user.ts): a core that runs as root runs a task as the user its container
 * names, else as the task user (nobody by default), and never as root unless the task user is
 * root. The child changes user after it has entered the working directory and before it runs
 * the executable, which it runs by a path relative to that directory: the image's rootfs lies
 * in the core's private (0700) state directory, which the task's user cannot search, but it
 * need not, once inside. Exec'd commands run as the same user.
 *
 * No orphans either, as far as an unprivileged process can see to it (there is no pid
 * namespace to die with the task, and Node cannot become a child subreaper):
 * - a signal goes to the task's group and to its descendants that left it (setsid); a SIGKILL
 *   freezes that tree first, so nothing forks away meanwhile (process-tree.ts);
 * - when the main process exits, what is left of its group is killed;
 * - every process of a task carries the core's mark in its environment (task-marker.ts), which
 *   reaches what left the tree too (a daemon's double fork, re-parented to init). Marked
 *   processes of containers with no live task are killed by a sweep: when the core opens (what
 *   an earlier core left, including a task spawned just before a crash and never recorded),
 *   in the background at most once per {@link sweepIntervalMs} after a task exits, and when
 *   the executor closes (all of them).
 * A process that clears its environment and daemonizes still escapes: use the runc executor
 * for real isolation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { relative } from 'node:path';
import type { Clock } from '../../common/clock.js';
import { wallClockNs } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import { isProcessAlive, readProcStat, readProcStatSync } from '../proc-info.js';
import { resolveInRoot } from '../rootfs-path.js';
import type { ExecResult, StreamIo } from '../types.js';
import type { Duplex } from 'node:stream';
import { envValue, resolveCommand } from './command-path.js';
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
import { signalTree, trySignal } from './process-tree.js';
import { tapTaskStdio } from './task-stdio.js';
import { dialLoopback } from './pod-network.js';
import { hostBash, runStreamed, scriptArgs, scriptCommand } from './streamed-exec.js';
import { taskMarker } from '../../common/task-mark.js';
import { coreKeyOf, findMarkedProcesses } from './task-marker.js';
import {
  findSupervisorTools,
  spawnSupervised,
  TaskExits,
  type SupervisorTools,
} from './task-supervisor.js';
import { changesUser, taskIdentity, type TaskUserPolicy } from './task-user.js';
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
/** Least time between two background sweeps for marked processes (see the module comment). */
export const sweepIntervalMs = 1000;
/** How often a signalled task's supervisor is checked for being alive (see #supervisorGone). */
const supervisorPollMs = 500;
/** Rounds of scan-and-kill at close before giving up on processes that keep forking. */
const closeSweepRounds = 10;

/** Options of {@link ProcessExecutor.open}. */
export interface ProcessExecutorOptions {
  /** The core's state directory: its real path names the core in the marks of its tasks. */
  readonly stateDir: string;
  readonly clock: Clock;
  /** Who tasks may run as, and run as when their container names no user. */
  readonly taskUsers: TaskUserPolicy;
  /**
   * Run tasks under a supervisor where the host allows (task-supervisor.ts); default false
   * here, the core turns it on unless told not to (options.ts).
   */
  readonly supervised?: boolean;
}

/** The `process` executor; see the module comment. */
export class ProcessExecutor implements Executor {
  readonly name = 'process' as const;
  readonly #clock: Clock;
  readonly #coreKey: string;
  readonly #taskUsers: TaskUserPolicy;
  readonly #live = new LiveTasks();
  /** Containers whose task is starting or running: their marked processes are not strays. */
  readonly #owners = new Map<string, number>();
  readonly #commands = new Map<string, string>();
  /** Aborts a background sweep waiting for its turn. */
  readonly #sweepTimer = new AbortController();
  /** The background sweep scheduled or running, if any. */
  #sweep: Promise<void> | undefined;
  /** A task exited since the last sweep began. */
  #sweepWanted = false;
  #lastSweepMs = Number.NEGATIVE_INFINITY;
  #closed = false;

  /** What running tasks under a supervisor needs, when this host has it. */
  readonly #supervisor: SupervisorTools | undefined;
  /** Where supervisors write exits: with the tools, or left by an earlier core that had them. */
  readonly #exits: TaskExits | undefined;

  private constructor(
    options: ProcessExecutorOptions,
    coreKey: string,
    supervisor: SupervisorTools | undefined,
    exits: TaskExits | undefined,
  ) {
    this.#supervisor = exits === undefined ? undefined : supervisor;
    this.#exits = exits;
    this.#clock = options.clock;
    this.#coreKey = coreKey;
    this.#taskUsers = options.taskUsers;
  }

  /** An executor for the core on `options.stateDir` (which must exist). */
  static async open(options: ProcessExecutorOptions): Promise<ProcessExecutor> {
    const [coreKey, supervisor] = await Promise.all([
      coreKeyOf(options.stateDir),
      options.supervised === true ? findSupervisorTools() : undefined,
    ]);
    // Without supervisors of its own the core still reads the exits of an earlier core's, so
    // that they do not wait for a reader (their tasks are adopted, see recover).
    const exits = await TaskExits.open(options.stateDir, supervisor?.mkfifo);
    return new ProcessExecutor(options, coreKey, supervisor, exits);
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
    this.#checkOpen();
    const prepared = await this.#prepare(spec, spec.argv);
    const logs = spec.logPath === '' ? undefined : await CriLogWriter.open(spec.logPath);
    let spawned: Spawned;
    try {
      // Checked again next to the spawn: a close that began meanwhile has swept already.
      this.#checkOpen();
      this.#own(spec.containerId);
      spawned = await this.#spawnTask(spec, prepared, logs).catch((err: unknown) => {
        this.#disown(spec.containerId);
        throw err;
      });
    } catch (err) {
      await logs?.close();
      throw err;
    }
    const { pid, tapped, drainOutput, onKill } = spawned;
    const startedAtNs = wallClockNs();
    // Whether the tree was killed (frozen and walked) while the main process lived.
    const killed = { tree: false };
    const alive = { task: true };
    const exited = spawned.exited.then((code) => {
      alive.task = false;
      const status: ExitStatus = {
        exitCode: code ?? 255,
        finishedAtNs: wallClockNs(),
        ...(code === undefined
          ? { reason: 'Unknown', message: "exit status lost: the task's supervisor died" }
          : {}),
      };
      // What the main process left behind dies with it; what left its group, by the sweep.
      killGroup(pid, 'SIGKILL');
      this.#disown(spec.containerId);
      if (!killed.tree) this.#requestSweep();
      return drainOutput().then(() => status);
    });
    const stat = readProcStatSync(pid);
    const task: Task = {
      ref: { executor: 'process', pid, pidStartTime: stat?.startTime ?? '' },
      startedAtNs,
      exited,
      ...(tapped === undefined ? {} : { stdio: tapped.stdio }),
      ...(logs === undefined ? {} : { reopenLog: () => logs.reopen() }),
      kill: (signal) => {
        if (alive.task) {
          signalTree(pid, signal);
          if (signal === 'SIGKILL') killed.tree = true;
          onKill?.();
        }
        return Promise.resolve();
      },
    };
    this.#live.add(task);
    return task;
  }

  /**
   * Spawns the task of `spec`: under a supervisor, so that it is no child of the core, when the
   * host and the task allow it (task-supervisor.ts), else as a child of the core.
   */
  async #spawnTask(
    spec: TaskSpec,
    prepared: Prepared,
    logs: CriLogWriter | undefined,
  ): Promise<Spawned> {
    const env = this.#markedEnv(spec);
    const runnable = runnablePath(prepared.file, prepared.cwd, prepared.rootfs);
    const exits = this.#exits;
    if (this.#supervisor !== undefined && exits !== undefined && spec.stdin !== true) {
      const mark = taskMarker(this.#coreKey, spec.containerId);
      const eq = mark.indexOf('=');
      let drainOutput: () => Promise<void> = () => Promise.resolve();
      const task = await spawnSupervised(this.#supervisor, exits, runnable, spec.argv, {
        cwd: prepared.cwd,
        ...prepared.user,
        env: envObject(env),
        mark: [mark.slice(0, eq), mark.slice(eq + 1)],
        output: logs !== undefined,
        onSpawn: (child) => (drainOutput = pipeOutputToLog(child, logs, this.#clock)),
      });
      // A supervisor that died (killed by hand, the OOM killer) never writes the exit: once the
      // task is signalled, the core watches its supervisor too.
      const lost = { watching: false, done: false };
      let onLost: (code: undefined) => void = () => undefined;
      const exited = Promise.race([
        task.exited,
        new Promise<undefined>((resolve) => (onLost = resolve)),
      ]).finally(() => {
        lost.done = true;
        exits.forget(task.pid);
      });
      const onKill = (): void => {
        if (lost.watching) return;
        lost.watching = true;
        void this.#supervisorGone(task.supervisorPid, lost).then(
          (gone) => gone && onLost(undefined),
        );
      };
      return { pid: task.pid, exited, drainOutput, onKill };
    }
    const child = await spawnChecked(spec.argv, {
      ...prepared,
      env,
      stdio:
        spec.stdin === true ? 'pipe' : logs !== undefined ? ['ignore', 'pipe', 'pipe'] : 'ignore',
    });
    const exited = new Promise<number>((resolve) => {
      child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
    });
    const tapped = spec.stdin === true ? tapTaskStdio(child) : undefined;
    const drainOutput = pipeOutputToLog(child, logs, this.#clock, tapped);
    return { pid: child.pid!, exited, drainOutput, ...(tapped === undefined ? {} : { tapped }) };
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
    const prepared = await this.#prepare(spec, argv);
    this.#checkOpen();
    const child = await spawnChecked(argv, {
      ...prepared,
      env: this.#markedEnv(spec),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid!;
    try {
      return await awaitExec(child, {
        clock: this.#clock,
        containerId: spec.containerId,
        argv,
        timeoutMs,
        onTimeout: () => signalTree(pid, 'SIGKILL'),
      });
    } finally {
      // What the command left behind dies with it.
      killGroup(pid, 'SIGKILL');
    }
  }

  async execStream(
    spec: TaskSpec,
    _task: Task,
    argv: readonly string[],
    io: StreamIo,
  ): Promise<number> {
    if (argv.length === 0) {
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `container "${spec.containerId}": exec needs a command`,
      );
    }
    const { file, cwd, user } = await this.#prepare(spec, argv);
    this.#checkOpen();
    const env = this.#markedEnv(spec);
    const runnable = runnablePath(file, cwd, spec.rootfs);
    // Under `script` stdin is a pipe even when the client sends none (see runStreamed).
    const stdin = io.stdin === undefined && !io.tty ? 'ignore' : 'pipe';
    // Under `script` the executable runs by its path (symlinks resolved in the image; from the
    // working directory, see fromOwnCwd), with argv[0] as asked through bash's `exec -a`: a busybox applet (`/bin/echo ->
    // busybox`) knows itself by argv[0]. Without bash, argv[0] is that path.
    const bash = hostBash();
    const child = io.tty
      ? spawn(
          scriptCommand(),
          scriptArgs(
            [fromOwnCwd(runnable), ...argv.slice(1)],
            envValue(spec.env, 'SHELL'),
            bash === undefined ? undefined : argv[0],
          ),
          {
            cwd,
            ...user,
            env: envObject([...env, `SHELL=${bash ?? '/bin/sh'}`]),
            stdio: [stdin, 'pipe', 'pipe'],
            detached: true,
          },
        )
      : spawn(runnable, argv.slice(1), {
          argv0: argv[0],
          cwd,
          ...user,
          env: envObject(env),
          stdio: [stdin, 'pipe', 'pipe'],
          detached: true,
        });
    try {
      return await runStreamed(child, io, {
        clock: this.#clock,
        tty: io.tty,
        containerId: spec.containerId,
        argv,
        kill: () => {
          if (child.pid !== undefined) signalTree(child.pid, 'SIGKILL');
        },
      });
    } finally {
      // What the command left behind dies with it.
      if (child.pid !== undefined) signalTree(child.pid, 'SIGKILL');
    }
  }

  /** Tasks share the host's network here. */
  dialPod(_sandbox: SandboxSpec, port: number): Promise<Duplex> {
    return dialLoopback(port);
  }

  async recover(spec: TaskSpec, ref: TaskRef): Promise<Task | undefined> {
    this.#checkOpen();
    if (!(await isProcessAlive(ref.pid, ref.pidStartTime))) return undefined;
    this.#own(spec.containerId);
    const exited = this.#adoptedExit(ref).then((status) => {
      killGroup(ref.pid, 'SIGKILL');
      this.#disown(spec.containerId);
      this.#requestSweep();
      return status;
    });
    const task: Task = {
      ref,
      startedAtNs: 0n,
      exited,
      kill: async (signal) => {
        if (await isProcessAlive(ref.pid, ref.pidStartTime)) signalTree(ref.pid, signal);
      },
    };
    this.#live.add(task);
    return task;
  }

  /** SIGKILLs every marked process of a container with no live task (see the module comment). */
  async sweep(): Promise<number> {
    this.#lastSweepMs = this.#clock.now();
    let killed = 0;
    for (const { pid, containerId } of await findMarkedProcesses(this.#coreKey)) {
      if (!this.#owners.has(containerId) && trySignal(pid, 'SIGKILL')) killed += 1;
    }
    return killed;
  }

  async usage(task: Task): Promise<TaskUsage> {
    const stat = await readProcStat(task.ref.pid);
    return { cpuNs: stat?.cpuNs ?? 0n, memoryBytes: stat?.rssBytes ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sweepTimer.abort();
    await this.#live.killAll();
    this.#exits?.close();
    await this.#sweep;
    // Whatever is still marked: what left the trees of the tasks just killed, and their forks.
    for (let round = 0; round < closeSweepRounds; round++) {
      const strays = await findMarkedProcesses(this.#coreKey);
      if (strays.length === 0) break;
      for (const { pid } of strays) trySignal(pid, 'SIGKILL');
    }
  }

  /**
   * The exit of `ref`, a task of an earlier core: exact when its supervisor writes it into the
   * FIFO (which this core reads now), else lost (adoptedTaskExit polls /proc). Once the process
   * is gone, the FIFO has {@link supervisorPollMs} more to tell.
   */
  async #adoptedExit(ref: TaskRef): Promise<ExitStatus> {
    const exits = this.#exits;
    if (exits === undefined) return adoptedTaskExit(ref, this.#clock);
    const told = exits
      .exitOf(ref.pid)
      .then((exitCode): ExitStatus => ({ exitCode, finishedAtNs: wallClockNs() }));
    const polled = adoptedTaskExit(ref, this.#clock).then(async (status) => {
      await this.#clock.sleep(supervisorPollMs);
      return status;
    });
    const status = await Promise.race([told, polled]);
    exits.forget(ref.pid);
    return status;
  }

  /**
   * Resolves true once supervisor `pid` is gone and its exit, had it written one, would have
   * been read; false when `watch.done` (the exit came) first.
   */
  async #supervisorGone(pid: number, watch: { readonly done: boolean }): Promise<boolean> {
    // A zombie counts as gone: under a subreaper that does not reap, it would stay one.
    while (!watch.done && (await isProcessAlive(pid))) {
      await this.#clock.sleep(supervisorPollMs);
    }
    if (watch.done) return false;
    await this.#clock.sleep(supervisorPollMs);
    return !watch.done;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ChurnError('UNAVAILABLE', 'executor process is closed');
  }

  /** `spec`'s environment with this core's mark for its container, set over any given. */
  #markedEnv(spec: TaskSpec): string[] {
    return [...spec.env, taskMarker(this.#coreKey, spec.containerId)];
  }

  #own(containerId: string): void {
    this.#owners.set(containerId, (this.#owners.get(containerId) ?? 0) + 1);
  }

  #disown(containerId: string): void {
    const n = (this.#owners.get(containerId) ?? 0) - 1;
    if (n > 0) this.#owners.set(containerId, n);
    else this.#owners.delete(containerId);
  }

  /**
   * Asks for a background sweep: one runs at most every {@link sweepIntervalMs}, and requests
   * made meanwhile, even during a sweep, are served by the next one.
   */
  #requestSweep(): void {
    if (this.#closed) return;
    this.#sweepWanted = true;
    this.#sweep ??= this.#sweepWhileWanted().finally(() => {
      this.#sweep = undefined;
      if (this.#sweepWanted) this.#requestSweep();
    });
  }

  async #sweepWhileWanted(): Promise<void> {
    try {
      while (this.#sweepWanted && !this.#closed) {
        const waitMs = this.#lastSweepMs + sweepIntervalMs - this.#clock.now();
        await this.#clock.sleep(waitMs, this.#sweepTimer.signal);
        this.#sweepWanted = false;
        await this.sweep();
      }
    } catch {
      // Aborted by close, which sweeps everything itself.
    }
  }

  /**
   * The host executable and working directory for `argv` in `spec`'s rootfs (cached), and the
   * user to change to (none when the core is not root). INVALID_ARGUMENT for a user the policy
   * refuses (task-user.ts).
   */
  async #prepare(spec: TaskSpec, argv: readonly string[]): Promise<Prepared> {
    const identity = taskIdentity(spec.user, this.#taskUsers, `container "${spec.containerId}"`);
    const user = changesUser(this.#taskUsers) ? identity : {};
    const key = `${spec.rootfs}\0${spec.cwd}\0${argv[0] ?? ''}\0${spec.env.find((e) => e.startsWith('PATH=')) ?? ''}`;
    let file = this.#commands.get(key);
    if (file === undefined) {
      file = await resolveCommand(spec.rootfs, argv[0]!, spec.env, spec.cwd);
      if (this.#commands.size >= maxCachedCommands) this.#commands.clear();
      this.#commands.set(key, file);
    }
    const cwd = spec.rootfs === '/' ? spec.cwd : await resolveInRoot(spec.rootfs, spec.cwd);
    return { file, cwd, rootfs: spec.rootfs, user };
  }
}

/** What a spawn of a task or an exec'd command needs (see ProcessExecutor's #prepare). */
interface Prepared {
  /** Host path of the executable. */
  readonly file: string;
  /** Host path of the working directory. */
  readonly cwd: string;
  /** Host path of the image's rootfs. */
  readonly rootfs: string;
  /** The uid and gid to change to in the child; empty: stay the core's. */
  readonly user: { readonly uid?: number; readonly gid?: number };
}

/**
 * How the child names `file` once it is in `cwd`: a path relative to it when both are inside
 * an image's rootfs (see the module comment), else the host path. Never a bare name, which
 * would be looked up in PATH.
 */
export function runnablePath(file: string, cwd: string, rootfs: string): string {
  if (rootfs === '/') return file;
  const path = relative(cwd, file);
  return path.startsWith('../') ? path : `./${path}`;
}

/**
 * `runnable` (see {@link runnablePath}) as an absolute path that still starts at the working
 * directory of the process that runs it: bash turns a relative path into one from `/` before it
 * runs it, which the task's user may not be allowed to search; `/proc/self/cwd` leads straight
 * to the working directory.
 */
export function fromOwnCwd(runnable: string): string {
  return runnable.startsWith('/') ? runnable : `/proc/self/cwd/${runnable.replace(/^\.\//, '')}`;
}

/** A task's process once spawned (see ProcessExecutor's #spawnTask). */
interface Spawned {
  readonly pid: number;
  /** The task's stdin and output listeners, for a task with stdin. */
  readonly tapped?: ReturnType<typeof tapTaskStdio>;
  /** Waits, once the task exited, for its output to reach the log (pipeOutputToLog). */
  readonly drainOutput: () => Promise<void>;
  /** The task's exit code; undefined when it was lost. */
  readonly exited: Promise<number | undefined>;
  /** Called when the task is signalled. */
  readonly onKill?: () => void;
}

interface SpawnOptions extends Prepared {
  readonly env: readonly string[];
  readonly stdio: 'ignore' | 'pipe' | ['ignore', 'pipe', 'pipe'];
}

/**
 * Spawns `options.file` with `argv` (argv[0] as the process's name) in its own process group,
 * as `options.user`.
 */
function spawnChecked(argv: readonly string[], options: SpawnOptions): Promise<ChildProcess> {
  const file = options.file;
  const child = spawn(runnablePath(file, options.cwd, options.rootfs), argv.slice(1), {
    argv0: argv[0],
    cwd: options.cwd,
    ...options.user,
    env: envObject(options.env),
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

/** KEY=VALUE pairs as an environment object (later pairs win). */
function envObject(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of pairs) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}
