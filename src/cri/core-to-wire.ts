/**
 * The core's values → CRI response messages. Pure mappings: names and enums of the core
 * become CRI's, bigint nanoseconds become exact int64 strings.
 */
import type {
  Container,
  ContainerState,
  ContainerStats,
  FilesystemUsage,
  Image,
  PodSandbox,
  PodState,
} from '../runtime/types.js';
import type { Container as WireContainer } from './generated/runtime/v1/Container.js';
import type { ContainerState__Output as WireContainerState } from './generated/runtime/v1/ContainerState.js';
import type { ContainerStats as WireContainerStats } from './generated/runtime/v1/ContainerStats.js';
import type { ContainerStatus as WireContainerStatus } from './generated/runtime/v1/ContainerStatus.js';
import type { FilesystemUsage as WireFilesystemUsage } from './generated/runtime/v1/FilesystemUsage.js';
import type { Image as WireImage } from './generated/runtime/v1/Image.js';
import type { PodSandbox as WirePodSandbox } from './generated/runtime/v1/PodSandbox.js';
import type { PodSandboxState__Output as WirePodState } from './generated/runtime/v1/PodSandboxState.js';
import type { PodSandboxStatus as WirePodSandboxStatus } from './generated/runtime/v1/PodSandboxStatus.js';
import { bigIntToInt64 } from './int64.js';

const podStates: Readonly<Record<PodState, WirePodState>> = {
  READY: 'SANDBOX_READY',
  NOTREADY: 'SANDBOX_NOTREADY',
};

const containerStates: Readonly<Record<ContainerState, WireContainerState>> = {
  CREATED: 'CONTAINER_CREATED',
  RUNNING: 'CONTAINER_RUNNING',
  EXITED: 'CONTAINER_EXITED',
  UNKNOWN: 'CONTAINER_UNKNOWN',
};

/** A pod as ListPodSandbox lists it. */
export function encodePodSandbox(pod: PodSandbox): WirePodSandbox {
  return {
    id: pod.id,
    metadata: { ...pod.config.metadata },
    state: podStates[pod.state],
    createdAt: bigIntToInt64(pod.createdAtNs),
    labels: { ...pod.config.labels },
    annotations: { ...pod.config.annotations },
    runtimeHandler: pod.runtimeHandler,
  };
}

/** A pod as PodSandboxStatus reports it. Host-network pods have no pod IP of their own. */
export function encodePodSandboxStatus(pod: PodSandbox): WirePodSandboxStatus {
  return {
    id: pod.id,
    metadata: { ...pod.config.metadata },
    state: podStates[pod.state],
    createdAt: bigIntToInt64(pod.createdAtNs),
    network: { ip: '' },
    linux: {
      namespaces: {
        options: {
          network: pod.config.networkMode,
          pid: pod.config.pidMode,
          ipc: pod.config.ipcMode,
        },
      },
    },
    labels: { ...pod.config.labels },
    annotations: { ...pod.config.annotations },
    runtimeHandler: pod.runtimeHandler,
  };
}

/** A container as ListContainers lists it. */
export function encodeContainer(c: Container): WireContainer {
  return {
    id: c.id,
    podSandboxId: c.podId,
    metadata: { ...c.config.metadata },
    image: { image: c.config.image },
    imageRef: c.imageRef,
    state: containerStates[c.state],
    createdAt: bigIntToInt64(c.createdAtNs),
    labels: { ...c.config.labels },
    annotations: { ...c.config.annotations },
  };
}

/** A container as ContainerStatus reports it; `log_path` is the absolute log file path. */
export function encodeContainerStatus(c: Container): WireContainerStatus {
  return {
    id: c.id,
    metadata: { ...c.config.metadata },
    state: containerStates[c.state],
    createdAt: bigIntToInt64(c.createdAtNs),
    startedAt: bigIntToInt64(c.startedAtNs),
    finishedAt: bigIntToInt64(c.finishedAtNs),
    exitCode: c.exitCode,
    image: { image: c.config.image },
    imageRef: c.imageRef,
    reason: c.reason,
    message: c.message,
    labels: { ...c.config.labels },
    annotations: { ...c.config.annotations },
    mounts: (c.config.mounts ?? []).map((m) => ({
      containerPath: m.containerPath,
      hostPath: m.hostPath,
      readonly: m.readonly,
      selinuxRelabel: m.selinuxRelabel,
      propagation: `PROPAGATION_${m.propagation}`,
    })),
    logPath: c.logPathAbs,
  };
}

/** An image; a numeric config user becomes `uid`, a named one `username`, as containerd does. */
export function encodeImage(image: Image): WireImage {
  const user = image.spec.user.split(':')[0] ?? '';
  const numeric = /^\d+$/.test(user);
  return {
    id: image.id,
    repoTags: [...image.repoTags],
    repoDigests: [...image.repoDigests],
    size: String(image.sizeBytes),
    uid: numeric ? { value: user } : null,
    username: numeric ? '' : user,
    spec: { image: image.id },
    pinned: false,
  };
}

/** CPU and memory of one container. */
export function encodeContainerStats(s: ContainerStats): WireContainerStats {
  const timestamp = bigIntToInt64(s.timestampNs);
  return {
    attributes: {
      id: s.id,
      metadata: { ...s.metadata },
      labels: { ...s.labels },
      annotations: { ...s.annotations },
    },
    cpu: { timestamp, usageCoreNanoSeconds: { value: bigIntToInt64(s.cpuUsageCoreNs) } },
    memory: { timestamp, workingSetBytes: { value: String(s.memoryWorkingSetBytes) } },
  };
}

/** Usage of one filesystem. */
export function encodeFilesystemUsage(u: FilesystemUsage): WireFilesystemUsage {
  return {
    timestamp: bigIntToInt64(u.timestampNs),
    fsId: { mountpoint: u.mountpoint },
    usedBytes: { value: String(u.usedBytes) },
    inodesUsed: { value: String(u.inodesUsed) },
  };
}
