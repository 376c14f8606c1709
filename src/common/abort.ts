/** Helpers for AbortSignals: churn stops new work with one signal and never cancels cleanup. */
import { ChurnError } from './errors.js';

/** Throws a CANCELLED ChurnError when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted === true) throw new ChurnError('CANCELLED', `${what} cancelled`);
}

/** A signal that aborts when any of `signals` does (undefined entries are skipped). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return AbortSignal.any(present);
}

/** True when `err` is what an aborted signal or cancelled operation throws. */
export function isAbortError(err: unknown): boolean {
  if (err instanceof ChurnError) return err.code === 'CANCELLED';
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
