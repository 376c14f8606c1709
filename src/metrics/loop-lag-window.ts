/**
 * The statistics of event-loop delay, kept apart from the timer that measures it so they can
 * be tested with made-up times and delays.
 *
 * p99 is taken over a sliding window (default 60 s) of tick delays, not over one sampling
 * period: a 20 ms tick gives at most 50 delays a second, and fewer when the loop stalls, so a
 * per-second nearest-rank p99 is that second's maximum by construction (rank ⌈0.99·n⌉ = n for
 * n ≤ 100). Over 60 s (about 3,000 ticks) one stall moves the max, not the p99. The max stays
 * per period: the longest delay since the previous {@link LoopLagWindow.take}.
 */
import { ChurnError } from '../common/errors.js';

/** Default span of the p99 window, ms. */
export const lagWindowMs = 60_000;

/** p99 and max of event-loop delay, ms. */
export interface LoopLag {
  /** 99th percentile (nearest rank) of the delays of the last window; 0 when none. */
  readonly p99Ms: number;
  /** Longest delay since the previous take; 0 when none. */
  readonly maxMs: number;
}

/** Delays recorded with their times; see the module comment. */
export class LoopLagWindow {
  readonly #windowMs: number;
  // Parallel queues in time order; entries before #head are evicted (compacted in bulk). An
  // entry is one delay, or a run of on-time ticks (delay 0) recorded at once with its count.
  #atMs: number[] = [];
  #delaysMs: number[] = [];
  #counts: number[] = [];
  #head = 0;
  #maxSinceTakeMs = 0;

  /** `windowMs`: span of the p99 window (default {@link lagWindowMs}); throws INVALID_ARGUMENT unless > 0. */
  constructor(windowMs: number = lagWindowMs) {
    if (!(windowMs > 0)) {
      throw new ChurnError('INVALID_ARGUMENT', `loop lag window: windowMs ${windowMs} must be > 0`);
    }
    this.#windowMs = windowMs;
  }

  /** Records a tick at monotonic time `atMs` that ran `delayMs` late; times never decrease. */
  record(atMs: number, delayMs: number): void {
    this.#push(atMs, delayMs, 1);
    if (delayMs > this.#maxSinceTakeMs) this.#maxSinceTakeMs = delayMs;
  }

  /** Records `count` ticks at monotonic time `atMs` that ran on time (one entry for them all). */
  recordOnTime(atMs: number, count: number): void {
    if (count > 0) this.#push(atMs, 0, count);
  }

  /** p99 over the window ending at `nowMs`, and the max since the last take (then reset). */
  take(nowMs: number): LoopLag {
    this.#evict(nowMs);
    const maxMs = this.#maxSinceTakeMs;
    this.#maxSinceTakeMs = 0;
    let n = 0;
    const late: number[] = [];
    for (let i = this.#head; i < this.#delaysMs.length; i++) {
      n += this.#counts[i]!;
      if (this.#delaysMs[i]! > 0) late.push(this.#delaysMs[i]!);
    }
    if (n === 0) return { p99Ms: 0, maxMs };
    // Nearest rank, as the report's percentiles; the on-time ticks rank first.
    const rank = Math.max(1, Math.ceil(0.99 * n)) - (n - late.length);
    if (rank <= 0) return { p99Ms: 0, maxMs };
    const sorted = Float64Array.from(late).sort();
    return { p99Ms: sorted[rank - 1]!, maxMs };
  }

  #push(atMs: number, delayMs: number, count: number): void {
    this.#atMs.push(atMs);
    this.#delaysMs.push(delayMs);
    this.#counts.push(count);
    this.#evict(atMs);
  }

  #evict(nowMs: number): void {
    const oldestMs = nowMs - this.#windowMs;
    while (this.#head < this.#atMs.length && this.#atMs[this.#head]! <= oldestMs) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#atMs.length) {
      this.#atMs = this.#atMs.slice(this.#head);
      this.#delaysMs = this.#delaysMs.slice(this.#head);
      this.#counts = this.#counts.slice(this.#head);
      this.#head = 0;
    }
  }
}
