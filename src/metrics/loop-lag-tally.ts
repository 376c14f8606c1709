/**
 * Event-loop delay as a share of time, over each sampling span and over the whole run: the
 * figures a run is judged `harness-bound` by. Pure; the timer that measures is in
 * process-metrics.ts.
 *
 * A stalled loop runs fewer ticks, so counting ticks alone under-weights stalls (coordinated
 * omission, the probe's own): a 500 ms stall makes one late tick against 25 on time. Each late
 * tick is therefore recorded as HdrHistogram's `recordValueWithExpectedInterval` does: a tick
 * `d` ms late stands also for the ticks that were due during the stall, `d − tick`,
 * `d − 2·tick`, … down to more than 0. The p99 then reads "1% of the time, a timer due at that
 * moment would have run at least this late": a 500 ms stall in a 5 s run moves it (10% of the
 * time), the same stall in a 10-minute run does not (0.08%), and shows in the max instead.
 *
 * Run-wide delays are kept in buckets of 0.1 ms below 1 s and 1 ms above (memory follows the
 * distinct values, not the run's length); a span's are kept exactly until taken.
 */
import { ChurnError } from '../common/errors.js';

/** p99 and max of the corrected delays, ms (0 when there were none). */
export interface LagFigures {
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Delays of one span and of the whole run; see the module comment. */
export class LoopLagTally {
  readonly #tickMs: number;
  #span: number[] = [];
  /** On-time ticks of the span recorded by {@link recordOnTime} (not in #span). */
  #spanOnTime = 0;
  #spanMaxMs = 0;
  readonly #buckets = new Map<number, number>();
  #runCount = 0;
  #runMaxMs = 0;

  /** `tickMs`: the probe's timer period (> 0); throws INVALID_ARGUMENT otherwise. */
  constructor(tickMs: number) {
    if (!(tickMs > 0)) {
      throw new ChurnError('INVALID_ARGUMENT', `loop lag tally: tickMs ${tickMs} must be > 0`);
    }
    this.#tickMs = tickMs;
  }

  /** Records one tick that ran `delayMs` late (≥ 0), with the ticks its stall hid. */
  record(delayMs: number): void {
    const d = Math.max(0, delayMs);
    if (d > this.#spanMaxMs) this.#spanMaxMs = d;
    if (d > this.#runMaxMs) this.#runMaxMs = d;
    for (let v = d; ; v -= this.#tickMs) {
      this.#add(v);
      if (v - this.#tickMs <= 0) break;
    }
  }

  /** Records `count` ticks that ran on time (delay 0), as `count` calls of `record(0)` would. */
  recordOnTime(count: number): void {
    if (!(count > 0)) return;
    this.#spanOnTime += count;
    this.#runCount += count;
    this.#buckets.set(0, (this.#buckets.get(0) ?? 0) + count);
  }

  /** p99 and max of the span since the previous call (then a new span starts). */
  takeSpan(): LagFigures {
    const values = this.#span;
    const onTime = this.#spanOnTime;
    const maxMs = this.#spanMaxMs;
    this.#span = [];
    this.#spanOnTime = 0;
    this.#spanMaxMs = 0;
    const n = values.length + onTime;
    if (n === 0) return { p99Ms: 0, maxMs };
    // The on-time ticks rank first.
    const rank = nearestRank(n) - onTime;
    if (rank <= 0) return { p99Ms: 0, maxMs };
    const sorted = Float64Array.from(values).sort();
    return { p99Ms: sorted[rank - 1]!, maxMs };
  }

  /**
   * Starts the run-wide figures afresh (the span's are kept): what happened before, such as
   * churn starting up and starting its runtime, no longer counts against the run.
   */
  restartRun(): void {
    this.#buckets.clear();
    this.#runCount = 0;
    this.#runMaxMs = 0;
  }

  /** p99 and max over everything recorded since the start or the last restart (p99 to the bucket's upper edge). */
  run(): LagFigures {
    if (this.#runCount === 0) return { p99Ms: 0, maxMs: this.#runMaxMs };
    const rank = nearestRank(this.#runCount);
    const keys = [...this.#buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const key of keys) {
      seen += this.#buckets.get(key)!;
      if (seen >= rank) return { p99Ms: Math.min(key, this.#runMaxMs), maxMs: this.#runMaxMs };
    }
    return { p99Ms: this.#runMaxMs, maxMs: this.#runMaxMs };
  }

  #add(valueMs: number): void {
    this.#span.push(valueMs);
    this.#runCount++;
    const key = bucketOf(valueMs);
    this.#buckets.set(key, (this.#buckets.get(key) ?? 0) + 1);
  }
}

/** Upper edge of the bucket of `ms`: 0.1 ms wide below 1 s, 1 ms above. */
export function bucketOf(ms: number): number {
  return ms < 1000 ? Math.ceil(ms * 10) / 10 : Math.ceil(ms);
}

/** Rank of the 99th percentile among `n` values (nearest rank, as the report's percentiles). */
function nearestRank(n: number): number {
  return Math.max(1, Math.ceil(0.99 * n));
}
