// The live status: one line refreshed in place on a TTY, a plain line every 10 s otherwise.
import { describe, expect, it } from 'vitest';
import type { LiveStatus } from '../../../src/load/live-status.js';
import { formatStatus, StatusPrinter } from '../../../src/cli/status-line.js';

const status: LiveStatus = {
  stage: 'running',
  phase: { index: 1, count: 3, name: 'ramp', kind: 'open', record: true },
  elapsedMs: 75_000,
  totalMs: 3_725_000,
  cyclesPerSec: 41.25,
  cycleP99Ms: 182.4,
  cycles: { started: 3100, succeeded: 3050, failed: 3 },
  errors: 3,
  inflight: 47,
  dropped: 2,
};

function output(isTTY: boolean): {
  out: { write(t: string): void; isTTY: boolean; columns: number };
  text(): string;
} {
  let text = '';
  return { out: { write: (t) => (text += t), isTTY, columns: 200 }, text: () => text };
}

describe('status line', () => {
  it('shows phase, elapsed/total, cycles/s, p99 of cycle, errors, in-flight and dropped', () => {
    expect(formatStatus(status)).toBe(
      'ramp 2/3 01:15/1:02:05 · 41.3 cycles/s · p99(cycle) 182.4ms · cycles 3050 ok 3 err · in-flight 47 · dropped 2',
    );
    expect(
      formatStatus({
        ...status,
        stage: 'draining',
        phase: { ...status.phase!, record: false },
        cycleP99Ms: undefined,
      }),
    ).toContain('ramp 2/3 (warm-up) [draining] 01:15/1:02:05 · 41.3 cycles/s · p99(cycle) –');
  });

  it('rewrites one line on a TTY', () => {
    const o = output(true);
    const printer = new StatusPrinter(o.out, () => 0);
    printer.update(status);
    printer.update({ ...status, errors: 4 });
    printer.finish();
    expect(o.text().split('\r\x1b[2K')).toHaveLength(4);
    expect(o.text()).not.toContain('\n');
  });

  it('prints a plain line at most every 10 s off a TTY', () => {
    const o = output(false);
    let now = 0;
    const printer = new StatusPrinter(o.out, () => now);
    for (now = 0; now <= 25_000; now += 1000) printer.update(status);
    printer.finish();
    expect(o.text().trim().split('\n')).toHaveLength(3);
    expect(o.text()).not.toContain('\x1b');
  });
});
