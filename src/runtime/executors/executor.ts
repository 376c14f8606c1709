/**
 * How the core runs a container's process: an {@link Executor} starts tasks, signals them,
 * reports their exit and runs exec'd commands. `process` runs them as child processes of the
 * core; `runc` as OCI containers through runc, the division of labour of containerd and its
 * shim. The stop policy (SIGTERM, grace period, SIGKILL) is the service's, not the executor's.
 */
import type { Duplex } from 'node:stream';
import type {
  ContainerConfig,
  ExecResult,
  Mount,
  NamespaceMode,
  ProcessUser,
  StreamIo,
  StringMap,
} from '../types.js';
import type { TaskStdio } from './task-stdio.js';

/** Names of the executors. */
export type ExecutorName = 'process' | 'runc';

/** What a pod's tasks share; given to the executor with each task. */
export interface SandboxSpec {
  readonly podId: string;
  readonly hostname: string;
  readonly networkMode: NamespaceMode;
  readonly pidMode: NamespaceMode;
  readonly ipcMode: NamespaceMode;
  /** Kernel parameters to set in the pod's namespaces (CRI linux.sysctls). */
  readonly sysctls?: StringMap;
}

/** The privileges a container's config asks for (CRI linux.security_context). */
export type TaskSecurity = Pick<
  ContainerConfig,
  | 'privileged'
  | 'addCapabilities'
  | 'dropCapabilities'
  | 'noNewPrivs'
  | 'maskedPaths'
  | 'readonlyPaths'
>;
/** A container's pid namespace: the pod's, its own, or that of another container's task. */
export type PidNamespace =
  | { readonly kind: 'pod' }
  | { readonly kind: 'own' }
  | { readonly kind: 'target'; readonly pid: number };

/** What to run for a container. */
export interface TaskSpec {
  readonly containerId: string;
  readonly sandbox: SandboxSpec;
  /** Host path of the image's rootfs ('/' for the host image). */
  readonly rootfs: string;
  /** argv, resolved from the image and the container config; never empty. */
  readonly argv: readonly string[];
  /** KEY=VALUE pairs. */
  readonly env: readonly string[];
  /** Working directory inside the rootfs. */
  readonly cwd: string;
  /** Absolute path of the CRI-format log file, or '' for no log. */
  readonly logPath: string;
  /** Keep the task's stdin open and its output live for attach (task-stdio.ts). */
  readonly stdin?: boolean;
  /** Who the task runs as (runc; absent: root). Process tasks run as the core, always. */
  readonly user?: ProcessUser;
  /** The privileges asked for; absent: none asked. */
  readonly security?: TaskSecurity;
  /** Host paths to bind into the container (CRI mounts). */
  readonly mounts?: readonly Mount[];
  /** No writable layer: the image's rootfs read-only (CRI readonly_rootfs). */
  readonly readonlyRootfs?: boolean;
  /** Absent: the pod's (`pod`) when the pod's pid mode is POD or NODE, else its own. */
  readonly pid?: PidNamespace;
}

/** How a task ended. */
export interface ExitStatus {
  /** Exit code, 128+signal for a signal, 255 when unknown. */
  readonly exitCode: number;
  readonly finishedAtNs: bigint;
  /** Set when the status could not be observed (task of an earlier core). */
  readonly reason?: string;
  readonly message?: string;
}

/** What identifies a running task across restarts of the core; persisted with the container. */
export interface TaskRef {
  readonly executor: ExecutorName;
  /** Host pid of the task's main process. */
  readonly pid: number;
  /** /proc start time of `pid`, so a reused pid is not mistaken for the task. */
  readonly pidStartTime: string;
}

/** A started task. */
export interface Task {
  readonly ref: TaskRef;
  readonly startedAtNs: bigint;
  /** Resolves once the task has exited and its output is flushed; never rejects. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` to every process of the task; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Live stdio, for a task started with `stdin` (not for one recovered from an earlier core). */
  readonly stdio?: TaskStdio;
  /**
   * Starts a new log file at the task's log path (CRI ReopenContainerLog); absent for a task
   * without a log or recovered from an earlier core (its output is not ours to write).
   */
  reopenLog?(): Promise<void>;
}

/** CPU and memory of a task. */
export interface TaskUsage {
  readonly cpuNs: bigint;
  readonly memoryBytes: number;
}

/** Runs tasks; see the module comment. */
export interface Executor {
  readonly name: ExecutorName;
  /**
   * Prepares what a pod's tasks share (runc: a pause process holding the pod's namespaces);
   * returns what identifies it across restarts (persisted with the pod), if anything.
   */
  createSandbox(sandbox: SandboxSpec): Promise<TaskRef | undefined>;
  /** Reattaches to a sandbox an earlier core made; false when it is gone (the pod is NOTREADY). */
  recoverSandbox(sandbox: SandboxSpec, ref: TaskRef | undefined): Promise<boolean>;
  /** Stops and releases what {@link createSandbox} made; idempotent. */
  removeSandbox(podId: string): Promise<void>;
  /** Starts `spec`; rejects when it cannot run (bad executable, …). */
  start(spec: TaskSpec): Promise<Task>;
  /** Runs `argv` beside `spec`'s task and waits; DEADLINE_EXCEEDED (and killed) after `timeoutMs` > 0. */
  exec(spec: TaskSpec, task: Task, argv: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /**
   * Runs `argv` beside `spec`'s task wired to a streaming client (stdin, output, terminal and
   * its size) and resolves with its exit code once it exited and its output is written; kills
   * it when `io.signal` aborts.
   */
  execStream(spec: TaskSpec, task: Task, argv: readonly string[], io: StreamIo): Promise<number>;
  /**
   * A TCP connection to `port` on the loopback of the pod's network: its own network namespace
   * when it has one, else the host's.
   */
  dialPod(sandbox: SandboxSpec, port: number): Promise<Duplex>;
  /** Reattaches to a task an earlier core started; undefined when it is gone. */
  recover(spec: TaskSpec, ref: TaskRef): Promise<Task | undefined>;
  /** The task's CPU and memory now. */
  usage(task: Task): Promise<TaskUsage>;
  /**
   * Kills what this core's tasks left that no live (started or recovered) task owns: processes
   * of containers that exited, and tasks the state never recorded (started just before a crash
   * of an earlier core). The core calls it once it has recovered; executors also sweep on
   * their own. Resolves how many processes (or containers) it killed.
   */
  sweep(): Promise<number>;
  /**
   * Kills every task still running, and anything else of this core's tasks left behind, and
   * waits for them; the executor is unusable after.
   */
  close(): Promise<void>;
}
