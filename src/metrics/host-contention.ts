/**
 * How contended the host was while churn measured: the load average, the CPU the hypervisor
 * stole, and the CPU used by processes that are neither churn nor the target. Parsers of
 * /proc/loadavg and the `cpu` line of /proc/stat, and the maths between two readings; pure.
 *
 * /proc/stat's `cpu` line (proc(5)) sums every CPU, in USER_HZ ticks: user nice system idle
 * iowait irq softirq steal guest guest_nice. guest and guest_nice are already inside user and
 * nice, so they are not added again. Busy is user + nice + system + irq + softirq (what
 * processes and the kernel on their behalf ran); the total is every field through steal, so
 * percentages are of the whole host's CPU (all cores): 50% on a 2-core host is one core.
 *
 * Other processes' CPU = host busy − churn's CPU − the target's CPU (its own threads, its
 * waited-for children and its shims, as the sampler reads them), over the same span, clamped
 * at 0: the readings are not taken at one instant, and a shim that exits takes its CPU with
 * it, so the difference can dip below zero by a tick or two.
 */

/** Host CPU ticks as /proc/stat's `cpu` line gives them, summed over every CPU. */
export interface HostCpuTicks {
  /** user + nice + system + irq + softirq. */
  readonly busy: number;
  readonly steal: number;
  /** Every field through steal. */
  readonly total: number;
}

/** The host at one sample. */
export interface HostSample {
  /** 1-minute load average; undefined when /proc/loadavg cannot be read. */
  readonly load1: number | undefined;
  /** CPU ticks of the whole host; undefined when /proc/stat cannot be read. */
  readonly cpu: HostCpuTicks | undefined;
}

/** Contention over the span between two samples; undefined when not known. */
export interface Contention {
  /** 1-minute load average at the end of the span. */
  readonly load1: number | undefined;
  /** Steal, % of the host's CPU. */
  readonly stealPct: number | undefined;
  /** CPU of processes neither churn nor the target, % of the host's CPU (≥ 0). */
  readonly otherCpuPct: number | undefined;
}

/** Parses /proc/loadavg (`0.52 0.58 0.59 1/389 12345`): the 1-minute average, or undefined. */
export function parseLoadAvg(text: string): number | undefined {
  const first = text.trim().split(/\s+/)[0];
  if (first === undefined || !/^\d+(\.\d+)?$/.test(first)) return undefined;
  return Number(first);
}

/** Parses the aggregate `cpu` line of /proc/stat; undefined when absent or malformed. */
export function parseHostCpu(text: string): HostCpuTicks | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n) || n < 0)) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields;
  return {
    busy: user + nice + system + irq + softirq,
    steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

/** CPU seconds of churn and of the target at a sample (the target's undefined when unknown). */
export interface ProcessCpu {
  readonly churnSeconds: number;
  readonly targetSeconds: number | undefined;
}

/**
 * Contention between two samples. `ticksPerSec` converts /proc/stat ticks to seconds. Steal
 * and other-CPU are undefined without both host readings or with no host time between them;
 * other-CPU also when the target's CPU is unknown at either end (a target that is churn itself
 * passes 0: its CPU is churn's).
 */
export function contentionBetween(
  before: { readonly host: HostSample; readonly cpu: ProcessCpu },
  after: { readonly host: HostSample; readonly cpu: ProcessCpu },
  ticksPerSec: number,
): Contention {
  const load1 = after.host.load1;
  const a = before.host.cpu;
  const b = after.host.cpu;
  if (a === undefined || b === undefined || !(b.total > a.total)) {
    return { load1, stealPct: undefined, otherCpuPct: undefined };
  }
  const totalTicks = b.total - a.total;
  const stealPct = (Math.max(0, b.steal - a.steal) / totalTicks) * 100;
  const tb = after.cpu.targetSeconds;
  const ta = before.cpu.targetSeconds;
  if (tb === undefined || ta === undefined) return { load1, stealPct, otherCpuPct: undefined };
  const busySeconds = Math.max(0, b.busy - a.busy) / ticksPerSec;
  const churnSeconds = Math.max(0, after.cpu.churnSeconds - before.cpu.churnSeconds);
  const targetSeconds = Math.max(0, tb - ta);
  const otherSeconds = Math.max(0, busySeconds - churnSeconds - targetSeconds);
  return { load1, stealPct, otherCpuPct: (otherSeconds / (totalTicks / ticksPerSec)) * 100 };
}
