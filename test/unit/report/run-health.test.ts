// Marks and host contention as compare, history and `--baseline latest` read them: pure tables.
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { baselineSkipReason } from '../../../src/report/comparable.js';
import { compareReports } from '../../../src/report/compare/compare.js';
import { renderCompareTerminal } from '../../../src/report/render/compare-terminal.js';
import {
  assertUnmarked,
  contentionDiffered,
  contentionWarning,
  hostContention,
  isBusy,
  runMarks,
  type HostContention,
} from '../../../src/report/run-health.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';
import { defaultOps, syntheticReport, withRunHealth } from '../../support/synthetic-report.js';

const plain = syntheticReport({ seed: 1, ops: defaultOps(), durationMs: 2000 });
const c = (load1Mean: number | null, otherCpuPct: number | null, stealPct: number | null = 0) => ({
  load1Mean,
  otherCpuPct,
  stealPct,
});

describe('run health', () => {
  it('reads no marks and no contention from a report that has neither', () => {
    expect(runMarks(plain)).toEqual([]);
    expect(hostContention(plain)).toBeNull();
    expect(contentionWarning([plain], [withRunHealth(plain, { contention: c(9, 90) })])).toBe(
      undefined,
    );
  });

  it('reads marks and contention when present', () => {
    const r = withRunHealth(plain, { marks: ['harness-bound'], contention: c(0.4, 2) });
    expect(runMarks(r)).toEqual(['harness-bound']);
    expect(hostContention(r)).toEqual(c(0.4, 2));
    expect(hostContention(withRunHealth(plain, { contention: c(null, null, null) }))).toBeNull();
  });

  it.each<[HostContention, number, boolean]>([
    [c(0.4, 2), 2, false],
    [c(0.4, 25), 2, true],
    [c(1.9, 10), 2, false],
    [c(2.0, 10), 2, true],
    [c(2.0, 10), 4, false],
    [c(0.1, 1, 5), 2, true],
    [c(null, null, null), 2, false],
  ])('isBusy(%j on %d CPUs) is %s', (contention, cpus, busy) => {
    expect(isBusy(contention, cpus)).toBe(busy);
  });

  it.each<[HostContention, HostContention, boolean]>([
    [c(0.4, 2), c(0.5, 10), false],
    [c(0.4, 2), c(0.4, 22), true],
    [c(0.4, 2), c(0.4, 21.9), false],
    [c(0.4, 2), c(1.4, 2), true], // 0.5 per CPU on 2 CPUs
    [c(0.4, 2), c(1.3, 2), false],
    [c(0.4, 2, 0), c(0.4, 2, 5), true],
    [c(null, 2), c(3, null), false], // nothing known on both sides: nothing to say
  ])('contention %j vs %j differed: %s', (a, b, differed) => {
    expect(contentionDiffered({ contention: a, cpuCount: 2 }, { contention: b, cpuCount: 2 })).toBe(
      differed,
    );
  });

  it('warns in compare when the host contention differed, with both sides', () => {
    const base = withRunHealth(plain, { contention: c(0.4, 2) });
    const busy = withRunHealth(syntheticReport({ seed: 2, ops: defaultOps(), durationMs: 2000 }), {
      contention: c(2.1, 61),
    });
    const comparison = compareReports(
      [{ report: base, source: 'a.json' }],
      [{ report: busy, source: 'b.json' }],
    );
    expect(comparison.warnings).toContain(
      "host contention differed: base load 0.4, other CPU 2%; candidate load 2.1, other CPU 61% — differences may be the host's",
    );
    const calm = compareReports(
      [{ report: base, source: 'a.json' }],
      [{ report: withRunHealth(plain, { contention: c(0.6, 8) }), source: 'b.json' }],
    );
    expect(calm.warnings.join('\n')).not.toMatch(/contention/);
  });

  it('puts marked runs first among the warnings, and refuses them without the override', () => {
    const marked = withRunHealth(plain, { marks: ['overloaded'] });
    const sides = [
      { report: plain, source: 'a.json' },
      { report: marked, source: 'b.json' },
    ];
    const comparison = compareReports([sides[0]!], [sides[1]!]);
    expect(comparison.warnings[0]).toMatch(
      /^b\.json is marked overloaded: it dropped more arrivals/,
    );
    expect(comparison.candidate[0]!.marks).toEqual(['overloaded']);
    const text = renderCompareTerminal(comparison);
    expect(text).toMatch(/^candidate {2}b\.json {2}run .* {2}MARKED overloaded$/m);
    expect(text.split('\n').find((l) => l.startsWith('base '))).not.toMatch(/MARKED/);
    expect(() => assertUnmarked([sides[0]!], '--allow-marked')).not.toThrow();
    let error: unknown;
    try {
      assertUnmarked(sides, '--allow-marked');
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error, 'NOT_COMPARABLE')).toBe(true);
    expect((error as Error).message).toMatch(
      /cannot compare marked runs: b\.json \(overloaded\): .*compare anyway with --allow-marked/,
    );
  });

  it.each<[string, (r: typeof plain) => typeof plain, boolean, string | undefined]>([
    ['a comparable run', (r) => r, false, undefined],
    ['a partial run', (r) => ({ ...r, run: { ...r.run, partial: true } }), false, 'partial'],
    [
      'another load',
      (r) => ({
        ...r,
        scenario: scenarioSchema.parse({
          name: 'synthetic',
          load: { phases: [{ duration: '10s', concurrency: 4 }] },
        }),
      }),
      false,
      'different load.phases[0].concurrency',
    ],
    [
      'a harness-bound run',
      (r) => withRunHealth(r, { marks: ['harness-bound'] }),
      false,
      'harness-bound',
    ],
    [
      'a harness-bound run, allowed',
      (r) => withRunHealth(r, { marks: ['harness-bound'] }),
      true,
      undefined,
    ],
  ])('baselineSkipReason: %s', (_, change, allowMarked, reason) => {
    expect(baselineSkipReason(change(plain), plain.scenario, { allowMarked })).toBe(reason);
  });

  it('baselineSkipReason: a mark the scenario allows (integrity.allow) does not disqualify', () => {
    const both = withRunHealth(plain, { marks: ['harness-bound', 'overloaded'] });
    const allowing = (allow: string[]) =>
      scenarioSchema.parse({ name: 'synthetic', integrity: { allow } });
    expect(baselineSkipReason(both, allowing(['harness-bound']))).toBe('overloaded');
    expect(baselineSkipReason(both, allowing(['overloaded']))).toBe('harness-bound');
    expect(baselineSkipReason(both, allowing(['harness-bound', 'overloaded']))).toBeUndefined();
    expect(baselineSkipReason(both, allowing([]))).toBe('harness-bound, overloaded');
  });
});
