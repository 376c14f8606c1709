/**
 * Gating a run on a baseline (`churn run --baseline latest|TAG|FILE`, the nightly CI soak): the
 * report just written is compared with the baseline — by default the previous complete run of
 * the same scenario in the store — with the same method and rendering as `churn compare`.
 *
 * The baseline is resolved and checked before the run starts ({@link resolveBaseline}): a
 * missing or unreadable file, or a report of another scenario (or another load model), is bad
 * input found in a second, not after hours of soak.
 */
import { isChurnError } from '../../common/errors.js';
import type { Scenario } from '../../scenario/schema.js';
import { assertScenariosComparable } from '../comparable.js';
import {
  findGoodRunBefore,
  findPreviousGoodRun,
  locateReport,
  type LocatedReport,
} from '../locate.js';
import { renderCompareTerminal } from '../render/compare-terminal.js';
import type { Report } from '../schema.js';
import { compareReports, type CompareOptions, type Comparison } from './compare.js';

/** Inputs of {@link resolveBaseline}. */
export interface ResolveBaselineInput {
  /** `latest`, a tag, or a report file. */
  readonly ref: string;
  /** The resolved scenario the run is about to follow. */
  readonly scenario: Scenario;
  /** How to name the scenario in messages, e.g. its file. */
  readonly scenarioSource: string;
  readonly reportDir: string;
  readonly cwd: string;
  /** For `latest`: runs that started before this count (ms since the epoch). */
  readonly nowMs: number;
}

/**
 * The baseline `ref` names, checked against the scenario a run is about to follow: undefined
 * for `latest` when the store holds no earlier complete run of the scenario (a first run).
 * Throws REPORT_INVALID (missing or bad file, unknown tag) or NOT_COMPARABLE (a report of
 * another scenario or load model, naming the field), prefixed with `baseline <ref>:`.
 */
export async function resolveBaseline(
  input: ResolveBaselineInput,
): Promise<LocatedReport | undefined> {
  try {
    const base =
      input.ref === 'latest'
        ? await findGoodRunBefore(input.reportDir, input.scenario.name, input.nowMs)
        : await locateReport(input.ref, input.reportDir, input.cwd);
    if (base !== undefined) {
      assertScenariosComparable(
        { scenario: base.report.scenario, source: base.source },
        { scenario: input.scenario, source: input.scenarioSource },
        'compare',
      );
    }
    return base;
  } catch (err) {
    if (!isChurnError(err)) throw err;
    throw err.wrap(`baseline ${input.ref}`);
  }
}

/** Inputs of {@link gateOnBaseline}. */
export interface BaselineGateInput {
  /** The report of the run just finished, and where it was written. */
  readonly candidate: { readonly report: Report; readonly path: string };
  /**
   * `latest` (previous complete run of the scenario in the store), a tag, or a report file;
   * or the baseline {@link resolveBaseline} found before the run (null: none, a first run).
   */
  readonly baseline: string | LocatedReport | null;
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
      input.baseline === null
        ? undefined
        : typeof input.baseline !== 'string'
          ? input.baseline
          : input.baseline === 'latest'
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
