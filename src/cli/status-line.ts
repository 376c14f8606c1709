/**
 * Formats the runner's live status for people: one line refreshed in place on a TTY (at most
 * once a second, as the runner emits), a plain line every 10 s otherwise, for CI logs.
 */
import type { LiveStatus } from '../load/live-status.js';
import type { Output } from './io.js';

/** Off a TTY, a status line at most this often. */
const plainIntervalMs = 10_000;

/** The text of one status line. */
export function formatStatus(status: LiveStatus): string {
  const phase =
    status.phase === undefined
      ? 'starting'
      : `${status.phase.name} ${status.phase.index + 1}/${status.phase.count}${status.phase.record ? '' : ' (warm-up)'}`;
  const stage = status.stage === 'running' ? '' : ` [${status.stage}]`;
  const p99 = status.cycleP99Ms === undefined ? '–' : `${status.cycleP99Ms.toFixed(1)}ms`;
  return (
    `${phase}${stage} ${clock(status.elapsedMs)}/${clock(status.totalMs)}` +
    ` · ${status.cyclesPerSec.toFixed(1)} cycles/s · p99(cycle) ${p99}` +
    ` · cycles ${status.cycles.succeeded} ok ${status.errors} err` +
    ` · in-flight ${status.inflight} · dropped ${status.dropped}`
  );
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
    const text = formatStatus(status);
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      this.out.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.linePending = true;
      return;
    }
    const now = this.nowMs();
    if (now - this.lastPlainAtMs >= plainIntervalMs) {
      this.lastPlainAtMs = now;
      this.out.write(`${text}\n`);
    }
  }

  /** Clears the refreshed line, so what follows starts on a clean one. */
  finish(): void {
    if (this.linePending) this.out.write('\r\x1b[2K');
    this.linePending = false;
  }
}
