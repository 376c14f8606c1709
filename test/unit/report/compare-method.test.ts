// The comparison method on synthetic runs drawn from seeded log-normal latency distributions:
// false alarms are rare, real changes are found, small ones stay below the minimum effect.
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import {
  closedLoopNote,
  compareReports,
  isClosedLoop,
  type Comparison,
} from '../../../src/report/compare/compare.js';
import type { LoadedReport } from '../../../src/report/compare/samples.js';
import type { Report } from '../../../src/report/schema.js';
import {
  defaultOps,
  syntheticReport,
  type SyntheticOptions,
} from '../../support/synthetic-report.js';

const side = (...reports: Report[]): LoadedReport[] =>
  reports.map((report, i) => ({ report, source: `${report.run.id}-${i}.json` }));

function row(c: Comparison, op: string, statistic: string) {
  const found = c.rows.find((r) => r.op === op && r.statistic === statistic);
  if (found === undefined) throw new Error(`no row ${op} ${statistic}`);
  return found;
}

function run(seed: number, options: Partial<SyntheticOptions> = {}): Report {
  return syntheticReport({ seed, ops: defaultOps(), ...options });
}

describe('compare, method', () => {
  it('A vs A over 100 pairs flags a regression in at most 5% of them', { timeout: 120_000 }, () => {
    let flagged = 0;
    let anyVerdict = 0;
    for (let i = 0; i < 100; i++) {
      const c = compareReports(side(run(1000 + 2 * i)), side(run(1001 + 2 * i)));
      if (c.regressions > 0) flagged++;
      if (c.regressions + c.improvements > 0) anyVerdict++;
    }
    expect(flagged).toBeLessThanOrEqual(5);
    expect(anyVerdict).toBeLessThanOrEqual(10);
  });

  it(
    'does not flag unchanged runs whose latencies are autocorrelated within the run',
    { timeout: 120_000 },
    () => {
      // Each interval has its own level (a busy second on a shared machine), drawn once, with
      // values around it. Treating the 5000 values of a side as independent makes every small
      // shift of p99 "significant" (the old per-value bootstrap flagged about half of these
      // pairs); resampling whole intervals must keep false alarms near alpha.
      const levelled = (seed: number): Report =>
        run(seed, { ratePerSec: 500, levelSigma: 0.3, ops: { start: { medianMs: 20 } } });
      let flagged = 0;
      for (let i = 0; i < 40; i++) {
        const c = compareReports(side(levelled(3000 + 2 * i)), side(levelled(3001 + 2 * i)));
        if (c.regressions + c.improvements > 0) flagged++;
      }
      expect(flagged).toBeLessThanOrEqual(4);
    },
  );

  it(
    'still flags +20% on p99 in every interval when latencies are autocorrelated',
    { timeout: 120_000 },
    () => {
      // 60 intervals of 500 ms per side, each with its own level; the candidate's tail (draws
      // above the p95) is 20% slower in every interval.
      const levelled = (seed: number, tailScale?: number): Report =>
        run(seed, {
          ratePerSec: 200,
          durationMs: 30_000,
          intervalMs: 500,
          levelSigma: 0.1,
          ops: { start: { medianMs: 20, ...(tailScale !== undefined ? { tailScale } : {}) } },
        });
      let found = 0;
      let falseAlarms = 0;
      for (let i = 0; i < 8; i++) {
        const base = side(levelled(4000 + 3 * i));
        const slower = compareReports(base, side(levelled(4001 + 3 * i, 1.2)));
        const p99 = row(slower, 'start', 'p99');
        if (p99.verdict === 'regression') found++;
        expect(p99.test).toBe('permutation');
        expect(p99.n).toEqual({ base: 60, candidate: 60 });
        const same = compareReports(base, side(levelled(4002 + 3 * i)));
        if (same.regressions + same.improvements > 0) falseAlarms++;
      }
      expect(found).toBeGreaterThanOrEqual(7);
      expect(falseAlarms).toBeLessThanOrEqual(1);
    },
  );

  it("flags +20% on start's p99 with 10 s of data per side", () => {
    const base = run(1, { ratePerSec: 500 });
    // Only the tail moves: draws above the p95 get 20% slower, so p50 and p90 stay put.
    const candidate = run(2, { ratePerSec: 500, ops: defaultOps({ start: { tailScale: 1.2 } }) });
    const c = compareReports(side(base), side(candidate));
    const p99 = row(c, 'start', 'p99');
    expect(p99.deltaPct).toBeGreaterThan(10);
    expect(p99.verdict).toBe('regression');
    expect(p99.p).toBeLessThan(0.05);
    expect(p99.ci!.lowPct).toBeGreaterThan(0);
    expect(row(c, 'start', 'p50').verdict).toBe('~');
    expect(row(c, 'create', 'p99').verdict).toBe('~');
    // The same change to the whole distribution: every start latency statistic moves.
    const all = compareReports(
      side(base),
      side(run(2, { ratePerSec: 500, ops: defaultOps({ start: { scale: 1.2 } }) })),
    );
    for (const s of ['p50', 'p90', 'p99', 'mean'])
      expect(row(all, 'start', s).verdict).toBe('regression');
    expect(
      all.rows.filter((r) => r.verdict !== '~' && r.op !== 'start' && r.op !== 'cycle'),
    ).toEqual([]);
  });

  it('calls +2% `~` with --min-effect 5%, though the test can see it', () => {
    const base = run(3, { ratePerSec: 2000 });
    const candidate = run(4, { ratePerSec: 2000, ops: defaultOps({ start: { scale: 1.02 } }) });
    const c = compareReports(side(base), side(candidate), { minEffectPct: 5 });
    const p50 = row(c, 'start', 'p50');
    expect(p50.deltaPct).toBeGreaterThan(0);
    expect(p50.deltaPct).toBeLessThan(5);
    expect(c.rows.filter((r) => r.op === 'start').map((r) => r.verdict)).toEqual(
      Array(7).fill('~'),
    );
    // With no minimum effect the same data gives a verdict: the gate is what said ~.
    const strict = compareReports(side(base), side(candidate), { minEffectPct: 0 });
    expect(row(strict, 'start', 'mean').verdict).toBe('regression');
  });

  it('sees improvements and throughput drops, whichever way is worse', () => {
    const base = run(5, { ratePerSec: 500 });
    const faster = run(6, { ratePerSec: 500, ops: defaultOps({ stop: { scale: 0.7 } }) });
    expect(row(compareReports(side(base), side(faster)), 'stop', 'p50').verdict).toBe(
      'improvement',
    );
    const lessWork = run(6, { ratePerSec: 400 });
    const c = compareReports(side(base), side(lessWork));
    expect(row(c, 'cycle', 'throughput')).toMatchObject({ verdict: 'regression' });
    expect(row(c, 'cycle', 'throughput').deltaPct).toBeCloseTo(-20, 0);
  });

  it('judges throughput on cycle only in a closed loop: a slower start is start + cycle', () => {
    // Closed loop (the synthetic default, concurrency 2): a slower start lowers every step's
    // rate with the cycle's; one cause, so verdicts on start latency and the cycle only.
    const base = run(21, { ratePerSec: 500 });
    const slower = run(22, { ratePerSec: 400, ops: defaultOps({ start: { scale: 1.5 } }) });
    const c = compareReports(side(base), side(slower));
    expect(c.notes).toEqual([closedLoopNote]);
    const flagged = c.rows.filter((r) => r.verdict !== '~');
    expect(new Set(flagged.map((r) => r.op))).toEqual(new Set(['start', 'cycle']));
    expect(flagged.filter((r) => r.statistic === 'throughput').map((r) => r.op)).toEqual(['cycle']);
    expect(row(c, 'start', 'p50').verdict).toBe('regression');
    expect(row(c, 'cycle', 'throughput').verdict).toBe('regression');
    for (const r of c.rows.filter((x) => x.statistic === 'throughput' && x.op !== 'cycle')) {
      expect(r).toMatchObject({ verdict: '~', test: null, p: null, note: 'judged on cycle' });
      expect(r.deltaPct).toBeCloseTo(-20, 0);
    }
  });

  it("tests every operation's throughput when a recorded phase is open loop", () => {
    const open = { load: { phases: [{ duration: '10s', arrivalRate: 500 }] } };
    const base = run(23, { ratePerSec: 500, scenario: open });
    const fewer = run(24, { ratePerSec: 400, scenario: open });
    const c = compareReports(side(base), side(fewer));
    expect(c.notes).toEqual([]);
    expect(row(c, 'start', 'throughput')).toMatchObject({
      verdict: 'regression',
      test: 'mann-whitney',
    });
  });

  it.each([
    [[{ duration: '10s', concurrency: 4 }], true],
    [[{ duration: '10s', arrivalRate: 5 }], false],
    [
      [
        { duration: '2s', arrivalRate: 5, record: false },
        { duration: '10s', concurrency: 4 },
      ],
      true,
    ],
    [
      [{ duration: '10s', concurrency: 4 }, { pause: '1s' }, { duration: '10s', arrivalRate: 5 }],
      false,
    ],
    [[{ duration: '10s', concurrency: 4 }, { pause: '1s' }], true],
  ])('isClosedLoop(%j) is %s', (phases, expected) => {
    expect(isClosedLoop(run(1, { durationMs: 1000, scenario: { load: { phases } } }))).toBe(
      expected,
    );
  });

  it('counts errors appearing from zero as a regression', () => {
    const c = compareReports(
      side(run(7, { ratePerSec: 200 })),
      side(run(8, { ratePerSec: 200, ops: defaultOps({ create: { errorRate: 0.05 } }) })),
    );
    expect(row(c, 'create', 'error_rate')).toMatchObject({ verdict: 'regression', deltaPct: null });
  });

  it('compares across runs when both sides have several', () => {
    const base = [11, 12, 13, 14, 15, 16].map((s) => run(s, { durationMs: 3000 }));
    const candidate = [21, 22, 23, 24, 25, 26].map((s) =>
      run(s, { durationMs: 3000, ops: defaultOps({ start: { scale: 1.3 } }) }),
    );
    const c = compareReports(side(...base), side(...candidate));
    expect(c.mode).toBe('runs');
    expect(row(c, 'start', 'p50')).toMatchObject({
      verdict: 'regression',
      n: { base: 6, candidate: 6 },
    });
    expect(row(c, 'create', 'p50').verdict).toBe('~');
    // Five runs a side are not enough for 49 tests (8 ops × 7 statistics, less the 7 throughput rows a closed loop leaves to cycle): a warning says how many are.
    const five = compareReports(side(...base.slice(1)), side(...candidate.slice(1)));
    expect(five.regressions).toBe(0);
    expect(five.warnings.join('\n')).toMatch(
      /few samples \(n=5\+5 runs: .*\): after correcting for 49 comparisons .* repeat each run at least 7 times/,
    );
  });

  it('warns instead of guessing when there are too few samples', () => {
    const c = compareReports(
      side(run(31, { durationMs: 3000 }), run(32, { durationMs: 3000 })),
      side(
        run(33, { durationMs: 3000, ops: defaultOps({ start: { scale: 2 } }) }),
        run(34, { durationMs: 3000, ops: defaultOps({ start: { scale: 2 } }) }),
      ),
    );
    expect(c.regressions).toBe(0);
    expect(row(c, 'start', 'p50')).toMatchObject({ verdict: '~', note: 'too few samples' });
    expect(c.warnings.join('\n')).toMatch(/too few samples to tell \(n=2\+2 runs: .*start/);
  });

  it('says when a percentile judged by intervals has too few of them to tell', () => {
    // Two 1 s intervals a side: 1000 values reach p99, but 2+2 intervals split in too few
    // ways for any permutation to be rare.
    const short = (seed: number, scale: number): Report =>
      run(seed, { durationMs: 2000, ratePerSec: 500, ops: defaultOps({ start: { scale } }) });
    const c = compareReports(side(short(51, 1)), side(short(52, 2)));
    expect(row(c, 'start', 'p99')).toMatchObject({
      test: 'permutation',
      n: { base: 2, candidate: 2 },
      verdict: '~',
      note: 'too few samples',
    });
    expect(c.warnings.join('\n')).toMatch(/too few samples to tell \(n=2\+2 intervals: .*start/);
  });

  it('is deterministic: the same inputs give the same comparison', () => {
    const a = side(run(41));
    const b = side(run(42, { ops: defaultOps({ start: { scale: 1.1 } }) }));
    expect(compareReports(a, b)).toEqual(compareReports(a, b));
  });
});

describe('compare, comparability', () => {
  it('refuses runs of different scenarios, naming the field', () => {
    const a = run(1, { durationMs: 2000 });
    const b = run(2, {
      durationMs: 2000,
      scenario: { load: { phases: [{ duration: '2s', concurrency: 4 }] } },
    });
    let error: unknown;
    try {
      compareReports(side(a), side(b));
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error, 'NOT_COMPARABLE')).toBe(true);
    expect((error as Error).message).toMatch(
      /cannot compare runs of different scenarios: scenario\.load\.phases\[0\]\.concurrency is 2 in syn1-0\.json but 4 in syn2-0\.json/,
    );
    const renamed = run(3, { durationMs: 2000, scenarioName: 'other' });
    expect(() => compareReports(side(a), side(renamed))).toThrow(/scenario\.name is "synthetic"/);
  });

  it('ignores durations, seeds, labels and faults, and warns about environments', () => {
    const a = run(1, { durationMs: 2000 });
    const b = run(2, {
      durationMs: 4000,
      host: { kernel: '6.9.0', cpuModel: 'Other CPU' },
      runtime: { name: 'churn-core', version: '0.2.0' },
      scenario: {
        seed: 9,
        report: { labels: { release: 'x' } },
        faults: { start: { latency: '5ms' } },
      },
    });
    const c = compareReports(side(a), side(b));
    expect(c.acrossRuntimes).toBeNull();
    const warnings = c.warnings.join('\n');
    expect(warnings).toMatch(
      /environments differ: kernel 6\.1\.0-18-amd64 \(syn1-0\.json\) vs 6\.9\.0 \(syn2-0\.json\)/,
    );
    expect(warnings).toMatch(/environments differ: CPU model/);
    // Another version of the same runtime is the ordinary comparison (an upgrade): a warning.
    expect(warnings).toMatch(
      /environments differ: runtime version 0\.1\.0 \(syn1-0\.json\) vs 0\.2\.0 \(syn2-0\.json\)/,
    );
    expect(warnings).toMatch(/injected faults differ \(start\)/);
  });
});
