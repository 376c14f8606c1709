/**
 * A Clock whose time is virtual: tests never wait on the wall clock.
 *
 * Time moves only when the test says so ({@link FakeClock.advance}, {@link FakeClock.jump}) or,
 * with `auto` (the default), by itself when the program waits: when two whole event-loop turns
 * (setImmediate) pass in which nobody went to sleep on the clock, the clock jumps to the
 * earliest pending sleep and wakes every sleeper due then, in the order they went to sleep.
 * Two turns, because code that yields to the event loop (a worker between cycles) is busy,
 * not waiting: it goes to sleep on the turn after its yield. Work that never sleeps on the
 * clock takes no virtual time.
 */
import type { Clock } from '../../src/common/clock.js';

interface Sleeper {
  readonly atMs: number;
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/** Options of a {@link FakeClock}. */
export interface FakeClockOptions {
  /** Monotonic time at the start, ms. Default 1000. */
  readonly startMs?: number;
  /** Wall-clock time at the start, ms since the epoch. Default 2025-01-01T00:00:00Z. */
  readonly wallStartMs?: number;
  /** Advance by itself when everything waits. Default true. */
  readonly auto?: boolean;
}

/** A virtual-time Clock; see the module comment. */
export class FakeClock implements Clock {
  #nowMs: number;
  readonly #wallOffsetMs: number;
  readonly #auto: boolean;
  #sleepers: Sleeper[] = [];
  #seq = 0;
  #scheduled = false;
  /** Sleeps requested so far, the count the last check saw, and turns since it changed. */
  #sleeps = 0;
  #sleepsSeen = 0;
  #idleTurns = 0;

  constructor(options: FakeClockOptions = {}) {
    this.#nowMs = options.startMs ?? 1000;
    this.#wallOffsetMs = (options.wallStartMs ?? Date.UTC(2025, 0, 1)) - this.#nowMs;
    this.#auto = options.auto ?? true;
  }

  now(): number {
    return this.#nowMs;
  }

  wallNowMs(): number {
    return this.#nowMs + this.#wallOffsetMs;
  }

  /** Sleepers not yet woken. */
  get pending(): number {
    return this.#sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(reasonOf(signal));
    if (ms <= 0) return Promise.resolve();
    this.#sleeps++;
    return new Promise<void>((resolve, reject) => {
      const seq = this.#seq++;
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              this.#sleepers = this.#sleepers.filter((s) => s.seq !== seq);
              reject(reasonOf(signal));
            };
      this.#sleepers.push({ atMs: this.#nowMs + ms, seq, resolve, reject, signal, onAbort });
      signal?.addEventListener('abort', onAbort!, { once: true });
      this.#schedule();
    });
  }

  /**
   * Moves time forward by `ms`, waking sleepers in time order and letting each wake-up's
   * continuations run before the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#nowMs + ms;
    for (;;) {
      await settle();
      const next = this.#earliest();
      if (next === undefined || next.atMs > target) break;
      this.#wake(next.atMs);
    }
    this.#nowMs = Math.max(this.#nowMs, target);
    await settle();
  }

  /**
   * Moves time forward by `ms` at once, without waking anyone: what a synchronous stall of the
   * event loop looks like to the program. Sleepers now overdue wake on the next turn.
   */
  jump(ms: number): void {
    this.#nowMs += ms;
    this.#schedule();
  }

  #earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (best === undefined || s.atMs < best.atMs || (s.atMs === best.atMs && s.seq < best.seq)) {
        best = s;
      }
    }
    return best;
  }

  /** Sets the time to `atMs` (never backwards) and wakes every sleeper due by then. */
  #wake(atMs: number): void {
    this.#nowMs = Math.max(this.#nowMs, atMs);
    const due = this.#sleepers
      .filter((s) => s.atMs <= this.#nowMs)
      .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
    this.#sleepers = this.#sleepers.filter((s) => s.atMs > this.#nowMs);
    for (const s of due) {
      if (s.onAbort !== undefined) s.signal?.removeEventListener('abort', s.onAbort);
      s.resolve();
    }
  }

  #schedule(): void {
    if (!this.#auto || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#sleepers.length === 0) return;
      if (this.#sleeps !== this.#sleepsSeen) {
        this.#sleepsSeen = this.#sleeps;
        this.#idleTurns = 0;
      }
      if (++this.#idleTurns < 2) {
        this.#schedule();
        return;
      }
      this.#idleTurns = 0;
      this.#wake(this.#earliest()!.atMs);
      this.#schedule();
    });
  }
}

function reasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('The operation was aborted', 'AbortError');
}

/** Lets pending promise continuations and immediates run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
