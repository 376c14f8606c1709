/**
 * CRI requests as decoded off the wire → the core's argument types, validated once here at
 * the edge: a missing or malformed required field is INVALID_ARGUMENT with a message naming
 * the RPC and the field. Past this point the core trusts its inputs.
 */
import { ChurnError } from '../common/errors.js';
import type {
  ContainerConfig,
  ContainerFilter,
  ContainerState,
  Mount,
  MountPropagation,
  NamespaceMode,
  PodFilter,
  PodSandboxConfig,
  PodState,
} from '../runtime/types.js';
import type { ContainerConfig__Output } from './generated/runtime/v1/ContainerConfig.js';
import type { ContainerFilter__Output } from './generated/runtime/v1/ContainerFilter.js';
import type { ContainerStatsFilter__Output } from './generated/runtime/v1/ContainerStatsFilter.js';
import type { ImageSpec__Output } from './generated/runtime/v1/ImageSpec.js';
import type { LinuxContainerSecurityContext__Output } from './generated/runtime/v1/LinuxContainerSecurityContext.js';
import type { Mount__Output } from './generated/runtime/v1/Mount.js';
import type { NamespaceOption__Output } from './generated/runtime/v1/NamespaceOption.js';
import type { PodSandboxConfig__Output } from './generated/runtime/v1/PodSandboxConfig.js';
import type { PodSandboxFilter__Output } from './generated/runtime/v1/PodSandboxFilter.js';
import { int64ToNumber } from './int64.js';

/** INVALID_ARGUMENT naming the RPC and the field. */
export function invalidField(rpc: string, field: string, problem: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', `${rpc}: ${field} ${problem}`);
}

/** `value` when it is a non-empty string, else INVALID_ARGUMENT naming `field`. */
export function requireString(rpc: string, field: string, value: string | undefined): string {
  if (value === undefined || value === '') throw invalidField(rpc, field, 'must be set');
  return value;
}

function requireMessage<T>(rpc: string, field: string, value: T | null | undefined): T {
  if (value === null || value === undefined) throw invalidField(rpc, field, 'must be set');
  return value;
}

const namespaceModes: ReadonlySet<string> = new Set(['POD', 'CONTAINER', 'NODE', 'TARGET']);

function namespaceMode(rpc: string, field: string, value: unknown): NamespaceMode {
  if (typeof value === 'string' && namespaceModes.has(value)) return value as NamespaceMode;
  throw invalidField(rpc, field, `has unknown namespace mode ${String(value)}`);
}

function namespaces(
  rpc: string,
  field: string,
  options: NamespaceOption__Output | null | undefined,
): { networkMode: NamespaceMode; pidMode: NamespaceMode; ipcMode: NamespaceMode } {
  // An absent message means every mode is POD, the proto3 default, as in containerd.
  if (options === null || options === undefined) {
    return { networkMode: 'POD', pidMode: 'POD', ipcMode: 'POD' };
  }
  return {
    networkMode: namespaceMode(rpc, `${field}.network`, options.network),
    pidMode: namespaceMode(rpc, `${field}.pid`, options.pid),
    ipcMode: namespaceMode(rpc, `${field}.ipc`, options.ipc),
  };
}

/**
 * A PodSandboxConfig. `field` is where it sits in the request (`config`, `sandbox_config`).
 * metadata and metadata.name are required; an absent config is invalid unless `optional`,
 * when it decodes as all defaults (containerd tolerates a CreateContainer without one).
 */
export function decodePodSandboxConfig(
  rpc: string,
  field: string,
  config: PodSandboxConfig__Output | null | undefined,
  optional = false,
): PodSandboxConfig {
  if ((config === null || config === undefined) && optional) {
    return {
      metadata: { name: '', uid: '', namespace: '', attempt: 0 },
      hostname: '',
      logDirectory: '',
      labels: {},
      annotations: {},
      networkMode: 'POD',
      pidMode: 'POD',
      ipcMode: 'POD',
    };
  }
  const c = requireMessage(rpc, field, config);
  const metadata = optional
    ? (c.metadata ?? { name: '', uid: '', namespace: '', attempt: 0 })
    : requireMessage(rpc, `${field}.metadata`, c.metadata);
  if (!optional) requireString(rpc, `${field}.metadata.name`, metadata.name);
  return {
    metadata: {
      name: metadata.name,
      uid: metadata.uid,
      namespace: metadata.namespace,
      attempt: metadata.attempt,
    },
    hostname: c.hostname,
    logDirectory: c.logDirectory,
    labels: c.labels,
    annotations: c.annotations,
    ...namespaces(
      rpc,
      `${field}.linux.security_context.namespace_options`,
      c.linux?.securityContext?.namespaceOptions,
    ),
    ...(c.linux?.securityContext?.privileged === true ? { privileged: true } : {}),
    ...(c.linux && Object.keys(c.linux.sysctls).length > 0 ? { sysctls: c.linux.sysctls } : {}),
  };
}

const propagations: Readonly<Record<string, MountPropagation>> = {
  PROPAGATION_PRIVATE: 'PRIVATE',
  PROPAGATION_HOST_TO_CONTAINER: 'HOST_TO_CONTAINER',
  PROPAGATION_BIDIRECTIONAL: 'BIDIRECTIONAL',
};

/** CRI mounts: both paths absolute, a known propagation. */
function decodeMounts(rpc: string, mounts: readonly Mount__Output[]): Mount[] {
  return mounts.map((m, i) => {
    const field = `config.mounts[${i}]`;
    for (const [name, path] of [
      ['container_path', m.containerPath],
      ['host_path', m.hostPath],
    ] as const) {
      if (!path.startsWith('/')) throw invalidField(rpc, `${field}.${name}`, 'must be absolute');
    }
    const raw: unknown = m.propagation; // an unknown enum value decodes as its number
    const propagation = propagations[String(raw)];
    if (propagation === undefined) {
      throw invalidField(rpc, `${field}.propagation`, `is unknown: ${String(raw)}`);
    }
    return {
      containerPath: m.containerPath,
      hostPath: m.hostPath,
      readonly: m.readonly,
      selinuxRelabel: m.selinuxRelabel,
      propagation,
    };
  });
}

/** The container's own pid mode (proto3 default POD when absent, as containerd reads it). */
function containerPid(
  rpc: string,
  options: NamespaceOption__Output | null | undefined,
): { pidMode: NamespaceMode; pidTargetId?: string } {
  const field = 'config.linux.security_context.namespace_options';
  const pidMode = namespaceMode(rpc, `${field}.pid`, options?.pid ?? 'POD');
  if (pidMode !== 'TARGET') return { pidMode };
  return { pidMode, pidTargetId: requireString(rpc, `${field}.target_id`, options?.targetId) };
}

/** A ContainerConfig: metadata.name and image.image are required. */
export function decodeContainerConfig(
  rpc: string,
  config: ContainerConfig__Output | null | undefined,
): ContainerConfig {
  const c = requireMessage(rpc, 'config', config);
  const metadata = requireMessage(rpc, 'config.metadata', c.metadata);
  requireString(rpc, 'config.metadata.name', metadata.name);
  const image = requireString(rpc, 'config.image.image', c.image?.image);
  c.envs.forEach((env, i) => requireString(rpc, `config.envs[${i}].key`, env.key));
  const security = c.linux?.securityContext;
  if (security?.runAsGroup != null && security.runAsUser == null && security.runAsUsername === '') {
    // As containerd: a group alone would leave the user to the image, which CRI forbids.
    throw invalidField(
      rpc,
      'config.linux.security_context.run_as_group',
      'is set without run_as_user or run_as_username',
    );
  }
  return {
    metadata: { name: metadata.name, attempt: metadata.attempt },
    image,
    command: c.command,
    args: c.args,
    workingDir: c.workingDir,
    envs: c.envs.map((env) => ({ key: env.key, value: env.value })),
    labels: c.labels,
    annotations: c.annotations,
    logPath: c.logPath,
    ...(c.stdin ? { stdin: true, stdinOnce: c.stdinOnce } : {}),
    ...(c.mounts.length > 0 ? { mounts: decodeMounts(rpc, c.mounts) } : {}),
    ...(security?.readonlyRootfs === true ? { readonlyRootfs: true } : {}),
    ...containerPid(rpc, security?.namespaceOptions),
    ...(security?.privileged === true ? { privileged: true } : {}),
    ...(security?.capabilities?.addCapabilities.length
      ? { addCapabilities: security.capabilities.addCapabilities }
      : {}),
    ...(security?.capabilities?.dropCapabilities.length
      ? { dropCapabilities: security.capabilities.dropCapabilities }
      : {}),
    ...(security == null ? {} : decodeIdentity(rpc, security)),
  };
}

/** Largest uid or gid (the OCI spec's uint32). */
const maxId = 0xffff_ffff;

function decodeId(rpc: string, field: string, value: string | number): number {
  const n = int64ToNumber(value);
  if (n < 0 || n > maxId) throw invalidField(rpc, field, `must be within 0..${maxId}, not ${n}`);
  return n;
}

/** The user, groups, no_new_privs and masked and read-only paths of a security context. */
function decodeIdentity(
  rpc: string,
  security: LinuxContainerSecurityContext__Output,
): Partial<ContainerConfig> {
  const field = 'config.linux.security_context';
  const paths = (name: string, list: readonly string[]): void => {
    list.forEach((p, i) => {
      if (!p.startsWith('/')) throw invalidField(rpc, `${field}.${name}[${i}]`, 'must be absolute');
    });
  };
  paths('masked_paths', security.maskedPaths);
  paths('readonly_paths', security.readonlyPaths);
  return {
    ...(security.runAsUser != null
      ? { runAsUser: decodeId(rpc, `${field}.run_as_user`, security.runAsUser.value) }
      : {}),
    ...(security.runAsUsername !== '' ? { runAsUsername: security.runAsUsername } : {}),
    ...(security.runAsGroup != null
      ? { runAsGroup: decodeId(rpc, `${field}.run_as_group`, security.runAsGroup.value) }
      : {}),
    ...(security.supplementalGroups.length > 0
      ? {
          supplementalGroups: security.supplementalGroups.map((g, i) =>
            decodeId(rpc, `${field}.supplemental_groups[${i}]`, g),
          ),
        }
      : {}),
    ...(security.noNewPrivs ? { noNewPrivs: true } : {}),
    ...(security.maskedPaths.length > 0 ? { maskedPaths: security.maskedPaths } : {}),
    ...(security.readonlyPaths.length > 0 ? { readonlyPaths: security.readonlyPaths } : {}),
  };
}

/** The image reference of an ImageSpec; required. */
export function decodeImageRef(
  rpc: string,
  field: string,
  spec: ImageSpec__Output | null | undefined,
): string {
  return requireString(rpc, `${field}.image`, spec?.image);
}

const podStates: Readonly<Record<string, PodState>> = {
  SANDBOX_READY: 'READY',
  SANDBOX_NOTREADY: 'NOTREADY',
};

const containerStates: Readonly<Record<string, ContainerState>> = {
  CONTAINER_CREATED: 'CREATED',
  CONTAINER_RUNNING: 'RUNNING',
  CONTAINER_EXITED: 'EXITED',
  CONTAINER_UNKNOWN: 'UNKNOWN',
};

function withLabels(selector: Readonly<Record<string, string>>): {
  labelSelector?: Readonly<Record<string, string>>;
} {
  return Object.keys(selector).length > 0 ? { labelSelector: selector } : {};
}

/** A ListPodSandbox filter; empty fields do not filter. */
export function decodePodFilter(filter: PodSandboxFilter__Output | null | undefined): PodFilter {
  if (filter === null || filter === undefined) return {};
  let state: PodState | undefined;
  if (filter.state !== null) {
    const raw: unknown = filter.state.state;
    state = podStates[String(raw)];
    if (state === undefined) {
      throw invalidField('ListPodSandbox', 'filter.state.state', `is unknown: ${String(raw)}`);
    }
  }
  return {
    ...(filter.id !== '' ? { id: filter.id } : {}),
    ...(state !== undefined ? { state } : {}),
    ...withLabels(filter.labelSelector),
  };
}

/** A ListContainers filter; empty fields do not filter. */
export function decodeContainerFilter(
  filter: ContainerFilter__Output | null | undefined,
): ContainerFilter {
  if (filter === null || filter === undefined) return {};
  let state: ContainerState | undefined;
  if (filter.state !== null) {
    const raw: unknown = filter.state.state;
    state = containerStates[String(raw)];
    if (state === undefined) {
      throw invalidField('ListContainers', 'filter.state.state', `is unknown: ${String(raw)}`);
    }
  }
  return {
    ...(filter.id !== '' ? { id: filter.id } : {}),
    ...(filter.podSandboxId !== '' ? { podId: filter.podSandboxId } : {}),
    ...(state !== undefined ? { state } : {}),
    ...withLabels(filter.labelSelector),
  };
}

/** A ListContainerStats filter; empty fields do not filter. */
export function decodeContainerStatsFilter(
  filter: ContainerStatsFilter__Output | null | undefined,
): ContainerFilter {
  if (filter === null || filter === undefined) return {};
  return {
    ...(filter.id !== '' ? { id: filter.id } : {}),
    ...(filter.podSandboxId !== '' ? { podId: filter.podSandboxId } : {}),
    ...withLabels(filter.labelSelector),
  };
}

/**
 * A timeout in seconds (StopContainer, ExecSync). Negative values mean "now" (0), as for
 * containerd, which SIGKILLs at once for any timeout ≤ 0.
 */
export function decodeTimeoutSec(timeout: string | number | null | undefined): number {
  return Math.max(0, int64ToNumber(timeout));
}
