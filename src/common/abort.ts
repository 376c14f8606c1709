/** Helpers for AbortSignals: churn stops new work with one signal and never cancels cleanup. */
import { setMaxListeners } from 'node:events';
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

/** An AbortController whose signal takes any number of listeners without a warning. */
export function unboundedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** The callbacks {@link onAbort} keeps per signal, behind one listener each. */
const callbacksBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts (at once when it already has); returns a remover to call
 * when `fn` is no longer wanted. Every callback of a signal shares one `abort` listener: a
 * run-long signal (the runner's cut signal) sees every call of a run, and joining and leaving a
 * set is cheaper than adding and removing an event listener each time. `fn` must not throw.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return noop;
  }
  let callbacks = callbacksBySignal.get(signal);
  if (callbacks === undefined) {
    const set = new Set<() => void>();
    callbacks = set;
    callbacksBySignal.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const callback of set) callback();
        set.clear();
      },
      { once: true },
    );
  }
  const entry = (): void => fn();
  callbacks.add(entry);
  const owner = callbacks;
  return () => {
    owner.delete(entry);
  };
}

function noop(): void {
  // Nothing to remove.
}
