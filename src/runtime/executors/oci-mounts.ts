/**
 * CRI mounts as the runc executor applies them, with containerd's semantics (v1.6 CRI plugin,
 * `WithMounts`): each host path is bound (`rbind`) at its container path, `ro` or `rw`, with
 * the propagation asked for: PRIVATE `rprivate`, HOST_TO_CONTAINER `rslave` (and the root's
 * propagation `rslave` unless already `rshared`), BIDIRECTIONAL `rshared` (and the root's
 * `rshared`). The host path must then sit on a mount that is shared (BIDIRECTIONAL) or shared
 * or a slave (HOST_TO_CONTAINER); containerd does not change the host's mounts to make it so,
 * it refuses the container, and so does churn. Mounts are ordered by the depth of their
 * container path, so that a mount never hides one below it, and a default mount at the same
 * destination (or under /dev when /dev is mounted) gives way to the CRI mount. SELinux
 * relabelling is ignored. Pure apart from {@link resolveMountSources}.
 */
import { readFile, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { parseMountInfo, type MountInfo } from '../../common/procfs-parse.js';
import type { Mount } from '../types.js';

/** A mount of an OCI runtime spec. */
export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options?: readonly string[];
}

/** A CRI mount whose host path is resolved: `source` is its real path (no symlinks). */
export interface ResolvedMount extends Mount {
  readonly source: string;
}

/** OCI `linux.rootfsPropagation` that the CRI mounts need, if any. */
export type RootfsPropagation = 'rshared' | 'rslave';

/** The OCI mounts for `mounts` and the root propagation they need. */
export function criBindMounts(mounts: readonly ResolvedMount[]): {
  mounts: OciMount[];
  rootfsPropagation: RootfsPropagation | undefined;
} {
  let rootfsPropagation: RootfsPropagation | undefined;
  const out = sortByDepth(mounts).map((m): OciMount => {
    const options = ['rbind'];
    if (m.propagation === 'BIDIRECTIONAL') {
      options.push('rshared');
      rootfsPropagation = 'rshared';
    } else if (m.propagation === 'HOST_TO_CONTAINER') {
      options.push('rslave');
      if (rootfsPropagation !== 'rshared') rootfsPropagation = 'rslave';
    } else {
      options.push('rprivate');
    }
    options.push(m.readonly ? 'ro' : 'rw');
    return { destination: m.containerPath, type: 'bind', source: m.source, options };
  });
  return { mounts: out, rootfsPropagation };
}

/**
 * `defaults` without those a CRI mount replaces (same destination, or under /dev when a CRI
 * mount is /dev), followed by `cri` (already ordered).
 */
export function mergeMounts(defaults: readonly OciMount[], cri: readonly OciMount[]): OciMount[] {
  const replaced = new Set(cri.map((m) => clean(m.destination)));
  const kept = defaults.filter((m) => {
    const dst = clean(m.destination);
    return !replaced.has(dst) && !(replaced.has('/dev') && dst.startsWith('/dev/'));
  });
  return [...kept, ...cri];
}

/** `path` cleaned as Go's filepath.Clean does: no `.`, `..`, doubled or trailing slashes. */
function clean(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Stable sort by the number of parts of the cleaned container path, shallowest first. */
function sortByDepth<T extends Mount>(mounts: readonly T[]): T[] {
  const depth = (m: Mount): number =>
    posix
      .normalize(m.containerPath)
      .split('/')
      .filter((p) => p !== '').length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}

/**
 * The mount `path` (absolute, symlinks resolved) is on: the one with the longest mount point
 * that contains it, the last listed when several are stacked on one point.
 */
export function mountOf(infos: readonly MountInfo[], path: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const info of infos) {
    const mp = info.mountPoint;
    const contains = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (contains && (best === undefined || mp.length >= best.mountPoint.length)) best = info;
  }
  return best;
}

/**
 * Why `mount`'s propagation cannot be had from the host mount its source is on, or undefined
 * when it can (containerd's `ensureShared` and `ensureSharedOrSlave`).
 */
export function propagationProblem(
  mount: ResolvedMount,
  host: MountInfo | undefined,
): string | undefined {
  if (mount.propagation === 'PRIVATE') return undefined;
  const shared = host?.optional.some((o) => o.startsWith('shared:')) ?? false;
  const slave = host?.optional.some((o) => o.startsWith('master:')) ?? false;
  const where = `path "${mount.source}" is mounted on "${host?.mountPoint ?? '?'}"`;
  if (mount.propagation === 'BIDIRECTIONAL' && !shared)
    return `${where} but it is not a shared mount (needed for propagation BIDIRECTIONAL)`;
  if (mount.propagation === 'HOST_TO_CONTAINER' && !shared && !slave)
    return `${where} but it is not a shared or slave mount (needed for propagation HOST_TO_CONTAINER)`;
  return undefined;
}

/**
 * Resolves each mount's host path to its real path (as containerd, which follows symlinks) and
 * checks its propagation against the host's mounts. Throws a message naming the mount.
 */
export async function resolveMountSources(mounts: readonly Mount[]): Promise<ResolvedMount[]> {
  if (mounts.length === 0) return [];
  const infos = mounts.some((m) => m.propagation !== 'PRIVATE')
    ? parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'))
    : [];
  const out: ResolvedMount[] = [];
  for (const m of mounts) {
    let source: string;
    try {
      source = await realpath(m.hostPath);
    } catch (err) {
      throw new Error(`mount ${m.hostPath}: ${(err as Error).message}`, { cause: err });
    }
    const resolved = { ...m, source };
    const problem = propagationProblem(resolved, mountOf(infos, source));
    if (problem !== undefined) throw new Error(`mount ${m.hostPath}: ${problem}`);
    out.push(resolved);
  }
  return out;
}
