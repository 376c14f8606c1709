/**
 * Which process listens on a unix socket (Linux): the listening socket's inode from
 * /proc/net/unix, then the process holding a file descriptor on it. churn uses it to sample
 * the runtime daemon's CPU and memory. Best effort: undefined when /proc does not tell (other
 * OS, no permission, or a socket renamed after bind, whose /proc entry keeps the old path).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { parseListeningUnixSockets } from '../common/procfs-parse.js';

/** Socket inodes of listening unix sockets bound to `socketPath`, from /proc/net/unix text. */
export function listeningInodes(procNetUnix: string, socketPath: string): string[] {
  return [...parseListeningUnixSockets(procNetUnix)]
    .filter(([, path]) => path === socketPath)
    .map(([inode]) => inode);
}

/** The pid of the process listening on the unix socket at `socketPath`, if /proc tells. */
export async function socketOwnerPid(socketPath: string): Promise<number | undefined> {
  let table: string;
  try {
    table = await readFile('/proc/net/unix', 'utf8');
  } catch {
    return undefined;
  }
  const wanted = new Set(listeningInodes(table, socketPath).map((inode) => `socket:[${inode}]`));
  if (wanted.size === 0) return undefined;
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(await readlink(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // The fd closed meanwhile.
      }
    }
  }
  return undefined;
}
