/**
 * The one interface through which the harness knows a runtime. `builtin` implements it with
 * the core in a child process, `cri` with a gRPC client; load/ imports nothing else from drivers/.
 *
 * Methods reject with a ChurnError whose `code` is a runtime code (gRPC status names such as
 * NOT_FOUND or UNAVAILABLE): that code is what failed operations are counted by. They never
 * retry on their own: a retry would hide a failure from the numbers.
 */

/** Names of the drivers; the scenario's `target.driver`. */
export type DriverKind = 'builtin' | 'cri' | 'containerd';

/** What the runtime says about itself, recorded in the report's environment. */
export interface RuntimeInfo {
  /** e.g. `containerd`, `churn-core`, `cri-o`. */
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  /** CRI API version, e.g. `v1`. */
  readonly runtimeApiVersion: string;
  /** The runtime handler the run uses ('' for the runtime's default). */
  readonly runtimeHandler: string;
  /** Process id of the runtime daemon when the driver knows it (for resource sampling). */
  readonly pid?: number;
  /** What the driver knows of the runtime's footprint on the host, for the leak audit. */
  readonly host?: RuntimeHostScope;
}

/**
 * Where a runtime's objects show on the host, as far as the driver knows (the leak audit finds
 * containerd's and CRI-O's state directories from the daemon's command line itself).
 */
export interface RuntimeHostScope {
  /** Directories under which the runtime mounts its containers' filesystems. */
  readonly roots?: readonly string[];
  /** The built-in core's key in the CHURN_CORE_TASK mark of its tasks' processes. */
  readonly taskMarkKey?: string;
  /**
   * No process can carry taskMarkKey's mark yet: the key names a state directory made new for
   * this core (a temporary one). The audit's baseline then skips reading every process's
   * environment for the mark, the bulk of its cost on a host with many processes.
   */
  readonly newTaskMark?: boolean;
  /** The containerd namespace the driver's containers live in (shims carry it). */
  readonly shimNamespace?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (the driver rejects with CANCELLED). */
  readonly signal?: AbortSignal;
}

/** What a pod is created with. */
export interface PodSpec {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Host network (no CNI). churn's pods use it unless a scenario says otherwise. */
  readonly hostNetwork: boolean;
  /** Directory for the pod's container logs; '' for none. */
  readonly logDirectory: string;
}

/** What a container is created with. */
export interface ContainerSpec {
  readonly name: string;
  readonly attempt: number;
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly workingDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Log path relative to the pod's logDirectory; '' for none. */
  readonly logPath: string;
}

/** Container state as the harness sees it. */
export type ContainerStateName = 'CREATED' | 'RUNNING' | 'EXITED' | 'UNKNOWN';

/** A container as listed or inspected. */
export interface ContainerInfo {
  readonly id: string;
  readonly podId: string;
  readonly name: string;
  readonly state: ContainerStateName;
  readonly labels: Readonly<Record<string, string>>;
  /** Meaningful when EXITED. */
  readonly exitCode: number;
}

/** A pod as listed. */
export interface PodInfo {
  readonly id: string;
  readonly name: string;
  readonly state: 'READY' | 'NOTREADY';
  readonly labels: Readonly<Record<string, string>>;
}

/** Filter for listings: every field set must match. */
export interface ListFilter {
  readonly labelSelector?: Readonly<Record<string, string>>;
  readonly podId?: string;
}

/** Result of ExecSync. */
export interface ExecOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A runtime, as the harness drives it. */
export interface Driver {
  readonly kind: DriverKind;
  /** Connects (or starts the built-in core's process) and returns what the runtime says about itself. */
  connect(options?: CallOptions): Promise<RuntimeInfo>;
  /** Makes `image` available locally; returns the image id. */
  pullImage(image: string, options?: CallOptions): Promise<string>;
  runPod(spec: PodSpec, options?: CallOptions): Promise<string>;
  stopPod(podId: string, options?: CallOptions): Promise<void>;
  removePod(podId: string, options?: CallOptions): Promise<void>;
  createContainer(
    podId: string,
    pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string>;
  startContainer(containerId: string, options?: CallOptions): Promise<void>;
  /** Stops with SIGTERM, then SIGKILL after `timeoutSec` (0: at once). */
  stopContainer(containerId: string, timeoutSec: number, options?: CallOptions): Promise<void>;
  removeContainer(containerId: string, options?: CallOptions): Promise<void>;
  containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo>;
  listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]>;
  listPods(filter: ListFilter, options?: CallOptions): Promise<PodInfo[]>;
  /** Runs `command` in the container and waits (DEADLINE_EXCEEDED after `timeoutSec` > 0). */
  exec(
    containerId: string,
    command: readonly string[],
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome>;
  /** Releases connections; for `builtin`, stops the core, its tasks and its process. */
  close(): Promise<void>;
}
