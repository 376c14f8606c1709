/**
 * The `builtin` driver: the harness's Driver over the built-in core, which runs in a process
 * of its own (core-process.ts) so that none of its work runs on the harness's event loop.
 * Specs map to the core's configs (host network → networkMode NODE); the core's ChurnErrors
 * cross with their codes, which is what failed operations are counted by.
 *
 * Cancelling: a call given a `signal` fails with CANCELLED as soon as it aborts, whether or not
 * the core has finished, as a CRI call does when its client cancels it. The core's work goes on
 * and its outcome is dropped: what it makes after all is the caller's to clean up (churn's
 * cycle cleanup and final sweep are never given the cut signal). Only a stop's grace period
 * hears the signal inside the core, so that it does not hold the container behind a cleanup.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onAbort, throwIfAborted } from '../common/abort.js';
import { ChurnError } from '../common/errors.js';
import { coreKeyOf } from '../runtime/executors/task-marker.js';
import type { RuntimeServiceOptions } from '../runtime/options.js';
import type { Container, ContainerConfig, PodSandbox, PodSandboxConfig } from '../runtime/types.js';
import { CoreProcess } from './core-process.js';
import type { CoreArgs, CoreMethod, CoreResult } from './core-process-protocol.js';
import type {
  CallOptions,
  ContainerInfo,
  ContainerSpec,
  Driver,
  ExecOutcome,
  ListFilter,
  PodInfo,
  PodSpec,
  RuntimeInfo,
} from './driver.js';
import { envPairs, execOutcomeOf, podNamespaces } from './spec-mapping.js';

/**
 * Options of {@link BuiltinDriver}: the core's options, with the state directory optional, and
 * the runtime handler its pods are run with.
 */
export interface BuiltinDriverOptions extends Partial<
  Pick<
    RuntimeServiceOptions,
    'executor' | 'imagesDir' | 'faults' | 'seed' | 'compat' | 'durable' | 'taskUser'
  >
> {
  /** State directory of the core; a temporary one, removed on close, when not given. */
  readonly stateDir?: string | undefined;
  /**
   * `stateDir` is a temporary directory the caller made (with {@link makeTemporaryStateDir},
   * so it can name it before the run): removed on close like one the driver makes.
   */
  readonly stateDirIsTemporary?: boolean;
  /** Runtime handler given to RunPodSandbox ('' for the core's default executor). */
  readonly runtimeHandler?: string;
}

/** Name prefix of the temporary state directories, under the OS temp dir. */
export const temporaryStateDirPrefix = 'churn-core-';

/** Makes a temporary state directory (0700) for a core: `$TMPDIR/churn-core-XXXXXX`. */
export function makeTemporaryStateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), temporaryStateDirPrefix));
}

/** The `builtin` driver; see the module comment. */
export class BuiltinDriver implements Driver {
  readonly kind = 'builtin' as const;
  readonly #coreOptions: Omit<
    BuiltinDriverOptions,
    'stateDir' | 'runtimeHandler' | 'stateDirIsTemporary'
  >;
  readonly #stateDir: string | undefined;
  readonly #temporary: boolean;
  readonly #runtimeHandler: string;
  #core: CoreProcess | undefined;
  #openStateDir: string | undefined;
  #connecting: Promise<RuntimeInfo> | undefined;

  constructor(options: BuiltinDriverOptions = {}) {
    const { stateDir, runtimeHandler, stateDirIsTemporary, ...coreOptions } = options;
    this.#coreOptions = coreOptions;
    this.#stateDir = stateDir;
    this.#temporary = stateDir === undefined || stateDirIsTemporary === true;
    this.#runtimeHandler = runtimeHandler ?? '';
  }

  /** The core process, once connected (for tests and tools that need more than the Driver API). */
  get core(): CoreProcess {
    if (this.#core === undefined)
      throw new ChurnError('UNAVAILABLE', 'builtin driver: not connected');
    return this.#core;
  }

  /** The core's state directory, once connected (a temporary one unless given). */
  get stateDir(): string | undefined {
    return this.#openStateDir;
  }

  connect(options?: CallOptions): Promise<RuntimeInfo> {
    const signal = options?.signal;
    throwIfAborted(signal, 'connect');
    this.#connecting ??= this.#connect();
    return signal === undefined
      ? this.#connecting
      : untilAborted(this.#connecting, signal, 'connect');
  }

  pullImage(image: string, options?: CallOptions): Promise<string> {
    return this.#call(options, 'pullImage', [image]);
  }

  runPod(spec: PodSpec, options?: CallOptions): Promise<string> {
    return this.#call(options, 'runPodSandbox', [podConfigOf(spec), this.#runtimeHandler]);
  }

  stopPod(podId: string, options?: CallOptions): Promise<void> {
    return this.#call(options, 'stopPodSandbox', [podId]);
  }

  removePod(podId: string, options?: CallOptions): Promise<void> {
    return this.#call(options, 'removePodSandbox', [podId]);
  }

  createContainer(
    podId: string,
    pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string> {
    return this.#call(options, 'createContainer', [
      podId,
      containerConfigOf(spec),
      podConfigOf(pod),
    ]);
  }

  startContainer(containerId: string, options?: CallOptions): Promise<void> {
    return this.#call(options, 'startContainer', [containerId]);
  }

  stopContainer(containerId: string, timeoutSec: number, options?: CallOptions): Promise<void> {
    return this.#call(options, 'stopContainer', [containerId, timeoutSec]);
  }

  removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    return this.#call(options, 'removeContainer', [containerId]);
  }

  async containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo> {
    return containerInfoOf(await this.#call(options, 'containerStatus', [containerId]));
  }

  async listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]> {
    const containers = await this.#call(options, 'listContainers', [
      {
        ...(filter.podId !== undefined ? { podId: filter.podId } : {}),
        ...(filter.labelSelector !== undefined ? { labelSelector: filter.labelSelector } : {}),
      },
    ]);
    return containers.map(containerInfoOf);
  }

  async listPods(filter: ListFilter, options?: CallOptions): Promise<PodInfo[]> {
    const pods = await this.#call(options, 'listPodSandbox', [
      {
        ...(filter.podId !== undefined ? { id: filter.podId } : {}),
        ...(filter.labelSelector !== undefined ? { labelSelector: filter.labelSelector } : {}),
      },
    ]);
    return pods.map(podInfoOf);
  }

  async exec(
    containerId: string,
    command: readonly string[],
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome> {
    const result = await this.#call(options, 'execSync', [containerId, command, timeoutSec]);
    return execOutcomeOf(result);
  }

  /** Stops the core (and every task it runs); removes the temporary state directory. */
  async close(): Promise<void> {
    const connecting = this.#connecting;
    this.#connecting = undefined;
    if (connecting !== undefined) await connecting.catch(() => undefined);
    const core = this.#core;
    this.#core = undefined;
    await core?.close();
    // A core that died (kill -9, crash) left its tasks running: a core reopened on its state
    // directory stops what the dead one recorded or marked, as `churn cleanup` would.
    if (core?.lost === true && this.#openStateDir !== undefined) {
      const sweeper = await CoreProcess.start({
        ...this.#coreOptions,
        stateDir: this.#openStateDir,
        removeStateDir: this.#temporary,
      }).catch(() => undefined);
      await sweeper?.close();
    }
    // The core removes a temporary state directory itself; this covers a core that died, and
    // a caller-made temporary one that never opened.
    const temporaryDir = this.#openStateDir ?? this.#stateDir;
    if (this.#temporary && temporaryDir !== undefined)
      await rm(temporaryDir, { recursive: true, force: true });
    this.#openStateDir = undefined;
  }

  async #connect(): Promise<RuntimeInfo> {
    const temporary = this.#temporary;
    const stateDir = this.#stateDir ?? (await makeTemporaryStateDir());
    this.#openStateDir = stateDir;
    try {
      this.#core = await CoreProcess.start({
        ...this.#coreOptions,
        stateDir,
        removeStateDir: temporary,
      });
    } catch (err) {
      if (temporary) await rm(stateDir, { recursive: true, force: true });
      this.#openStateDir = undefined;
      this.#connecting = undefined;
      throw err;
    }
    const version = await this.#core.call('version', []);
    const realStateDir = await realpath(stateDir);
    return {
      runtimeName: version.runtimeName,
      runtimeVersion: version.runtimeVersion,
      runtimeApiVersion: version.runtimeApiVersion,
      runtimeHandler: this.#runtimeHandler,
      pid: this.#core.pid,
      host: {
        roots: [realStateDir],
        taskMarkKey: await coreKeyOf(realStateDir),
        // A temporary state directory was made new for this core (mkdtemp): no task has its mark.
        ...(temporary ? { newTaskMark: true } : {}),
      },
    };
  }

  #call<M extends CoreMethod>(
    options: CallOptions | undefined,
    method: M,
    args: CoreArgs<M>,
  ): Promise<CoreResult<M>> {
    const signal = options?.signal;
    if (signal?.aborted === true)
      return Promise.reject(new ChurnError('CANCELLED', `builtin driver: ${method} cancelled`));
    const core = this.#core;
    if (core === undefined)
      return Promise.reject(
        new ChurnError('UNAVAILABLE', `builtin driver: ${method} before connect()`),
      );
    return core.call(method, args, signal);
  }
}

/**
 * `work`'s outcome, or CANCELLED as soon as `signal` aborts; `work` goes on either way and its
 * outcome is then dropped (handled, so its failure is never an unhandled rejection).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stopWatching = onAbort(signal, () => {
      const reason: unknown = signal.reason;
      const why = reason instanceof Error ? `: ${reason.message}` : '';
      reject(new ChurnError('CANCELLED', `builtin driver: ${what} cancelled${why}`));
    });
    void work.finally(stopWatching).then(resolve, reject);
  });
}

/** The core's pod config for a driver pod spec. */
function podConfigOf(spec: PodSpec): PodSandboxConfig {
  const namespaces = podNamespaces(spec);
  return {
    metadata: { name: spec.name, uid: spec.uid, namespace: spec.namespace, attempt: spec.attempt },
    hostname: spec.name,
    logDirectory: spec.logDirectory,
    labels: spec.labels,
    annotations: spec.annotations,
    networkMode: namespaces.network,
    pidMode: namespaces.pid,
    ipcMode: namespaces.ipc,
  };
}

/** The core's container config for a driver container spec. */
function containerConfigOf(spec: ContainerSpec): ContainerConfig {
  return {
    metadata: { name: spec.name, attempt: spec.attempt },
    image: spec.image,
    command: spec.command,
    args: spec.args,
    workingDir: spec.workingDir,
    envs: envPairs(spec),
    labels: spec.labels,
    annotations: spec.annotations,
    logPath: spec.logPath,
  };
}

function containerInfoOf(c: Container): ContainerInfo {
  return {
    id: c.id,
    podId: c.podId,
    name: c.config.metadata.name,
    state: c.state,
    labels: c.config.labels,
    exitCode: c.exitCode,
  };
}

function podInfoOf(p: PodSandbox): PodInfo {
  return { id: p.id, name: p.config.metadata.name, state: p.state, labels: p.config.labels };
}
