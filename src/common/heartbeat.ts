/**
 * One shared beat for churn's periodic work (issue 13: an idle run's fixed cost ≤ 1 ms of CPU a
 * second). Waking an idle Node process costs far more than the little each periodic task does
 * (docs/performance.md: ~250 µs a wakeup), so the resource sampler, the runner's status loop
 * and the event-loop probe's idle tick wait on the same beat: one timer, one wakeup a second,
 * for all of them.
 *
 * Beats fall on a fixed grid (origin + k·period, the origin being the heartbeat's creation), so
 * a waiter that arrives late, or whose work outlasted a period, waits for the next grid point
 * rather than drifting. The timer is only armed while someone waits, and never keeps the
 * process alive on its own (sampling and status are never a reason to stay up).
 */
import { abortReason, type Clock } from './clock.js';

/** One beat. */
export interface Beat {
  /** When it was due (clock ms). */
  readonly dueMs: number;
  /** When its timer ran (clock ms): later than `dueMs` by however long the loop was held. */
  readonly atMs: number;
}

interface Waiter {
  readonly resolve: (beat: Beat) => void;
  readonly reject: (reason: unknown) => void;
}

/** A beat every `periodMs`; see the module comment. */
export class Heartbeat {
  readonly #clock: Clock;
  readonly periodMs: number;
  readonly #originMs: number;
  #waiters = new Set<Waiter>();
  /** The armed timer's abort and due time, while anyone waits. */
  #armed: { readonly stop: AbortController; readonly dueMs: number } | undefined;

  constructor(clock: Clock, periodMs: number) {
    this.#clock = clock;
    this.periodMs = periodMs;
    this.#originMs = clock.now();
  }

  /** When the beat after now is due (clock ms). */
  nextDueMs(): number {
    if (this.#armed !== undefined) return this.#armed.dueMs;
    const sinceMs = this.#clock.now() - this.#originMs;
    return this.#originMs + (Math.floor(sinceMs / this.periodMs) + 1) * this.periodMs;
  }

  /**
   * Resolves at the next beat (the one {@link nextDueMs} names); rejects with the signal's
   * reason when `signal` aborts first.
   */
  next(signal?: AbortSignal): Promise<Beat> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    return new Promise<Beat>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(abortReason(signal));
        if (this.#waiters.size === 0) this.#disarm();
      };
      const waiter: Waiter = {
        resolve: (beat) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(beat);
        },
        reject,
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#arm();
    });
  }

  #arm(): void {
    if (this.#armed !== undefined) return;
    const dueMs = this.nextDueMs();
    const armed = { stop: new AbortController(), dueMs };
    this.#armed = armed;
    this.#clock.sleep(dueMs - this.#clock.now(), armed.stop.signal, { unref: true }).then(
      () => {
        if (this.#armed !== armed) return;
        this.#armed = undefined;
        const beat: Beat = { dueMs, atMs: this.#clock.now() };
        const waiters = this.#waiters;
        this.#waiters = new Set();
        for (const waiter of waiters) waiter.resolve(beat);
      },
      () => undefined,
    );
  }

  #disarm(): void {
    this.#armed?.stop.abort();
    this.#armed = undefined;
  }
}

const heartbeats = new WeakMap<Clock, Map<number, Heartbeat>>();

/**
 * The heartbeat of `clock` with period `periodMs` (default 1 s): one per clock and period, so
 * whatever waits on the same clock shares its wakeups.
 */
export function heartbeatOf(clock: Clock, periodMs = 1000): Heartbeat {
  let byPeriod = heartbeats.get(clock);
  if (byPeriod === undefined) {
    byPeriod = new Map();
    heartbeats.set(clock, byPeriod);
  }
  let heartbeat = byPeriod.get(periodMs);
  if (heartbeat === undefined) {
    heartbeat = new Heartbeat(clock, periodMs);
    byPeriod.set(periodMs, heartbeat);
  }
  return heartbeat;
}
