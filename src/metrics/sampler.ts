/**
 * The resource sampler: every second (and once more when stopped) it reads the runtime daemon
 * under test (the target) and churn's own process from /proc, hands the sample to whoever
 * exports it (`onSample`: the Prometheus exporter) and keeps it in a bounded series for the
 * report.
 *
 * The target. Chosen by the caller ({@link TargetSpec}): a pid, a process name (matched
 * against /proc/<pid>/comm, found again after the daemon restarts), the pid a driver reported
 * (found again by its comm when it restarts, if exactly one process has it: the builtin
 * driver's core process, a CRI daemon), or churn itself. A pid is a process only with its start time:
 * a pid reused by another process reads as the target gone (`up` false), never as its figures.
 *
 * Shims. For a containerd target (comm `containerd`), every live process whose comm starts
 * with `containerd-shim` and that belongs to it: a child of it, or, since containerd's shims
 * daemonize and are reparented to init, one whose `-address` is a unix socket the daemon
 * listens on. For a CRI-O target (comm `crio`), its conmons likewise: comm `conmon`, a child
 * of it or one whose `--socket-dir-path` is the directory of a unix socket it listens on
 * (CRI-O's defaults: /var/run/crio/crio.sock and /var/run/crio; conmon daemonizes too).
 * Their count and summed resident memory. Other targets have 0 shims and no scan.
 *
 * The scan is incremental, so its cost follows the processes that come and go rather than all
 * of them: a process seen with the same start time and comm in two scans in a row is past its
 * fork and exec and is not read again, while new pids, shims and the target are read every
 * sample. A process that execs a shim later than that (not how containerd starts them) is
 * found by the full scan every {@link fullScanEvery} samples; a pid that leaves the listing is
 * forgotten, so a reused pid is read afresh.
 *
 * Contention. When the proc source reads the host, each sample after the first carries the
 * load average, CPU steal and the CPU of processes neither churn nor the target since the
 * previous sample (host-contention.ts); the target's CPU there includes its waited-for
 * children and its shims.
 *
 * Samples fall on the clock's shared heartbeat (common/heartbeat.ts): the sampler wakes churn
 * in the same timer as the runner's status loop and the idle event-loop probe. Samples never
 * overlap: a sample still reading when the next beat comes skips that beat.
 */
import type { Clock } from '../common/clock.js';
import { heartbeatOf } from '../common/heartbeat.js';
import { ChurnError } from '../common/errors.js';
import { contentionBetween, type HostSample, type ProcessCpu } from './host-contention.js';
import { harnessProbe, type HarnessProbe, type HarnessRunFigures } from './process-metrics.js';
import { procfs, type ProcSource, type ProcStat } from './procfs.js';
import type { ResourceSample, TargetSample, TargetSource } from './resource-sample.js';
import { ResourceSeries, type ResourceSeriesData } from './resource-series.js';
import { isLive, shimKindOf } from './shim-kind.js';

/** What to sample as the target. */
export interface TargetSpec {
  readonly source: TargetSource;
  /** The `target` label. */
  readonly name: string;
  /** The process; for source `self` this process, for `process` found by `name` when unset. */
  readonly pid?: number;
}

/** Options of a {@link ResourceSampler}. */
export interface ResourceSamplerOptions {
  readonly clock: Clock;
  /** Sampling period, ms. Default 1000. */
  readonly intervalMs?: number;
  /** Where /proc is read; default the real one. */
  readonly proc?: ProcSource;
  /** churn's own process; default {@link harnessProbe} of this process. */
  readonly harness?: HarnessProbe;
  /** Points the series keeps before coarsening; default 512. */
  readonly maxPoints?: number;
  /** Called with every sample (the exporter's `setResources`). */
  readonly onSample?: (sample: ResourceSample) => void;
}

/** Samples between two full scans of every process for shims (see the module comment). */
export const fullScanEvery = 10;
/** Processes read between two yields to the event loop: a first scan of a busy host is sliced. */
const readsPerYield = 64;

/** comm values are cut to 15 bytes by the kernel (TASK_COMM_LEN 16). */
const commLength = 15;

/**
 * Pids of live processes whose comm is `name` (cut to 15 bytes as the kernel does), oldest
 * first, churn's own process excluded.
 */
export async function findProcessesByName(
  name: string,
  proc: ProcSource = procfs,
): Promise<number[]> {
  const comm = name.slice(0, commLength);
  const found: { pid: number; start: bigint }[] = [];
  await Promise.all(
    (await proc.pids()).map(async (pid) => {
      if (pid === process.pid) return;
      const stat = await proc.stat(pid);
      if (isLive(stat) && stat.comm === comm) found.push({ pid, start: BigInt(stat.startTime) });
    }),
  );
  found.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.pid - b.pid));
  return found.map((f) => f.pid);
}

/**
 * Resolves `--target-process NAME` to one pid. USAGE when no process or several have that
 * name (the message lists them and says to use --target-pid).
 */
export async function resolveTargetProcess(
  name: string,
  proc: ProcSource = procfs,
): Promise<number> {
  const pids = await findProcessesByName(name, proc);
  if (pids.length === 1) return pids[0]!;
  if (pids.length === 0) {
    throw new ChurnError(
      'USAGE',
      `--target-process ${name}: no running process is named "${name.slice(0, commLength)}" (as /proc/<pid>/comm says)`,
    );
  }
  throw new ChurnError(
    'USAGE',
    `--target-process ${name}: ${pids.length} processes have that name (pids ${pids.join(', ')}); choose one with --target-pid`,
  );
}

/**
 * Checks `--target-pid PID` and returns the process's comm (its `target` label). USAGE when no
 * such process runs.
 */
export async function describeTargetPid(pid: number, proc: ProcSource = procfs): Promise<string> {
  const stat = await proc.stat(pid);
  if (!isLive(stat)) {
    throw new ChurnError('USAGE', `--target-pid ${pid}: no such process is running`);
  }
  return stat.comm;
}

interface TargetState {
  readonly spec: TargetSpec;
  pid: number | undefined;
  /** Start time of `pid` when first seen: another start time means another process. */
  startTime: string | undefined;
  /** comm to find the target again by (source process and driver). */
  comm: string | undefined;
  /** Shim links of pid@startTime (its listening sockets as {@link ShimKind.anchor}), once read non-empty. */
  sockets: ReadonlySet<string> | undefined;
}

/** What the shim scans know of one process (pid@startTime). */
interface KnownProcess {
  readonly startTime: string;
  comm: string;
  /** Seen with the same comm in two scans in a row: past its fork and exec. */
  settled: boolean;
  /** The scan that last listed it. */
  seenInScan: number;
  /** Shims: whether the command line was read, and the daemon it names ({@link ShimKind.link}). */
  addressRead: boolean;
  address: string | undefined;
}

function noop(): void {
  // Nothing to end.
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Samples the target and churn's own process; see the module comment. */
export class ResourceSampler {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #proc: ProcSource;
  readonly #harness: HarnessProbe;
  readonly #ownsHarness: boolean;
  readonly #series: ResourceSeries;
  readonly #onSample: ((sample: ResourceSample) => void) | undefined;
  readonly #stop = new AbortController();
  /** Processes the shim scans have read, by pid. */
  readonly #known = new Map<number, KnownProcess>();
  #scans = 0;
  #target: TargetState | undefined;
  #latest: ResourceSample | undefined;
  /** The host and the CPU of churn and the target at the previous sample (contention). */
  #previousHost: { readonly host: HostSample; readonly cpu: ProcessCpu } | undefined;
  #inFlight: Promise<ResourceSample> | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(options: ResourceSamplerOptions) {
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#proc = options.proc ?? procfs;
    this.#ownsHarness = options.harness === undefined;
    this.#harness = options.harness ?? harnessProbe(this.#proc);
    this.#onSample = options.onSample;
    this.#series = new ResourceSeries({
      originMs: options.clock.now(),
      originWallMs: options.clock.wallNowMs(),
      intervalMs: this.#intervalMs,
      ...(options.maxPoints !== undefined ? { maxPoints: options.maxPoints } : {}),
    });
  }

  /** Samples `spec` from the next sample on. */
  setTarget(spec: TargetSpec): void {
    const pid = spec.source === 'self' ? process.pid : spec.pid;
    this.#target = {
      spec,
      pid,
      startTime: undefined,
      comm: spec.source === 'process' ? spec.name.slice(0, commLength) : undefined,
      sockets: undefined,
    };
    this.#series.setTarget(spec.name, spec.source);
  }

  /** The latest sample, if any. */
  get latest(): ResourceSample | undefined {
    return this.#latest;
  }

  /** Samples at once and then every interval until {@link ResourceSampler.stop}. */
  start(): void {
    if (this.#loop !== undefined || this.#stopped) return;
    this.#loop = this.#run();
  }

  /** Takes one sample now (or joins the one being taken). */
  sample(): Promise<ResourceSample> {
    this.#inFlight ??= this.#take().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  /** Stops the loop and takes a last sample, so the series reaches the end of the run. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop.abort();
    await this.#loop;
    await this.#inFlight;
    try {
      await this.sample();
    } finally {
      if (this.#ownsHarness) this.#harness.close();
    }
  }

  /** churn's event loop and CPU over the sampler's life so far. */
  harnessRun(): HarnessRunFigures {
    return this.#harness.run();
  }

  /**
   * Marks a call to the runtime in flight until the returned function is called (the
   * event-loop probe ticks fast meanwhile; see process-metrics.ts).
   */
  trackCall(): () => void {
    return this.#harness.track?.() ?? noop;
  }

  /** Starts the run-wide event-loop lag afresh (see {@link HarnessProbe.restartRun}). */
  restartHarnessRun(): void {
    this.#harness.restartRun();
  }

  /** The series so far (bounded; see resource-series.ts). */
  series(): ResourceSeriesData {
    return this.#series.data();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const heartbeat = heartbeatOf(this.#clock, this.#intervalMs);
    while (!signal.aborted) {
      await this.sample();
      try {
        await heartbeat.next(signal);
      } catch {
        return;
      }
    }
  }

  async #take(): Promise<ResourceSample> {
    const [target, harness, host, constants] = await Promise.all([
      this.#sampleTarget(),
      this.#harness.sample(),
      this.#proc.host?.(),
      this.#proc.constants(),
    ]);
    let contention: ResourceSample['contention'];
    if (host !== undefined) {
      const cpu: ProcessCpu = {
        churnSeconds: harness.cpuSeconds,
        targetSeconds: this.#targetCpuForContention(target, harness.cpuSeconds),
      };
      const previous = this.#previousHost;
      this.#previousHost = { host, cpu };
      if (previous !== undefined) {
        contention = contentionBetween(previous, { host, cpu }, constants.clockTicksPerSec);
      }
    }
    const sample: ResourceSample = {
      atMs: this.#clock.now(),
      target,
      harness,
      ...(contention !== undefined ? { contention } : {}),
    };
    this.#latest = sample;
    this.#series.add(sample);
    this.#onSample?.(sample);
    return sample;
  }

  /**
   * The target's CPU as contention subtracts it: 0 with no target (everything but churn is
   * "other"), undefined when it could not be read, and without churn's own threads when the
   * target is churn itself (they are churn's CPU already).
   */
  #targetCpuForContention(
    target: TargetSample | undefined,
    churnSeconds: number,
  ): number | undefined {
    if (this.#target === undefined) return 0;
    if (target?.totalCpuSeconds === undefined) return undefined;
    if (target.pid === process.pid) return Math.max(0, target.totalCpuSeconds - churnSeconds);
    return target.totalCpuSeconds;
  }

  async #sampleTarget(): Promise<TargetSample | undefined> {
    const target = this.#target;
    if (target === undefined) return undefined;
    const stat = await this.#locate(target);
    const down: TargetSample = {
      name: target.spec.name,
      pid: target.pid,
      up: false,
      cpuSeconds: undefined,
      rssBytes: undefined,
      openFds: undefined,
      threads: undefined,
      shims: undefined,
      shimRssBytes: undefined,
    };
    if (stat === undefined || target.pid === undefined) return down;
    const pid = target.pid;
    const [constants, openFds, shims] = await Promise.all([
      this.#proc.constants(),
      this.#proc.openFds(pid),
      this.#shims(target, stat),
    ]);
    return {
      name: target.spec.name,
      pid,
      up: true,
      cpuSeconds: stat.cpuTicks / constants.clockTicksPerSec,
      rssBytes: stat.rssPages * constants.pageSizeBytes,
      openFds,
      threads: stat.threads,
      shims: shims.count,
      shimRssBytes: shims.rssPages * constants.pageSizeBytes,
      totalCpuSeconds:
        (stat.cpuTicks + (stat.childCpuTicks ?? 0) + shims.cpuTicks) / constants.clockTicksPerSec,
    };
  }

  /** The target's stat: its pid if still the same process, else found again where allowed. */
  async #locate(target: TargetState): Promise<ProcStat | undefined> {
    if (target.pid !== undefined) {
      const stat = await this.#proc.stat(target.pid);
      if (isLive(stat) && (target.startTime === undefined || stat.startTime === target.startTime)) {
        target.startTime ??= stat.startTime;
        target.comm ??= stat.comm;
        return stat;
      }
    }
    // Gone (or its pid reused). A fixed pid stays gone; a named or driver target may have
    // restarted under another pid.
    const source = target.spec.source;
    if (source === 'pid' || source === 'self' || target.comm === undefined) return undefined;
    const pids = await findProcessesByName(target.comm, this.#proc);
    if (pids.length !== 1) return undefined;
    const stat = await this.#proc.stat(pids[0]!);
    if (!isLive(stat)) return undefined;
    target.pid = pids[0]!;
    target.startTime = stat.startTime;
    target.sockets = undefined;
    return stat;
  }

  async #shims(
    target: TargetState,
    stat: ProcStat,
  ): Promise<{ readonly count: number; readonly rssPages: number; readonly cpuTicks: number }> {
    const kind = shimKindOf(stat.comm);
    if (kind === undefined) return { count: 0, rssPages: 0, cpuTicks: 0 };
    const shimComm = kind.comm;
    const pid = target.pid!;
    if (target.sockets === undefined) {
      const sockets = await this.#proc.listeningSockets(pid);
      if (sockets.size > 0) target.sockets = new Set([...sockets].map(kind.anchor));
    }
    const sockets = target.sockets;
    const scan = ++this.#scans;
    const full = (scan - 1) % fullScanEvery === 0;
    const known = this.#known;
    let count = 0;
    let rssPages = 0;
    let cpuTicks = 0;
    let reads = 0;
    for (const candidate of await this.#proc.pids()) {
      let entry = known.get(candidate);
      if (entry !== undefined) {
        entry.seenInScan = scan;
        if (entry.settled && !full && !entry.comm.startsWith(shimComm)) continue;
      }
      if (++reads % readsPerYield === 0) await yieldToEventLoop();
      const s = await this.#proc.stat(candidate);
      if (s === undefined) {
        known.delete(candidate);
        continue;
      }
      if (entry === undefined || entry.startTime !== s.startTime) {
        entry = {
          startTime: s.startTime,
          comm: s.comm,
          settled: false,
          seenInScan: scan,
          addressRead: false,
          address: undefined,
        };
        known.set(candidate, entry);
      } else {
        entry.settled = entry.comm === s.comm;
        if (!entry.settled) {
          entry.comm = s.comm;
          entry.addressRead = false;
        }
      }
      if (!isLive(s) || !s.comm.startsWith(shimComm)) continue;
      let belongs = s.ppid === pid;
      if (!belongs && sockets !== undefined) {
        if (!entry.addressRead) {
          const args = await this.#proc.cmdline(candidate);
          entry.address = args === undefined ? undefined : kind.link(args);
          entry.addressRead = true;
        }
        belongs = entry.address !== undefined && sockets.has(entry.address);
      }
      if (belongs) {
        count++;
        rssPages += s.rssPages;
        cpuTicks += s.cpuTicks + (s.childCpuTicks ?? 0);
      }
    }
    for (const [p, entry] of known) if (entry.seenInScan !== scan) known.delete(p);
    return { count, rssPages, cpuTicks };
  }
}
