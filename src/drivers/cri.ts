/**
 * The `cri` driver: drives any runtime that speaks CRI runtime.v1 (containerd, CRI-O,
 * `churn serve`) over gRPC with {@link CriClient}. Errors carry the gRPC status name as
 * their code (NOT_FOUND, UNAVAILABLE, …), which is what failed operations are counted by.
 *
 * Pods use the host network unless the spec says otherwise (no CNI, no traffic off the
 * machine), and are created with the configured runtime handler.
 */
import { ChurnError, isChurnError } from '../common/errors.js';
import { CriClient, type CriCallOptions } from '../cri/client.js';
import type { ContainerConfig } from '../cri/generated/runtime/v1/ContainerConfig.js';
import type { ContainerState__Output } from '../cri/generated/runtime/v1/ContainerState.js';
import type { PodSandboxConfig } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import type { PodSandboxState__Output } from '../cri/generated/runtime/v1/PodSandboxState.js';
import { socketOwnerPid } from '../cri/socket-owner.js';
import type {
  CallOptions,
  ContainerInfo,
  ContainerSpec,
  ContainerStateName,
  Driver,
  ExecOutcome,
  ListFilter,
  PodInfo,
  PodSpec,
  RuntimeInfo,
} from './driver.js';
import { envPairs, execOutcomeOf, podNamespaces } from './spec-mapping.js';

/** Options of a {@link CriDriver}. */
export interface CriDriverOptions {
  /** `unix:///abs/path.sock`, `unix:/path`, a bare absolute path, or a loopback host:port. */
  readonly endpoint: string;
  /** Runtime handler for RunPodSandbox ('' for the runtime's default). */
  readonly runtimeHandler: string;
  /** Deadline of each call in milliseconds; stop and exec add their own timeout to it. */
  readonly callTimeoutMs: number;
}

const containerStates: Readonly<Record<ContainerState__Output, ContainerStateName>> = {
  CONTAINER_CREATED: 'CREATED',
  CONTAINER_RUNNING: 'RUNNING',
  CONTAINER_EXITED: 'EXITED',
  CONTAINER_UNKNOWN: 'UNKNOWN',
};

const podStates: Readonly<Record<PodSandboxState__Output, PodInfo['state']>> = {
  SANDBOX_READY: 'READY',
  SANDBOX_NOTREADY: 'NOTREADY',
};

/** The PodSandboxConfig for `pod`; the same config goes with each CreateContainer. */
export function podSandboxConfig(pod: PodSpec): PodSandboxConfig {
  return {
    metadata: { name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt: pod.attempt },
    hostname: '',
    logDirectory: pod.logDirectory,
    labels: { ...pod.labels },
    annotations: { ...pod.annotations },
    linux: { securityContext: { namespaceOptions: podNamespaces(pod) } },
  };
}

/** The ContainerConfig for `spec` in `pod`. */
export function containerConfig(pod: PodSpec, spec: ContainerSpec): ContainerConfig {
  return {
    metadata: { name: spec.name, attempt: spec.attempt },
    image: { image: spec.image },
    command: [...spec.command],
    args: [...spec.args],
    workingDir: spec.workingDir,
    envs: envPairs(spec),
    labels: { ...spec.labels },
    annotations: { ...spec.annotations },
    logPath: spec.logPath,
    linux: { securityContext: { namespaceOptions: podNamespaces(pod) } },
  };
}

/** A {@link Driver} over CRI; see the module comment. */
export class CriDriver implements Driver {
  readonly kind = 'cri' as const;
  private readonly client: CriClient;
  private readonly runtimeHandler: string;
  private readonly callTimeoutMs: number;
  /** Pod of each container this driver created (ContainerStatus does not carry it). */
  private readonly podOf = new Map<string, string>();

  /** Creates the driver; ENDPOINT_INVALID for a malformed or off-machine endpoint. */
  constructor(options: CriDriverOptions) {
    this.client = new CriClient(options.endpoint, { callTimeoutMs: options.callTimeoutMs });
    this.runtimeHandler = options.runtimeHandler;
    this.callTimeoutMs = options.callTimeoutMs;
  }

  /**
   * Asks the runtime's Version. ENDPOINT_INVALID when it cannot be reached or does not speak
   * CRI v1 (CANCELLED when `options.signal` aborts).
   */
  async connect(options?: CallOptions): Promise<RuntimeInfo> {
    let version;
    try {
      version = await this.client.runtime('Version', { version: 'v1' }, call(options));
    } catch (err) {
      if (isChurnError(err, 'CANCELLED')) throw err;
      const code = isChurnError(err) ? err.code : 'UNKNOWN';
      const hint =
        code === 'UNIMPLEMENTED'
          ? ' (the runtime does not serve CRI runtime.v1)'
          : code === 'UNAVAILABLE'
            ? ' (is the runtime running, and is this its socket?)'
            : '';
      throw new ChurnError(
        'ENDPOINT_INVALID',
        `cannot use CRI runtime at ${this.client.endpoint.target}: ${(err as Error).message}${hint}`,
        { cause: err },
      );
    }
    const pid = await this.daemonPid(options);
    return {
      runtimeName: version.runtimeName,
      runtimeVersion: version.runtimeVersion,
      runtimeApiVersion: version.runtimeApiVersion,
      runtimeHandler: this.runtimeHandler,
      ...(pid !== undefined ? { pid } : {}),
      // containerd's CRI plugin keeps every pod and container in this namespace.
      ...(version.runtimeName === 'containerd' ? { host: { shimNamespace: 'k8s.io' } } : {}),
    };
  }

  /**
   * The runtime daemon's pid, for resource sampling: the process listening on the unix socket
   * (from /proc), else a `pid` the runtime reports in its verbose Status info (churn serve
   * does: its socket is bound under a temporary name, which /proc keeps). Best effort.
   */
  private async daemonPid(options: CallOptions | undefined): Promise<number | undefined> {
    if (this.client.endpoint.kind === 'unix') {
      const pid = await socketOwnerPid(this.client.endpoint.socketPath);
      if (pid !== undefined) return pid;
    }
    try {
      const status = await this.client.runtime('Status', { verbose: true }, call(options));
      const pid = Number(status.info['pid']);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Returns the image's id, pulling only when the runtime does not have it (as kubelet's
   * IfNotPresent): a pull re-resolves the reference with the registry even for a present
   * image, and churn never reaches a network.
   */
  async pullImage(image: string, options?: CallOptions): Promise<string> {
    const present = await this.client.image('ImageStatus', { image: { image } }, call(options));
    if (present.image !== null) return present.image.id;
    const pulled = await this.client.image('PullImage', { image: { image } }, call(options));
    return pulled.imageRef;
  }

  async runPod(spec: PodSpec, options?: CallOptions): Promise<string> {
    const response = await this.client.runtime(
      'RunPodSandbox',
      { config: podSandboxConfig(spec), runtimeHandler: this.runtimeHandler },
      call(options),
    );
    return response.podSandboxId;
  }

  async stopPod(podId: string, options?: CallOptions): Promise<void> {
    await this.client.runtime('StopPodSandbox', { podSandboxId: podId }, call(options));
  }

  async removePod(podId: string, options?: CallOptions): Promise<void> {
    await this.client.runtime('RemovePodSandbox', { podSandboxId: podId }, call(options));
    for (const [containerId, pod] of this.podOf) if (pod === podId) this.podOf.delete(containerId);
  }

  async createContainer(
    podId: string,
    pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string> {
    const response = await this.client.runtime(
      'CreateContainer',
      {
        podSandboxId: podId,
        config: containerConfig(pod, spec),
        sandboxConfig: podSandboxConfig(pod),
      },
      call(options),
    );
    this.podOf.set(response.containerId, podId);
    return response.containerId;
  }

  async startContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.client.runtime('StartContainer', { containerId }, call(options));
  }

  async stopContainer(
    containerId: string,
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<void> {
    await this.client.runtime(
      'StopContainer',
      { containerId, timeout: timeoutSec },
      call(options, this.callTimeoutMs + timeoutSec * 1000),
    );
  }

  async removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.client.runtime('RemoveContainer', { containerId }, call(options));
    this.podOf.delete(containerId);
  }

  async containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo> {
    const { status } = await this.client.runtime('ContainerStatus', { containerId }, call(options));
    if (status === null) {
      throw new ChurnError(
        'UNKNOWN',
        `CRI ContainerStatus "${containerId}": response has no status`,
      );
    }
    let podId = this.podOf.get(status.id);
    if (podId === undefined) {
      const listed = await this.client.runtime(
        'ListContainers',
        { filter: { id: status.id } },
        call(options),
      );
      podId = listed.containers[0]?.podSandboxId ?? '';
    }
    return {
      id: status.id,
      podId,
      name: status.metadata?.name ?? '',
      state: containerStates[status.state],
      labels: status.labels,
      exitCode: status.exitCode,
    };
  }

  /**
   * Lists containers. ListContainers carries no exit codes: `exitCode` is 0 here; ask
   * containerStatus for a container's exit code.
   */
  async listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]> {
    const response = await this.client.runtime(
      'ListContainers',
      {
        filter: {
          ...(filter.podId !== undefined ? { podSandboxId: filter.podId } : {}),
          labelSelector: { ...filter.labelSelector },
        },
      },
      call(options),
    );
    return response.containers.map((c) => ({
      id: c.id,
      podId: c.podSandboxId,
      name: c.metadata?.name ?? '',
      state: containerStates[c.state],
      labels: c.labels,
      exitCode: 0,
    }));
  }

  async listPods(filter: ListFilter, options?: CallOptions): Promise<PodInfo[]> {
    const response = await this.client.runtime(
      'ListPodSandbox',
      {
        filter: {
          ...(filter.podId !== undefined ? { id: filter.podId } : {}),
          labelSelector: { ...filter.labelSelector },
        },
      },
      call(options),
    );
    return response.items.map((p) => ({
      id: p.id,
      name: p.metadata?.name ?? '',
      state: podStates[p.state],
      labels: p.labels,
    }));
  }

  async exec(
    containerId: string,
    command: readonly string[],
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome> {
    const response = await this.client.runtime(
      'ExecSync',
      { containerId, cmd: [...command], timeout: timeoutSec },
      call(options, this.callTimeoutMs + timeoutSec * 1000),
    );
    return execOutcomeOf(response);
  }

  close(): Promise<void> {
    this.client.close();
    this.podOf.clear();
    return Promise.resolve();
  }
}

function call(options: CallOptions | undefined, timeoutMs?: number): CriCallOptions {
  return { signal: options?.signal, timeoutMs };
}
