// The per-node view of a merged report marks a node that failed and one that stands out
// against the other nodes (never against itself), and leaves figures an older merge did not
// keep out of every comparison.
import { describe, expect, it } from 'vitest';
import { judgeParts, type PartMark } from '../../../src/report/part-outliers.js';
import type { ReportMergedPart } from '../../../src/report/schema.js';

/** A part with healthy figures: 1000 cycles at 10 cycles/s, p99 40 ms, 0.1% errors. */
function part(
  name: string,
  overrides: {
    readonly exitReason?: ReportMergedPart['exitReason'];
    readonly thresholdsFailed?: number | null;
    readonly p99Ms?: number | null;
    readonly perSec?: number | null;
    readonly errors?: number;
    readonly operations?: null;
    readonly cycles?: null;
  } = {},
): ReportMergedPart {
  return {
    id: `run-${name}`,
    start: '2025-03-01T10:00:00.000Z',
    end: '2025-03-01T10:01:40.000Z',
    kernel: '6.1.0',
    labels: { node: name },
    phasesStart: '2025-03-01T10:00:00.000Z',
    exitReason: overrides.exitReason ?? 'completed',
    partial: false,
    cycles:
      overrides.cycles === null
        ? null
        : {
            succeeded: 1000,
            failed: 1,
            perSec: overrides.perSec === undefined ? 10 : overrides.perSec,
            p50Ms: 20,
            p90Ms: 30,
            p99Ms: overrides.p99Ms === undefined ? 40 : overrides.p99Ms,
            maxMs: 60,
          },
    operations:
      overrides.operations === null
        ? null
        : {
            attempts: 7000,
            errors: overrides.errors ?? 7,
            errorsByCode: { UNAVAILABLE: overrides.errors ?? 7 },
          },
    thresholdsFailed: overrides.thresholdsFailed === undefined ? 0 : overrides.thresholdsFailed,
  };
}

/** Each node's marks as `kind figure`, by node name. */
function marks(parts: readonly ReportMergedPart[]): Record<string, string[]> {
  return Object.fromEntries(
    judgeParts(parts).map((v) => [v.name, v.marks.map((m: PartMark) => `${m.kind} ${m.figure}`)]),
  );
}

describe('judgeParts', () => {
  it.each<[string, ReportMergedPart[], Record<string, string[]>]>([
    ['healthy nodes', [part('a'), part('b'), part('c')], { a: [], b: [], c: [] }],
    [
      'a node whose run broke, one that failed its thresholds',
      [part('a', { exitReason: 'broken' }), part('b', { thresholdsFailed: 2 }), part('c')],
      { a: ['failed run'], b: ['failed thresholds'], c: [] },
    ],
    [
      'a checkpoint only',
      [part('a', { exitReason: 'running' }), part('b')],
      { a: ['failed run'], b: [] },
    ],
    [
      'p99 at twice the others’ median does not stand out',
      [part('a', { p99Ms: 80 }), part('b'), part('c')],
      { a: [], b: [], c: [] },
    ],
    [
      'p99 three times the others’: only the slow one of two',
      [part('a', { p99Ms: 120 }), part('b')],
      { a: ['outlier p99'], b: [] },
    ],
    [
      'p99 against the median of three others',
      [part('a', { p99Ms: 100 }), part('b'), part('c'), part('d', { p99Ms: 45 })],
      { a: ['outlier p99'], b: [], c: [], d: [] },
    ],
    [
      // The others' 0.1%: over 3 × 0.1% + 0.1% = 0.4% stands out.
      'an error ratio over three times the others’ plus 0.1 point',
      [part('a', { errors: 35 }), part('b'), part('c')],
      { a: ['outlier errors'], b: [], c: [] },
    ],
    [
      'an error ratio just under three times the others’ plus 0.1 point',
      [part('a', { errors: 27 }), part('b'), part('c')],
      { a: [], b: [], c: [] },
    ],
    [
      'errors on one node where the others have none',
      [part('a', { errors: 8 }), part('b', { errors: 0 })],
      { a: ['outlier errors'], b: [] },
    ],
    [
      'under half the others’ median cycles/s',
      [part('a', { perSec: 4.9 }), part('b'), part('c'), part('d', { perSec: 5 })],
      { a: ['outlier throughput'], b: [], c: [], d: [] },
    ],
    [
      'a broken node that also stands out',
      [part('a', { exitReason: 'aborted', p99Ms: 400, errors: 700 }), part('b')],
      { a: ['failed run', 'outlier p99', 'outlier errors'], b: [] },
    ],
    [
      'figures an older merge did not keep',
      [
        part('a', { exitReason: null, thresholdsFailed: null, operations: null, cycles: null }),
        part('b', { p99Ms: 400, errors: 700 }),
      ],
      { a: [], b: [] },
    ],
    ['one part alone', [part('a', { p99Ms: 400 })], { a: [] }],
  ])('%s', (_name, parts, expected) => {
    expect(marks(parts)).toEqual(expected);
  });

  it('names a part by its node label, else its run id, and says what stands out', () => {
    const unlabelled = { ...part('x'), labels: {} };
    const views = judgeParts([part('a', { p99Ms: 120, errors: 70 }), unlabelled]);
    expect(views.map((v) => v.name)).toEqual(['a', 'run-x']);
    expect(views[0]!.errorRatio).toBe(0.01);
    expect(views[0]!.marks.map((m) => m.text)).toEqual([
      "p99(cycle) 3× the other nodes' median",
      'error ratio 1.00% vs 0.10% on the other nodes',
    ]);
  });
});
