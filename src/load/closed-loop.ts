/**
 * The closed loop: workers that run cycles back to back, one at a time each.
 *
 * - The number of workers follows the phase's ramp (phases.ts: `workersAt`); a worker beyond
 *   the wanted count starts when the ramp reaches it and stops, after its current cycle, when
 *   a ramp down passes it.
 * - Worker slots carry over from phase to phase ({@link WorkerSlots}): worker i of a phase
 *   starts its first cycle when worker i of the previous phase has finished its last, so the
 *   concurrency never overshoots at a phase boundary and no time is lost either.
 * - A phase ends at its planned end (cycles then in flight finish in the background and are
 *   the runner's to drain), when the stop signal aborts, when `startCycle` refuses (the run's
 *   `iterations` cap), or when every worker has run `iterationsPerWorker` cycles.
 */
import type { Clock } from '../common/clock.js';
import type { Phase } from '../scenario/schema.js';
import { workersAt, workerStartMs } from './phases.js';
import { sleepUntil, yieldToEventLoop } from './wait.js';

/** A closed-loop phase of the scenario. */
export type ClosedPhase = Extract<Phase, { kind: 'closed' }>;

/** Cycles a worker runs between yields to the event loop (see wait.ts). */
const cyclesPerYield = 32;

/** First backoff delay after a cycle that found the runtime unreachable. */
export const backoffBaseMs = 100;
/** Longest backoff delay between cycles while the runtime stays unreachable. */
export const backoffCapMs = 5000;

/**
 * The wait before a worker's next cycle after `failures` (>= 1) cycles in a row found the
 * runtime unreachable: capped exponential (base, doubling, cap) with equal jitter, i.e. a
 * uniform draw in [delay/2, delay] from `random` (in [0, 1)). Zero when `failures` < 1.
 */
export function backoffDelayMs(failures: number, random: () => number = Math.random): number {
  if (failures < 1) return 0;
  const delay = Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.min(failures - 1, 30));
  return delay / 2 + (random() * delay) / 2;
}

/** The in-flight cycle of each worker slot, across phases. */
export class WorkerSlots {
  readonly #busy: (Promise<unknown> | undefined)[] = [];

  /** Resolves when slot `index` has no cycle in flight. */
  async idle(index: number): Promise<void> {
    const busy = this.#busy[index];
    if (busy !== undefined) await busy;
  }

  /** Marks slot `index` busy until `cycle` settles. */
  occupy(index: number, cycle: Promise<unknown>): void {
    this.#busy[index] = cycle;
  }
}

/** Options of {@link runClosedPhase}. */
export interface ClosedLoopOptions {
  readonly phase: ClosedPhase;
  readonly clock: Clock;
  /** Clock time the phase starts at (its planned start). */
  readonly startMs: number;
  /** Aborts to stop starting cycles (Ctrl-C, abortOnFail, iterations cap). */
  readonly stopSignal: AbortSignal;
  readonly slots: WorkerSlots;
  /**
   * Starts one cycle and returns its completion (which must not reject), or undefined when no
   * more cycles may start in the run.
   */
  readonly startCycle: () => Promise<unknown> | undefined;
  /**
   * Whether a cycle's completion value says the runtime was unreachable (UNAVAILABLE,
   * connection refused); the worker then waits {@link backoffDelayMs} before its next cycle
   * instead of looping hot. Absent: no backoff.
   */
  readonly unreachable?: (outcome: unknown) => boolean;
  /** Jitter source for the backoff (tests); Math.random when absent. */
  readonly random?: () => number;
}

/** How a closed-loop phase went. */
export interface ClosedPhaseResult {
  readonly cyclesStarted: number;
  readonly workersStarted: number;
  /** time: the phase's end; stopped: the stop signal; exhausted: the run or worker caps. */
  readonly endedBy: 'time' | 'stopped' | 'exhausted';
}

/** Runs one closed-loop phase; see the module comment. */
export async function runClosedPhase(options: ClosedLoopOptions): Promise<ClosedPhaseResult> {
  const { phase, clock, startMs, stopSignal, slots, startCycle } = options;
  const endMs = startMs + phase.durationMs;
  const maxWorkers = Math.max(phase.concurrency, phase.rampTo);
  let cyclesStarted = 0;
  let workersStarted = 0;
  /** Set when startCycle refuses (the run's cap): every worker stops. */
  const cap = { refused: false };

  const worker = async (index: number): Promise<void> => {
    const offsetMs = workerStartMs(phase, index);
    if (offsetMs === undefined) return;
    if (!(await sleepUntil(clock, startMs + offsetMs, stopSignal))) return;
    await slots.idle(index);
    workersStarted++;
    let done = 0;
    let failures = 0;
    for (;;) {
      if (stopSignal.aborted || cap.refused) return;
      const now = clock.now();
      if (now >= endMs || workersAt(phase, now - startMs) <= index) return;
      if (phase.iterationsPerWorker !== undefined && done >= phase.iterationsPerWorker) return;
      const cycle = startCycle();
      if (cycle === undefined) {
        cap.refused = true;
        return;
      }
      done++;
      cyclesStarted++;
      slots.occupy(index, cycle);
      const outcome = await cycle;
      if (options.unreachable?.(outcome) === true) {
        failures++;
        const waitMs = backoffDelayMs(failures, options.random);
        if (!(await sleepUntil(clock, clock.now() + waitMs, stopSignal))) return;
        continue;
      }
      failures = 0;
      if (done % cyclesPerYield === 0) await yieldToEventLoop();
    }
  };

  const phaseOver = new AbortController();
  const workers = Promise.all(Array.from({ length: maxWorkers }, (_, i) => worker(i)));
  const timeUp = sleepUntil(clock, endMs, AbortSignal.any([stopSignal, phaseOver.signal]));
  const first = await Promise.race([
    workers.then(() => 'workers' as const),
    timeUp.then(() => 'time' as const),
  ]);
  phaseOver.abort();
  await timeUp;
  let endedBy: ClosedPhaseResult['endedBy'];
  if (cap.refused || (first === 'workers' && !stopSignal.aborted && clock.now() < endMs)) {
    endedBy = 'exhausted';
  } else if (stopSignal.aborted) {
    endedBy = 'stopped';
  } else {
    endedBy = 'time';
  }
  return { cyclesStarted, workersStarted, endedBy };
}
