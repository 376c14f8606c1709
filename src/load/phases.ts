/**
 * The plan of a whole run, from `Scenario.load`: when each phase starts and ends, how many
 * cycles an open-loop phase expects (the integral of its rate), how many workers a closed-loop
 * phase runs over time. The runner follows it; `churn run --dry-run` prints it.
 *
 * Closed-loop ramps: the wanted number of workers at t into a phase is
 * round(c0 + (c1 − c0)·t/D) (halves round up), so worker i (from 0) is wanted from the first t at
 * which that reaches i + 1 (ramping up) and until it drops to i (ramping down).
 */
import type { Phase, Scenario } from '../scenario/schema.js';
import { expectedArrivals, timeOfCumulativeMs, type PacerPlan } from './pacer.js';

/** When and how a phase runs; all times in ms from the start of the first phase. */
export type PlannedPhase =
  | (PlannedBase & {
      readonly kind: 'closed';
      readonly record: boolean;
      readonly fromWorkers: number;
      readonly toWorkers: number;
      readonly iterationsPerWorker: number | undefined;
      /** Most cycles the phase can start when iterationsPerWorker caps it. */
      readonly maxCycles: number | undefined;
      /** Worker count changes during the phase: at `atMs` (from the run start), `workers`. */
      readonly workerSteps: readonly { readonly atMs: number; readonly workers: number }[];
    })
  | (PlannedBase & {
      readonly kind: 'open';
      readonly record: boolean;
      readonly fromPerSec: number;
      readonly toPerSec: number;
      readonly arrivals: 'uniform' | 'poisson';
      /** Arrivals the pacer plans (uniform: exact; poisson: the mean). */
      readonly expectedCycles: number;
    })
  | (PlannedBase & { readonly kind: 'pause'; readonly record: boolean });

interface PlannedBase {
  readonly index: number;
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
}

/** The plan of a run: plain data, printable as JSON or as a table. */
export interface RunPlan {
  readonly phases: readonly PlannedPhase[];
  /** Sum of the phase durations, ms (draining comes on top). */
  readonly totalMs: number;
  /** Planned arrivals of the open-loop phases (recorded or not). */
  readonly expectedOpenLoopCycles: number;
  /** Cap on cycles started in the whole run, when set. */
  readonly iterations: number | undefined;
  /**
   * When the iterations cap is expected to end the run before its phases do, ms from the start
   * of the first phase (from the open-loop phases' planned arrivals). Undefined when it is not
   * expected to, or cannot be told: a closed-loop phase before that point runs as many cycles
   * as the runtime's speed allows.
   */
  readonly iterationsEndMs: number | undefined;
  readonly maxInflight: number;
  readonly drainTimeoutMs: number;
}

/** The plan of `load`; pure. */
export function planRun(load: Scenario['load']): RunPlan {
  let offsetMs = 0;
  let expectedOpen = 0;
  const phases = load.phases.map((phase, index): PlannedPhase => {
    const base: PlannedBase = {
      index,
      name: phase.name,
      startMs: offsetMs,
      endMs: offsetMs + phase.durationMs,
      durationMs: phase.durationMs,
    };
    offsetMs += phase.durationMs;
    switch (phase.kind) {
      case 'pause':
        return { ...base, kind: 'pause', record: true };
      case 'open': {
        // The expectation does not depend on the seed.
        const expectedCycles = expectedArrivals(pacerPlanOf(phase, 0));
        expectedOpen += expectedCycles;
        return {
          ...base,
          kind: 'open',
          record: phase.record,
          fromPerSec: phase.arrivalRate,
          toPerSec: phase.rampTo,
          arrivals: phase.arrivals,
          expectedCycles,
        };
      }
      case 'closed': {
        const maxWorkers = Math.max(phase.concurrency, phase.rampTo);
        return {
          ...base,
          kind: 'closed',
          record: phase.record,
          fromWorkers: phase.concurrency,
          toWorkers: phase.rampTo,
          iterationsPerWorker: phase.iterationsPerWorker,
          maxCycles:
            phase.iterationsPerWorker === undefined
              ? undefined
              : phase.iterationsPerWorker * maxWorkers,
          workerSteps: workerSteps(phase).map((s) => ({
            atMs: base.startMs + s.atMs,
            workers: s.workers,
          })),
        };
      }
    }
  });
  return {
    phases,
    totalMs: offsetMs,
    expectedOpenLoopCycles:
      load.iterations === undefined ? expectedOpen : Math.min(expectedOpen, load.iterations),
    iterations: load.iterations,
    iterationsEndMs: iterationsEndMs(load, phases),
    maxInflight: load.maxInflight,
    drainTimeoutMs: load.drainTimeoutMs,
  };
}

type ClosedPhase = Extract<Phase, { kind: 'closed' }>;

/** See {@link RunPlan.iterationsEndMs}. */
function iterationsEndMs(
  load: Scenario['load'],
  planned: readonly PlannedPhase[],
): number | undefined {
  if (load.iterations === undefined) return undefined;
  let arrivals = 0;
  for (const [i, phase] of load.phases.entries()) {
    if (phase.kind === 'closed') return undefined;
    if (phase.kind === 'pause') continue;
    const plan = pacerPlanOf(phase, 0);
    const atMs = timeOfCumulativeMs(plan, load.iterations - arrivals);
    if (atMs !== undefined) return planned[i]!.startMs + atMs;
    arrivals += expectedArrivals(plan);
  }
  return undefined;
}

/** What the pacer of open-loop `phase` follows, its Poisson arrivals drawn from `seed`. */
export function pacerPlanOf(phase: Extract<Phase, { kind: 'open' }>, seed: number): PacerPlan {
  return {
    kind: 'rate',
    durationMs: phase.durationMs,
    fromPerSec: phase.arrivalRate,
    toPerSec: phase.rampTo,
    arrivals: phase.arrivals,
    seed,
  };
}

/** Workers wanted `elapsedMs` into a closed-loop phase. */
export function workersAt(phase: ClosedPhase, elapsedMs: number): number {
  const t = Math.min(Math.max(elapsedMs, 0), phase.durationMs);
  return Math.floor(
    phase.concurrency + ((phase.rampTo - phase.concurrency) * t) / phase.durationMs + 0.5,
  );
}

/**
 * When worker `index` (from 0) is first wanted, ms into the phase; undefined when never (a
 * ramp that does not reach it).
 */
export function workerStartMs(phase: ClosedPhase, index: number): number | undefined {
  if (index < phase.concurrency) return 0;
  if (phase.rampTo <= phase.concurrency || index >= phase.rampTo) return undefined;
  // First t with c0 + (c1 − c0)·t/D ≥ index + 0.5.
  const tMs =
    ((index + 0.5 - phase.concurrency) * phase.durationMs) / (phase.rampTo - phase.concurrency);
  return tMs < phase.durationMs ? Math.ceil(tMs) : undefined;
}

/** The points where the wanted worker count changes, from the phase start. */
function workerSteps(phase: ClosedPhase): { atMs: number; workers: number }[] {
  const steps = [{ atMs: 0, workers: workersAt(phase, 0) }];
  const up = phase.rampTo > phase.concurrency;
  const lo = Math.min(phase.concurrency, phase.rampTo);
  const hi = Math.max(phase.concurrency, phase.rampTo);
  for (let k = lo + 1; k <= hi; k++) {
    // The wanted count crosses between k − 1 and k where c(t) = k − 0.5; halves round up, so
    // ramping up it is k from that instant, ramping down k − 1 from just after it.
    const tMs =
      ((k - 0.5 - phase.concurrency) * phase.durationMs) / (phase.rampTo - phase.concurrency);
    const atMs = up ? Math.ceil(tMs) : Math.floor(tMs) + 1;
    if (atMs <= 0 || atMs >= phase.durationMs) continue;
    steps.push({ atMs, workers: workersAt(phase, atMs) });
  }
  steps.sort((a, b) => a.atMs - b.atMs);
  return steps.filter((s, i) => i === 0 || s.workers !== steps[i - 1]!.workers);
}
