/**
 * The host's device nodes, for a privileged runc container: every character and block device
 * under /dev, skipping what containerd's oci.HostDevices skips (the pts, shm, fd, mqueue,
 * .lxc, .lxd-mounts and .udev directories, and /dev/console), since the container gets its
 * own of those.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciDevice } from './oci-security.js';

const skippedDirs = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Major and minor of a Linux dev_t (glibc's encoding). */
export function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xffff_f000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffff_ff00n);
  return { major: Number(major), minor: Number(minor) };
}

/** Every device node under `dir` (default /dev), depth first; unreadable entries are skipped. */
export async function listHostDevices(dir = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(dir, name);
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (st === undefined) continue;
    if (st.isDirectory()) {
      if (!skippedDirs.has(name)) out.push(...(await listHostDevices(path)));
    } else if (name !== 'console' && (st.isCharacterDevice() || st.isBlockDevice())) {
      out.push({
        path,
        type: st.isCharacterDevice() ? 'c' : 'b',
        ...majorMinor(st.rdev),
        fileMode: Number(st.mode & 0o777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
      });
    }
  }
  return out;
}
