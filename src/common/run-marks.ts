/**
 * Marks a run can carry in its report (`run.marks`): verdicts that say its figures are not a
 * plain measurement of its scenario. A scenario's `integrity.allow` names the ones it accepts.
 *
 * - `harness-bound`: churn's own event loop lagged beyond the scenario's bound
 *   (`integrity.maxHarnessLagP99`): the latencies measured the harness as much as the runtime.
 * - `overloaded`: an open-loop run dropped more of its arrivals than `integrity.maxDroppedRatio`:
 *   it did not run the load its scenario describes.
 */

/** Every run mark. */
export const runMarks = ['harness-bound', 'overloaded'] as const;
/** A run mark; see {@link runMarks}. */
export type RunMark = (typeof runMarks)[number];
