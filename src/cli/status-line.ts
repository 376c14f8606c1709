/**
 * Formats the runner's live status for people: one line refreshed in place on a TTY (at most
 * once a second, as the runner emits), a plain line every 10 s otherwise, for CI logs.
 */
import { droppedRatio, type LiveStatus } from '../load/live-status.js';
import { formatDuration, formatMs, formatPercent, formatRate } from '../report/render/format.js';
import type { Output } from './io.js';

/** Off a TTY, a status line at most this often. */
const plainIntervalMs = 10_000;

/**
 * The text of one status line. Latencies and rates are formatted as the end-of-run summary
 * formats them (report/render/format), so the two can be read side by side.
 *
 *   ramp 2/3 01:15/1:02:05 · 41.3 cycles/s · p99(cycle) 182ms · cycles 3050 ok 3 err · in-flight 47
 *   smoke 1/1 00:16/00:10 draining 8 in-flight · 0.0 cycles/s · … · dropped 19595 (98.0%)
 *   smoke 1/1 00:12/00:10 overrun +2.0s · …
 *   soak 1/1 12:40/24:00:00 · runtime UNREACHABLE for 4.2s · 0.5 cycles/s · …
 */
export function formatStatus(status: LiveStatus): string {
  const phase =
    status.phase === undefined
      ? 'starting'
      : `${status.phase.name} ${status.phase.index + 1}/${status.phase.count}${status.phase.record ? '' : ' (warm-up)'}`;
  const p99 = status.cycleP99Ms === undefined ? '–' : formatMs(status.cycleP99Ms);
  const parts = [
    `${phase} ${clock(status.elapsedMs)}/${clock(status.totalMs)}${stageTag(status)}`,
    ...(status.unreachableForMs > 0
      ? [`runtime UNREACHABLE for ${formatDuration(status.unreachableForMs)}`]
      : []),
    `${formatRate(status.cyclesPerSec)} cycles/s`,
    `p99(cycle) ${p99}`,
    `cycles ${status.cycles.succeeded} ok ${status.errors} err`,
  ];
  if (status.stage === 'running') parts.push(`in-flight ${status.inflight}`);
  if (status.openLoop || status.dropped > 0) {
    parts.push(
      `dropped ${status.dropped}` +
        (status.dropped > 0 ? ` (${formatPercent(droppedRatio(status))})` : ''),
    );
  }
  return parts.join(' · ');
}

/**
 * What follows elapsed/planned: ` draining N in-flight`, ` cleaning up`, or, while the phases
 * still run past their planned end (a harness or pacer running late), ` overrun +N`.
 */
function stageTag(status: LiveStatus): string {
  switch (status.stage) {
    case 'draining':
      return ` draining ${status.inflight} in-flight`;
    case 'cleaning':
      return ' cleaning up';
    case 'running': {
      // Below a second the clock shows no difference; say nothing until it does.
      const overMs = status.elapsedMs - status.totalMs;
      return overMs >= 1000 ? ` overrun +${formatDuration(overMs)}` : '';
    }
  }
}

function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Writes status lines to `out` as its kind of output deserves; `finish()` ends the line. */
export class StatusPrinter {
  private lastPlainAtMs = Number.NEGATIVE_INFINITY;
  private linePending = false;

  constructor(
    private readonly out: Output,
    private readonly nowMs: () => number,
  ) {}

  /** Shows `status`: in place on a TTY, else a new line when 10 s have passed. */
  update(status: LiveStatus): void {
    if (this.out.isTTY) {
      const text = formatStatus(status);
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      this.out.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.linePending = true;
      return;
    }
    const now = this.nowMs();
    if (now - this.lastPlainAtMs >= plainIntervalMs) {
      this.lastPlainAtMs = now;
      this.out.write(`${formatStatus(status)}\n`);
    }
  }

  /** Clears the refreshed line, so what follows starts on a clean one. */
  finish(): void {
    if (this.linePending) this.out.write('\r\x1b[2K');
    this.linePending = false;
  }
}

/**
 * The live status as one JSON line, `{"churnProgress":{…}}` (the fields of LiveStatus), for a
 * program that follows churn's stderr: `churn cluster run` reads it from each pod's log.
 */
export function progressLine(status: LiveStatus): string {
  return JSON.stringify({ churnProgress: status });
}
