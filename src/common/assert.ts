/** Invariant checks: a failure here is a bug in churn, never bad input. */
import { ChurnError } from './errors.js';

/** Throws an INTERNAL ChurnError with `message` when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ChurnError('INTERNAL', `assertion failed: ${message}`);
}

/** For exhaustive switches: the compiler proves this is never reached. */
export function assertNever(value: never, what = 'value'): never {
  throw new ChurnError('INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`);
}
