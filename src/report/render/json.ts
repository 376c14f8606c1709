/** JSON output: a report as written (2-space, final newline), and a comparison's rows. */
import type { Comparison } from '../compare/compare.js';
import type { Report } from '../schema.js';

/** `report` as the store writes it. */
export function renderReportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * `churn compare --format json`: rows of op, statistic, unit, base, candidate, deltaPct, the
 * bootstrap interval, p (adjusted), pRaw, test, n and verdict; plus the runs, warnings and notes,
 * and `acrossRuntimes`: each side's runtime (driver, name, handler) when they differ, else null.
 */
export function renderCompareJson(comparison: Comparison): string {
  const out = {
    kind: 'churn-compare',
    version: 1,
    scenario: comparison.scenario,
    mode: comparison.mode,
    binMs: comparison.binMs,
    alpha: comparison.alpha,
    minEffectPct: comparison.minEffectPct,
    tests: comparison.tests,
    regressions: comparison.regressions,
    improvements: comparison.improvements,
    acrossRuntimes: comparison.acrossRuntimes,
    base: comparison.base,
    candidate: comparison.candidate,
    rows: comparison.rows.map((r) => ({
      op: r.op,
      statistic: r.statistic,
      unit: r.unit,
      base: r.base,
      candidate: r.candidate,
      deltaPct: r.deltaPct,
      ciLowPct: r.ci?.lowPct ?? null,
      ciHighPct: r.ci?.highPct ?? null,
      p: r.p,
      pRaw: r.pRaw,
      test: r.test,
      n: r.n,
      verdict: r.verdict,
      note: r.note,
    })),
    warnings: comparison.warnings,
    notes: comparison.notes,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
