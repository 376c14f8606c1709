/**
 * The leak audit: what a run left in the runtime and on the host once its own cleanup is done.
 *
 * - In the runtime: pods and containers labelled with the run id still listed after the
 *   runner's final sweep (which removed everything it could find): what the runtime failed to
 *   remove, or says it removed and still lists.
 * - On the host (when a {@link LeakHostProbe} is given and the runtime daemon's process is
 *   known): its shims and the built-in core's task processes whose container or pod is gone,
 *   zombies it or its shims did not reap, and mounts under its state directories that belong
 *   to no live object (metrics/host-leaks.ts). Only what appeared during the run counts: what
 *   was already orphaned when the run started (the baseline, taken once the run has connected)
 *   is reported as pre-existing, not blamed on the run.
 * - The daemon's growth: its resident memory, descriptors and threads after warm-up as a slope
 *   in % of the baseline per hour (metrics/trend.ts), from the resource sampler's series.
 *
 * Timing. The host scan reads /proc for every process, so it never runs per cycle: once when
 * the run starts, every `leaks.checkInterval` during the run (in the background, one at a
 * time) and once at the end, after the sweep, within `leaks.timeout`. At the end a single scan
 * can catch a shim on its way out after its pod was removed: findings are scanned again every
 * {@link settleStepMs} for a few seconds and only those that stay are counted.
 *
 * Checks during the run do not judge orphans: while cycles run, a listing and a scan never see
 * the same instant (a container being created has its shim before the runtime lists it), and
 * some mounts do not name their container (CRI-O's overlay layers). Each check records instead
 * the run's pods and containers present and the runtime's processes (shims, task processes,
 * zombies) and mounts that appeared since the run started: a steady soak keeps them flat, a
 * leak makes them grow.
 */
import type { Clock } from '../common/clock.js';
import { toChurnError } from '../common/errors.js';
import type { Driver, PodInfo, ContainerInfo, RuntimeInfo } from '../drivers/driver.js';
import {
  newSince,
  orphansIn,
  persisting,
  scanHost,
  type HostOrphans,
  type HostProcessKind,
  type HostScan,
  type HostScope,
} from '../metrics/host-leaks.js';
import type { HostProcSource } from '../metrics/procfs.js';
import { daemonRoots } from '../metrics/runtime-roots.js';
import type { TargetTrend } from '../metrics/trend.js';
import type { LeakFigures } from './threshold-eval.js';
import { runIdLabel } from './cycle.js';

/** How the audit reads the host; the CLI passes the real /proc, tests a fake one. */
export interface LeakHostProbe {
  readonly proc: HostProcSource;
  /** The runtime daemon's pid as the resource sampler knows it now (it follows a restart). */
  readonly targetPid: () => number | undefined;
  /** Reads a daemon's config file (its state directories); undefined when unreadable. */
  readonly readFile: (path: string) => Promise<string | undefined>;
}

/** Options of a {@link LeakAudit}. */
export interface LeakAuditOptions {
  readonly driver: Driver;
  readonly runId: string;
  readonly clock: Clock;
  /** The host side; without it only the runtime's objects are audited. */
  readonly host?: LeakHostProbe | undefined;
  /** Longest the baseline and the end-of-run audit may each take, ms. */
  readonly timeoutMs: number;
  /** The target's trend from clock time `sinceMs` to now (the resource sampler's series). */
  readonly targetTrend?: ((sinceMs: number) => TargetTrend | undefined) | undefined;
}

/** A process the audit found left; see metrics/host-leaks.ts. */
export interface LeakedProcess {
  readonly pid: number;
  readonly comm: string;
  readonly kind: HostProcessKind;
  /** The container or pod it served, when it names one. */
  readonly owner: string | null;
}

/** One check during the run: what the run and its runtime held then (see the module comment). */
export interface LeakCheck {
  /** When it was taken, ms since the run started. */
  readonly atMs: number;
  /** The run's pods and containers present (in-flight cycles' included); null: not listed. */
  readonly pods: number | null;
  readonly containers: number | null;
  /**
   * The runtime's shims, task processes and zombies, and its mounts under its state
   * directories, that appeared since the run started; null: not scanned.
   */
  readonly processes: number | null;
  readonly mounts: number | null;
}

/** What the audit found; the report's `leaks` section. */
export interface LeakAuditResult {
  /** The run's pods and containers still listed after the sweep; null when listing failed. */
  readonly pods: number | null;
  readonly containers: number | null;
  /** Their ids (at most {@link maxListed}). */
  readonly podIds: readonly string[];
  readonly containerIds: readonly string[];
  /** Orphaned shims, task processes and zombies; null when the host was not scanned. */
  readonly processes: number | null;
  /** Mounts under the runtime's state directories of no live object; null when not scanned. */
  readonly mounts: number | null;
  readonly processList: readonly LeakedProcess[];
  readonly mountList: readonly string[];
  /** Orphans already there when the run started (not counted above); null: no baseline. */
  readonly preexisting: { readonly processes: number; readonly mounts: number } | null;
  /** The state directories mounts were looked for under. */
  readonly roots: readonly string[];
  /** The runtime daemon's growth after warm-up; null when it was not sampled. */
  readonly target: TargetTrend | null;
  /** The checks during the run (leaks.checkInterval), oldest first. */
  readonly checks: readonly LeakCheck[];
  /** What could not be checked, and why. */
  readonly notes: readonly string[];
}

/** Ids, processes and mounts listed in the result at most (the counts are complete). */
export const maxListed = 50;
/** Period of the rescans of findings at the end of the run, ms. */
export const settleStepMs = 250;
/** Longest the end-of-run audit waits for findings to go away, ms (less when the timeout is short). */
export const maxSettleMs = 5000;

interface HostState {
  readonly probe: LeakHostProbe;
  readonly scope: HostScope;
  /** Everything the first scan found (what checks during the run count from). */
  readonly start: HostScan;
  /** What of it was orphaned already. */
  readonly baseline: HostOrphans;
}

/** The leak audit of one run; see the module comment. */
export class LeakAudit {
  readonly #o: LeakAuditOptions;
  readonly #notes: string[] = [];
  readonly #checks: LeakCheck[] = [];
  #host: HostState | undefined;
  #checking: Promise<void> | undefined;

  constructor(options: LeakAuditOptions) {
    this.#o = options;
  }

  /**
   * Takes the baseline once the run has connected: where the daemon runs and keeps its state,
   * and what was orphaned already. Never throws; what fails becomes a note.
   */
  async begin(info: RuntimeInfo): Promise<void> {
    const probe = this.#o.host;
    if (probe === undefined) return;
    const pid = probe.targetPid() ?? info.pid;
    if (pid === undefined) {
      this.#notes.push(
        "the runtime daemon's process is unknown (give --target-pid or --target-process): processes and mounts were not checked",
      );
      return;
    }
    await this.#withDeadline('the baseline', async (signal) => {
      const stat = await probe.proc.stat(pid);
      const args = (await probe.proc.cmdline(pid)) ?? [];
      const roots =
        info.host?.roots ??
        (stat === undefined ? [] : await daemonRoots(stat.comm, args, probe.readFile));
      const scope: HostScope = {
        targetPid: pid,
        roots,
        taskMarkKey: info.host?.taskMarkKey,
        shimNamespace: info.host?.shimNamespace,
      };
      const live = await this.#liveIds(signal);
      // A mark no process can carry yet is not looked for (RuntimeHostScope.newTaskMark).
      const scan = await scanHost(
        probe.proc,
        info.host?.newTaskMark === true ? { ...scope, taskMarkKey: undefined } : scope,
        signal,
      );
      this.#host = { probe, scope, start: scan, baseline: orphansIn(scan, live) };
    });
  }

  /**
   * Starts a check during the run unless one is still going; resolves at once. `atMs` is the
   * time since the run started.
   */
  check(atMs: number): void {
    if (this.#checking !== undefined) return;
    this.#checking = this.#check(atMs).finally(() => (this.#checking = undefined));
  }

  /**
   * The end-of-run audit, after the sweep; the target's trend is drawn from clock time
   * `trendSinceMs` (the end of warm-up). Never throws.
   */
  async finish(trendSinceMs: number): Promise<LeakAuditResult> {
    await this.#checking;
    let objects: { pods: PodInfo[]; containers: ContainerInfo[] } | undefined;
    let orphans: HostOrphans | undefined;
    await this.#withDeadline('the end-of-run audit', async (signal) => {
      objects = await this.#runObjects(signal);
      orphans = await this.#settledOrphans(signal);
    });
    const host = this.#host;
    const target = this.#o.targetTrend?.(trendSinceMs);
    return {
      pods: objects?.pods.length ?? null,
      containers: objects?.containers.length ?? null,
      podIds: (objects?.pods ?? []).slice(0, maxListed).map((p) => p.id),
      containerIds: (objects?.containers ?? []).slice(0, maxListed).map((c) => c.id),
      processes: orphans?.processes.length ?? null,
      mounts: orphans?.mounts?.length ?? null,
      processList: (orphans?.processes ?? []).slice(0, maxListed).map((p) => ({
        pid: p.pid,
        comm: p.comm,
        kind: p.kind,
        owner: p.owner ?? null,
      })),
      mountList: (orphans?.mounts ?? []).slice(0, maxListed),
      preexisting:
        host === undefined
          ? null
          : {
              processes: host.baseline.processes.length,
              mounts: host.baseline.mounts?.length ?? 0,
            },
      roots: host?.scope.roots ?? [],
      target: target ?? null,
      checks: this.#checks,
      notes:
        orphans !== undefined && orphans.mounts === undefined
          ? [
              ...this.#notes,
              "the runtime daemon's mount table could not be read: mounts were not checked",
            ]
          : this.#notes,
    };
  }

  async #check(atMs: number): Promise<void> {
    const { driver, runId } = this.#o;
    const filter = { labelSelector: { [runIdLabel]: runId } };
    const count = async <T>(list: () => Promise<T[]>): Promise<number | null> => {
      try {
        return (await list()).length;
      } catch {
        return null;
      }
    };
    const pods = await count(() => driver.listPods(filter));
    const containers = await count(() => driver.listContainers(filter));
    let processes: number | null = null;
    let mounts: number | null = null;
    const host = this.#host;
    if (host !== undefined) {
      try {
        const held = newSince(await scanHost(host.probe.proc, host.scope), host.start);
        processes = held.processes.length;
        mounts = held.mounts?.length ?? null;
      } catch {
        // This check measured nothing on the host; the next may.
      }
    }
    this.#checks.push({ atMs, pods, containers, processes, mounts });
  }

  /** The run's objects still listed (after the sweep). */
  async #runObjects(
    signal: AbortSignal,
  ): Promise<{ pods: PodInfo[]; containers: ContainerInfo[] }> {
    const { driver, runId } = this.#o;
    const filter = { labelSelector: { [runIdLabel]: runId } };
    const ours = <T extends { labels: Readonly<Record<string, string>> }>(items: T[]): T[] =>
      items.filter((i) => i.labels[runIdLabel] === runId);
    return {
      containers: ours(await driver.listContainers(filter, { signal })),
      pods: ours(await driver.listPods(filter, { signal })),
    };
  }

  /** Orphans new since the baseline that are still there after a few rescans; see the module comment. */
  async #settledOrphans(signal: AbortSignal): Promise<HostOrphans | undefined> {
    const host = this.#host;
    if (host === undefined) return undefined;
    const { clock, timeoutMs } = this.#o;
    const settleUntil = clock.now() + Math.min(maxSettleMs, timeoutMs / 2);
    let found = await this.#orphansNow(host, signal);
    while (
      (found.processes.length > 0 || (found.mounts?.length ?? 0) > 0) &&
      clock.now() + settleStepMs <= settleUntil
    ) {
      await clock.sleep(settleStepMs, signal);
      found = persisting(await this.#orphansNow(host, signal), found);
    }
    return found;
  }

  /** Orphans now, less those of the baseline. */
  async #orphansNow(host: HostState, signal: AbortSignal | undefined): Promise<HostOrphans> {
    const live = await this.#liveIds(signal);
    const scan = await scanHost(host.probe.proc, host.scope, signal);
    return newSince(orphansIn(scan, live), host.baseline);
  }

  /** Ids of every pod and container the runtime lists (any run's, anyone's). */
  async #liveIds(signal: AbortSignal | undefined): Promise<Set<string>> {
    const { driver } = this.#o;
    const options = signal === undefined ? undefined : { signal };
    const [pods, containers] = [
      await driver.listPods({}, options),
      await driver.listContainers({}, options),
    ];
    return new Set([...pods.map((p) => p.id), ...containers.map((c) => c.id)]);
  }

  /** Runs `work` with a signal that aborts after the timeout; a failure becomes a note. */
  async #withDeadline(what: string, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const { clock, timeoutMs } = this.#o;
    const deadline = new AbortController();
    const done = new AbortController();
    const timer = clock.sleep(timeoutMs, done.signal).then(
      () => deadline.abort(new Error(`timed out after ${timeoutMs} ms (leaks.timeout)`)),
      () => undefined,
    );
    try {
      await work(deadline.signal);
    } catch (err) {
      const why = deadline.signal.aborted
        ? `timed out after ${timeoutMs / 1000}s (leaks.timeout)`
        : toChurnError(err).message;
      this.#notes.push(
        `${what} could not be completed: ${why}; what it did not reach is not measured`,
      );
    } finally {
      done.abort();
      await timer;
    }
  }
}

/** The figures thresholds read from an audit's result (what was not measured is absent). */
export function leakFigures(result: LeakAuditResult): LeakFigures {
  const out: { -readonly [K in keyof LeakFigures]: number } = {};
  const set = (key: keyof LeakFigures, value: number | null | undefined): void => {
    if (value !== null && value !== undefined) out[key] = value;
  };
  set('leaked_pods', result.pods);
  set('leaked_containers', result.containers);
  set('leaked_processes', result.processes);
  set('leaked_mounts', result.mounts);
  set('target_rss_slope', result.target?.rssBytes?.slopePctPerHour);
  set('target_fds_slope', result.target?.openFds?.slopePctPerHour);
  set('target_threads_slope', result.target?.threads?.slopePctPerHour);
  return out;
}
