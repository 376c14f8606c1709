/**
 * Executor `runc` (root, runc on PATH): each task is an OCI container run by runc, with state
 * under `<stateDir>/runc` (`runc --root`), bundles under `<stateDir>/runc-bundles/<id>` and
 * cgroups under `/churn/<id>`.
 *
 * Supervision. containerd runs `runc create`/`start` under a shim that makes itself a child
 * subreaper, so the container's init (orphaned when runc detaches) is re-parented to the shim,
 * which waits for it and so learns its exit status. Node can neither become a subreaper nor
 * reap children it did not spawn, and polling /proc would lose the exit status. So the shim's
 * job is done by `runc run` in the foreground, spawned as the core's child: runc stays the
 * parent of the container's init, forwards the signals it receives to it, exits with its exit
 * status (128+n for a signal), and destroys the container (state, cgroup) when it exits. The
 * container's stdout/stderr are runc's, so CRI logs are pipes as with `process`; runc's own
 * messages go to `--log`. `--pid-file` appearing marks the start (runc writes it once the
 * user process has been executed). SIGTERM goes to runc (forwarded); SIGKILL, which cannot be
 * forwarded, goes to the init directly, or through `runc kill --all` when the container shares
 * a pid namespace (its init's death would not take the others along).
 *
 * Pods. As containerd, each pod has a sandbox: a pause process (`sleep infinity` from the
 * host's /usr) in new pid, ipc and uts namespaces; the pod's containers join its ipc and uts
 * namespaces, and its pid namespace when the pod's pid mode is POD. Network is the host's
 * for a pod with host network; otherwise the pause process makes a network namespace with
 * loopback only, which the pod's containers join (see oci-spec.ts).
 *
 * Leftovers. A container runc knows under the core's root (what `runc list` lists: a directory
 * each) that no live task owns, such as one started just before a crash of an earlier core and
 * never recorded, is deleted with its bundle by {@link RuncExecutor.sweep} when the core opens,
 * and everything under the root when the executor closes. Deleting or killing a container
 * takes all its processes: its own pid namespace dies with its init, and a container that
 * shares one is killed through its cgroup (`runc kill --all`, `runc delete --force`).
 *
 * Root filesystems: each container gets a writable layer over the image's rootfs
 * (writable-layer.ts), made when it starts and removed when it ends, unless the CRI config
 * asks for a read-only root, which is then the image's rootfs itself. CRI mounts are bound
 * as containerd binds them (oci-mounts.ts). The `host` image cannot be a container root (runc
 * cannot pivot into `/`), so under runc it is an empty root holding the host's top-level
 * symlinks (bin → usr/bin …) with /usr, /etc and /opt bound read-only, always read-only with a
 * tmpfs /tmp, as is the pause's.
 *
 * Namespaces follow containerd's CRI plugin: the pause gets the host's network and uts
 * namespaces when the pod has host network, the host's pid or ipc namespace when the pod's
 * mode is NODE, and new ones otherwise, with the pod's sysctls; containers join the pause's
 * network, ipc and uts namespaces, and its pid namespace unless their own pid mode is
 * CONTAINER (a new one) or TARGET (another container's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, readlinkSync, readdirSync } from 'node:fs';
import {
  mkdir,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.js';
import { wallClockNs } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import { randomHexId } from '../../common/random-id.js';
import { isProcessAlive, readProcStatSync } from '../proc-info.js';
import type { Duplex } from 'node:stream';
import type { ExecResult, StreamIo } from '../types.js';
import { defaultPath } from './command-path.js';
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
import { listHostDevices } from './host-devices.js';
import { capabilitiesOfStatus } from './oci-capabilities.js';
import { containerSecurity } from './oci-security.js';
import { criBindMounts, resolveMountSources } from './oci-mounts.js';
import { ociSpec, type BindMount, type NamespaceSource } from './oci-spec.js';
import { dialInNamespace } from './pod-network.js';
import { signalTree } from './process-tree.js';
import { runStreamed, scriptArgs, scriptCommand } from './streamed-exec.js';
import { tapTaskStdio } from './task-stdio.js';
import {
  adoptedTaskExit,
  awaitExec,
  exitCodeOf,
  killProcess,
  LiveTasks,
  pipeOutputToLog,
} from './task-supervision.js';
import { WritableLayers } from './writable-layer.js';

/** How long runc may take to start a container before start fails. */
const startTimeoutMs = 60_000;
/** The pause process of a pod's sandbox. */
const pauseArgs = ['sleep', 'infinity'];

/** Options of {@link RuncExecutor.open}. */
export interface RuncExecutorOptions {
  readonly stateDir: string;
  readonly runcPath: string;
  readonly clock: Clock;
}

interface Sandbox {
  readonly podId: string;
  readonly task: Task;
}

/** The `runc` executor; see the module comment. */
export class RuncExecutor implements Executor {
  readonly name = 'runc' as const;
  readonly #runc: string;
  readonly #root: string;
  readonly #bundles: string;
  readonly #hostRoot: string;
  readonly #hostBinds: readonly BindMount[];
  /** The core's effective capabilities: what ALL and privileged give a container. */
  readonly #allCapabilities: readonly string[];
  readonly #clock: Clock;
  readonly #live = new LiveTasks();
  /** Ids of the containers starting or running here: what a sweep leaves alone. */
  readonly #liveIds = new Set<string>();
  readonly #sandboxes = new Map<string, Sandbox>();
  readonly #layers: WritableLayers;
  #closed = false;

  private constructor(
    options: RuncExecutorOptions,
    hostBinds: readonly BindMount[],
    allCapabilities: readonly string[],
    layers: WritableLayers,
  ) {
    this.#runc = options.runcPath;
    this.#root = join(options.stateDir, 'runc');
    this.#bundles = join(options.stateDir, 'runc-bundles');
    this.#hostRoot = join(options.stateDir, 'runc-hostroot');
    this.#hostBinds = hostBinds;
    this.#allCapabilities = allCapabilities;
    this.#layers = layers;
    this.#clock = options.clock;
  }

  /** Checks root and runc, and prepares the state directories. Throws FAILED_PRECONDITION. */
  static async open(options: RuncExecutorOptions): Promise<RuncExecutor> {
    if (process.getuid?.() !== 0) {
      throw new ChurnError('FAILED_PRECONDITION', 'executor runc needs root; use executor process');
    }
    const version = await run(options.runcPath, ['--version']).catch((err: unknown) => {
      throw new ChurnError(
        'FAILED_PRECONDITION',
        `executor runc: cannot run ${options.runcPath} (${(err as Error).message}); install runc or use executor process`,
      );
    });
    if (version.code !== 0) {
      throw new ChurnError(
        'FAILED_PRECONDITION',
        `executor runc: ${options.runcPath} --version failed`,
      );
    }
    const hostBinds = await prepareHostRoot(join(options.stateDir, 'runc-hostroot'));
    const allCapabilities = capabilitiesOfStatus(await readFile('/proc/self/status', 'utf8'));
    const layers = await WritableLayers.open(join(options.stateDir, 'runc-layers'));
    const executor = new RuncExecutor(options, hostBinds, allCapabilities, layers);
    await mkdir(executor.#root, { recursive: true });
    await mkdir(executor.#bundles, { recursive: true });
    return executor;
  }

  async createSandbox(sandbox: SandboxSpec): Promise<TaskRef | undefined> {
    this.#checkOpen();
    const id = pauseId(sandbox.podId);
    const task = await this.#run(
      id,
      {
        rootfs: this.#hostRoot,
        binds: this.#hostBinds,
        args: pauseArgs,
        env: [`PATH=${defaultPath}`],
        cwd: '/',
        hostname: sandbox.hostname,
        pid: sandbox.pidMode === 'NODE' ? { kind: 'host' } : { kind: 'new' },
        ipc: sandbox.ipcMode === 'NODE' ? { kind: 'host' } : { kind: 'new' },
        uts: sandbox.networkMode === 'NODE' ? { kind: 'host' } : { kind: 'new' },
        network: sandbox.networkMode === 'NODE' ? { kind: 'host' } : { kind: 'new' },
        cgroupsPath: `/churn/${id}`,
        ...(sandbox.sysctls === undefined ? {} : { sysctl: sandbox.sysctls }),
      },
      '',
      true,
    );
    this.#sandboxes.set(sandbox.podId, { podId: sandbox.podId, task });
    return task.ref;
  }

  async recoverSandbox(sandbox: SandboxSpec, ref: TaskRef | undefined): Promise<boolean> {
    if (ref === undefined) return false;
    const id = pauseId(sandbox.podId);
    const task = await this.#adopt(id, ref, true);
    if (task === undefined) return false;
    this.#sandboxes.set(sandbox.podId, { podId: sandbox.podId, task });
    return true;
  }

  async removeSandbox(podId: string): Promise<void> {
    const sandbox = this.#sandboxes.get(podId);
    this.#sandboxes.delete(podId);
    if (sandbox !== undefined) {
      await sandbox.task.kill('SIGKILL');
      await sandbox.task.exited;
    }
    await this.#cleanup(pauseId(podId));
  }

  async start(spec: TaskSpec): Promise<Task> {
    this.#checkOpen();
    const sandbox = this.#sandboxes.get(spec.sandbox.podId);
    if (sandbox === undefined) {
      throw new ChurnError(
        'FAILED_PRECONDITION',
        `pod "${spec.sandbox.podId}" has no running sandbox`,
      );
    }
    const pausePid = sandbox.task.ref.pid;
    const host = spec.rootfs === '/';
    const privileged = spec.security?.privileged === true;
    const security = containerSecurity(spec.security ?? {}, spec.user, {
      allCapabilities: this.#allCapabilities,
      hostDevices: privileged ? await listHostDevices() : [],
    });
    const pid = pidNamespaceOf(spec, pausePid);
    const cri = criBindMounts(
      await resolveMountSources(spec.mounts ?? []).catch((err: unknown) => {
        throw new ChurnError('FAILED_PRECONDITION', (err as Error).message, { cause: err });
      }),
    );
    const fromPause = (mode: boolean): NamespaceSource =>
      mode ? { kind: 'host' } : { kind: 'join', pid: pausePid };
    return this.#run(
      spec.containerId,
      {
        rootfs: host ? this.#hostRoot : spec.rootfs,
        binds: host ? this.#hostBinds : [],
        args: spec.argv,
        env: spec.env,
        cwd: spec.cwd,
        hostname: spec.sandbox.hostname,
        pid,
        ipc: fromPause(spec.sandbox.ipcMode === 'NODE'),
        uts: fromPause(spec.sandbox.networkMode === 'NODE'),
        network: fromPause(spec.sandbox.networkMode === 'NODE'),
        cgroupsPath: `/churn/${spec.containerId}`,
        security,
        tmpfsTmp: host,
        mounts: cri.mounts,
        ...(cri.rootfsPropagation === undefined
          ? {}
          : { rootfsPropagation: cri.rootfsPropagation }),
      },
      spec.logPath,
      pid.kind === 'new',
      spec.stdin === true,
      host || spec.readonlyRootfs === true ? undefined : spec.rootfs,
    );
  }

  async exec(
    spec: TaskSpec,
    _task: Task,
    argv: readonly string[],
    timeoutMs: number,
  ): Promise<ExecResult> {
    this.#checkOpen();
    if (argv.length === 0) {
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `container "${spec.containerId}": exec needs a command`,
      );
    }
    const pidFile = join(this.#bundles, spec.containerId, `exec-${process.hrtime.bigint()}.pid`);
    const child = spawn(
      this.#runc,
      ['--root', this.#root, 'exec', '--pid-file', pidFile, spec.containerId, ...argv],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      return await awaitExec(child, {
        clock: this.#clock,
        containerId: spec.containerId,
        argv,
        timeoutMs,
        onTimeout: async () => {
          // runc forwards SIGTERM but cannot forward SIGKILL: kill the exec'd process itself.
          const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
          if (pid > 0) killProcess(pid, 'SIGKILL');
          child.kill('SIGKILL');
        },
      });
    } finally {
      await rm(pidFile, { force: true });
    }
  }

  async execStream(
    spec: TaskSpec,
    _task: Task,
    argv: readonly string[],
    io: StreamIo,
  ): Promise<number> {
    this.#checkOpen();
    if (argv.length === 0) {
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `container "${spec.containerId}": exec needs a command`,
      );
    }
    const pidFile = join(this.#bundles, spec.containerId, `exec-${process.hrtime.bigint()}.pid`);
    const runcArgs = [
      '--root',
      this.#root,
      'exec',
      ...(io.tty ? ['--tty'] : []),
      '--pid-file',
      pidFile,
      spec.containerId,
      ...argv,
    ];
    // Under `script` stdin is a pipe even when the client sends none (see runStreamed).
    const stdin = io.stdin === undefined && !io.tty ? 'ignore' : 'pipe';
    // With a terminal: `runc exec --tty` gives the process a terminal of the container's own
    // devpts and copies between it and runc's stdio, which must then be a terminal too (runc
    // sets it raw and applies its size, at the start and on each SIGWINCH). `script` gives runc
    // that terminal; a size set on it (stty, see streamed-exec.ts) signals runc, which passes it
    // on. Without --tty runc would give the process pipes, never the terminal. script's
    // terminal is made raw before runc starts (runc makes it raw too, but only once running):
    // output written before would get a second \r and early input a second echo.
    const child = io.tty
      ? spawn(
          scriptCommand(),
          scriptArgs(
            ['/bin/sh', '-c', 'stty raw -echo; exec "$@"', 'sh', this.#runc, ...runcArgs],
            process.env.SHELL,
          ),
          {
            env: { ...process.env, SHELL: '/bin/sh' },
            stdio: [stdin, 'pipe', 'pipe'],
            detached: true,
          },
        )
      : spawn(this.#runc, runcArgs, { stdio: [stdin, 'pipe', 'pipe'], detached: true });
    const killAll = async (): Promise<void> => {
      // runc cannot forward SIGKILL: kill the exec'd process itself, then runc (and script).
      const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      if (pid > 0) killProcess(pid, 'SIGKILL');
      if (child.pid !== undefined) signalTree(child.pid, 'SIGKILL');
    };
    try {
      return await runStreamed(child, io, {
        clock: this.#clock,
        tty: io.tty,
        containerId: spec.containerId,
        argv,
        kill: killAll,
      });
    } finally {
      await killAll();
      await rm(pidFile, { force: true });
    }
  }

  /** To the loopback of the network namespace of the pod's pause process. */
  async dialPod(sandbox: SandboxSpec, port: number): Promise<Duplex> {
    this.#checkOpen();
    const pod = this.#sandboxes.get(sandbox.podId);
    if (pod === undefined) {
      throw new ChurnError('FAILED_PRECONDITION', `pod "${sandbox.podId}" has no running sandbox`);
    }
    return dialInNamespace(`/proc/${pod.task.ref.pid}/ns/net`, port);
  }

  async recover(spec: TaskSpec, ref: TaskRef): Promise<Task | undefined> {
    return this.#adopt(spec.containerId, ref, ownPidNamespace(spec));
  }

  async usage(task: Task): Promise<TaskUsage> {
    const id = this.#idOf(task);
    const read = async (path: string): Promise<bigint> => {
      try {
        return BigInt((await readFile(path, 'utf8')).trim());
      } catch {
        return 0n;
      }
    };
    const [cpuNs, memory] = await Promise.all([
      read(`/sys/fs/cgroup/cpuacct/churn/${id}/cpuacct.usage`),
      read(`/sys/fs/cgroup/memory/churn/${id}/memory.usage_in_bytes`),
    ]);
    return { cpuNs, memoryBytes: Number(memory) };
  }

  /** Deletes every container and bundle under the core's root that no live task owns. */
  async sweep(): Promise<number> {
    // runc keeps a directory per container under its root: what `runc list` lists.
    const [containers, bundles] = await Promise.all([
      readdir(this.#root).catch(() => []),
      readdir(this.#bundles).catch(() => []),
    ]);
    const leftovers = [...new Set([...containers, ...bundles])].filter(
      (id) => !this.#liveIds.has(id),
    );
    await Promise.all(leftovers.map((id) => this.#cleanup(id)));
    // Layers whose container and bundle are gone already (a crash between the two).
    await this.#layers.sweep(this.#liveIds);
    return leftovers.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#live.killAll();
    this.#sandboxes.clear();
    await this.sweep();
  }

  readonly #ids = new WeakMap<Task, string>();

  #idOf(task: Task): string {
    return this.#ids.get(task) ?? '';
  }

  #checkOpen(): void {
    if (this.#closed) throw new ChurnError('UNAVAILABLE', 'executor runc is closed');
  }

  #track(id: string, task: Task): void {
    this.#ids.set(task, id);
    this.#live.add(task);
    this.#liveIds.add(id);
    void task.exited.then(() => this.#liveIds.delete(id));
  }

  /** Runs container `id` under a foreground `runc run`; resolves once its process runs. */
  async #run(
    id: string,
    input: Parameters<typeof ociSpec>[0],
    logPath: string,
    ownPidNs: boolean,
    stdin = false,
    writableOver?: string,
  ): Promise<Task> {
    const bundle = join(this.#bundles, id);
    this.#liveIds.add(id); // starting: not a leftover for a sweep
    try {
      const root =
        writableOver === undefined
          ? input
          : { ...input, rootfs: await this.#layers.create(id, writableOver), readonlyRoot: false };
      return await this.#runTracked(id, bundle, root, logPath, ownPidNs, stdin);
    } catch (err) {
      this.#liveIds.delete(id);
      await this.#layers.remove(id).catch(() => undefined);
      throw err;
    }
  }

  async #runTracked(
    id: string,
    bundle: string,
    input: Parameters<typeof ociSpec>[0],
    logPath: string,
    ownPidNs: boolean,
    stdin: boolean,
  ): Promise<Task> {
    await rm(bundle, { recursive: true, force: true });
    await mkdir(bundle, { recursive: true });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(ociSpec(input)));
    const pidFile = join(bundle, 'init.pid');
    const logs = logPath === '' ? undefined : await CriLogWriter.open(logPath);
    const child: ChildProcess = spawn(
      this.#runc,
      [
        '--root',
        this.#root,
        '--log',
        join(bundle, 'runc.log'),
        'run',
        '--pid-file',
        pidFile,
        '--bundle',
        bundle,
        id,
      ],
      {
        stdio: stdin ? 'pipe' : logs === undefined ? 'ignore' : ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    const tapped = stdin ? tapTaskStdio(child) : undefined;
    const drainOutput = pipeOutputToLog(child, logs, this.#clock, tapped);
    const runcExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.once('error', () => resolve({ code: 255, signal: null }));
      },
    );
    // Started when the pid file appears; failed when runc exits first.
    let initPid = 0;
    const runcState = { exited: false };
    void runcExit.then(() => (runcState.exited = true));
    const startedMs = this.#clock.now();
    for (let waitMs = 1; initPid === 0; waitMs = Math.min(waitMs * 2, 20)) {
      const text = await readFile(pidFile, 'utf8').catch(() => '');
      if (text !== '') {
        initPid = Number(text.trim());
        break;
      }
      if (runcState.exited || this.#clock.now() - startedMs > startTimeoutMs) break;
      await this.#clock.sleep(waitMs);
    }
    if (initPid === 0) {
      if (!runcState.exited) child.kill('SIGKILL');
      await runcExit;
      await drainOutput();
      const message = await runcError(join(bundle, 'runc.log'));
      await this.#cleanup(id);
      throw new ChurnError('FAILED_PRECONDITION', `runc run ${id}: ${message}`);
    }
    const startedAtNs = wallClockNs();
    const stat = readProcStatSync(initPid);
    const exited = runcExit.then(async ({ code, signal }): Promise<ExitStatus> => {
      const status: ExitStatus = {
        exitCode: exitCodeOf(code, signal),
        finishedAtNs: wallClockNs(),
      };
      await drainOutput();
      await this.#cleanup(id);
      return status;
    });
    const task: Task = {
      ref: { executor: 'runc', pid: initPid, pidStartTime: stat?.startTime ?? '' },
      startedAtNs,
      exited,
      ...(tapped === undefined ? {} : { stdio: tapped.stdio }),
      ...(logs === undefined ? {} : { reopenLog: () => logs.reopen() }),
      kill: async (sig) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (sig !== 'SIGKILL') {
          child.kill(sig); // runc forwards it to the container's init
        } else if (ownPidNs) {
          killProcess(initPid, 'SIGKILL'); // the pid namespace dies with its init
        } else {
          await this.#killAll(id);
        }
      },
    };
    this.#track(id, task);
    if (this.#closed) {
      // The executor closed while runc started it: its close did not see this task.
      await task.kill('SIGKILL');
      await task.exited;
      throw new ChurnError('UNAVAILABLE', 'executor runc is closed');
    }
    return task;
  }

  /** Watches a container an earlier core started (its runc is not our child). */
  async #adopt(id: string, ref: TaskRef, ownPidNs: boolean): Promise<Task | undefined> {
    if (!(await isProcessAlive(ref.pid, ref.pidStartTime))) {
      await this.#cleanup(id);
      return undefined;
    }
    const exited = adoptedTaskExit(ref, this.#clock).then(async (status) => {
      await this.#cleanup(id);
      return status;
    });
    const task: Task = {
      ref,
      startedAtNs: 0n,
      exited,
      kill: async (sig) => {
        if (!(await isProcessAlive(ref.pid, ref.pidStartTime))) return;
        if (sig === 'SIGKILL' && !ownPidNs) {
          await this.#killAll(id);
        } else {
          killProcess(ref.pid, sig);
        }
      },
    };
    this.#track(id, task);
    return task;
  }

  /** SIGKILLs every process of container `id` (for a container that shares a pid namespace). */
  async #killAll(id: string): Promise<void> {
    await run(this.#runc, ['--root', this.#root, 'kill', '--all', id, 'KILL']);
  }

  /** Deletes what is left of container `id`: runc state (if runc did not), bundle, layer. */
  async #cleanup(id: string): Promise<void> {
    const bundle = join(this.#bundles, id);
    const state = await readFile(join(this.#root, id, 'state.json'), 'utf8').catch(() => undefined);
    if (state !== undefined)
      await run(this.#runc, ['--root', this.#root, 'delete', '--force', id]).catch(() => undefined);
    await rm(bundle, { recursive: true, force: true });
    await this.#layers.remove(id).catch(() => undefined);
  }
}

function pauseId(podId: string): string {
  return `pause-${podId}`;
}

/** The pid namespace of `spec`'s container; see the module comment. */
function pidNamespaceOf(spec: TaskSpec, pausePid: number): NamespaceSource {
  const pid = spec.pid ?? { kind: spec.sandbox.pidMode === 'CONTAINER' ? 'own' : 'pod' };
  if (pid.kind === 'own') return { kind: 'new' };
  if (pid.kind === 'target') {
    if (pid.pid > 0) return { kind: 'join', pid: pid.pid };
    throw new ChurnError(
      'FAILED_PRECONDITION',
      `container "${spec.containerId}": the container whose pid namespace it targets is not running`,
    );
  }
  return spec.sandbox.pidMode === 'NODE' ? { kind: 'host' } : { kind: 'join', pid: pausePid };
}

/** Whether `spec`'s container has a pid namespace of its own (dies with its init). */
function ownPidNamespace(spec: TaskSpec): boolean {
  return (spec.pid?.kind ?? (spec.sandbox.pidMode === 'CONTAINER' ? 'own' : 'pod')) === 'own';
}

/** The last error runc logged (its --log is JSON lines), or a generic message. */
async function runcError(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l !== '');
  for (const line of lines.reverse()) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg !== undefined) return entry.msg;
    } catch {
      return line;
    }
  }
  return 'runc exited before the container started';
}

/** Runs a short command; resolves with its exit code and stderr. */
function run(file: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 255, stderr }));
  });
}

/**
 * True when an earlier runc executor left containers or bundles in `stateDir`: then the core
 * opens the executor to sweep them even when no pod it recorded uses it.
 */
export async function runcLeftoversExist(stateDir: string): Promise<boolean> {
  for (const dir of ['runc', 'runc-bundles', 'runc-layers']) {
    const entries = await readdir(join(stateDir, dir)).catch(() => []);
    if (entries.length > 0) return true;
  }
  return false;
}

/**
 * Makes the host image's root under runc: the host's top-level symlinks (bin → usr/bin on a
 * merged-/usr system) in an empty directory; returns the directories to bind read-only.
 * Idempotent and safe to run concurrently on one directory: a link already right is kept, any
 * other is replaced atomically (made under a unique name, renamed over), so no one ever sees a
 * root with a link missing.
 */
async function prepareHostRoot(dir: string): Promise<BindMount[]> {
  await mkdir(dir, { recursive: true });
  const binds: BindMount[] = [];
  for (const name of readdirSync('/')) {
    const path = `/${name}`;
    const st = lstatSync(path);
    if (st.isSymbolicLink() && ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'].includes(name)) {
      await placeSymlink(readlinkSync(path), join(dir, name));
    } else if (
      st.isDirectory() &&
      ['usr', 'etc', 'opt', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'].includes(name)
    ) {
      binds.push({ source: path, destination: path });
    }
  }
  return binds;
}

/** Makes `path` a symlink to `target` unless it already is one; atomic (rename over). */
async function placeSymlink(target: string, path: string): Promise<void> {
  const current = await readlink(path).catch(() => undefined);
  if (current === target) return;
  const temp = `${path}.${randomHexId(8)}.tmp`;
  await symlink(target, temp);
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
