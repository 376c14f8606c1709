/**
 * The OCI runtime spec (config.json) the `runc` executor writes for a container or a pod's
 * pause process: a root read-only (the image's, or churn's host root with a tmpfs /tmp) or
 * writable (a writable layer), proc/dev/sys, CRI mounts (oci-mounts.ts), the namespaces the
 * pod shares with its sysctls, a cgroup under churn's own parent, and the user, capabilities
 * and other privileges of oci-security.ts. Pure: unit-tested without runc.
 *
 * Network: the host's for a pod with host network (churn's default), else the pod's own
 * namespace, made new by the pause process and joined by the pod's containers. runc brings up
 * its loopback and nothing else: no CNI, no routes, so no traffic can leave the machine
 * (DESIGN). With host network, sysfs cannot be mounted afresh, so /sys is a read-only bind of
 * the host's, as runtimes do for host-network containers; in the pod's own network namespace
 * /sys is a fresh read-only sysfs, which shows that namespace's interfaces.
 */

import { pauseSecurity, type OciSecurity } from './oci-security.js';
import { mergeMounts, type OciMount, type RootfsPropagation } from './oci-mounts.js';

/** Where a namespace comes from: a new one, the host's, or another process's (`/proc/<pid>/ns/<type>`). */
export type NamespaceSource =
  | { readonly kind: 'new' }
  | { readonly kind: 'host' }
  | { readonly kind: 'join'; readonly pid: number };

/** A read-only bind of a host directory into the container. */
export interface BindMount {
  readonly source: string;
  readonly destination: string;
}

/** What {@link ociSpec} needs. */
export interface OciSpecInput {
  /** Host path of the root filesystem (read-only unless `readonlyRoot` is false). */
  readonly rootfs: string;
  /** Host directories bound read-only into the root (the host image's view of the host). */
  readonly binds: readonly BindMount[];
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** Hostname when the UTS namespace is new. */
  readonly hostname: string;
  readonly pid: NamespaceSource;
  readonly ipc: NamespaceSource;
  readonly uts: NamespaceSource;
  readonly network: NamespaceSource;
  /** cgroup path, e.g. `/churn/<id>` (cgroup v1 hierarchies or v2 unified). */
  readonly cgroupsPath: string;
  /** User and privileges; absent: {@link pauseSecurity} (containerd's defaults). */
  readonly security?: OciSecurity;
  /** The root is read-only (default true); false for a writable layer (writable-layer.ts). */
  readonly readonlyRoot?: boolean;
  /** A tmpfs on /tmp (default true): churn's read-only host root needs one; CRI images get none. */
  readonly tmpfsTmp?: boolean;
  /** CRI mounts (oci-mounts.ts), ordered; each replaces a default mount at its destination. */
  readonly mounts?: readonly OciMount[];
  readonly rootfsPropagation?: RootfsPropagation;
  /** Kernel parameters (OCI `linux.sysctl`), set by runc in the new namespaces. */
  readonly sysctl?: Readonly<Record<string, string>>;
}

/** The OCI runtime spec for `input`, as a JSON-ready object. */
export function ociSpec(input: OciSpecInput): Record<string, unknown> {
  const namespaces: { type: string; path?: string }[] = [{ type: 'mount' }];
  // OCI namespace type, and its file under /proc/<pid>/ns/.
  for (const [type, file, source] of [
    ['pid', 'pid', input.pid],
    ['ipc', 'ipc', input.ipc],
    ['uts', 'uts', input.uts],
    ['network', 'net', input.network],
  ] as const) {
    if (source.kind === 'new') namespaces.push({ type });
    else if (source.kind === 'join')
      namespaces.push({ type, path: `/proc/${source.pid}/ns/${file}` });
  }
  const ownProc = input.pid.kind !== 'host';
  const sec = input.security ?? pauseSecurity;
  const caps = [...sec.capabilities];
  const sysOptions = ['nosuid', 'noexec', 'nodev', ...(sec.privileged ? [] : ['ro'])];
  const spec = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: sec.uid, gid: sec.gid, additionalGids: sec.additionalGids },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: sec.noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: input.readonlyRoot ?? true },
    hostname: input.uts.kind === 'new' ? input.hostname : undefined,
    mounts: [
      ownProc
        ? { destination: '/proc', type: 'proc', source: 'proc' }
        : {
            destination: '/proc',
            type: 'bind',
            source: '/proc',
            options: ['rbind', 'nosuid', 'noexec', 'nodev'],
          },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      input.network.kind === 'host'
        ? {
            destination: '/sys',
            type: 'bind',
            source: '/sys',
            options: ['rbind', ...sysOptions],
          }
        : {
            destination: '/sys',
            type: 'sysfs',
            source: 'sysfs',
            options: sysOptions,
          },
      {
        destination: '/tmp',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=1777'],
      },
      ...input.binds.map((b) => ({
        destination: b.destination,
        type: 'bind',
        source: b.source,
        options: ['rbind', 'ro', 'nosuid', 'nodev'],
      })),
    ],
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      rootfsPropagation: input.rootfsPropagation,
      sysctl: input.sysctl,
      resources: { devices: [{ allow: sec.privileged, access: 'rwm' }] },
      devices: sec.devices,
      maskedPaths: sec.maskedPaths,
      readonlyPaths: sec.readonlyPaths,
    },
  };
  const defaults = spec.mounts.filter((m) => input.tmpfsTmp !== false || m.destination !== '/tmp');
  return { ...spec, mounts: mergeMounts(defaults, input.mounts ?? []) };
}
