/**
 * The built-in core's in-process service: CRI's RuntimeService and ImageService over the
 * stores, the executors and the persisted state. The lifecycle it enforces, and the errors of
 * illegal calls, are drawn and decided in lifecycle.ts.
 *
 * Concurrency: calls on one pod or one container run one at a time (KeyedMutex), always
 * taking a pod's lock before its containers' locks. Reads take no lock. A task's exit is
 * recorded without a lock (it must not wait behind a stop that is waiting for it) and is the
 * only change made outside one.
 *
 * Recovery: `open` loads pods, containers and images from the state directory. A container
 * RUNNING in the state whose process is gone becomes EXITED with exit code 255, reason
 * `Unknown` (as containerd); one whose process still runs (same pid and /proc start time: a
 * core that crashed) stays RUNNING and is watched by polling. Then every executor that may
 * hold something of an earlier core sweeps what no recovered task owns: a task started just
 * before a crash, before the state recorded it, is killed, not left running unknown. `close`
 * stops every task and the executors kill whatever is left of them, so a closed core leaves no
 * process behind.
 *
 * Images, as containerd: RemoveImage of an image that containers use succeeds at once and
 * hides it (image-store.ts); those containers keep running on it, new ones cannot name it, and
 * its files go when the last of them is removed, or at the next opening if a crash came first.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { isAbsolute, join, normalize } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { wallClockNs, type Clock } from '../common/clock.js';
import { onAbort, unboundedController } from '../common/abort.js';
import { ChurnError, errors } from '../common/errors.js';
import { randomHexId } from '../common/random-id.js';
import type { RuntimeApi } from './api.js';
import { ContainerStore, type ContainerEntry, type ContainerRecord } from './container-store.js';
import { EventBus } from './events.js';
import { defaultPath } from './executors/command-path.js';
import type {
  Executor,
  ExecutorName,
  ExitStatus,
  PidNamespace,
  SandboxSpec,
  TaskSpec,
} from './executors/executor.js';
import { resolveProcessUser } from './executors/oci-identity.js';
import { ImageAccountsCache } from './image-accounts-cache.js';
import { defaultMaskedPaths, defaultReadonlyPaths } from './executors/oci-security.js';
import { ProcessExecutor } from './executors/process-executor.js';
import { RuncExecutor, runcLeftoversExist } from './executors/runc-executor.js';
import { FaultInjector } from './faults.js';
import { attachToTask } from './executors/task-stdio.js';
import { taskIdentity } from './executors/task-user.js';
import { hostImageId } from './images/host-image.js';
import { followLog } from './log-follow.js';
import { ArchiveCatalog } from './images/archive-catalog.js';
import { ImageStore, type ImageRecord } from './images/image-store.js';
import { tryNormalizeReference } from './images/reference.js';
import { KeyedMutex } from './keyed-mutex.js';
import {
  checkCreate,
  checkAttach,
  checkExec,
  checkRemove,
  checkReopenLog,
  checkStart,
  exitReason,
  refuse,
  unknownExitCode,
} from './lifecycle.js';
import {
  resolveRuntimeServiceOptions,
  type ResolvedRuntimeServiceOptions,
  type RuntimeServiceOptions,
} from './options.js';
import { PodStore, type PodRecord } from './pod-store.js';
import { isProcessAlive, readProcStat } from './proc-info.js';
import type { IdResolution } from './id-prefix.js';
import { StateJournal, type StateRecovery } from './state-journal.js';
import { coreStateValidators } from './state-schema.js';
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ExecResult,
  FilesystemUsage,
  Image,
  LifecycleEvent,
  Mount,
  PodFilter,
  PodSandbox,
  PodSandboxConfig,
  ProcessUser,
  RuntimeCondition,
  StreamIo,
  StringMap,
  VersionInfo,
} from './types.js';

/** The core's name in Version. */
export const coreRuntimeName = 'churn-core';
/** The core's version in Version. */
export const coreVersion = '0.1.0';

/** The executors, in one place: each opened on first use. */
const executorFactories: Readonly<
  Record<ExecutorName, (options: ResolvedRuntimeServiceOptions) => Promise<Executor>>
> = {
  process: (o) =>
    ProcessExecutor.open({
      stateDir: o.stateDir,
      clock: o.clock,
      taskUsers: o.taskUserPolicy,
      supervised: o.supervisedTasks,
    }),
  runc: (o) => RuncExecutor.open({ stateDir: o.stateDir, runcPath: o.runcPath, clock: o.clock }),
};

/** What opening the core found in its state directory, and what it did about it. */
export interface CoreRecovery {
  /** What the state files gave, and what they lost. */
  readonly state: StateRecovery;
  /** Pods recovered; `podsNotReady` of them were READY but their sandbox had died. */
  readonly pods: number;
  readonly podsNotReady: number;
  /** Containers recovered: `running` still running, `exited` RUNNING but their task gone. */
  readonly containers: number;
  readonly running: number;
  readonly exited: number;
  /** Containers removed because their pod was not recovered. */
  readonly removed: number;
  /** Leftover processes (or runc containers) of an earlier core that no container owned, killed. */
  readonly killed: number;
}

interface LockFile {
  readonly pid: number;
  readonly startTime: string;
}

/** The built-in core; open with {@link RuntimeService.open}. */
export class RuntimeService implements RuntimeApi {
  /** The options it runs with, defaults filled in. */
  readonly options: ResolvedRuntimeServiceOptions;
  readonly #clock: Clock;
  readonly #pods = new PodStore();
  readonly #containers = new ContainerStore();
  readonly #journal: StateJournal;
  readonly #images: ImageStore;
  readonly #catalog: ArchiveCatalog | undefined;
  /**
   * Each executor as it opens: the promise is cached before it settles, so callers that race
   * on a first use share one opening (and one executor); a failed opening is forgotten.
   */
  readonly #opening = new Map<ExecutorName, Promise<Executor>>();
  /** The executors that opened; only these hold pods, so only these are looked up by pod. */
  readonly #executors = new Map<ExecutorName, Executor>();
  readonly #faults: FaultInjector;
  readonly #events = new EventBus();
  readonly #locks = new KeyedMutex();
  readonly #accounts = new ImageAccountsCache();
  readonly #pendingNames = new Set<string>();
  /** Images held by CreateContainer calls under way, by id: in use though no container has them yet. */
  readonly #imagePins = new Map<string, number>();
  /**
   * Aborted when close begins: cuts injected latencies and stop grace periods, so closing
   * waits for neither. Every pending latency and grace period listens on it.
   */
  readonly #closed = unboundedController();
  #closing: Promise<void> | undefined;
  #recovery: Omit<CoreRecovery, 'state'> = {
    pods: 0,
    podsNotReady: 0,
    containers: 0,
    running: 0,
    exited: 0,
    removed: 0,
    killed: 0,
  };

  private constructor(
    options: ResolvedRuntimeServiceOptions,
    images: ImageStore,
    journal: StateJournal,
  ) {
    this.options = options;
    this.#clock = options.clock;
    this.#journal = journal;
    this.#images = images;
    this.#catalog =
      options.imagesDir === undefined ? undefined : new ArchiveCatalog(options.imagesDir);
    this.#faults = new FaultInjector(
      options.faults,
      options.seed,
      options.clock,
      this.#closed.signal,
    );
  }

  /**
   * Opens a core on `options.stateDir`, recovering what an earlier core left there. Throws
   * INVALID_ARGUMENT for bad options, FAILED_PRECONDITION when another live core holds the
   * directory or the executor cannot run here.
   */
  static async open(options: RuntimeServiceOptions): Promise<RuntimeService> {
    const resolved = resolveRuntimeServiceOptions(options);
    await takeStateDir(resolved.stateDir);
    try {
      const images = await ImageStore.open(join(resolved.stateDir, 'images'), {
        durable: resolved.durable,
      });
      const journal = await StateJournal.open(resolved.stateDir, {
        durable: resolved.durable,
        validators: coreStateValidators,
        onError: resolved.log,
      });
      const service = new RuntimeService(resolved, images, journal);
      try {
        await service.#executor(resolved.executor);
        await service.#recover();
        for (const id of images.hiddenIds()) await service.#releaseImage(id);
        const killed = await service.#sweepLeftovers();
        service.#recovery = { ...service.#recovery, killed };
      } catch (err) {
        await service.#closeExecutors();
        await journal.close();
        throw err;
      }
      return service;
    } catch (err) {
      await rm(join(resolved.stateDir, 'core.lock'), { force: true });
      throw err;
    }
  }

  /** What opening found in the state directory and did about it (serve prints it). */
  get recovery(): CoreRecovery {
    return { state: this.#journal.recovery, ...this.#recovery };
  }

  version(): Promise<VersionInfo> {
    return Promise.resolve({
      version: '0.1.0',
      runtimeName: coreRuntimeName,
      // SemVer build metadata names the executor, so reports of runs against `churn serve`
      // with process and with runc tell them apart.
      runtimeVersion: `${coreVersion}+${this.options.executor}`,
      runtimeApiVersion: 'v1',
    });
  }

  status(): Promise<{ conditions: RuntimeCondition[]; info: Record<string, string> }> {
    const ready = this.#closing === undefined;
    return Promise.resolve({
      conditions: [
        { type: 'RuntimeReady', status: ready, reason: ready ? '' : 'Closed', message: '' },
        {
          type: 'NetworkReady',
          status: ready,
          reason: ready ? '' : 'Closed',
          message: 'host network',
        },
      ],
      info: {
        executor: this.options.executor,
        stateDir: this.options.stateDir,
        compat: this.options.compat,
        pid: String(process.pid),
      },
    });
  }

  // ── pods ──────────────────────────────────────────────────────────────────────────────

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler: string): Promise<string> {
    this.#checkOpen();
    await this.#faults.apply('run_pod');
    checkPodConfig(config);
    const executorName = this.#executorNameFor(runtimeHandler);
    checkExecutorCanRunPod(config, executorName);
    const existing = this.#pods.idByMetadata(config.metadata);
    const nameKey = `pod:${JSON.stringify(config.metadata)}`;
    if (existing !== undefined || this.#pendingNames.has(nameKey)) {
      refuse(
        'duplicate-pod',
        this.options.compat,
        `pod ${describePod(config)} already exists${existing === undefined ? '' : ` as "${existing}"`}`,
      );
    }
    this.#pendingNames.add(nameKey);
    try {
      const executor = await this.#executor(executorName);
      const id = randomHexId();
      const sandboxRef = await executor.createSandbox(sandboxSpecOf(id, config));
      const record: PodRecord = {
        pod: { id, config, state: 'READY', createdAtNs: wallClockNs(), runtimeHandler },
        executor: executorName,
        sandboxRef,
      };
      try {
        await this.#journal.put('pod', id, record);
      } catch (err) {
        await executor.removeSandbox(id);
        throw err;
      }
      this.#pods.set(record);
      this.#emit('pod_created', id);
      return id;
    } finally {
      this.#pendingNames.delete(nameKey);
    }
  }

  async stopPodSandbox(podId: string): Promise<void> {
    this.#checkOpen();
    podId = this.#podId(podId);
    await this.#faults.apply('stop_pod');
    if (this.#pods.get(podId) === undefined) {
      refuse('stop-unknown-pod', this.options.compat, `pod "${podId}" not found`);
      return;
    }
    await this.#locks.run(podId, async () => {
      const record = this.#pods.get(podId);
      if (record === undefined) return;
      await this.#stopPodLocked(record);
    });
  }

  async removePodSandbox(podId: string): Promise<void> {
    this.#checkOpen();
    podId = this.#podId(podId);
    await this.#faults.apply('remove_pod');
    await this.#locks.run(podId, async () => {
      const record = this.#pods.get(podId);
      if (record === undefined) return; // idempotent
      // As containerd: stop the pod (and so its containers), then remove every container.
      await this.#stopPodLocked(record);
      for (const id of this.#containers.idsOfPod(podId)) {
        await this.#locks.run(id, () => this.#removeContainerLocked(id));
      }
      await this.#executorOf(record).removeSandbox(podId);
      await this.#journal.delete('pod', podId);
      this.#pods.delete(podId);
      this.#emit('pod_removed', podId);
    });
  }

  podSandboxStatus(podId: string): Promise<PodSandbox> {
    return settle(() => {
      podId = this.#podId(podId);
      const record = this.#pods.get(podId);
      if (record === undefined) throw errors.notFound(`pod "${podId}"`);
      return record.pod;
    });
  }

  listPodSandbox(filter: PodFilter = {}): Promise<PodSandbox[]> {
    return settle(() => {
      const out: PodSandbox[] = [];
      const candidates =
        filter.id !== undefined
          ? [this.#pods.get(this.#podId(filter.id))].filter((r) => r !== undefined)
          : this.#pods.all();
      for (const { pod } of candidates) {
        if (filter.state !== undefined && pod.state !== filter.state) continue;
        if (!matchesLabels(pod.config.labels, filter.labelSelector)) continue;
        out.push(pod);
      }
      return out;
    });
  }

  // ── containers ────────────────────────────────────────────────────────────────────────

  async createContainer(
    podId: string,
    config: ContainerConfig,
    podConfig: PodSandboxConfig,
  ): Promise<string> {
    this.#checkOpen();
    podId = this.#podId(podId);
    await this.#faults.apply('create');
    checkContainerConfig(config);
    if (this.#pods.get(podId) === undefined) throw errors.notFound(`pod "${podId}"`);
    return this.#locks.run(podId, async () => {
      const pod = this.#pods.get(podId);
      if (pod === undefined) throw errors.notFound(`pod "${podId}"`);
      checkCreate(pod.pod, this.options.compat);
      checkExecutorCanRun(config, pod.executor);
      if (config.privileged === true && podConfig.privileged !== true) {
        // As containerd: the sandbox config sent with the request must allow it.
        throw errors.invalidArgument(
          `container "${config.metadata.name}": privileged, but the pod's sandbox config is not (linux.security_context.privileged)`,
        );
      }
      this.#checkPidTarget(config, podId);
      await makeMissingHostPaths(config.mounts ?? []);
      const existing = this.#containers.idByName(podId, config.metadata);
      if (existing !== undefined) {
        refuse(
          'duplicate-container',
          this.options.compat,
          `container "${config.metadata.name}" attempt ${config.metadata.attempt} in pod "${podId}" already exists as "${existing}"`,
        );
      }
      const image = this.#images.get(config.image);
      if (image === undefined) throw errors.notFound(`image "${config.image}"`);
      if (argvOf(config, image.image).length === 0) {
        throw errors.invalidArgument(
          `container "${config.metadata.name}": no command (neither the config nor image ${config.image} gives one)`,
        );
      }
      // Pinned from here until the container exists (or the create failed): a RemoveImage in
      // between keeps the image's files for it.
      const imageId = image.image.id;
      this.#imagePins.set(imageId, (this.#imagePins.get(imageId) ?? 0) + 1);
      try {
        return await this.#createContainerLocked(podId, pod, config, image);
      } finally {
        const left = (this.#imagePins.get(imageId) ?? 1) - 1;
        if (left > 0) this.#imagePins.set(imageId, left);
        else this.#imagePins.delete(imageId);
        await this.#releaseImage(imageId);
      }
    });
  }

  /** The rest of CreateContainer, once the image is pinned. Pod lock held. */
  async #createContainerLocked(
    podId: string,
    pod: PodRecord,
    config: ContainerConfig,
    image: ImageRecord,
  ): Promise<string> {
    const user = await this.#userOf(config, image, pod.executor);
    if (pod.executor === 'process') {
      taskIdentity(user, this.options.taskUserPolicy, `container "${config.metadata.name}"`);
    }
    const id = randomHexId();
    const logDir = pod.pod.config.logDirectory;
    const container: Container = {
      id,
      podId,
      config,
      imageRef: image.image.id,
      state: 'CREATED',
      createdAtNs: wallClockNs(),
      startedAtNs: 0n,
      finishedAtNs: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      pid: 0,
      logPathAbs: logDir !== '' && config.logPath !== '' ? join(logDir, config.logPath) : '',
      user,
    };
    await this.#journal.put('container', id, { container, taskRef: undefined });
    this.#containers.add({
      container,
      task: undefined,
      taskRef: undefined,
      exitRecorded: undefined,
    });
    this.#emit('container_created', id, podId);
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    await this.#faults.apply('start');
    if (this.#containers.get(containerId) === undefined)
      throw errors.notFound(`container "${containerId}"`);
    await this.#locks.run(containerId, async () => {
      const entry = this.#containers.get(containerId);
      if (entry === undefined) throw errors.notFound(`container "${containerId}"`);
      const pod = this.#pods.get(entry.container.podId);
      if (pod === undefined)
        throw errors.notFound(`pod "${entry.container.podId}" of container "${containerId}"`);
      checkStart(entry.container, pod.pod, this.options.compat);
      const spec = this.#taskSpec(entry.container, pod);
      let task;
      try {
        task = await this.#executorOf(pod).start(spec);
      } catch (err) {
        // As containerd: a container that failed to start is EXITED with the error.
        const failed: Container = {
          ...entry.container,
          state: 'EXITED',
          finishedAtNs: wallClockNs(),
          exitCode: 128,
          reason: 'StartError',
          message: (err as Error).message,
        };
        entry.container = failed;
        await this.#journal.put('container', containerId, {
          container: failed,
          taskRef: undefined,
        });
        this.#emit('container_exited', containerId, failed.podId);
        throw err instanceof ChurnError ? err.wrap(`container "${containerId}": start`) : err;
      }
      const running: Container = {
        ...entry.container,
        state: 'RUNNING',
        startedAtNs: task.startedAtNs,
        pid: task.ref.pid,
      };
      try {
        await this.#journal.put('container', containerId, {
          container: running,
          taskRef: task.ref,
        });
      } catch (err) {
        // Not recorded, so not started: the task goes and the container stays CREATED.
        await task.kill('SIGKILL');
        await task.exited;
        throw err;
      }
      entry.task = task;
      entry.taskRef = task.ref;
      entry.container = running;
      this.#watchExit(entry);
      this.#emit('container_started', containerId, entry.container.podId);
    });
  }

  /**
   * See {@link RuntimeApi.stopContainer}. When `signal` aborts during the grace period, the
   * call stops waiting and fails with CANCELLED, leaving the task as the stop signal left it
   * (as containerd does when the request's context ends); a later stop or close kills it.
   */
  async stopContainer(
    containerId: string,
    timeoutSec: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    await this.#faults.apply('stop');
    if (this.#containers.get(containerId) === undefined) {
      refuse('stop-unknown-container', this.options.compat, `container "${containerId}" not found`);
      return;
    }
    await this.#locks.run(containerId, async () => {
      const entry = this.#containers.get(containerId);
      if (entry === undefined) return;
      await this.#stopTask(entry, Math.max(0, timeoutSec) * 1000, signal);
    });
  }

  async removeContainer(containerId: string): Promise<void> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    await this.#faults.apply('remove');
    await this.#locks.run(containerId, () => this.#removeContainerLocked(containerId));
  }

  containerStatus(containerId: string): Promise<Container> {
    return settle(() => {
      containerId = this.#containerId(containerId);
      const entry = this.#containers.get(containerId);
      if (entry === undefined) throw errors.notFound(`container "${containerId}"`);
      return entry.container;
    });
  }

  listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    return settle(() => {
      const out: Container[] = [];
      const candidates =
        filter.id !== undefined
          ? [this.#containers.get(this.#containerId(filter.id))].filter((e) => e !== undefined)
          : filter.podId !== undefined
            ? this.#containers
                .idsOfPod(this.#podId(filter.podId))
                .map((id) => this.#containers.get(id)!)
            : this.#containers.all();
      for (const { container } of candidates) {
        if (filter.podId !== undefined && container.podId !== filter.podId) continue;
        if (filter.state !== undefined && container.state !== filter.state) continue;
        if (!matchesLabels(container.config.labels, filter.labelSelector)) continue;
        out.push(container);
      }
      return out;
    });
  }

  async execSync(
    containerId: string,
    cmd: readonly string[],
    timeoutSec: number,
  ): Promise<ExecResult> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    await this.#faults.apply('exec');
    const { entry, pod } = this.#execTarget(containerId, cmd);
    return this.#executorOf(pod).exec(
      this.#taskSpec(entry.container, pod),
      entry.task!,
      cmd,
      Math.max(0, timeoutSec) * 1000,
    );
  }

  async execStream(containerId: string, cmd: readonly string[], io: StreamIo): Promise<number> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    await this.#faults.apply('exec');
    const { entry, pod } = this.#execTarget(containerId, cmd);
    return this.#executorOf(pod).execStream(
      this.#taskSpec(entry.container, pod),
      entry.task!,
      cmd,
      io,
    );
  }

  checkExec(containerId: string, cmd: readonly string[]): Promise<void> {
    return Promise.resolve().then(() => {
      this.#checkOpen();
      containerId = this.#containerId(containerId);
      this.#execTarget(containerId, cmd);
    });
  }

  checkAttach(containerId: string): Promise<void> {
    return Promise.resolve().then(() => {
      this.#checkOpen();
      containerId = this.#containerId(containerId);
      this.#attachTarget(containerId);
    });
  }

  async attach(containerId: string, io: StreamIo): Promise<void> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    const { container, task } = this.#attachTarget(containerId);
    if (task.stdio !== undefined) {
      await attachToTask(task.stdio, task.exited, io, container.config.stdinOnce === true);
    } else {
      await followLog(container.logPathAbs, io, task.exited, this.#clock);
    }
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    this.#checkOpen();
    containerId = this.#containerId(containerId);
    await this.#locks.run(containerId, async () => {
      const entry = this.#containers.get(containerId);
      if (entry === undefined) throw errors.notFound(`container "${containerId}"`);
      checkReopenLog(entry.container, this.options.compat);
      if (entry.container.logPathAbs === '') return; // no log to reopen
      if (entry.task?.reopenLog === undefined) {
        throw errors.failedPrecondition(
          `container "${containerId}": its log is not written by this server (a task recovered after a restart)`,
        );
      }
      try {
        await entry.task.reopenLog();
      } catch (err) {
        throw errors.failedPrecondition(
          `container "${containerId}": cannot reopen its log ${entry.container.logPathAbs}: ${(err as Error).message}`,
        );
      }
    });
  }

  /**
   * The id of the container `name` names (its id or a unique prefix, as containerd resolves
   * them), or `name` itself when it names none; an ambiguous prefix is refused.
   */
  #containerId(name: string): string {
    return this.#resolved(this.#containers.resolve(name), name, 'containers');
  }

  /** As {@link #containerId}, for pods. */
  #podId(name: string): string {
    return this.#resolved(this.#pods.resolve(name), name, 'pods');
  }

  #resolved(resolution: IdResolution, name: string, what: string): string {
    if (resolution.kind === 'id') return resolution.id;
    if (resolution.kind === 'ambiguous') {
      refuse(
        'ambiguous-id',
        this.options.compat,
        `id prefix "${name}" matches ${resolution.matches} ${what}; give more of the id`,
      );
    }
    return name;
  }

  /** The running container `containerId` with a log, for an attach. */
  #attachTarget(containerId: string): {
    container: Container;
    task: NonNullable<ContainerEntry['task']>;
  } {
    const entry = this.#containers.get(containerId);
    if (entry === undefined) throw errors.notFound(`container "${containerId}"`);
    checkAttach(entry.container, this.options.compat);
    if (entry.task === undefined) {
      throw errors.failedPrecondition(`container "${containerId}": has no running task`);
    }
    if (entry.task.stdio === undefined && entry.container.logPathAbs === '') {
      throw errors.failedPrecondition(
        `container "${containerId}": has no log (no log_directory on its pod, or no log_path) and no stdin: nothing to attach to`,
      );
    }
    return { container: entry.container, task: entry.task };
  }

  async portForward(podId: string, port: number): Promise<Duplex> {
    this.#checkOpen();
    podId = this.#podId(podId);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw errors.invalidArgument(`pod "${podId}": port ${port} is not in 1..65535`);
    }
    const record = this.#pods.get(podId);
    if (record === undefined) throw errors.notFound(`pod "${podId}"`);
    if (record.pod.state !== 'READY') {
      throw errors.failedPrecondition(
        `pod "${podId}": cannot port-forward in state ${record.pod.state}`,
      );
    }
    return this.#executorOf(record).dialPod(sandboxSpecOf(podId, record.pod.config), port);
  }

  /** The running container `containerId` and its pod, for an exec of `cmd`. */
  #execTarget(
    containerId: string,
    cmd: readonly string[],
  ): { entry: ContainerEntry; pod: PodRecord } {
    const entry = this.#containers.get(containerId);
    if (entry === undefined) throw errors.notFound(`container "${containerId}"`);
    checkExec(entry.container, this.options.compat);
    if (cmd.length === 0)
      throw errors.invalidArgument(`container "${containerId}": exec needs a command`);
    const pod = this.#pods.get(entry.container.podId);
    if (pod === undefined || entry.task === undefined) {
      throw errors.failedPrecondition(`container "${containerId}": has no running task to exec in`);
    }
    return { entry, pod };
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    containerId = this.#containerId(containerId);
    const entry = this.#containers.get(containerId);
    if (entry === undefined) throw errors.notFound(`container "${containerId}"`);
    return this.#statsOf(entry);
  }

  async listContainerStats(filter: ContainerFilter = {}): Promise<ContainerStats[]> {
    const containers = await this.listContainers(filter);
    return Promise.all(containers.map((c) => this.#statsOf(this.#containers.get(c.id)!)));
  }

  // ── images ────────────────────────────────────────────────────────────────────────────

  listImages(): Promise<Image[]> {
    return settle(() => {
      return this.#images.list();
    });
  }

  imageStatus(ref: string): Promise<Image | undefined> {
    return settle(() => {
      return this.#images.get(ref)?.image;
    });
  }

  async pullImage(ref: string): Promise<string> {
    this.#checkOpen();
    await this.#faults.apply('pull');
    const present = this.#images.get(ref);
    if (present !== undefined) return present.image.id;
    const normalized = tryNormalizeReference(ref);
    if (normalized === undefined)
      throw errors.invalidArgument(`image reference "${ref}" is not valid`);
    const archive = this.#catalog === undefined ? undefined : await this.#catalog.find(normalized);
    if (archive === undefined) {
      throw new ChurnError(
        'NOT_FOUND',
        `image "${ref}"${normalized === ref ? '' : ` (${normalized})`} not found: not in the image store${
          this.options.imagesDir === undefined
            ? ', and no images directory is configured'
            : ` nor among the archives in ${this.options.imagesDir}`
        }`,
      );
    }
    const imported = await this.importImageArchive(archive);
    const found = this.#images.get(ref)?.image ?? imported[0];
    if (found === undefined) throw errors.notFound(`image "${ref}" in ${archive}`);
    return found.id;
  }

  /** Imports an OCI image-layout archive into the store (what `ctr images import` does). */
  async importImageArchive(path: string): Promise<Image[]> {
    this.#checkOpen();
    const records = await this.#images.importArchive(path);
    for (const r of records) this.#emit('image_pulled', r.image.id);
    return records.map((r) => r.image);
  }

  /**
   * Removes the image `ref` names (every tag of it), as containerd: at once, even while
   * containers use it (they keep it until the last of them is removed; see the module comment).
   * An absent image is no error, as CRI says.
   */
  async removeImage(ref: string): Promise<void> {
    this.#checkOpen();
    const removed = await this.#images.remove(ref, (id) => this.#imageInUse(id));
    if (removed !== undefined) this.#emit('image_removed', removed.id);
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    return [await this.#images.fsUsage(wallClockNs())];
  }

  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  /**
   * Stops every task (SIGKILL), records their exits, flushes state and releases the state
   * directory. Idempotent; later calls other than reads fail with UNAVAILABLE.
   */
  close(): Promise<void> {
    this.#closed.abort();
    this.#closing ??= this.#close();
    return this.#closing;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────

  async #close(): Promise<void> {
    const running = this.#containers.all().filter((e) => e.task !== undefined);
    await Promise.all(
      running.map((entry) =>
        this.#locks.run(entry.container.id, () => this.#stopTask(entry, 0)).catch(() => undefined),
      ),
    );
    for (const record of this.#pods.all()) {
      await this.#executorOf(record)
        .removeSandbox(record.pod.id)
        .catch(() => undefined);
    }
    await this.#closeExecutors();
    await this.#journal.close();
    await rm(join(this.options.stateDir, 'core.lock'), { force: true });
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw errors.unavailable('the runtime core is closed');
  }

  #emit(kind: LifecycleEvent['kind'], id: string, podId?: string): void {
    this.#events.publish({
      kind,
      id,
      ...(podId === undefined ? {} : { podId }),
      timestampNs: wallClockNs(),
    });
  }

  #executorNameFor(runtimeHandler: string): ExecutorName {
    if (runtimeHandler === '') return this.options.executor;
    if (runtimeHandler === 'process' || runtimeHandler === 'runc') return runtimeHandler;
    throw errors.invalidArgument(
      `runtime handler "${runtimeHandler}" is not configured: use "" (default), "process" or "runc"`,
    );
  }

  #executor(name: ExecutorName): Promise<Executor> {
    const existing = this.#opening.get(name);
    if (existing !== undefined) return existing;
    const opening = executorFactories[name](this.options).then(
      (executor) => {
        this.#executors.set(name, executor);
        return executor;
      },
      (err: unknown) => {
        this.#opening.delete(name);
        throw err;
      },
    );
    this.#opening.set(name, opening);
    return opening;
  }

  /** Closes every executor, waiting for those still opening (a failed opening has none). */
  async #closeExecutors(): Promise<void> {
    const settled = await Promise.allSettled(this.#opening.values());
    await Promise.all(
      settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : Promise.resolve())),
    );
  }

  #executorOf(record: PodRecord): Executor {
    const executor = this.#executors.get(record.executor);
    if (executor === undefined)
      throw errors.internal(`executor ${record.executor} of pod ${record.pod.id} is not open`);
    return executor;
  }

  /**
   * Records the pod NOTREADY and marks it so first (so no start slips in), then stops its
   * containers. Pod lock held.
   */
  async #stopPodLocked(record: PodRecord): Promise<void> {
    const wasReady = record.pod.state === 'READY';
    const stopped: PodRecord = { ...record, pod: { ...record.pod, state: 'NOTREADY' } };
    if (wasReady) await this.#journal.put('pod', record.pod.id, stopped);
    this.#pods.set(stopped);
    for (const id of this.#containers.idsOfPod(record.pod.id)) {
      await this.#locks.run(id, async () => {
        const entry = this.#containers.get(id);
        if (entry !== undefined) await this.#stopTask(entry, 0);
      });
    }
    await this.#executorOf(record).removeSandbox(record.pod.id);
    if (wasReady) this.#emit('pod_stopped', record.pod.id);
  }

  /** Removes a container, killing it first when it runs. Container lock held. */
  async #removeContainerLocked(containerId: string): Promise<void> {
    const entry = this.#containers.get(containerId);
    if (entry === undefined) return; // idempotent
    if (checkRemove(entry.container) === 'kill-first') await this.#stopTask(entry, 0);
    await this.#journal.delete('container', containerId);
    this.#containers.delete(containerId);
    this.#emit('container_removed', containerId, entry.container.podId);
    await this.#releaseImage(entry.container.imageRef);
  }

  /** Whether a container, or a CreateContainer under way, uses image `id`. */
  #imageInUse(id: string): boolean {
    if (this.#imagePins.has(id)) return true;
    return this.#containers.all().some((e) => e.container.imageRef === id);
  }

  /**
   * Deletes the files of image `id` when it was removed and nothing uses it any more. A
   * failure is logged, not thrown: the container that released it is gone either way, and the
   * next opening purges the image again.
   */
  async #releaseImage(id: string): Promise<void> {
    if (!this.#images.isHidden(id)) return;
    try {
      await this.#images.purge(id, (imageId) => this.#imageInUse(imageId));
    } catch (err) {
      this.options.log(
        `image "${id}": removed, but its files were not deleted: ${(err as Error).message}`,
      );
    }
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs` (at once for 0); resolves once the exit is recorded.
   * A no-op unless the container is RUNNING. Closing the core ends the grace period at once;
   * `signal` aborting ends it with CANCELLED, no SIGKILL sent. Container lock held.
   */
  async #stopTask(entry: ContainerEntry, graceMs: number, signal?: AbortSignal): Promise<void> {
    const task = entry.task;
    if (entry.container.state !== 'RUNNING' || task === undefined) return;
    if (graceMs > 0) {
      await task.kill('SIGTERM');
      // The grace period ends early when the core closes or `signal` (perhaps the run-long cut
      // signal) aborts.
      const timer = new AbortController();
      const cut = (): void => timer.abort();
      const stopWatchingClose = onAbort(this.#closed.signal, cut);
      const stopWatchingSignal = signal === undefined ? undefined : onAbort(signal, cut);
      const exitedInTime = await Promise.race([
        task.exited.then(() => true),
        this.#clock.sleep(graceMs, timer.signal).then(
          () => false,
          () => false,
        ),
      ]);
      timer.abort();
      stopWatchingClose();
      stopWatchingSignal?.();
      if (!exitedInTime && signal?.aborted === true && !this.#closed.signal.aborted) {
        throw new ChurnError(
          'CANCELLED',
          `container "${entry.container.id}": stop cancelled during its ${graceMs} ms grace period`,
        );
      }
      if (!exitedInTime) await task.kill('SIGKILL');
    } else {
      await task.kill('SIGKILL');
    }
    await task.exited;
    await entry.exitRecorded;
  }

  /** Records the task's exit when it comes: persisted, then EXITED, then the event. */
  #watchExit(entry: ContainerEntry): void {
    const task = entry.task!;
    entry.exitRecorded = task.exited.then(async (status: ExitStatus) => {
      if (entry.task !== task) return;
      const exited: Container = {
        ...entry.container,
        state: 'EXITED',
        pid: 0,
        finishedAtNs: status.finishedAtNs,
        exitCode: status.exitCode,
        reason: status.reason ?? exitReason(status.exitCode),
        message: status.message ?? '',
      };
      // A removed container must not be written back.
      if (this.#containers.get(exited.id) === entry) {
        await this.#journal
          .put('container', exited.id, { container: exited, taskRef: undefined })
          .catch((err: unknown) =>
            // The task is gone whatever the disk says: a restarted core reads it RUNNING with
            // no task and marks it EXITED (255, Unknown).
            this.options.log(
              `container "${exited.id}": exit ${exited.exitCode} not recorded: ${(err as Error).message}`,
            ),
          );
      }
      entry.task = undefined;
      entry.taskRef = undefined;
      entry.container = exited;
      this.#emit('container_exited', entry.container.id, entry.container.podId);
    });
  }

  #taskSpec(container: Container, pod: PodRecord): TaskSpec {
    const image = this.#images.byId(container.imageRef);
    if (image === undefined)
      throw errors.notFound(`image "${container.imageRef}" of container "${container.id}"`);
    const env = mergeEnv(image.image.spec.env, container.config.envs);
    const cwd = container.config.workingDir || image.image.spec.workingDir || '/';
    return {
      containerId: container.id,
      sandbox: sandboxSpecOf(pod.pod.id, pod.pod.config),
      rootfs: image.rootfs,
      argv: argvOf(container.config, image.image),
      env,
      cwd: isAbsolute(cwd) ? cwd : `/${cwd}`,
      logPath: container.logPathAbs,
      ...(container.config.stdin === true ? { stdin: true } : {}),
      ...(container.user === undefined ? {} : { user: container.user }),
      security: container.config, // the TaskSecurity fields of the CRI config
      ...(container.config.mounts?.length ? { mounts: container.config.mounts } : {}),
      ...(container.config.readonlyRootfs === true ? { readonlyRootfs: true } : {}),
      pid: this.#pidNamespaceOf(container.config, pod.pod.config),
    };
  }

  /**
   * Who `config`'s processes run as in `image` (oci-identity.ts); INVALID_ARGUMENT if unknown.
   * Names are looked up in the image's accounts, but for the process executor in the host's:
   * its tasks see the host's files (executors/task-user.ts).
   */
  async #userOf(
    config: ContainerConfig,
    image: ImageRecord,
    executor: ExecutorName,
  ): Promise<ProcessUser> {
    const request = { ...config, imageUser: image.image.spec.user };
    const onHost = executor === 'process';
    try {
      return resolveProcessUser(
        request,
        await this.#accounts.get(
          onHost ? { id: hostImageId, rootfs: '/' } : { id: image.image.id, rootfs: image.rootfs },
        ),
        onHost ? "the host's" : "the image's",
      );
    } catch (err) {
      if (err instanceof ChurnError) {
        throw errors.invalidArgument(`container "${config.metadata.name}": ${err.message}`);
      }
      throw err;
    }
  }

  /**
   * The container's pid namespace, as containerd picks it: CONTAINER its own, TARGET the
   * target's (pid 0 when that container is not running), else the pod's. A config without a
   * pid mode of its own (the builtin driver's) follows the pod's mode.
   */
  #pidNamespaceOf(config: ContainerConfig, podConfig: PodSandboxConfig): PidNamespace {
    const mode = config.pidMode ?? (podConfig.pidMode === 'CONTAINER' ? 'CONTAINER' : 'POD');
    if (mode === 'CONTAINER') return { kind: 'own' };
    if (mode !== 'TARGET') return { kind: 'pod' };
    const target = this.#containers.get(config.pidTargetId ?? '');
    return { kind: 'target', pid: target?.task?.ref.pid ?? 0 };
  }

  /** As containerd: a TARGET pid mode names a running container of the same pod. */
  #checkPidTarget(config: ContainerConfig, podId: string): void {
    if (config.pidMode !== 'TARGET') return;
    const targetId = config.pidTargetId ?? '';
    const target = this.#containers.get(targetId)?.container;
    const problem =
      target === undefined
        ? 'does not exist'
        : target.podId !== podId
          ? `belongs to pod "${target.podId}", not "${podId}"`
          : target.state !== 'RUNNING'
            ? `is not running (${target.state})`
            : undefined;
    if (problem !== undefined) {
      throw errors.failedPrecondition(
        `container "${config.metadata.name}": pid namespace target container "${targetId}" ${problem}`,
      );
    }
  }

  async #statsOf(entry: ContainerEntry): Promise<ContainerStats> {
    const c = entry.container;
    const pod = this.#pods.get(c.podId);
    const usage =
      entry.task !== undefined && pod !== undefined
        ? await this.#executorOf(pod).usage(entry.task)
        : { cpuNs: 0n, memoryBytes: 0 };
    return {
      id: c.id,
      metadata: c.config.metadata,
      labels: c.config.labels,
      annotations: c.config.annotations,
      timestampNs: wallClockNs(),
      cpuUsageCoreNs: usage.cpuNs,
      memoryWorkingSetBytes: usage.memoryBytes,
    };
  }

  /**
   * After recovery: each executor that an earlier core may have used kills what no recovered
   * task owns. `process` always (opening it costs nothing); `runc` when it is open or left
   * state behind (a crash before the first runc pod was recorded), if it can run here at all.
   */
  async #sweepLeftovers(): Promise<number> {
    await this.#executor('process');
    if (!this.#opening.has('runc') && (await runcLeftoversExist(this.options.stateDir))) {
      await this.#executor('runc').catch(() => undefined);
    }
    let killed = 0;
    for (const executor of this.#executors.values()) killed += await executor.sweep();
    return killed;
  }

  async #recover(): Promise<void> {
    const counts = { pods: 0, podsNotReady: 0, containers: 0, running: 0, exited: 0, removed: 0 };
    for (const record of this.#journal.load<PodRecord>('pod')) {
      counts.pods += 1;
      const executor = await this.#executor(record.executor);
      const spec = sandboxSpecOf(record.pod.id, record.pod.config);
      if (
        record.pod.state === 'READY' &&
        !(await executor.recoverSandbox(spec, record.sandboxRef))
      ) {
        // Its sandbox died with the earlier core: the pod is NOTREADY, as in containerd.
        const notReady: PodRecord = {
          ...record,
          pod: { ...record.pod, state: 'NOTREADY' },
          sandboxRef: undefined,
        };
        await this.#journal.put('pod', record.pod.id, notReady);
        this.#pods.set(notReady);
        counts.podsNotReady += 1;
        continue;
      }
      this.#pods.set(record);
    }
    for (const record of this.#journal.load<ContainerRecord>('container')) {
      const { container } = record;
      const pod = this.#pods.get(container.podId);
      if (pod === undefined) {
        await this.#journal.delete('container', container.id);
        counts.removed += 1;
        continue;
      }
      counts.containers += 1;
      const entry: ContainerEntry = {
        container,
        task: undefined,
        taskRef: undefined,
        exitRecorded: undefined,
      };
      this.#containers.add(entry);
      if (container.state !== 'RUNNING') continue;
      const ref = record.taskRef;
      const task =
        ref === undefined || this.#images.byId(container.imageRef) === undefined
          ? undefined
          : await this.#executorOf(pod).recover(this.#taskSpec(container, pod), ref);
      if (task !== undefined) {
        entry.task = task;
        entry.taskRef = ref;
        this.#watchExit(entry);
        counts.running += 1;
        continue;
      }
      counts.exited += 1;
      entry.container = {
        ...container,
        state: 'EXITED',
        pid: 0,
        finishedAtNs: wallClockNs(),
        exitCode: unknownExitCode,
        reason: 'Unknown',
        message: 'the task was gone when the core restarted',
      };
      await this.#journal.put('container', container.id, {
        container: entry.container,
        taskRef: undefined,
      });
    }
    this.#recovery = { ...counts, killed: 0 };
  }
}

/** Takes the state directory for this process: refused while another live process holds it. */
async function takeStateDir(stateDir: string): Promise<void> {
  const lockPath = join(stateDir, 'core.lock');
  try {
    const held = JSON.parse(await readFile(lockPath, 'utf8')) as LockFile;
    if (held.pid !== process.pid && (await isProcessAlive(held.pid, held.startTime))) {
      throw errors.failedPrecondition(
        `state directory ${stateDir} is in use by another core (pid ${held.pid}); use another stateDir`,
      );
    }
  } catch (err) {
    if (err instanceof ChurnError) throw err;
    // No lock, or an unreadable one: take it.
  }
  const self = await readProcStat(process.pid);
  const lock: LockFile = { pid: process.pid, startTime: self?.startTime ?? '' };
  await writeFileAtomic(lockPath, JSON.stringify(lock), { durable: false, mode: 0o600 });
}

function sandboxSpecOf(podId: string, config: PodSandboxConfig): SandboxSpec {
  return {
    podId,
    hostname: config.hostname,
    networkMode: config.networkMode,
    pidMode: config.pidMode,
    ipcMode: config.ipcMode,
    ...(config.sysctls === undefined ? {} : { sysctls: config.sysctls }),
  };
}

function describePod(config: PodSandboxConfig): string {
  const m = config.metadata;
  return `${m.namespace}/${m.name} (uid ${m.uid}, attempt ${m.attempt})`;
}

function checkPodConfig(config: PodSandboxConfig): void {
  const m = config.metadata;
  if (m.name === '') throw errors.invalidArgument('pod: metadata.name is empty');
  if (!Number.isInteger(m.attempt) || m.attempt < 0) {
    throw errors.invalidArgument(`pod ${m.name}: metadata.attempt must be a non-negative integer`);
  }
  if (config.logDirectory !== '' && !isAbsolute(config.logDirectory)) {
    throw errors.invalidArgument(
      `pod ${m.name}: logDirectory "${config.logDirectory}" must be absolute`,
    );
  }
}

function checkContainerConfig(config: ContainerConfig): void {
  const m = config.metadata;
  if (m.name === '') throw errors.invalidArgument('container: metadata.name is empty');
  if (!Number.isInteger(m.attempt) || m.attempt < 0) {
    throw errors.invalidArgument(
      `container ${m.name}: metadata.attempt must be a non-negative integer`,
    );
  }
  if (config.image === '') throw errors.invalidArgument(`container ${m.name}: image is empty`);
  if (config.logPath.split('/').includes('..') || isAbsolute(config.logPath)) {
    throw errors.invalidArgument(
      `container ${m.name}: logPath "${config.logPath}" must stay inside the pod's log directory`,
    );
  }
}

/**
 * Refuses what `executor` cannot do rather than ignoring it: the process executor runs tasks
 * on the host with the privileges of their user alone (executors/task-user.ts), so it can
 * neither grant (privileged, added capabilities) nor take away (dropped capabilities,
 * no_new_privs) privileges, set supplementary groups, or mask paths. The default masked and
 * read-only paths (what the kubelet sends) are accepted and not applied: its tasks see the
 * host's /proc and /sys anyway.
 */
function checkExecutorCanRun(config: ContainerConfig, executor: ExecutorName): void {
  if (executor !== 'process') return;
  const masked = (config.maskedPaths ?? []).filter((p) => !kubeletMaskedPaths.has(p));
  const readOnly = (config.readonlyPaths ?? []).filter((p) => !kubeletReadonlyPaths.has(p));
  const asked = [
    ...(config.privileged === true ? ['privileged'] : []),
    ...(config.addCapabilities ?? []).map((c) => `add capability ${c}`),
    ...(config.dropCapabilities ?? []).map((c) => `drop capability ${c}`),
    ...(config.noNewPrivs === true ? ['no_new_privs'] : []),
    ...(config.supplementalGroups ?? []).map((g) => `supplemental group ${g}`),
    ...masked.map((p) => `masked path ${p}`),
    ...readOnly.map((p) => `read-only path ${p}`),
  ];
  if (asked.length > 0) {
    throw errors.invalidArgument(
      `container "${config.metadata.name}": the process executor cannot apply ${asked.join(', ')}: its tasks run on the host with their user's privileges alone, no capabilities of their own, no supplementary groups, nothing masked; use --executor runc`,
    );
  }
  const filesystem = processCannotMount(config);
  if (filesystem.length > 0) {
    throw errors.invalidArgument(
      `container "${config.metadata.name}": the process executor runs tasks in the host's filesystem and cannot change it (${filesystem.join(', ')}); use --executor runc`,
    );
  }
}

/** The kubelet's default masked paths (containerd's, and /sys/devices/virtual/powercap). */
const kubeletMaskedPaths: ReadonlySet<string> = new Set([
  ...defaultMaskedPaths,
  '/sys/devices/virtual/powercap',
]);
const kubeletReadonlyPaths: ReadonlySet<string> = new Set(defaultReadonlyPaths);

/**
 * What the process executor cannot do with a container's filesystem. Its tasks see the host's
 * filesystem, so a mount of a host path at that same path, read-write and private, is what
 * they have anyway and passes; anything else would be silently not applied.
 */
function processCannotMount(config: ContainerConfig): string[] {
  const problems = config.readonlyRootfs === true ? ['readonly_rootfs'] : [];
  for (const m of config.mounts ?? []) {
    const what = `mount of ${m.hostPath} at ${m.containerPath}`;
    if (normalize(m.hostPath) !== normalize(m.containerPath))
      problems.push(`${what}: another path`);
    if (m.readonly) problems.push(`${what}: read-only`);
    if (m.propagation !== 'PRIVATE') problems.push(`${what}: propagation ${m.propagation}`);
  }
  return problems;
}

/** Refuses a pod the process executor cannot make: it has no namespaces to set sysctls in. */
function checkExecutorCanRunPod(config: PodSandboxConfig, executor: ExecutorName): void {
  const sysctls = Object.keys(config.sysctls ?? {});
  if (executor !== 'process' || sysctls.length === 0) return;
  throw errors.invalidArgument(
    `pod ${config.metadata.name}: the process executor has no namespaces of its own, so it cannot set sysctls (${sysctls.join(', ')}) without changing the host's; use --executor runc`,
  );
}

/** As containerd at CreateContainer: a missing host path of a mount is made, mode 0755. */
async function makeMissingHostPaths(mounts: readonly Mount[]): Promise<void> {
  for (const m of mounts) {
    try {
      await stat(m.hostPath).catch(async (err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(m.hostPath, { recursive: true, mode: 0o755 });
      });
    } catch (err) {
      throw errors.failedPrecondition(`mount host path ${m.hostPath}: ${(err as Error).message}`);
    }
  }
}

/** argv as CRI and docker make it: command replaces the entrypoint, args the image's cmd. */
function argvOf(config: ContainerConfig, image: Image): string[] {
  if (config.command.length > 0) return [...config.command, ...config.args];
  const cmd = config.args.length > 0 ? config.args : image.spec.cmd;
  return [...image.spec.entrypoint, ...cmd];
}

/** The image's environment with the container's variables set over it. */
function mergeEnv(imageEnv: readonly string[], envs: ContainerConfig['envs']): string[] {
  const out = new Map<string, string>();
  for (const kv of imageEnv) {
    const eq = kv.indexOf('=');
    if (eq > 0) out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const { key, value } of envs) out.set(key, value);
  if (!out.has('PATH')) out.set('PATH', defaultPath);
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** `fn()` as a promise: what it throws becomes a rejection, as from an async function. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function matchesLabels(labels: StringMap, selector: StringMap | undefined): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}
