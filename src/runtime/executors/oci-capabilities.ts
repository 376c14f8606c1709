/**
 * The capabilities of a container's process, as containerd 1.6's CRI plugin computes them
 * (facts from its oci/spec.go and pkg/cri/opts/spec_linux.go): containerd's default set; then,
 * when the CRI config has capabilities, ALL in add gives every capability, ALL in drop none,
 * and the other names (CRI's, without `CAP_`) are added, then dropped; privileged gives every
 * capability whatever was asked. "Every capability" is what the runtime itself has (its
 * effective set, /proc/self/status CapEff), as containerd's. The one list serves as bounding,
 * effective and permitted sets; inheritable and ambient stay empty, so a non-root process
 * loses them at exec. Pure.
 */

/** containerd's default capabilities (oci.populateDefaultUnixSpec's list, in its order). */
export const defaultCapabilities: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Linux capabilities by number (linux/capability.h, up to 5.9's CHECKPOINT_RESTORE). */
const capabilitiesByNumber: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/**
 * The names of the capabilities in a /proc/<pid>/status mask (`CapEff:\t000001ffffffffff`),
 * in number order; bits this list does not name are left out (runc would not know them).
 */
export function capabilitiesOfStatus(status: string): string[] {
  const hex = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status)?.[1];
  if (hex === undefined) return [];
  const mask = BigInt(`0x${hex}`);
  return capabilitiesByNumber.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

/** What {@link containerCapabilities} needs from the container config. */
export interface CapabilityRequest {
  readonly privileged?: boolean;
  /** CRI names (NET_ADMIN, any case) or ALL. */
  readonly addCapabilities?: readonly string[];
  readonly dropCapabilities?: readonly string[];
}

/** `CAP_<NAME>` for a CRI capability name, as containerd (it adds the prefix unconditionally). */
function ociName(name: string): string {
  return `CAP_${name.toUpperCase()}`;
}

/**
 * The capability set of a container (bounding = effective = permitted): see the module comment.
 * `allCapabilities` is the runtime's own effective set.
 */
export function containerCapabilities(
  request: CapabilityRequest,
  allCapabilities: readonly string[],
): string[] {
  if (request.privileged === true) return [...allCapabilities];
  const add = request.addCapabilities ?? [];
  const drop = request.dropCapabilities ?? [];
  let caps = [...defaultCapabilities];
  // containerd matches ALL case-sensitively when choosing the base, and skips it in any case
  // when adding or dropping names.
  if (add.includes('ALL')) caps = [...allCapabilities];
  if (drop.includes('ALL')) caps = [];
  for (const name of add) {
    if (name.toUpperCase() === 'ALL') continue;
    const cap = ociName(name);
    if (!caps.includes(cap)) caps.push(cap);
  }
  const dropped = new Set(
    drop.filter((name) => name.toUpperCase() !== 'ALL').map((name) => ociName(name)),
  );
  return caps.filter((cap) => !dropped.has(cap));
}
