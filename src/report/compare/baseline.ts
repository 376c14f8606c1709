/**
 * Gating a run on a baseline (`churn run --baseline latest|TAG|FILE`, the nightly CI soak): the
 * report just written is compared with the baseline — for `latest` the newest earlier run in
 * the store that is comparable (complete, the same scenario and load model, not marked
 * harness-bound or overloaded, and of the same runtime: driver, runtime name, handler), naming
 * the newer runs it skipped — with the same method and rendering as `churn compare`. A baseline
 * of another runtime is refused (exit 2): the gate is no cross-runtime comparison.
 *
 * The baseline is resolved and checked before the run starts ({@link resolveBaseline}): a
 * missing or unreadable file, or a report of another scenario (or another load model, or another
 * driver), is bad input found in a second, not after hours of soak.
 */
import { ChurnError, isChurnError } from '../../common/errors.js';
import type { Scenario } from '../../scenario/schema.js';
import { assertScenariosComparable } from '../comparable.js';
import {
  findComparableRunBefore,
  findPreviousGoodRun,
  locateReport,
  skippedRunsText,
  type LocatedReport,
  type SkippedRun,
} from '../locate.js';
import { renderCompareTerminal } from '../render/compare-terminal.js';
import { acrossRuntimesFlag } from '../runtime-identity.js';
import type { Report } from '../schema.js';
import { compareReports, type CompareOptions, type Comparison } from './compare.js';

/** A baseline found for `latest`, with the newer runs passed over (see locate.ts). */
export interface BaselineChoice extends LocatedReport {
  readonly skipped: readonly SkippedRun[];
}

/** `baseline latest: FILE (run ID); skipped 1 newer run: ID (partial)`, for output. */
export function baselineChoiceText(choice: BaselineChoice): string {
  const skipped = skippedRunsText(choice.skipped, true);
  return `baseline latest: ${choice.source} (run ${choice.report.run.id})${skipped === '' ? '' : `; ${skipped}`}`;
}

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
 * for `latest` when the store holds no earlier comparable run of the scenario (a first run);
 * for `latest`, a {@link BaselineChoice} naming the newer runs skipped.
 * Throws REPORT_INVALID (missing or bad file, unknown tag) or NOT_COMPARABLE (a report of
 * another scenario or load model, naming the field, or of another driver), prefixed with
 * `baseline <ref>:`.
 */
export async function resolveBaseline(
  input: ResolveBaselineInput,
): Promise<LocatedReport | BaselineChoice | undefined> {
  try {
    let base: LocatedReport | BaselineChoice | undefined;
    if (input.ref === 'latest') {
      const latest = await findComparableRunBefore(input.reportDir, input.scenario, input.nowMs);
      base = latest.found === undefined ? undefined : { ...latest.found, skipped: latest.skipped };
    } else {
      base = await locateReport(input.ref, input.reportDir, input.cwd);
    }
    if (base !== undefined) {
      assertScenariosComparable(
        { scenario: base.report.scenario, source: base.source },
        { scenario: input.scenario, source: input.scenarioSource },
        'compare',
      );
      // Of the runtime, only the driver is known before the run; the gate checks the rest
      // (and chooses `latest` again, among runs of the same runtime).
      const driver = base.report.environment.driver;
      if (input.ref !== 'latest' && driver !== input.scenario.target.driver) {
        throw new ChurnError(
          'NOT_COMPARABLE',
          `cannot compare runs of different runtimes: ${base.source} ran driver ${driver} but ${input.scenarioSource} runs driver ${input.scenario.target.driver} (churn compare ${acrossRuntimesFlag} compares runtimes on purpose)`,
        );
      }
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
   * `latest` (the newest earlier comparable run of the scenario in the store), a tag, or a report file;
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
      /** `latest` found no earlier comparable run (a first run): nothing to gate on, exit 0. */
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
  let base: LocatedReport | BaselineChoice | undefined;
  let skipped: readonly SkippedRun[] = [];
  try {
    if (input.baseline === null) {
      base = undefined;
    } else if (typeof input.baseline !== 'string') {
      base = input.baseline;
    } else if (input.baseline === 'latest') {
      const latest = await findPreviousGoodRun(input.reportDir, candidate.report, candidate.path);
      skipped = latest.skipped;
      base = latest.found === undefined ? undefined : { ...latest.found, skipped };
    } else {
      base = await locateReport(input.baseline, input.reportDir, input.cwd);
    }
  } catch (err) {
    if (!isChurnError(err)) throw err;
    return { state: 'invalid-baseline', exitCode: 2, text: `baseline: ${err.message}\n` };
  }
  if (base === undefined) {
    return {
      state: 'no-baseline',
      exitCode: 0,
      text: `baseline: no earlier comparable run of scenario "${candidate.report.run.scenario}" in ${input.reportDir}${skipped.length === 0 ? '' : ` (${skippedRunsText(skipped, false)})`}; nothing to compare with\n`,
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
    text:
      ('skipped' in base ? `${baselineChoiceText(base)}\n` : '') +
      renderCompareTerminal(comparison, { color: input.color ?? false }),
  };
}
