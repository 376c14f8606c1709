/**
 * The open loop: cycles start on the pacer's schedule whether or not earlier ones finished.
 *
 * - Every arrival keeps its intended time: on each wake-up the loop releases every arrival
 *   that is due, each with the time it was planned for, so a late timer (they have about 1 ms
 *   granularity) or a stalled event loop shows up as latency of the cycles it delayed
 *   (coordinated omission), never as a quietly lower rate.
 * - At most `maxInflight` cycles run at once; an arrival that finds them all busy is dropped
 *   and counted, never delayed.
 * - The phase lasts its planned duration even when the pacer runs out early, so the next phase
 *   starts on time.
 */
import type { Clock } from '../common/clock.js';
import type { Pacer } from './pacer.js';
import { sleepUntil } from './wait.js';

/** Options of {@link runOpenPhase}. */
export interface OpenLoopOptions {
  readonly pacer: Pacer;
  readonly clock: Clock;
  /** Clock time the phase starts at (its planned start). */
  readonly startMs: number;
  readonly durationMs: number;
  /** Aborts to stop releasing arrivals (Ctrl-C, abortOnFail, iterations cap). */
  readonly stopSignal: AbortSignal;
  readonly maxInflight: number;
  /** Cycles in flight now (all phases). */
  readonly inflight: () => number;
  /**
   * Starts a cycle for the arrival planned at `intendedMs` (clock time); it must count as in
   * flight at once. Returns false when no more cycles may start in the run.
   */
  readonly release: (intendedMs: number) => boolean;
  /** Counts the arrival planned at `intendedMs` as dropped. */
  readonly drop: (intendedMs: number) => void;
}

/** How an open-loop phase went. */
export interface OpenPhaseResult {
  readonly released: number;
  readonly dropped: number;
  /** time: the phase's end; stopped: the stop signal; exhausted: the run's iterations cap. */
  readonly endedBy: 'time' | 'stopped' | 'exhausted';
}

/** Runs one open-loop phase; see the module comment. */
export async function runOpenPhase(options: OpenLoopOptions): Promise<OpenPhaseResult> {
  const { pacer, clock, startMs, stopSignal, maxInflight, inflight, release, drop } = options;
  let released = 0;
  let dropped = 0;
  for (let n = 0; ;) {
    if (stopSignal.aborted) return { released, dropped, endedBy: 'stopped' };
    const atMs = pacer.arrivalMs(n);
    if (atMs === undefined) break;
    const intendedMs = startMs + atMs;
    if (intendedMs > clock.now()) {
      if (!(await sleepUntil(clock, intendedMs, stopSignal))) {
        return { released, dropped, endedBy: 'stopped' };
      }
      continue;
    }
    if (inflight() >= maxInflight) {
      drop(intendedMs);
      dropped++;
    } else if (release(intendedMs)) {
      released++;
    } else {
      return { released, dropped, endedBy: 'exhausted' };
    }
    n++;
  }
  const reachedEnd = await sleepUntil(clock, startMs + options.durationMs, stopSignal);
  return { released, dropped, endedBy: reachedEnd ? 'time' : 'stopped' };
}
