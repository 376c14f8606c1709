/**
 * The open-loop pacer, in the manner of ghz's: a pure answer to "when is arrival n due?" and
 * "given the time elapsed and the arrivals done, how long until the next, or stop?". No
 * timers; open-loop.ts does the waiting.
 *
 * The rate ramps linearly over a phase, r(t) = r0 + (r1 − r0)·t/D, so the expected number of
 * arrivals by t is the integral N(t) = r0·t + (r1 − r0)·t²/(2D). Arrival times are the inverse
 * of that integral:
 * - uniform: arrival n (from 0) is due at N⁻¹(n), so arrival 0 is at the phase start and the
 *   count of arrivals by any t is within one of N(t);
 * - poisson: arrival n is due at N⁻¹(E₁ + … + Eₙ₊₁) with Eᵢ exponential of mean 1 from a
 *   seeded generator (a unit-rate Poisson process mapped through the inverse integral, which
 *   gives a Poisson process of rate r(t)); the same seed gives the same arrivals.
 */
import { exponential, seededRandom, type SeededRandom } from '../common/seeded-random.js';

/** What one phase asks of the pacer. */
export type PacerPlan =
  | {
      readonly kind: 'rate';
      readonly durationMs: number;
      /** Arrivals per second at the phase start. */
      readonly fromPerSec: number;
      /** Arrivals per second at the phase end (the same as fromPerSec when flat). */
      readonly toPerSec: number;
      readonly arrivals: 'uniform' | 'poisson';
      /** Seed of the Poisson stream (ignored for uniform). */
      readonly seed: number;
    }
  | { readonly kind: 'pause'; readonly durationMs: number };

/** The pacer's answer: wait this long before the next arrival, or stop. */
export interface PaceDecision {
  readonly waitMs: number;
  readonly stop: boolean;
}

/** Expected arrivals by `elapsedMs` into the phase: the integral of the rate, N(t). */
export function cumulativeArrivals(plan: PacerPlan, elapsedMs: number): number {
  if (plan.kind === 'pause') return 0;
  const t = Math.min(Math.max(elapsedMs, 0), plan.durationMs) / 1000;
  const durationSec = plan.durationMs / 1000;
  return plan.fromPerSec * t + ((plan.toPerSec - plan.fromPerSec) * t * t) / (2 * durationSec);
}

/**
 * The time, ms into the phase, by which `count` arrivals are expected: N⁻¹(count). Undefined
 * when the phase ends first (or for a pause).
 */
export function timeOfCumulativeMs(plan: PacerPlan, count: number): number | undefined {
  if (plan.kind === 'pause') return undefined;
  if (count <= 0) return 0;
  const durationSec = plan.durationMs / 1000;
  const a = (plan.toPerSec - plan.fromPerSec) / (2 * durationSec);
  const b = plan.fromPerSec;
  // Root of a·t² + b·t − count = 0 in the form that stays accurate when a is near 0.
  const root = Math.sqrt(b * b + 4 * a * count);
  const tMs = ((2 * count) / (b + root)) * 1000;
  return tMs < plan.durationMs ? tMs : undefined;
}

/** Arrivals expected in the whole phase: N(D) (for uniform, the count is its ceiling). */
export function expectedArrivals(plan: PacerPlan): number {
  if (plan.kind === 'pause') return 0;
  const total = cumulativeArrivals(plan, plan.durationMs);
  return plan.arrivals === 'uniform' ? Math.ceil(total - 1e-9) : total;
}

/** The pacer of one phase; see the module comment. */
export class Pacer {
  readonly plan: PacerPlan;
  #random: SeededRandom | undefined;
  /** Poisson stream memo: arrival index and cumulative unit-rate time E₁ + … + Eₙ₊₁. */
  #memoIndex = -1;
  #memoSum = 0;

  constructor(plan: PacerPlan) {
    this.plan = plan;
  }

  /** When arrival `n` (from 0) is due, ms into the phase; undefined when past the phase. */
  arrivalMs(n: number): number | undefined {
    const plan = this.plan;
    if (plan.kind === 'pause') return undefined;
    if (plan.arrivals === 'uniform') return timeOfCumulativeMs(plan, n);
    return timeOfCumulativeMs(plan, this.#poissonSum(n, plan.seed));
  }

  /**
   * ghz-style: after `elapsedMs` with `done` arrivals released, how long to wait for the next
   * (0 when it is already due) or whether to stop.
   */
  pace(elapsedMs: number, done: number): PaceDecision {
    const next = this.arrivalMs(done);
    if (next === undefined) return { waitMs: 0, stop: true };
    return { waitMs: Math.max(0, next - elapsedMs), stop: false };
  }

  #poissonSum(n: number, seed: number): number {
    if (this.#random === undefined || n < this.#memoIndex) {
      this.#random = seededRandom(seed);
      this.#memoIndex = -1;
      this.#memoSum = 0;
    }
    while (this.#memoIndex < n) {
      this.#memoSum += exponential(this.#random);
      this.#memoIndex++;
    }
    return this.#memoSum;
  }
}
