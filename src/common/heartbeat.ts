/**
 * One shared beat for churn's periodic work (issue 13: an idle run's fixed cost ≤ 1 ms of CPU a
 * second). Waking an idle Node process costs far more than the little each periodic task does
 * (docs/performance.md), so the resource sampler and the runner's status loop wait on the same
 * 1 s beat, and the idle event-loop probe on its 250 ms sub-beats: one timer, and every fourth
 * probe tick in the same wakeup as the beat.
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
  readonly dueMs: number;
  readonly resolve: (beat: Beat) => void;
  readonly reject: (reason: unknown) => void;
}

/** A beat every `periodMs`; see the module comment. */
export class Heartbeat {
  readonly #clock: Clock;
  readonly periodMs: number;
  readonly #originMs: number;
  readonly #waiters = new Set<Waiter>();
  /** The armed timer's abort and due time, while anyone waits. */
  #armed: { readonly stop: AbortController; readonly dueMs: number } | undefined;

  constructor(clock: Clock, periodMs: number) {
    this.#clock = clock;
    this.periodMs = periodMs;
    this.#originMs = clock.now();
  }

  /**
   * When the next point of the grid is due (clock ms): the next beat, or with `divisions` > 1
   * the next of `divisions` equal sub-beats per period (every beat is one of them).
   */
  nextDueMs(divisions = 1): number {
    const stepMs = this.periodMs / divisions;
    const steps = Math.floor((this.#clock.now() - this.#originMs) / stepMs) + 1;
    // Whole periods first, so a sub-beat on a beat is the very same time.
    return (
      this.#originMs + Math.floor(steps / divisions) * this.periodMs + (steps % divisions) * stepMs
    );
  }

  /**
   * Resolves at the next beat (or sub-beat: {@link nextDueMs}); rejects with the signal's
   * reason when `signal` aborts first. Waiters due at the same time share one timer.
   */
  next(signal?: AbortSignal, divisions = 1): Promise<Beat> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    return new Promise<Beat>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(abortReason(signal));
        this.#arm();
      };
      const waiter: Waiter = {
        dueMs: this.nextDueMs(divisions),
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

  /** Arms the timer for the earliest waiter (or none when nobody waits). */
  #arm(): void {
    let dueMs = Infinity;
    for (const waiter of this.#waiters) dueMs = Math.min(dueMs, waiter.dueMs);
    if (this.#armed?.dueMs === dueMs) return;
    this.#armed?.stop.abort();
    this.#armed = undefined;
    if (dueMs === Infinity) return;
    const armed = { stop: new AbortController(), dueMs };
    this.#armed = armed;
    this.#clock.sleep(dueMs - this.#clock.now(), armed.stop.signal, { unref: true }).then(
      () => {
        if (this.#armed !== armed) return;
        this.#armed = undefined;
        const atMs = this.#clock.now();
        for (const waiter of [...this.#waiters]) {
          if (waiter.dueMs > dueMs) continue;
          this.#waiters.delete(waiter);
          waiter.resolve({ dueMs: waiter.dueMs, atMs });
        }
        this.#arm();
      },
      () => undefined,
    );
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
