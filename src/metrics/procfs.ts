/**
 * What the resource sampler reads from Linux /proc, directly (no `ps`): a process's stat
 * (state, parent, CPU ticks, threads, resident pages, comm), its open descriptors, command
 * line and listening unix sockets, the list of pids, the page size and clock tick rate
 * (from /proc/self/auxv), and the host's load average and CPU ticks (/proc/loadavg, /proc/stat);
 * for the leak audit also a process's environment and mount table. Parsers are pure and
 * exported for tests; {@link procfs} does the reading.
 *
 * Reads that run every sample (a process's stat, the pid list, a descriptor count) are
 * synchronous, into one reused buffer: /proc files are generated from kernel memory and never
 * wait on a disk, and a synchronous open/read/close costs about 10 µs of the event loop's time
 * where fs/promises' readFile costs 50–100 µs of it (thread-pool round trips, a 64 KiB buffer
 * per file of unknown size, promise hops), measured on this project's 2-core VM. The event loop
 * is blocked less, not more. The rare reads that can be long or wait on another process's
 * memory lock (command line, environment, mount table, the unix socket table, socket links)
 * stay asynchronous.
 *
 * The reads are as of proc(5): /proc/<pid>/stat fields 14–15 utime/stime and 24 rss, 20
 * num_threads, 22 starttime; /proc/<pid>/net/unix Flags 0x10000 (__SO_ACCEPTCON) marks a
 * listening socket; auxv entries AT_PAGESZ (6) and AT_CLKTCK (17).
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import {
  parseListeningUnixSockets,
  parseProcStat,
  parseSchedstatWaitNs,
} from '../common/procfs-parse.js';
import { parseHostCpu, parseLoadAvg, type HostSample } from './host-contention.js';

/** The fields of /proc/<pid>/stat the sampler uses. */
export interface ProcStat {
  /** Command name (at most 15 bytes; the kernel truncates it). */
  readonly comm: string;
  /** One letter: R, S, D, Z (zombie), T, … */
  readonly state: string;
  readonly ppid: number;
  /** User + system CPU of the process's own threads, in clock ticks. */
  readonly cpuTicks: number;
  /** User + system CPU of its waited-for children, in clock ticks (0 when not read). */
  readonly childCpuTicks?: number;
  readonly threads: number;
  /** Start time after boot in clock ticks: with the pid, identifies a process. */
  readonly startTime: string;
  readonly rssPages: number;
}

/** Page size and clock ticks per second of this machine. */
export interface ProcConstants {
  readonly pageSizeBytes: number;
  readonly clockTicksPerSec: number;
}

/** The reads the sampler needs; {@link procfs} reads the real /proc, tests pass their own. */
export interface ProcSource {
  /** /proc/<pid>/stat, or undefined when there is no such process. */
  stat(pid: number): Promise<ProcStat | undefined>;
  /** Entries of /proc/<pid>/fd, or undefined when unreadable. */
  openFds(pid: number): Promise<number | undefined>;
  /** Pids of all processes. */
  pids(): Promise<number[]>;
  /** Arguments of the process, or undefined when gone. */
  cmdline(pid: number): Promise<string[] | undefined>;
  /** Paths of the unix sockets the process listens on (empty when unreadable). */
  listeningSockets(pid: number): Promise<ReadonlySet<string>>;
  constants(): Promise<ProcConstants>;
  /** /proc/loadavg and /proc/stat's `cpu` line; absent where the host is not read. */
  host?(): Promise<HostSample>;
  /**
   * How long the process's main thread has waited for a CPU while ready to run (its run-queue
   * wait, /proc/<pid>/task/<pid>/schedstat), s; undefined when the kernel does not say.
   * Synchronous: one small read. Absent where it is not read.
   */
  mainThreadCpuWaitSeconds?(pid: number): number | undefined;
}

/**
 * What the leak audit reads besides the sampler's reads: a process's environment (the core's
 * task mark) and mount table. {@link procfs} reads the real /proc; tests pass their own.
 */
export interface HostProcSource extends ProcSource {
  /** The bytes of /proc/<pid>/environ, or undefined when unreadable (gone, another user's). */
  environ(pid: number): Promise<Buffer | undefined>;
  /** The text of /proc/<pid>/mountinfo, or undefined when unreadable. */
  mountInfo(pid: number): Promise<string | undefined>;
}

/** Parses /proc/<pid>/stat; undefined when malformed. */
export function parseStat(text: string): ProcStat | undefined {
  const f = parseProcStat(text);
  if (f === undefined) return undefined;
  return {
    comm: f.comm,
    state: f.state,
    ppid: f.ppid,
    cpuTicks: f.utimeTicks + f.stimeTicks,
    childCpuTicks: f.cutimeTicks + f.cstimeTicks,
    threads: f.threads,
    startTime: f.startTime,
    rssPages: f.rssPages,
  };
}

/** Reads AT_PAGESZ and AT_CLKTCK from an auxv image (64-bit little-endian pairs). */
export function parseAuxv(bytes: Uint8Array): Partial<ProcConstants> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { pageSizeBytes?: number; clockTicksPerSec?: number } = {};
  for (let i = 0; i + 16 <= bytes.byteLength; i += 16) {
    const type = view.getBigUint64(i, true);
    const value = Number(view.getBigUint64(i + 8, true));
    if (type === 0n) break;
    if (type === 6n) out.pageSizeBytes = value;
    if (type === 17n) out.clockTicksPerSec = value;
  }
  return out;
}

/**
 * The value of the first of `names` (each spelled with one or two dashes, e.g. `address`) in a
 * command line: `-name value`, `--name value`, `-name=value` or `--name=value`; undefined when
 * absent or given no value.
 */
export function argValue(args: readonly string[], ...names: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const dashes = arg.startsWith('--') ? 2 : arg.startsWith('-') ? 1 : 0;
    if (dashes === 0) continue;
    const body = arg.slice(dashes);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (!names.includes(name)) continue;
    return eq < 0 ? args[i + 1] : body.slice(eq + 1);
  }
  return undefined;
}

/** The value of `-address` / `--address` in a containerd shim's arguments, if any. */
export function shimAddress(args: readonly string[]): string | undefined {
  return argValue(args, 'address');
}

/**
 * The value of `--socket-dir-path` in a conmon's arguments (CRI-O's container_attach_socket_dir),
 * if any.
 */
export function conmonSocketDir(args: readonly string[]): string | undefined {
  return argValue(args, 'socket-dir-path');
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The buffer of every synchronous read; they never overlap. Grows for longer files. */
let syncBuffer = Buffer.allocUnsafe(4096);

/** The text of a small /proc file, read synchronously; undefined when it cannot be read. */
function readProcTextSync(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === syncBuffer.length) {
        const larger = Buffer.allocUnsafe(syncBuffer.length * 2);
        syncBuffer.copy(larger, 0, 0, length);
        syncBuffer = larger;
      }
      const n = readSync(fd, syncBuffer, length, syncBuffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return syncBuffer.toString('utf8', 0, length);
  } catch {
    // The process exited between open and read.
    return undefined;
  } finally {
    closeSync(fd);
  }
}

let constants: Promise<ProcConstants> | undefined;

/** The real /proc. */
export const procfs: HostProcSource = {
  stat(pid) {
    const text = readProcTextSync(`/proc/${pid}/stat`);
    return Promise.resolve(text === undefined ? undefined : parseStat(text));
  },
  openFds(pid) {
    try {
      return Promise.resolve(readdirSync(`/proc/${pid}/fd`).length);
    } catch {
      return Promise.resolve(undefined);
    }
  },
  pids() {
    let names: string[];
    try {
      names = readdirSync('/proc');
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const out: number[] = [];
    for (const name of names) {
      const first = name.charCodeAt(0);
      if (first >= 48 && first <= 57) out.push(Number(name));
    }
    return Promise.resolve(out);
  },
  async environ(pid) {
    // Reads the process's memory, as cmdline does: asynchronous. A zombie's environment reads
    // as empty; another user's is refused (undefined).
    try {
      return await readFile(`/proc/${pid}/environ`);
    } catch {
      return undefined;
    }
  },
  mountInfo(pid) {
    return readText(`/proc/${pid}/mountinfo`);
  },
  async cmdline(pid) {
    const text = await readText(`/proc/${pid}/cmdline`);
    if (text === undefined) return undefined;
    const args = text.split('\0');
    if (args[args.length - 1] === '') args.pop();
    return args;
  },
  async listeningSockets(pid) {
    const table = await readText(`/proc/${pid}/net/unix`);
    if (table === undefined) return new Set();
    const listening = parseListeningUnixSockets(table);
    const paths = new Set<string>();
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      return paths;
    }
    for (const fd of fds) {
      try {
        const link = await readlink(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        const path = inode === undefined ? undefined : listening.get(inode);
        if (path !== undefined) paths.add(path);
      } catch {
        // Closed meanwhile.
      }
    }
    return paths;
  },
  mainThreadCpuWaitSeconds(pid) {
    const text = readProcTextSync(`/proc/${pid}/task/${pid}/schedstat`);
    const ns = text === undefined ? undefined : parseSchedstatWaitNs(text);
    return ns === undefined ? undefined : ns / 1e9;
  },
  host() {
    const load = readProcTextSync('/proc/loadavg');
    const stat = readProcTextSync('/proc/stat');
    return Promise.resolve({
      load1: load === undefined ? undefined : parseLoadAvg(load),
      cpu: stat === undefined ? undefined : parseHostCpu(stat),
    });
  },
  constants() {
    constants ??= (async () => {
      let found: Partial<ProcConstants> = {};
      try {
        found = parseAuxv(await readFile('/proc/self/auxv'));
      } catch {
        // Not Linux, or no auxv: the common values below.
      }
      return {
        pageSizeBytes: found.pageSizeBytes ?? 4096,
        clockTicksPerSec: found.clockTicksPerSec ?? 100,
      };
    })();
    return constants;
  },
};
