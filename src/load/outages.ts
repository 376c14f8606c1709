/**
 * Outages of the runtime as the run saw them: a window opens with the first cycle that found
 * the runtime unreachable (UNAVAILABLE) and closes with the next cycle that succeeded. Its
 * length is the outage as a client lives it, the time to the first successful cycle included,
 * so a restart's recovery is measured, not only its downtime. The failed cycles inside it are
 * counted (attempts, paced by the closed loop's backoff).
 */

/** One outage; times are ms on the run's clock. */
export interface Outage {
  /** When the first cycle that found the runtime unreachable ended. */
  readonly startMs: number;
  /** When the next successful cycle ended; null while still unreachable. */
  readonly endMs: number | null;
  /** Cycles that failed UNAVAILABLE in the window. */
  readonly failedCycles: number;
}

/** Tracks {@link Outage}s from cycle outcomes. */
export class OutageTracker {
  readonly #closed: Outage[] = [];
  #open: { startMs: number; failedCycles: number } | undefined;

  /** A cycle ended at `nowMs` finding the runtime unreachable. */
  unreachable(nowMs: number): void {
    if (this.#open === undefined) this.#open = { startMs: nowMs, failedCycles: 1 };
    else this.#open.failedCycles++;
  }

  /**
   * A cycle that started at `startedMs` ended at `nowMs` with success: an open outage is over,
   * unless that cycle began before the outage did (its calls reached the runtime before it went
   * away, so its success says nothing about now).
   */
  reachable(nowMs: number, startedMs: number = nowMs): void {
    if (this.#open === undefined || startedMs < this.#open.startMs) return;
    this.#closed.push({ ...this.#open, endMs: nowMs });
    this.#open = undefined;
  }

  /** How long the current outage has lasted at `nowMs`; 0 when the runtime is reachable. */
  openForMs(nowMs: number): number {
    return this.#open === undefined ? 0 : nowMs - this.#open.startMs;
  }

  /** Every outage, oldest first; the last has `endMs` null if it is still going on. */
  outages(): Outage[] {
    const all: Outage[] = [...this.#closed];
    if (this.#open !== undefined) all.push({ ...this.#open, endMs: null });
    return all;
  }
}
