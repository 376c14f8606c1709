/**
 * Verdicts on a run's figures (`run.marks`, src/common/run-marks.ts) and the sentences that
 * explain them, shared by the terminal summary, the HTML report and `churn run`'s exit
 * message. Pure.
 *
 * - `harness-bound`: churn's event-loop lag p99 over the run (stall-corrected: the share of
 *   time the loop was late, loop-lag-tally.ts) exceeded the scenario's bound.
 * - `overloaded`: open-loop arrivals were dropped (maxInflight cycles in flight) in a share
 *   above the scenario's bound: the run did not apply the load its scenario describes.
 *
 * A stall above the bound that leaves the p99 under it is no mark, but it is still said
 * ({@link harnessWarnings}): the intervals it hit did not measure the runtime.
 */
import type { RunMark } from '../common/run-marks.js';
import { formatMs, formatPercent } from './render/format.js';
import type { Report, ReportHarness } from './schema.js';

/** What the marks are decided from. */
export interface MarkInput {
  /** churn's event-loop lag p99 over the run, ms; undefined when not measured. */
  readonly harnessLagP99Ms: number | undefined;
  readonly maxHarnessLagP99Ms: number;
  /** Open-loop arrivals (released and dropped) and drops. */
  readonly arrivals: number;
  readonly dropped: number;
  readonly maxDroppedRatio: number;
}

/** The marks a run earns, in {@link runMarks} order. */
export function decideMarks(input: MarkInput): RunMark[] {
  const marks: RunMark[] = [];
  if (input.harnessLagP99Ms !== undefined && input.harnessLagP99Ms > input.maxHarnessLagP99Ms) {
    marks.push('harness-bound');
  }
  if (input.arrivals > 0 && input.dropped / input.arrivals > input.maxDroppedRatio) {
    marks.push('overloaded');
  }
  return marks;
}

/** Open-loop arrivals of a report: counted, or (older reports) started + dropped. */
export function arrivalsOf(report: Pick<Report, 'cycles'>): number {
  return report.cycles.arrivals ?? report.cycles.started + report.cycles.dropped;
}

/** One sentence per mark of the report, saying what was wrong and what it means. */
export function markMessages(
  report: Pick<Report, 'run' | 'cycles' | 'harness' | 'scenario'>,
): { readonly mark: RunMark; readonly text: string }[] {
  return report.run.marks.map((mark) => {
    if (mark === 'harness-bound') {
      const h = report.harness;
      const detail =
        h === null
          ? "churn's event-loop lag exceeded its bound"
          : `churn's event loop lagged ${formatMs(h.lagP99Ms)} at p99 over the run (bound ${formatMs(h.lagBoundMs)}) and stalled up to ${formatMs(h.lagMaxMs)}`;
      const cause = h === null ? undefined : lagCause(h);
      return {
        mark,
        text: `harness-bound: ${detail}${cause === undefined ? '' : `; ${cause}`}; the latencies measured churn as much as the runtime`,
      };
    }
    const arrivals = arrivalsOf(report);
    const dropped = report.cycles.dropped;
    // Reports written before `integrity` existed have no bound to quote.
    const bound =
      'integrity' in report.scenario ? report.scenario.integrity.maxDroppedRatio : undefined;
    const ratio = arrivals > 0 ? dropped / arrivals : 0;
    return {
      mark,
      text:
        `overloaded: ${dropped.toLocaleString('en-US')} of ${arrivals.toLocaleString('en-US')} arrivals ` +
        `(${formatPercent(ratio)}) dropped${bound === undefined ? '' : ` (bound ${formatPercent(bound)})`}: ` +
        'this is not a run of its scenario',
    };
  });
}

/**
 * What delayed churn's event loop more: the host's other work (the main thread's run-queue
 * wait, the share of the run it was ready but had no CPU) or churn's own (the share its loop
 * was busy). Undefined when either is unknown (an older report, a kernel without schedstat).
 */
export function lagCause(
  h: Pick<ReportHarness, 'cpuWaitPct' | 'utilization' | 'contention'>,
): string | undefined {
  if (h.cpuWaitPct === null || h.utilization === null) return undefined;
  const waited = formatPercent(h.cpuWaitPct / 100);
  const busy = formatPercent(h.utilization);
  if (h.cpuWaitPct / 100 > h.utilization) {
    const load =
      h.contention.load1Mean === null ? '' : ` (load ${h.contention.load1Mean.toFixed(2)})`;
    return `churn's thread waited for a CPU ${waited} of the time against its loop busy ${busy}: the host's other work${load} delayed it more than churn's own`;
  }
  return `churn's loop was busy ${busy} of the time against ${waited} waiting for a CPU: churn's own work delayed it more than the host's`;
}

/**
 * Warnings about churn's health that are not marks: stalls above the bound in a run whose
 * p99 stayed under it. Empty when there were none or the run is harness-bound (its mark says
 * it).
 */
export function harnessWarnings(report: Pick<Report, 'run' | 'harness'>): string[] {
  const h = report.harness;
  if (h === null || h.stalls.length === 0 || report.run.marks.includes('harness-bound')) return [];
  const worst = Math.max(...h.stalls.map((s) => s.lagMaxMs));
  const n = h.stalls.length;
  return [
    `churn's event loop stalled up to ${formatMs(worst)} in ${n} interval${n === 1 ? '' : 's'}; latencies in ${n === 1 ? 'it' : 'these intervals'} are not the runtime's`,
  ];
}
