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
  openLoop: true,
  dropped: 2,
  unreachableForMs: 0,
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
      'ramp 2/3 01:15/1:02:05 · 41.3 cycles/s · p99(cycle) 182ms · cycles 3050 ok 3 err · in-flight 47 · dropped 2 (0.06%)',
    );
  });

  // One row per state a run goes through; each shows what a user must know in it.
  const states: [string, Partial<LiveStatus>, string][] = [
    ['before the first phase', { phase: undefined, elapsedMs: 0 }, 'starting 00:00/1:02:05 · '],
    [
      'a warm-up phase, no latency yet',
      { phase: { ...status.phase!, record: false }, cycleP99Ms: undefined },
      'ramp 2/3 (warm-up) 01:15/1:02:05 · 41.3 cycles/s · p99(cycle) –',
    ],
    [
      'draining after the planned end',
      { stage: 'draining', elapsedMs: 16_000, totalMs: 10_000, inflight: 8 },
      'ramp 2/3 00:16/00:10 draining 8 in-flight · 41.3 cycles/s',
    ],
    [
      'draining after a stop, before the planned end',
      { stage: 'draining', elapsedMs: 5_000, totalMs: 10_000, inflight: 3 },
      'ramp 2/3 00:05/00:10 draining 3 in-flight · ',
    ],
    [
      'phases running past their planned end',
      { elapsedMs: 12_400, totalMs: 10_000 },
      'ramp 2/3 00:12/00:10 overrun +2.4s · ',
    ],
    [
      'under a second late: no overrun yet',
      { elapsedMs: 10_400, totalMs: 10_000 },
      '00:10/00:10 · ',
    ],
    ['cleaning up', { stage: 'cleaning', inflight: 0 }, 'ramp 2/3 01:15/1:02:05 cleaning up · '],
    [
      'an overloaded open loop: drops and their share of arrivals',
      {
        stage: 'draining',
        elapsedMs: 16_000,
        totalMs: 10_000,
        inflight: 256,
        cycleP99Ms: 18_100,
        cycles: { started: 405, succeeded: 149, failed: 0 },
        errors: 0,
        dropped: 19_595,
      },
      'ramp 2/3 00:16/00:10 draining 256 in-flight · 41.3 cycles/s · p99(cycle) 18.1s · cycles 149 ok 0 err · dropped 19595 (98.0%)',
    ],
    ['an open loop with no drops', { dropped: 0 }, '· in-flight 47 · dropped 0'],
    [
      'a closed loop: no drop count',
      { openLoop: false, dropped: 0, phase: { ...status.phase!, kind: 'closed' } },
      '· in-flight 47',
    ],
    [
      'an outage: how long the runtime has been unreachable, right after the clock',
      { unreachableForMs: 4200 },
      'ramp 2/3 01:15/1:02:05 · runtime UNREACHABLE for 4.2s · 41.3 cycles/s',
    ],
    ['sub-millisecond latency in µs, as the summary', { cycleP99Ms: 0.85 }, 'p99(cycle) 850µs'],
    ['high rates in whole numbers, as the summary', { cyclesPerSec: 1234.5 }, '1235 cycles/s'],
  ];
  it.each(states)('%s', (_name, change, expected) => {
    const text = formatStatus({ ...status, ...change });
    expect(text).toContain(expected);
    if (change.openLoop === false) expect(text).not.toContain('dropped');
    if (change.stage !== undefined && change.stage !== 'running')
      expect(text).not.toContain('in-flight 4');
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
