/**
 * Pure parsers of Linux /proc text, shared by the core (task liveness, stats), the CRI client
 * (who owns a socket) and the resource sampler. Field numbers as in proc(5).
 */

/** The fields of /proc/<pid>/stat churn uses, as the kernel gives them. */
export interface ProcStatFields {
  /** Command name (at most 15 bytes; the kernel truncates it). */
  readonly comm: string;
  /** One letter: R, S, D, Z (zombie), T, … */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** CPU of the process's own threads (fields 14, 15), in clock ticks. */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** CPU of its waited-for children (fields 16, 17), in clock ticks. */
  readonly cutimeTicks: number;
  readonly cstimeTicks: number;
  readonly threads: number;
  /** Start time after boot in clock ticks: with the pid, identifies a process (pids are reused). */
  readonly startTime: string;
  readonly rssPages: number;
}

/** Parses the text of /proc/<pid>/stat; undefined when it is malformed. */
export function parseProcStat(text: string): ProcStatFields | undefined {
  // comm is in parentheses and may itself hold spaces and parentheses: cut at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state) of proc(5).
  const at = (n: number): number => Number(fields[n - 3] ?? '0');
  const state = fields[0];
  const startTime = fields[22 - 3];
  if (state === undefined || state === '' || startTime === undefined || fields.length < 22) {
    return undefined;
  }
  return {
    comm: text.slice(open + 1, close),
    state,
    ppid: at(4),
    pgrp: at(5),
    utimeTicks: at(14),
    stimeTicks: at(15),
    cutimeTicks: at(16),
    cstimeTicks: at(17),
    threads: at(20),
    startTime,
    rssPages: at(24),
  };
}

/**
 * Inode → path of the LISTENING unix sockets in the text of /proc/<pid>/net/unix (Flags bit
 * 0x10000, __SO_ACCEPTCON). Paths may contain spaces.
 */
export function parseListeningUnixSockets(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode [Path]
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [, , , flags, , , inode, ...pathParts] = fields;
    if (flags === undefined || inode === undefined) continue;
    if ((Number.parseInt(flags, 16) & 0x10000) === 0) continue;
    out.set(inode, pathParts.join(' '));
  }
  return out;
}

/** One line of /proc/<pid>/mountinfo, the parts churn uses. */
export interface MountInfo {
  readonly mountPoint: string;
  /** Optional fields: `shared:N`, `master:N`, `propagate_from:N`, `unbindable`. */
  readonly optional: readonly string[];
}

/** Parses /proc/<pid>/mountinfo; lines it cannot read are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    const mountPoint = fields[4];
    if (dash < 0 || mountPoint === undefined) continue;
    out.push({ mountPoint: unescapeOctal(mountPoint), optional: fields.slice(6, dash) });
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as `\ooo`. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The run-queue wait of a thread, from /proc/<pid>/task/<tid>/schedstat (`<on-cpu ns>
 * <run-queue wait ns> <timeslices>`, the kernel's sched-stats.rst): the time it was ready to
 * run but waited for a CPU, ns; undefined when malformed.
 */
export function parseSchedstatWaitNs(text: string): number | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3 || !fields.every((f) => /^\d+$/.test(f))) return undefined;
  return Number(fields[1]);
}
