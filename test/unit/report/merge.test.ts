// Merging adds histograms and counters exactly, recomputes every summary from the sums, and
// refuses reports of different scenarios and runs that would count twice.
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import type { OpName } from '../../../src/common/operations.js';
import { summarizeEncoded } from '../../../src/metrics/hdr.js';
import { Distribution } from '../../../src/report/distribution.js';
import { mergeReports } from '../../../src/report/merge.js';
import { parseReport } from '../../../src/report/read.js';
import type { Report } from '../../../src/report/schema.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

const a = syntheticReport({
  seed: 1,
  runId: 'node-a',
  ops: defaultOps({ start: { errorRate: 0.02 } }),
  durationMs: 4000,
  dropped: 7,
  lag: true,
  thresholds: [
    {
      source: 'p99(start) < 40ms',
      metric: 'p99',
      op: 'start',
      comparator: '<',
      value: 40,
      actual: 1,
      ok: true,
      abortOnFail: false,
    },
    {
      source: 'error_rate < 1%',
      metric: 'error_rate',
      op: undefined,
      comparator: '<',
      value: 0.01,
      actual: 0,
      ok: true,
      abortOnFail: false,
    },
    {
      source: 'dropped == 0',
      metric: 'dropped',
      op: undefined,
      comparator: '==',
      value: 0,
      actual: 7,
      ok: false,
      abortOnFail: false,
    },
  ],
});
const b = syntheticReport({
  seed: 2,
  runId: 'node-b',
  ops: defaultOps({ start: { errorRate: 0.02, scale: 1.5 } }),
  durationMs: 6000,
  ratePerSec: 50,
  startWallMs: Date.UTC(2025, 2, 1, 10, 0, 2),
  host: { kernel: '6.1.0-20-amd64' },
  dropped: 3,
  lag: true,
});

const ops = (r: Report) => Object.keys(r.operations) as OpName[];

describe('mergeReports', () => {
  const merged = mergeReports([
    { report: a, source: 'a.json' },
    { report: b, source: 'b.json' },
  ]);

  it("adds counts, errors, errors by code and cycles: merged reports' counts are the sums", () => {
    expect(ops(merged)).toEqual(ops(a));
    for (const op of ops(a)) {
      const [x, y, m] = [a.operations[op]!, b.operations[op]!, merged.operations[op]!];
      expect(m.count).toBe(x.count + y.count);
      expect(m.errors).toBe(x.errors + y.errors);
      for (const code of new Set([
        ...Object.keys(x.errorsByCode),
        ...Object.keys(y.errorsByCode),
      ])) {
        expect(m.errorsByCode[code]).toBe(
          (x.errorsByCode[code] ?? 0) + (y.errorsByCode[code] ?? 0),
        );
      }
      expect(m.throughputPerSec).toBeCloseTo(x.throughputPerSec + y.throughputPerSec, 9);
    }
    expect(merged.cycles.started).toBe(a.cycles.started + b.cycles.started);
    expect(merged.scheduling.dropped).toBe(10);
    expect(merged.workloads.default!.operations.start!.count).toBe(
      a.operations.start!.count + b.operations.start!.count,
    );
  });

  it('adds histograms exactly and recomputes every summary from the sum', () => {
    for (const op of ops(a)) {
      const m = merged.operations[op]!;
      const sum = Distribution.sum([
        Distribution.fromEncoded(a.operations[op]!.histogram!, 'a'),
        Distribution.fromEncoded(b.operations[op]!.histogram!, 'b'),
      ]);
      expect([...Distribution.fromEncoded(m.histogram!, 'm').buckets()]).toEqual([
        ...sum.buckets(),
      ]);
      const us = summarizeEncoded(m.histogram!)!;
      expect(m.latencyMs).toEqual({
        min: us.min / 1000,
        mean: us.mean / 1000,
        p50: us.p50 / 1000,
        p90: us.p90 / 1000,
        p95: us.p95 / 1000,
        p99: us.p99 / 1000,
        p999: us.p999 / 1000,
        max: us.max / 1000,
      });
    }
    expect(summarizeEncoded(merged.scheduling.lagHistogram!)!.count).toBe(
      summarizeEncoded(a.scheduling.lagHistogram!)!.count +
        summarizeEncoded(b.scheduling.lagHistogram!)!.count,
    );
  });

  it('aligns the timelines on wall-clock time, keeping every count', () => {
    for (const op of ops(a)) {
      const total = merged.timeline.intervals.reduce((s, i) => s + (i.ops[op]?.count ?? 0), 0);
      expect(total).toBe(merged.operations[op]!.count);
    }
    // b started 2 s after a: its first interval lands in the third second.
    expect(merged.timeline.intervals[0]!.ops.start!.count).toBe(
      a.timeline.intervals[0]!.ops.start!.count,
    );
    expect(merged.timeline.intervals.at(-1)!.startMs).toBe(7000);
  });

  it('spans the parts, lists them, re-evaluates thresholds and warns about differences', () => {
    expect(merged.run).toMatchObject({
      scenario: 'synthetic',
      start: a.run.start,
      end: b.run.end,
      recordedMs: 6000,
      partial: false,
    });
    expect(merged.run.id).toMatch(/^merged-[0-9a-f]{8}$/);
    expect(merged.mergedFrom!.map((p) => p.id)).toEqual(['node-a', 'node-b']);
    // The per-node breakdown: each part's own cycles and p99, which add up to the merged counts.
    for (const [part, report] of [
      [merged.mergedFrom![0]!, a],
      [merged.mergedFrom![1]!, b],
    ] as const) {
      const cycle = report.operations.cycle!;
      expect(part.cycles).toEqual({
        succeeded: report.cycles.succeeded,
        failed: report.cycles.failed,
        perSec: cycle.throughputPerSec,
        p50Ms: cycle.latencyMs!.p50,
        p90Ms: cycle.latencyMs!.p90,
        p99Ms: cycle.latencyMs!.p99,
        maxMs: cycle.latencyMs!.max,
      });
      const runtimeOps = Object.entries(report.operations).filter(([op]) => op !== 'cycle');
      expect(part.operations).toEqual({
        attempts: runtimeOps.reduce((s, [, o]) => s + o.count + o.errors, 0),
        errors: runtimeOps.reduce((s, [, o]) => s + o.errors, 0),
        errorsByCode: { UNAVAILABLE: report.operations.start!.errors },
      });
      expect(part.operations!.errors).toBeGreaterThan(0);
      expect(part).toMatchObject({
        exitReason: 'completed',
        partial: false,
        thresholdsFailed: report.thresholds.filter((t) => !t.ok).length,
      });
      expect(part.phasesStart).toBe(report.run.phasesStart);
    }
    expect(merged.mergedFrom!.reduce((s, p) => s + p.cycles!.succeeded, 0)).toBe(
      merged.cycles.succeeded,
    );
    const p99 = merged.operations.start!.latencyMs!.p99;
    const runtimeOps = Object.entries(merged.operations).filter(([op]) => op !== 'cycle');
    const errors = runtimeOps.reduce((s, [, o]) => s + o.errors, 0);
    const errorRate = errors / runtimeOps.reduce((s, [, o]) => s + o.count + o.errors, 0);
    expect(merged.thresholds.map((t) => [t.source, t.actual, t.ok])).toEqual([
      ['p99(start) < 40ms', p99, p99 < 40],
      ['error_rate < 1%', errorRate, errorRate < 0.01],
      ['dropped == 0', 10, false],
    ]);
    expect(merged.warnings).toContain(
      "parts' environments differ: kernel 6.1.0-18-amd64 (a.json) vs 6.1.0-20-amd64 (b.json)",
    );
  });

  it('writes a valid report, and merges merged reports flat', () => {
    const back = parseReport(JSON.stringify(merged), 'merged.json');
    expect(back.operations).toEqual(merged.operations);
    const c = syntheticReport({ seed: 3, runId: 'node-c', ops: defaultOps(), durationMs: 2000 });
    const again = mergeReports([
      { report: merged, source: 'm.json' },
      { report: c, source: 'c.json' },
    ]);
    expect(again.mergedFrom!.map((p) => p.id)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(again.operations.cycle!.count).toBe(
      merged.operations.cycle!.count + c.operations.cycle!.count,
    );
  });

  it('refuses a run that would count twice: given twice, or with a merged report holding it', () => {
    const refusal = (parts: { report: Report; source: string }[]): string => {
      try {
        mergeReports(parts);
      } catch (err) {
        expect(isChurnError(err, 'NOT_COMPARABLE')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(
      refusal([
        { report: a, source: 'a.json' },
        { report: a, source: 'a.json' },
      ]),
    ).toMatch(
      /^cannot merge: run node-a \(started .*\) would count twice: it is in a\.json, given more than once/,
    );
    // `churn merge reports/x/*.json` run a second time: the first merged report and its parts.
    expect(
      refusal([
        { report: merged, source: 'reports/x/m.json' },
        { report: a, source: 'reports/x/a.json' },
      ]),
    ).toMatch(
      /run node-a .* it is in reports\/x\/m\.json \(merged from node-a, node-b\) and in reports\/x\/a\.json; give each run once/,
    );
    // The same id with another start is another run (nodes of one Job sharing --run-id).
    const sameId = syntheticReport({
      seed: 5,
      runId: 'node-a',
      ops: defaultOps(),
      durationMs: 2000,
      startWallMs: Date.UTC(2025, 2, 1, 10, 0, 1),
    });
    expect(
      mergeReports([
        { report: a, source: 'a.json' },
        { report: sameId, source: 'a2.json' },
      ]).mergedFrom!.map((p) => p.id),
    ).toEqual(['node-a', 'node-a']);
  });

  it('refuses reports of different scenarios, naming the field', () => {
    const other = syntheticReport({
      seed: 4,
      ops: defaultOps(),
      durationMs: 2000,
      scenario: { workload: { command: ['sleep', '10'] } },
    });
    let error: unknown;
    try {
      mergeReports([
        { report: a, source: 'a.json' },
        { report: other, source: 'other.json' },
      ]);
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error, 'NOT_COMPARABLE')).toBe(true);
    expect((error as Error).message).toMatch(
      /^cannot merge runs of different scenarios: scenario\.workloads\[0\]\.command\[1\] is "3600" in a\.json but "10" in other\.json/,
    );
    expect(() => mergeReports([{ report: a, source: 'a.json' }])).toThrow('at least two');
  });
});
