/**
 * Time, passed in. Anything in churn that schedules or measures takes a {@link Clock}, so tests
 * drive it with a fake one and never wait on the wall clock.
 */

/** Options of {@link Clock.sleep}. */
export interface SleepOptions {
  /** The wait alone does not keep the process alive. Default false. */
  readonly unref?: boolean;
}

/** A source of time and of waiting. */
export interface Clock {
  /** Monotonic time in milliseconds (fractional, sub-microsecond resolution), arbitrary origin. */
  now(): number;
  /** Wall-clock time in milliseconds since the Unix epoch. */
  wallNowMs(): number;
  /**
   * Resolves after `ms` milliseconds (at once for `ms` ≤ 0). Rejects with the signal's reason
   * when `signal` aborts first. With `unref`, the wait does not keep the process alive (a real
   * timer's `unref`; a virtual clock may ignore it).
   */
  sleep(ms: number, signal?: AbortSignal, options?: SleepOptions): Promise<void>;
}

/** The real clock: `performance.now()` and timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNowMs: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal, options?: SleepOptions): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (options?.unref === true) timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** The reason an aborted `signal` gives, as an Error (an AbortError DOMException by default). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('The operation was aborted', 'AbortError');
}

/** Milliseconds of the wall clock's origin for `performance.now()`, fixed at process start. */
const timeOriginNs = BigInt(Math.round(performance.timeOrigin * 1e6));

/**
 * Wall-clock time in nanoseconds since the Unix epoch, as a bigint so no precision is lost
 * (CRI timestamps are int64 nanoseconds). Microsecond resolution in practice.
 */
export function wallClockNs(): bigint {
  return timeOriginNs + BigInt(Math.round(performance.now() * 1e6));
}
