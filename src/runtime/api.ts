/**
 * The built-in core's in-process API: CRI's RuntimeService and ImageService as TypeScript.
 * `RuntimeService` (service.ts) implements it; the `builtin` driver calls it directly and the
 * CRI server is a thin layer forwarding every RPC to it.
 *
 * Every method rejects with a ChurnError whose code is a runtime code (NOT_FOUND,
 * ALREADY_EXISTS, FAILED_PRECONDITION, INVALID_ARGUMENT, …): the CRI layer maps those to gRPC
 * status. Semantics follow containerd's CRI plugin: stop and remove of an unknown id succeed.
 */
import type { Duplex } from 'node:stream';
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ExecResult,
  FilesystemUsage,
  Image,
  LifecycleEvent,
  PodFilter,
  PodSandbox,
  PodSandboxConfig,
  RuntimeCondition,
  StreamIo,
  VersionInfo,
} from './types.js';

/** The core's API; see the module comment for the error contract. */
export interface RuntimeApi {
  version(): Promise<VersionInfo>;
  status(): Promise<{ conditions: RuntimeCondition[]; info: Record<string, string> }>;

  /** Creates a pod and makes it READY; returns its id. ALREADY_EXISTS for a duplicate metadata. */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler: string): Promise<string>;
  /** Stops the pod's containers (as StopContainer with timeout 0) and marks it NOTREADY. */
  stopPodSandbox(podId: string): Promise<void>;
  /** Removes a pod and its containers, stopping running ones first (as containerd does). */
  removePodSandbox(podId: string): Promise<void>;
  podSandboxStatus(podId: string): Promise<PodSandbox>;
  listPodSandbox(filter?: PodFilter): Promise<PodSandbox[]>;

  /** Creates a container in CREATED state; FAILED_PRECONDITION when the pod is not READY. */
  createContainer(
    podId: string,
    config: ContainerConfig,
    podConfig: PodSandboxConfig,
  ): Promise<string>;
  /** CREATED → RUNNING; FAILED_PRECONDITION from any other state. */
  startContainer(containerId: string): Promise<void>;
  /**
   * SIGTERM, then SIGKILL after `timeoutSec` (at once for 0); a no-op unless RUNNING. When
   * `signal` aborts during the grace period, fails with CANCELLED and leaves the task to a
   * later stop or close.
   */
  stopContainer(containerId: string, timeoutSec: number, signal?: AbortSignal): Promise<void>;
  /**
   * FAILED_PRECONDITION while RUNNING (compat `containerd`: kills it, then removes it, as
   * containerd and CRI's "forcibly removed" do); succeeds for an unknown id.
   */
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<Container>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  /** Runs `cmd` in the container; DEADLINE_EXCEEDED (process killed) after `timeoutSec` > 0. */
  execSync(containerId: string, cmd: readonly string[], timeoutSec: number): Promise<ExecResult>;
  /**
   * Runs `cmd` in the container wired to a streaming client and resolves with its exit code
   * once it exited and its output is delivered; killed when `io.signal` aborts. NOT_FOUND,
   * FAILED_PRECONDITION (not running) as {@link execSync}.
   */
  execStream(containerId: string, cmd: readonly string[], io: StreamIo): Promise<number>;
  /**
   * What {@link execStream} would refuse, checked before a streaming URL is given out:
   * NOT_FOUND, the `exec-not-running` rule of lifecycle.ts, INVALID_ARGUMENT for no command.
   */
  checkExec(containerId: string, cmd: readonly string[]): Promise<void>;
  /**
   * Starts a new log file at the container's log path, after a rotator moved the old one away
   * (CRI ReopenContainerLog). NOT_FOUND; the `reopen-log-not-running` rule of lifecycle.ts; a
   * container without a log: nothing to do.
   */
  reopenContainerLog(containerId: string): Promise<void>;
  /** What {@link attach} would refuse (NOT_FOUND, `attach-not-running`, no log), checked early. */
  checkAttach(containerId: string): Promise<void>;
  /**
   * Streams the container's output (from its CRI log, from now on) to `io` until the container
   * exits or `io.signal` aborts. Containers have no stdin here, so what the client sends is
   * discarded, as containerd does for a container created without stdin.
   */
  attach(containerId: string, io: StreamIo): Promise<void>;
  /**
   * A connection to `port` on the loopback of the pod's network (its own namespace, or the
   * host's for a host-network pod). NOT_FOUND for an unknown pod, FAILED_PRECONDITION when it
   * is not READY, UNAVAILABLE when nothing listens there.
   */
  portForward(podId: string, port: number): Promise<Duplex>;
  containerStats(containerId: string): Promise<ContainerStats>;
  listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]>;

  listImages(): Promise<Image[]>;
  /** The image named by `ref` (tag, digest or id), or undefined when absent. */
  imageStatus(ref: string): Promise<Image | undefined>;
  /** Resolves `ref` from the store or the configured archive directory; returns the image id. */
  pullImage(ref: string): Promise<string>;
  removeImage(ref: string): Promise<void>;
  imageFsInfo(): Promise<FilesystemUsage[]>;

  /** Subscribes to lifecycle events; returns the unsubscribe function. */
  onEvent(listener: (event: LifecycleEvent) => void): () => void;
  /** Stops every task (no orphans, no zombies), flushes state and releases resources. */
  close(): Promise<void>;
}
