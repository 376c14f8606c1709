/** Waiting, for the schedulers: until a clock time (abortable), and a yield to the event loop. */
import type { Clock } from '../common/clock.js';

/**
 * Waits until the clock reads `atMs`. Resolves true when it does, false when `signal` aborts
 * first (never rejects).
 */
export async function sleepUntil(
  clock: Clock,
  atMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted === true) return false;
  const waitMs = atMs - clock.now();
  if (waitMs <= 0) return true;
  try {
    await clock.sleep(waitMs, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lets timers, I/O and signal handlers run. A worker whose cycles complete without touching
 * the event loop (a no-op driver) would otherwise starve them: promise continuations alone
 * never give way to timers.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
