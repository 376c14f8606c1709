/**
 * The leak audit as the renderers write it (terminal, Markdown, HTML): one line of what was
 * left, one of how the runtime daemon grew, and the details (ids, processes, mounts, notes).
 * Pure: the report's `leaks` in, text out; each renderer escapes and styles it.
 */
import type { ReportLeaks } from '../schema.js';
import { formatDuration, formatSlope } from './format.js';

type GaugeTrend = NonNullable<NonNullable<ReportLeaks['target']>['rssBytes']>;

/** How many things the audit found left, in total; null when any count was not measured. */
export function leakedTotal(leaks: ReportLeaks): number | null {
  const counts = [leaks.pods, leaks.containers, leaks.processes, leaks.mounts];
  if (counts.some((n) => n === null)) return null;
  return counts.reduce<number>((a, n) => a + (n ?? 0), 0);
}

/** `n thing(s)`, or `thing not measured` for null. */
function counted(n: number | null, one: string, many: string): string {
  if (n === null) return `${many}: not measured`;
  return `${n} ${n === 1 ? one : many}`;
}

/** What was left, on one line: `leaks: 0 pods, 0 containers, 0 processes, 0 mounts left`. */
export function leakLine(leaks: ReportLeaks): string {
  return `leaks: ${[
    counted(leaks.pods, 'pod', 'pods'),
    counted(leaks.containers, 'container', 'containers'),
    counted(leaks.processes, 'process', 'processes'),
    counted(leaks.mounts, 'mount', 'mounts'),
  ].join(', ')} left after cleanup`;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)}MiB`;
}

function gauge(name: string, t: GaugeTrend | null, value: (v: number) => string): string {
  return t === null
    ? `${name} -`
    : `${name} ${value(t.baseline)} → ${value(t.last)} ${formatSlope(t.slopePctPerHour)}`;
}

/**
 * How the daemon grew after warm-up, on one line (`target containerd, 1h 02m after warm-up:
 * rss 52.1MiB → 53.0MiB +1.20%/h · fds …`); undefined when it was not sampled.
 */
export function targetGrowthLine(leaks: ReportLeaks): string | undefined {
  const t = leaks.target;
  if (t === null) return undefined;
  const whole = (v: number): string => String(Math.round(v));
  const span = `target ${t.name}, ${formatDuration(t.toMs - t.fromMs)} after warm-up`;
  if (t.rssBytes === null && t.openFds === null && t.threads === null) {
    return `${span}: too short for a trend (it takes a minute of samples)`;
  }
  return `${span}: ${[
    gauge('rss', t.rssBytes, mib),
    gauge('fds', t.openFds, whole),
    gauge('threads', t.threads, whole),
  ].join(' · ')}`;
}

/** The details of what was left, one item a line (at most `max` of each kind), then the notes. */
export function leakDetails(leaks: ReportLeaks, max = 10): string[] {
  const lines: string[] = [];
  const some = <T>(items: readonly T[], total: number | null, text: (item: T) => string): void => {
    for (const item of items.slice(0, max)) lines.push(text(item));
    const more = (total ?? items.length) - Math.min(items.length, max);
    if (more > 0) lines.push(`… and ${more} more`);
  };
  some(leaks.podIds, leaks.pods, (id) => `pod ${id}`);
  some(leaks.containerIds, leaks.containers, (id) => `container ${id}`);
  some(
    leaks.processList,
    leaks.processes,
    (p) => `${p.kind} pid ${p.pid} (${p.comm})${p.owner === null ? '' : ` of ${p.owner}`}`,
  );
  some(leaks.mountList, leaks.mounts, (m) => `mount ${m}`);
  const pre = leaks.preexisting;
  if (pre !== null && pre.processes + pre.mounts > 0) {
    lines.push(
      `already there before the run (not counted): ${pre.processes} processes, ${pre.mounts} mounts`,
    );
  }
  for (const note of leaks.notes) lines.push(`not checked: ${note}`);
  return lines;
}
