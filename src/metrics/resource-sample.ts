/**
 * One resource sample: the runtime daemon under test (the target) and churn's own process (the
 * harness), as the sampler reads them every second and the exporter and the report show them.
 */
import type { Contention } from './host-contention.js';

/** How the target process was chosen. */
export type TargetSource =
  /** `--target-pid PID`. */
  | 'pid'
  /** `--target-process NAME`, found by /proc/<pid>/comm (again after a restart). */
  | 'process'
  /** The pid the driver reported (the CRI socket's owner, or the server's Status info). */
  | 'driver'
  /** churn's own process (for a runtime that runs inside churn). */
  | 'self';

/** What is sampled as the target. */
export interface TargetIdentity {
  /** The `target` label: containerd, churn-core, the --target-process name, or a comm. */
  readonly name: string;
  readonly source: TargetSource;
}

/** The target at one sample; the figures are undefined when it could not be read. */
export interface TargetSample {
  readonly name: string;
  /** The pid read, undefined when none was found. */
  readonly pid: number | undefined;
  readonly up: boolean;
  /** CPU time of its own threads (user + system), seconds. */
  readonly cpuSeconds: number | undefined;
  readonly rssBytes: number | undefined;
  readonly openFds: number | undefined;
  readonly threads: number | undefined;
  /** containerd shim processes of the target (0 when it has none). */
  readonly shims: number | undefined;
  /** Their resident memory added together, bytes. */
  readonly shimRssBytes: number | undefined;
  /**
   * CPU of the target with its waited-for children and its shims, seconds (what contention
   * subtracts as the target's); undefined when unread.
   */
  readonly totalCpuSeconds?: number | undefined;
}

/** churn's own process at one sample. */
export interface HarnessSample {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Undefined when /proc/self/fd cannot be read. */
  readonly openFds: number | undefined;
  /** p99 of event-loop delay over the last 60 s, seconds. */
  readonly eventLoopLagP99Seconds: number;
  /** Longest event-loop delay over the last sampling period, seconds. */
  readonly eventLoopLagMaxSeconds: number;
  /**
   * p99 of the stall-corrected event-loop delay over the last sampling period, seconds
   * (loop-lag-tally.ts).
   */
  readonly eventLoopLagSpanP99Seconds: number;
  /** Share of the last sampling period the event loop was busy, 0..1; undefined when unknown. */
  readonly eventLoopUtilization: number | undefined;
}

/** One sample of both. */
export interface ResourceSample {
  /** Clock time of the sample (the sampler's clock), ms. */
  readonly atMs: number;
  /** Undefined until a target is known (a driver's pid arrives when it connects). */
  readonly target: TargetSample | undefined;
  readonly harness: HarnessSample;
  /** The host's contention since the previous sample; undefined at the first sample. */
  readonly contention?: Contention | undefined;
}
