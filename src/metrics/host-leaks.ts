/**
 * The host side of the leak audit: what a runtime daemon left on the machine that no live
 * container or pod accounts for. Read from /proc through a {@link HostProcSource} (tests pass
 * a fake one), never on the harness's hot path: the audit scans when a run starts (the
 * baseline), every `leaks.checkInterval` and once at the end.
 *
 * What is looked for:
 * - shims: the daemon's `containerd-shim*` or `conmon` processes (shim-kind.ts says whose
 *   they are), of the run's containerd namespace when the driver names one; each serves the
 *   container or pod its arguments name (`-id`, `-c`);
 * - task processes: for the built-in core, every process carrying its `CHURN_CORE_TASK` mark
 *   (common/task-mark.ts), which names its container;
 * - zombies: children of the daemon or of its shims that nobody reaped;
 * - mounts: mount points strictly under the daemon's state directories (runtime-roots.ts) in
 *   the daemon's own mount table.
 *
 * {@link orphansIn} keeps what belongs to no live object: a shim or task process whose
 * container (or pod) is not listed, every zombie, a mount none of whose path segments is a
 * live object's id. {@link newSince} and {@link persisting} take away what was already there at
 * the baseline and what a single scan may catch in passing (a container being created or
 * removed at that moment).
 */
import { parseMountInfo } from '../common/procfs-parse.js';
import { markedContainerId } from '../common/task-mark.js';
import type { HostProcSource, ProcStat } from './procfs.js';
import { isLive, shimKindOf } from './shim-kind.js';

/** Where to look; see the module comment. */
export interface HostScope {
  /** The runtime daemon's pid (its shims, unreaped children, mount table). */
  readonly targetPid: number;
  /** The daemon's state directories: mounts under them are its containers'. */
  readonly roots: readonly string[];
  /** The built-in core's key in the CHURN_CORE_TASK mark of its tasks' processes. */
  readonly taskMarkKey?: string | undefined;
  /** Only shims of this containerd namespace are the run's daemon's (`-namespace`). */
  readonly shimNamespace?: string | undefined;
}

/** What a process found by a scan is. */
export type HostProcessKind = 'shim' | 'task' | 'zombie';

/** A process a scan found. */
export interface HostProcess {
  readonly pid: number;
  /** With the pid, identifies the process (pids are reused). */
  readonly startTime: string;
  readonly comm: string;
  readonly kind: HostProcessKind;
  /** The container or pod a shim or task process serves (from its arguments or mark). */
  readonly owner: string | undefined;
}

/** The processes and mounts of one scan; `mounts` undefined when the table was unreadable. */
export interface HostScan {
  readonly processes: readonly HostProcess[];
  readonly mounts: readonly string[] | undefined;
}

/** What belongs to no live object. */
export interface HostOrphans {
  readonly processes: readonly HostProcess[];
  /** Undefined when the mount table could not be read. */
  readonly mounts: readonly string[] | undefined;
}

/** Processes read between two yields to the event loop. */
const readsPerYield = 64;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** kthreadd (pid 2) and its children are the kernel's threads: no environment, no shims. */
function isKernelThread(pid: number, stat: ProcStat): boolean {
  return pid === 2 || stat.ppid === 2;
}

/**
 * Scans the host for the daemon's shims, the core's task processes, zombies and mounts under
 * the roots. Rejects when the daemon is not running (nothing to attribute to it) or when
 * `signal` aborts; processes that vanish during the scan are skipped.
 */
export async function scanHost(
  source: HostProcSource,
  scope: HostScope,
  signal?: AbortSignal,
): Promise<HostScan> {
  const target = await source.stat(scope.targetPid);
  if (!isLive(target)) {
    throw new Error(`the runtime daemon (pid ${scope.targetPid}) is not running`);
  }
  const kind = shimKindOf(target.comm);
  const sockets =
    kind === undefined
      ? new Set<string>()
      : new Set([...(await source.listeningSockets(scope.targetPid))].map(kind.anchor));
  const stats = new Map<number, ProcStat>();
  let reads = 0;
  for (const pid of await source.pids()) {
    if (++reads % readsPerYield === 0) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
    const stat = await source.stat(pid);
    if (stat !== undefined && !isKernelThread(pid, stat)) stats.set(pid, stat);
  }
  const processes: HostProcess[] = [];
  const shims = new Set<number>();
  reads = 0;
  for (const [pid, stat] of stats) {
    if (pid === scope.targetPid || pid === process.pid || !isLive(stat)) continue;
    if (kind !== undefined && stat.comm.startsWith(kind.comm)) {
      const args = await source.cmdline(pid);
      if (args === undefined) continue;
      const link = kind.link(args);
      const belongs = stat.ppid === scope.targetPid || (link !== undefined && sockets.has(link));
      const namespace = kind.namespace(args);
      if (!belongs) continue;
      // A shim of the daemon is a parent whose zombies are the daemon's, whatever its namespace.
      shims.add(pid);
      // A shim naming no namespace cannot be ruled out: it counts.
      if (
        scope.shimNamespace !== undefined &&
        namespace !== undefined &&
        namespace !== scope.shimNamespace
      ) {
        continue;
      }
      processes.push({
        pid,
        startTime: stat.startTime,
        comm: stat.comm,
        kind: 'shim',
        owner: kind.owner(args),
      });
      continue;
    }
    if (scope.taskMarkKey !== undefined) {
      if (++reads % readsPerYield === 0) {
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
      const environ = await source.environ(pid);
      const owner =
        environ === undefined ? undefined : markedContainerId(environ, scope.taskMarkKey);
      if (owner !== undefined) {
        processes.push({ pid, startTime: stat.startTime, comm: stat.comm, kind: 'task', owner });
      }
    }
  }
  for (const [pid, stat] of stats) {
    if (stat.state !== 'Z') continue;
    if (stat.ppid !== scope.targetPid && !shims.has(stat.ppid)) continue;
    processes.push({
      pid,
      startTime: stat.startTime,
      comm: stat.comm,
      kind: 'zombie',
      owner: undefined,
    });
  }
  signal?.throwIfAborted();
  const table = await source.mountInfo(scope.targetPid);
  return {
    processes: processes.sort((a, b) => a.pid - b.pid),
    mounts: table === undefined ? undefined : mountsUnder(parseMountPoints(table), scope.roots),
  };
}

/** The mount points of a mountinfo text (field 5, octal escapes undone). */
function parseMountPoints(text: string): string[] {
  return parseMountInfo(text).map((m) => m.mountPoint);
}

/** The mount points strictly inside one of `roots`, sorted, each once. */
export function mountsUnder(mountPoints: readonly string[], roots: readonly string[]): string[] {
  const prefixes = roots.map((r) => `${r.replace(/\/+$/, '')}/`).filter((p) => p !== '/');
  const inside = mountPoints.filter((m) => prefixes.some((p) => m.startsWith(p)));
  return [...new Set(inside)].sort();
}

/** What in `scan` belongs to no object in `liveIds` (pods and containers, any run's). */
export function orphansIn(scan: HostScan, liveIds: ReadonlySet<string>): HostOrphans {
  return {
    processes: scan.processes.filter(
      (p) => p.kind === 'zombie' || p.owner === undefined || !liveIds.has(p.owner),
    ),
    mounts: scan.mounts?.filter((m) => !m.split('/').some((segment) => liveIds.has(segment))),
  };
}

const processKey = (p: HostProcess): string => `${p.pid}@${p.startTime}`;

function keepProcesses(
  orphans: HostOrphans,
  other: HostOrphans,
  keep: (inOther: boolean) => boolean,
): HostOrphans {
  const processes = new Set(other.processes.map(processKey));
  const mounts = new Set(other.mounts ?? []);
  return {
    processes: orphans.processes.filter((p) => keep(processes.has(processKey(p)))),
    mounts: orphans.mounts?.filter((m) => keep(mounts.has(m))),
  };
}

/** `orphans` without those already in `baseline` (the same process, the same mount point). */
export function newSince(orphans: HostOrphans, baseline: HostOrphans): HostOrphans {
  return keepProcesses(orphans, baseline, (inBaseline) => !inBaseline);
}

/** Only the `orphans` also found by the `previous` scan: what stayed, not what passed by. */
export function persisting(orphans: HostOrphans, previous: HostOrphans): HostOrphans {
  return keepProcesses(orphans, previous, (inPrevious) => inPrevious);
}
