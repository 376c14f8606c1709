/**
 * Gating a run on a baseline (`churn run --baseline latest|TAG|FILE`, the nightly CI soak): the
 * report just written is compared with the baseline — by default the previous complete run of
 * the same scenario in the store — with the same method and rendering as `churn compare`.
 */
import { isChurnError } from '../../common/errors.js';
import { findPreviousGoodRun, locateReport, type LocatedReport } from '../locate.js';
import { renderCompareTerminal } from '../render/compare-terminal.js';
import type { Report } from '../schema.js';
import { compareReports, type CompareOptions, type Comparison } from './compare.js';

/** Inputs of {@link gateOnBaseline}. */
export interface BaselineGateInput {
  /** The report of the run just finished, and where it was written. */
  readonly candidate: { readonly report: Report; readonly path: string };
  /** `latest` (previous complete run of the scenario in the store), a tag, or a report file. */
  readonly baseline: string;
  /** The report store (tags, `latest`). */
  readonly reportDir: string;
  /** For relative file names. */
  readonly cwd: string;
  readonly options?: CompareOptions;
  /** Colour the table (a TTY). */
  readonly color?: boolean;
}

/** What the gate decided; `exitCode` is what `churn run` should exit with for it. */
export type BaselineGate =
  | {
      /** A regression passed the gate (exit 1), or none did (exit 0). */
      readonly state: 'regression' | 'ok';
      readonly exitCode: 0 | 1;
      readonly base: LocatedReport;
      readonly comparison: Comparison;
      /** The compare table, as `churn compare` prints it. */
      readonly text: string;
    }
  | {
      /** `latest` found no earlier complete run (a first run): nothing to gate on, exit 0. */
      readonly state: 'no-baseline';
      readonly exitCode: 0;
      readonly text: string;
    }
  | {
      /** The baseline is of another scenario, or unreadable: exit 2, bad input. */
      readonly state: 'invalid-baseline';
      readonly exitCode: 2;
      readonly text: string;
    };

/**
 * Compares the finished run with its baseline; see the module comment. Never throws for a bad
 * or missing baseline (those are states); throws only what the comparison itself cannot survive.
 */
export async function gateOnBaseline(input: BaselineGateInput): Promise<BaselineGate> {
  const { candidate } = input;
  let base: LocatedReport | undefined;
  try {
    base =
      input.baseline === 'latest'
        ? await findPreviousGoodRun(input.reportDir, candidate.report, candidate.path)
        : await locateReport(input.baseline, input.reportDir, input.cwd);
  } catch (err) {
    if (!isChurnError(err)) throw err;
    return { state: 'invalid-baseline', exitCode: 2, text: `baseline: ${err.message}\n` };
  }
  if (base === undefined) {
    return {
      state: 'no-baseline',
      exitCode: 0,
      text: `baseline: no earlier complete run of scenario "${candidate.report.run.scenario}" in ${input.reportDir}; nothing to compare with\n`,
    };
  }
  let comparison: Comparison;
  try {
    comparison = compareReports(
      [{ report: base.report, source: base.source }],
      [{ report: candidate.report, source: candidate.path }],
      input.options,
    );
  } catch (err) {
    if (!isChurnError(err, 'NOT_COMPARABLE')) throw err;
    return { state: 'invalid-baseline', exitCode: 2, text: `baseline: ${err.message}\n` };
  }
  const regression = comparison.regressions > 0;
  return {
    state: regression ? 'regression' : 'ok',
    exitCode: regression ? 1 : 0,
    base,
    comparison,
    text: renderCompareTerminal(comparison, { color: input.color ?? false }),
  };
}
