/**
 * Domain types of the built-in runtime core. They follow CRI `runtime.v1` in meaning (so the
 * CRI server is a thin mapping) but are shaped for TypeScript: camelCase, string unions for
 * enums, bigint nanoseconds for every timestamp so no precision is lost.
 */

/** Key/value string maps as CRI uses them for labels and annotations. */
export type StringMap = Readonly<Record<string, string>>;

/** Pod sandbox state, as CRI's PodSandboxState. */
export type PodState = 'READY' | 'NOTREADY';

/** Container state, as CRI's ContainerState. */
export type ContainerState = 'CREATED' | 'RUNNING' | 'EXITED' | 'UNKNOWN';

/** Namespace mode, as CRI's NamespaceMode: POD (shared in the pod), CONTAINER, NODE (host). */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** What identifies a pod to its creator: name, uid, namespace and attempt must be unique together. */
export interface PodMetadata {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt: number;
}

/** What a pod is created from (CRI PodSandboxConfig, the parts the core uses). */
export interface PodSandboxConfig {
  readonly metadata: PodMetadata;
  readonly hostname: string;
  /** Directory for the logs of the pod's containers; container `logPath`s are relative to it. */
  readonly logDirectory: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  /** Network namespace mode; churn's pods default to NODE (host network, no CNI). */
  readonly networkMode: NamespaceMode;
  /** PID namespace mode. */
  readonly pidMode: NamespaceMode;
  /** IPC namespace mode. */
  readonly ipcMode: NamespaceMode;
  /** CRI linux.security_context.privileged: the pod may have privileged containers. */
  readonly privileged?: boolean;
  /** CRI linux.sysctls: kernel parameters set in the pod's namespaces (runc executor only). */
  readonly sysctls?: StringMap;
}

/** A pod sandbox as the core stores it. */
export interface PodSandbox {
  readonly id: string;
  readonly config: PodSandboxConfig;
  readonly state: PodState;
  readonly createdAtNs: bigint;
  readonly runtimeHandler: string;
}

/** What identifies a container within its pod. */
export interface ContainerMetadata {
  readonly name: string;
  readonly attempt: number;
}

/** How mounts under a bound host path propagate: CRI's MountPropagation without its prefix. */
export type MountPropagation = 'PRIVATE' | 'HOST_TO_CONTAINER' | 'BIDIRECTIONAL';

/** A host path bound into a container (CRI Mount). */
export interface Mount {
  /** Absolute path in the container. */
  readonly containerPath: string;
  /** Absolute path on the host, as given (symlinks are resolved when the container starts). */
  readonly hostPath: string;
  readonly readonly: boolean;
  /** Accepted and ignored: churn applies no SELinux labels. */
  readonly selinuxRelabel: boolean;
  readonly propagation: MountPropagation;
}

/** An environment variable. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** What a container is created from (CRI ContainerConfig, the parts the core uses). */
export interface ContainerConfig {
  readonly metadata: ContainerMetadata;
  /** Image reference as the client gave it (a tag, a digest or an image id). */
  readonly image: string;
  /** Overrides the image's entrypoint when non-empty. */
  readonly command: readonly string[];
  /** Overrides the image's cmd when non-empty. */
  readonly args: readonly string[];
  /** Working directory inside the rootfs; the image's when empty. */
  readonly workingDir: string;
  readonly envs: readonly KeyValue[];
  readonly labels: StringMap;
  readonly annotations: StringMap;
  /** Log file path relative to the pod's logDirectory; no log file when empty. */
  readonly logPath: string;
  /** The container's stdin stays open for attach (CRI `stdin`). */
  readonly stdin?: boolean;
  /** An attach that ends its input closes the container's stdin (CRI `stdin_once`). */
  readonly stdinOnce?: boolean;
  /** CRI `mounts`, as given; reported back by ContainerStatus. */
  readonly mounts?: readonly Mount[];
  /** CRI linux.security_context.readonly_rootfs: no writable layer over the image. */
  readonly readonlyRootfs?: boolean;
  /**
   * CRI linux.security_context.namespace_options.pid of the container: CONTAINER (its own),
   * TARGET (that of container `pidTargetId`), else the pod's. Absent: the pod's pid mode.
   */
  readonly pidMode?: NamespaceMode;
  readonly pidTargetId?: string;
  /**
   * CRI linux.security_context.privileged and .capabilities (names such as NET_ADMIN, or ALL).
   * The runc executor applies them as containerd does; the process executor refuses them (it
   * cannot change its tasks' privileges).
   */
  readonly privileged?: boolean;
  readonly addCapabilities?: readonly string[];
  readonly dropCapabilities?: readonly string[];
  /** CRI run_as_user, run_as_username, run_as_group and supplemental_groups (see oci-identity.ts). */
  readonly runAsUser?: number;
  readonly runAsUsername?: string;
  readonly runAsGroup?: number;
  readonly supplementalGroups?: readonly number[];
  /** CRI no_new_privs: the task cannot gain privileges (setuid binaries, file capabilities). */
  readonly noNewPrivs?: boolean;
  /** CRI masked_paths and readonly_paths; absent or empty: none (as containerd 1.6's CRI). */
  readonly maskedPaths?: readonly string[];
  readonly readonlyPaths?: readonly string[];
}

/** The identity a container's processes run as, resolved when it is created (oci-identity.ts). */
export interface ProcessUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary gids, sorted, `gid` included. */
  readonly additionalGids: readonly number[];
  /** True when the config or the image names a user; false for the default (root). */
  readonly named: boolean;
}

/** A container as the core stores it. */
export interface Container {
  readonly id: string;
  readonly podId: string;
  readonly config: ContainerConfig;
  /** The resolved image id (`sha256:…` of the config) the container runs. */
  readonly imageRef: string;
  readonly state: ContainerState;
  readonly createdAtNs: bigint;
  /** 0n until started. */
  readonly startedAtNs: bigint;
  /** 0n until exited. */
  readonly finishedAtNs: bigint;
  /** Meaningful once EXITED. */
  readonly exitCode: number;
  /** Short machine-readable reason once EXITED: `Completed`, `Error`, `OOMKilled`, … */
  readonly reason: string;
  readonly message: string;
  /** Host pid of the task's main process while it runs (0 otherwise). */
  readonly pid: number;
  /** Absolute path of the container's CRI-format log file, or '' when it has none. */
  readonly logPathAbs: string;
  /** Who its processes run as; absent in the state of an earlier core (then root, unnamed). */
  readonly user?: ProcessUser;
}

/** An image in the core's store. */
export interface Image {
  /** `sha256:…` digest of the image config: the image id. */
  readonly id: string;
  /** Normalised references naming this image (`docker.io/library/busybox:latest`). */
  readonly repoTags: readonly string[];
  /** `name@sha256:…` of the manifest. */
  readonly repoDigests: readonly string[];
  /** Sum of the compressed layer sizes, in bytes. */
  readonly sizeBytes: number;
  /** The image config's user, entrypoint, cmd, env and working dir. */
  readonly spec: ImageSpec;
  /** True for the built-in `host` image, whose rootfs is the host's `/`. */
  readonly builtin: boolean;
}

/** The parts of an OCI image config the core runs containers with. */
export interface ImageSpec {
  readonly user: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
}

/** Filters for listing pods; every field set must match. */
export interface PodFilter {
  readonly id?: string;
  readonly state?: PodState;
  readonly labelSelector?: StringMap;
}

/** Filters for listing containers; every field set must match. */
export interface ContainerFilter {
  readonly id?: string;
  readonly podId?: string;
  readonly state?: ContainerState;
  readonly labelSelector?: StringMap;
}

/** Result of running a command in a container and waiting for it. */
export interface ExecResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
}

/** A terminal's size in character cells. */
export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The client's side of an interactive exec or an attach (CRI streaming): what it sends, where
 * the output goes, and when it is gone.
 */
export interface StreamIo {
  /** What the client types; its end is the command's end of input. Absent: no input. */
  readonly stdin: NodeJS.ReadableStream | undefined;
  /** Absent: the output is discarded. With a tty, it carries stderr too. */
  readonly stdout: NodeJS.WritableStream | undefined;
  /** Absent with a tty, or when the client did not ask for it. */
  readonly stderr: NodeJS.WritableStream | undefined;
  /** Run the command on a terminal. */
  readonly tty: boolean;
  /** Registers the listener of the client's terminal size (tty only): the first size and each change. */
  readonly onResize: (listener: (size: TerminalSize) => void) => void;
  /** Aborts when the client is gone: the command is killed. */
  readonly signal: AbortSignal;
}

/** CPU and memory of one container at one instant. */
export interface ContainerStats {
  readonly id: string;
  readonly metadata: ContainerMetadata;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly timestampNs: bigint;
  /** Cumulative CPU time, user + system, in nanoseconds. */
  readonly cpuUsageCoreNs: bigint;
  /** Resident memory in bytes (working set). */
  readonly memoryWorkingSetBytes: number;
}

/** What the core says about itself (CRI VersionResponse). */
export interface VersionInfo {
  readonly version: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly runtimeApiVersion: string;
}

/** One runtime condition (CRI RuntimeCondition). */
export interface RuntimeCondition {
  readonly type: 'RuntimeReady' | 'NetworkReady';
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

/** Usage of the filesystem that holds images (CRI FilesystemUsage). */
export interface FilesystemUsage {
  readonly timestampNs: bigint;
  readonly mountpoint: string;
  readonly usedBytes: number;
  readonly inodesUsed: number;
}

/** A lifecycle transition, published for every change of a pod, container or image. */
export interface LifecycleEvent {
  readonly kind:
    | 'pod_created'
    | 'pod_stopped'
    | 'pod_removed'
    | 'container_created'
    | 'container_started'
    | 'container_exited'
    | 'container_removed'
    | 'image_pulled'
    | 'image_removed';
  /** Id of the pod, container or image the event is about. */
  readonly id: string;
  /** Pod of a container event. */
  readonly podId?: string;
  readonly timestampNs: bigint;
}
