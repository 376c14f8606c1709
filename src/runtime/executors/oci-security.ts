/**
 * Who a runc container's process runs as and with what privileges, from its CRI config, as
 * containerd 1.6's CRI plugin sets them (container_create_linux.go):
 *
 * - user and groups: resolved when the container is created (oci-identity.ts);
 * - capabilities: oci-capabilities.ts;
 * - no_new_privs: as the config asks (false unless set);
 * - masked and read-only paths: exactly the config's lists, none when it gives none (the
 *   kubelet sends its defaults itself; containerd 1.6 replaces its own with empty lists,
 *   containerd issue 5029), and none for a privileged container;
 * - privileged: every capability, no masked or read-only paths, /sys writable, the host's
 *   devices (those under /dev, as containerd's oci.HostDevices lists them) created in the
 *   container and every device allowed by the cgroup. Seccomp and AppArmor: churn applies
 *   neither to any container.
 *
 * A pod's pause process gets {@link pauseSecurity}: containerd's default spec (root, default
 * capabilities, no new privileges, its default masked and read-only paths). Pure.
 */
import type { ProcessUser } from '../types.js';
import type { TaskSecurity } from './executor.js';
import { containerCapabilities, defaultCapabilities } from './oci-capabilities.js';

/** A device node to create in the container (OCI linux.devices). */
export interface OciDevice {
  readonly path: string;
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

/** What the process of a container may do; see the module comment. */
export interface OciSecurity {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  /** Bounding, effective and permitted capabilities (`CAP_…`). */
  readonly capabilities: readonly string[];
  readonly noNewPrivileges: boolean;
  readonly maskedPaths: readonly string[];
  readonly readonlyPaths: readonly string[];
  /** Writable /sys, every device allowed, {@link OciSecurity.devices} created. */
  readonly privileged: boolean;
  readonly devices: readonly OciDevice[];
}

/** containerd's default masked paths (oci.populateDefaultUnixSpec). */
export const defaultMaskedPaths: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

/** containerd's default read-only paths (oci.populateDefaultUnixSpec). */
export const defaultReadonlyPaths: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** The pause process's: containerd's default spec. */
export const pauseSecurity: OciSecurity = {
  uid: 0,
  gid: 0,
  additionalGids: [0],
  capabilities: defaultCapabilities,
  noNewPrivileges: true,
  maskedPaths: defaultMaskedPaths,
  readonlyPaths: defaultReadonlyPaths,
  privileged: false,
  devices: [],
};

/** What {@link containerSecurity} needs besides the config. */
export interface HostPrivileges {
  /** The runtime's own effective capabilities: what ALL and privileged give. */
  readonly allCapabilities: readonly string[];
  /** The host's devices, for a privileged container. */
  readonly hostDevices: readonly OciDevice[];
}

/** A container's security: see the module comment. `user` absent: root (0:0). */
export function containerSecurity(
  config: TaskSecurity,
  user: ProcessUser | undefined,
  host: HostPrivileges,
): OciSecurity {
  const privileged = config.privileged === true;
  return {
    uid: user?.uid ?? 0,
    gid: user?.gid ?? 0,
    additionalGids: user?.additionalGids ?? [0],
    capabilities: containerCapabilities(config, host.allCapabilities),
    noNewPrivileges: config.noNewPrivs === true,
    maskedPaths: privileged ? [] : (config.maskedPaths ?? []),
    readonlyPaths: privileged ? [] : (config.readonlyPaths ?? []),
    privileged,
    devices: privileged ? host.hostDevices : [],
  };
}
