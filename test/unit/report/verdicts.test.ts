import { describe, expect, it } from 'vitest';
import type { RunMark } from '../../../src/common/run-marks.js';
import type { Report, ReportHarness } from '../../../src/report/schema.js';
import {
  decideMarks,
  harnessWarnings,
  markMessages,
  type MarkInput,
} from '../../../src/report/verdicts.js';

const fair: MarkInput = {
  harnessLagP99Ms: 5,
  maxHarnessLagP99Ms: 100,
  arrivals: 1000,
  dropped: 0,
  maxDroppedRatio: 0.01,
};

describe('decideMarks', () => {
  it.each<{ name: string; input: Partial<MarkInput>; marks: RunMark[] }>([
    { name: 'a fair run', input: {}, marks: [] },
    { name: 'lag p99 at the bound', input: { harnessLagP99Ms: 100 }, marks: [] },
    { name: 'lag p99 over the bound', input: { harnessLagP99Ms: 100.1 }, marks: ['harness-bound'] },
    { name: 'lag not measured', input: { harnessLagP99Ms: undefined }, marks: [] },
    { name: 'dropped at the bound (1%)', input: { dropped: 10 }, marks: [] },
    { name: 'dropped over the bound', input: { dropped: 11 }, marks: ['overloaded'] },
    { name: 'closed loop: no arrivals', input: { arrivals: 0, dropped: 0 }, marks: [] },
    {
      name: 'both',
      input: { harnessLagP99Ms: 3800, dropped: 980 },
      marks: ['harness-bound', 'overloaded'],
    },
    {
      name: 'a bound of 0 dropped marks any drop',
      input: { maxDroppedRatio: 0, dropped: 1 },
      marks: ['overloaded'],
    },
  ])('$name → $marks', ({ input, marks }) => {
    expect(decideMarks({ ...fair, ...input })).toEqual(marks);
  });
});

const harness = (over: Partial<ReportHarness> = {}): ReportHarness => ({
  lagBoundMs: 100,
  lagP99Ms: 460,
  lagMaxMs: 3800,
  utilization: 0.9,
  cpuSeconds: 3,
  cpuWaitPct: null,
  contention: { load1Mean: 2, stealPct: 0, otherCpuPct: 10 },
  stalls: [{ atMs: 2000, spanMs: 1000, lagMaxMs: 3800 }],
  ...over,
});

type Pick4 = Pick<Report, 'run' | 'cycles' | 'harness' | 'scenario'>;

function report(marks: RunMark[], h: ReportHarness | null, arrivals: number | null): Pick4 {
  return {
    run: { marks } as unknown as Report['run'],
    cycles: { started: 405, succeeded: 405, failed: 0, cut: 0, dropped: 19_595, arrivals },
    harness: h,
    scenario: { integrity: { maxHarnessLagP99Ms: 100, maxDroppedRatio: 0.01, allow: [] } },
  } as unknown as Pick4;
}

describe('markMessages', () => {
  it('says what made the run harness-bound, with the figures', () => {
    expect(markMessages(report(['harness-bound'], harness(), 0))).toEqual([
      {
        mark: 'harness-bound',
        text: "harness-bound: churn's event loop lagged 460ms at p99 over the run (bound 100ms) and stalled up to 3.80s; the latencies measured churn as much as the runtime",
      },
    ]);
  });

  it("names the host when churn's thread waited for a CPU longer than its loop was busy", () => {
    const text = markMessages(
      report(['harness-bound'], harness({ cpuWaitPct: 13, utilization: 0.096 }), 0),
    )[0]!.text;
    expect(text).toContain(
      "churn's thread waited for a CPU 13.0% of the time against its loop busy 9.60%: the host's other work (load 2.00) delayed it more than churn's own",
    );
  });

  it('names churn when its loop was busy longer than its thread waited for a CPU', () => {
    const text = markMessages(
      report(['harness-bound'], harness({ cpuWaitPct: 2, utilization: 0.9 }), 0),
    )[0]!.text;
    expect(text).toContain(
      "churn's loop was busy 90.0% of the time against 2.00% waiting for a CPU: churn's own work delayed it more than the host's",
    );
  });

  it('says how many arrivals an overloaded run dropped', () => {
    expect(markMessages(report(['overloaded'], null, 20_000))).toEqual([
      {
        mark: 'overloaded',
        text: 'overloaded: 19,595 of 20,000 arrivals (98.0%) dropped (bound 1.00%): this is not a run of its scenario',
      },
    ]);
  });

  it('counts started + dropped as the arrivals of a report that did not count them', () => {
    expect(markMessages(report(['overloaded'], null, null))[0]!.text).toContain(
      '19,595 of 20,000 arrivals',
    );
  });

  it('says nothing for a fair run', () => {
    expect(markMessages(report([], harness(), 0))).toEqual([]);
  });
});

describe('harnessWarnings', () => {
  it('warns of stalls in a run that is not harness-bound', () => {
    expect(harnessWarnings(report([], harness({ lagP99Ms: 12 }), 0))).toEqual([
      "churn's event loop stalled up to 3.80s in 1 interval; latencies in it are not the runtime's",
    ]);
  });

  it('leaves it to the mark when the run is harness-bound, and is quiet without stalls', () => {
    expect(harnessWarnings(report(['harness-bound'], harness(), 0))).toEqual([]);
    expect(harnessWarnings(report([], harness({ stalls: [] }), 0))).toEqual([]);
    expect(harnessWarnings(report([], null, 0))).toEqual([]);
  });
});
