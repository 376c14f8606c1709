/**
 * A test double of /proc for the resource sampler and the leak audit: processes (stat,
 * descriptors, command line, environment, listening sockets) and mount tables in memory, with a
 * record of what was read, so unit tests never read the real /proc (whose contents change under
 * a loaded machine's other processes).
 */
import type { HostProcSource, ProcConstants, ProcStat } from '../../src/metrics/procfs.js';

/** One fake process. */
export interface FakeProcess {
  stat: ProcStat;
  /** Entries of /proc/<pid>/fd. */
  fds?: number;
  args?: string[];
  environ?: string[];
  sockets?: string[];
  /** Mount points of its mount table (/proc/<pid>/mountinfo). */
  mounts?: string[];
}

/** /proc as a map of processes; see the module comment. */
export class FakeHostProc implements HostProcSource {
  readonly procs = new Map<number, FakeProcess>();
  /** Pids whose environment was read. */
  readonly environReads: number[] = [];
  /** Calls of {@link FakeHostProc.pids}. */
  pidsCalls = 0;
  /** Pids whose stat was read, in order, since the last {@link FakeHostProc.takeStatReads}. */
  statReads: number[] = [];

  /** Adds (or replaces) process `pid`. */
  add(
    pid: number,
    comm: string,
    stat: Partial<ProcStat> = {},
    extra: Omit<FakeProcess, 'stat'> = {},
  ): this {
    this.procs.set(pid, {
      stat: {
        comm,
        state: 'S',
        ppid: 1,
        cpuTicks: 0,
        threads: 1,
        startTime: String(pid * 10),
        rssPages: 0,
        ...stat,
      },
      ...extra,
    });
    return this;
  }

  remove(pid: number): void {
    this.procs.delete(pid);
  }

  stat(pid: number): Promise<ProcStat | undefined> {
    this.statReads.push(pid);
    return Promise.resolve(this.procs.get(pid)?.stat);
  }
  /** The pids read since the last call, sorted, each once. */
  takeStatReads(): number[] {
    const reads = [...new Set(this.statReads)].sort((a, b) => a - b);
    this.statReads = [];
    return reads;
  }
  openFds(pid: number): Promise<number | undefined> {
    return Promise.resolve(this.procs.get(pid)?.fds);
  }
  pids(): Promise<number[]> {
    this.pidsCalls++;
    return Promise.resolve([...this.procs.keys()]);
  }
  cmdline(pid: number): Promise<string[] | undefined> {
    return Promise.resolve(this.procs.get(pid)?.args);
  }
  listeningSockets(pid: number): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set(this.procs.get(pid)?.sockets ?? []));
  }
  constants(): Promise<ProcConstants> {
    return Promise.resolve({ pageSizeBytes: 4096, clockTicksPerSec: 100 });
  }
  environ(pid: number): Promise<Buffer | undefined> {
    this.environReads.push(pid);
    const env = this.procs.get(pid)?.environ;
    return Promise.resolve(
      env === undefined ? undefined : Buffer.from(env.map((v) => `${v}\0`).join(''), 'latin1'),
    );
  }
  mountInfo(pid: number): Promise<string | undefined> {
    const mounts = this.procs.get(pid)?.mounts;
    if (mounts === undefined) return Promise.resolve(undefined);
    // mountinfo lines: id parent major:minor root mount-point options optional... - type source super
    return Promise.resolve(
      mounts
        .map(
          (m, i) =>
            `${100 + i} 1 0:${i} / ${m.replace(/ /g, '\\040')} rw,relatime shared:1 - overlay overlay rw\n`,
        )
        .join(''),
    );
  }
}
